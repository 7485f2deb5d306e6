"""The fast JSON reader of entries agrees with the schema of record on every document.

Entries are read from JSON by msgspec at C speed; what it refuses or cannot decide goes to
the pydantic schema, which lists every problem. The fast reader must never accept what the
schema refuses, nor read a value differently.
"""

from __future__ import annotations

import json
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.domain.entries import (
    BatchReader,
    Entry,
    decode_entry,
    entry_document,
    entry_json,
    is_strict_entry,
    parse_entry,
)
from ledgerbridge.domain.malformed import MalformedDocument, Problem, join_path

_text = st.one_of(st.none(), st.just(""), st.text(max_size=8), st.integers(0, 9), st.booleans())
_amount = st.one_of(
    st.none(),
    st.just(""),
    st.integers(-5, 10**16),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, max_value=10**6).map(str),
    st.sampled_from(["1.5", "1.50", "1.500", "1.505", "0", "0.00", "-1", "1e3", "1E-2", "NaN"]),
    st.sampled_from(["12,50", "douze", " 1.5", "+2", "Infinity", "1_000", "9" * 16]),
    st.booleans(),
)
_date = st.one_of(
    st.none(),
    st.just(""),
    st.dates().map(str),
    st.sampled_from(["2026-02-30", "2026-1-5", "20260105", "2026-01-05T00:00:00", "x"]),
    st.integers(0, 9),
)
_allocation = st.fixed_dictionaries(
    {}, optional={"axis": _text, "section": _text, "amount": _amount, "extra": _text}
)
_line = st.fixed_dictionaries(
    {},
    optional={
        "account": _text,
        "auxiliary": _text,
        "label": _text,
        "debit": _amount,
        "credit": _amount,
        "analytics": st.one_of(st.none(), st.lists(_allocation, max_size=2), _text),
    },
)
_entry = st.fixed_dictionaries(
    {
        "id": st.one_of(
            st.text(min_size=1, max_size=5),
            st.sampled_from(["", " ", "\u3000", "a\nb", "\t", "a\u00a0b", "a\x7f"]),
            st.integers(0, 3),
        )
    },
    optional={
        "journal": _text,
        "date": _date,
        "reference": _text,
        "label": _text,
        "lines": st.one_of(st.none(), st.lists(_line, max_size=3), _text),
        "unknown": _text,
    },
)


def _by_schema(text: str) -> Entry | None:
    try:
        return parse_entry(json.loads(text, parse_float=Decimal), 0)
    except MalformedDocument:
        return None


@settings(max_examples=400)
@given(_entry)
def test_the_fast_reader_never_accepts_what_the_schema_refuses(document: dict[str, object]) -> None:
    text = json.dumps(document)
    try:
        fast = msgspec.json.decode(text, type=Entry)
    except msgspec.ValidationError:
        return  # left to the schema, which decides
    assert _by_schema(text) == fast


@settings(max_examples=400)
@given(_entry)
def test_reading_json_and_reading_values_give_the_same_verdict(document: dict[str, object]) -> None:
    text = json.dumps(document)
    try:
        read: Entry | None = decode_entry(text, 0)
    except MalformedDocument:
        read = None
    assert read == _by_schema(text)


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ('" "', "must not be blank"),
        ('"\\u3000"', "must not be blank"),
        ('"F-1\\n"', "must not hold a control character (a line break, a tab...)"),
        ('"F\\t1"', "must not hold a control character (a line break, a tab...)"),
    ],
)
def test_a_blank_id_or_one_with_a_control_character_is_refused_by_path(
    written: str, problem: str
) -> None:
    text = f'{{"id": {written}, "journal": "ACH"}}'

    with pytest.raises(MalformedDocument) as refused:
        decode_entry(text, 4)
    with pytest.raises(MalformedDocument) as refused_as_values:
        parse_entry(json.loads(text), 4)

    for malformed in (refused.value, refused_as_values.value):
        assert [(p.path, p.message) for p in malformed.problems] == [("entries[4].id", problem)]


def test_an_id_of_any_printable_text_is_taken() -> None:
    for entry_id in ("F-2026/0001", "Facture n° 12", "a\u00a0b", "請求書"):
        assert decode_entry(json.dumps({"id": entry_id}), 0).id == entry_id


def test_a_written_entry_reads_back_the_same() -> None:
    entry = decode_entry(
        '{"id": "a", "date": "2026-03-15", "lines": [{"account": "606100", "debit": 120.5,'
        ' "analytics": [{"axis": "SITE", "section": "PARIS", "amount": "120.5"}]}]}'
    )

    assert entry_json(entry) == (
        b'{"id":"a","date":"2026-03-15","lines":[{"account":"606100","debit":"120.50",'
        b'"analytics":[{"axis":"SITE","section":"PARIS","amount":"120.50"}]}]}'
    )
    assert decode_entry(entry_json(entry)) == entry
    assert parse_entry(entry_document(entry)) == entry


@pytest.mark.parametrize("written", ['"1.505"', '"-1"', "1.005", '"NaN"', '"9999999999999999"'])
def test_an_amount_the_fast_reader_refuses_is_explained_by_path(written: str) -> None:
    with pytest.raises(MalformedDocument) as refused:
        decode_entry(f'{{"id": "a", "lines": [{{"credit": {written}}}]}}', 4)

    assert [problem.path for problem in refused.value.problems] == ["entries[4].lines[0].credit"]


