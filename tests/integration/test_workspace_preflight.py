"""The mirror of the ledger's setup and the pre-flight: the ledger's own check, run before
sending, shown in the list as `predicted` with its remedy; no mirror, no prediction."""

from __future__ import annotations

import pytest

from ledgerbridge.db import Database
from ledgerbridge.domain.check import check_entry
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.setup import FolderSetup, parse_setup
from ledgerbridge.workspace.entries import EntryRow
from ledgerbridge.workspace.errors import UnknownClient
from ledgerbridge.workspace.service import Workspace
from tests.integration.ledger_samples import acme_document
from tests.integration.workspace_samples import (
    NOW,
    PUBLISHED_AT,
    RecordingConnector,
    acme_setup,
    force_status,
    invoice,
    new_workspace,
    parsed,
    stored,
    without_auxiliary,
)

S = Status


@pytest.fixture
def connected(database: Database) -> tuple[Workspace, RecordingConnector]:
    workspace, connector, _ = new_workspace(database)
    workspace.connect_client("ACME")
    return workspace, connector


@pytest.fixture
def workspace(connected: tuple[Workspace, RecordingConnector]) -> Workspace:
    return connected[0]


def rows(workspace: Workspace) -> dict[str, EntryRow]:
    return {row.id: row for row in workspace.list_entries("ACME")}


def with_locked_vat_account() -> FolderSetup:
    document = acme_document()
    for account in document["accounts"]:
        if account["number"] == "445660":
            account["locked"] = True
    return parse_setup(document)


def test_without_a_mirror_nothing_is_predicted(workspace: Workspace) -> None:
    workspace.import_entries("ACME", parsed(without_auxiliary("bad"), invoice("good")))
    assert workspace.mirror("ACME") is None
    assert {row.id: (row.predicted, row.remedy) for row in rows(workspace).values()} == {
        "bad": (None, None),
        "good": (None, None),
    }


def test_the_preflight_predicts_the_ledgers_code_and_message_with_a_precise_remedy(
    workspace: Workspace,
) -> None:
    workspace.store_mirror("ACME", acme_setup(), PUBLISHED_AT)
    workspace.import_entries("ACME", parsed(without_auxiliary("bad"), invoice("good")))
    listed = rows(workspace)
    assert listed["good"].predicted is None
    assert listed["good"].remedy is None
    bad = listed["bad"].as_dict()
    assert bad["status"] == "to_verify"
    assert (bad["code"], bad["message"]) == (None, None)  # the ledger has said nothing yet
    assert bad["predicted"] == {
        "code": "collective_account",
        "message": "Account (401000) or other is collective",
        "findings": [
            {
                "code": "collective_account",
                "line": 3,
                "message": "Account (401000) or other is collective",
                "detail": "line 3 uses collective account 401000 without an auxiliary account",
            }
        ],
    }
    assert bad["remedy"]["precise"] == [
        "line 3 uses 401000 without an auxiliary account; EDF's auxiliary account is FEDF"
    ]


def test_the_preflight_is_the_ledgers_own_check_against_the_mirror(workspace: Workspace) -> None:
    setup = acme_setup()
    documents = [
        invoice("ok"),
        without_auxiliary("collective"),
        invoice("closed", date="2024-06-01"),
        invoice("cursor", date="2025-03-01"),
        invoice("od", journal="OD"),
        invoice("unbalanced", lines=invoice("x")["lines"][:2]),
    ]
    workspace.store_mirror("ACME", setup, PUBLISHED_AT)
    workspace.import_entries("ACME", parsed(*documents))
    expected = {entry.id: check_entry(entry, FolderIndex.of(setup)) for entry in parsed(*documents)}
    listed = rows(workspace)
    assert set(listed) == set(expected)
    for key, result in expected.items():
        shown = listed[key].predicted
        assert (shown["code"] if shown else None) == result.code, key


