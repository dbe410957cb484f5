"""Clients for the systems caseflow does not own (civil affairs, the school system), and runnable
simulators of them.

`civil_affairs/` and `school/` each hold the system's contract (`models.py`), its client
(`client.py`) and its simulator (`simulator.py`). What they share: the wire types (`wire.py`), how
a call fails (`errors.py`), the HTTP plumbing of the clients (`http.py`), the machinery of the
simulators (`simulation/`) and their process entry point (`simulators.py`).
"""
