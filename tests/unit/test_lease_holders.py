"""A lease's holder named by its process (processes.holder_name), and told gone only when it
surely is: on this host, its process ended, or its id now belongs to a later process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledgerbridge.processes import holder_is_gone, holder_name, holder_words

HOST = socket.gethostname()
TOKEN = "0123456789ab"


def stat_start(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[19].decode()


@pytest.fixture
def running() -> Iterator[int]:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as process:
        try:
            yield process.pid
        finally:
            process.kill()


def ended() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_this_process_holds_its_own_leases() -> None:
    name = holder_name()

    assert name.startswith(f"{HOST}:{os.getpid()}:")
    assert not holder_is_gone(name)
    assert holder_words(name) == f"process {os.getpid()} on host {HOST}"


def test_a_running_process_is_not_gone(running: int) -> None:
    assert not holder_is_gone(f"{HOST}:{running}:{stat_start(running)}:{TOKEN}")
    assert not holder_is_gone(f"{HOST}:{running}:{TOKEN}")  # a name without its start


def test_an_ended_process_is_gone() -> None:
    pid = ended()

    assert holder_is_gone(f"{HOST}:{pid}:12345:{TOKEN}")
    assert holder_is_gone(f"{HOST}:{pid}:{TOKEN}")


def test_an_id_given_again_to_a_later_process_is_not_the_holder(running: int) -> None:
    later_start = str(int(stat_start(running)) - 1)

    assert holder_is_gone(f"{HOST}:{running}:{later_start}:{TOKEN}")
    # This very process, started after a holder that had its id (a container restarted).
    assert holder_is_gone(f"{HOST}:{os.getpid()}:{later_start}:{TOKEN}")


def test_a_holder_on_another_host_or_unnamed_is_taken_for_alive() -> None:
    assert not holder_is_gone(f"db-2.example:{ended()}:12345:{TOKEN}")
    assert not holder_is_gone("not a holder's name")
    assert holder_words("holder-7") == "'holder-7'"


def test_a_forked_process_names_itself_not_its_parent() -> None:
    parent = holder_name()  # this process's start is now known
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the forked process: its name, and its start as /proc tells it
        try:
            os.write(write, f"{holder_name()}|{stat_start(os.getpid())}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        name, start = pipe.read().decode().split("|")
    os.waitpid(pid, 0)

    assert name.startswith(f"{HOST}:{pid}:{start}:")
    assert parent.startswith(f"{HOST}:{os.getpid()}:{stat_start(os.getpid())}:")
    assert holder_name().split(":")[:3] == parent.split(":")[:3]
    assert holder_name() != parent  # each lease its own token
