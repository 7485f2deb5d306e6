"""Diagnostics (SPEC §3, §7): doctor's six checks, each passing or failing with its fix, and
the Rejections tab, where the initial connection's rejections are expected, never failures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from ledgerbridge.db import Database
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.domain.entries import Entry, entry_document, parse_entry
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.setup import Account, FolderSetup, ReferenceData, ThirdParty, read_value
from ledgerbridge.platform import Platform
from ledgerbridge.relay.errors import CertificateExpired
from ledgerbridge.workspace.diagnostics import Check
from ledgerbridge.workspace.errors import UnknownClient
from ledgerbridge.workspace.service import Workspace
from ledgerbridge.workspace.sync import Synchronizer
from ledgerbridge.workspace.tables import entries, outbox
from tests.integration.ledger_samples import acme_setup, purchase, sale, without_auxiliary
from tests.integration.workspace_samples import Doorway

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)  # 10:00 in Paris (winter time)
CHECK_NAMES = ["api", "connector", "credential", "fiscal_period", "waiting_batches", "mirror"]


def unreachable_relay(firm: Firm) -> Doorway:
    """The firm's connector, its deposits for ACME failing."""
    doorway = Doorway(firm.platform.connector)
    doorway.unreachable.add("ACME")
    return doorway


class Firm:
    """ACME in the ledger and its client in the workspace; nothing else until asked."""

    def __init__(self, database: Database, now: datetime = NOW) -> None:
        self.clock = FixedClock(now)
        self.database = database
        self.platform = Platform.on(database, self.clock)
        self.ledger, self.relay = self.platform.ledger, self.platform.relay
        self.workspace = Workspace(database, self.platform.connector, self.clock)
        self.ledger.apply_setup(acme_setup())
        self.workspace.connect_client("ACME")

    def link(self) -> None:
        self.relay.authenticate_administrator()
        self.relay.activate_connector("ACME", accept=True)

    def publish(self, setup: FolderSetup | None = None) -> None:
        """The ledger publishes the folder's setup; the workspace takes it as its mirror."""
        if setup is not None:
            self.ledger.apply_setup(setup)
        self.relay.publish_setup("ACME", self.ledger.folder_setup("ACME"))
        self.workspace.refresh_mirror("ACME")

    def in_order(self) -> None:
        """Everything a folder needs to pass every check."""
        self.link()
        self.publish()

    def doctor(self) -> dict[str, Check]:
        return {check.name: check for check in self.platform.diagnostics.doctor("ACME")}

    def check(self, name: str) -> Check:
        return self.doctor()[name]

    def send(self, *batch: Entry) -> None:
        """Import these entries, mark them verified, and synchronize."""
        self.workspace.import_entries("ACME", batch)
        self.workspace.verify("ACME", [entry.id for entry in batch])
        self.platform.synchronizer.sync("ACME")

    def rejections(self) -> list[dict[str, Any]]:
        return self.platform.diagnostics.rejections("ACME")


def years(*spans: tuple[str, str]) -> FolderSetup:
    """ACME with these fiscal years, each named after its year, `open` or `closed`."""
    return acme_setup(
        fiscal_years=[
            {"code": code, "start": f"{code}-01-01", "end": f"{code}-12-31", "status": status}
            for code, status in spans
        ]
    )


@pytest.fixture
def firm(database: Database) -> Firm:
    return Firm(database)


# -- doctor -------------------------------------------------------------------------------------


def test_doctor_runs_its_six_checks_and_all_pass_for_a_folder_in_order(firm: Firm) -> None:
    firm.in_order()

    checks = firm.platform.diagnostics.doctor("ACME")

    assert [check.name for check in checks] == CHECK_NAMES
    assert [(check.ok, check.fix) for check in checks] == [(True, None)] * 6
    assert all(check.message for check in checks)
    assert set(checks[0].as_dict()) == {"name", "ok", "message", "fix"}


def test_doctor_of_an_unknown_client_is_refused(firm: Firm) -> None:
    with pytest.raises(UnknownClient):
        firm.platform.diagnostics.doctor("NOPE")


