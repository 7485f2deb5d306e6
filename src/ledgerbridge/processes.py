"""Whether work may be spread over processes: the cores this process may use, and fork."""

from __future__ import annotations

import os


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
