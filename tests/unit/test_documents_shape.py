"""Malformed documents (§4, §5.2): refused whole, every problem listed by its path."""

from __future__ import annotations

import copy
import warnings
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.domain.entries import BatchReader, Entry, parse_entry
from ledgerbridge.domain.malformed import MalformedDocument, Problem
from ledgerbridge.domain.setup import FolderSetup, parse_setup

Document = dict[str, Any]


def _entry_problems(raw: object, index: int = 0) -> list[Problem]:
    with pytest.raises(MalformedDocument) as refused:
        parse_entry(raw, index)
    return list(refused.value.problems)


def _setup_problems(raw: Document) -> list[Problem]:
    with pytest.raises(MalformedDocument) as refused:
        parse_setup(raw)
    return list(refused.value.problems)


def _paths(problems: list[Problem]) -> list[str]:
    return [problem.path for problem in problems]


def _read_batch(document: Document, expected_folder: str | None = None) -> list[Entry]:
    """Feeds a whole batch to a BatchReader the way the document reader does."""
    reader = BatchReader(expected_folder)
    reader.top_level_keys(document)
    reader.header({"folder": document["folder"]} if "folder" in document else {})
    entries = [reader.entry(raw) for raw in document.get("entries", [])]
    reader.finish()
    return [entry for entry in entries if entry is not None]


def _batch_problems(document: Document, expected_folder: str | None = None) -> list[str]:
    with pytest.raises(MalformedDocument) as refused:
        _read_batch(document, expected_folder)
    return [str(problem) for problem in refused.value.problems]


# Entries


def test_a_well_formed_entry_is_read_with_decimal_amounts_and_dates(edf_invoice: Document) -> None:
    entry = parse_entry(edf_invoice, 0)

    assert entry.id == "inv-2026-0042"
    assert entry.date == date(2026, 3, 14)
    assert entry.lines is not None
    assert entry.lines[0].debit == Decimal("100.00")
    assert entry.lines[2].credit == Decimal("120.00")
    assert entry.lines[0].analytics is not None
    assert entry.lines[0].analytics[0].amount == Decimal("100.00")


def test_an_amount_with_3_decimals_is_refused_by_its_path() -> None:
    raw = {"id": "a", "lines": [{"debit": "1.00"}, {"debit": "1.005"}]}

    problems = _entry_problems(raw, 3)

    assert [str(problem) for problem in problems] == [
        "entries[3].lines[1].debit: 3 decimals, at most 2 allowed"
    ]


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("1.500", Decimal("1.50")),
        ("1.5", Decimal("1.50")),
        ("120", Decimal("120.00")),
        (120, Decimal("120.00")),
        (Decimal("1.500"), Decimal("1.50")),  # a JSON number read as a decimal
        ("0.01", Decimal("0.01")),
    ],
)
def test_an_amount_with_at_most_2_decimals_once_trailing_zeros_are_dropped_is_read(
    written: object, read: Decimal
) -> None:
    entry = parse_entry({"id": "a", "lines": [{"credit": written}]}, 0)

    assert entry.lines is not None
    assert entry.lines[0].credit == read


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("1.005", "3 decimals, at most 2 allowed"),
        (Decimal("0.001"), "3 decimals, at most 2 allowed"),
        ("12,50", "not a number"),
        ("douze", "not a number"),
        ("NaN", "not a number"),
        ("-5.00", "negative"),
        (-5, "negative"),
        (1.5, "1.5"),  # a float: money never passes through one
        (True, "True"),
        ([], "a decimal number"),
    ],
)
def test_an_amount_that_is_not_a_positive_decimal_with_2_places_is_refused(
    written: object, says: str
) -> None:
    problems = _entry_problems({"id": "a", "lines": [{"account": "512000", "debit": written}]})

    assert _paths(problems) == ["entries[0].lines[0].debit"]
    assert says in problems[0].message


@pytest.mark.parametrize("where", ["debit", "credit", "allocation"])
def test_a_float_amount_is_refused_wherever_it_is(where: str) -> None:
    line: Document = {"account": "606100", "debit": "10.00"}
    if where == "allocation":
        line["analytics"] = [{"axis": "SITE", "section": "PARIS", "amount": 10.0}]
        path = "entries[0].lines[0].analytics[0].amount"
    else:
        line[where] = 10.0
        path = f"entries[0].lines[0].{where}"

    assert _paths(_entry_problems({"id": "a", "lines": [line]})) == [path]


