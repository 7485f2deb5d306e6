"""A malformed document is refused whole with every problem listed by its path (§4), in the
first refusal: what the schema cannot read, what the parts it could read get wrong together,
and every key given twice; each said in the project's words."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from tests.unit.conftest import ACME_SETUP

from ledgerbridge.documents import load_document, read_document, read_setup, stream_entries
from ledgerbridge.domain import schema
from ledgerbridge.domain.entries import BatchReader, parse_entry
from ledgerbridge.domain.malformed import MalformedDocument, Problem, join_path
from ledgerbridge.domain.setup import parse_setup

Document = dict[str, Any]


def _setup_problems(raw: Document) -> list[str]:
    with pytest.raises(MalformedDocument) as refused:
        parse_setup(raw)
    return [str(problem) for problem in refused.value.problems]


def _file_problems(path: Path) -> list[str]:
    with pytest.raises(MalformedDocument) as refused:
        read_setup(path)
    return [str(problem) for problem in refused.value.problems]


def _batch_problems(path: Path) -> list[str]:
    reader = BatchReader(expected_folder="ACME")
    list(stream_entries(path, reader))
    with pytest.raises(MalformedDocument) as refused:
        reader.finish(source=str(path))
    return [str(problem) for problem in refused.value.problems]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# A setup: the consistency of what could be read, whatever else is wrong


def test_a_fiscal_year_ending_before_it_starts_is_listed_with_a_wrong_status(
    tmp_path: Path,
) -> None:
    setup = _write(
        tmp_path / "setup.yaml",
        """\
folder: TWO
name: Two
fiscal_years:
  - {code: F1, start: 2026-01-01, end: 2026-12-31, status: opened}
  - {code: F2, start: 2027-12-31, end: 2027-01-01}
journals:
  - {code: J, kind: purchase, name: J}
  - {code: J, kind: sales, name: J2}
accounts:
  - {number: "401000", name: x}
third_parties:
  - {code: T, name: T, account: "999999"}
""",
    )

    assert _file_problems(setup) == [
        "fiscal_years[0].status: must be one of: open, closed (got 'opened')",
        "journals[1].code: duplicate code 'J' (also journals[0])",
        "fiscal_years[1].end: ends on 2027-01-01, before it starts on 2027-12-31",
        "third_parties[0].account: account '999999' is not in the folder's accounts",
    ]


def test_every_problem_of_a_setup_wrong_everywhere_is_listed_in_the_first_refusal(
    tmp_path: Path,
) -> None:
    setup = _write(
        tmp_path / "setup.yaml",
        """\
folder: BAD
nme: typo
fiscal_years:
  - {code: X, start: 2026-01-01, end: 2025-12-31, status: opened}
  - {code: Y, start: 2026-02-30, end: 2026-12-31}
journals:
  - {code: J, kind: purchase, name: J, status: closed}
  - {code: J, kind: sales, name: J2}
accounts:
  - {number: 401, name: x, collective: "yes"}
third_parties:
  - {code: T, name: T, account: "999999"}
analytics:
  axes: [{code: A, name: A, sections: "S1"}]