def test_every_failing_check_says_how_to_fix_it(firm: Firm) -> None:
    firm.workspace.set_client("ACME", api_enabled=False)

    checks = [check for check in firm.doctor().values() if not check.ok]

    assert [check.name for check in checks] == [
        "api",
        "connector",
        "credential",
        "fiscal_period",
        "mirror",
    ]
    assert all(check.fix for check in checks)


def test_api_check_fails_with_the_api_off(firm: Firm) -> None:
    firm.in_order()
    firm.workspace.set_client("ACME", api_enabled=False)

    api = firm.check("api")

    assert not api.ok
    assert "disabled" in api.message
    assert api.fix == "ledgerbridge client set ACME --api on"


def test_connector_check_fails_while_never_activated_or_deactivated(firm: Firm) -> None:
    firm.relay.authenticate_administrator()

    never = firm.check("connector")
    firm.relay.activate_connector("ACME", accept=True)
    active = firm.check("connector")
    firm.relay.deactivate_connector("ACME")
    deactivated = firm.check("connector")

    assert (never.ok, active.ok, deactivated.ok) == (False, True, False)
    assert "never been activated" in never.message
    assert "deactivated" in deactivated.message
    assert deactivated.fix is not None
    assert "ledgerbridge ledger marketplace ACME --activate --accept" in deactivated.fix


def test_credential_check_passes_with_its_expiry_date(firm: Firm) -> None:
    firm.relay.authenticate_administrator()

    credential = firm.check("credential")

    assert credential.ok
    assert "valid until 2027-03-20 10:00 CET" in credential.message


def test_credential_check_fails_once_the_certificate_expired(firm: Firm) -> None:
    firm.relay.authenticate_administrator(date(2026, 3, 31))
    before = firm.check("credential")
    firm.clock.set(datetime(2026, 4, 1, 8, 0, tzinfo=UTC))

    expired = firm.check("credential")

    assert before.ok and "valid until 2026-04-01 00:00 CEST" in before.message
    assert not expired.ok
    # In the client's local time, as when it was valid: never in UTC beside it.
    assert "expired on 2026-04-01 00:00 CEST" in expired.message
    assert "UTC" not in expired.message
    assert expired.fix is not None and "ledgerbridge ledger admin-auth" in expired.fix
    assert expired.fix.startswith("The reference administrator authenticates again:")


def test_credential_check_tells_the_expiry_in_the_clients_own_zone(firm: Firm) -> None:
    firm.workspace.set_client("ACME", timezone="America/Martinique")
    firm.relay.authenticate_administrator(date(2026, 3, 1))  # to the end of the day in Paris

    credential = firm.check("credential")

    assert not credential.ok
    assert "expired on 2026-03-01 19:00 AST" in credential.message


def test_credential_check_fails_when_the_administrator_never_authenticated(firm: Firm) -> None:
    credential = firm.check("credential")

    assert not credential.ok
    assert "never authenticated" in credential.message
    assert credential.fix is not None and "ledgerbridge ledger admin-auth" in credential.fix
    assert "again" not in credential.fix  # a first authentication


def test_fiscal_period_check_passes_with_an_open_year_covering_today(firm: Firm) -> None:
    firm.link()
    firm.publish(years(("2025", "open"), ("2026", "open")))

    fiscal_period = firm.check("fiscal_period")

    assert fiscal_period.ok
    assert "2026-03-20" in fiscal_period.message


def test_fiscal_period_check_fails_without_a_mirror(firm: Firm) -> None:
    fiscal_period = firm.check("fiscal_period")

    assert not fiscal_period.ok
    assert fiscal_period.fix is not None
    assert "ledgerbridge ledger resync-fiscal-years ACME" in fiscal_period.fix


def test_fiscal_period_check_fails_when_no_open_year_covers_today(firm: Firm) -> None:
    firm.link()
    firm.publish(years(("2024", "open"), ("2025", "open"), ("2026", "closed")))

    fiscal_period = firm.check("fiscal_period")

    assert not fiscal_period.ok
    assert "No open fiscal year covers today (2026-03-20)" in fiscal_period.message
    assert fiscal_period.fix is not None and "resync-fiscal-years ACME" in fiscal_period.fix


