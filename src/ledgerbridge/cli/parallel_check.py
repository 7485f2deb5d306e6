"""`ledger check` of a batch: a large JSON batch is checked on every core, with the outcome
of reading it in one pass.

The batch is read in one pass (`documents.plain_json_batch`); its entries stay JSON texts in
the mapped file. They are cut into consecutive chunks, smaller towards the end, which
processes forked from the command's own (working too) take in turn from a pipe: each
decodes and checks the chunk's entries (`check_entry`), writes the verdicts to its own
temporary file and reports the chunk: where its verdicts are, its malformed entries'
problems and its ids. One of them reads the top-level keys meanwhile. The command's
process gathers the reports as they come and puts the chunks back in document order:
verdicts, every problem by its entry, duplicate ids across chunks too. Standard output,
standard error and the exit code are those of the reading in one pass, which small
batches, YAML and a single core still get.

`ledger post` reads a large JSON batch in chunks the same way (`BatchChunks`): the processes
that ledger.forked_posting forks read them, and the problems every chunk found are put back
in document order at the end.
"""

from __future__ import annotations

import mmap
import os
import pickle
import select
import signal
import struct
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from ledgerbridge import collector
from ledgerbridge.cli.files import file_size
from ledgerbridge.cli.output import file_progress
from ledgerbridge.cli.results import ResultSpool, ResultWriter, Segment
from ledgerbridge.documents import (
    BatchText,
    PlainBatch,
    is_yaml,
    json_batch,
    json_entries,
    json_top_level_keys,
    plain_json_batch,
    refused_if_unreadable,
    stream_entries,
)
from ledgerbridge.domain.check import check_entry
from ledgerbridge.domain.entries import BatchReader, Entry
from ledgerbridge.domain.malformed import MalformedDocument, Problem
from ledgerbridge.processes import cores, interrupted_with_parent

if TYPE_CHECKING:
    from ledgerbridge.domain.folder_index import FolderIndex

PARALLEL_FROM = 20_000  # entries: a smaller batch is checked before processes would start
CHUNKS_PER_PROCESS = 16  # of the largest size: a process slowed down is made up by the others
MIN_CHUNK = 250  # entries: the last chunks, so that the processes end together
_MAX_PROCESSES = 8
_NUMBER = struct.Struct("<I")  # a chunk's number, in the pipe the processes take them from
_SIZE = struct.Struct("<Q")  # a report's size, in the pipe that tells one was written
_PIPE_BUFFER = 65536  # bytes a pipe holds at least, on Linux


def check_batch(path: Path, reader: BatchReader, folder: FolderIndex, spool: ResultSpool) -> None:
    """Every well-formed entry of the batch file checked, its verdict in `spool`, in order;
    the document's problems gather in `reader` (the caller runs `reader.finish()`)."""
    processes = min(cores(), _MAX_PROCESSES) if hasattr(os, "fork") else 1
    if is_yaml(path) or processes < 2:
        with file_progress("Checking", file_size(path)) as progress:
            _check_each(stream_entries(path, reader, progress=progress), folder, spool)
        return
    source, data = str(path), _mapped(path)
    plain = plain_json_batch(data)
    if plain is None or len(plain.items) < PARALLEL_FROM:
        if plain is None:
            items = json_batch(data, reader, source)
        else:
            plain.read_top_level(json_top_level_keys(data, source), reader)
            items = plain.items
        with file_progress("Checking", len(data)) as progress:
            entries = json_entries(items, reader, source, progress=progress, size=len(data))
            _check_each(entries, folder, spool)
        return
    batch = _Batch(plain, data, folder, source)
    batch.run(processes, spool)
    batch.merge(reader, spool)


def _check_each(entries: Iterable[Entry], folder: FolderIndex, spool: ResultSpool) -> None:
    for entry in entries:
        spool.add(check_entry(entry, folder))


def _mapped(path: Path) -> BatchText:
    """The file's bytes, mapped rather than read: a large batch is not copied in memory.
    The file must stay as it is while it is checked."""
    with path.open("rb") as file:
        if not os.fstat(file.fileno()).st_size:
            return b""
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