import_cursor: {locked_periods: [{from: 2026-05-01, to: 2026-04-01}]}
limits: {label: -1, reference: "x"}
""",
    )

    problems = _file_problems(setup)

    # What follows from the first two or from the account's number is not said: the year
    # whose start is impossible is in no overlap, and the third party's account may be the
    # account whose number could not be read.
    assert sorted(problems) == sorted(
        [
            "fiscal_years[0].status: must be one of: open, closed (got 'opened')",
            "fiscal_years[1].start: impossible date '2026-02-30': no such day in the calendar",
            "journals[0].status: must be one of: open, locked, read_only (got 'closed')",
            "accounts[0].number: expected a text string, got the number 401: write it in quotes",
            "accounts[0].collective: expected true or false, got the text 'yes'",
            "analytics.axes[0].sections: expected a list, got the text 'S1'",
            "limits.label: must be greater than 0, got the number -1",
            "limits.reference: expected a whole number, got the text 'x'",
            "nme: unknown field",
            "journals[1].code: duplicate code 'J' (also journals[0])",
            "fiscal_years[0].end: ends on 2025-12-31, before it starts on 2026-01-01",
            "import_cursor.locked_periods[0].to: ends on 2026-04-01, before it starts on 2026-05-01",
        ]
    )


# Each consistency problem, and a wrong value in the same part of the setup that it does
# not depend on: the wrong value is listed, and so is the consistency problem.
INCONSISTENCIES: list[tuple[str, Any, str]] = [
    (
        "fiscal_years",
        lambda d: d["fiscal_years"].append(
            {"code": "2030", "start": "2030-12-31", "end": "2030-01-01"}
        ),
        "fiscal_years[3].end",
    ),
    (
        "fiscal_years",
        lambda d: d["fiscal_years"].append(
            {"code": "2026B", "start": "2026-12-31", "end": "2027-12-30"}
        ),
        "fiscal_years[3].start",
    ),
    (
        "fiscal_years",
        lambda d: d["fiscal_years"].append(
            {"code": "2024", "start": "2030-01-01", "end": "2030-12-31"}
        ),
        "fiscal_years[3].code",
    ),
    ("journals", lambda d: d["journals"].append({"code": "ACH", "kind": "x"}), "journals[5].code"),
    ("accounts", lambda d: d["accounts"].append({"number": "401000"}), "accounts[8].number"),
    (
        "third_parties",
        lambda d: d["third_parties"].append({"code": "FEDF", "account": "401000"}),
        "third_parties[2].code",
    ),
    (
        "third_parties",
        lambda d: d["third_parties"].append({"code": "X", "account": "408000"}),
        "third_parties[2].account",
    ),
    (
        "analytics",
        lambda d: d["analytics"]["axes"].append({"code": "SITE"}),
        "analytics.axes[1].code",
    ),
    (
        "analytics",
        lambda d: d["analytics"]["axes"][0]["sections"].append("LYON"),
        "analytics.axes[0].sections[2]",
    ),
    (
        "import_cursor",
        lambda d: d["import_cursor"]["locked_periods"].append(
            {"from": "2026-06-30", "to": "2026-01-01"}
        ),
        "import_cursor.locked_periods[1].to",
    ),
]
WRONG_VALUES: dict[str, list[tuple[tuple[Any, ...], object]]] = {
    "fiscal_years": [(("fiscal_years", 0, "status"), "opened"), (("fiscal_years", 1, "x"), 1)],
    "journals": [(("journals", 0, "status"), "closed"), (("journals", 1, "name"), 5)],
    "accounts": [(("accounts", 0, "collective"), "yes"), (("accounts", 2, "locked"), None)],
    "third_parties": [(("third_parties", 0, "name"), []), (("third_parties", 1, "typo"), "")],
    "analytics": [
        (("analytics", "allow_entries_without_analytics"), "no"),
        (("analytics", "axes", 0, "name"), 3),
    ],
    "import_cursor": [(("import_cursor", "locked_periods", 0, "until"), "2025-07-01")],
}


def _set(document: Document, location: tuple[Any, ...], value: object) -> str:
    holder: Any = document
    for part in location[:-1]:
        holder = holder.setdefault(part, {}) if isinstance(part, str) else holder[part]
    holder[location[-1]] = value
    return join_path("", location)


@pytest.mark.parametrize(
    ("section", "inconsistency", "path"),
    INCONSISTENCIES,
    ids=[path for _, _, path in INCONSISTENCIES],
)
@pytest.mark.parametrize("which", [0, 1])
def test_a_consistency_problem_is_listed_with_a_wrong_value_of_the_same_section(
    setup_document: Document, section: str, inconsistency: Any, path: str, which: int
) -> None:
    inconsistency(setup_document)
    wrongs = WRONG_VALUES[section]
    location, value = wrongs[which % len(wrongs)]
    wrong = _set(setup_document, location, value)

    paths = [problem.split(": ", 1)[0] for problem in _setup_problems(setup_document)]

    assert sorted(paths) == sorted([wrong, path])


@pytest.mark.parametrize(
    ("changes", "reported"),
    [
        # An impossible start: the year is neither reversed nor overlapping.
        (
            [
                (("fiscal_years", 2, "start"), "2026-02-30"),
                (("fiscal_years", 2, "end"), "2025-06-30"),
            ],
            ["fiscal_years[2].start"],
        ),
        # A missing end, a year that is not an object: no dates to compare.
        ([(("fiscal_years", 1, "end"), None)], ["fiscal_years[1].end"]),
        ([(("fiscal_years", 1), "2025")], ["fiscal_years[1]"]),
        # Two codes that cannot be read are not the same code.
        (
            [(("journals", 0, "code"), 1), (("journals", 1, "code"), 1)],
            ["journals[0].code", "journals[1].code"],
        ),
        # The account a third party names may be the one whose number could not be read.
        (
            [(("accounts", 0, "number"), 401000), (("third_parties", 0, "account"), "408000")],
            ["accounts[0].number"],
        ),
        ([(("accounts",), "401000")], ["accounts"]),
        (
            [(("import_cursor", "locked_periods", 0, "to"), "2025-06-31")],
            ["import_cursor.locked_periods[0].to"],
        ),
        (
            [(("analytics", "axes", 0, "sections"), ["", ""])],
            ["analytics.axes[0].sections[0]", "analytics.axes[0].sections[1]"],
        ),
    ],
)
def test_nothing_that_follows_from_a_value_already_reported_is_said(
    setup_document: Document, changes: list[tuple[tuple[Any, ...], object]], reported: list[str]
) -> None:
    for location, value in changes:
        _set(setup_document, location, value)

    paths = [problem.split(": ", 1)[0] for problem in _setup_problems(setup_document)]

    assert paths == reported


def test_a_fiscal_year_whose_code_cannot_be_read_is_named_by_its_path_when_it_overlaps(
    setup_document: Document,
) -> None:
    setup_document["fiscal_years"].append({"code": "", "start": "2026-06-01", "end": "2027-05-31"})

    assert _setup_problems(setup_document) == [
        "fiscal_years[3].code: must not be empty",
        "fiscal_years[3].start: fiscal year fiscal_years[3] starts on 2026-06-01, inside fiscal"
        " year 2026 (2026-01-01 to 2026-12-31); fiscal years cannot overlap",
    ]


# Values no consistency check reads, and how each can be wrong.
INERT: list[tuple[tuple[Any, ...], object]] = [
    (("name",), 5),
    (("fiscal_years", 0, "status"), "opened"),
    (("fiscal_years", 1, "note"), "x"),
    (("journals", 0, "status"), "closed"),
    (("journals", 2, "kind"), ""),
    (("journals", 3, "name"), None),
    (("accounts", 0, "collective"), "yes"),
    (("accounts", 5, "analytics"), 1),
    (("third_parties", 1, "name"), []),
    (("analytics", "allow_entries_without_analytics"), "no"),
    (("analytics", "axes", 0, "name"), {}),
    (("limits", "label"), 0),
    (("limits", "reference"), "13"),
    (("extra",), True),
]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    inconsistencies=st.lists(st.sampled_from(INCONSISTENCIES), min_size=1, max_size=3),
    wrongs=st.lists(st.sampled_from(INERT), min_size=1, max_size=4),
)
def test_a_wrong_value_never_hides_a_consistency_problem_it_has_no_part_in(
    inconsistencies: list[tuple[str, Any, str]], wrongs: list[tuple[tuple[Any, ...], object]]
) -> None:
    consistent: Document = copy.deepcopy(ACME_SETUP)
    for _, inconsistency, _ in inconsistencies:
        inconsistency(consistent)
    expected = set(_setup_problems(consistent))
    wrong = copy.deepcopy(consistent)
    for location, value in wrongs:
        _set(wrong, location, value)

    assert expected <= set(_setup_problems(wrong))


# Keys given twice


def test_a_key_given_twice_in_a_yaml_setup_is_listed_with_the_other_problems(
    tmp_path: Path,
) -> None:
    setup = _write(
        tmp_path / "setup.yml",
        """\