def test_fiscal_period_check_fails_with_more_than_two_open_years(firm: Firm) -> None:
    firm.link()
    firm.publish(years(("2024", "open"), ("2025", "open"), ("2026", "open")))

    fiscal_period = firm.check("fiscal_period")

    assert not fiscal_period.ok
    assert "3 fiscal years are open (2024, 2025, 2026)" in fiscal_period.message
    assert fiscal_period.fix is not None and "close the oldest" in fiscal_period.fix


def test_fiscal_period_check_fails_with_a_gap_between_the_open_years(firm: Firm) -> None:
    firm.link()
    firm.publish(years(("2024", "open"), ("2025", "closed"), ("2026", "open")))

    fiscal_period = firm.check("fiscal_period")

    assert not fiscal_period.ok
    assert "leave a gap" in fiscal_period.message
    assert "No open fiscal year covers today" not in fiscal_period.message


def test_fiscal_period_today_is_the_clients_local_date(database: Database) -> None:
    firm = Firm(database, datetime(2025, 12, 31, 23, 30, tzinfo=UTC))  # New Year in Paris
    firm.link()
    firm.publish(years(("2025", "closed"), ("2026", "open"), ("2027", "open")))

    fiscal_period = firm.check("fiscal_period")

    assert fiscal_period.ok
    assert "2026-01-01" in fiscal_period.message


def test_waiting_batches_check_passes_when_nothing_waits(firm: Firm) -> None:
    firm.in_order()
    firm.send(purchase("a"))
    firm.platform.open_accounting("ACME")

    assert firm.check("waiting_batches").ok


def test_waiting_batches_check_says_how_many_wait_since_when_and_why(firm: Firm) -> None:
    firm.relay.authenticate_administrator()
    firm.send(purchase("a"), sale("b"))
    firm.clock.advance(timedelta(hours=2))
    firm.send(purchase("c"))
    firm.clock.advance(timedelta(hours=1))
    firm.platform.open_accounting("ACME")  # the connector was never activated

    waiting = firm.check("waiting_batches")

    assert not waiting.ok
    assert "2 batches wait in the relay since 2026-03-20 10:00 CET" in waiting.message
    assert "3 entries are synchronizing since 2026-03-20 10:00 CET" in waiting.message
    assert "the marketplace connector of the folder has never been activated" in waiting.message
    assert waiting.fix is not None and "ledgerbridge ledger open ACME" in waiting.fix
    assert waiting.fix.startswith(
        "Open the folder's accounting in the ledger to inject the waiting batches:"
        " ledgerbridge ledger open ACME (if they stay,"
    )

    firm.relay.activate_connector("ACME", accept=True)
    firm.platform.open_accounting("ACME")
    assert firm.check("waiting_batches").ok


def test_one_waiting_batch_is_told_in_the_singular_down_to_its_fix(firm: Firm) -> None:
    firm.relay.authenticate_administrator()
    firm.send(purchase("a"))
    firm.platform.open_accounting("ACME")  # the connector was never activated

    waiting = firm.check("waiting_batches")

    assert "1 batch waits in the relay" in waiting.message
    assert waiting.fix == (
        "Open the folder's accounting in the ledger to inject the waiting batch:"
        " ledgerbridge ledger open ACME (if it stays, check the connector and the"
        " administrator's credential above)."
    )


def test_waiting_batches_refused_by_an_expired_certificate_tell_no_time_in_utc(
    firm: Firm,
) -> None:
    firm.relay.activate_connector("ACME", accept=True)
    firm.relay.authenticate_administrator(date(2026, 3, 1))
    firm.send(purchase("a"))
    with pytest.raises(CertificateExpired):
        firm.platform.open_accounting("ACME")

    waiting = firm.check("waiting_batches")

    assert not waiting.ok
    assert (
        "Last opening: the GE Connector security certificate has expired: the reference"
        " administrator must identify again" in waiting.message
    )
    assert "UTC" not in waiting.message
    assert "expired on 2026-03-02 00:00 CET" in firm.check("credential").message


