"""The workspace's verbs end to end: `client connect/set/show` and `entries import/list/verify/
edit/exclude/restore/history`, their exit codes, JSON shapes and refusals without tracebacks."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ledgerbridge.cli import diagnose
from ledgerbridge.workspace.diagnostics import Check, EntryFailures
from tests.e2e.conftest import DATA, Cli
from tests.integration.workspace_samples import invoice, without_auxiliary

Document = dict[str, Any]
LIST_KEYS = [
    "id",
    "revision",
    "status",
    "code",
    "message",
    "findings",
    "remedy",
    "predicted",
    "entry_number",
    "fiscal_year",
]


class Workspace:
    """The e2e folder ACME in the ledger, and its client in the workspace."""

    def __init__(self, cli: Cli, tmp: Path, setup_file: Path) -> None:
        self.cli = cli
        self.tmp = tmp
        self.files = 0
        assert cli("ledger", "apply", "--setup", setup_file).code == 0
        assert cli("client", "connect", "ACME").code == 0

    def write(self, document: object, suffix: str = ".json") -> Path:
        self.files += 1
        path = self.tmp / f"document-{self.files}{suffix}"
        path.write_text(json.dumps(document), encoding="utf-8")
        return path

    def import_entries(self, *entries: Document) -> list[dict[str, Any]]:
        outcome = self.cli(
            "entries",
            "import",
            "ACME",
            self.write({"folder": "ACME", "entries": list(entries)}),
            "--json",
        )
        assert outcome.code == 0, outcome.err
        results: list[dict[str, Any]] = outcome.json["results"]
        return results

    def entries(self, *options: str) -> dict[str, dict[str, Any]]:
        outcome = self.cli("entries", "list", "ACME", "--json", *options)
        assert outcome.code == 0, outcome.err
        return {row["id"]: row for row in outcome.json["entries"]}

    def statuses(self) -> dict[str, str]:
        return {key: row["status"] for key, row in self.entries().items()}

    def open_the_link(self) -> None:
        assert self.cli("ledger", "marketplace", "ACME", "--activate", "--accept").code == 0
        assert self.cli("ledger", "admin-auth").code == 0

    def send_and_post(self, *ids: str) -> None:
        """Mark verified, synchronize, and let the ledger open the folder's accounting."""
        assert self.cli("entries", "verify", "ACME", *ids).code == 0
        assert self.cli("sync", "ACME").code == 0
        assert self.cli("ledger", "open", "ACME").code == 0


@pytest.fixture
def workspace(cli: Cli, tmp_path: Path, setup_file: Path) -> Workspace:
    return Workspace(cli, tmp_path, setup_file)


@pytest.fixture
def every_status(workspace: Workspace) -> Workspace:
    """One entry in each status of §2, each reached the way a user reaches it; the ledger
    has published its setup, so the workspace has its mirror."""
    workspace.open_the_link()
    assert workspace.cli("ledger", "resync-fiscal-years", "ACME").code == 0
    workspace.import_entries(invoice("synchronized"), without_auxiliary("sync_failed"))
    workspace.send_and_post("synchronized", "sync_failed")
    workspace.import_entries(
        invoice("synchronizing"), invoice("to_verify"), invoice("verified"), invoice("excluded")
    )
    assert workspace.cli("entries", "verify", "ACME", "synchronizing").code == 0
    assert workspace.cli("ledger", "marketplace", "ACME", "--deactivate").code == 0
    assert workspace.cli("sync", "ACME").code == 0
    assert workspace.cli("ledger", "open", "ACME").code == 0  # the connector holds the batch
    assert workspace.cli("entries", "verify", "ACME", "verified").code == 0
    assert workspace.cli("entries", "exclude", "ACME", "excluded").code == 0
    assert workspace.statuses() == {name: name for name in workspace.statuses()}
    return workspace


# -- clients --------------------------------------------------------------------------------


def test_connecting_a_folder_the_ledger_does_not_have_exits_1_with_the_fix(cli: Cli) -> None:
    outcome = cli("client", "connect", "ACME")
    assert outcome.code == 1
    assert "the ledger has no folder 'ACME'" in outcome.err
    assert "ledgerbridge ledger apply" in outcome.err


def test_a_setup_published_before_the_client_connects_is_its_mirror(
    cli: Cli, setup_file: Path
) -> None:
    assert cli("ledger", "apply", "--setup", setup_file).code == 0
    assert cli("ledger", "marketplace", "ACME", "--activate", "--accept").code == 0
    assert cli("ledger", "admin-auth").code == 0
    assert cli("ledger", "resync-fiscal-years", "ACME").code == 0

    assert cli("client", "connect", "ACME").code == 0
    checks = {check["name"]: check for check in cli("doctor", "ACME", "--json").json["checks"]}

    assert checks["mirror"]["ok"] and checks["fiscal_period"]["ok"]


