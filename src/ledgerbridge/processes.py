"""Processes: the cores this process may use, whether it may fork, and its name on a lease."""

from __future__ import annotations

import os
import socket
import uuid

_HOST = socket.gethostname()


def cores() -> int:
    """The processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def may_fork() -> bool:
    """Whether a forked process could help: several cores, and `os.fork`.

    Only a command line asks: a forked process copies the calling thread alone, which is
    safe there (its other thread, a progress bar's, holds nothing the forked process uses)
    and would not be in a server answering requests on several threads.
    """
    return hasattr(os, "fork") and cores() > 1


def holder_name() -> str:
    """This process's name on a lease it takes (a sync's, an opening's claim on a batch):
    its host, its process id and a token of its own."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def holder_is_gone(name: str) -> bool:
    """Whether the process named by `holder_name` has ended; known only on the same host
    (elsewhere, or for a name that is not one, it is taken for alive)."""
    host, _, rest = name.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _HOST or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # this very process: another thread of it, still running
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


def holder_words(name: str) -> str:
    """The holder for people: `process 1234 on host db-1`."""
    host, _, rest = name.partition(":")
    pid_text = rest.partition(":")[0]
    return f"process {pid_text} on host {host}" if pid_text.isdigit() else f"{name!r}"
