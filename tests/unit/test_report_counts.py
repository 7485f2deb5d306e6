"""What the reports say counts each noun right: "1 entry was", "2 entries were"."""

from __future__ import annotations

from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.ledger.errors import Orphan
from ledgerbridge.ledger.folders import ApplyReport, ItemChanges
from ledgerbridge.relay.values import OpeningReport
from ledgerbridge.workspace.importing import NEW, ImportOutcome, ImportReport
from ledgerbridge.workspace.sync import SyncReport


def test_a_sync_of_one_entry_says_entry() -> None:
    assert SyncReport("ACME", 1, "b1").summary() == (
        "Client ACME: 1 entry sent to the relay; sent entries stay synchronizing until the ledger"
        " opens the folder's accounting."
    )
    assert SyncReport("ACME", 2, "b1").summary().startswith("Client ACME: 2 entries sent")


def test_a_sync_resending_one_entry_says_entry() -> None:
    summary = SyncReport("ACME", 0, None, resent=1).summary()
    assert summary.startswith(
        "Client ACME: 0 entries sent to the relay,"
        " 1 entry of an unconfirmed earlier send deposited again;"
    )


def test_one_refused_entry_was_not_sent_and_two_were_not() -> None:
    one = SyncReport("ACME", 0, None, refused=1, refusals=("the folder is closed",))
    two = SyncReport("ACME", 0, None, refused=2, refusals=("the folder is closed",))
    assert one.summary().startswith(
        "Client ACME: 1 entry was not sent: the folder is closed. An entry not sent"
    )
    assert two.summary().startswith(
        "Client ACME: 2 entries were not sent: the folder is closed. An entry not sent"
    )


def test_one_reference_item_resent_was_deposited_again() -> None:
    one = SyncReport("ACME", 0, None, reference_resent=1).summary()
    two = SyncReport("ACME", 0, None, reference_resent=2).summary()
    assert (
        "The initial connection's 1 account or third party, whose send was interrupted,"
        " was deposited again." in one
    )
    assert (
        "The initial connection's 2 accounts and third parties, whose send was interrupted,"
        " were deposited again." in two
    )


def test_an_import_of_one_entry_says_entry() -> None:
    report = ImportReport("ACME", (ImportOutcome("a", NEW, Status.TO_VERIFY, 1),))
    assert report.summary().startswith("Client ACME: 1 entry imported: 1 new, 0 updated")


def test_one_waiting_batch_waits_and_two_wait() -> None:
    def waiting(count: int) -> str:
        return OpeningReport("ACME", waiting_batches=count, wait_reason="closed").lines()[0]

    assert waiting(1) == "Folder ACME opened; 1 batch waits in the relay, not injected: closed."
    assert waiting(2) == "Folder ACME opened; 2 batches wait in the relay, not injected: closed."


def test_an_opening_counts_its_batches_and_reference_items() -> None:
    lines = OpeningReport(
        "ACME", injected_batches=1, posted=1, reference_added=1, busy_batches=1
    ).lines()
    assert lines[0] == (
        "Folder ACME opened; 1 batch injected: 1 posted, 0 already posted (replays), 0 rejected."
    )
    assert lines[1] == "1 account or third party of the initial connection added to the folder."
    assert lines[2].startswith("1 batch is being injected by another opening of the folder")


def test_busy_batches_have_answers_that_agree_with_their_count() -> None:
    def busy(count: int) -> str:
        return OpeningReport("ACME", busy_batches=count).lines()[0]

    assert busy(1) == (
        "Folder ACME opened; 1 batch is being injected by another opening of the folder at this"
        " moment, and left to it: its answers come back to the workspace as usual."
    )
    assert busy(2) == (
        "Folder ACME opened; 2 batches are being injected by another opening of the folder at"
        " this moment, and left to it: their answers come back to the workspace as usual."
    )


def test_expected_rejections_agree_with_their_count() -> None:
    def expected(items: tuple[str, ...]) -> str:
        report = OpeningReport(
            "ACME",
            injected_batches=1,
            expected_rejections=len(items),
            expected_items=items,
        )
        return report.lines()[-1]

    assert expected(("account 512000",)) == (
        "1 third-party or account record sent at the initial connection rejected (account"
        " 512000): this rejection is expected and has no consequence — ignore it."
    )
    assert expected(("account 401000", "third party FEDF")) == (
        "2 third-party or account records sent at the initial connection rejected (account"
        " 401000, third party FEDF): these rejections are expected and have no consequence —"
        " ignore them."
    )


def test_a_created_folder_counts_each_kind_of_item_with_its_own_noun() -> None:
    report = ApplyReport(
        "ACME",
        created=True,
        items={
            "fiscal_years": ItemChanges(added=1),
            "journals": ItemChanges(added=2),
            "accounts": ItemChanges(added=1),
            "third_parties": ItemChanges(added=1),
            "analytic_axes": ItemChanges(added=1),
        },
    )
    assert report.summary() == (
        "folder ACME created (1 fiscal year, 2 journals, 1 account, 1 third party, 1 analytic axis)"
    )
    many = ApplyReport(
        "ACME",
        created=True,
        items={"third_parties": ItemChanges(added=2), "analytic_axes": ItemChanges()},
    )
    assert many.summary() == "folder ACME created (2 third parties, 0 analytic axes)"


def test_an_orphan_counts_its_entries_and_lines() -> None:
    def described(entries: int, lines: int) -> str:
        return Orphan("journal", "ACH", "removed", entries, lines, "keep it").describe()

    assert "(1 entry, 1 line)" in described(1, 1)
    assert "(2 entries, 3 lines)" in described(2, 3)
