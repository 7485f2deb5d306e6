"""Applying a folder setup: created, updated, read back; never orphaning posted entries."""

from __future__ import annotations

import msgspec
import pytest

from ledgerbridge.domain.entries import Entry, entry_document, parse_entry
from ledgerbridge.domain.malformed import MalformedDocument
from ledgerbridge.domain.setup import FolderSetup, parse_setup
from ledgerbridge.ledger import ItemChanges, Ledger, OrphanedPostedLines, UnknownFolder
from tests.integration.ledger_samples import (
    acme_document,
    acme_setup,
    purchase,
    sale,
    without,
)


def post(ledger: Ledger, *entries: Entry) -> None:
    summary = ledger.post_batch("ACME", entries, on_result=lambda result: None)
    assert summary.accepted == len(entries)


def test_applying_a_setup_creates_the_folder(ledger: Ledger) -> None:
    report = ledger.apply_setup(acme_setup())

    assert report.created and report.changed
    assert report.items["fiscal_years"] == ItemChanges(added=2)
    assert report.items["journals"] == ItemChanges(added=4)
    assert report.items["accounts"] == ItemChanges(added=8)
    assert report.items["third_parties"] == ItemChanges(added=2)
    assert report.items["analytic_axes"] == ItemChanges(added=1)
    assert ledger.folders() == ["ACME"]
    assert ledger.has_folder("ACME") and not ledger.has_folder("BETA")
    assert ledger.folder_setup("ACME") == acme_setup()


def test_applying_the_same_setup_again_changes_nothing(acme: Ledger) -> None:
    report = acme.apply_setup(acme_setup())

    assert not report.created
    assert not report.changed
    assert report.summary() == "folder ACME unchanged"


def test_applying_a_changed_setup_updates_the_folder_and_counts_the_changes(
    acme: Ledger,
) -> None:
    document = without(acme_document(), "accounts", "626000")
    document["journals"].append({"code": "AN", "kind": "OD", "name": "A nouveaux"})
    document["accounts"][0]["name"] = "Fournisseurs France"
    document["limits"] = {"label": 35, "reference": 17}
    changed = parse_setup(document)

    report = acme.apply_setup(changed)

    assert not report.created and report.changed
    assert report.items["journals"] == ItemChanges(added=1)
    assert report.items["accounts"] == ItemChanges(changed=1, removed=1)
    assert not report.items["fiscal_years"]
    assert report.settings == ("limits",)
    assert acme.folder_setup("ACME") == changed


def test_several_folders_are_kept_apart(acme: Ledger) -> None:
    acme.apply_setup(acme_setup(folder="BETA", siren=None))

    assert acme.folders() == ["ACME", "BETA"]
    assert acme.folder_setup("BETA").siren is None
    assert acme.folder_setup("ACME").siren == "552100554"


def test_an_unknown_folder_is_refused_with_the_way_to_create_it(acme: Ledger) -> None:
    with pytest.raises(UnknownFolder) as refusal:
        acme.folder_setup("NOPE")

    message = str(refusal.value)
    assert "Unknown ledger folder 'NOPE'" in message
    assert "ACME" in message
    assert "ledgerbridge ledger apply --setup" in message


def test_an_inconsistent_setup_is_refused_as_malformed(ledger: Ledger) -> None:
    document = acme_document()
    document["fiscal_years"][1]["start"] = "2025-12-01"
    overlapping = msgspec.convert(document, FolderSetup)  # well typed, not checked

    with pytest.raises(MalformedDocument, match="cannot overlap"):
        ledger.apply_setup(overlapping)

    assert ledger.folders() == []


@pytest.mark.parametrize(
    ("kind", "code", "expected"),
    [
        (
            "fiscal_years",
            "2026",
            "fiscal year 2026 is removed, but posted entries use it (2 entries, 6 lines)",
        ),
        ("journals", "ACH", "journal ACH is removed, but posted entries use it (1 entry, 3 lines)"),
        (
            "accounts",
            "606100",
            "account 606100 is removed, but posted entries use it (1 entry, 1 line)",
        ),
        (
            "accounts",
            "411000",
            "account 411000 is removed, but posted entries use it (1 entry, 1 line)",
        ),
        (
            "third_parties",
            "FEDF",
            "third party FEDF is removed, but posted entries use it (1 entry, 1 line)",
        ),
    ],
)
def test_removing_what_posted_entries_use_is_refused_and_changes_nothing(
    acme: Ledger, kind: str, code: str, expected: str
) -> None:
    post(acme, purchase("a"), sale("b"))
    before = acme.folder_setup("ACME")
    document = without(acme_document(), kind, code)
    if kind == "accounts":
        # Third parties of the account go with it, or the setup would not even be consistent.
        document["third_parties"] = [
            party for party in document["third_parties"] if party["account"] != code
        ]

    with pytest.raises(OrphanedPostedLines) as refusal:
        acme.apply_setup(parse_setup(document))

    message = str(refusal.value)
    assert expected in message
    assert "keep it in the setup" in message
    assert message.endswith("Nothing was changed.")
    assert acme.folder_setup("ACME") == before