def test_connect_with_reference_data_sends_it_and_says_its_rejections_are_expected(
    cli: Cli, setup_file: Path, tmp_path: Path
) -> None:
    assert cli("ledger", "apply", "--setup", setup_file).code == 0
    reference = tmp_path / "reference.yaml"
    reference.write_text(
        "accounts:\n  - {number: '401000', name: Fournisseurs, collective: true}\n"
        "third_parties:\n  - {code: FEDF, name: EDF, account: '401000'}\n"
        "  - {code: FNEW, name: Nouveau, account: '401000'}\n",
        encoding="utf-8",
    )
    outcome = cli(
        "client", "connect", "ACME", "--reference", reference, "--auto-send", "nightly", "--json"
    )
    assert outcome.code == 0, outcome.err
    client = outcome.json["client"]
    assert (client["created"], client["auto_send"], client["api_enabled"]) == (
        True,
        "nightly",
        True,
    )
    assert (client["accounts_sent"], client["third_parties_sent"]) == (1, 2)
    assert "expected" in outcome.err


def test_connect_with_one_account_and_one_third_party_says_them_in_the_singular(
    cli: Cli, setup_file: Path, tmp_path: Path
) -> None:
    assert cli("ledger", "apply", "--setup", setup_file).code == 0
    reference = tmp_path / "reference.yaml"
    reference.write_text(
        "accounts:\n  - {number: '471000'}\n"
        "third_parties:\n  - {code: FNEW, name: Nouveau, account: '401000'}\n",
        encoding="utf-8",
    )
    outcome = cli("client", "connect", "ACME", "--reference", reference)
    assert outcome.code == 0, outcome.err
    assert "Sent 1 account and 1 third party to the ledger (batch " in outcome.err
    assert "the ledger takes them at the next opening" in outcome.err


def test_connect_with_a_single_account_calls_it_it(
    cli: Cli, setup_file: Path, tmp_path: Path
) -> None:
    assert cli("ledger", "apply", "--setup", setup_file).code == 0
    reference = tmp_path / "reference.yaml"
    reference.write_text("accounts:\n  - {number: '471000'}\n", encoding="utf-8")

    outcome = cli("client", "connect", "ACME", "--reference", reference)

    assert outcome.code == 0, outcome.err
    said = " ".join(outcome.err.split())  # as one line, however the terminal wraps it
    assert "Sent 1 account and 0 third parties to the ledger (batch " in said
    assert (
        "): the ledger takes it at the next opening of the folder's accounting. If the ledger"
        " already has it, it comes back rejected; this rejection is expected and has no"
        " consequence." in said
    )


def test_a_malformed_reference_document_exits_2_and_connects_nothing(
    cli: Cli, setup_file: Path, tmp_path: Path
) -> None:
    assert cli("ledger", "apply", "--setup", setup_file).code == 0
    reference = tmp_path / "reference.json"
    reference.write_text(json.dumps({"accounts": [{"numbr": "401000"}]}), encoding="utf-8")
    outcome = cli("client", "connect", "ACME", "--reference", reference)
    assert outcome.code == 2
    assert "accounts[0].numbr: unknown field" in outcome.err
    assert cli("client", "show", "ACME").code == 1


def test_client_set_changes_only_what_it_is_told(workspace: Workspace) -> None:
    cli = workspace.cli
    assert cli("client", "set", "ACME", "--auto-send", "nightly", "--at", "3:30").code == 0
    outcome = cli("client", "set", "ACME", "--api", "off", "--json")
    assert outcome.code == 0
    client = outcome.json["client"]
    assert (client["api_enabled"], client["auto_send"], client["send_at"], client["timezone"]) == (
        False,
        "nightly",
        "03:30",
        "Europe/Paris",
    )
    shown = cli("client", "show", "ACME")
    assert "API                off" in shown.out
    assert "automatic sending  nightly at 03:30\n" in shown.out
    assert "time zone          Europe/Paris\n" in shown.out


def test_client_set_time_zone_moves_its_nightly_hour_and_its_times(workspace: Workspace) -> None:
    cli = workspace.cli
    outcome = cli("client", "set", "ACME", "--timezone", "Indian/Reunion", "--at", "01:00")

    assert outcome.code == 0
    assert (
        "Client ACME: API on, automatic sending manual (nightly would send at 01:00,"
        " Indian/Reunion)." in outcome.err
    )
    shown = cli("client", "show", "ACME")
    assert "automatic sending  manual (nightly would send at 01:00)\n" in shown.out
    assert "time zone          Indian/Reunion\n" in shown.out
    assert " +04\n" in shown.out  # connected since ..., in Reunion's time


