"""Posting a batch on every core: forked processes prepare the chunks, this one numbers and
stores them.

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

A batch given as `EntryDocuments` (the relay's entries: each entry's JSON text with its key)
is prepared by one process forked once and kept for the batches that follow, whatever their
size (`post_documents_aside`): this process hands it the documents a piece at a time, two
pieces ahead, and numbers and stores each piece while the next is prepared. Forking anew for
each batch costs more than it gives below some 10,000 entries; kept, the process costs one
fork in all. When a batch fails, the kept process is stopped with it (the answers it still
owes would be out of step); the next batch forks another.
"""

from __future__ import annotations

import fcntl
import gc
import os
import pickle
import signal
import struct
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, suppress
from datetime import datetime
from itertools import islice
from typing import BinaryIO, NoReturn, Protocol, runtime_checkable

import msgspec
from sqlalchemy import Connection

from ledgerbridge import collector
from ledgerbridge.domain.entries import Entry, decode_entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.folder_index import FolderIndex
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
    post_batch,
)
from ledgerbridge.processes import interrupted_with_parent

_FRAME = struct.Struct("<BQ")  # what a message is, and its size in bytes
_CHUNK, _END, _FAILED, _SETUP, _DOCUMENTS = 1, 2, 3, 4, 5
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


# An entry's position in its batch, its idempotency key, and its §4.2 document as JSON.
EntryDocument = tuple[int, str, bytes]


@runtime_checkable
class EntryDocuments(Protocol):
    """A batch's entries as JSON documents with their keys, which another process can read.

    Iterated, it gives the entries read here (`key` then tells each one's key); `documents()`
    gives them unread instead, a piece at a time, for a process that reads and checks them
    aside. Either way, each entry is taken once, in input order.
    """

    def __iter__(self) -> Iterator[Entry]: ...

    def key(self, entry: Entry) -> str: ...

    def documents(self) -> Iterator[Sequence[EntryDocument]]: ...


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
        kind, payload = _receive(self.pipe, self.wait)
        if kind == _END:
            self.ended = True
            return None
        return _CHUNK_DECODER.decode(payload)

    def wait(self) -> int:
        """The child's exit code once it has ended (minus the signal that ended it)."""
        self.pipe.close()
        pid, self.pid = self.pid, None
        return _exit_code(pid)

    def stop(self) -> None:
        if self.pid is not None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.wait()


def _receive(pipe: BinaryIO, ended: Callable[[], int]) -> tuple[int, bytes]:
    """The next message from a forked process: its kind and payload. An error the process
    met is raised here; a pipe closed before the end raises PreparingStopped, with the
    process's exit code (`ended()`, once it is gone)."""
    header = pipe.read(_FRAME.size)
    kind, size = _FRAME.unpack(header) if len(header) == _FRAME.size else (_END, -1)
    payload = pipe.read(size) if size > 0 else b""
    if size < 0 or len(payload) < size:
        raise PreparingStopped(ended())
    if kind == _FAILED:
        raise pickle.loads(payload)
    return kind, payload


def _exit_code(pid: int | None) -> int:
    """Process `pid`'s exit code once it has ended (minus the signal that ended it); 0 for
    none, or one reaped already."""
    if pid is None:
        return 0
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:  # reaped already, by someone else
        return 0
    return os.waitstatus_to_exitcode(status)


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


# -- documents prepared by a process kept for the batches to come ---------------------------

_PIECES_AHEAD = 2  # pieces handed to the kept process before the first comes back
_KEPT_IN_USE = threading.Lock()


def post_documents_aside(
    connection: Connection,
    folder: str,
    documents: EntryDocuments,
    *,
    on_result: Callable[[CheckResult], None],
    chunk_size: int,
    posted_at: datetime,
) -> PostingSummary:
    """`posting.post_batch`, each piece of `documents` read, checked and prepared by the
    process this one keeps for it (`PreparingProcess.kept`), while this one numbers and
    stores the piece before it. The kept process serves one batch at a time: another
    thread's batch meanwhile is read in this process, `chunk_size` at a time."""
    if not _KEPT_IN_USE.acquire(blocking=False):
        # Another thread's batch has the kept process (a server): this one is read here.
        return post_batch(
            connection,
            folder,
            documents,
            key=documents.key,
            on_result=on_result,
            chunk_size=chunk_size,
            posted_at=posted_at,
        )
    try:
        return _post_documents_aside(connection, folder, documents, on_result, posted_at)
    finally:
        _KEPT_IN_USE.release()


def _post_documents_aside(
    connection: Connection,
    folder: str,
    documents: EntryDocuments,
    on_result: Callable[[CheckResult], None],
    posted_at: datetime,
) -> PostingSummary:
    start = Start.locked(connection, folder, posted_at)
    numbering = Numbering(connection, start)
    store = Store(connection)
    helper = PreparingProcess.kept()
    try:
        helper.begin(start.index)
        pieces = iter(documents.documents())
        waiting = 0
        for piece in islice(pieces, _PIECES_AHEAD):
            helper.prepare(piece)
            waiting += 1
        with collector.paused():
            while waiting:
                chunk = helper.receive()
                waiting -= 1
                following = next(pieces, None)
                if following is not None:
                    helper.prepare(following)
                    waiting += 1
                prepared = numbering.number(Candidates(chunk.items, pickle.loads(chunk.rejected)))
                store.insert(prepared)
                for result in prepared.results():
                    on_result(result)
    except BaseException:
        # The pieces still on their way would answer the next batch: the process goes.
        helper.stop()
        raise
    store.save_counters(numbering.counters)
    return numbering.summary(folder)


