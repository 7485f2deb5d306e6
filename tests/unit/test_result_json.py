"""Acceptances are written as JSON by hand, being most results: byte for byte what encoding
the result's dictionary gives, whatever the id or fiscal year holds."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from ledgerbridge.cli.results import result_json
from ledgerbridge.domain.findings import CheckResult, Finding

TEXTS = st.text(min_size=1) | st.sampled_from(['e"1', "e\\1", "é\u2028\n\t\x00\x7f", "ligne 😀"])


def _encoded(result: CheckResult) -> str:
    return msgspec.json.encode(result.as_dict()).decode()


@given(entry_id=TEXTS)
def test_an_acceptance_is_written_as_its_dictionary_encodes(entry_id: str) -> None:
    result = CheckResult(id=entry_id)
    assert result_json(result) == _encoded(result)


@given(
    entry_id=TEXTS,
    number=st.integers(min_value=1, max_value=2**40),
    fiscal_year=TEXTS,
    replay=st.booleans(),
)
def test_a_posted_entry_is_written_as_its_dictionary_encodes(
    entry_id: str, number: int, fiscal_year: str, replay: bool
) -> None:
    result = CheckResult(id=entry_id, entry_number=number, fiscal_year=fiscal_year, replay=replay)
    assert result_json(result) == _encoded(result)


def test_a_rejection_is_encoded() -> None:
    finding = Finding("document_not_settled", None, "debit 10.00, credit 9.00", ())
    result = CheckResult(id="e1", findings=(finding,))
    assert result_json(result) == _encoded(result)
    assert msgspec.json.decode(result_json(result))["status"] == "rejected"
