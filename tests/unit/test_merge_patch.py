"""RFC 7386 merge patch: the examples of the RFC's appendix A, and the properties it promises."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerbridge.domain.merge_patch import ShortenedList, merge_patch, shortened_lists

# Appendix A of RFC 7386, case by case: original, patch, result.
RFC_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "result"), RFC_EXAMPLES)
def test_merge_patch_gives_the_results_of_the_rfc_examples(
    original: Any, patch: Any, result: Any
) -> None:
    assert merge_patch(original, patch) == result


def test_a_patch_adds_an_auxiliary_account_to_one_line_by_replacing_the_lines() -> None:
    entry = {
        "id": "inv-1",
        "journal": "ACH",
        "lines": [
            {"account": "606100", "debit": "10.00"},
            {"account": "401000", "credit": "10.00"},
        ],
    }
    patch = {
        "lines": [
            {"account": "606100", "debit": "10.00"},
            {"account": "401000", "auxiliary": "FEDF", "credit": "10.00"},
        ]
    }
    assert merge_patch(entry, patch)["lines"][1]["auxiliary"] == "FEDF"
    assert merge_patch(entry, patch)["journal"] == "ACH"


def test_neither_the_target_nor_the_patch_is_changed() -> None:
    target = {"a": {"b": [1, 2]}, "c": "d"}
    patch = {"a": {"b": None, "x": {"y": 1}}, "c": None}
    target_before, patch_before = copy.deepcopy(target), copy.deepcopy(patch)
    result = merge_patch(target, patch)
    result["a"]["x"]["y"] = 2
    assert target == target_before
    assert patch == patch_before


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=10,
)
objects_without_nulls = st.recursive(
    st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=10,
).filter(lambda value: isinstance(value, dict))


@given(json_values, json_values)
def test_applying_the_same_patch_twice_changes_nothing_more(target: Any, patch: Any) -> None:
    once = merge_patch(target, patch)
    assert merge_patch(once, patch) == once


@given(json_values)
def test_an_empty_patch_leaves_an_object_as_it_is(target: Any) -> None:
    if isinstance(target, dict):
        assert merge_patch(target, {}) == target
    else:
        assert merge_patch(target, {}) == {}


@given(objects_without_nulls)
def test_a_patch_without_nulls_applied_to_nothing_is_itself(patch: dict[str, Any]) -> None:
    assert merge_patch({}, patch) == patch


THREE_LINES = {
    "id": "inv-1",
    "lines": [
        {"account": "606100", "debit": "100.00"},
        {"account": "445660", "debit": "20.00"},
        {"account": "401000", "credit": "120.00"},
    ],
}


def test_a_patch_giving_one_line_to_add_an_auxiliary_is_told_to_have_dropped_two() -> None:
    patch = {"lines": [{"auxiliary": "FORANGE"}]}

    assert len(merge_patch(THREE_LINES, patch)["lines"]) == 1
    assert list(shortened_lists(THREE_LINES, patch)) == [ShortenedList("lines", 3, 1)]


@pytest.mark.parametrize(
    "patch",
    [
        {"label": "corrigé"},
        {"lines": [{"account": "606100", "debit": "1"}] * 3},
        {"lines": [{"account": "606100", "debit": "1"}] * 4},
        {"lines": "none"},
    ],
)
def test_a_patch_that_shortens_no_list_is_not_told_to(patch: dict[str, Any]) -> None:
    assert list(shortened_lists(THREE_LINES, patch)) == []


@pytest.mark.parametrize(
    ("target", "patch", "removed"),
    [
        (THREE_LINES, {"lines": None}, [ShortenedList("lines", 3, 0, removed=True)]),
        (
            {"analytics": {"axes": [{"code": "SITE"}]}},
            {"analytics": {"axes": None}},
            [ShortenedList("analytics.axes", 1, 0, removed=True)],
        ),
        ({"lines": []}, {"lines": None}, []),  # nothing to drop
        ({"label": "x"}, {"lines": None}, []),
    ],
)
def test_a_list_removed_with_null_is_told_as_left_with_no_item(
    target: dict[str, Any], patch: dict[str, Any], removed: list[ShortenedList]
) -> None:
    assert list(shortened_lists(target, patch)) == removed


def test_a_list_shortened_inside_an_object_is_named_by_its_path() -> None:
    target = {"analytics": {"axes": [{"code": "SITE"}, {"code": "DEPT"}], "allow": False}}
    patch: dict[str, Any] = {"analytics": {"axes": []}}

    assert list(shortened_lists(target, patch)) == [ShortenedList("analytics.axes", 2, 0)]


# Keys without a dot, so that a path names its lists unambiguously.
named_values = st.recursive(
    st.none() | st.integers(),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet="abc", min_size=1, max_size=2), children, max_size=3)
    ),
    max_leaves=10,
)


@given(named_values, named_values)
def test_a_shortened_list_is_one_the_patch_left_shorter(target: Any, patch: Any) -> None:
    result = merge_patch(target, patch)
    for shortened in shortened_lists(target, patch):
        before, after = target, result
        for key in shortened.path.split("."):
            before, after = before[key], after.get(key, [])  # removed (null): no item left
        assert (len(before), len(after)) == (shortened.before, shortened.after)
        assert shortened.after < shortened.before