class PreparingProcess:
    """A forked process that prepares pieces of documents for the batches this process posts,
    one batch after the other, for as long as this process lives.

    It is told each batch's folder (`begin`: the setup the entries are checked against), then
    given pieces (`prepare`), and answers each with its prepared chunk, in order. It ends when
    this process closes its end of the pipe (exiting, or killed), or when it is stopped.
    """

    _kept: PreparingProcess | None = None

    def __init__(self, pid: int, requests: BinaryIO, answers: BinaryIO) -> None:
        self.pid: int | None = pid
        self.owner = os.getpid()
        self._requests = requests
        self._answers = answers

    @classmethod
    def kept(cls) -> PreparingProcess:
        """This process's own, forked now if it has none or if it has ended since the last
        batch (killed, say); a process forked from this one forks its own."""
        kept = cls._kept
        if kept is None or kept.owner != os.getpid() or not kept._alive():
            kept = cls._kept = cls._start()
        return kept

    def _alive(self) -> bool:
        if self.pid is None:
            return False
        try:
            if os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                return True
        except ChildProcessError:  # reaped already, by someone else
            pass
        self.pid = None  # ended, and now reaped
        self._wait()
        return False

    @classmethod
    def _start(cls) -> PreparingProcess:
        requests_read, requests_write = os.pipe()
        answers_read, answers_write = os.pipe()
        for end in (requests_write, answers_write):
            _widen(end)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(requests_write)
            os.close(answers_read)
            _serve(requests_read, answers_write)
        os.close(requests_read)
        os.close(answers_write)
        return cls(pid, os.fdopen(requests_write, "wb"), os.fdopen(answers_read, "rb"))

    def begin(self, index: FolderIndex) -> None:
        """The next pieces are of a batch checked against `index`."""
        self._send(_SETUP, pickle.dumps(index, pickle.HIGHEST_PROTOCOL))

    def prepare(self, documents: Sequence[EntryDocument]) -> None:
        self._send(_DOCUMENTS, _ENCODER.encode(list(documents)))

    def _send(self, kind: int, payload: bytes) -> None:
        try:
            _send(self._requests, kind, payload)
            self._requests.flush()
        except BrokenPipeError:
            raise PreparingStopped(self._ended()) from None

    def receive(self) -> _Chunk:
        """The next piece's chunk, prepared (an error the process met is raised here)."""
        _, payload = _receive(self._answers, self._ended)
        return _CHUNK_DECODER.decode(payload)

    def _ended(self) -> int:
        """The exit code of the process, now gone (minus the signal that ended it)."""
        code = self._wait()
        PreparingProcess._kept = None
        return code

    def _wait(self) -> int:
        for pipe in (self._requests, self._answers):
            with suppress(OSError):
                pipe.close()
        pid, self.pid = self.pid, None
        return _exit_code(pid if self.owner == os.getpid() else None)

    def stop(self) -> None:
        """Ends the process at once; the next batch forks another."""
        if self.pid is not None and self.owner == os.getpid():
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self._ended()


_DOCUMENTS_DECODER = msgspec.msgpack.Decoder(list[tuple[int, str, bytes]])


def _serve(requests: int, answers: int) -> NoReturn:
    """The kept process's whole life: pieces prepared and answered, until this end closes."""
    status = 1
    try:
        interrupted_with_parent()
        # What this process inherited is left out of every collection, for good: its pages
        # stay shared with the parent. What it makes for each piece is collected as usual.
        gc.freeze()
        incoming = os.fdopen(requests, "rb")
        outgoing = os.fdopen(answers, "wb")
        keys: dict[int, str] = {}
        preparing: Preparing | None = None  # until told the first batch's folder
        with suppress(BrokenPipeError):
            while True:
                header = incoming.read(_FRAME.size)
                if len(header) < _FRAME.size:
                    status = 0  # this process's parent closed its end: no more batches
                    break
                kind, size = _FRAME.unpack(header)
                payload = incoming.read(size)
                if kind == _SETUP:
                    preparing = Preparing(pickle.loads(payload), lambda entry: keys[id(entry)])
                    continue
                try:
                    if preparing is None:
                        raise RuntimeError("entries came before their batch's folder")
                    entries = []
                    for position, key, content in _DOCUMENTS_DECODER.decode(payload):
                        entry = decode_entry(content, position)
                        keys[id(entry)] = key
                        entries.append(entry)
                    items, rejected = preparing.chunk(entries)
                    keys.clear()
                    _send(outgoing, _CHUNK, _chunk_message(items, rejected, None))
                except Exception as error:
                    keys.clear()
                    _send(outgoing, _FAILED, _pickled(error))
                outgoing.flush()
    finally:
        os._exit(status)  # nothing of the parent's (buffers, exit handlers) runs twice
