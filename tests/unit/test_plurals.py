"""A count in a message agrees with its noun: "1 entry", "0 entries", "2 entries"; a long
list is cut short, saying how many it leaves out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerbridge.domain.plurals import counted, listed


def test_one_takes_the_singular() -> None:
    assert counted(1, "entry", "entries") == "1 entry"


@pytest.mark.parametrize(("number", "said"), [(0, "0 entries"), (2, "2 entries")])
def test_zero_and_more_than_one_take_the_plural(number: int, said: str) -> None:
    assert counted(number, "entry", "entries") == said


def test_a_large_count_is_written_as_every_message_writes_it_without_separators() -> None:
    assert counted(100000, "entry", "entries") == "100000 entries"
    assert counted(1234567, "line", "lines") == "1234567 lines"


def test_the_verb_whose_subject_the_count_is_agrees_too() -> None:
    assert counted(1, "batch waits", "batches wait") == "1 batch waits"
    assert counted(2, "batch waits", "batches wait") == "2 batches wait"
    assert counted(1, "entry is", "entries are") == "1 entry is"
    assert counted(3, "entry is", "entries are") == "3 entries are"


def test_nouns_of_more_than_one_word_agree_whole() -> None:
    assert counted(1, "third party", "third parties") == "1 third party"
    assert counted(4, "third party", "third parties") == "4 third parties"


@given(st.integers(min_value=0, max_value=10**12))
def test_any_count_is_its_number_then_the_singular_only_for_one(number: int) -> None:
    said = counted(number, "entry", "entries")
    assert said == f"{number} {'entry' if number == 1 else 'entries'}"


def test_a_short_list_is_given_whole() -> None:
    assert listed(["ACME"]) == "ACME"
    assert listed(["ACME", "BETA", "GAMMA"]) == "ACME, BETA, GAMMA"
    assert listed([f"F{number}" for number in range(10)]) == ", ".join(
        f"F{number}" for number in range(10)
    )


def test_a_long_list_names_its_first_items_and_counts_the_rest() -> None:
    codes = [f"F{number:04d}" for number in range(5000)]

    said = listed(codes)

    assert said == ", ".join(codes[:10]) + " and 4990 more"
    assert listed(codes, limit=2) == "F0000, F0001 and 4998 more"
