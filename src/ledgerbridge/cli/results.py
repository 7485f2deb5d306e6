"""Check and posting results as the terminal shows them, and their spool until the batch is whole."""

from __future__ import annotations

import codecs
import os
import sys
import tempfile
from dataclasses import dataclass
from json.encoder import encode_basestring
from types import TracebackType
from typing import BinaryIO

import msgspec

from ledgerbridge.cli.output import not_interrupted
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.remedies import applicable_remedies


def _accepted_text(entry_id: str) -> str:
    return f"✓ {entry_id}  accepted\n"


def _accepted_json(entry_id: str) -> str:
    """The id written as `json.dumps(id, ensure_ascii=False)` writes it."""
    return f'{{"id":{encode_basestring(entry_id)},"status":"accepted","code":null,"message":null,"findings":[]}}'


def result_text(result: CheckResult) -> str:
    """`✓ id  accepted ...` or `✗ id  rejected  code: message`, then each finding and the fixes."""
    if result.accepted:
        if result.entry_number is None:
            return _accepted_text(result.id)
        text = f"✓ {result.id}  accepted  entry {result.entry_number} of fiscal year {result.fiscal_year}"
        if result.replay:
            text += " (already posted: replay)"
        return text + "\n"
    lines = [f"✗ {result.id}  rejected  {result.code}: {result.message}"]
    codes: list[str] = []
    for finding in result.findings:
        where = f"line {finding.line}" if finding.line is not None else "entry"
        label = "" if finding.code == result.code else f"{finding.code}: "
        lines.append(f"    {where:<8} {label}{finding.detail}")
        if finding.code not in codes:
            codes.append(finding.code)
    for code in codes:
        # The fixes the findings show to apply first, as next to a failed entry.
        of_code = [
            {"line": finding.line, "detail": finding.detail}
            for finding in result.findings
            if finding.code == code
        ]
        for remedy in applicable_remedies(code, of_code):
            lines.append(f"    fix      {remedy.en}")
    return "\n".join(lines) + "\n"


_ENCODER = msgspec.json.Encoder()


def _posted_json(result: CheckResult) -> str:
    """An accepted and numbered result, in the words of `as_dict` encoded."""
    return (
        f'{{"id":{encode_basestring(result.id)},"status":"accepted","code":null,'
        f'"message":null,"findings":[],"entry_number":{result.entry_number},'
        f'"fiscal_year":{encode_basestring(result.fiscal_year or "")},'
        f'"replay":{"true" if result.replay else "false"}}}'
    )


def result_json(result: CheckResult) -> str:
    """The result as §4.3 JSON; acceptances, by far the most common, written directly."""
    if result.accepted:
        if result.entry_number is None:
            return _accepted_json(result.id)
        if result.fiscal_year is not None:
            return _posted_json(result)
    return _ENCODER.encode(result.as_dict()).decode()


_SEPARATOR = ",\n"  # between two JSON results
_WRITE_EVERY = 2048  # results held in memory between two writes


@dataclass(frozen=True, slots=True)
class Segment:
    """Results written one after the other in a file: `size` bytes at `offset`, and their count."""

    file: BinaryIO
    offset: int
    size: int
    accepted: int
    rejected: int
    replayed: int