def test_lines_that_are_not_a_list_are_a_wrong_type() -> None:
    problems = _entry_problems({"id": "a", "lines": "none"})

    assert _paths(problems) == ["entries[0].lines"]
    assert "expected a list" in problems[0].message


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"id": "a", "journal": 12}, "entries[0].journal"),
        ({"id": "a", "lines": [{"account": 401000}]}, "entries[0].lines[0].account"),
        ({"id": "a", "lines": ["401000"]}, "entries[0].lines[0]"),
        ({"id": "a", "lines": [{"analytics": {"axis": "SITE"}}]}, "entries[0].lines[0].analytics"),
        ({"id": 42}, "entries[0].id"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_by_its_path(raw: Document, path: str) -> None:
    assert _paths(_entry_problems(raw)) == [path]


def test_an_empty_id_or_code_and_a_limit_of_zero_are_said_in_plain_words() -> None:
    assert [str(problem) for problem in _entry_problems({"id": ""})] == [
        "entries[0].id: must not be empty"
    ]
    setup = {
        "folder": "ACME",
        "journals": [{"code": "", "kind": "purchase"}],
        "limits": {"label": 0},
    }
    assert sorted(str(problem) for problem in _setup_problems(setup)) == [
        "journals[0].code: must not be empty",
        "limits.label: must be greater than 0, got the number 0",
    ]


def test_an_entry_that_is_not_an_object_is_refused() -> None:
    assert _paths(_entry_problems("inv-1", 5)) == ["entries[5]"]


@pytest.mark.parametrize("written", ["2025-13-01", "2025-02-29", "2026-04-31"])
def test_an_impossible_date_is_refused(written: str) -> None:
    problems = _entry_problems({"id": "a", "date": written})

    assert _paths(problems) == ["entries[0].date"]
    assert written in problems[0].message


@pytest.mark.parametrize("written", ["14/03/2026", "2026-3-14", "20260314", 20260314])
def test_a_date_not_written_yyyy_mm_dd_is_refused(written: object) -> None:
    assert _paths(_entry_problems({"id": "a", "date": written})) == ["entries[0].date"]


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"id": "a", "jounral": "ACH"}, "entries[0].jounral"),
        ({"id": "a", "lines": [{"account": "512000", "debt": "1.00"}]}, "entries[0].lines[0].debt"),
        (
            {"id": "a", "lines": [{"analytics": [{"axis": "SITE", "sectoin": "PARIS"}]}]},
            "entries[0].lines[0].analytics[0].sectoin",
        ),
    ],
)
def test_an_unknown_field_is_caught_at_any_level(raw: Document, path: str) -> None:
    problems = _entry_problems(raw)

    assert [str(problem) for problem in problems] == [f"{path}: unknown field"]


def test_an_entry_without_id_is_malformed() -> None:
    problems = _entry_problems({"journal": "ACH", "date": "2026-03-14"}, 2)

    assert [str(problem) for problem in problems] == ["entries[2].id: required field missing"]


def test_an_entry_with_an_empty_id_is_malformed() -> None:
    assert _paths(_entry_problems({"id": ""})) == ["entries[0].id"]


def test_every_problem_of_an_entry_is_listed() -> None:
    raw = {
        "id": "a",
        "date": "2025-13-01",
        "colour": "red",
        "lines": [
            {"account": "512000", "debit": "1.005", "credit": -1},
            {"account": "706000", "debt": "1.00", "analytics": [{"amount": 2.5}]},
        ],
    }

    assert sorted(_paths(_entry_problems(raw, 7))) == sorted(
        [
            "entries[7].date",
            "entries[7].colour",
            "entries[7].lines[0].debit",
            "entries[7].lines[0].credit",
            "entries[7].lines[1].debt",
            "entries[7].lines[1].analytics[0].amount",
        ]
    )