def test_waiting_batches_check_tells_a_send_the_relay_never_confirmed(
    database: Database, firm: Firm
) -> None:
    firm.in_order()
    unreachable = unreachable_relay(firm)
    firm.workspace.import_entries("ACME", [purchase("a")])
    firm.workspace.verify_all("ACME")
    with pytest.raises(ConnectionError):
        Synchronizer(database, unreachable, firm.clock).sync("ACME")

    waiting = firm.check("waiting_batches")

    assert not waiting.ok
    assert "1 entry is synchronizing since 2026-03-20 10:00 CET" in waiting.message
    assert "1 batch sent since 2026-03-20 10:00 CET was not confirmed" in waiting.message
    assert waiting.fix is not None and "ledgerbridge sync ACME" in waiting.fix

    firm.platform.synchronizer.sync("ACME")
    firm.platform.open_accounting("ACME")
    assert firm.check("waiting_batches").ok


def test_reference_data_that_never_reached_the_relay_is_told_then_sent_by_the_next_sync(
    database: Database, firm: Firm
) -> None:
    firm.in_order()
    unreachable = unreachable_relay(firm)
    reference = read_value(ReferenceData, {"accounts": [{"number": "471000"}], "third_parties": []})
    with pytest.raises(ConnectionError):
        Workspace(database, unreachable, firm.clock).connect_client("ACME", reference=reference)

    waiting = firm.check("waiting_batches")

    assert not waiting.ok
    assert "accounts and third parties never reached the relay" in waiting.message
    assert waiting.fix is not None
    assert "ledgerbridge sync ACME" in waiting.fix

    report = firm.platform.synchronizer.sync("ACME")
    assert report.reference_resent == 1
    assert (
        "The initial connection's 1 account or third party, whose send was interrupted,"
        " was deposited again." in report.summary()
    )
    opening, _ = firm.platform.open_accounting("ACME")
    assert opening.reference_added == 1
    assert firm.check("waiting_batches").ok


def test_reference_data_kept_without_its_items_asks_for_a_new_connection(
    database: Database, firm: Firm
) -> None:
    firm.in_order()
    unreachable = unreachable_relay(firm)
    reference = read_value(ReferenceData, {"accounts": [{"number": "471000"}], "third_parties": []})
    with pytest.raises(ConnectionError):
        Workspace(database, unreachable, firm.clock).connect_client("ACME", reference=reference)
    with database.transaction() as connection:  # as an earlier version kept it
        connection.execute(outbox.update().values(content=None))

    waiting = firm.check("waiting_batches")

    assert waiting.fix is not None
    assert "ledgerbridge client connect ACME --reference FILE" in waiting.fix
    assert "ledgerbridge sync ACME" not in waiting.fix
    assert firm.platform.synchronizer.sync("ACME").reference_resent == 0


def test_mirror_check_says_how_old_the_mirror_is(firm: Firm) -> None:
    firm.link()
    firm.publish()
    firm.clock.advance(timedelta(days=3))

    mirror = firm.check("mirror")

    assert mirror.ok
    assert "published on 2026-03-20 10:00 CET (3 days ago)" in mirror.message


def test_mirror_check_says_one_day_in_the_singular(firm: Firm) -> None:
    firm.link()
    firm.publish()
    firm.clock.advance(timedelta(days=1, hours=2))

    assert "published on 2026-03-20 10:00 CET (1 day ago)." in firm.check("mirror").message


def test_mirror_check_fails_when_the_mirror_is_old_or_missing(firm: Firm) -> None:
    missing = firm.check("mirror")
    firm.link()
    firm.publish()
    firm.clock.advance(timedelta(days=31))

    old = firm.check("mirror")

    assert not missing.ok and "No mirror" in missing.message
    assert not old.ok and "31 days ago" in old.message
    for check in (missing, old):
        assert check.fix == "In the ledger: ledgerbridge ledger resync-fiscal-years ACME"


# -- the Rejections tab -------------------------------------------------------------------------


def test_entry_failures_count_the_failed_entries_and_those_predicted_to_fail(
    firm: Firm,
) -> None:
    firm.in_order()
    firm.send(purchase("ok"), without_auxiliary("failed-1"), without_auxiliary("failed-2"))
    firm.platform.open_accounting("ACME")
    firm.workspace.import_entries("ACME", [without_auxiliary("next"), purchase("fine")])
    firm.workspace.verify("ACME", ["next"])

    failures = firm.platform.diagnostics.entry_failures("ACME")

    assert (failures.failed, failures.predicted) == (2, 1)
    assert failures.notes() == [
        "2 entries failed synchronization: ledgerbridge entries list ACME --status sync_failed"
        " shows each with its fix",
        "1 entry to send will be rejected by the ledger as written (pre-flight): ledgerbridge"
        " entries list ACME --status to_verify,verified shows each with its fix",
    ]
    assert all(check.ok for check in firm.doctor().values())  # not one of the six checks


