"""Temporal activities: the only code in a workflow's path that does I/O."""