@pytest.mark.parametrize(
    "arguments",
    [
        ["--at", "25:00"],
        ["--auto-send", "weekly"],
        ["--api", "maybe"],
        ["--timezone", "Mars/Olympus"],
    ],
)
def test_client_set_with_a_bad_value_exits_2(workspace: Workspace, arguments: list[str]) -> None:
    outcome = workspace.cli("client", "set", "ACME", *arguments)
    assert outcome.code == 2


def test_client_set_of_an_unknown_client_exits_1(cli: Cli) -> None:
    outcome = cli("client", "set", "NOPE", "--api", "off")
    assert outcome.code == 1
    assert "Unknown client 'NOPE'" in outcome.err
    assert "ledgerbridge client connect NOPE" in outcome.err


@pytest.mark.parametrize(
    ("folder", "fix"),
    [
        (
            "acme",
            "To fix: Did you mean ACME? Folder codes are told apart by case. To tie a client"
            " to folder acme itself: `ledgerbridge client connect acme`.",
        ),
        (
            "NOPE",
            "To fix: Check the folder code: the workspace's clients are ACME. To tie a client"
            " to folder NOPE: `ledgerbridge client connect NOPE`.",
        ),
    ],
)
def test_an_unknown_client_s_fix_names_the_clients_there_are(
    workspace: Workspace, folder: str, fix: str
) -> None:
    for command in (["entries", "list", folder], ["sync", folder], ["rejections", folder]):
        outcome = workspace.cli(*command)

        assert outcome.code == 1
        assert outcome.err.splitlines()[-1] == fix


# -- import ---------------------------------------------------------------------------------


def test_import_reports_each_entry_new_updated_unchanged_or_left_as_is(
    every_status: Workspace,
) -> None:
    results = every_status.import_entries(
        invoice("to_verify", label="corrigé"),
        invoice("verified"),
        invoice("synchronized", label="changed"),
        invoice("sync_failed", label="corrigé"),
        invoice("excluded", label="x"),
        invoice("brand-new"),
    )
    assert results == [
        {"id": "to_verify", "outcome": "updated", "status": "to_verify", "revision": 2},
        {"id": "verified", "outcome": "unchanged", "status": "verified", "revision": 1},
        {"id": "synchronized", "outcome": "left_as_is", "status": "synchronized", "revision": 1},
        {"id": "sync_failed", "outcome": "updated", "status": "to_verify", "revision": 2},
        {"id": "excluded", "outcome": "left_as_is", "status": "excluded", "revision": 1},
        {"id": "brand-new", "outcome": "new", "status": "to_verify", "revision": 1},
    ]


def test_import_in_text_prints_a_line_per_entry_and_a_summary(workspace: Workspace) -> None:
    path = workspace.write({"folder": "ACME", "entries": [invoice("a"), invoice("b")]})
    outcome = workspace.cli("entries", "import", "ACME", path)
    assert outcome.code == 0
    assert outcome.out.splitlines() == [
        "new        a  revision 1, To verify",
        "new        b  revision 1, To verify",
    ]
    assert "2 entries imported: 2 new" in outcome.err


def test_a_malformed_batch_exits_2_lists_its_problems_and_stores_nothing(
    workspace: Workspace,
) -> None:
    bad = invoice("b", date="2026-02-30")
    bad["lines"][1]["debit"] = "20.001"
    path = workspace.write({"folder": "ACME", "entries": [invoice("a"), bad, invoice("a")]})
    outcome = workspace.cli("entries", "import", "ACME", path, "--json")
    assert outcome.code == 2
    assert outcome.out.count("\n") == 1  # only the error object
    problems = {problem["path"] for problem in outcome.json["error"]["problems"]}
    assert problems == {"entries[1].date", "entries[1].lines[1].debit", "entries[2].id"}
    assert workspace.entries() == {}


def test_a_batch_for_another_folder_exits_2(workspace: Workspace) -> None:
    path = workspace.write({"folder": "OTHER", "entries": [invoice("a")]})
    outcome = workspace.cli("entries", "import", "ACME", path)
    assert outcome.code == 2
    assert "the document is for folder 'OTHER', not 'ACME'" in outcome.err


def test_importing_for_an_unknown_client_exits_1(cli: Cli, entries_file: Path) -> None:
    outcome = cli("entries", "import", "ACME", entries_file)
    assert outcome.code == 1
    assert "Unknown client 'ACME'" in outcome.err


# -- list -----------------------------------------------------------------------------------


def test_list_json_is_one_flat_row_per_entry_with_the_fields_of_the_spec(
    every_status: Workspace,
) -> None:
    rows = every_status.entries()
    assert all(list(row) == LIST_KEYS for row in rows.values())
    failed = rows["sync_failed"]
    assert (failed["code"], failed["message"]) == (
        "collective_account",
        "Account (401000) or other is collective",
    )
    assert failed["findings"][0]["line"] == 3
    assert failed["remedy"]["precise"] == [
        "line 3 uses 401000 without an auxiliary account; EDF's auxiliary account is FEDF"
    ]
    assert rows["synchronized"]["entry_number"] == 1
    for name in ("to_verify", "verified", "synchronizing", "excluded", "synchronized"):
        assert (rows[name]["code"], rows[name]["message"], rows[name]["remedy"]) == (
            None,
            None,
            None,
        )