folder: ACME
folder: ACME
fiscal_years:
  - code: "2026"
    code: "2027"
    start: 2026-01-01
    end: 2026-12-31
    status: opened
journals:
  - {code: ACH, kind: purchase, name: Achats, name: Achats}
  - {code: ACH, kind: purchase}
""",
    )

    assert _file_problems(setup) == [
        "folder: given twice",
        "fiscal_years[0].code: given twice",
        "journals[0].name: given twice",
        "fiscal_years[0].status: must be one of: open, closed (got 'opened')",
        "journals[1].code: duplicate code 'ACH' (also journals[0])",
    ]


def test_a_key_given_twice_in_a_json_setup_is_listed_with_the_other_problems(
    tmp_path: Path,
) -> None:
    setup = _write(
        tmp_path / "setup.json",
        '{"folder": "ACME", "accounts": [{"number": "401000"},'
        ' {"number": "411000", "collective": true, "collective": false}],'
        ' "limits": {"label": 0}, "folder": "ACME"}',
    )

    assert _file_problems(setup) == [
        "folder: given twice",
        "accounts[1].collective: given twice",
        "limits.label: must be greater than 0, got the number 0",
    ]


def test_a_setup_otherwise_right_is_refused_for_a_key_given_twice(tmp_path: Path) -> None:
    document = copy.deepcopy(ACME_SETUP)
    text = json.dumps(document).replace('"name": "ACME SAS"', '"name": "ACME", "name": "ACME SAS"')
    setup = _write(tmp_path / "setup.json", text)

    assert _file_problems(setup) == ["name: given twice"]


def test_keys_given_twice_in_a_yaml_batch_are_listed_with_the_entries_problems(
    tmp_path: Path,
) -> None:
    batch = _write(
        tmp_path / "batch.yaml",
        """\