def test_absent_business_values_are_not_malformed() -> None:
    entry = parse_entry(
        {
            "id": "a",
            "journal": None,
            "date": "",
            "label": "",
            "lines": [{"account": "", "debit": "", "credit": None, "analytics": []}],
        },
        0,
    )

    assert entry.journal is None
    assert entry.date is None
    assert entry.lines is not None
    assert entry.lines[0].debit is None
    assert entry.lines[0].credit is None


# Batches


def test_a_well_formed_batch_gives_its_entries_in_order(edf_invoice: Document) -> None:
    second = copy.deepcopy(edf_invoice) | {"id": "inv-2026-0043"}

    entries = _read_batch({"folder": "ACME", "entries": [edf_invoice, second]}, "ACME")

    assert [entry.id for entry in entries] == ["inv-2026-0042", "inv-2026-0043"]


def test_two_entries_with_the_same_id_make_the_batch_malformed(edf_invoice: Document) -> None:
    other = {"id": "other", "journal": "BQ"}
    document = {"folder": "ACME", "entries": [edf_invoice, other, copy.deepcopy(edf_invoice)]}

    problems = _batch_problems(document)

    assert len(problems) == 1
    assert problems[0].startswith("entries[2].id: ")
    assert "inv-2026-0042" in problems[0]
    assert "entries[0]" in problems[0]


def test_a_duplicate_id_is_caught_even_when_the_entry_is_also_malformed(
    edf_invoice: Document,
) -> None:
    malformed_twin = {"id": "inv-2026-0042", "debt": "1.00"}

    problems = _batch_problems({"entries": [edf_invoice, malformed_twin]})

    assert sorted(problems) == [
        "entries[1].debt: unknown field",
        "entries[1].id: duplicate id 'inv-2026-0042' (also entries[0])",
    ]


def test_a_folder_other_than_the_one_named_on_the_command_line_makes_the_batch_malformed(
    edf_invoice: Document,
) -> None:
    problems = _batch_problems({"folder": "BETA", "entries": [edf_invoice]}, "ACME")

    assert len(problems) == 1
    assert problems[0].startswith("folder: ")
    assert "BETA" in problems[0]
    assert "ACME" in problems[0]


def test_a_batch_for_the_named_folder_or_naming_none_is_read(edf_invoice: Document) -> None:
    assert _read_batch({"folder": "ACME", "entries": [edf_invoice]}, "ACME")
    assert _read_batch({"entries": [edf_invoice]}, "ACME")


def test_an_unknown_top_level_key_makes_the_batch_malformed(edf_invoice: Document) -> None:
    problems = _batch_problems({"folder": "ACME", "entry": [], "entries": [edf_invoice]})

    assert problems == ["entry: unknown field"]


def test_a_batch_without_entries_is_malformed() -> None:
    assert _batch_problems({"folder": "ACME"}) == ["entries: required field missing"]


def test_a_folder_that_is_not_text_is_malformed(edf_invoice: Document) -> None:
    problems = _batch_problems({"folder": 42, "entries": [edf_invoice]})

    assert len(problems) == 1
    assert problems[0].startswith("folder: ")


def test_a_malformed_entry_is_not_given_back_but_its_problems_are_kept(
    edf_invoice: Document,
) -> None:
    reader = BatchReader()
    reader.top_level_keys(["entries"])

    assert reader.entry({"id": "bad", "lines": "none"}) is None
    assert reader.entry(edf_invoice) is not None
    assert _paths(reader.problems) == ["entries[0].lines"]


def test_every_problem_of_a_batch_is_listed_by_its_path(edf_invoice: Document) -> None:
    document = {
        "folder": "BETA",
        "entries": [
            {"id": "a", "lines": [{"account": "512000", "debit": "1.005"}]},
            edf_invoice,
            {"journal": "ACH"},
            {"id": "b", "date": "2025-13-01"},
            {"id": "a", "lines": [{"account": "512000", "debt": "1.00"}]},
        ],
        "extra": True,
    }

    with pytest.raises(MalformedDocument) as refused:
        _read_batch(document, "ACME")

    assert sorted(_paths(list(refused.value.problems))) == sorted(
        [
            "extra",
            "folder",
            "entries[0].lines[0].debit",
            "entries[2].id",
            "entries[3].date",
            "entries[4].lines[0].debt",
            "entries[4].id",
        ]
    )
    summary = str(refused.value)
    assert "7 problems" in summary
    assert "entries[0].lines[0].debit: 3 decimals, at most 2 allowed" in summary


