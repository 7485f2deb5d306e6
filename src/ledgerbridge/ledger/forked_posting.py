"""Posting a large batch on every core: forked processes prepare the chunks, this one numbers
and stores them.

Preparing a chunk (reading its entries, checking them, their fingerprints, their lines as
JSON: `posting.Preparing`) needs no database and takes most of a posting's time; numbering
and storing must follow the input's order, in the batch's transaction. The caller's process
begins that transaction, locks the folder and reads its setup (`Start`), then forks:
- a batch given as `EntryChunks` (a file whose entries can be read chunk by chunk) is
  prepared by one process per core, process `p` of `n` taking chunks `p`, `p + n`, ...;
- a batch given as a stream of entries is prepared by one process, which iterates it.
Each prepared chunk comes back through its process's pipe (MessagePack; the rejected
results pickled). The caller takes the chunks in input order, each from the pipe of the
process it belongs to, numbers them (keys already posted, the batch's own included, looked
up in its transaction), stores them and hands their results on. A pipe holds little: a
process that runs ahead waits, so memory stays bounded whatever the batch's size.

Whatever fails, on either side, nothing is committed: an error in a forked process is
raised again in the caller, and the forked processes are stopped when the caller fails.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, suppress
from datetime import datetime
from typing import BinaryIO, NoReturn, Protocol, runtime_checkable

import msgspec
from sqlalchemy import Connection

from ledgerbridge import collector
from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.ledger.errors import LedgerRefusal
from ledgerbridge.ledger.posting import (
    Candidate,
    Candidates,
    EntryKey,
    Numbering,
    PostingSummary,
    Preparing,
    Start,
    Store,
    chunks,
)
from ledgerbridge.processes import interrupted_with_parent

_FRAME = struct.Struct("<BQ")  # what a message is, and its size in bytes
_CHUNK, _END, _FAILED = 1, 2, 3
_ENCODER = msgspec.msgpack.Encoder()
_PIPE_WIDTH = 1 << 20  # bytes: a few chunks (a chunk of 1,000 entries of 3 lines: 330 KB)


@runtime_checkable
class EntryChunks(Protocol):
    """A batch's entries in chunks that forked processes read each on its own.

    `read(number)` gives the chunk's entries, in input order, and a note of what reading
    them found (anything pickled: problems, ids...). Once every chunk is prepared, the
    caller's process gets the notes, in chunk order, through `finish`, which raises to
    refuse the batch.
    """

    def __len__(self) -> int: ...

    def read(self, number: int) -> tuple[list[Entry], object]: ...

    def finish(self, notes: list[object]) -> None: ...


def each_entry(source: EntryChunks) -> Iterator[Entry]:
    """The chunks' entries read in this process, one chunk after the other; `finish` runs
    after the last one."""
    notes: list[object] = []
    for number in range(len(source)):
        entries, note = source.read(number)
        notes.append(note)
        yield from entries
    source.finish(notes)


class PreparingStopped(LedgerRefusal):
    """A forked process ended without finishing the batch (killed, out of memory...)."""

    code = "posting_interrupted"
    http_status = 503

    def __init__(self, exit_code: int) -> None:
        how = (
            f"signal {signal.Signals(-exit_code).name}"
            if exit_code < 0
            else f"exit code {exit_code}"
        )
        fix = "Nothing of the batch was stored: post it again."
        if exit_code == -signal.SIGKILL:  # what the system sends when memory runs out
            fix += (
                " If it stops again, check the machine's free memory: a batch of a million"
                " lines needs about 300 MB."
            )
        super().__init__(
            "The batch was not posted",
            f"a process reading and checking its entries stopped ({how}) before the end",
            fix,
        )


class _Chunk(msgspec.Struct, array_like=True):
    """A prepared chunk on its way: its candidates, the rejected results and the note of
    its reading, pickled."""

    items: list[Candidate]
    rejected: bytes
    note: bytes


_CHUNK_DECODER = msgspec.msgpack.Decoder(_Chunk)


def post_batch_forked(
    connection: Connection,
    folder: str,
    entries: Iterable[Entry] | EntryChunks,
    *,
    key: EntryKey,
    on_result: Callable[[CheckResult], None],
    chunk_size: int,
    posted_at: datetime,
    processes: int,
    in_forked_process: Callable[[], AbstractContextManager[None]],
    after_reading: Callable[[], None],
) -> PostingSummary:
    """`posting.post_batch`, the chunks prepared by forked processes: `processes` of them
    for `EntryChunks`, which come in chunks of their own; one for a stream of entries,
    which it iterates in chunks of `chunk_size`. Each runs in `in_forked_process()` (what a process
    forked from this one must do before and after its work). `after_reading` runs once the
    last entry is read: in the process that read a stream, in this one after
    `EntryChunks.finish`; an error there fails the batch."""
    start = Start.locked(connection, folder, posted_at)
    numbering = Numbering(connection, start)
    store = Store(connection)
    preparing = Preparing(start.index, key)
    if isinstance(entries, EntryChunks):
        workers = max(1, min(processes, len(entries)))
        work: list[Callable[[], Iterator[tuple[list[Entry], object]]]] = [
            _every_nth(entries, first, workers) for first in range(workers)
        ]
        finish_reading: Callable[[], None] = _nothing
    else:
        stream = entries
        work = [lambda: ((chunk, None) for chunk in chunks(stream, chunk_size))]
        finish_reading = after_reading
    sys.stdout.flush()
    sys.stderr.flush()
    children: list[_Child] = []
    try:
        for chunks_of_one in work:
            children.append(
                _Child.start(chunks_of_one, preparing, in_forked_process, finish_reading)
            )
        with collector.paused():
            notes = _store_in_order(children, numbering, store, on_result)
        for child in children:
            if code := child.wait():
                raise PreparingStopped(code)
    except BaseException:
        for child in children:
            child.stop()
        raise
    if isinstance(entries, EntryChunks):
        entries.finish(notes)
        after_reading()
    store.save_counters(numbering.counters)
    return numbering.summary(folder)


def _nothing() -> None:
    return None


def _every_nth(
    source: EntryChunks, first: int, step: int
) -> Callable[[], Iterator[tuple[list[Entry], object]]]:
    def read() -> Iterator[tuple[list[Entry], object]]:
        for number in range(first, len(source), step):
            yield source.read(number)

    return read


def _store_in_order(
    children: list[_Child],
    numbering: Numbering,
    store: Store,
    on_result: Callable[[CheckResult], None],
) -> list[object]:
    """Takes the chunks in input order, the `n`th from child `n % len(children)`, until
    each has said it is done; numbers and stores them. Returns their notes, in order."""
    notes: list[object] = []
    ended = 0
    turn = 0
    while ended < len(children):
        child = children[turn % len(children)]
        turn += 1
        if child.ended:
            continue
        chunk = child.receive()
        if chunk is None:
            ended += 1
            continue
        prepared = numbering.number(Candidates(chunk.items, pickle.loads(chunk.rejected)))
        store.insert(prepared)
        for result in prepared.results():
            on_result(result)
        notes.append(pickle.loads(chunk.note))
    return notes


class _Child:
    """A forked process preparing chunks, and the pipe its prepared chunks come by."""

    def __init__(self, pid: int, pipe: BinaryIO) -> None:
        self.pid: int | None = pid
        self.pipe = pipe
        self.ended = False

    @classmethod
    def start(
        cls,
        work: Callable[[], Iterator[tuple[list[Entry], object]]],
        preparing: Preparing,
        in_forked_process: Callable[[], AbstractContextManager[None]],
        after_reading: Callable[[], None],
    ) -> _Child:
        receive, send = os.pipe()
        _widen(send)
        pid = os.fork()
        if pid == 0:
            os.close(receive)
            _prepare(send, work, preparing, in_forked_process, after_reading)
        os.close(send)
        return cls(pid, os.fdopen(receive, "rb"))

    def receive(self) -> _Chunk | None:
        """The next chunk, or None once the child has said it is done (an error it met is
        raised here)."""
        header = self.pipe.read(_FRAME.size)
        kind, size = _FRAME.unpack(header) if len(header) == _FRAME.size else (_END, -1)
        payload = self.pipe.read(size) if size > 0 else b""
        if size < 0 or len(payload) < size:  # the pipe closed before the end
            raise PreparingStopped(self.wait())
        if kind == _FAILED:
            raise pickle.loads(payload)
        if kind == _END:
            self.ended = True
            return None
        return _CHUNK_DECODER.decode(payload)

    def wait(self) -> int:
        """The child's exit code once it has ended (minus the signal that ended it)."""
        self.pipe.close()
        pid, self.pid = self.pid, None
        if pid is None:
            return 0
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)

    def stop(self) -> None:
        if self.pid is not None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.wait()


