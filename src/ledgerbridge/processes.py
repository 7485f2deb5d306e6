"""Processes: the cores this process may use, whether it may fork, and its name on a lease."""

from __future__ import annotations

import os
import signal
import socket
import uuid
from pathlib import Path

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


def _started(pid: int) -> str | None:
    """When process `pid` started, in clock ticks since boot (Linux); None when unknown.

    With its id, it names one process: an id is given again to a later process (a
    container restarted may give the same small ids), a start time is not."""
    try:
        # The command's name, in parentheses, may hold spaces: fields count after it.
        fields = Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()
    except OSError:
        return None
    return fields[19].decode() if len(fields) > 19 else None


# This process's start, by its id: read once, not at every lease (a forked process, whose
# id is new, reads its own). Another process's start is read each time: its id may be reused.
_OWN_START: dict[int, str] = {}


def holder_name() -> str:
    """This process's name on a lease it takes (a sync's, an opening's claim on a batch):
    its host, its process id, when it started, and a token of its own."""
    pid = os.getpid()
    start = _OWN_START.get(pid)
    if start is None:
        start = _OWN_START[pid] = _started(pid) or "-"
    return f"{_HOST}:{pid}:{start}:{uuid.uuid4().hex[:12]}"


def _holder(name: str) -> tuple[str, int | None, str | None]:
    """Host, process id and start of a holder's name (the start None when not told)."""
    parts = name.split(":")
    if len(parts) < 3:
        return name, None, None
    # host:pid:start:token; names written before starts were told are host:pid:token.
    start = parts[2] if len(parts) == 4 and parts[2] != "-" else None
    return parts[0], int(parts[1]) if parts[1].isdigit() else None, start


def holder_is_gone(name: str) -> bool:
    """Whether the process named by `holder_name` has ended; known only on the same host
    (elsewhere, or for a name that is not one, it is taken for alive)."""
    host, pid, start = _holder(name)
    if host != _HOST or pid is None:
        return False
    if pid != os.getpid():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # alive, someone else's
    # A process of that id runs (this one, maybe): the holder, unless it started otherwise.
    return start is not None and _started(pid) not in {start, None}


def holder_words(name: str) -> str:
    """The holder for people: `process 1234 on host db-1`."""
    host, pid, _ = _holder(name)
    return f"process {pid} on host {host}" if pid is not None else f"{name!r}"


def interrupted_with_parent() -> None:
    """In a process forked to work for its parent: Ctrl-C (SIGINT, sent to the terminal's
    whole process group) ends it at once, as it does its parent; unless the parent was
    started ignoring it (a job started in the background by a script), and so ignores it
    too."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
