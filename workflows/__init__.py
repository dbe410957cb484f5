"""Temporal workflows: the case process. Registered by the worker through `WORKFLOWS`."""
