"""What the check says of an entry: findings, and the result they add up to (§4.3).

Immutable structs rather than dataclasses: a batch makes one result per entry, and a
struct is made ten times quicker than a frozen dataclass.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ledgerbridge.domain.catalogue import render_message


class Finding(msgspec.Struct, frozen=True, gc=False):
    """One problem of an entry: a catalogue code, the line (None for the entry), a detail."""

    code: str
    line: int | None
    detail: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def message(self) -> str:
        return render_message(self.code, dict(self.params))

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "line": self.line,
            "message": self.message,
            "detail": self.detail,
        }


class CheckResult(msgspec.Struct, frozen=True, gc=False):
    """The verdict on one entry; `findings` are in the order of §5."""

    id: str
    findings: tuple[Finding, ...] = ()
    entry_number: int | None = None
    fiscal_year: str | None = None
    replay: bool = False

    @property
    def accepted(self) -> bool:
        return not self.findings

    @property
    def status(self) -> str:
        return "accepted" if self.accepted else "rejected"

    @property
    def code(self) -> str | None:
        return self.findings[0].code if self.findings else None

    @property
    def message(self) -> str | None:
        return self.findings[0].message if self.findings else None

    def as_dict(self) -> dict[str, Any]:
        # Made once per entry of every batch: the accepted case without the properties.
        findings = self.findings
        result: dict[str, Any]
        if findings:
            first = findings[0]
            result = {
                "id": self.id,
                "status": "rejected",
                "code": first.code,
                "message": first.message,
                "findings": [finding.as_dict() for finding in findings],
            }
        else:
            result = {
                "id": self.id,
                "status": "accepted",
                "code": None,
                "message": None,
                "findings": [],
            }
        if self.entry_number is not None:
            result["entry_number"] = self.entry_number
            result["fiscal_year"] = self.fiscal_year
            result["replay"] = self.replay
        return result
