"""Posting a large batch on two cores: a forked process prepares the chunks, this one stores them.

Storing (the database's inserts) and preparing (reading the entries, looking keys up,
checking, numbering, making rows) each take about half of a posting's time, and they
need not wait for each other. The caller's process begins the batch's transaction, locks
the folder and reads where numbering and ids stand (`Start`), then forks. The forked
process reads the entries and prepares each chunk through a connection of its own: it sees
what was committed before the folder was locked, and remembers the keys the batch posts
itself. Each prepared chunk comes back through a pipe (MessagePack rows; the rejected
results pickled), the caller stores it and hands its results on, in input order; the
counters come last. A pipe holds little: when storing lags, preparing waits, so memory stays
bounded whatever the batch's size.

Whatever fails, on either side, nothing is committed: an error in the forked process is
raised again in the caller, and the forked process is stopped when the caller fails.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, suppress
from datetime import datetime
from typing import BinaryIO, NoReturn

import msgspec
from sqlalchemy import Connection

from ledgerbridge import collector
from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.ledger.errors import LedgerRefusal
from ledgerbridge.ledger.posting import (
    EntryKey,
    Numbered,
    Numbering,
    PostingSummary,
    Prepared,
    Row,
    Start,
    Store,
    chunks,
)

_FRAME = struct.Struct("<BQ")  # what a message is, and its size in bytes
_CHUNK, _END, _FAILED = 1, 2, 3
_ENCODER = msgspec.msgpack.Encoder()


class PreparingStopped(LedgerRefusal):
    """The forked process ended without finishing the batch (killed, out of memory...)."""

    code = "posting_interrupted"
    http_status = 503

    def __init__(self, exit_code: int) -> None:
        how = (
            f"signal {signal.Signals(-exit_code).name}"
            if exit_code < 0
            else f"exit code {exit_code}"
        )
        super().__init__(
            "The batch was not posted",
            f"the process reading and checking its entries stopped ({how}) before the end",
            "Nothing of the batch was stored: post it again. If it stops again, check the"
            " machine's free memory: a batch of a million lines needs about 350 MB.",
        )


class _Unfinished(Exception):
    """The pipe closed before the batch's end."""


def post_batch_forked(
    connection: Connection,
    folder: str,
    entries: Iterable[Entry],
    *,
    key: EntryKey,
    on_result: Callable[[CheckResult], None],
    chunk_size: int,
    posted_at: datetime,
    reading: Callable[[], AbstractContextManager[Connection]],
    after_reading: Callable[[], None],
) -> PostingSummary:
    """`posting.post_batch`, the chunks prepared in a forked process, which iterates
    `entries`, reads through `reading()` (a connection opened after the fork) and runs
    `after_reading` once the last entry is read; an error there fails the batch."""
    start = Start.locked(connection, folder, posted_at)
    store = Store(connection)
    sys.stdout.flush()
    sys.stderr.flush()
    receive, send = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(receive)
        _prepare(send, entries, start, key, chunk_size, reading, after_reading)
    os.close(send)
    try:
        with collector.paused(), os.fdopen(receive, "rb") as pipe:
            numbering = _store_each_chunk(pipe, store, on_result)
    except _Unfinished:
        raise PreparingStopped(_wait(pid)) from None
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        _wait(pid)
        raise
    if code := _wait(pid):
        raise PreparingStopped(code)
    start.counters.last_numbers.update(numbering.last_numbers)
    start.counters.moved.update(numbering.moved)
    store.save_counters(start.counters)
    return PostingSummary(folder, numbering.accepted, numbering.replayed, numbering.rejected)


class _Numbered(msgspec.Struct, array_like=True):
    """The end of a batch prepared: its counts and where each fiscal year's numbering ends."""

    accepted: int
    replayed: int
    rejected: int
    last_numbers: dict[str, int]
    moved: list[str]


def _store_each_chunk(
    pipe: BinaryIO, store: Store, on_result: Callable[[CheckResult], None]
) -> _Numbered:
    while header := pipe.read(_FRAME.size):
        if len(header) < _FRAME.size:
            break
        kind, size = _FRAME.unpack(header)
        payload = pipe.read(size)
        if len(payload) < size:
            break
        if kind == _FAILED:
            error = pickle.loads(payload)
            raise error
        if kind == _END:
            return msgspec.msgpack.decode(payload, type=_Numbered)
        chunk = _CHUNK_DECODER.decode(payload)
        prepared = Prepared(
            chunk.numbered,
            pickle.loads(chunk.rejected),
            chunk.entries,
            chunk.lines,
            chunk.allocations,
        )
        store.insert(prepared)
        for result in prepared.results():
            on_result(result)
    raise _Unfinished


class _Chunk(msgspec.Struct, array_like=True):
    """A prepared chunk on its way: its rows, then its results."""

    entries: list[Row]
    lines: list[Row]
    allocations: list[Row]
    numbered: list[Numbered | None]
    rejected: bytes  # the rejected results, pickled, in order


_CHUNK_DECODER = msgspec.msgpack.Decoder(_Chunk)


def _chunk_message(prepared: Prepared) -> bytes:
    return _ENCODER.encode(
        _Chunk(
            prepared.entries,
            prepared.lines,
            prepared.allocations,
            prepared.numbered,
            pickle.dumps(prepared.rejected, pickle.HIGHEST_PROTOCOL),
        )
    )


def _prepare(
    send: int,
    entries: Iterable[Entry],
    start: Start,
    key: EntryKey,
    chunk_size: int,
    reading: Callable[[], AbstractContextManager[Connection]],
    after_reading: Callable[[], None],
) -> NoReturn:
    """The forked process's whole life: every chunk prepared and sent, then the end."""
    status = 1
    try:
        pipe = os.fdopen(send, "wb")
        try:
            with collector.paused(), reading() as connection:
                numbering = Numbering(connection, start, sees_batch=False)
                for chunk in chunks(entries, chunk_size):
                    _send(pipe, _CHUNK, _chunk_message(numbering.prepare(chunk, key)))
                after_reading()
            _send(pipe, _END, _end_message(numbering))
            pipe.flush()
            status = 0
        except BrokenPipeError:  # the caller is gone: nobody to tell
            pass
        except BaseException as error:
            with suppress(BrokenPipeError):
                _send(pipe, _FAILED, _pickled(error))
                pipe.flush()
    finally:
        os._exit(status)  # nothing of the caller's (buffers, exit handlers) runs twice


def _end_message(numbering: Numbering) -> bytes:
    counters = numbering.counters
    return _ENCODER.encode(
        _Numbered(
            numbering.accepted,
            numbering.replayed,
            numbering.rejected,
            counters.last_numbers,
            sorted(counters.moved),
        )
    )


def _send(pipe: BinaryIO, kind: int, payload: bytes) -> None:
    pipe.write(_FRAME.pack(kind, len(payload)))
    pipe.write(payload)


def _pickled(error: BaseException) -> bytes:
    """The error as it can cross to the caller: itself, or its type and words."""
    try:
        data = pickle.dumps(error, pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)
    except Exception:
        data = pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))
    return data


def _wait(pid: int) -> int:
    """The forked process's exit code, once it has ended (minus the signal that ended it)."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
