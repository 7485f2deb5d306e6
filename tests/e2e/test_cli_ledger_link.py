"""The ledger's link verbs end to end: open, marketplace, admin-auth, resync-fiscal-years."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import ledgerbridge.cli.ledger_link as ledger_link
from ledgerbridge.db import Database
from ledgerbridge.domain.keys import entry_key
from ledgerbridge.relay import OutgoingBatch, OutgoingEntry, Relay
from tests.e2e.conftest import Cli

CERTIFICATE_EXPIRED = (
    "For security reasons, the GE Connector security certificate has expired."
    " It is necessary for the reference administrator to identify again."
)


@pytest.fixture
def relay(cli: Cli) -> Iterator[Relay]:
    """The relay of the command's home, as the workspace reaches it."""
    database = Database.open(home=cli.home)
    yield Relay(database)
    database.dispose()


@pytest.fixture
def acme(cli: Cli, setup_file: Path) -> Cli:
    assert cli("ledger", "apply", "--setup", setup_file).code == 0
    return cli


def deposit_entries(relay: Relay, entries_file: Path, batch_id: str = "ACME-1") -> None:
    document = json.loads(entries_file.read_text(encoding="utf-8"))
    relay.deposit(
        OutgoingBatch(
            batch_id=batch_id,
            folder="ACME",
            entries=tuple(
                OutgoingEntry(entry_key("ACME", entry["id"], 1), json.dumps(entry))
                for entry in document["entries"]
            ),
        )
    )


def test_open_injects_waiting_batches_once_connector_and_credential_allow(
    acme: Cli, relay: Relay, entries_file: Path
) -> None:
    deposit_entries(relay, entries_file)
    assert acme("ledger", "admin-auth").code == 0
    assert acme("ledger", "marketplace", "ACME", "--activate", "--accept").code == 0

    outcome = acme("ledger", "open", "ACME", "--json")

    assert outcome.code == 0
    assert outcome.json == {
        "opening": {
            "folder": "ACME",
            "injected_batches": 1,
            "posted": 2,
            "replayed": 0,
            "rejected": 1,
            "expected_rejections": 0,
            "expected_items": [],
            "refused_items": [],
            "reference_added": 0,
            "waiting_batches": 0,
            "wait_reason": None,
            "busy_batches": 0,
        }
    }
    assert "1 batch injected: 2 posted, 0 already posted (replays), 1 rejected" in outcome.err
    posted = acme("ledger", "entries", "ACME", "--json").json["entries"]
    assert sorted(entry["id"] for entry in posted) == ["ok-edf", "ok-small"]


def test_open_with_an_expired_certificate_is_refused_with_the_ledgers_message(
    acme: Cli, relay: Relay, entries_file: Path
) -> None:
    deposit_entries(relay, entries_file)
    acme("ledger", "marketplace", "ACME", "--activate", "--accept")
    assert acme("ledger", "admin-auth", "--expires", "2020-01-31").code == 0

    outcome = acme("ledger", "open", "ACME")

    assert outcome.code == 1
    assert CERTIFICATE_EXPIRED in outcome.err
    assert "ledgerbridge ledger admin-auth" in outcome.err
    assert acme("ledger", "entries", "ACME", "--json").json == {"entries": []}
    assert len(relay.waiting("ACME")) == 1


def test_a_certificate_refusal_tells_the_expiry_in_the_folders_client_zone(acme: Cli) -> None:
    acme("ledger", "marketplace", "ACME", "--activate", "--accept")
    acme("ledger", "admin-auth", "--expires", "2020-01-31")
    without_client = acme("ledger", "open", "ACME")
    acme("client", "connect", "ACME")
    acme("client", "set", "ACME", "--timezone", "America/Martinique")

    opened = acme("ledger", "open", "ACME")
    resynced = acme("ledger", "resync-fiscal-years", "ACME")

    assert "The certificate expired on 2020-02-01 00:00 CET." in without_client.err
    for refused in (opened, resynced):
        assert refused.code == 1
        assert "The certificate expired on 2020-01-31 19:00 AST." in refused.err
        assert "UTC" not in refused.err


def test_open_refusal_in_json_is_one_error_object(acme: Cli) -> None:
    outcome = acme("ledger", "open", "ACME", "--json")

    assert outcome.code == 1
    assert outcome.json["error"]["code"] == "certificate_expired"
    assert outcome.json["error"]["message"].startswith(CERTIFICATE_EXPIRED)


def test_open_with_the_connector_inactive_succeeds_and_says_why_batches_wait(
    acme: Cli, relay: Relay, entries_file: Path
) -> None:
    deposit_entries(relay, entries_file)
    acme("ledger", "admin-auth")
    acme("ledger", "marketplace", "ACME", "--activate", "--accept")
    deactivated = acme("ledger", "marketplace", "ACME", "--deactivate")

    outcome = acme("ledger", "open", "ACME")

    assert outcome.code == 0
    assert "1 waiting batch is kept until it is activated again." in deactivated.err
    assert (
        "Folder ACME opened; 1 batch waits in the relay, not injected: the marketplace"
        " connector of the folder is deactivated." in outcome.err
    )
    assert acme("ledger", "entries", "ACME", "--json").json == {"entries": []}
    assert acme("ledger", "marketplace", "ACME", "--activate", "--accept").code == 0
    assert acme("ledger", "open", "ACME", "--json").json["opening"]["posted"] == 2


