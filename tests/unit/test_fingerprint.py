"""The fingerprint tells a replay (the same content again) from a conflict (other content)."""

from __future__ import annotations

import json

import pytest

from ledgerbridge.domain.entries import decode_entry
from ledgerbridge.domain.fingerprint import fingerprint

BASE = {
    "id": "a",
    "journal": "ACH",
    "date": "2026-03-15",
    "reference": "F-1",
    "label": "EDF",
    "lines": [
        {
            "account": "606100",
            "label": "EDF",
            "debit": "100.00",
            "analytics": [{"axis": "SITE", "section": "PARIS", "amount": "100.00"}],
        },
        {"account": "401000", "auxiliary": "FEDF", "credit": "100.00"},
    ],
}


def print_of(document: object) -> str:
    return fingerprint(decode_entry(json.dumps(document)))


def changed(**fields: object) -> dict[str, object]:
    return {**json.loads(json.dumps(BASE)), **fields}


def test_the_same_content_written_otherwise_has_the_same_fingerprint() -> None:
    lines = json.loads(json.dumps(BASE["lines"]))
    lines[0]["debit"] = 100
    lines[0]["credit"] = "0.00"  # a zero amount counts as absent
    lines[0]["auxiliary"] = ""  # so does an empty text
    lines[1]["credit"] = "100"
    lines[1]["analytics"] = []  # and an empty list
    lines[1]["label"] = None

    assert print_of(changed(id="another-id", lines=lines)) == print_of(BASE)


@pytest.mark.parametrize(
    "other",
    [
        {"journal": "VTE"},
        {"date": "2026-03-16"},
        {"reference": "F-2"},
        {"label": None},
        {"lines": list(reversed(BASE["lines"]))},
        {"lines": [*BASE["lines"], {"account": "445660", "debit": "0.01"}]},
    ],
)
def test_other_content_has_another_fingerprint(other: dict[str, object]) -> None:
    assert print_of(changed(**other)) != print_of(BASE)


def test_an_amount_a_cent_apart_has_another_fingerprint() -> None:
    lines = json.loads(json.dumps(BASE["lines"]))
    lines[0]["analytics"][0]["amount"] = "99.99"

    assert print_of(changed(lines=lines)) != print_of(BASE)
