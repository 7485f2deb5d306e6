"""Clients: the initial connection (refused without a ledger folder, reference data sent once
recorded in the outbox), defaults, and settings changed only where told."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ledgerbridge.db import Database
from ledgerbridge.domain.malformed import MalformedDocument
from ledgerbridge.workspace.clients import parse_reference, parse_send_time
from ledgerbridge.workspace.errors import UnknownClient, UnknownLedgerFolder
from ledgerbridge.workspace.service import Workspace
from ledgerbridge.workspace.tables import clients, outbox
from tests.integration.workspace_samples import NOW, RecordingConnector, new_workspace

REFERENCE = {
    "accounts": [{"number": "401000", "name": "Fournisseurs", "collective": True}],
    "third_parties": [
        {"code": "FEDF", "name": "EDF", "account": "401000"},
        {"code": "FORANGE", "name": "Orange", "account": "401000"},
    ],
}


@pytest.fixture
def setup(database: Database) -> tuple[Workspace, RecordingConnector]:
    workspace, connector, _ = new_workspace(database)
    return workspace, connector


def test_connecting_a_folder_the_ledger_does_not_have_is_refused(
    setup: tuple[Workspace, RecordingConnector], database: Database
) -> None:
    workspace, _ = setup
    with pytest.raises(UnknownLedgerFolder) as refused:
        workspace.connect_client("NOPE")
    assert "the ledger has no folder 'NOPE'" in refused.value.message
    assert refused.value.fix is not None and "ledger apply" in refused.value.fix
    with database.transaction(write=False) as connection:
        assert connection.execute(sa.select(clients)).first() is None


def test_a_new_client_starts_manual_with_the_api_on_at_two_in_paris(
    setup: tuple[Workspace, RecordingConnector],
) -> None:
    workspace, connector = setup
    report = workspace.connect_client("ACME")
    assert report.created
    assert report.reference_batch is None
    settings = workspace.client("ACME")
    assert (settings.api_enabled, settings.auto_send, settings.send_at, settings.timezone) == (
        True,
        "manual",
        "02:00",
        "Europe/Paris",
    )
    assert settings.created_at == NOW
    assert connector.deposited == []


def test_options_given_at_connection_override_the_defaults(
    setup: tuple[Workspace, RecordingConnector],
) -> None:
    workspace, _ = setup
    workspace.connect_client("ACME", auto_send="nightly", api_enabled=False)
    settings = workspace.client("ACME")
    assert (settings.api_enabled, settings.auto_send) == (False, "nightly")


def test_reference_data_goes_to_the_ledger_as_one_batch_recorded_in_the_outbox(
    setup: tuple[Workspace, RecordingConnector], database: Database
) -> None:
    workspace, connector = setup
    reference = parse_reference(REFERENCE, folder="ACME")
    report = workspace.connect_client("ACME", reference=reference)
    assert (report.accounts, report.third_parties) == (1, 2)
    [batch] = connector.deposited
    assert batch.kind == "reference"
    assert batch.batch_id == report.reference_batch
    assert [item.label for item in batch.reference] == [
        "account 401000",
        "third party FEDF",
        "third party FORANGE",
    ]
    assert batch.entries == ()
    with database.transaction(write=False) as connection:
        row = connection.execute(sa.select(outbox)).one()
    assert (row.batch_id, row.client, row.kind) == (batch.batch_id, "ACME", "reference")
    assert row.deposited_at == NOW


def test_connecting_again_updates_only_the_settings_given_and_may_send_reference_data_again(
    setup: tuple[Workspace, RecordingConnector],
) -> None:
    workspace, connector = setup
    workspace.connect_client("ACME", auto_send="nightly", api_enabled=False)
    workspace.set_client("ACME", send_at="03:30")
    again = workspace.connect_client(
        "ACME", api_enabled=True, reference=parse_reference(REFERENCE, folder="ACME")
    )
    assert not again.created
    settings = workspace.client("ACME")
    assert (settings.api_enabled, settings.auto_send, settings.send_at) == (
        True,
        "nightly",
        "03:30",
    )
    assert len(connector.deposited) == 1


def test_setting_one_option_keeps_the_others(setup: tuple[Workspace, RecordingConnector]) -> None:
    workspace, _ = setup
    workspace.connect_client("ACME")
    workspace.set_client("ACME", auto_send="nightly")
    workspace.set_client("ACME", send_at="23:15")
    workspace.set_client("ACME", api_enabled=False)
    settings = workspace.client("ACME")
    assert (settings.api_enabled, settings.auto_send, settings.send_at) == (
        False,
        "nightly",
        "23:15",
    )


def test_settings_of_an_unknown_client_are_refused(
    setup: tuple[Workspace, RecordingConnector],
) -> None:
    workspace, _ = setup
    with pytest.raises(UnknownClient):
        workspace.set_client("ACME", api_enabled=False)
    with pytest.raises(UnknownClient):
        workspace.client("ACME")


def test_clients_are_listed_by_folder(database: Database) -> None:
    workspace, _, _ = new_workspace(database, RecordingConnector(["ZETA", "ACME"]))
    workspace.connect_client("ZETA")
    workspace.connect_client("ACME")
    assert [settings.folder for settings in workspace.clients()] == ["ACME", "ZETA"]


@pytest.mark.parametrize("text", ["24:00", "2h", "12:60", "", "noon", "12:5"])
def test_a_sending_time_must_be_a_time_of_day(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_send_time(text)


def test_a_sending_time_is_kept_as_hh_mm() -> None:
    assert parse_send_time("2:00") == "02:00"
    assert parse_send_time("23:59") == "23:59"


def test_a_malformed_reference_document_lists_every_problem() -> None:
    with pytest.raises(MalformedDocument) as malformed:
        parse_reference(
            {
                "folder": "OTHER",
                "accounts": [{"number": "401000", "colective": True}, {"number": "401000"}],
                "third_parties": "none",
            },
            folder="ACME",
        )
    paths = {problem.path for problem in malformed.value.problems}
    assert {"accounts[0].colective", "third_parties"} <= paths


def test_a_reference_document_for_another_folder_or_with_duplicates_is_malformed() -> None:
    with pytest.raises(MalformedDocument) as malformed:
        parse_reference(
            {"folder": "OTHER", "accounts": [{"number": "401000"}, {"number": "401000"}]},
            folder="ACME",
        )
    assert [problem.path for problem in malformed.value.problems] == [
        "folder",
        "accounts[1].number",
    ]