def chunk_bounds(entries: int, processes: int) -> list[int]:
    """Where each chunk starts, then the end: chunks of a size at first, smaller towards the
    end (an eighth of what is left per process), so that no process is left alone long."""
    largest = max(MIN_CHUNK, -(-entries // (processes * CHUNKS_PER_PROCESS)))
    bounds = [0]
    while bounds[-1] < entries:
        left = entries - bounds[-1]
        size = min(largest, max(MIN_CHUNK, -(-left // (8 * processes))))
        bounds.append(min(entries, bounds[-1] + size))
    return bounds


class _ChunkReader(BatchReader):
    """Reads one chunk's entries, numbered from `start`: keeps each problem with its entry's
    index, and notes ids without judging them, duplicates being told across chunks."""

    def __init__(self, start: int) -> None:
        super().__init__()
        self.count = start
        self.found: list[tuple[int, str, str]] = []  # (entry index, path, message)
        self.first_seen: dict[str, int] = {}  # id -> index of its first entry in the chunk
        self.repeats: list[tuple[int, str]] = []  # (entry index, id) of its other entries

    def entry(self, raw: object, *, given_twice: Iterable[Problem] = ()) -> Entry | None:
        index, known = self.count, len(self.problems)
        entry = super().entry(raw, given_twice=given_twice)
        self.found.extend((index, p.path, p.message) for p in self.problems[known:])
        return entry

    def _note_id(self, entry_id: str, index: int) -> None:
        first = self.first_seen.setdefault(entry_id, index)
        if first != index:
            self.repeats.append((index, entry_id))


@dataclass(frozen=True, slots=True)
class _Chunk:
    """A chunk checked: where its verdicts are, how many, and its entries' problems."""

    number: int
    process: int
    offset: int
    size: int
    accepted: int
    rejected: int
    replayed: int
    entries: int
    problems: list[tuple[int, str, str]]  # (entry index, path, message), in order


@dataclass(frozen=True, slots=True)
class _Failure:
    """A chunk whose reading failed on an error (the first of the chunk)."""

    number: int
    error: BaseException


@dataclass(frozen=True, slots=True)
class _Keys:
    """The batch's top-level keys as written; or, the top level being malformed, why."""

    keys: list[str]
    malformed: tuple[list[tuple[str, str]], str] | None = None  # (path, message)s, source

    def raise_if_malformed(self) -> None:
        if self.malformed is not None:
            problems, source = self.malformed
            raise MalformedDocument([Problem(*problem) for problem in problems], source=source)


# What a process says of a chunk: done (with its ids: first entry of each, the others), or
# failed; or of the batch's top-level keys.
_Report = tuple[_Chunk, dict[str, int], list[tuple[int, str]]] | _Failure | _Keys
_KEYS = 0xFFFFFFFF  # the number that asks for the top-level keys, not for a chunk


@dataclass
class _Ids:
    """Where each id is first met, over chunks merged in any order, and its other entries."""

    first: dict[str, int] = field(default_factory=dict)  # id -> smallest entry index
    others: list[tuple[int, str]] = field(default_factory=list)  # (entry index, id)

    def merge(self, first: dict[str, int], others: list[tuple[int, str]]) -> None:
        """Adds the ids of other entries (`first` is consumed)."""
        known = self.first
        for entry_id in known.keys() & first.keys():
            mine, theirs = known[entry_id], first[entry_id]
            if theirs < mine:
                self.others.append((mine, entry_id))
            else:
                self.others.append((theirs, entry_id))
                first[entry_id] = mine
        known.update(first)
        self.others.extend(others)


class _Batch:
    """The entries to check, in chunks that processes take in turn, and what they made of them."""

    def __init__(
        self, plain: PlainBatch, data: BatchText, folder: FolderIndex, source: str
    ) -> None:
        self.plain = plain
        self.items = plain.items
        self.data = data
        self.folder = folder
        self.source = source
        self.size = len(data)  # for the progress bar
        self.bounds: list[int] = []
        self.files: list[BinaryIO] = []  # each process's verdicts
        self.chunks: list[_Chunk] = []
        self.ids = _Ids()
        self.failures: list[_Failure] = []
        self.keys: _Keys | None = None

    def run(self, processes: int, spool: ResultSpool) -> None:
        """Checks every chunk with `processes` processes, this one included."""
        self.bounds = chunk_bounds(len(self.items), processes)
        # The top-level keys are told by whichever process comes first, the chunks then.
        numbers = [_KEYS, *range(len(self.bounds) - 1)]
        tokens = b"".join(_NUMBER.pack(number) for number in numbers)
        if len(tokens) > _PIPE_BUFFER:
            raise ValueError(f"{len(self.bounds) - 1} chunks are more than a pipe holds")
        writers = [spool.writer() for _ in range(processes)]
        self.files = [writer.file for writer in writers]
        take, give = os.pipe()
        children: list[_Child] = []
        # Checking makes no garbage that refcounting leaves behind: see collector.
        with collector.paused():
            try:
                os.write(give, tokens)
                os.close(give)
                sys.stdout.flush()
                sys.stderr.flush()
                try:
                    for process in range(1, processes):
                        children.append(_Child.start(self, process, writers[process], take, spool))
                except OSError:  # no more processes to be had: those started do the work
                    pass
                with file_progress("Checking", self.size) as progress:

                    def tell() -> None:
                        done = sum(chunk.entries for chunk in self.chunks)
                        progress(self.size * done // len(self.items))

                    def own(report: _Report) -> None:
                        self._take(report)
                        for child in children:
                            for received in child.reports(wait=False):
                                self._take(received)
                        tell()

                    self.work(0, writers[0], take, own)
                    for child in children:
                        for received in child.reports(wait=True, meanwhile=tell):
                            self._take(received)
                        child.end()
                    progress(self.size)
            finally:
                for child in children:
                    child.stop()
                os.close(take)

    def _take(self, report: _Report) -> None:
        if isinstance(report, _Failure):
            self.failures.append(report)
            return
        if isinstance(report, _Keys):
            self.keys = report
            return
        chunk, first_seen, repeats = report
        self.chunks.append(chunk)
        self.ids.merge(first_seen, repeats)

    def work(
        self, process: int, writer: ResultWriter, take: int, report: Callable[[_Report], None]
    ) -> None:
        """Takes chunks from the pipe until none is left, or one fails; reports each."""
        check, folder, add = check_entry, self.folder, writer.add
        while token := os.read(take, _NUMBER.size):
            (number,) = _NUMBER.unpack(token)
            if number == _KEYS:
                report(_top_level_keys(self.data, self.source))
                continue
            start, stop = self.bounds[number], self.bounds[number + 1]
            reader = _ChunkReader(start)
            read = reader.entry_json
            try:
                for item in self.items[start:stop]:
                    entry = read(item)
                    if entry is not None:
                        add(check(entry, folder))
            except Exception as error:
                report(_Failure(number, error))
                return
            segment = writer.cut()
            chunk = _Chunk(
                number,
                process,
                segment.offset,
                segment.size,
                segment.accepted,
                segment.rejected,
                segment.replayed,
                stop - start,
                reader.found,
            )
            report((chunk, reader.first_seen, reader.repeats))

    def merge(self, reader: BatchReader, spool: ResultSpool) -> None:
        """The chunks put back in document order: verdicts into `spool`, problems into `reader`.

        Raises what reading the batch in one pass raises first: a top level malformed, or the
        first error in document order."""
        if self.keys is None:
            raise RuntimeError("the batch's top-level keys were not read")
        self.keys.raise_if_malformed()
        if self.failures:
            failure = min(self.failures, key=lambda failure: failure.number)
            with refused_if_unreadable(self.source):
                raise failure.error
        self.chunks.sort(key=lambda chunk: chunk.number)
        for chunk in self.chunks:
            file = self.files[chunk.process]
            spool.take(
                Segment(
                    file,
                    chunk.offset,
                    chunk.size,
                    chunk.accepted,
                    chunk.rejected,
                    chunk.replayed,
                )
            )
        _gather_problems(
            self.plain, self.keys, [chunk.problems for chunk in self.chunks], self.ids, reader
        )


def _gather_problems(
    plain: PlainBatch,
    keys: _Keys,
    problems: list[list[tuple[int, str, str]]],
    ids: _Ids,
    reader: BatchReader,
) -> None:
    """Into `reader`, as reading the batch in one pass puts them: the top level, then each
    entry's problems (`problems`: each chunk's, in document order), then its id's."""
    plain.read_top_level(keys.keys, reader)
    found = [
        (index, 0, Problem(path, message)) for chunk in problems for index, path, message in chunk
    ]
    first_of = ids.first
    found.extend(
        (index, 1, _duplicate(entry_id, index, first_of[entry_id]))
        for index, entry_id in ids.others
    )
    found.sort(key=lambda problem: problem[:2])  # an entry's problems, then its id's
    reader.problems.extend(problem for _, _, problem in found)
    reader.count = len(plain.items)


class _ChunkNote(NamedTuple):
    """What reading a chunk found: its entries' problems and ids; and, for the first chunk,
    the batch's top-level keys."""

    found: list[tuple[int, str, str]]  # (entry index, path, message), in order
    first_seen: dict[str, int]
    repeats: list[tuple[int, str]]
    keys: _Keys | None


class BatchChunks:
    """A large JSON batch posted by forked processes (`ledger.forked_posting.EntryChunks`):
    any process reads any chunk; the problems found, every chunk's, are put back in document
    order at the end, into `reader`, as reading the batch in one pass puts them."""

    def __init__(
        self, plain: PlainBatch, data: BatchText, reader: BatchReader, source: str, size: int
    ) -> None:
        self.plain = plain
        self.data = data  # the file's bytes, which `plain`'s texts are read from
        self.reader = reader
        self.source = source
        count = len(plain.items)
        self.bounds = [*range(0, count, size), count]  # chunks of `size` entries

    @classmethod
    def of_file(cls, path: Path, reader: BatchReader, source: str, size: int) -> BatchChunks | None:
        """The batch in chunks, or None when it is not a plain JSON batch (it is then read
        as a stream, which tells what is wrong in its own words)."""
        if is_yaml(path):
            return None
        # Read whole, not mapped: what is posted is the file as it was when the posting
        # began, whatever happens to it meanwhile (the forked processes share these bytes).
        data = path.read_bytes()
        plain = plain_json_batch(data)
        return None if plain is None else cls(plain, data, reader, source, size)

    @property
    def entries(self) -> int:
        return len(self.plain.items)

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def read(self, number: int) -> tuple[list[Entry], object]:
        start, stop = self.bounds[number], self.bounds[number + 1]
        reader = _ChunkReader(start)
        read = reader.entry_json
        with refused_if_unreadable(self.source):
            entries = [entry for item in self.plain.items[start:stop] if (entry := read(item))]
        keys = _top_level_keys(self.data, self.source) if number == 0 else None
        return entries, _ChunkNote(reader.found, reader.first_seen, reader.repeats, keys)

    def finish(self, notes: list[object]) -> None:
        """Every chunk's problems into `reader`, in document order (`reader.finish()` tells
        them); raises at once for a top level that is malformed."""
        ids = _Ids()
        problems: list[list[tuple[int, str, str]]] = []
        keys: _Keys | None = None
        for note in notes:
            assert isinstance(note, _ChunkNote)  # as `read` made it
            problems.append(note.found)
            ids.merge(note.first_seen, note.repeats)
            keys = note.keys or keys
        if keys is None:  # no chunk: no entry
            keys = _top_level_keys(self.data, self.source)
        keys.raise_if_malformed()
        _gather_problems(self.plain, keys, problems, ids, self.reader)


def _top_level_keys(data: BatchText, source: str) -> _Keys:
    try:
        return _Keys(json_top_level_keys(data, source))
    except MalformedDocument as malformed:
        problems = [(problem.path, problem.message) for problem in malformed.problems]
        return _Keys([], (problems, malformed.source))


def _duplicate(entry_id: str, index: int, first: int) -> Problem:
    """The problem `BatchReader` tells of an id met before, in the same words."""
    return Problem(f"entries[{index}].id", f"duplicate id {entry_id!r} (also entries[{first}])")


class _Child:
    """A process forked to work on the batch. It writes each chunk's report to a file of its
    own, then the report's size to a pipe: it never waits for the command's process."""

    def __init__(self, pid: int, told: int, file: BinaryIO) -> None:
        self.pid: int | None = pid
        self.told = told  # the pipe the sizes come by
        self.file = file  # the reports
        self._read = 0  # bytes of reports read
        self._sizes = b""  # what came of a size not wholly read yet

    @classmethod
    def start(
        cls, batch: _Batch, process: int, writer: ResultWriter, take: int, spool: ResultSpool
    ) -> _Child:
        file = spool.new_file()
        told, tell = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(told)
            os.close(tell)
            raise
        if pid == 0:  # the child: it never returns from here
            status = 1
            try:
                os.close(told)
                interrupted_with_parent()
                batch.work(process, writer, take, _reporter(file.fileno(), tell))
                status = 0
            finally:
                os._exit(status)
        os.close(tell)
        return cls(pid, told, file)

    def reports(self, *, wait: bool, meanwhile: Callable[[], None] = lambda: None) -> list[_Report]:
        """The reports written since the last call; with `wait`, all of them, the child done."""
        sizes = self._sizes
        while True:
            ready, _, _ = select.select([self.told], [], [], 0.1 if wait else 0)
            if not ready:
                if not wait:
                    break
                meanwhile()
                continue
            data = os.read(self.told, _PIPE_BUFFER)
            if not data:
                break
            sizes += data
            if not wait:
                break
        whole = len(sizes) - len(sizes) % _SIZE.size
        self._sizes = sizes[whole:]
        received: list[_Report] = []
        for (size,) in _SIZE.iter_unpack(sizes[:whole]):
            data = _read_at(self.file.fileno(), size, self._read)
            self._read += size
            received.append(pickle.loads(data))
        return received

    def end(self) -> None:
        """Waits for the child, done; a child that failed fails the check."""
        status = self._wait()
        if status != 0:
            raise RuntimeError(f"a process checking part of the batch failed (status {status})")

    def _wait(self) -> int:
        assert self.pid is not None
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        os.close(self.told)
        return os.waitstatus_to_exitcode(status)

    def stop(self) -> None:
        """Ends the child if it still runs (the command was interrupted or failed)."""
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            self._wait()


def _reporter(file: int, tell: int) -> Callable[[_Report], None]:
    """How a child reports a chunk: the report written to `file`, then its size to `tell`."""

    def report(report: _Report) -> None:
        data = _dump(report)
        _write_all(file, data)
        _write_all(tell, _SIZE.pack(len(data)))

    return report


def _dump(report: _Report) -> bytes:
    """The report as bytes; an error that would not come back as itself comes as its text."""
    if isinstance(report, _Failure):
        error = report.error
        try:
            copy = pickle.loads(pickle.dumps(error))
            faithful = type(copy) is type(error) and str(copy) == str(error)
        except Exception:
            faithful = False
        if not faithful:
            report = _Failure(report.number, RuntimeError(f"{type(error).__name__}: {error}"))
    return pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _read_at(descriptor: int, size: int, offset: int) -> bytes:
    parts = []
    while size:
        data = os.pread(descriptor, size, offset)
        if not data:
            raise OSError(f"a report was cut short at byte {offset}")
        parts.append(data)
        size -= len(data)
        offset += len(data)
    return b"".join(parts)