def test_list_filters_by_statuses_separated_by_commas(every_status: Workspace) -> None:
    tab = every_status.entries("--status", "to_verify,verified,sync_failed")
    assert sorted(tab) == ["sync_failed", "to_verify", "verified"]
    assert list(every_status.entries("--status", "excluded")) == ["excluded"]


def test_list_with_an_unknown_status_exits_2(workspace: Workspace) -> None:
    outcome = workspace.cli("entries", "list", "ACME", "--status", "to_verify,done")
    assert outcome.code == 2
    assert "unknown status done" in outcome.err


def test_list_of_an_unknown_client_exits_1(cli: Cli) -> None:
    assert cli("entries", "list", "NOPE").code == 1


def test_list_in_text_is_a_table_with_what_to_do_for_a_failed_entry(
    every_status: Workspace,
) -> None:
    outcome = every_status.cli("entries", "list", "ACME")
    assert outcome.code == 0
    lines = outcome.out.splitlines()
    assert lines[0].split() == ["ID", "REV", "STATUS", "ENTRY", "NO", "LEDGER", "/", "PRE-FLIGHT"]
    failed = next(line for line in lines if line.startswith("sync_failed "))
    assert "Synchronization failed" in failed
    assert "collective_account: Account (401000) or other is collective" in failed
    assert (
        "      line 3 uses 401000 without an auxiliary account; EDF's auxiliary account is FEDF"
        in lines
    )
    assert "Client ACME: 6 entries" in outcome.err


def test_entries_numbered_alike_in_two_fiscal_years_show_their_fiscal_year(
    workspace: Workspace,
) -> None:
    workspace.open_the_link()
    workspace.import_entries(invoice("in-2025", date="2025-09-10"), invoice("in-2026"))
    workspace.send_and_post("in-2025", "in-2026")
    rows = workspace.entries()
    assert [(rows[name]["entry_number"], rows[name]["fiscal_year"]) for name in rows] == [
        (1, "2025"),
        (1, "2026"),
    ]
    table = workspace.cli("entries", "list", "ACME").out.splitlines()
    assert table[1].split()[:4] == ["in-2025", "1", "Synchronized", "2025/1"]
    assert table[2].split()[:4] == ["in-2026", "1", "Synchronized", "2026/1"]
    posted = workspace.cli("ledger", "entries", "ACME").out  # the ledger says it the same way
    assert "2025/1 " in posted and "2026/1 " in posted


# -- pre-flight -----------------------------------------------------------------------------


def test_after_the_ledger_publishes_its_setup_the_list_predicts_rejections(
    workspace: Workspace,
) -> None:
    workspace.import_entries(invoice("good"), without_auxiliary("bad"), invoice("od", journal="OD"))
    assert all(row["predicted"] is None for row in workspace.entries().values())
    workspace.open_the_link()
    assert workspace.cli("ledger", "resync-fiscal-years", "ACME").code == 0
    rows = workspace.entries()
    assert rows["good"]["predicted"] is None
    assert rows["bad"]["predicted"]["code"] == "collective_account"
    assert rows["bad"]["remedy"]["precise"] == [
        "line 3 uses 401000 without an auxiliary account; EDF's auxiliary account is FEDF"
    ]
    assert rows["od"]["predicted"]["message"] == "The OD journal is locked or read-only"
    assert rows["od"]["status"] == "to_verify"


def test_the_preflight_only_informs_a_predicted_rejection_is_still_sent(
    workspace: Workspace,
) -> None:
    workspace.open_the_link()
    assert workspace.cli("ledger", "resync-fiscal-years", "ACME").code == 0
    workspace.import_entries(without_auxiliary("bad"))
    workspace.send_and_post("bad")
    row = workspace.entries()["bad"]
    assert (row["status"], row["code"], row["predicted"]["code"]) == (
        "sync_failed",
        "collective_account",
        "collective_account",  # still predicted: resending it as it is would fail again
    )


# -- verify ---------------------------------------------------------------------------------


def test_verify_by_ids_all_or_code(every_status: Workspace) -> None:
    cli = every_status.cli
    outcome = cli("entries", "verify", "ACME", "--all", "--json")
    assert outcome.code == 0
    assert outcome.json == {
        "results": [
            {
                "id": "sync_failed",
                "revision": 1,
                "from": "sync_failed",
                "to": "verified",
                "message": "marked verified",
            },
            {
                "id": "to_verify",
                "revision": 1,
                "from": "to_verify",
                "to": "verified",
                "message": "marked verified",
            },
        ]
    }
    nothing = cli("entries", "verify", "ACME", "--code", "collective_account")
    assert nothing.code == 0
    assert "nothing to mark verified" in nothing.err