def test_entry_failures_make_a_verdict_against_an_older_setup_again(firm: Firm) -> None:
    firm.in_order()
    firm.workspace.import_entries("ACME", [without_auxiliary("next"), purchase("fine")])
    with firm.database.transaction() as connection:  # verdicts of an older check or setup
        connection.execute(entries.update().values(predicted=None, predicted_against="older"))

    assert firm.platform.diagnostics.entry_failures("ACME").predicted == 1


def test_entry_failures_need_a_mirror_to_predict_and_a_known_client(firm: Firm) -> None:
    firm.workspace.import_entries("ACME", [without_auxiliary("next")])

    assert firm.platform.diagnostics.entry_failures("ACME").notes() == []
    with pytest.raises(UnknownClient):
        firm.platform.diagnostics.entry_failures("NOPE")


def test_rejections_are_listed_newest_first_with_what_the_ledger_said(firm: Firm) -> None:
    firm.in_order()
    firm.send(without_auxiliary("a"))
    firm.platform.open_accounting("ACME")
    first_at = firm.clock()
    firm.clock.advance(timedelta(hours=1))
    wrong = entry_document(purchase("b"))
    wrong["lines"][1]["account"] = "445999"
    firm.send(parse_entry(wrong))
    firm.platform.open_accounting("ACME")

    rows = firm.rejections()

    assert rows == [
        {
            "id": "b",
            "revision": 1,
            "code": "record_not_found",
            "message": "Record not found",
            "at": (first_at + timedelta(hours=1)).isoformat(),
            "settled": False,
            "expected": False,
        },
        {
            "id": "a",
            "revision": 1,
            "code": "collective_account",
            "message": "Account (401000) or other is collective",
            "at": first_at.isoformat(),
            "settled": False,
            "expected": False,
        },
    ]


def test_a_rejection_is_settled_once_its_entry_is_synchronized_or_excluded(firm: Firm) -> None:
    firm.in_order()
    firm.send(without_auxiliary("a"), without_auxiliary("b"))
    firm.platform.open_accounting("ACME")
    lines = entry_document(purchase("a"))["lines"]
    firm.workspace.edit("ACME", "a", {"lines": lines})
    firm.workspace.verify("ACME", ["a"])
    firm.workspace.exclude("ACME", ["b"])
    firm.clock.advance(timedelta(minutes=5))
    firm.platform.synchronizer.sync("ACME")
    firm.platform.open_accounting("ACME")

    rows = {row["id"]: row for row in firm.rejections()}

    assert firm.workspace.list_entries("ACME")[0].revision == 2
    assert (rows["a"]["revision"], rows["a"]["settled"]) == (1, True)
    assert (rows["b"]["revision"], rows["b"]["settled"]) == (1, True)


def test_the_initial_connections_rejections_are_expected_and_never_failures_of_entries(
    firm: Firm,
) -> None:
    firm.link()
    reference = read_value(
        ReferenceData,
        {
            "accounts": [{"number": "401000", "name": "Fournisseurs"}, {"number": "471000"}],
            "third_parties": [{"code": "FEDF", "name": "EDF", "account": "401000"}],
        },
    )
    firm.workspace.connect_client("ACME", reference=reference)
    firm.send(purchase("a"))

    opening, results = firm.platform.open_accounting("ACME")

    assert (opening.expected_rejections, opening.reference_added, opening.posted) == (2, 1, 1)
    assert (results.expected_rejections, results.failed, results.synchronized) == (2, 0, 1)
    assert [row.status for row in firm.workspace.list_entries("ACME")] == [Status.SYNCHRONIZED]
    assert firm.rejections() == [
        {
            "id": item,
            "revision": None,
            "code": "record_already_exists",
            "message": f"Record already exists: {item}",
            "at": NOW.isoformat(),
            "settled": True,
            "expected": True,
        }
        for item in ("third party FEDF", "account 401000")  # received together: last first
    ]
    assert firm.check("waiting_batches").ok