folder: ACME
entries:
  - id: a
    lines:
      - {account: "625100", debit: 5, debit: 7}
  - id: b
    date: 2026-13-01
folder: ACME
""",
    )

    assert _batch_problems(batch) == [
        "entries[0].lines[0].debit: given twice",
        "folder: given twice",
        "entries[1].date: impossible date '2026-13-01': no such day in the calendar",
    ]


def test_a_yaml_merge_key_overridden_is_not_a_key_given_twice(tmp_path: Path) -> None:
    setup = _write(
        tmp_path / "setup.yaml",
        """\
folder: ACME
journals:
  - &purchases {code: ACH, kind: purchase, name: Achats}
  - <<: *purchases
    code: HA
    name: Achats (ancien)
""",
    )

    assert [journal.code for journal in read_setup(setup).journals] == ["ACH", "HA"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("patch.yaml", "lines:\n  - {account: '401000', account: '411000'}\n"),
        ("patch.json", '{"lines": [{"account": "401000", "account": "411000"}]}'),
    ],
)
def test_a_patch_with_a_key_given_twice_is_refused_as_it_is_read(
    tmp_path: Path, name: str, text: str
) -> None:
    patch = _write(tmp_path / name, text)

    with pytest.raises(MalformedDocument) as refused:
        load_document(patch)

    assert [str(problem) for problem in refused.value.problems] == ["lines[0].account: given twice"]


def test_a_document_read_by_any_parser_lists_its_keys_given_twice_first(tmp_path: Path) -> None:
    reference = _write(
        tmp_path / "reference.yaml", "accounts:\n  - {number: '401000', number: 401000}\n"
    )

    def parse(raw: Any) -> object:
        raise MalformedDocument([Problem("accounts[0].number", "wrong")], source="ref")

    with pytest.raises(MalformedDocument) as refused:
        read_document(reference, parse)

    assert refused.value.source == "ref"
    assert [str(problem) for problem in refused.value.problems] == [
        "accounts[0].number: given twice",
        "accounts[0].number: wrong",
    ]


# Enumerated values, said in the project's words


@pytest.mark.parametrize(
    ("location", "value", "problem"),
    [
        (
            ("fiscal_years", 0, "status"),
            "opened",
            "fiscal_years[0].status: must be one of: open, closed (got 'opened')",
        ),
        (
            ("journals", 1, "status"),
            "closed",
            "journals[1].status: must be one of: open, locked, read_only (got 'closed')",
        ),
        (
            ("journals", 1, "status"),
            None,
            "journals[1].status: must be one of: open, locked, read_only (got null)",
        ),
        (
            ("fiscal_years", 2, "status"),
            1,
            "fiscal_years[2].status: must be one of: open, closed (got 1)",
        ),
    ],
)
def test_a_value_outside_an_enumeration_names_the_values_allowed(
    setup_document: Document, location: tuple[Any, ...], value: object, problem: str
) -> None:
    _set(setup_document, location, value)

    assert _setup_problems(setup_document) == [problem]


def _enumerated_fields(
    shape: type[BaseModel], document: Any, location: tuple[Any, ...] = ()
) -> list[tuple[tuple[Any, ...], tuple[object, ...]]]:
    """Every Literal field of `shape` that `document` reaches (first item of each list)."""
    found = []
    for name, info in shape.model_fields.items():
        key = info.alias or name
        kind = info.annotation
        if get_origin(kind) in (Union, UnionType):  # X | None
            kind = next(arg for arg in get_args(kind) if arg is not type(None))
        if get_origin(kind) is Literal:
            found.append(((*location, key), get_args(kind)))
        elif isinstance(document, dict) and key in document:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found += _enumerated_fields(kind, document[key], (*location, key))
            elif get_origin(kind) is list and document[key]:
                item = get_args(kind)[0]
                if isinstance(item, type) and issubclass(item, BaseModel):
                    found += _enumerated_fields(item, document[key][0], (*location, key, 0))
    return found


def test_every_enumerated_field_of_a_setup_or_an_entry_names_its_values_when_wrong(
    setup_document: Document, edf_invoice: Document
) -> None:
    cases: list[tuple[type[BaseModel], Document, Callable[[Any], object]]] = [
        (schema.FolderSetupShape, setup_document, parse_setup),
        (schema.EntryShape, edf_invoice, parse_entry),
    ]
    checked = 0
    for shape, document, parse in cases:
        for location, allowed in _enumerated_fields(shape, document):
            wrong = copy.deepcopy(document)
            path = _set(wrong, location, "nonsense")
            with pytest.raises(MalformedDocument) as refused:
                parse(wrong)
            expected = f"must be one of: {', '.join(map(str, allowed))} (got 'nonsense')"
            assert [str(problem) for problem in refused.value.problems] == [f"{path}: {expected}"]
            checked += 1
    assert checked >= 2  # the statuses of fiscal years and journals, at least


@pytest.mark.parametrize("depth", [65, 900, 5_000])
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_document_nested_far_too_deep_is_malformed_not_a_crash(
    tmp_path: Path, depth: int, suffix: str
) -> None:
    path = tmp_path / f"setup{suffix}"
    nested = "[" * depth + "]" * depth
    path.write_text(
        f'{{"folder": "X", "name": {nested}}}'
        if suffix == ".json"
        else f"folder: X\nname: {nested}"
    )

    with pytest.raises(MalformedDocument) as refused:
        read_setup(path)

    assert [problem.message for problem in refused.value.problems] == [
        "nested more than 64 levels deep, deeper than any document read here"
    ]


def test_a_document_as_deep_as_allowed_is_read_on(tmp_path: Path) -> None:
    path = tmp_path / "setup.json"
    path.write_text('{"folder": "X", "name": ' + "[" * 63 + "]" * 63 + "}")

    with pytest.raises(MalformedDocument) as refused:
        read_setup(path)

    assert [problem.path for problem in refused.value.problems][:1] == ["name"]


def _aliases(levels: int, deep_at_the_end: int = 0) -> str:
    """YAML whose each level is two aliases of the one before: 2**levels leaves once
    expanded, `levels` lists written; `deep_at_the_end` more levels under the last one."""
    lines = ["folder: X", "name:", '  l0: &l0 ["x"]']
    lines += [f"  l{n}: &l{n} [*l{n - 1}, *l{n - 1}]" for n in range(1, levels)]
    lines.append("  last: " + "[" * deep_at_the_end + f"*l{levels - 1}" + "]" * deep_at_the_end)
    return "\n".join(lines) + "\n"


def test_aliases_repeating_one_list_a_billion_times_are_read_once(tmp_path: Path) -> None:
    path = tmp_path / "setup.yaml"
    path.write_text(_aliases(30))  # 2**30 leaves once expanded; walked whole, never done

    with pytest.raises(MalformedDocument) as refused:
        read_setup(path)

    assert refused.value.problems[0].path.startswith("name")


def test_a_list_met_again_deeper_through_an_alias_is_told_too_deep(tmp_path: Path) -> None:
    path = tmp_path / "setup.yaml"
    path.write_text(_aliases(30, deep_at_the_end=40))  # l29 at depth 3, then at 43 + 30

    with pytest.raises(MalformedDocument) as refused:
        read_setup(path)

    assert [problem.message for problem in refused.value.problems] == [
        "nested more than 64 levels deep, deeper than any document read here"
    ]


def test_yaml_numbers_of_other_bases_stay_as_written(tmp_path: Path) -> None:
    # YAML 1.1 reads 0042 as octal 34, 0x1F as 31 and 1:30 as 90.
    path = tmp_path / "batch.yaml"
    path.write_text(
        "folder: ACME\n"
        "entries:\n"
        "  - id: 0042\n"
        "    label: 1:30\n"
        "    lines:\n"
        "      - {account: '0512', auxiliary: 0x1F, debit: 12}\n"
        "      - {account: '706000', credit: 12}\n",
        encoding="utf-8",
    )
    reader = BatchReader(expected_folder="ACME")

    [entry] = list(stream_entries(path, reader))

    assert reader.problems == []
    assert (entry.id, entry.label) == ("0042", "1:30")
    assert entry.lines is not None and entry.lines[0].auxiliary == "0x1F"
    assert load_document(path)["entries"][0]["lines"][0]["debit"] == 12