def test_verify_by_code_after_a_fix_in_the_ledger_resends_the_entry_as_it_is(
    workspace: Workspace, setup_file: Path
) -> None:
    workspace.open_the_link()
    workspace.import_entries(
        invoice(
            "phone",
            lines=[
                {"account": "626000", "label": "Orange", "debit": "50.00"},
                {"account": "401000", "auxiliary": "FEDF", "label": "Orange", "credit": "50.00"},
            ],
        )
    )
    workspace.send_and_post("phone")
    assert workspace.entries()["phone"]["code"] == "account_locked"
    setup = json.loads(setup_file.read_text())
    for account in setup["accounts"]:
        account.pop("locked", None)
    assert workspace.cli("ledger", "apply", "--setup", workspace.write(setup)).code == 0
    assert workspace.cli("entries", "verify", "ACME", "--code", "account_locked").code == 0
    assert workspace.cli("sync", "ACME").code == 0
    assert workspace.cli("ledger", "open", "ACME").code == 0
    row = workspace.entries()["phone"]
    assert (row["status"], row["revision"], row["entry_number"]) == ("synchronized", 1, 1)


def test_verify_by_a_code_no_failed_entry_can_carry_exits_1_naming_the_codes(
    every_status: Workspace,
) -> None:
    outcome = every_status.cli("entries", "verify", "ACME", "--code", "bogus_code")
    assert outcome.code == 1
    assert "'bogus_code'" in outcome.err
    assert "nothing to mark verified" not in outcome.err
    for code in ("collective_account", "idempotency_conflict", "deposit_refused"):
        assert code in outcome.err
    assert every_status.statuses()["sync_failed"] == "sync_failed"
    refused = every_status.cli("entries", "verify", "ACME", "--code", "bogus_code", "--json")
    assert refused.json["error"]["code"] == "unknown_rejection_code"


@pytest.mark.parametrize("arguments", [[], ["a", "--all"], ["--all", "--code", "x"]])
def test_verify_needs_exactly_one_way_of_naming_entries(
    workspace: Workspace, arguments: list[str]
) -> None:
    outcome = workspace.cli("entries", "verify", "ACME", *arguments)
    assert outcome.code == 2
    assert "--all" in outcome.err


# -- every transition through the CLI ---------------------------------------------------------

ALLOWED = {
    ("verify", "to_verify"): "verified",
    ("verify", "sync_failed"): "verified",
    ("edit", "to_verify"): "to_verify",
    ("edit", "verified"): "to_verify",
    ("edit", "sync_failed"): "to_verify",
    ("exclude", "to_verify"): "excluded",
    ("exclude", "verified"): "excluded",
    ("exclude", "sync_failed"): "excluded",
    ("restore", "excluded"): "to_verify",
}
STATUSES = ["to_verify", "verified", "synchronizing", "synchronized", "sync_failed", "excluded"]


def run_verb(workspace: Workspace, verb: str, entry_id: str) -> Any:
    if verb == "edit":
        patch = workspace.write({"label": "corrigé"})
        return workspace.cli("entries", "edit", "ACME", entry_id, "--patch", patch)
    return workspace.cli("entries", verb, "ACME", entry_id)


@pytest.mark.parametrize(("verb", "status"), list(ALLOWED))
def test_an_allowed_transition_exits_0_and_is_in_the_history(
    every_status: Workspace, verb: str, status: str
) -> None:
    outcome = run_verb(every_status, verb, status)
    assert outcome.code == 0, outcome.err
    assert every_status.statuses()[status] == ALLOWED[(verb, status)]
    history = every_status.cli("entries", "history", "ACME", status, "--json").json["history"]
    assert (history[-1]["actor"], history[-1]["from"], history[-1]["to"]) == (
        "accountant",
        status,
        ALLOWED[(verb, status)],
    )


def test_every_other_transition_exits_1_with_what_why_and_the_fix_and_changes_nothing(
    every_status: Workspace,
) -> None:
    before = every_status.entries()
    for verb in ("verify", "edit", "exclude", "restore"):
        for status in STATUSES:
            if (verb, status) in ALLOWED:
                continue
            outcome = run_verb(every_status, verb, status)
            assert outcome.code == 1, (verb, status, outcome.err)
            assert f"Entry {status} cannot be" in outcome.err, (verb, status)
            assert "To fix:" in outcome.err, (verb, status)
    assert every_status.entries() == before


def test_editing_a_synchronized_entry_says_it_is_final(every_status: Workspace) -> None:
    outcome = run_verb(every_status, "edit", "synchronized")
    assert outcome.code == 1
    assert "Entry synchronized cannot be edited: it is synchronized" in outcome.err
    assert "correct it in the ledger with a new entry (a reversal)" in outcome.err