# Folder setups


def test_the_setup_of_the_spec_is_read_with_its_defaults() -> None:
    setup = parse_setup(
        {
            "folder": "ACME",
            "fiscal_years": [{"code": "2026", "start": "2026-01-01", "end": "2026-12-31"}],
            "journals": [{"code": "ACH", "kind": "purchase"}],
            "accounts": [{"number": "401000"}],
        }
    )

    assert setup.fiscal_years[0].status == "open"
    assert setup.journals[0].status == "open"
    account = setup.accounts[0]
    assert (account.collective, account.locked, account.analytics) == (False, False, False)
    assert setup.analytics.allow_entries_without_analytics is False
    assert (setup.limits.label, setup.limits.reference) == (69, 13)


def test_a_setup_written_back_as_a_document_reads_as_the_same_setup_without_warnings(
    setup_document: Document,
) -> None:
    setup = parse_setup(setup_document)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        document: Document = setup.to_document()

    assert document["fiscal_years"][0]["start"] == "2024-01-01"
    assert document["import_cursor"]["locked_periods"][0] == {
        "from": "2025-01-01",
        "to": "2025-06-30",
    }
    assert parse_setup(document) == setup


def test_a_full_setup_is_read(setup_document: Document) -> None:
    setup = parse_setup(setup_document)

    assert isinstance(setup, FolderSetup)
    assert setup.import_cursor.locked_periods[0].start == date(2025, 1, 1)
    assert setup.import_cursor.locked_periods[0].end == date(2025, 6, 30)


@pytest.mark.parametrize(
    ("section", "key", "path"),
    [
        ("fiscal_years", "code", "fiscal_years[3].code"),
        ("journals", "code", "journals[5].code"),
        ("accounts", "number", "accounts[8].number"),
        ("third_parties", "code", "third_parties[2].code"),
    ],
)
def test_a_duplicate_code_makes_the_setup_malformed(
    setup_document: Document, section: str, key: str, path: str
) -> None:
    twin = copy.deepcopy(setup_document[section][0])
    if section == "fiscal_years":  # a twin code on its own dates, so only the code repeats
        twin |= {"start": "2030-01-01", "end": "2030-12-31"}
    setup_document[section].append(twin)

    problems = _setup_problems(setup_document)

    assert _paths(problems) == [path]
    assert str(twin[key]) in problems[0].message


def test_a_duplicate_analytic_axis_or_section_makes_the_setup_malformed(
    setup_document: Document,
) -> None:
    setup_document["analytics"]["axes"] = [
        {"code": "SITE", "sections": ["PARIS", "LYON", "PARIS"]},
        {"code": "SITE", "sections": []},
    ]

    assert sorted(_paths(_setup_problems(setup_document))) == [
        "analytics.axes[0].sections[2]",
        "analytics.axes[1].code",
    ]


def test_a_fiscal_year_ending_before_it_starts_makes_the_setup_malformed(
    setup_document: Document,
) -> None:
    setup_document["fiscal_years"] = [
        {"code": "2026", "start": "2026-12-31", "end": "2026-01-01"},
    ]

    problems = _setup_problems(setup_document)

    assert _paths(problems) == ["fiscal_years[0].end"]
    assert "2026-01-01" in problems[0].message
    assert "2026-12-31" in problems[0].message


def test_overlapping_fiscal_years_make_the_setup_malformed(setup_document: Document) -> None:
    setup_document["fiscal_years"].append(
        {"code": "2026B", "start": "2026-12-31", "end": "2027-12-30"}
    )

    problems = _setup_problems(setup_document)

    assert _paths(problems) == ["fiscal_years[3].start"]
    assert "2026B" in problems[0].message
    assert "2026" in problems[0].message


def test_fiscal_years_meeting_end_to_start_do_not_overlap(setup_document: Document) -> None:
    setup_document["fiscal_years"].append(
        {"code": "2027", "start": "2027-01-01", "end": "2027-12-31"}
    )

    assert len(parse_setup(setup_document).fiscal_years) == 4


