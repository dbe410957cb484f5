"""What both simulators are made of: their configuration, their generated world, and the
behaviour of a real outside system (latency, failures, idempotency, late decisions).

State is in memory, per process: a restarted simulator has forgotten every application,
reservation and idempotency key. Within a process nothing is ever forgotten, so a retried call
gets the first answer for as long as the simulator runs.
"""
