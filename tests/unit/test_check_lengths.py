"""Rule 2 (`value_truncated`): labels and references within the folder's limits (§5.1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledgerbridge.domain.findings import CheckResult

Document = dict[str, Any]
Check = Callable[[Document], CheckResult]
CheckIn = Callable[[Document, Document], CheckResult]

# Each is one Unicode character: counted as one, whatever its size in UTF-8.
CHARACTERS = ["x", "é", "€", "🧾"]


def _codes(result: CheckResult) -> list[tuple[str, int | None]]:
    return [(finding.code, finding.line) for finding in result.findings]


@pytest.mark.parametrize("character", CHARACTERS)
def test_an_entry_label_exactly_at_the_default_limit_of_69_passes(
    check: Check, edf_invoice: Document, character: str
) -> None:
    edf_invoice["label"] = character * 69

    assert check(edf_invoice).accepted


@pytest.mark.parametrize("character", CHARACTERS)
def test_an_entry_label_one_character_over_the_limit_is_truncated(
    check: Check, edf_invoice: Document, character: str
) -> None:
    edf_invoice["label"] = character * 70

    result = check(edf_invoice)

    assert _codes(result) == [("value_truncated", None)]
    assert result.message == "String or binary data would be truncated."
    detail = result.findings[0].detail
    assert "label" in detail
    assert "70" in detail
    assert "69" in detail


@pytest.mark.parametrize("character", CHARACTERS)
def test_a_line_label_exactly_at_the_limit_passes(
    check: Check, edf_invoice: Document, character: str
) -> None:
    edf_invoice["lines"][1]["label"] = character * 69

    assert check(edf_invoice).accepted


@pytest.mark.parametrize("character", CHARACTERS)
def test_a_line_label_over_the_limit_is_reported_on_its_line(
    check: Check, edf_invoice: Document, character: str
) -> None:
    edf_invoice["lines"][1]["label"] = character * 70

    result = check(edf_invoice)

    assert _codes(result) == [("value_truncated", 2)]
    detail = result.findings[0].detail
    assert "line 2" in detail
    assert "70" in detail
    assert "69" in detail


@pytest.mark.parametrize("character", CHARACTERS)
def test_a_reference_exactly_at_the_default_limit_of_13_passes(
    check: Check, edf_invoice: Document, character: str
) -> None:
    edf_invoice["reference"] = character * 13

    assert check(edf_invoice).accepted


@pytest.mark.parametrize("character", CHARACTERS)
def test_a_reference_one_character_over_the_limit_is_truncated(
    check: Check, edf_invoice: Document, character: str
) -> None:
    edf_invoice["reference"] = character * 14

    result = check(edf_invoice)

    assert _codes(result) == [("value_truncated", None)]
    detail = result.findings[0].detail
    assert "reference" in detail
    assert "14" in detail
    assert "13" in detail


def test_every_value_over_the_limit_is_reported(check: Check, edf_invoice: Document) -> None:
    edf_invoice["reference"] = "F" * 20
    edf_invoice["label"] = "L" * 80
    edf_invoice["lines"][0]["label"] = "A" * 70
    edf_invoice["lines"][2]["label"] = "C" * 100

    result = check(edf_invoice)

    assert _codes(result) == [
        ("value_truncated", None),
        ("value_truncated", None),
        ("value_truncated", 1),
        ("value_truncated", 3),
    ]
    entry_details = {result.findings[0].detail, result.findings[1].detail}
    assert any("reference" in detail and "20" in detail for detail in entry_details)
    assert any("label" in detail and "80" in detail for detail in entry_details)
    assert "100" in result.findings[3].detail


@pytest.mark.parametrize(
    ("field", "length", "limit"),
    [("label", 20, 20), ("label", 21, 20), ("reference", 5, 5), ("reference", 6, 5)],
)
def test_a_folder_with_its_own_limits_checks_against_them(
    check_in: CheckIn,
    setup_document: Document,
    edf_invoice: Document,
    field: str,
    length: int,
    limit: int,
) -> None:
    setup_document["limits"] = {"label": 20, "reference": 5}
    edf_invoice["reference"] = "F42"
    edf_invoice[field] = "x" * length

    result = check_in(setup_document, edf_invoice)

    if length <= limit:
        assert result.accepted
    else:
        assert _codes(result) == [("value_truncated", None)]
        assert field in result.findings[0].detail
        assert f"{length} characters" in result.findings[0].detail
        assert str(limit) in result.findings[0].detail


def test_a_folder_with_its_own_label_limit_applies_it_to_line_labels(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["limits"] = {"label": 20}
    edf_invoice["lines"][2]["label"] = "Électricité mars 26!"  # 20 characters, 22 bytes
    assert check_in(setup_document, edf_invoice).accepted

    edf_invoice["lines"][2]["label"] = "Électricité mars 2026"

    result = check_in(setup_document, edf_invoice)
    assert _codes(result) == [("value_truncated", 3)]
    assert "21" in result.findings[0].detail
    assert "20" in result.findings[0].detail


def test_each_limit_applies_to_its_own_fields(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["limits"] = {"reference": 30}
    edf_invoice["reference"] = "R" * 30
    edf_invoice["label"] = "L" * 69

    assert check_in(setup_document, edf_invoice).accepted
