"""The fingerprint tells a replay (the same content again) from a conflict (other content)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.conftest import EDF_INVOICE

from ledgerbridge.domain.entries import decode_entry, entry_id_problem, entry_json, lines_json
from ledgerbridge.domain.fingerprint import (
    fingerprint,
    fingerprint_and_content,
    fingerprint_and_lines,
)

BASE = EDF_INVOICE  # accepted by the ACME folder as it stands


def print_of(document: object) -> str:
    return fingerprint(decode_entry(json.dumps(document)))


def changed(**fields: object) -> dict[str, object]:
    return {**json.loads(json.dumps(BASE)), **fields}


def test_the_same_content_written_otherwise_has_the_same_fingerprint() -> None:
    lines = json.loads(json.dumps(BASE["lines"]))
    lines[0]["debit"] = 100
    lines[0]["credit"] = "0.00"  # a zero amount counts as absent
    lines[0]["auxiliary"] = ""  # so does an empty text
    lines[1]["debit"] = "20"
    lines[1]["analytics"] = []  # and an empty list
    lines[1]["auxiliary"] = None  # and null
    lines[2]["credit"] = 120.0

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


@pytest.mark.parametrize(
    "document",
    [
        BASE,
        changed(journal=None, date=None, reference=None, label=None),
        changed(label='a "quoted", label: {"lines":[]}'),
        changed(lines=[]),
        changed(lines=None),
        {"id": "bare"},
    ],
)
def test_the_fingerprint_with_the_lines_is_the_fingerprint(document: dict[str, object]) -> None:
    entry = decode_entry(json.dumps(document))
    assert fingerprint_and_lines(entry) == (fingerprint(entry), lines_json(entry.lines))
    assert fingerprint_and_content(entry) == (fingerprint(entry), entry_json(entry).decode())


_TEXT = st.none() | st.text(max_size=12)
_AMOUNT = st.none() | st.integers(0, 10**9).map(lambda cents: f"{cents // 100}.{cents % 100:02d}")
_LINE = st.fixed_dictionaries(
    {},
    optional={
        "account": _TEXT,
        "auxiliary": _TEXT,
        "label": _TEXT,
        "debit": _AMOUNT,
        "credit": _AMOUNT,
        "analytics": st.lists(
            st.fixed_dictionaries(
                {}, optional={"axis": _TEXT, "section": _TEXT, "amount": _AMOUNT}
            ),
            max_size=2,
        ),
    },
)


@given(
    st.fixed_dictionaries(
        {"id": st.text(min_size=1, max_size=8).filter(lambda text: entry_id_problem(text) is None)},
        optional={
            "journal": _TEXT,
            "date": st.none() | st.dates().map(str),
            "reference": _TEXT,
            "label": _TEXT,
            "lines": st.lists(_LINE, max_size=4),
        },
    )
)
def test_any_entry_has_one_fingerprint_however_its_lines_or_content_are_encoded(
    document: dict[str, object],
) -> None:
    entry = decode_entry(json.dumps(document))
    assert fingerprint_and_lines(entry) == (fingerprint(entry), lines_json(entry.lines))
    assert fingerprint_and_content(entry) == (fingerprint(entry), entry_json(entry).decode())