def _widen(pipe: int) -> None:
    """A pipe as wide as the system lets a process make it (Linux: 1 MiB, against 64 KiB):
    a process that has written a chunk prepares the next while the caller reads."""
    setting = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setting is None:
        return
    with suppress(OSError):
        fcntl.fcntl(pipe, setting, _PIPE_WIDTH)


def _prepare(
    send: int,
    work: Callable[[], Iterator[tuple[list[Entry], object]]],
    preparing: Preparing,
    in_forked_process: Callable[[], AbstractContextManager[None]],
    after_reading: Callable[[], None],
) -> NoReturn:
    """A forked process's whole life: each of its chunks prepared and sent, then the end."""
    status = 1
    try:
        interrupted_with_parent()
        pipe = os.fdopen(send, "wb")
        try:
            with collector.paused(), in_forked_process():
                for entries, note in work():
                    items, rejected = preparing.chunk(entries)
                    _send(pipe, _CHUNK, _chunk_message(items, rejected, note))
                after_reading()
            _send(pipe, _END, b"")
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


def _chunk_message(items: list[Candidate], rejected: list[CheckResult], note: object) -> bytes:
    return _ENCODER.encode(
        _Chunk(
            items,
            pickle.dumps(rejected, pickle.HIGHEST_PROTOCOL),
            pickle.dumps(note, pickle.HIGHEST_PROTOCOL),
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