def test_open_an_unknown_folder_is_refused(cli: Cli) -> None:
    cli("ledger", "admin-auth")

    outcome = cli("ledger", "open", "NOPE")

    assert outcome.code == 1
    assert "Unknown ledger folder 'NOPE'" in outcome.err


def test_marketplace_without_option_shows_the_connector_and_the_administrator(
    acme: Cli,
) -> None:
    outcome = acme("ledger", "marketplace", "ACME")

    assert outcome.code == 0
    assert "marketplace connector    never activated" in outcome.out
    assert "reference administrator  never authenticated" in outcome.out
    assert "indicator                disconnected: the reference administrator" in outcome.out


def test_marketplace_json_shows_the_indicator_with_its_reasons(acme: Cli) -> None:
    acme("ledger", "admin-auth", "--expires", "2099-12-31")
    acme("ledger", "marketplace", "ACME", "--activate", "--accept")

    connector = acme("ledger", "marketplace", "ACME", "--json").json["connector"]

    assert {key: connector[key] for key in ("folder", "active", "consent", "connected")} == {
        "folder": "ACME",
        "active": True,
        "consent": True,
        "connected": True,
    }
    assert connector["indicator"] == "green"
    assert connector["reason"] is None
    assert connector["administrator"]["valid"] is True
    assert connector["administrator"]["expires_at"] == "2099-12-31T23:00:00+00:00"
    assert connector["waiting_batches"] == 0


def test_marketplace_activation_needs_acceptance(acme: Cli) -> None:
    outcome = acme("ledger", "marketplace", "ACME", "--activate")

    assert outcome.code == 1
    assert "--activate --accept" in outcome.err
    assert acme("ledger", "marketplace", "ACME", "--json").json["connector"]["active"] is False


def test_marketplace_deactivation_in_json_shows_the_state_after(acme: Cli) -> None:
    acme("ledger", "marketplace", "ACME", "--activate", "--accept")

    outcome = acme("ledger", "marketplace", "ACME", "--deactivate", "--json")

    assert outcome.code == 0
    assert outcome.json["connector"]["active"] is False
    assert outcome.json["connector"]["connected"] is False


@pytest.mark.parametrize(
    "options", [("--activate", "--deactivate"), ("--accept",), ("--deactivate", "--accept")]
)
def test_marketplace_options_that_contradict_each_other_are_bad_usage(
    acme: Cli, options: tuple[str, ...]
) -> None:
    assert acme("ledger", "marketplace", "ACME", *options).code == 2


def test_marketplace_of_an_unknown_folder_is_refused(acme: Cli) -> None:
    outcome = acme("ledger", "marketplace", "NOPE", "--activate", "--accept")

    assert outcome.code == 1
    assert "Unknown ledger folder 'NOPE'" in outcome.err


def test_admin_auth_is_valid_one_year_by_default(cli: Cli) -> None:
    outcome = cli("ledger", "admin-auth", "--json")

    assert outcome.code == 0
    credential = outcome.json["credential"]
    assert credential["valid"] is True
    assert credential["expires_at"][:4] == str(int(credential["authenticated_at"][:4]) + 1)
    assert "certificate is valid until" in outcome.err


def test_admin_auth_accepts_a_past_date_and_records_an_expired_credential(cli: Cli) -> None:
    outcome = cli("ledger", "admin-auth", "--expires", "2020-01-31", "--json")

    assert outcome.code == 0
    assert outcome.json["credential"]["valid"] is False
    assert "expired" in outcome.err


def test_admin_auth_with_a_date_says_the_last_day_of_validity_and_the_local_end(
    cli: Cli,
) -> None:
    valid = cli("ledger", "admin-auth", "--expires", "2099-12-31")
    expired = cli("ledger", "admin-auth", "--expires", "2020-01-31")

    assert "the certificate is valid through 2099-12-31 (until 2100-01-01 00:00 CET)." in valid.err
    assert "valid through 2020-01-31, expired since 2020-02-01 00:00 CET:" in expired.err
    assert "UTC" not in valid.err + expired.err


def test_admin_auth_by_default_tells_its_end_in_local_time(cli: Cli) -> None:
    outcome = cli("ledger", "admin-auth")

    assert re.search(r"valid until \d{4}-\d\d-\d\d \d\d:\d\d CES?T\.", outcome.err)