class ResultWriter:
    """Writes results to a file as they come, as text or as JSON items (`,` and a newline
    between two); `cut()` tells what was written since the last cut, as a segment."""

    def __init__(self, file: BinaryIO, as_json: bool) -> None:
        self.file = file
        self._render = result_json if as_json else result_text
        self._accepted = _accepted_json if as_json else _accepted_text
        self._joiner = _SEPARATOR if as_json else ""
        self._pending: list[str] = []
        self._written = 0  # bytes written to the file by this writer
        self._start = 0  # where the segment being written starts
        self._started = False  # whether the segment has a result already written
        self.accepted = 0
        self.rejected = 0
        self.replayed = 0

    def add(self, result: CheckResult) -> None:
        if not result.accepted:
            self.rejected += 1
            self._pending.append(self._render(result))
        elif result.entry_number is None:  # checked, not posted: by far the most common
            self.accepted += 1
            self._pending.append(self._accepted(result.id))
        else:
            self.accepted += 1
            self.replayed += result.replay
            self._pending.append(self._render(result))
        if len(self._pending) >= _WRITE_EVERY:
            self._write()

    def _write(self) -> None:
        if not self._pending:
            return
        text = self._joiner.join(self._pending)
        if self._started:
            text = self._joiner + text
        data = text.encode()
        self.file.write(data)
        self._written += len(data)
        self._started = True
        self._pending.clear()

    def cut(self) -> Segment:
        """The results added since the last cut, all written to the file."""
        self._write()
        self.file.flush()
        segment = Segment(
            self.file,
            self._start,
            self._written - self._start,
            self.accepted,
            self.rejected,
            self.replayed,
        )
        self._start, self._started = self._written, False
        self.accepted = self.rejected = self.replayed = 0
        return segment


def _writes_utf8(stream: object) -> bool:
    """Whether text written to `stream` becomes UTF-8: its bytes can then be written as they are."""
    encoding = getattr(stream, "encoding", None)
    try:
        return encoding is not None and codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


class ResultSpool:
    """Holds the results on disk until the whole document is known to be well-formed.

    A large batch is streamed; its results are written out only once nothing in it was
    malformed, so a refused document prints no verdicts at all. Results come one at a time
    (`add`), or as segments of files written elsewhere (`new_file`, `take`), in order.
    """

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self._files: list[BinaryIO] = []
        self._segments: list[Segment] = []
        self._writer: ResultWriter | None = None

    def new_file(self) -> BinaryIO:
        """A temporary file for results, removed with the spool."""
        file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        self._files.append(file)
        return file

    def writer(self) -> ResultWriter:
        return ResultWriter(self.new_file(), self.as_json)

    def add(self, result: CheckResult) -> None:
        if self._writer is None:
            self._writer = self.writer()
        self._writer.add(result)

    def take(self, segment: Segment) -> None:
        """Results written elsewhere, after those the spool holds already."""
        self._settle()
        self._segments.append(segment)

    def _settle(self) -> None:
        if self._writer is not None:
            self._segments.append(self._writer.cut())

    def publish(self) -> None:
        with not_interrupted():
            self._publish()

    def _publish(self) -> None:
        self._settle()
        out = sys.stdout
        out.flush()
        binary = getattr(out, "buffer", None) if _writes_utf8(out) else None
        decoder = codecs.getincrementaldecoder("utf-8")()

        def write(data: bytes) -> None:
            if binary is not None:
                binary.write(data)
            else:
                out.write(decoder.decode(data))

        if self.as_json:
            write(b'{"results": [')
        first = True
        for segment in self._segments:
            if not segment.size:
                continue
            if self.as_json and not first:
                write(_SEPARATOR.encode())
            first = False
            descriptor, offset, end = (
                segment.file.fileno(),
                segment.offset,
                segment.offset + segment.size,
            )
            while offset < end:
                data = os.pread(descriptor, min(end - offset, 1 << 24), offset)
                if not data:
                    raise OSError(f"results file cut short at byte {offset}")
                write(data)
                offset += len(data)
        if self.as_json:
            write(b"]}\n")
        if binary is not None:
            binary.flush()
        out.flush()

    def _total(self, field: str) -> int:
        writing = [self._writer] if self._writer is not None else []
        return sum(getattr(part, field) for part in [*self._segments, *writing])

    @property
    def accepted(self) -> int:
        return self._total("accepted")

    @property
    def rejected(self) -> int:
        return self._total("rejected")

    @property
    def replayed(self) -> int:
        return self._total("replayed")

    def summary(self) -> str:
        parts = [f"{self.accepted} accepted", f"{self.rejected} rejected"]
        if self.replayed:
            parts.insert(1, f"{self.replayed} of them already posted (replays)")
        return ", ".join(parts)

    def __enter__(self) -> ResultSpool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for file in self._files:
            file.close()