def test_the_to_verify_tab_is_predicted_failed_entries_included_but_not_the_others(
    workspace: Workspace, database: Database
) -> None:
    workspace.store_mirror("ACME", acme_setup(), PUBLISHED_AT)
    names = ["to_verify", "verified", "failed", "excluded", "synchronizing", "synchronized"]
    workspace.import_entries("ACME", parsed(*(without_auxiliary(name) for name in names)))
    workspace.verify("ACME", ["verified"])
    workspace.exclude("ACME", ["excluded"])
    force_status(database, "ACME", "failed", S.SYNC_FAILED, code="E1", message="Refusé")
    force_status(database, "ACME", "synchronizing", S.SYNCHRONIZING)
    force_status(database, "ACME", "synchronized", S.SYNCHRONIZED, entry_number=3)
    predicted = {
        key: row.predicted["code"] if row.predicted else None
        for key, row in rows(workspace).items()
    }
    assert predicted == {
        "to_verify": "collective_account",
        "verified": "collective_account",
        "failed": "collective_account",
        "excluded": None,
        "synchronizing": None,
        "synchronized": None,
    }


def test_a_new_mirror_predicts_every_entry_again(workspace: Workspace, database: Database) -> None:
    workspace.store_mirror("ACME", acme_setup(), PUBLISHED_AT)
    workspace.import_entries("ACME", parsed(invoice("inv-1")))
    assert rows(workspace)["inv-1"].predicted is None
    workspace.store_mirror("ACME", with_locked_vat_account(), NOW)
    row = rows(workspace)["inv-1"]
    assert row.predicted is not None
    assert (row.predicted["code"], row.predicted["message"]) == (
        "account_locked",
        "Account 445660 is locked",
    )
    assert row.remedy is not None
    assert row.remedy.precise == ("line 2 uses locked account 445660",)
    kept = stored(database, "ACME", "inv-1")
    assert kept is not None and kept.predicted_against is not None


def test_an_entry_restored_after_the_mirror_changed_is_predicted_against_the_new_one(
    workspace: Workspace,
) -> None:
    workspace.store_mirror("ACME", acme_setup(), PUBLISHED_AT)
    workspace.import_entries("ACME", parsed(invoice("inv-1")))
    workspace.exclude("ACME", ["inv-1"])
    workspace.store_mirror("ACME", with_locked_vat_account(), NOW)
    workspace.restore("ACME", ["inv-1"])
    row = rows(workspace)["inv-1"]
    assert row.predicted is not None and row.predicted["code"] == "account_locked"


def test_an_edit_is_predicted_against_the_mirror(workspace: Workspace) -> None:
    workspace.store_mirror("ACME", acme_setup(), PUBLISHED_AT)
    workspace.import_entries("ACME", parsed(without_auxiliary("inv-1")))
    assert rows(workspace)["inv-1"].predicted is not None
    fixed = invoice("x")["lines"]
    workspace.edit("ACME", "inv-1", {"lines": fixed})
    assert rows(workspace)["inv-1"].predicted is None


def test_refreshing_the_mirror_takes_the_setup_the_ledger_published(
    connected: tuple[Workspace, RecordingConnector],
) -> None:
    workspace, connector = connected
    assert workspace.refresh_mirror("ACME") is None
    connector.publications["ACME"] = (acme_setup(), PUBLISHED_AT)
    mirror = workspace.refresh_mirror("ACME")
    assert mirror is not None
    assert (mirror.published_at, mirror.received_at) == (PUBLISHED_AT, NOW)
    assert mirror.setup == acme_setup()
    assert workspace.mirror("ACME") == mirror
    assert workspace.refresh_mirror("ACME") == mirror  # nothing new: kept as it is


def test_the_mirror_of_an_unknown_client_is_refused(workspace: Workspace) -> None:
    with pytest.raises(UnknownClient):
        workspace.refresh_mirror("NOPE")
    with pytest.raises(UnknownClient):
        workspace.store_mirror("NOPE", acme_setup(), PUBLISHED_AT)