def test_marketplace_tells_the_ledgers_times_in_the_folders_client_zone(acme: Cli) -> None:
    acme("ledger", "admin-auth", "--expires", "2020-01-31")
    acme("ledger", "marketplace", "ACME", "--activate", "--accept")
    deactivated = acme("ledger", "marketplace", "ACME", "--deactivate")
    without_client = acme("ledger", "marketplace", "ACME")
    acme("client", "connect", "ACME")
    acme("client", "set", "ACME", "--timezone", "America/Martinique")

    with_client = acme("ledger", "marketplace", "ACME")

    # Europe/Paris, the product's default zone, while no client is tied to the folder.
    assert re.search(r"deactivated \(since \d{4}-\d\d-\d\d \d\d:\d\d CES?T\)", without_client.out)
    assert "certificate expired on 2020-02-01 00:00 CET" in without_client.out
    assert (
        "disconnected: the GE Connector security certificate expired on 2020-02-01 00:00 CET"
        in (deactivated.err)
    )
    assert "certificate expired on 2020-01-31 19:00 AST" in with_client.out
    assert re.search(r"deactivated \(since \d{4}-\d\d-\d\d \d\d:\d\d AST\)", with_client.out)
    assert "UTC" not in without_client.out + deactivated.err + with_client.out


def test_marketplace_json_keeps_iso_times_and_its_reasons_in_utc(acme: Cli) -> None:
    acme("ledger", "admin-auth", "--expires", "2020-01-31")

    connector = acme("ledger", "marketplace", "ACME", "--json").json["connector"]

    assert connector["administrator"]["expires_at"] == "2020-01-31T23:00:00+00:00"
    assert "expired on 2020-01-31 23:00 UTC" in connector["administrator"]["reason"]


def test_admin_auth_with_an_impossible_date_is_bad_usage(cli: Cli) -> None:
    outcome = cli("ledger", "admin-auth", "--expires", "2026-13-01")

    assert outcome.code == 2
    assert "YYYY-MM-DD" in outcome.err


@pytest.mark.parametrize(("day", "code"), [("9999-12-30", 0), ("9999-12-31", 2), ("1899-12-31", 2)])
def test_admin_auth_takes_a_date_whose_end_a_date_can_hold(cli: Cli, day: str, code: int) -> None:
    outcome = cli("ledger", "admin-auth", "--expires", day)

    assert outcome.code == code
    if code:
        assert "expected a date from 1900-01-01 to 9999-12-30" in outcome.err


def test_resync_fiscal_years_publishes_the_folders_setup(acme: Cli, relay: Relay) -> None:
    acme("ledger", "admin-auth")
    acme("ledger", "marketplace", "ACME", "--activate", "--accept")

    outcome = acme("ledger", "resync-fiscal-years", "ACME", "--json")

    assert outcome.code == 0
    publication = outcome.json["publication"]
    assert publication["folder"] == "ACME"
    assert [year["code"] for year in publication["fiscal_years"]] == ["2025", "2026"]
    assert publication["setup"]["folder"] == "ACME"
    published = relay.published_setup("ACME")
    assert published is not None
    assert published.published_at.isoformat() == publication["published_at"]
    assert "fiscal years: 2025 open, 2026 open" in outcome.err


def test_resync_fiscal_years_tells_the_publication_time_in_the_clients_zone(acme: Cli) -> None:
    acme("ledger", "admin-auth")
    acme("ledger", "marketplace", "ACME", "--activate", "--accept")
    acme("client", "connect", "ACME")
    acme("client", "set", "ACME", "--timezone", "America/Martinique")

    outcome = acme("ledger", "resync-fiscal-years", "ACME")

    assert outcome.code == 0
    assert re.search(r"published to the workspace at \d{4}-\d\d-\d\d \d\d:\d\d AST ", outcome.err)


def test_resync_fiscal_years_is_refused_with_the_connector_inactive(acme: Cli) -> None:
    acme("ledger", "admin-auth")

    outcome = acme("ledger", "resync-fiscal-years", "ACME")

    assert outcome.code == 1
    assert "the marketplace connector of the folder has never been activated" in outcome.err
    assert "ledgerbridge ledger marketplace ACME --activate --accept" in outcome.err


def test_resync_fiscal_years_is_refused_with_the_certificate_expired(acme: Cli) -> None:
    acme("ledger", "marketplace", "ACME", "--activate", "--accept")
    acme("ledger", "admin-auth", "--expires", "2020-01-31")

    outcome = acme("ledger", "resync-fiscal-years", "ACME", "--json")

    assert outcome.code == 1
    assert outcome.json["error"]["code"] == "certificate_expired"


def test_resync_fiscal_years_hands_the_publication_to_the_workspace_at_once(
    acme: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivered: list[str] = []
    monkeypatch.setattr(ledger_link, "deliver_publication", delivered.append)
    acme("ledger", "admin-auth")
    acme("ledger", "marketplace", "ACME", "--activate", "--accept")

    assert acme("ledger", "resync-fiscal-years", "ACME").code == 0

    assert delivered == ["ACME"]