def test_a_refusal_reads_right_whatever_the_entrys_status(every_status: Workspace) -> None:
    outcome = run_verb(every_status, "restore", "sync_failed")
    assert "Entry sync_failed cannot be restored: its synchronization failed." in outcome.err
    outcome = run_verb(every_status, "restore", "to_verify")
    assert "Entry to_verify cannot be restored: it is still to be verified." in outcome.err


def test_a_refusals_fix_names_the_real_folder_and_entry(every_status: Workspace) -> None:
    synchronizing = run_verb(every_status, "exclude", "synchronizing")
    assert "(`ledgerbridge ledger open ACME`)" in synchronizing.err
    excluded = run_verb(every_status, "edit", "excluded")
    assert "(`ledgerbridge entries restore ACME excluded`)" in excluded.err
    for outcome in (synchronizing, excluded):
        assert "FOLDER" not in outcome.err and " ID" not in outcome.err


def test_an_unknown_entry_exits_1_for_every_verb(workspace: Workspace) -> None:
    workspace.import_entries(invoice("a"))
    for verb in ("verify", "edit", "exclude", "restore", "history"):
        outcome = run_verb(workspace, verb, "nope")
        assert outcome.code == 1, verb
        assert "Unknown entry 'nope' for client ACME" in outcome.err, verb


def test_a_refusal_under_json_gives_its_message_and_its_fix_apart(workspace: Workspace) -> None:
    workspace.import_entries(invoice("a"))

    outcome = workspace.cli("entries", "show", "ACME", "nope", "--json")

    assert outcome.code == 1
    assert outcome.json == {
        "error": {
            "code": "unknown_entry",
            "message": "Unknown entry 'nope' for client ACME.",
            "fix": "List the client's entries with `ledgerbridge entries list ACME`.",
        }
    }
    assert "To fix: List the client's entries" in outcome.err  # stderr says both, as ever


# -- edit and history -----------------------------------------------------------------------


def test_edit_from_a_yaml_patch_makes_a_new_revision(workspace: Workspace) -> None:
    workspace.import_entries(without_auxiliary("inv-1"))
    patch = workspace.tmp / "fix.yaml"
    patch.write_text(
        "lines:\n"
        "  - {account: '606100', label: EDF mars 2026, debit: 100.00,"
        " analytics: [{axis: SITE, section: PARIS, amount: 100}]}\n"
        "  - {account: '445660', label: TVA, debit: 20.00}\n"
        "  - {account: '401000', auxiliary: FEDF, label: EDF, credit: 120.00}\n",
        encoding="utf-8",
    )
    outcome = workspace.cli("entries", "edit", "ACME", "inv-1", "--patch", patch, "--json")
    assert outcome.code == 0, outcome.err
    assert outcome.json == {
        "results": [{"id": "inv-1", "outcome": "edited", "revision": 2, "status": "to_verify"}]
    }
    assert "revision 2" in outcome.err


