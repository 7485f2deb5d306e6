"""Invariants of the check over generated entries, and of reading over generated malformed ones."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from ledgerbridge.domain.catalogue import CATALOGUE
from ledgerbridge.domain.check import check_entry
from ledgerbridge.domain.entries import BatchReader, Entry, entry_id_problem, parse_entry
from ledgerbridge.domain.findings import CheckResult, Finding
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.domain.malformed import MalformedDocument
from ledgerbridge.domain.setup import FolderSetup, parse_setup

# Any id the readers take: neither blank nor holding a control character.
_ENTRY_IDS = st.text(min_size=1, max_size=12).filter(lambda text: entry_id_problem(text) is None)

Document = dict[str, Any]

# Entries dated here, in ACH, VTE or BQ, land in an open fiscal year outside the locked period.
USABLE_DATES = (date(2025, 7, 1), date(2026, 12, 31))
ANY_DATES = (date(2023, 6, 1), date(2027, 6, 30))
USABLE_JOURNALS = ["ACH", "VTE", "BQ"]
ANY_JOURNALS = [*USABLE_JOURNALS, "OD", "HA", "XYZ", None, ""]
USABLE_ACCOUNTS = ["512000", "445660", "706000", "401000", "411000", "606100"]
ANY_ACCOUNTS = [*USABLE_ACCOUNTS, "626000", "999999", None]
AUXILIARY_OF = {"401000": "FEDF", "411000": "CDUPONT"}
OTHER_AUXILIARY = {"401000": "CDUPONT"}
SECTIONS = {"SITE": ("PARIS", "LYON"), "ACTIVITY": ("CONSEIL", "FORMATION")}
PROPERTIES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def folder_setup(acme_setup: FolderSetup) -> FolderSetup:
    """ACME with a second axis and a second locked period, so the order of setup lists shows."""
    document = _as_document(acme_setup)
    document["analytics"]["axes"].append(
        {"code": "ACTIVITY", "name": "Activité", "sections": list(SECTIONS["ACTIVITY"])}
    )
    document["import_cursor"]["locked_periods"].append({"from": "2024-10-01", "to": "2024-12-31"})
    return parse_setup(document)


def _as_document(setup: FolderSetup) -> Document:
    """The setup as a document again, its dates left as dates (which the reader accepts)."""
    document: Document = msgspec.to_builtins(setup, builtin_types=(date,))
    return document


@dataclass(frozen=True)
class Generated:
    """A raw entry and whether it was built from usable parts only (then it must be accepted)."""

    usable_only: bool
    raw: Document


def _written(cents: int, form: str) -> object:
    """An amount as a document may write it: text, a JSON number (a decimal), padded zeros."""
    text = f"{cents // 100}.{cents % 100:02d}"
    if form == "decimal":
        return Decimal(text)
    if form == "padded":
        return f"{text}0"
    if form == "integer" and cents % 100 == 0:
        return cents // 100
    return text


@st.composite
def _allocations(draw: st.DrawFn, cents: int, usable_only: bool) -> list[Document]:
    kinds = ["exact", "split"] if usable_only else ["exact", "split", "none", "short", "odd"]
    allocations: list[Document] = []
    if not usable_only and draw(st.integers(0, 2)) == 0:
        return allocations  # no allocation at all: the case entries without analytics waive
    for axis, sections in SECTIONS.items():
        kind = draw(st.sampled_from(kinds))
        form = draw(st.sampled_from(["text", "decimal"]))
        if kind == "none":
            continue
        if kind == "split" and cents >= 2:
            part = draw(st.integers(1, cents - 1))
            shares = [(sections[0], part), (sections[1], cents - part)]
        elif kind == "short":
            shares = [(sections[0], cents - 1)]
        elif kind == "odd":  # an unknown section, or an unknown axis
            odd_axis = draw(st.sampled_from([axis, "REGION"]))
            allocations.append(
                {"axis": odd_axis, "section": "NICE", "amount": _written(cents, form)}
            )
            continue
        else:
            shares = [(sections[0], cents)]
        allocations += [
            {"axis": axis, "section": section, "amount": _written(share, form)}
            for section, share in shares
        ]
    return allocations


@st.composite
def _line(draw: st.DrawFn, usable_only: bool) -> tuple[Document, int]:
    """A line and what it adds to debit minus credit, in cents."""
    account = draw(st.sampled_from(USABLE_ACCOUNTS if usable_only else ANY_ACCOUNTS))
    line: Document = {} if account is None else {"account": account}
    cents = draw(st.integers(1, 10_000_000))
    form = draw(st.sampled_from(["text", "decimal", "padded", "integer"]))
    sides = ["debit", "credit"] if usable_only else ["debit", "credit", "both", "neither"]
    side = draw(st.sampled_from(sides))
    net = 0
    if side in {"debit", "both"}:
        line["debit"] = _written(cents, form)
        net += cents
    if side == "credit":
        line["credit"] = _written(cents, form)
        net -= cents
    if side == "both":
        other = draw(st.integers(1, 10_000_000))
        line["credit"] = _written(other, form)
        net -= other
    auxiliary = draw(
        st.sampled_from(["own"] if usable_only else ["own", "own", "none", "other", "unknown"])
    )
    if auxiliary == "own" and account in AUXILIARY_OF:
        line["auxiliary"] = AUXILIARY_OF[account]
    elif auxiliary == "other":
        line["auxiliary"] = OTHER_AUXILIARY.get(account or "", "FEDF")
    elif auxiliary == "unknown":
        line["auxiliary"] = "NOBODY"
    if account == "606100" or draw(st.integers(0, 9)) == 0:
        line["analytics"] = draw(_allocations(cents, usable_only))
    line["label"] = draw(st.text(max_size=69) if usable_only else st.text(max_size=72))
    return line, net


@st.composite
def generated_entries(draw: st.DrawFn) -> Generated:
    """A well-formed entry over the folder: about half from usable parts, the rest anything."""
    usable_only = draw(st.booleans())
    raw: Document = {"id": draw(_ENTRY_IDS)}
    journal = draw(st.sampled_from(USABLE_JOURNALS if usable_only else ANY_JOURNALS))
    if journal is not None:
        raw["journal"] = journal
    dates = st.dates(*USABLE_DATES) if usable_only else st.none() | st.dates(*ANY_DATES)
    day = draw(dates)
    raw["date"] = day.isoformat() if day else None
    raw["reference"] = draw(st.text(max_size=13) if usable_only else st.text(max_size=15))
    raw["label"] = draw(st.text(max_size=69) if usable_only else st.text(max_size=72))
    drawn = draw(st.lists(_line(usable_only), min_size=1 if usable_only else 0, max_size=4))
    lines = [line for line, _ in drawn]
    net = sum(net for _, net in drawn)
    if net and (usable_only or draw(st.booleans())):
        side = "credit" if net > 0 else "debit"
        lines.append({"account": "512000", side: _written(abs(net), "text")})
    raw["lines"] = lines
    return Generated(usable_only, raw)


def _check(raw: Document, setup: FolderSetup) -> CheckResult:
    return check_entry(parse_entry(raw, 0), FolderIndex.of(setup))


def _order(finding: Finding) -> tuple[int, int]:
    rule = CATALOGUE[finding.code].order
    assert rule is not None
    return rule, finding.line or 0


@PROPERTIES
@given(generated=generated_entries())
def test_every_accepted_entry_balances_with_no_line_on_both_sides(
    folder_setup: FolderSetup, generated: Generated
) -> None:
    entry = parse_entry(generated.raw, 0)
    result = check_entry(entry, FolderIndex.of(folder_setup))

    if result.accepted:
        lines = entry.lines or []
        assert lines
        total_debit = sum((line.debit or Decimal(0) for line in lines), Decimal(0))
        total_credit = sum((line.credit or Decimal(0) for line in lines), Decimal(0))
        assert total_debit == total_credit
        assert not any(line.debit and line.credit for line in lines)


@PROPERTIES
@given(generated=generated_entries())
def test_an_entry_built_from_usable_parts_only_is_accepted(
    folder_setup: FolderSetup, generated: Generated
) -> None:
    result = _check(generated.raw, folder_setup)

    if generated.usable_only:
        assert result.as_dict()["findings"] == []


@PROPERTIES
@given(generated=generated_entries())
def test_findings_come_in_the_order_of_the_rules_then_entry_first_then_by_line(
    folder_setup: FolderSetup, generated: Generated
) -> None:
    result = _check(generated.raw, folder_setup)

    orders = [_order(finding) for finding in result.findings]
    assert orders == sorted(orders)
    if result.accepted:
        assert (result.status, result.code, result.message) == ("accepted", None, None)
    else:
        assert result.status == "rejected"
        assert result.code == result.findings[0].code
        assert result.message == result.findings[0].message


@PROPERTIES
@given(generated=generated_entries())
def test_the_check_gives_the_same_result_twice(
    folder_setup: FolderSetup, generated: Generated
) -> None:
    folder = FolderIndex.of(folder_setup)
    entry = parse_entry(generated.raw, 0)

    assert check_entry(entry, folder).as_dict() == check_entry(entry, folder).as_dict()


def _reordered(document: Document, order: Callable[[list[Any]], list[Any]]) -> Document:
    """The same setup with every list of it (sections included) put in another order."""
    reordered = copy.deepcopy(document)
    for key in ("fiscal_years", "journals", "accounts", "third_parties"):
        reordered[key] = order(reordered[key])
    reordered["analytics"]["axes"] = order(reordered["analytics"]["axes"])
    for axis in reordered["analytics"]["axes"]:
        axis["sections"] = order(axis["sections"])
    cursor = reordered["import_cursor"]
    cursor["locked_periods"] = order(cursor["locked_periods"])
    return reordered


@PROPERTIES
@given(generated=generated_entries(), data=st.data())
def test_the_check_does_not_depend_on_the_order_of_the_setups_lists(
    folder_setup: FolderSetup, generated: Generated, data: st.DataObject
) -> None:
    document = _as_document(folder_setup)
    reversed_setup = parse_setup(_reordered(document, lambda items: items[::-1]))
    shuffled_setup = parse_setup(
        _reordered(document, lambda items: data.draw(st.permutations(items)))
    )
    expected = _check(generated.raw, folder_setup).as_dict()

    assert _check(generated.raw, reversed_setup).as_dict() == expected
    assert _check(generated.raw, shuffled_setup).as_dict() == expected


@pytest.mark.parametrize(
    "code",
    [
        None,
        "object_reference",
        "value_truncated",
        "document_not_settled",
        "record_not_found",
        "fiscal_year_not_open",
        "journal_locked",
        "import_cursor_locked",
        "collective_account",
        "account_locked",
        "analytic_axis_missing",
        "analytic_allocation_incorrect",
    ],
)
def test_the_generated_entries_reach_acceptance_and_every_code(
    folder_setup: FolderSetup, code: str | None
) -> None:
    def shows(generated: Generated) -> bool:
        result = _check(generated.raw, folder_setup)
        if code is None:
            return result.accepted
        return any(finding.code == code for finding in result.findings)

    found = find(generated_entries(), shows, settings=settings(max_examples=2000, database=None))

    assert shows(found)


# Malformed entries


def _impossible_date(draw: st.DrawFn, raw: Document) -> None:
    raw["date"] = draw(st.sampled_from(["2025-13-01", "2025-02-30", "2026-00-10", "2026-04-31"]))


def _float_amount(draw: st.DrawFn, raw: Document) -> None:
    raw["lines"][0]["debit"] = draw(st.floats(min_value=0.01, max_value=1e6))


def _three_decimals(draw: st.DrawFn, raw: Document) -> None:
    thousandths = draw(st.integers(1, 10**9).filter(lambda n: n % 10 != 0))
    raw["lines"][0]["credit"] = str(Decimal(thousandths).scaleb(-3))


def _negative_amount(draw: st.DrawFn, raw: Document) -> None:
    raw["lines"][0]["debit"] = f"-{draw(st.integers(1, 10**6))}.00"


def _unknown_entry_field(draw: st.DrawFn, raw: Document) -> None:
    raw[draw(st.sampled_from(["jounral", "debt", "colour", "Date"]))] = "x"


def _unknown_line_field(draw: st.DrawFn, raw: Document) -> None:
    raw["lines"][0][draw(st.sampled_from(["debt", "acount", "amount", "Label"]))] = "1.00"


def _unknown_allocation_field(draw: st.DrawFn, raw: Document) -> None:
    field = draw(st.sampled_from(["sectoin", "share", "debit"]))
    raw["lines"][0]["analytics"] = [{"axis": "SITE", "section": "PARIS", field: "1.00"}]


def _lines_not_a_list(draw: st.DrawFn, raw: Document) -> None:
    raw["lines"] = draw(st.sampled_from(["none", 3, {"account": "512000"}]))


def _missing_id(draw: st.DrawFn, raw: Document) -> None:
    raw.pop("id", None)


def _id_not_text(draw: st.DrawFn, raw: Document) -> None:
    raw["id"] = draw(st.integers() | st.lists(st.text(), max_size=2))


def _account_not_text(draw: st.DrawFn, raw: Document) -> None:
    raw["lines"][0]["account"] = draw(st.integers(100000, 999999))


CORRUPTIONS = [
    _impossible_date,
    _float_amount,
    _three_decimals,
    _negative_amount,
    _unknown_entry_field,
    _unknown_line_field,
    _unknown_allocation_field,
    _lines_not_a_list,
    _missing_id,
    _id_not_text,
    _account_not_text,
]


@st.composite
def malformed_entries(draw: st.DrawFn) -> Document:
    raw = copy.deepcopy(draw(generated_entries()).raw)
    if not raw["lines"]:
        raw["lines"] = [{"account": "512000"}]
    for corrupt in draw(st.lists(st.sampled_from(CORRUPTIONS), min_size=1, max_size=3)):
        if isinstance(raw["lines"], list):
            corrupt(draw, raw)
    return raw


@PROPERTIES
@given(raw=malformed_entries(), position=st.integers(0, 50))
def test_a_malformed_entry_never_yields_an_entry(raw: Document, position: int) -> None:
    with pytest.raises(MalformedDocument) as refused:
        parse_entry(raw, position)
    assert refused.value.problems
    assert all(
        problem.path.startswith(f"entries[{position}]") for problem in refused.value.problems
    )

    reader = BatchReader()
    reader.top_level_keys(["entries"])
    for earlier in range(position):
        reader.entry({"id": f"earlier-{earlier}"})
    assert reader.entry(raw) is None
    with pytest.raises(MalformedDocument):
        reader.finish()


@PROPERTIES
@given(generated=generated_entries())
def test_a_well_formed_entry_reads_into_an_entry_with_its_id(generated: Generated) -> None:
    entry = parse_entry(generated.raw, 0)

    assert isinstance(entry, Entry)
    assert entry.id == generated.raw["id"]