# Amounts in cents as senders write them, and near misses of that form.
_cents = st.one_of(
    _amount,
    st.integers(0, 10**16).map(lambda cents: f"{cents // 100}.{cents % 100:02d}"),
    st.sampled_from(["0.00", "007.50", "1.00\n", " 1.00", "1.0", "1.000", "１.00", "-0.00"]),
)
_usual_line = st.fixed_dictionaries(
    {},
    optional={
        "account": _text,
        "label": _text,
        "debit": _cents,
        "credit": _cents,
        "analytics": st.lists(
            st.fixed_dictionaries({}, optional={"axis": _text, "amount": _cents}), max_size=2
        ),
    },
)
_usual_entry = st.fixed_dictionaries(
    {"id": st.one_of(st.text(min_size=1, max_size=5), st.just(""))},
    optional={"date": _date, "label": _text, "lines": st.lists(_usual_line, max_size=3)},
)


@settings(max_examples=400)
@given(_usual_entry)
def test_an_entry_told_strict_reads_as_the_reader_reads_it(document: dict[str, object]) -> None:
    text = json.dumps(document)

    if is_strict_entry(text):
        assert msgspec.json.decode(text) == document  # kept as it is: strict JSON
        decode_entry(text, 0)


def test_usual_entries_are_told_strict_and_the_rest_left_to_the_reader() -> None:
    usual = {"id": "a", "date": "2026-03-15", "lines": [{"account": "606100", "debit": "120.50"}]}

    assert is_strict_entry(json.dumps(usual))
    assert is_strict_entry(entry_json(decode_entry(json.dumps(usual))))
    for debit in (120.5, "120.5", "1.00", None):
        amount = {**usual, "lines": [{"account": "606100", "debit": debit}]}
        assert is_strict_entry(json.dumps(amount))
    for debit in ("-1.00", "1.005", "douze"):
        wrong = {**usual, "lines": [{"account": "606100", "debit": debit}]}
        assert not is_strict_entry(json.dumps(wrong))
    assert not is_strict_entry('{"id": "a", "label": "\\ud800"}')  # not strict JSON
    assert not is_strict_entry('{"id": "a", "memo": "x"}')
    assert not is_strict_entry('{"id": "a", "lines": [{"debit": NaN}]}')


def _written(value: object, repeat: int | None, ascii_only: bool, paths: list[str], at: str) -> str:
    """`value` as JSON, the `repeat`-th object met (depth first) with its first key written
    twice; `paths` gets each object's path, in the order met."""
    if isinstance(value, dict):
        number = len(paths)
        paths.append(at)
        pairs = list(value.items())
        if number == repeat and pairs:
            pairs.append(pairs[0])
        return (
            "{"
            + ",".join(
                json.dumps(key, ensure_ascii=ascii_only)
                + ":"
                + _written(item, repeat, ascii_only, paths, join_path(at, [key]))
                for key, item in pairs
            )
            + "}"
        )
    if isinstance(value, list):
        return (
            "["
            + ",".join(
                _written(item, repeat, ascii_only, paths, f"{at}[{index}]")
                for index, item in enumerate(value)
            )
            + "]"
        )
    return json.dumps(value, ensure_ascii=ascii_only)


def _read_in_a_batch(text: str) -> tuple[Entry | None, list[Problem]]:
    reader = BatchReader()
    entry = reader.entry_json(text.encode())
    return entry, reader.problems


@settings(max_examples=400)
@given(_entry, st.booleans(), st.data())
def test_a_key_given_twice_in_an_entry_the_schema_reads_is_told_by_its_path(
    document: dict[str, object], ascii_only: bool, data: st.DataObject
) -> None:
    # A field the format does not know: the entry is read by the schema, exactly.
    document = {**document, "debt": "1.00"}
    paths: list[str] = []
    _written(document, None, ascii_only, paths, "")
    chosen = data.draw(st.integers(0, len(paths) - 1))
    repeated = _written(document, chosen, ascii_only, [], "")
    first_key = next(iter(_object_at(document, paths[chosen])), None)

    entry, problems = _read_in_a_batch(repeated)

    assert entry is None
    if first_key is not None:  # not an empty object
        twice = join_path("entries[0]", [join_path(paths[chosen], [first_key])])
        assert problems[0] == Problem(twice, "given twice")


@settings(max_examples=400)
@given(_entry, st.booleans())
def test_an_entry_with_no_key_twice_reads_in_a_batch_as_alone(
    document: dict[str, object], ascii_only: bool
) -> None:
    text = json.dumps(document, ensure_ascii=ascii_only)

    entry, problems = _read_in_a_batch(text)

    assert entry == _by_schema(text)
    assert all(problem.message != "given twice" for problem in problems)


def _object_at(document: object, path: str) -> dict[str, object]:
    """The object `_written` met at `path`."""
    found: list[object] = []

    def walk(value: object, at: str) -> None:
        if at == path and isinstance(value, dict):
            found.append(value)
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, join_path(at, [key]))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{at}[{index}]")

    walk(document, "")
    value = found[0]
    assert isinstance(value, dict)
    return value
