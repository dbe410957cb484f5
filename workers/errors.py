"""Errors an operator can act on, and the checks that raise them.

`caseflow up` prints a `StackError`'s message without a traceback: the message itself must say
what went wrong and what to change.
"""

from __future__ import annotations

import errno
import socket


class StackError(Exception):
    """A problem with the machine or the configuration, not a bug: shown to the operator as is."""


def ensure_port_free(port: int, setting: str, what: str, host: str = "127.0.0.1") -> None:
    """Raise a `StackError` naming the port and `setting` when `host:port` cannot be listened on.

    Checked before any server starts, so a conflict is reported plainly instead of as a server
    crash buried in a log file.
    """
    hint = f"Stop the program using it, or choose another port with {setting}=<port>."
    # A connection that succeeds means someone listens already. It also catches a listener on
    # a wildcard address, which a bind with SO_REUSEADDR does not see on BSD and macOS.
    probe_host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104
    try:
        with socket.create_connection((probe_host, port), timeout=0.5):
            pass
    except OSError:
        pass
    else:
        raise StackError(f"Port {port} is already in use, so {what} cannot start. {hint}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as sock:
            # The servers we start set SO_REUSEADDR too, so a connection lingering in TIME_WAIT
            # from a previous run does not count as a conflict.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise StackError(
                f"Port {port} is already in use, so {what} cannot start. {hint}"
            ) from None
        raise StackError(
            f"{what} cannot listen on {host}:{port} ({error.strerror or error}). {hint}"
        ) from None
