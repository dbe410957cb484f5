"""The case domain: events, the fold into case state, rules and command decisions.

Pure Python: no I/O, no Temporal, no SQL. The workflow, the projections and the auditor's replay
all use the same fold (`domain.state.apply`), so every reader agrees on what a case is.
"""
