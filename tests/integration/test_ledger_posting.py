"""Posting batches: numbering, rejections, idempotency, and one transaction per batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.setup import parse_setup
from ledgerbridge.ledger import Ledger, PostingSummary, UnknownFolder
from ledgerbridge.ledger.queries import PostedWidths
from tests.integration.ledger_samples import (
    POSTED_AT,
    acme_document,
    acme_setup,
    purchase,
    sale,
    without_auxiliary,
)


def post(
    ledger: Ledger,
    entries: list[Entry],
    *,
    key: Callable[[Entry], str] = lambda entry: entry.id,
    before_commit: Callable[[], None] = lambda: None,
) -> tuple[PostingSummary, list[CheckResult]]:
    """Post to ACME; the summary and every result, in order."""
    results: list[CheckResult] = []
    summary = ledger.post_batch(
        "ACME", entries, key=key, on_result=results.append, before_commit=before_commit
    )
    return summary, results


def numbers(ledger: Ledger) -> list[tuple[str, int, str]]:
    return [(entry.fiscal_year, entry.number, entry.id) for entry in ledger.posted_entries("ACME")]


def test_the_widths_of_the_posted_entries_are_those_of_their_longest_values(
    acme: Ledger,
) -> None:
    assert acme.posted_widths("ACME") == PostedWidths()
    post(acme, [purchase(f"n{n}", "2026-03-14") for n in range(10)])
    post(acme, [sale("a-much-longer-id", "2025-09-30"), without_auxiliary("never-posted-id-x")])

    assert acme.posted_widths("ACME") == PostedWidths(
        entry_id=len("a-much-longer-id"), fiscal_year=4, number=2, journal=3
    )
    assert acme.posted_widths("ACME", "2025") == PostedWidths(
        entry_id=len("a-much-longer-id"), fiscal_year=4, number=1, journal=3
    )
    assert acme.posted_widths("ACME", "2026").entry_id == len("n0")


def test_accepted_entries_are_numbered_without_gaps_per_fiscal_year(acme: Ledger) -> None:
    batch = [
        purchase("a", "2026-03-14"),
        purchase("b", "2025-09-30"),
        without_auxiliary("c", "2026-03-15"),
        sale("d", "2026-04-02"),
        sale("e", "2025-12-31"),
        purchase("f", "2026-12-31"),
    ]

    summary, results = post(acme, batch)

    assert summary == PostingSummary(folder="ACME", accepted=5, replayed=0, rejected=1)
    assert [(result.id, result.fiscal_year, result.entry_number) for result in results] == [
        ("a", "2026", 1),
        ("b", "2025", 1),
        ("c", None, None),
        ("d", "2026", 2),
        ("e", "2025", 2),
        ("f", "2026", 3),
    ]
    assert numbers(acme) == [
        ("2025", 1, "b"),
        ("2025", 2, "e"),
        ("2026", 1, "a"),
        ("2026", 2, "d"),
        ("2026", 3, "f"),
    ]


def test_numbering_continues_from_one_batch_to_the_next(acme: Ledger) -> None:
    post(acme, [purchase("a"), purchase("b")])

    _, results = post(acme, [purchase("c"), purchase("d", "2025-08-01")])

    assert [(result.fiscal_year, result.entry_number) for result in results] == [
        ("2026", 3),
        ("2025", 1),
    ]


def test_a_rejected_entry_is_reported_with_its_findings_and_none_of_its_lines_is_stored(
    acme: Ledger,
) -> None:
    summary, results = post(acme, [without_auxiliary("bad"), purchase("good")])

    rejected = results[0]
    assert rejected.status == "rejected"
    assert rejected.code == "collective_account"
    assert rejected.entry_number is None
    assert [finding.line for finding in rejected.findings] == [3]
    assert results[1].accepted
    assert summary.rejected == 1
    posted = list(acme.posted_entries("ACME"))
    assert [entry.id for entry in posted] == ["good"]
    assert [entry.number for entry in posted] == [1]


def test_the_same_batch_posted_twice_posts_once_and_replays_the_first_numbers(
    acme: Ledger,
) -> None:
    batch = [purchase("a"), without_auxiliary("b"), sale("c"), purchase("d", "2025-10-01")]
    first_summary, _ = post(acme, batch)

    second_summary, second = post(acme, batch)

    assert first_summary == PostingSummary("ACME", accepted=3, replayed=0, rejected=1)
    assert second_summary == PostingSummary("ACME", accepted=0, replayed=3, rejected=1)
    assert [(r.id, r.fiscal_year, r.entry_number, r.replay) for r in second] == [
        ("a", "2026", 1, True),
        ("b", None, None, False),
        ("c", "2026", 2, True),
        ("d", "2025", 1, True),
    ]
    assert all(result.accepted for index, result in enumerate(second) if index != 1)
    assert len(list(acme.posted_entries("ACME"))) == 3


def test_a_rejection_is_not_remembered_and_the_entry_is_checked_again(acme: Ledger) -> None:
    locked = acme_document()
    locked["journals"][0]["status"] = "locked"
    acme.apply_setup(parse_setup(locked))
    _, first = post(acme, [purchase("a")])
    assert first[0].code == "journal_locked"

    acme.apply_setup(acme_setup())
    summary, second = post(acme, [purchase("a")])

    assert second[0].accepted and not second[0].replay
    assert second[0].entry_number == 1
    assert summary.accepted == 1


def test_the_same_key_with_other_content_is_an_idempotency_conflict_and_not_posted(
    acme: Ledger,
) -> None:
    post(acme, [purchase("a", amount="100.00")])

    summary, results = post(acme, [purchase("a", amount="200.00")])

    conflict = results[0]
    assert conflict.status == "rejected"
    assert conflict.code == "idempotency_conflict"
    assert (
        conflict.message
        == "Entry already posted as number 1 of fiscal year 2026 with other content"
    )
    assert len(conflict.findings) == 1
    assert conflict.findings[0].line is None
    assert "entry 1 of fiscal year 2026" in conflict.findings[0].detail
    assert summary == PostingSummary("ACME", accepted=0, replayed=0, rejected=1)
    [posted] = acme.posted_entries("ACME")
    assert posted.lines[0].debit == 100


def test_an_id_written_like_a_workspace_key_is_an_entry_of_its_own(acme: Ledger) -> None:
    # A direct post (keyed by id) of an entry whose id is written like a workspace key,
    # then the workspace's entry of that key: two ids, two entries, whatever the keys say.
    post(acme, [purchase("ACME/a/1")])

    summary, results = post(acme, [purchase("a")], key=lambda entry: f"ACME/{entry.id}/1")

    assert [(r.code, r.replay, r.entry_number) for r in results] == [(None, False, 2)]
    assert summary == PostingSummary("ACME", accepted=1, replayed=0, rejected=0)
    assert numbers(acme) == [("2026", 1, "ACME/a/1"), ("2026", 2, "a")]


def test_a_key_repeated_within_one_batch_is_posted_once(acme: Ledger) -> None:
    batch = [purchase("a"), purchase("a"), purchase("a", amount="7.00")]

    summary, results = post(acme, batch)

    assert summary == PostingSummary("ACME", accepted=1, replayed=1, rejected=1)
    assert [(r.entry_number, r.replay, r.code) for r in results] == [
        (1, False, None),
        (1, True, None),
        (None, False, "idempotency_conflict"),
    ]


@pytest.mark.parametrize("posted_before", [False, True], ids=["new folder", "folder in use"])
def test_a_key_met_again_in_a_later_chunk_is_a_replay_or_a_conflict(
    acme: Ledger, posted_before: bool
) -> None:
    # A folder with nothing posted has its keys looked up among the batch's own alone.
    if posted_before:
        post(acme, [sale("earlier")])
    results: list[CheckResult] = []
    batch = [purchase("a"), sale("b"), purchase("a"), sale("b", amount="5.00")]

    summary = acme.post_batch("ACME", batch, on_result=results.append, chunk_size=1)

    assert (summary.accepted, summary.replayed, summary.rejected) == (2, 1, 1)
    assert results[2].replay and results[2].entry_number == results[0].entry_number
    assert results[3].code == "idempotency_conflict"
    assert [entry.id for entry in acme.posted_entries("ACME")].count("a") == 1


def workspace_key(revision: int) -> Callable[[Entry], str]:
    return lambda entry: f"ACME/{entry.id}/{revision}"


@pytest.mark.parametrize("first", ["direct", "workspace"])
def test_an_id_posted_under_one_key_is_a_replay_under_another_with_the_same_content(
    acme: Ledger, first: str
) -> None:
    # The same entry posted directly (keyed by its id) and from the workspace (client, id
    # and revision), whichever came first: one entry in the books.
    keys = {"direct": lambda entry: entry.id, "workspace": workspace_key(1)}
    second = "workspace" if first == "direct" else "direct"
    post(acme, [purchase("a"), sale("b")], key=keys[first])

    summary, results = post(acme, [sale("b"), purchase("a")], key=keys[second])

    assert summary == PostingSummary("ACME", accepted=0, replayed=2, rejected=0)
    assert [(r.id, r.entry_number, r.replay) for r in results] == [
        ("b", 2, True),
        ("a", 1, True),
    ]
    assert numbers(acme) == [("2026", 1, "a"), ("2026", 2, "b")]


def test_an_id_posted_under_another_key_with_other_content_is_a_conflict(acme: Ledger) -> None:
    post(acme, [purchase("a")])

    summary, results = post(acme, [purchase("a", amount="150.00")], key=workspace_key(2))

    [conflict] = results
    assert summary == PostingSummary("ACME", accepted=0, replayed=0, rejected=1)
    assert conflict.message == (
        "Entry already posted as number 1 of fiscal year 2026 with other content"
    )
    assert conflict.findings[0].detail == (
        "entry 'a' was already posted as entry 1 of fiscal year 2026, under key 'a', with"
        " other content; posted entries are never changed"
    )
    assert numbers(acme) == [("2026", 1, "a")]


def test_an_id_is_posted_once_whatever_its_keys_within_one_batch(acme: Ledger) -> None:
    revisions = iter([1, 2])

    summary, results = post(
        acme,
        [purchase("a"), purchase("a", amount="150.00")],
        key=lambda entry: f"ACME/{entry.id}/{next(revisions)}",
    )

    assert [(r.entry_number, r.code) for r in results] == [
        (1, None),
        (None, "idempotency_conflict"),
    ]
    assert summary.accepted == 1


def test_a_replay_answers_the_first_result_even_after_the_setup_has_changed(
    acme: Ledger,
) -> None:
    post(acme, [purchase("a")])
    closed = acme_document()
    closed["fiscal_years"][1]["status"] = "closed"
    acme.apply_setup(parse_setup(closed))

    summary, results = post(acme, [purchase("a")])

    assert summary.replayed == 1
    assert results[0].accepted and results[0].replay and results[0].entry_number == 1


def test_a_before_commit_that_raises_leaves_nothing_stored(acme: Ledger) -> None:
    def refuse() -> None:
        raise ValueError("entries[3]: malformed, found at the end of the stream")

    with pytest.raises(ValueError, match="found at the end of the stream"):
        post(acme, [purchase("a"), sale("b")], before_commit=refuse)

    assert list(acme.posted_entries("ACME")) == []
    _, results = post(acme, [purchase("a")])
    assert results[0].entry_number == 1 and not results[0].replay


def test_entries_are_read_and_answered_chunk_by_chunk(acme: Ledger) -> None:
    read: list[str] = []
    answered_after_reading: list[int] = []

    def stream() -> Iterator[Entry]:
        for index in range(7):
            read.append(str(index))
            yield purchase(str(index))

    acme.post_batch(
        "ACME",
        stream(),
        on_result=lambda result: answered_after_reading.append(len(read)),
        chunk_size=3,
    )

    assert answered_after_reading == [3, 3, 3, 6, 6, 6, 7]


def test_posting_to_an_unknown_folder_is_refused(ledger: Ledger) -> None:
    with pytest.raises(UnknownFolder, match="ledger apply"):
        ledger.post_batch("NOPE", [purchase("a")], on_result=lambda result: None)


def test_a_posted_entry_reads_back_with_its_lines_allocations_and_numbers(acme: Ledger) -> None:
    post(acme, [purchase("inv-2026-0042", amount="100.00")])

    [entry] = acme.posted_entries("ACME")

    assert entry.as_dict() == {
        "number": 1,
        "fiscal_year": "2026",
        "id": "inv-2026-0042",
        "key": "inv-2026-0042",
        "date": "2026-03-14",
        "journal": "ACH",
        "reference": "F2026-0042",
        "label": "EDF mars 2026",
        "posted_at": POSTED_AT.isoformat(),
        "lines": [
            {
                "line": 1,
                "account": "606100",
                "auxiliary": None,
                "label": "EDF",
                "debit": "100.00",
                "credit": None,
                "analytics": [{"axis": "SITE", "section": "PARIS", "amount": "100.00"}],
            },
            {
                "line": 2,
                "account": "445660",
                "auxiliary": None,
                "label": "TVA",
                "debit": "20.00",
                "credit": None,
                "analytics": [],
            },
            {
                "line": 3,
                "account": "401000",
                "auxiliary": "FEDF",
                "label": None,
                "debit": None,
                "credit": "120.00",
                "analytics": [],
            },
        ],
    }


def test_posted_entries_of_one_fiscal_year(acme: Ledger) -> None:
    post(acme, [purchase("a"), purchase("b", "2025-08-01"), purchase("c")])

    assert [entry.id for entry in acme.posted_entries("ACME", "2026")] == ["a", "c"]
    assert [entry.id for entry in acme.posted_entries("ACME", "2025")] == ["b"]
