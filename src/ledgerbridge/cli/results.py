"""Check and posting results as the terminal shows them, and their spool until the batch is whole."""

from __future__ import annotations

import shutil
import sys
import tempfile
from types import TracebackType

import msgspec

from ledgerbridge.cli.output import to_json
from ledgerbridge.domain.catalogue import CATALOGUE
from ledgerbridge.domain.findings import CheckResult


def result_text(result: CheckResult) -> str:
    """`✓ id  accepted ...` or `✗ id  rejected  code: message`, then each finding and the fixes."""
    if result.accepted:
        text = f"✓ {result.id}  accepted"
        if result.entry_number is not None:
            text += f"  entry {result.entry_number} of fiscal year {result.fiscal_year}"
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
        for remedy in CATALOGUE[code].remedies:
            lines.append(f"    fix      {remedy.en}")
    return "\n".join(lines) + "\n"


_ENCODER = msgspec.json.Encoder()


def result_json(result: CheckResult) -> str:
    """The result as §4.3 JSON; a plain acceptance, by far the most common, written directly."""
    if result.accepted and result.entry_number is None:
        return f'{{"id":{to_json(result.id)},"status":"accepted","code":null,"message":null,"findings":[]}}'
    return _ENCODER.encode(result.as_dict()).decode()


class ResultSpool:
    """Holds the results on disk until the whole document is known to be well-formed.

    A large batch is streamed; its results are written out only once nothing in it was
    malformed, so a refused document prints no verdicts at all.
    """

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed in __exit__
        self._first = True
        self.accepted = 0
        self.rejected = 0
        self.replayed = 0

    def add(self, result: CheckResult) -> None:
        if result.accepted:
            self.accepted += 1
            self.replayed += result.replay
        else:
            self.rejected += 1
        if self.as_json:
            self._file.write(("" if self._first else ",\n") + result_json(result))
            self._first = False
        else:
            self._file.write(result_text(result))

    def publish(self) -> None:
        self._file.seek(0)
        if self.as_json:
            sys.stdout.write('{"results": [')
            shutil.copyfileobj(self._file, sys.stdout)
            sys.stdout.write("]}\n")
        else:
            shutil.copyfileobj(self._file, sys.stdout)
        sys.stdout.flush()

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
        self._file.close()