def test_a_third_party_on_an_unknown_account_makes_the_setup_malformed(
    setup_document: Document,
) -> None:
    setup_document["third_parties"].append({"code": "FORANGE", "account": "408000"})

    problems = _setup_problems(setup_document)

    assert _paths(problems) == ["third_parties[2].account"]
    assert "408000" in problems[0].message


@pytest.mark.parametrize("siren", ["55210055", "5521005540", "55210055A", "552 100 554"])
def test_a_siren_that_is_not_9_digits_makes_the_setup_malformed(
    setup_document: Document, siren: str
) -> None:
    setup_document["siren"] = siren

    assert _paths(_setup_problems(setup_document)) == ["siren"]


@pytest.mark.parametrize(
    ("limits", "path"),
    [
        ({"label": 0}, "limits.label"),
        ({"reference": -1}, "limits.reference"),
        ({"label": "69"}, "limits.label"),
        ({"label": 1.5}, "limits.label"),
    ],
)
def test_limits_that_are_not_positive_whole_numbers_make_the_setup_malformed(
    setup_document: Document, limits: Document, path: str
) -> None:
    setup_document["limits"] = limits

    assert _paths(_setup_problems(setup_document)) == [path]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (("accounts", 0, "lettrable", True), "accounts[0].lettrable"),
        (("accounts", 0, "collective", "yes"), "accounts[0].collective"),
        (("journals", 0, "status", "closed"), "journals[0].status"),
        (("fiscal_years", 0, "status", "archived"), "fiscal_years[0].status"),
        (("fiscal_years", 0, "start", "2024-02-30"), "fiscal_years[0].start"),
    ],
)
def test_an_unknown_flag_or_a_wrong_value_makes_the_setup_malformed(
    setup_document: Document, change: tuple[str, int, str, object], path: str
) -> None:
    section, index, key, value = change
    setup_document[section][index][key] = value

    assert _paths(_setup_problems(setup_document)) == [path]


def test_an_unknown_field_of_the_setup_is_caught(setup_document: Document) -> None:
    setup_document["import_cursor"]["locked_periods"][0]["until"] = "2025-06-30"
    setup_document["fiscal_year"] = []

    assert sorted(_paths(_setup_problems(setup_document))) == [
        "fiscal_year",
        "import_cursor.locked_periods[0].until",
    ]


def test_a_locked_period_ending_before_it_starts_makes_the_setup_malformed(
    setup_document: Document,
) -> None:
    setup_document["import_cursor"] = {
        "locked_periods": [{"from": "2025-06-30", "to": "2025-01-01"}]
    }

    assert _paths(_setup_problems(setup_document)) == ["import_cursor.locked_periods[0].to"]


def test_a_setup_without_folder_is_malformed(setup_document: Document) -> None:
    del setup_document["folder"]

    assert _paths(_setup_problems(setup_document)) == ["folder"]


def test_every_consistency_problem_of_a_setup_is_listed(setup_document: Document) -> None:
    setup_document["siren"] = "123"
    setup_document["journals"].append({"code": "ACH", "kind": "purchase"})
    setup_document["fiscal_years"].append(
        {"code": "2027", "start": "2027-12-31", "end": "2027-01-01"}
    )
    setup_document["third_parties"].append({"code": "FORANGE", "account": "408000"})

    assert sorted(_paths(_setup_problems(setup_document))) == [
        "fiscal_years[3].end",
        "journals[5].code",
        "siren",
        "third_parties[2].account",
    ]


def test_every_problem_of_a_setup_is_listed_type_errors_and_inconsistencies_together(
    setup_document: Document,
) -> None:
    setup_document["accounts"][0]["lettrable"] = True  # an unknown flag
    setup_document["limits"] = {"label": 0}
    setup_document["siren"] = "123"  # found only once the types are right
    setup_document["journals"].append({"code": "ACH", "kind": "purchase"})

    assert sorted(_paths(_setup_problems(setup_document))) == [
        "accounts[0].lettrable",
        "journals[5].code",
        "limits.label",
        "siren",
    ]