def test_the_counts_are_of_the_folder_s_own_entries_and_lines(acme: Ledger) -> None:
    acme.apply_setup(acme_setup(folder="BETA", siren=None))
    acme.post_batch("BETA", [purchase("x"), purchase("y")], on_result=lambda result: None)
    # The supplier credited on two lines of one entry.
    document = entry_document(purchase("c"))
    supplier = document["lines"].pop()
    document["lines"] += [
        {**supplier, "credit": "100.00"},
        {**supplier, "credit": "20.00", "label": "TVA"},
    ]
    post(acme, purchase("a"), sale("b"), parse_entry(document))

    with pytest.raises(OrphanedPostedLines) as refusal:
        acme.apply_setup(parse_setup(without(acme_document(), "third_parties", "FEDF")))

    assert [
        (orphan.kind, orphan.code, orphan.entries, orphan.lines) for orphan in refusal.value.orphans
    ] == [("third party", "FEDF", 2, 3)]


def test_the_refusal_lists_every_orphaned_item(acme: Ledger) -> None:
    post(acme, purchase("a"))
    document = without(without(acme_document(), "journals", "ACH"), "third_parties", "FEDF")

    with pytest.raises(OrphanedPostedLines) as refusal:
        acme.apply_setup(parse_setup(document))

    assert [(orphan.kind, orphan.code) for orphan in refusal.value.orphans] == [
        ("journal", "ACH"),
        ("third party", "FEDF"),
    ]


def test_closing_a_fiscal_year_or_locking_a_journal_is_how_to_retire_them(acme: Ledger) -> None:
    post(acme, purchase("a", "2025-09-01"))
    document = acme_document()
    document["fiscal_years"][0]["status"] = "closed"
    document["journals"][0]["status"] = "locked"
    document["accounts"][5]["locked"] = True

    report = acme.apply_setup(parse_setup(document))

    assert report.items["fiscal_years"] == ItemChanges(changed=1)
    assert report.items["journals"] == ItemChanges(changed=1)


def test_removing_items_no_posted_entry_uses_is_allowed(acme: Ledger) -> None:
    post(acme, purchase("a"))
    document = without(without(acme_document(), "journals", "VTE"), "accounts", "626000")
    document = without(document, "fiscal_years", "2025")

    report = acme.apply_setup(parse_setup(document))

    assert report.items["journals"] == ItemChanges(removed=1)
    assert report.items["fiscal_years"] == ItemChanges(removed=1)


def test_moving_a_fiscal_year_away_from_its_posted_entries_is_refused(acme: Ledger) -> None:
    post(acme, purchase("a", "2025-08-14"), purchase("b", "2025-11-30"))
    document = acme_document()
    document["fiscal_years"][0]["end"] = "2025-09-30"

    with pytest.raises(OrphanedPostedLines) as refusal:
        acme.apply_setup(parse_setup(document))

    message = str(refusal.value)
    assert "fiscal year 2025 is changed to run from 2025-01-01 to 2025-09-30" in message
    assert "posted entries use it (1 entry, 3 lines)" in message
    assert "from 2025-11-30 to 2025-11-30" in message


def test_changing_a_fiscal_year_s_dates_around_its_posted_entries_is_allowed(
    acme: Ledger,
) -> None:
    post(acme, purchase("a", "2025-08-14"))
    document = acme_document()
    document["fiscal_years"][0]["start"] = "2025-02-01"

    report = acme.apply_setup(parse_setup(document))

    assert report.items["fiscal_years"] == ItemChanges(changed=1)


def test_moving_a_third_party_to_another_account_is_refused(acme: Ledger) -> None:
    post(acme, purchase("a"))
    document = acme_document()
    document["third_parties"][0]["account"] = "411000"

    with pytest.raises(OrphanedPostedLines) as refusal:
        acme.apply_setup(parse_setup(document))

    message = str(refusal.value)
    assert "third party FEDF is moved from account 401000 to 411000" in message
    assert "keep it under account 401000" in message
