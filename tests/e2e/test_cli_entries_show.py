"""`entries show`, what `entries edit` warns of, and the ledger's own commands for a fix made
in the ledger, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli
from tests.e2e.test_cli_workspace_entries import LIST_KEYS, Workspace
from tests.integration.workspace_samples import invoice, without_auxiliary


@pytest.fixture
def workspace(cli: Cli, tmp_path: Path, setup_file: Path) -> Workspace:
    """ACME in the ledger, its client in the workspace, the link open and the setup mirrored."""
    workspace = Workspace(cli, tmp_path, setup_file)
    workspace.open_the_link()
    assert cli("ledger", "resync-fiscal-years", "ACME").code == 0
    return workspace


def locked_account(entry_id: str) -> dict[str, object]:
    """An invoice on 626000, which the e2e folder locks: account_locked."""
    return invoice(
        entry_id,
        lines=[
            {"account": "626000", "label": "Orange", "debit": "50.00"},
            {"account": "401000", "auxiliary": "FEDF", "label": "Orange", "credit": "50.00"},
        ],
    )


# -- entries show ----------------------------------------------------------------------------


def test_show_json_is_the_row_of_the_list_and_the_document_of_the_current_revision(
    workspace: Workspace,
) -> None:
    workspace.import_entries(without_auxiliary("inv-1"))
    workspace.send_and_post("inv-1")

    outcome = workspace.cli("entries", "show", "ACME", "inv-1", "--json")

    assert outcome.code == 0
    shown = outcome.json["entry"]
    assert list(outcome.json) == ["entry"]
    assert list(shown) == [*LIST_KEYS, "document"]
    assert {key: shown[key] for key in LIST_KEYS} == workspace.entries()["inv-1"]
    assert (shown["status"], shown["code"]) == ("sync_failed", "collective_account")
    assert shown["remedy"]["precise"] == [
        "line 3 uses 401000 without an auxiliary account; EDF's auxiliary account is FEDF"
    ]
    assert shown["document"] == without_auxiliary("inv-1")


def test_show_in_text_gives_the_document_then_the_status_and_what_to_do(
    workspace: Workspace,
) -> None:
    workspace.import_entries(without_auxiliary("inv-1"))

    outcome = workspace.cli("entries", "show", "ACME", "inv-1")

    assert outcome.code == 0
    document, status = outcome.out.split("\n\n", 1)
    assert json.loads(document) == without_auxiliary("inv-1")
    assert '    {"account": "401000", "label": "EDF", "credit": "120.00"}' in document.splitlines()
    assert status.splitlines()[:4] == [
        "Entry inv-1 of client ACME",
        "  revision    1",
        "  status      To verify",
        "  pre-flight  will be rejected: collective_account: Account (401000) or other is"
        " collective",
    ]
    assert (
        "              line 3 uses 401000 without an auxiliary account; EDF's auxiliary account"
        " is FEDF" in status.splitlines()
    )
    assert "  fix         Edit the entry and add the missing auxiliary account" in status
    assert "a list such as lines is replaced whole: give every line." in outcome.err


def test_show_a_posted_entry_gives_its_entry_number_and_no_edit_hint(
    workspace: Workspace,
) -> None:
    workspace.import_entries(invoice("inv-1"))
    workspace.send_and_post("inv-1")

    outcome = workspace.cli("entries", "show", "ACME", "inv-1")

    assert outcome.code == 0
    assert outcome.out.endswith(
        "Entry inv-1 of client ACME\n"
        "  revision    1\n"
        "  status      Synchronized\n"
        "  entry no    2026/1\n"
    )
    assert outcome.err == ""


def test_show_follows_an_edit_to_its_new_revision(workspace: Workspace) -> None:
    workspace.import_entries(invoice("inv-1"))
    patch = workspace.write({"label": "EDF (corrigé)"})
    assert workspace.cli("entries", "edit", "ACME", "inv-1", "--patch", patch).code == 0

    shown = workspace.cli("entries", "show", "ACME", "inv-1", "--json").json["entry"]

    assert (shown["revision"], shown["document"]["label"]) == (2, "EDF (corrigé)")


def test_show_an_unknown_entry_or_client_exits_1_with_the_fix(workspace: Workspace) -> None:
    unknown_entry = workspace.cli("entries", "show", "ACME", "nope")
    unknown_client = workspace.cli("entries", "show", "NOPE", "inv-1", "--json")

    assert unknown_entry.code == 1
    assert "Unknown entry 'nope' for client ACME." in unknown_entry.err
    assert "ledgerbridge entries list ACME" in unknown_entry.err
    assert unknown_client.code == 1
    assert unknown_client.json["error"]["code"] == "unknown_client"


def test_show_is_listed_among_the_entries_verbs(cli: Cli) -> None:
    assert "show" in cli("entries", "--help").out


# -- entries edit: a list replaced whole -------------------------------------------------------


def test_edit_warns_when_the_patch_leaves_fewer_lines_than_the_entry_had(
    workspace: Workspace,
) -> None:
    workspace.import_entries(without_auxiliary("inv-1"))
    patch = workspace.write({"lines": [{"auxiliary": "FEDF"}]})

    outcome = workspace.cli("entries", "edit", "ACME", "inv-1", "--patch", patch, "--json")

    assert outcome.code == 0
    assert outcome.json == {
        "results": [{"id": "inv-1", "outcome": "edited", "revision": 2, "status": "to_verify"}]
    }
    assert outcome.err.splitlines() == [
        "Entry inv-1 edited: revision 2, back to To verify.",
        "Warning: the patch replaced lines whole: 3 lines before, 1 now; a list in a merge"
        " patch is replaced, not merged: give every line (see `ledgerbridge entries show ACME"
        " inv-1`).",
    ]
    assert (
        len(
            workspace.cli("entries", "show", "ACME", "inv-1", "--json").json["entry"]["document"][
                "lines"
            ]
        )
        == 1
    )


def test_edit_warns_when_the_patch_removes_the_lines_with_null(workspace: Workspace) -> None:
    workspace.import_entries(without_auxiliary("inv-1"))
    patch = workspace.write({"lines": None})

    outcome = workspace.cli("entries", "edit", "ACME", "inv-1", "--patch", patch)

    assert outcome.code == 0
    assert outcome.err.splitlines() == [
        "Entry inv-1 edited: revision 2, back to To verify.",
        "Warning: the patch removed lines (null): 3 lines before, none now; to change some of"
        " them, give every line in the list (see `ledgerbridge entries show ACME inv-1`).",
    ]


def test_edit_giving_every_line_warns_of_nothing(workspace: Workspace) -> None:
    workspace.import_entries(without_auxiliary("inv-1"))
    lines = invoice("inv-1")["lines"]
    patch = workspace.write({"lines": lines})

    outcome = workspace.cli("entries", "edit", "ACME", "inv-1", "--patch", patch)

    assert outcome.code == 0
    assert outcome.err == "Entry inv-1 edited: revision 2, back to To verify.\n"
    assert workspace.entries()["inv-1"]["predicted"] is None


# -- a fix made in the ledger, with ledgerbridge's own ledger ----------------------------------


def test_list_says_once_how_to_fix_in_its_own_ledger_naming_the_codes(
    workspace: Workspace,
) -> None:
    workspace.import_entries(
        locked_account("phone-1"),
        locked_account("phone-2"),
        invoice("cursor", date="2025-03-10"),
        without_auxiliary("collective"),
    )
    workspace.send_and_post("phone-1", "phone-2", "cursor", "collective")

    outcome = workspace.cli("entries", "list", "ACME")

    what_to_do = outcome.out.split("\nWhat to do:\n", 1)[1]
    remedies, steps = what_to_do.split("\n\n", 1)
    assert "In the ledger, go to Utilities > Import Cursor Settings" in remedies
    assert steps.splitlines() == [
        "Fixes made in the ledger (import_cursor_locked, account_locked), with ledgerbridge's"
        " own ledger:",
        "  1. in the folder's setup file (the complete setup), make the change:",
        '       import_cursor_locked: the locked period taken out of "import_cursor" >'
        ' "locked_periods"',
        '       account_locked: the account\'s "locked": false under "accounts"',
        "  2. ledgerbridge ledger apply --setup FILE",
        "  3. ledgerbridge ledger resync-fiscal-years ACME   (so that the pre-flight sees the"
        " change)",
        "  4. ledgerbridge entries verify ACME --code import_cursor_locked",
        "     ledgerbridge entries verify ACME --code account_locked",
    ]
    assert outcome.out.count("ledgerbridge ledger apply --setup FILE") == 1


def test_the_steps_in_the_ledger_work_as_written(workspace: Workspace, setup_file: Path) -> None:
    workspace.import_entries(locked_account("phone"))
    workspace.send_and_post("phone")
    setup = json.loads(setup_file.read_text(encoding="utf-8"))
    for account in setup["accounts"]:
        account.pop("locked", None)
    fixed = workspace.write(setup)

    assert workspace.cli("ledger", "apply", "--setup", fixed).code == 0
    assert workspace.cli("ledger", "resync-fiscal-years", "ACME").code == 0
    assert workspace.entries()["phone"]["predicted"] is None  # the pre-flight sees the change
    assert workspace.cli("entries", "verify", "ACME", "--code", "account_locked").code == 0
    assert workspace.cli("sync", "ACME").code == 0
    assert workspace.cli("ledger", "open", "ACME").code == 0
    assert workspace.entries()["phone"]["status"] == "synchronized"


def test_a_predicted_rejection_fixed_in_the_ledger_says_to_verify_the_entries(
    workspace: Workspace,
) -> None:
    workspace.import_entries(invoice("od", journal="OD"))

    outcome = workspace.cli("entries", "list", "ACME")

    assert "Fixes made in the ledger (journal_locked), with ledgerbridge's own ledger:" in (
        outcome.out
    )
    assert "  4. ledgerbridge entries verify ACME od" in outcome.out
    assert "--code" not in outcome.out


def test_show_of_an_entry_to_verify_names_it_in_the_verify_step(workspace: Workspace) -> None:
    workspace.import_entries(invoice("od", journal="OD"), invoice("od-2", journal="OD"))

    listed = workspace.cli("entries", "list", "ACME")
    outcome = workspace.cli("entries", "show", "ACME", "od")

    assert "  4. ledgerbridge entries verify ACME ID...   (the entries to verify)" in listed.out
    assert outcome.out.rstrip().endswith("  4. ledgerbridge entries verify ACME od")


def test_an_unknown_section_is_told_to_add_it_not_to_allow_entries_without_analytics(
    workspace: Workspace,
) -> None:
    section = invoice("section")
    section["lines"][0]["analytics"] = [
        {"axis": "SITE", "section": "MARSEILLE", "amount": "100.00"}
    ]
    workspace.import_entries(section)
    workspace.send_and_post("section")

    outcome = workspace.cli("entries", "show", "ACME", "section")

    assert (
        '       analytic_axis_missing: the missing axis or section added under "analytics" >'
        ' "axes"' in outcome.out.splitlines()
    )
    assert "allow_entries_without_analytics" not in outcome.out
    assert outcome.out.rstrip().endswith(
        "  4. ledgerbridge entries verify ACME --code analytic_axis_missing"
    )


def test_an_auxiliary_account_of_another_account_gives_no_step_in_the_ledger(
    workspace: Workspace,
) -> None:
    misplaced = invoice("misplaced")
    misplaced["lines"][1]["auxiliary"] = "FEDF"  # EDF's, on the VAT account
    workspace.import_entries(misplaced)
    workspace.send_and_post("misplaced")

    outcome = workspace.cli("entries", "show", "ACME", "misplaced")

    assert (
        "              line 2: auxiliary account FEDF belongs to account 401000, not to 445660"
        in outcome.out.splitlines()
    )
    assert "Or create the missing" not in outcome.out
    assert "Fixes made in the ledger" not in outcome.out
    assert "--code" not in outcome.out


def test_only_fixes_in_the_entry_say_nothing_of_the_ledger(workspace: Workspace) -> None:
    workspace.import_entries(without_auxiliary("collective"))
    workspace.send_and_post("collective")

    outcome = workspace.cli("entries", "list", "ACME")

    assert "What to do:" in outcome.out
    assert "Fixes made in the ledger" not in outcome.out
    assert "ledgerbridge ledger apply" not in outcome.out


def test_show_of_a_failed_entry_fixed_in_the_ledger_gives_the_steps_too(
    workspace: Workspace,
) -> None:
    workspace.import_entries(invoice("cursor", date="2025-03-10"))
    workspace.send_and_post("cursor")

    outcome = workspace.cli("entries", "show", "ACME", "cursor")

    assert "Fixes made in the ledger (import_cursor_locked)" in outcome.out
    assert outcome.out.rstrip().endswith(
        "  4. ledgerbridge entries verify ACME --code import_cursor_locked"
    )