def test_edit_reads_a_json_patch_from_standard_input(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.import_entries(invoice("inv-1"))
    monkeypatch.setattr("sys.stdin", io.StringIO('{"label": "EDF (corrigé)"}'))
    outcome = workspace.cli("entries", "edit", "ACME", "inv-1", "--patch", "-")
    assert outcome.code == 0, outcome.err
    assert workspace.entries()["inv-1"]["revision"] == 2


@pytest.mark.parametrize("given", ["", "  \n", "# nothing yet\n", "null"])
def test_an_empty_patch_is_said_to_be_empty(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    workspace.import_entries(invoice("inv-1"))
    monkeypatch.setattr("sys.stdin", io.StringIO(given))

    outcome = workspace.cli("entries", "edit", "ACME", "inv-1", "--patch", "-")

    assert outcome.code == 2
    assert outcome.err.splitlines()[1] == (
        '  the patch is empty: give the fields to change as an object, such as {"label":'
        ' "EDF avril 2026"}'
    )
    assert workspace.entries()["inv-1"]["revision"] == 1


def test_a_yaml_patch_not_in_utf8_is_said_so(workspace: Workspace) -> None:
    workspace.import_entries(invoice("inv-1"))
    latin = workspace.tmp / "latin.yaml"
    latin.write_bytes("label: été\n".encode("latin-1"))

    outcome = workspace.cli("entries", "edit", "ACME", "inv-1", "--patch", latin)

    assert outcome.code == 2
    assert "not UTF-8 text: invalid continuation byte (save the file as UTF-8)" in outcome.err


def test_a_malformed_patch_exits_2_and_stores_nothing(workspace: Workspace) -> None:
    workspace.import_entries(invoice("inv-1"))
    for patch in ({"date": "2026-13-01"}, {"id": "other"}, {"lines": "none"}):
        outcome = workspace.cli(
            "entries", "edit", "ACME", "inv-1", "--patch", workspace.write(patch)
        )
        assert outcome.code == 2, patch
    not_json = workspace.tmp / "broken.json"
    not_json.write_text("{label: ", encoding="utf-8")
    assert workspace.cli("entries", "edit", "ACME", "inv-1", "--patch", not_json).code == 2
    assert workspace.entries()["inv-1"]["revision"] == 1


@pytest.mark.parametrize("text", ['{"lines":', '{"lines": "none"}'])
def test_a_malformed_patch_from_standard_input_is_named_so_whatever_is_wrong(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    workspace.import_entries(invoice("inv-1"))
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    outcome = workspace.cli("entries", "edit", "ACME", "inv-1", "--patch", "-")
    assert outcome.code == 2
    assert outcome.err.startswith("patch standard input is malformed (1 problem)")
    assert "/tmp" not in outcome.err and "patch.json" not in outcome.err


def test_a_malformed_batch_from_standard_input_is_named_so(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"folder":')))
    outcome = workspace.cli("entries", "import", "ACME", "-")
    assert outcome.code == 2
    assert outcome.err.startswith("standard input is malformed (1 problem)")


@pytest.mark.parametrize(
    ("arguments", "hint"),
    [
        (["entries", "import", "ACME", "{dir}"], "ENTRIES"),
        (["entries", "edit", "ACME", "inv-1", "--patch", "{dir}"], "--patch"),
        (["client", "connect", "ACME", "--reference", "{dir}"], "'--reference'"),
    ],
)
def test_a_directory_given_for_a_file_is_said_to_be_one(
    workspace: Workspace, arguments: list[str], hint: str
) -> None:
    workspace.import_entries(invoice("inv-1"))
    directory = str(workspace.tmp)
    outcome = workspace.cli(*(argument.format(dir=directory) for argument in arguments))
    assert outcome.code == 2
    assert f"Invalid value for {hint}: {directory} is a directory, not a file" in outcome.err
    assert "no such file" not in outcome.err


def test_history_json_lists_every_change_with_who_from_to_and_revision(
    every_status: Workspace,
) -> None:
    outcome = every_status.cli("entries", "history", "ACME", "sync_failed", "--json")
    assert outcome.code == 0
    history = outcome.json["history"]
    assert [list(line) for line in history] == [
        ["at", "actor", "from", "to", "message", "revision"]
    ] * 4
    assert [(line["actor"], line["from"], line["to"], line["revision"]) for line in history] == [
        ("import", None, "to_verify", 1),
        ("accountant", "to_verify", "verified", 1),
        ("accountant", "verified", "synchronizing", 1),
        ("ledger", "synchronizing", "sync_failed", 1),
    ]
    assert history[-1]["message"] == "Account (401000) or other is collective"


def test_exclude_and_restore_report_each_change(workspace: Workspace) -> None:
    workspace.import_entries(invoice("a"), invoice("b"))
    excluded = workspace.cli("entries", "exclude", "ACME", "a", "b")
    assert excluded.code == 0
    assert excluded.out.splitlines() == ["a  To verify -> Excluded", "b  To verify -> Excluded"]
    restored = workspace.cli("entries", "restore", "ACME", "b", "--json")
    assert restored.json["results"] == [
        {"id": "b", "revision": 1, "from": "excluded", "to": "to_verify", "message": "restored"}
    ]


def test_every_verb_says_one_entry_in_the_singular(workspace: Workspace) -> None:
    path = workspace.write({"folder": "ACME", "entries": [invoice("a")]})

    def said(*arguments: str | Path) -> str:
        outcome = workspace.cli(*arguments)
        assert outcome.code == 0, outcome.err
        return outcome.err

    assert "Client ACME: 1 entry imported: 1 new, 0 updated" in said(
        "entries", "import", "ACME", path
    )
    assert "Client ACME: 1 entry (1 to verify)." in said("entries", "list", "ACME")
    assert "Client ACME: 1 entry excluded." in said("entries", "exclude", "ACME", "a")
    assert "Client ACME: 1 entry restored to To verify." in said("entries", "restore", "ACME", "a")
    assert "Client ACME: 1 entry marked verified, to be sent at the next" in said(
        "entries", "verify", "ACME", "a"
    )
    assert "Client ACME: 1 entry sent to the relay;" in said("sync", "ACME")


def test_two_entries_are_said_in_the_plural(workspace: Workspace) -> None:
    workspace.import_entries(invoice("a"), invoice("b"))
    assert "Client ACME: 2 entries (2 to verify)." in workspace.cli("entries", "list", "ACME").err
    excluded = workspace.cli("entries", "exclude", "ACME", "a", "b")
    assert "Client ACME: 2 entries excluded." in excluded.err


@pytest.mark.parametrize(("failing", "said"), [(1, "1 problem found."), (2, "2 problems found.")])
def test_doctor_counts_the_problems_it_found(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, failing: int, said: str
) -> None:
    checks = [Check("api", True, "fine")] + [Check(f"c{n}", False, "wrong") for n in range(failing)]
    platform = SimpleNamespace(
        diagnostics=SimpleNamespace(
            doctor=lambda folder: checks,
            entry_failures=lambda folder: EntryFailures(folder, failed=0, predicted=0),
        )
    )
    monkeypatch.setattr(diagnose, "open_platform", lambda: platform)
    outcome = cli("doctor", "ACME")
    assert outcome.err.rstrip().endswith(f"Client ACME: {said}")


def test_doctor_is_not_all_clear_while_entries_failed_or_will_fail(
    workspace: Workspace,
) -> None:
    workspace.open_the_link()
    assert workspace.cli("ledger", "resync-fiscal-years", "ACME").code == 0
    workspace.import_entries(invoice("posted"), without_auxiliary("failed-1"))
    workspace.import_entries(without_auxiliary("failed-2"))
    workspace.send_and_post("posted", "failed-1", "failed-2")
    workspace.import_entries(without_auxiliary("next"))  # the pre-flight predicts its rejection

    outcome = workspace.cli("doctor", "ACME")

    assert outcome.code == 0
    assert "✗" not in outcome.out  # the six checks pass: the link is in order
    assert (
        "2 entries failed synchronization: ledgerbridge entries list ACME --status sync_failed"
        " shows each with its fix." in outcome.out
    )
    assert (
        "1 entry to send will be rejected by the ledger as written (pre-flight): ledgerbridge"
        " entries list ACME --status to_verify,verified shows each with its fix." in outcome.out
    )
    assert "all clear" not in outcome.out + outcome.err
    assert "Client ACME: the link to the ledger is in order;" in outcome.err
    doctor = workspace.cli("doctor", "ACME", "--json").json
    assert list(doctor) == ["checks", "notes"] and len(doctor["checks"]) == 6  # the six checks
    assert all(check["ok"] for check in doctor["checks"])
    assert doctor["notes"] == [  # the notes the text prints after the checks
        "2 entries failed synchronization: ledgerbridge entries list ACME --status sync_failed"
        " shows each with its fix",
        "1 entry to send will be rejected by the ledger as written (pre-flight): ledgerbridge"
        " entries list ACME --status to_verify,verified shows each with its fix",
    ]


def test_doctor_is_all_clear_once_no_entry_failed(workspace: Workspace) -> None:
    workspace.open_the_link()
    assert workspace.cli("ledger", "resync-fiscal-years", "ACME").code == 0
    workspace.import_entries(invoice("posted"))
    workspace.send_and_post("posted")

    outcome = workspace.cli("doctor", "ACME")

    assert "failed synchronization" not in outcome.out
    assert outcome.err.rstrip().endswith("Client ACME: all clear.")
    assert workspace.cli("doctor", "ACME", "--json").json["notes"] == []


def test_rejections_table_has_a_header_and_says_settled_or_not_settled(
    workspace: Workspace,
) -> None:
    workspace.open_the_link()
    workspace.import_entries(without_auxiliary("kept"), without_auxiliary("dropped"))
    workspace.send_and_post("kept", "dropped")
    assert workspace.cli("entries", "exclude", "ACME", "dropped").code == 0

    outcome = workspace.cli("rejections", "ACME")

    header, *rows = outcome.out.splitlines()
    assert re.fullmatch(r"AT +STATE +ENTRY +REV +CODE +MESSAGE", header)
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T"
    message = r"collective_account +Account \(401000\) or other is collective"
    assert len(rows) == 2
    [kept] = [row for row in rows if " kept " in row]
    [dropped] = [row for row in rows if " dropped " in row]
    assert re.fullmatch(rf"{when}  not settled +kept +1 +{message}", kept)
    assert re.fullmatch(rf"{when}  settled +dropped +1 +{message}", dropped)
    assert " open " not in outcome.out
    json_rows = workspace.cli("rejections", "ACME", "--json").json["rejections"]
    assert {row["id"]: row["settled"] for row in json_rows} == {"kept": False, "dropped": True}


def test_entries_verbs_are_listed_in_the_help(cli: Cli) -> None:
    outcome = cli("entries", "--help")
    for verb in ("import", "list", "verify", "edit", "exclude", "restore", "history"):
        assert verb in outcome.out


def test_the_example_batch_imports(workspace: Workspace) -> None:
    assert (DATA / "e2e_entries.json").is_file()
    outcome = workspace.cli("entries", "import", "ACME", DATA / "e2e_entries.json", "--json")
    assert [result["outcome"] for result in outcome.json["results"]] == ["new"] * 3
