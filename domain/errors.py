"""Refusals: a command that does not fit the case, the caller's role or area."""

from __future__ import annotations


class CommandRefused(Exception):
    """The command was refused and produced no event.

    `reason` is written for the person who sent the command: what was wrong and what to do.
    It never contains a child's personal data. `code` is a stable machine-readable name.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