def _connected_with_a_refused_third_party(firm: Firm) -> dict[str, str]:
    """The client connected with a third party whose account the ledger lacks, the folder
    opened: the ledger refused it. Its document."""
    firm.link()
    orphan = {"code": "FNEW", "name": "New supplier", "account": "404000"}
    refused = read_value(ReferenceData, {"third_parties": [orphan]})
    firm.workspace.connect_client("ACME", reference=refused)
    firm.platform.open_accounting("ACME")
    return orphan


def test_reference_data_the_ledger_refused_is_told_beside_the_checks_until_connected_again(
    firm: Firm,
) -> None:
    orphan = _connected_with_a_refused_third_party(firm)

    failures = firm.platform.diagnostics.entry_failures("ACME")
    [row] = firm.rejections()

    assert (row["id"], row["expected"], row["settled"]) == ("third party FNEW", False, False)
    assert failures.reference_refused == 1
    assert failures.notes() == [
        "1 item of the initial connection's reference data refused by the ledger:"
        " ledgerbridge rejections ACME shows each with the ledger's message; correct the"
        " reference file and connect the client again (ledgerbridge client connect ACME"
        " --reference FILE), or add them in the ledger"
    ]

    firm.clock.advance(timedelta(hours=1))
    corrected = read_value(
        ReferenceData,
        {
            "accounts": [{"number": "404000", "name": "Fournisseurs d'immobilisations"}],
            "third_parties": [orphan],
        },
    )
    firm.workspace.connect_client("ACME", reference=corrected)
    firm.platform.open_accounting("ACME")

    assert firm.platform.diagnostics.entry_failures("ACME").notes() == []
    # The first refusal stays in the Rejections tab, settled: the ledger took the item since.
    [row] = firm.rejections()
    assert (row["id"], row["settled"], row["at"]) == ("third party FNEW", True, NOW.isoformat())


def test_reference_data_refused_then_added_in_the_ledger_is_settled_at_the_next_connection(
    firm: Firm,
) -> None:
    orphan = _connected_with_a_refused_third_party(firm)
    firm.clock.advance(timedelta(hours=1))
    unrelated = read_value(ReferenceData, {"accounts": [{"number": "471000"}]})
    firm.workspace.connect_client("ACME", reference=unrelated)
    firm.platform.open_accounting("ACME")

    assert [(row["id"], row["settled"]) for row in firm.rejections()] == [
        ("third party FNEW", False)  # the other connection said nothing of it
    ]

    setup = firm.platform.ledger.folder_setup("ACME")
    firm.platform.ledger.apply_setup(
        msgspec.structs.replace(
            setup,
            accounts=[*setup.accounts, Account(number="404000", name="Immobilisations")],
            third_parties=[*setup.third_parties, ThirdParty(**orphan)],
        )
    )
    firm.clock.advance(timedelta(hours=1))
    again = read_value(ReferenceData, {"third_parties": [orphan]})
    firm.workspace.connect_client("ACME", reference=again)
    firm.platform.open_accounting("ACME")

    assert [(row["id"], row["expected"], row["settled"]) for row in firm.rejections()] == [
        ("third party FNEW", True, True),  # found in the ledger: expected
        ("third party FNEW", False, True),  # the first refusal, settled by it
    ]


def test_reference_data_rejected_again_at_a_new_connection_is_listed_again(
    firm: Firm,
) -> None:
    firm.link()
    reference = read_value(ReferenceData, {"accounts": [{"number": "401000"}]})
    firm.workspace.connect_client("ACME", reference=reference)
    firm.platform.open_accounting("ACME")
    firm.clock.advance(timedelta(hours=1))
    firm.workspace.connect_client("ACME", reference=reference)

    _, results = firm.platform.open_accounting("ACME")

    assert results.expected_rejections == 1
    assert [(row["id"], row["at"]) for row in firm.rejections()] == [
        ("account 401000", (NOW + timedelta(hours=1)).isoformat()),
        ("account 401000", NOW.isoformat()),
    ]


def test_rejections_of_an_unknown_client_are_refused(firm: Firm) -> None:
    with pytest.raises(UnknownClient):
        firm.platform.diagnostics.rejections("NOPE")
