"""The connector indicator, publishing the ledger's setup, and the built-in connector."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledgerbridge.connectors import LedgerConnector, RelayConnector
from ledgerbridge.connectors.base import DepositRefused
from ledgerbridge.db import Database
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.ledger import Ledger
from ledgerbridge.relay import (
    CertificateExpired,
    ConnectorInactive,
    ConsentRequired,
    Relay,
)
from tests.integration.ledger_samples import acme_setup, purchase
from tests.integration.relay_samples import (
    LAST_YEAR,
    NEXT_YEAR,
    NOW,
    batch_with_a_malformed_entry,
    entries_batch,
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def relay(database: Database, clock: FixedClock) -> Relay:
    return Relay(database, clock)


def test_a_folder_is_connected_when_its_connector_is_active_and_the_credential_valid(
    relay: Relay,
) -> None:
    relay.authenticate_administrator()
    state = relay.activate_connector("ACME", accept=True)

    assert state.connected
    assert state.reason is None
    assert state.as_dict()["indicator"] == "green"


def test_a_folder_never_set_up_is_disconnected_with_every_reason(relay: Relay) -> None:
    state = relay.connector_state("ACME")

    assert not state.connected
    assert state.reasons == (
        "the reference administrator has never authenticated",
        "the marketplace connector of the folder has never been activated",
    )


def test_an_expired_credential_disconnects_every_folder(relay: Relay, clock: FixedClock) -> None:
    relay.activate_connector("ACME", accept=True)
    credential = relay.authenticate_administrator(NEXT_YEAR)
    assert credential.valid

    clock.advance(timedelta(days=366))

    state = relay.connector_state("ACME")
    assert not state.connected
    assert state.credential_reason is not None and "expired" in state.credential_reason
    assert state.connector_reason is None


def test_a_credential_given_a_past_date_is_recorded_expired(relay: Relay) -> None:
    credential = relay.authenticate_administrator(LAST_YEAR)

    assert not credential.valid
    stored = relay.credential()
    assert stored is not None
    assert (stored.expires_at, stored.valid) == (credential.expires_at, False)


def test_a_date_keeps_the_credential_valid_to_the_end_of_that_day_in_paris(
    relay: Relay, clock: FixedClock
) -> None:
    credential = relay.authenticate_administrator(NOW.date())

    assert credential.valid
    assert credential.expires_at.isoformat() == "2026-03-20T23:00:00+00:00"


def test_activating_a_connector_needs_its_interactions_accepted(relay: Relay) -> None:
    with pytest.raises(ConsentRequired):
        relay.activate_connector("ACME", accept=False)

    assert not relay.connector_state("ACME").active


def test_deactivating_a_connector_asks_for_acceptance_again(relay: Relay) -> None:
    relay.activate_connector("ACME", accept=True)

    state = relay.deactivate_connector("ACME")

    assert (state.active, state.consent) == (False, False)
    assert state.connector_reason == "the marketplace connector of the folder is deactivated"


def test_publishing_the_setup_needs_a_valid_credential(relay: Relay) -> None:
    relay.activate_connector("ACME", accept=True)
    relay.authenticate_administrator(LAST_YEAR)

    with pytest.raises(CertificateExpired):
        relay.publish_setup("ACME", acme_setup())

    assert relay.published_setup("ACME") is None


def test_publishing_the_setup_needs_the_connector_active(relay: Relay) -> None:
    relay.authenticate_administrator()

    with pytest.raises(ConnectorInactive) as refused:
        relay.publish_setup("ACME", acme_setup())

    assert refused.value.message == (
        "Cannot resynchronize the fiscal years for folder ACME: the marketplace connector"
        " of the folder has never been activated."
    )
    assert refused.value.fix is not None
    assert "ledgerbridge ledger marketplace ACME --activate --accept" in refused.value.fix
    assert relay.published_setup("ACME") is None


def test_the_latest_publication_is_the_one_kept(relay: Relay, clock: FixedClock) -> None:
    relay.authenticate_administrator()
    relay.activate_connector("ACME", accept=True)
    relay.publish_setup("ACME", acme_setup())
    clock.advance(timedelta(hours=1))
    closed_2025 = acme_setup(
        fiscal_years=[
            {"code": "2025", "start": "2025-01-01", "end": "2025-12-31", "status": "closed"},
            {"code": "2026", "start": "2026-01-01", "end": "2026-12-31"},
        ]
    )

    relay.publish_setup("ACME", closed_2025)

    publication = relay.published_setup("ACME")
    assert publication is not None
    assert publication.published_at == NOW + timedelta(hours=1)
    assert publication.setup == closed_2025


def test_the_relay_connector_carries_batches_and_answers_for_the_workspace(
    relay: Relay, acme: Ledger
) -> None:
    connector: LedgerConnector = RelayConnector(relay, acme.folders)
    relay.authenticate_administrator()

    connector.deposit(entries_batch("b-1", purchase("a")))
    connector.deposit(entries_batch("b-1", purchase("a")))  # a resend after a timeout
    link = connector.link_state("ACME")
    assert (link.connected, link.waiting_batches, link.oldest_waiting_at) == (False, 1, NOW)
    relay.open_folder("ACME", acme)
    assert connector.link_state("ACME").wait_reason == (
        "the marketplace connector of the folder has never been activated"
    )

    relay.activate_connector("ACME", accept=True)
    relay.open_folder("ACME", acme)

    [result] = connector.collect_results("ACME")
    assert (result.key, result.batch_id, result.result["entry_number"]) == ("ACME/a/1", "b-1", 1)
    connector.acknowledge("ACME", [result.result_id])
    assert connector.collect_results("ACME") == []
    assert connector.link_state("ACME").connected
    assert connector.link_state("ACME").waiting_batches == 0


def test_the_relay_connector_knows_the_ledgers_folders_and_published_setup(
    relay: Relay, acme: Ledger
) -> None:
    connector = RelayConnector(relay, acme.folders)
    relay.authenticate_administrator()
    relay.activate_connector("ACME", accept=True)

    assert connector.folder_exists("ACME")
    assert not connector.folder_exists("OTHER")
    assert connector.published_setup("ACME") is None

    relay.publish_setup("ACME", acme.folder_setup("ACME"))

    assert connector.published_setup("ACME") == (acme.folder_setup("ACME"), NOW)


def test_a_batch_the_relay_cannot_read_is_refused_for_good_naming_the_entries_at_fault(
    relay: Relay,
) -> None:
    connector = RelayConnector(relay, lambda: ["ACME"])
    batch = batch_with_a_malformed_entry()

    with pytest.raises(DepositRefused) as refused:
        connector.deposit(batch)

    assert refused.value.batch_id == "b-1"
    assert refused.value.problems == ((1, "entries[1].lines[0].debt: unknown field"),)
    assert relay.waiting("ACME") == []


def test_a_batch_id_taken_by_another_batch_is_refused_for_good(relay: Relay) -> None:
    connector = RelayConnector(relay, lambda: ["ACME", "OTHER"])
    relay.deposit(entries_batch("b-1", purchase("a"), folder="OTHER"))

    with pytest.raises(DepositRefused) as refused:
        connector.deposit(entries_batch("b-1", purchase("a")))

    assert "already holds a batch under that id" in refused.value.message
