"""The fast setup reader (msgspec) and the schema of record (pydantic) read setups alike.

A setup the fast reader takes must be taken by the schema as the same setup; what the fast
reader refuses goes to the schema, which explains it (or reads it, where it is laxer).
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerbridge.domain import schema
from ledgerbridge.domain.malformed import MalformedDocument
from ledgerbridge.domain.setup import (
    Account,
    FolderSetup,
    ReferenceData,
    ThirdParty,
    parse_setup,
    read_value,
)

EXAMPLE = json.loads(
    (Path(__file__).parent.parent.parent / "examples" / "acme-setup.json").read_text()
)
Path_ = tuple[str | int, ...]
ODD_VALUES: list[object] = [
    None,
    0,
    1,
    -1,
    True,
    "",
    "x",
    "2025-02-30",
    "2025-1-01",
    "2025-01-01T00:00:00",
    date(2025, 3, 1),
    datetime(2025, 3, 1, 12, 0),
    [],
    {},
    Decimal("1.5"),
    1.0,
]


def _paths(value: object, path: Path_ = ()) -> list[Path_]:
    found: list[Path_] = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


PATHS = _paths(EXAMPLE)


def _parent(document: Any, path: Path_) -> Any:
    for part in path[:-1]:
        document = document[part]
    return document


@st.composite
def mutated_setups(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(EXAMPLE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        try:
            parent = _parent(document, path)
            _at(document, path)  # still there after an earlier change?
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(parent, str):  # a text, indexed by an earlier change's path
            continue
        change = draw(st.sampled_from(["replace", "delete", "add"]))
        if change == "replace":
            parent[path[-1]] = draw(st.sampled_from(ODD_VALUES))
        elif change == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "from", "start", "code"]))] = "2025-01-01"
    return document


def _by_the_schema(raw: object) -> FolderSetup | None:
    try:
        return msgspec.convert(schema.read(schema.FolderSetupShape, raw), FolderSetup)
    except MalformedDocument:
        return None


def _assert_read_alike(document: dict[str, Any]) -> None:
    try:
        fast: FolderSetup | None = msgspec.convert(document, FolderSetup)
    except msgspec.ValidationError:
        fast = None
    by_schema = _by_the_schema(document)
    if fast is not None:
        assert by_schema == fast
    # Either way the reader gives what the schema gives, or refuses what it refuses.
    try:
        read: FolderSetup | None = read_value(FolderSetup, document)
    except MalformedDocument:
        read = None
    assert read == by_schema


def _single_changes() -> list[tuple[Path_, str, object]]:
    changes: list[tuple[Path_, str, object]] = []
    for path in PATHS:
        changes.append((path, "delete", None))
        changes += [(path, "replace", value) for value in ODD_VALUES]
    changes += [(path, "add", "extra") for path in PATHS if isinstance(_at(EXAMPLE, path), dict)]
    return changes


def _at(document: Any, path: Path_) -> Any:
    return _parent(document, path)[path[-1]]


def test_every_single_change_of_the_example_is_read_alike_both_ways() -> None:
    for path, change, value in _single_changes():
        document = copy.deepcopy(EXAMPLE)
        if change == "delete":
            del _parent(document, path)[path[-1]]
        elif change == "replace":
            _parent(document, path)[path[-1]] = value
        else:
            _at(document, path)[value] = "2025-01-01"
        _assert_read_alike(document)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(mutated_setups())
def test_several_changes_of_the_example_are_read_alike_both_ways(
    document: dict[str, Any],
) -> None:
    _assert_read_alike(document)


def test_the_example_setup_reads_alike_both_ways() -> None:
    fast = msgspec.convert(EXAMPLE, FolderSetup)

    assert _by_the_schema(EXAMPLE) == fast
    # Written back with every field, as the schema writes it, and read again as itself.
    shape = schema.FolderSetupShape.model_validate(EXAMPLE)
    assert fast.to_document() == shape.model_dump(mode="json", by_alias=True)
    assert parse_setup(fast.to_document()) == fast


def test_a_date_and_time_is_refused_where_a_setup_wants_a_day() -> None:
    document = copy.deepcopy(EXAMPLE)
    document["fiscal_years"][0]["start"] = datetime(2024, 1, 1, 8, 30)

    with pytest.raises(MalformedDocument) as refused:
        parse_setup(document)

    assert [str(problem) for problem in refused.value.problems] == [
        "fiscal_years[0].start: expected a date as YYYY-MM-DD,"
        " got datetime.datetime(2024, 1, 1, 8, 30)"
    ]


@pytest.mark.parametrize(
    ("folder", "said"),
    [
        ("   ", "must not be blank"),
        ("\u3000", "must not be blank"),
        ("X\x00Y", "must not hold a control character (a line break, a tab...)"),
        ("ACME\n", "must not hold a control character (a line break, a tab...)"),
    ],
)
def test_a_folder_code_blank_or_with_a_control_character_is_refused(folder: str, said: str) -> None:
    document = {**copy.deepcopy(EXAMPLE), "folder": folder, "siren": "12"}

    with pytest.raises(MalformedDocument) as refused:
        parse_setup(document)

    assert [str(problem) for problem in refused.value.problems] == [
        f"folder: {said}",
        "siren: a SIREN is 9 digits, got '12'",
    ]


def test_a_day_given_as_a_date_is_read() -> None:
    document = copy.deepcopy(EXAMPLE)
    document["fiscal_years"][0]["start"] = date(2024, 1, 1)

    assert parse_setup(document) == parse_setup(EXAMPLE)


@pytest.mark.parametrize(
    ("kind", "raw", "problem"),
    [
        (Account, {"number": "401000", "collective": "yes"}, "reference[2].collective"),
        (ThirdParty, {"code": "FEDF", "name": "EDF"}, "reference[2].account"),
    ],
)
def test_a_part_of_a_setup_is_refused_by_its_path_under_a_prefix(
    kind: type[Account] | type[ThirdParty], raw: dict[str, object], problem: str
) -> None:
    with pytest.raises(MalformedDocument) as refused:
        read_value(kind, raw, "reference[2]")

    assert [item.path for item in refused.value.problems] == [problem]


def test_every_part_of_a_setup_has_a_shape_in_the_schema_with_the_same_fields() -> None:
    parts: list[type[Any]] = [FolderSetup, *_parts_of(FolderSetup), ReferenceData]

    for part in parts:
        shape = getattr(schema, f"{part.__name__}Shape")
        fields = [field.encode_name for field in msgspec.structs.fields(part)]
        assert fields == [field.alias or name for name, field in shape.model_fields.items()], (
            part.__name__
        )


def _parts_of(kind: type[Any]) -> list[type[Any]]:
    """The struct types a struct's fields hold, directly or in lists, depth first."""
    found: list[type[Any]] = []
    for field in msgspec.structs.fields(kind):
        for candidate in (field.type, *getattr(field.type, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
                found += [candidate, *_parts_of(candidate)]
    return found
