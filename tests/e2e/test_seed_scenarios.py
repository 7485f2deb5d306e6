"""The help page's errors end to end through the CLI: rejected, fixed on the right side,
marked verified, resent, synchronized (SPEC §2, §3, seed errors 1 to 9)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import DATA, Cli
from tests.integration.workspace_samples import invoice

Document = dict[str, Any]


class Scenario:
    """A folder in the ledger, its client in the workspace, connector active, admin authenticated."""

    def __init__(self, cli: Cli, tmp: Path) -> None:
        self.cli = cli
        self.tmp = tmp
        self.setup: Document = json.loads((DATA / "seed_setup.json").read_text())
        self.apply_setup()
        assert cli("client", "connect", "ACME").code == 0
        assert cli("ledger", "marketplace", "ACME", "--activate", "--accept").code == 0
        assert cli("ledger", "admin-auth").code == 0

    def write(self, name: str, document: object) -> Path:
        path = self.tmp / name
        path.write_text(json.dumps(document))
        return path

    def apply_setup(self) -> None:
        outcome = self.cli("ledger", "apply", "--setup", self.write("setup.json", self.setup))
        assert outcome.code == 0, outcome.err

    def import_entries(self, *entries: Document) -> None:
        batch = self.write("batch.json", {"folder": "ACME", "entries": list(entries)})
        outcome = self.cli("entries", "import", "ACME", batch)
        assert outcome.code == 0, outcome.err

    def send(self) -> None:
        assert self.cli("sync", "ACME").code == 0
        outcome = self.cli("ledger", "open", "ACME")
        assert outcome.code == 0, outcome.err

    def row(self, entry_id: str) -> Document:
        rows = self.cli("entries", "list", "ACME", "--json").json["entries"]
        return next(row for row in rows if row["id"] == entry_id)

    def edit(self, entry_id: str, patch: Document) -> None:
        outcome = self.cli(
            "entries", "edit", "ACME", entry_id, "--patch", self.write("patch.json", patch)
        )
        assert outcome.code == 0, outcome.err


@pytest.fixture
def scenario(cli: Cli, tmp_path: Path) -> Scenario:
    return Scenario(cli, tmp_path)


def fail_then_fix(
    scenario: Scenario,
    entry: Document,
    code: str,
    message: str,
    fix: Callable[[Scenario], None],
) -> None:
    scenario.import_entries(entry)
    assert scenario.cli("entries", "verify", "ACME", "--all").code == 0
    scenario.send()
    failed = scenario.row(entry["id"])
    assert failed["status"] == "sync_failed"
    assert failed["code"] == code
    assert failed["message"] == message
    assert failed["remedy"]
    fix(scenario)
    scenario.send()
    done = scenario.row(entry["id"])
    assert done["status"] == "synchronized", done
    assert done["entry_number"] >= 1
    assert done["code"] is None


def fix_in_ledger_then_verify_by_code(
    change: Callable[[Document], None], code: str
) -> Callable[[Scenario], None]:
    def fix(scenario: Scenario) -> None:
        change(scenario.setup)
        scenario.apply_setup()
        assert scenario.cli("entries", "verify", "ACME", "--code", code).code == 0

    return fix


def edit_then_verify(entry_id: str, patch: Document) -> Callable[[Scenario], None]:
    def fix(scenario: Scenario) -> None:
        scenario.edit(entry_id, patch)
        assert scenario.cli("entries", "verify", "ACME", entry_id).code == 0

    return fix


def test_error_1_locked_journal_is_opened_in_the_ledger_then_resent(scenario: Scenario) -> None:
    scenario.setup["journals"][0]["status"] = "locked"
    scenario.apply_setup()

    def open_journal(setup: Document) -> None:
        setup["journals"][0]["status"] = "open"

    fail_then_fix(
        scenario,
        invoice("inv-1"),
        "journal_locked",
        "The purchase journal is locked or read-only",
        fix_in_ledger_then_verify_by_code(open_journal, "journal_locked"),
    )


def test_error_2_missing_analytics_allowed_in_the_ledger_then_resent(scenario: Scenario) -> None:
    entry = invoice("inv-1")
    del entry["lines"][0]["analytics"]

    def allow(setup: Document) -> None:
        setup["analytics"]["allow_entries_without_analytics"] = True

    fail_then_fix(
        scenario,
        entry,
        "analytic_axis_missing",
        "The analytical axis does not exist. On-the-fly creation is not allowed",
        fix_in_ledger_then_verify_by_code(allow, "analytic_axis_missing"),
    )


def test_error_3_allocation_that_does_not_add_up_is_edited_then_resent(scenario: Scenario) -> None:
    entry = invoice("inv-1")
    entry["lines"][0]["analytics"] = [{"axis": "SITE", "section": "PARIS", "amount": "60.00"}]
    fixed_lines = invoice("inv-1")["lines"]
    fixed_lines[0]["analytics"] = [
        {"axis": "SITE", "section": "PARIS", "amount": "60.00"},
        {"axis": "SITE", "section": "LYON", "amount": "40.00"},
    ]
    fail_then_fix(
        scenario,
        entry,
        "analytic_allocation_incorrect",
        "At least one line has a failure status; the allocation of the line amount is incorrect"
        " on at least one of the analytical axes",
        edit_then_verify("inv-1", {"lines": fixed_lines}),
    )


def test_error_4_collective_account_gets_its_auxiliary_by_an_edit(scenario: Scenario) -> None:
    entry = invoice("inv-1")
    del entry["lines"][2]["auxiliary"]
    fail_then_fix(
        scenario,
        entry,
        "collective_account",
        "Account (401000) or other is collective",
        edit_then_verify("inv-1", {"lines": invoice("inv-1")["lines"]}),
    )


def test_error_5_locked_account_is_unlocked_in_the_ledger(scenario: Scenario) -> None:
    scenario.setup["accounts"][2]["locked"] = True
    scenario.apply_setup()

    def unlock(setup: Document) -> None:
        setup["accounts"][2]["locked"] = False

    fail_then_fix(
        scenario,
        invoice("inv-1"),
        "account_locked",
        "Account 445660 is locked",
        fix_in_ledger_then_verify_by_code(unlock, "account_locked"),
    )


def test_error_6_date_in_a_closed_fiscal_year_is_corrected_by_an_edit(scenario: Scenario) -> None:
    entry = invoice("inv-1")
    entry["date"] = "2024-03-14"
    fail_then_fix(
        scenario,
        entry,
        "fiscal_year_not_open",
        "The fiscal year (2024) is not part of the last 2 open fiscal years",
        edit_then_verify("inv-1", {"date": "2026-03-14"}),
    )


def test_error_7_import_cursor_period_is_unlocked_in_the_ledger(scenario: Scenario) -> None:
    scenario.setup["import_cursor"]["locked_periods"] = [{"from": "2026-03-01", "to": "2026-03-31"}]
    scenario.apply_setup()

    def unlock(setup: Document) -> None:
        setup["import_cursor"]["locked_periods"] = []

    fail_then_fix(
        scenario,
        invoice("inv-1"),
        "import_cursor_locked",
        "Import cursor locked",
        fix_in_ledger_then_verify_by_code(unlock, "import_cursor_locked"),
    )


@pytest.mark.parametrize(
    ("code", "message", "break_entry", "patch"),
    [
        (
            "object_reference",
            "Object reference not set to an instance of an object.",
            lambda e: e.pop("journal"),
            {"journal": "ACH"},
        ),
        (
            "value_truncated",
            "String or binary data would be truncated.",
            lambda e: e.update(label="x" * 70),
            {"label": "EDF mars 2026"},
        ),
        (
            "document_not_settled",
            "The document is not settled",
            lambda e: e["lines"][1].update(debit="25.00"),
            {"lines": invoice("inv-1")["lines"]},
        ),
        (
            "record_not_found",
            "Record not found",
            lambda e: e["lines"][1].update(account="445999"),
            {"lines": invoice("inv-1")["lines"]},
        ),
    ],
)
def test_error_9_other_errors_are_fixed_by_an_edit(
    scenario: Scenario,
    code: str,
    message: str,
    break_entry: Callable[[Document], object],
    patch: Document,
) -> None:
    entry = copy.deepcopy(invoice("inv-1"))
    break_entry(entry)
    fail_then_fix(scenario, entry, code, message, edit_then_verify("inv-1", patch))


def test_error_8_entries_stay_synchronizing_until_the_connector_is_active_and_the_folder_opened(
    scenario: Scenario,
) -> None:
    cli = scenario.cli
    assert cli("ledger", "marketplace", "ACME", "--deactivate").code == 0
    scenario.import_entries(invoice("inv-1"))
    cli("entries", "verify", "ACME", "--all")
    assert cli("sync", "ACME").code == 0
    opening = cli("ledger", "open", "ACME")
    assert opening.code == 0
    assert scenario.row("inv-1")["status"] == "synchronizing"
    doctor = {check["name"]: check for check in cli("doctor", "ACME", "--json").json["checks"]}
    assert doctor["connector"]["ok"] is False
    assert doctor["waiting_batches"]["ok"] is False
    assert "ledger open" in doctor["waiting_batches"]["fix"]

    assert cli("ledger", "marketplace", "ACME", "--activate", "--accept").code == 0
    assert cli("ledger", "open", "ACME").code == 0
    assert scenario.row("inv-1")["status"] == "synchronized"


def test_an_expired_certificate_keeps_batches_waiting_with_the_seed_message(
    scenario: Scenario,
) -> None:
    cli = scenario.cli
    assert cli("ledger", "admin-auth", "--expires", "2020-01-01").code == 0
    scenario.import_entries(invoice("inv-1"))
    cli("entries", "verify", "ACME", "--all")
    cli("sync", "ACME")
    opening = cli("ledger", "open", "ACME")
    assert opening.code == 1
    assert (
        "For security reasons, the GE Connector security certificate has expired. It is necessary"
        " for the reference administrator to identify again." in opening.err
    )
    assert scenario.row("inv-1")["status"] == "synchronizing"
    assert cli("ledger", "admin-auth").code == 0
    assert cli("ledger", "open", "ACME").code == 0
    assert scenario.row("inv-1")["status"] == "synchronized"


def test_rejections_tab_lists_every_rejection_newest_first_and_settles(scenario: Scenario) -> None:
    entry = invoice("inv-1")
    del entry["lines"][2]["auxiliary"]
    fail_then_fix(
        scenario,
        entry,
        "collective_account",
        "Account (401000) or other is collective",
        edit_then_verify("inv-1", {"lines": invoice("inv-1")["lines"]}),
    )
    rows = scenario.cli("rejections", "ACME", "--json").json["rejections"]
    assert len(rows) == 1
    assert rows[0]["id"] == "inv-1"
    assert rows[0]["revision"] == 1
    assert rows[0]["code"] == "collective_account"
    assert rows[0]["settled"] is True
    assert rows[0]["expected"] is False
    # Shown in the client's local time (Europe/Paris unless told otherwise), zone named.
    at = datetime.fromisoformat(rows[0]["at"]).astimezone(ZoneInfo("Europe/Paris"))
    shown = scenario.cli("rejections", "ACME").out
    assert shown == (
        "AT                    STATE    ENTRY  REV  CODE                MESSAGE\n"
        f"{at:%Y-%m-%d %H:%M %Z}  settled  inv-1  1    collective_account"
        "  Account (401000) or other is collective\n"
    )


def test_sync_with_the_api_off_is_refused_with_the_fix(scenario: Scenario) -> None:
    assert scenario.cli("client", "set", "ACME", "--api", "off").code == 0
    refused = scenario.cli("sync", "ACME")
    assert refused.code == 1
    assert "--api on" in refused.err


def test_sync_with_nothing_verified_says_nothing_to_send(scenario: Scenario) -> None:
    outcome = scenario.cli("sync", "ACME")
    assert outcome.code == 0
    assert "nothing to send" in outcome.err
