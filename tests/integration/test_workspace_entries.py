"""Entries through the workspace's services: every transition of §2 allowed or refused,
verify by ids, --all and --code, edits as new revisions, the history, and the list's shape."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from ledgerbridge.db import Database
from ledgerbridge.domain.lifecycle import IllegalTransition, Status
from ledgerbridge.domain.malformed import MalformedDocument
from ledgerbridge.workspace.errors import UnknownClient, UnknownEntry, UnknownRejectionCode
from ledgerbridge.workspace.service import Workspace
from ledgerbridge.workspace.tables import entries
from ledgerbridge.workspace.transitions import Change
from tests.integration.workspace_samples import (
    NOW,
    failed_by_ledger,
    force_status,
    invoice,
    new_workspace,
    parsed,
    stored,
    without_auxiliary,
)

S = Status
Action = Callable[[Workspace, str], object]

ACTIONS: dict[str, Action] = {
    "verify": lambda workspace, entry_id: workspace.verify("ACME", [entry_id]),
    "edit": lambda workspace, entry_id: workspace.edit("ACME", entry_id, {"label": "corrigé"}),
    "exclude": lambda workspace, entry_id: workspace.exclude("ACME", [entry_id]),
    "restore": lambda workspace, entry_id: workspace.restore("ACME", [entry_id]),
}
ALLOWED = {
    ("verify", S.TO_VERIFY): S.VERIFIED,
    ("verify", S.SYNC_FAILED): S.VERIFIED,
    ("edit", S.TO_VERIFY): S.TO_VERIFY,
    ("edit", S.VERIFIED): S.TO_VERIFY,
    ("edit", S.SYNC_FAILED): S.TO_VERIFY,
    ("exclude", S.TO_VERIFY): S.EXCLUDED,
    ("exclude", S.VERIFIED): S.EXCLUDED,
    ("exclude", S.SYNC_FAILED): S.EXCLUDED,
    ("restore", S.EXCLUDED): S.TO_VERIFY,
}
REFUSED = [
    (action, status) for action in ACTIONS for status in Status if (action, status) not in ALLOWED
]


@pytest.fixture
def workspace(database: Database) -> Workspace:
    workspace, _, _ = new_workspace(database)
    workspace.connect_client("ACME")
    workspace.import_entries("ACME", parsed(invoice("inv-1"), invoice("inv-2"), invoice("inv-3")))
    return workspace


@pytest.mark.parametrize(("action", "status"), list(ALLOWED))
def test_an_allowed_transition_moves_the_entry_and_is_kept_in_its_history(
    workspace: Workspace, database: Database, action: str, status: Status
) -> None:
    force_status(database, "ACME", "inv-1", status)
    ACTIONS[action](workspace, "inv-1")
    row = stored(database, "ACME", "inv-1")
    assert row is not None
    assert row.status == ALLOWED[(action, status)].value
    last = workspace.history("ACME", "inv-1")[-1]
    assert (last.actor, last.from_status, last.to_status) == (
        "accountant",
        status,
        ALLOWED[(action, status)],
    )
    assert last.at == NOW


@pytest.mark.parametrize(("action", "status"), REFUSED)
def test_any_other_transition_is_refused_and_changes_nothing(
    workspace: Workspace, database: Database, action: str, status: Status
) -> None:
    force_status(database, "ACME", "inv-1", status)
    before = workspace.history("ACME", "inv-1")
    with pytest.raises(IllegalTransition) as refused:
        ACTIONS[action](workspace, "inv-1")
    assert "Entry inv-1 cannot be" in refused.value.message
    assert refused.value.fix
    row = stored(database, "ACME", "inv-1")
    assert row is not None
    assert (row.status, row.revision) == (status.value, 1)
    assert workspace.history("ACME", "inv-1") == before


def test_editing_a_synchronized_entry_is_refused_with_the_reason_and_the_fix(
    workspace: Workspace, database: Database
) -> None:
    force_status(database, "ACME", "inv-1", S.SYNCHRONIZED, entry_number=12)
    with pytest.raises(IllegalTransition) as refused:
        workspace.edit("ACME", "inv-1", {"label": "x"})
    assert str(refused.value) == (
        "Entry inv-1 cannot be edited: it is synchronized: the ledger posted it, and a posted"
        " entry is final.\nTo fix: a posted entry is final: correct it in the ledger with a new"
        " entry (a reversal)."
    )


def test_one_illegal_entry_refuses_the_whole_command(
    workspace: Workspace, database: Database
) -> None:
    force_status(database, "ACME", "inv-2", S.SYNCHRONIZING)
    with pytest.raises(IllegalTransition):
        workspace.verify("ACME", ["inv-1", "inv-2", "inv-3"])
    assert {row.id: row.status for row in workspace.list_entries("ACME")} == {
        "inv-1": S.TO_VERIFY,
        "inv-2": S.SYNCHRONIZING,
        "inv-3": S.TO_VERIFY,
    }


def test_an_unknown_entry_or_client_is_refused(workspace: Workspace) -> None:
    with pytest.raises(UnknownEntry, match="Unknown entry 'nope' for client ACME"):
        workspace.verify("ACME", ["inv-1", "nope"])
    assert workspace.list_entries("ACME", [S.VERIFIED]) == []
    with pytest.raises(UnknownEntry):
        workspace.history("ACME", "nope")
    with pytest.raises(UnknownEntry):
        workspace.edit("ACME", "nope", {"label": "x"})
    with pytest.raises(UnknownClient):
        workspace.exclude("NOPE", ["inv-1"])
    with pytest.raises(UnknownClient):
        workspace.list_entries("NOPE")


def statuses(workspace: Workspace) -> dict[str, Status]:
    return {row.id: row.status for row in workspace.list_entries("ACME")}


def test_verify_all_takes_every_entry_to_verify_and_every_failed_one(
    database: Database,
) -> None:
    workspace, _, _ = new_workspace(database)
    workspace.connect_client("ACME")
    workspace.import_entries("ACME", parsed(*(invoice(name) for name in "abcdef")))
    failed_by_ledger(database, "ACME", "b", "record_not_found", "Record not found")
    force_status(database, "ACME", "c", S.VERIFIED)
    force_status(database, "ACME", "d", S.SYNCHRONIZING)
    force_status(database, "ACME", "e", S.EXCLUDED)
    force_status(database, "ACME", "f", S.SYNCHRONIZED)
    changes = workspace.verify_all("ACME")
    assert [(change.entry_id, change.from_status) for change in changes] == [
        ("a", S.TO_VERIFY),
        ("b", S.SYNC_FAILED),
    ]
    assert statuses(workspace) == {
        "a": S.VERIFIED,
        "b": S.VERIFIED,
        "c": S.VERIFIED,
        "d": S.SYNCHRONIZING,
        "e": S.EXCLUDED,
        "f": S.SYNCHRONIZED,
    }
    assert workspace.verify_all("ACME") == []


def test_verify_by_code_takes_only_the_failed_entries_of_that_code(
    workspace: Workspace, database: Database
) -> None:
    failed_by_ledger(
        database, "ACME", "inv-1", "journal_locked", "The purchase journal is locked or read-only"
    )
    failed_by_ledger(database, "ACME", "inv-2", "import_cursor_locked", "Import cursor locked")
    changes = workspace.verify_failed_with_code("ACME", "journal_locked")
    assert [change.entry_id for change in changes] == ["inv-1"]
    assert changes[0].message == "marked verified after a fix in the ledger (journal_locked)"
    assert statuses(workspace) == {
        "inv-1": S.VERIFIED,
        "inv-2": S.SYNC_FAILED,
        "inv-3": S.TO_VERIFY,
    }


def test_verify_by_code_takes_a_refused_deposit_too(
    workspace: Workspace, database: Database
) -> None:
    failed_by_ledger(
        database, "ACME", "inv-1", "deposit_refused", "Batch b-1 was refused by the relay: x."
    )
    changes = workspace.verify_failed_with_code("ACME", "deposit_refused")
    assert [change.entry_id for change in changes] == ["inv-1"]


def test_verify_by_a_code_no_failed_entry_can_carry_is_refused_naming_the_codes(
    workspace: Workspace, database: Database
) -> None:
    failed_by_ledger(database, "ACME", "inv-1", "journal_locked", "The purchase journal is locked")
    with pytest.raises(UnknownRejectionCode) as refused:
        workspace.verify_failed_with_code("ACME", "bogus_code")
    assert "'bogus_code'" in refused.value.message
    assert refused.value.fix is not None
    for code in ("object_reference", "analytic_allocation_incorrect", "idempotency_conflict"):
        assert code in refused.value.fix
    assert "deposit_refused" in refused.value.fix
    assert statuses(workspace)["inv-1"] == S.SYNC_FAILED


def test_verify_by_a_foreign_ledgers_own_code_carried_by_a_failed_entry_is_taken(
    workspace: Workspace, database: Database
) -> None:
    failed_by_ledger(database, "ACME", "inv-1", "E_PERIOD_CLOSED", "Period closed (GE-4711)")

    changes = workspace.verify_failed_with_code("ACME", "E_PERIOD_CLOSED")

    assert [change.entry_id for change in changes] == ["inv-1"]
    assert statuses(workspace)["inv-1"] == S.VERIFIED


def test_verify_by_code_of_an_unknown_client_says_the_client_first(workspace: Workspace) -> None:
    with pytest.raises(UnknownClient):
        workspace.verify_failed_with_code("NOPE", "bogus_code")


def test_an_edit_is_a_new_revision_of_the_patched_document_back_to_to_verify(
    workspace: Workspace, database: Database
) -> None:
    workspace.verify("ACME", ["inv-1"])
    patch = {
        "label": "EDF avril 2026",
        "reference": None,
        "lines": [
            invoice("x")["lines"][0],
            {"account": "445660", "label": "TVA", "debit": "20"},
            {"account": "401000", "auxiliary": "FEDF", "credit": 120},
        ],
    }
    outcome = workspace.edit("ACME", "inv-1", patch)
    assert outcome.as_dict() == {
        "id": "inv-1",
        "outcome": "edited",
        "revision": 2,
        "status": "to_verify",
    }
    row = stored(database, "ACME", "inv-1")
    assert row is not None
    content = json.loads(row.content)
    assert content["label"] == "EDF avril 2026"
    assert "reference" not in content
    assert content["lines"][2] == {"account": "401000", "auxiliary": "FEDF", "credit": "120.00"}
    assert [line.message for line in workspace.history("ACME", "inv-1")] == [
        "imported",
        "marked verified",
        "edited: revision 2",
    ]


def test_an_edit_that_leaves_fewer_lines_says_which_list_it_shortened(
    workspace: Workspace,
) -> None:
    outcome = workspace.edit("ACME", "inv-1", {"lines": [{"auxiliary": "FEDF"}]})
    whole = workspace.edit("ACME", "inv-2", {"lines": invoice("x")["lines"][::-1]})

    assert (outcome.changed, outcome.revision) == (True, 2)
    assert [(s.path, s.before, s.after) for s in outcome.shortened] == [("lines", 3, 1)]
    assert "shortened" not in outcome.as_dict()  # the JSON result keeps its shape
    assert (whole.changed, whole.shortened) == (True, ())


def test_show_gives_the_row_of_the_list_and_the_current_revisions_document(
    workspace: Workspace, database: Database
) -> None:
    workspace.edit("ACME", "inv-1", {"label": "EDF (corrigé)"})
    failed_by_ledger(database, "ACME", "inv-1", "E42", "Compte 401 bloqué par l'exercice")

    view = workspace.show_entry("ACME", "inv-1")

    [listed] = workspace.list_entries("ACME", [S.SYNC_FAILED])
    assert view.row == listed
    assert view.document == {**invoice("inv-1"), "label": "EDF (corrigé)"}
    assert view.as_dict() == {**listed.as_dict(), "document": view.document}
    with pytest.raises(UnknownEntry):
        workspace.show_entry("ACME", "nope")
    with pytest.raises(UnknownClient):
        workspace.show_entry("NOPE", "inv-1")


def test_an_edit_clears_the_ledgers_verdict_of_the_previous_revision(
    workspace: Workspace, database: Database
) -> None:
    failed_by_ledger(
        database, "ACME", "inv-1", "collective_account", "Account (401000) or other is collective"
    )
    workspace.edit("ACME", "inv-1", {"label": "corrigé"})
    row = stored(database, "ACME", "inv-1")
    assert row is not None
    assert (row.status, row.revision, row.code, row.message, row.findings) == (
        "to_verify",
        2,
        None,
        None,
        None,
    )


def test_a_patch_that_changes_nothing_makes_no_revision(workspace: Workspace) -> None:
    outcome = workspace.edit("ACME", "inv-1", {"lines": invoice("x")["lines"]})
    assert (outcome.changed, outcome.revision) == (False, 1)
    assert len(workspace.history("ACME", "inv-1")) == 1


def test_a_patch_cannot_change_the_entrys_id(workspace: Workspace, database: Database) -> None:
    with pytest.raises(MalformedDocument) as malformed:
        workspace.edit("ACME", "inv-1", {"id": "inv-9"})
    assert [str(problem) for problem in malformed.value.problems] == [
        "id: an entry's id cannot change: 'inv-1' cannot become 'inv-9'"
    ]
    row = stored(database, "ACME", "inv-1")
    assert row is not None and row.revision == 1


def test_a_patched_entry_is_validated_like_an_imported_one_and_nothing_is_stored(
    workspace: Workspace, database: Database
) -> None:
    lines = invoice("x")["lines"]
    lines[0]["debt"] = "1.00"
    lines[1]["debit"] = "20.005"
    with pytest.raises(MalformedDocument) as malformed:
        workspace.edit("ACME", "inv-1", {"date": "2026-02-30", "lines": lines})
    assert sorted(problem.path for problem in malformed.value.problems) == [
        "date",
        "lines[0].debt",
        "lines[1].debit",
    ]
    row = stored(database, "ACME", "inv-1")
    assert row is not None and (row.revision, row.status) == (1, "to_verify")
    assert len(workspace.history("ACME", "inv-1")) == 1


def test_a_patch_that_is_not_an_object_is_malformed(workspace: Workspace) -> None:
    with pytest.raises(MalformedDocument, match="not an object"):
        workspace.edit("ACME", "inv-1", ["label"])


def test_the_history_spans_every_revision_and_every_status_change(
    workspace: Workspace, database: Database
) -> None:
    workspace.verify("ACME", ["inv-1"])
    workspace.edit("ACME", "inv-1", {"label": "v2"})
    workspace.exclude("ACME", ["inv-1"])
    workspace.restore("ACME", ["inv-1"])
    workspace.edit("ACME", "inv-1", {"label": "v3"})
    workspace.verify("ACME", ["inv-1"])
    assert [
        (line.actor, line.from_status, line.to_status, line.revision, line.message)
        for line in workspace.history("ACME", "inv-1")
    ] == [
        ("import", None, S.TO_VERIFY, 1, "imported"),
        ("accountant", S.TO_VERIFY, S.VERIFIED, 1, "marked verified"),
        ("accountant", S.VERIFIED, S.TO_VERIFY, 2, "edited: revision 2"),
        ("accountant", S.TO_VERIFY, S.EXCLUDED, 2, "excluded"),
        ("accountant", S.EXCLUDED, S.TO_VERIFY, 2, "restored"),
        ("accountant", S.TO_VERIFY, S.TO_VERIFY, 3, "edited: revision 3"),
        ("accountant", S.TO_VERIFY, S.VERIFIED, 3, "marked verified"),
    ]


def test_status_changes_are_reported_entry_by_entry(workspace: Workspace) -> None:
    changes = workspace.verify("ACME", ["inv-2", "inv-1", "inv-2"])
    assert [change.as_dict() for change in changes] == [
        {
            "id": "inv-2",
            "revision": 1,
            "from": "to_verify",
            "to": "verified",
            "message": "marked verified",
        },
        {
            "id": "inv-1",
            "revision": 1,
            "from": "to_verify",
            "to": "verified",
            "message": "marked verified",
        },
    ]
    assert all(isinstance(change, Change) for change in changes)


# -- the list -------------------------------------------------------------------------------

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


def test_a_list_row_has_exactly_the_fields_of_the_spec(workspace: Workspace) -> None:
    rows = [row.as_dict() for row in workspace.list_entries("ACME")]
    assert [list(row) for row in rows] == [LIST_KEYS] * 3
    assert rows[0] == {
        "id": "inv-1",
        "revision": 1,
        "status": "to_verify",
        "code": None,
        "message": None,
        "findings": [],
        "remedy": None,
        "predicted": None,
        "entry_number": None,
        "fiscal_year": None,
    }


def test_a_failed_entry_shows_the_ledgers_own_message_its_findings_and_a_remedy(
    workspace: Workspace, database: Database
) -> None:
    workspace.import_entries("ACME", parsed(without_auxiliary("inv-4")))
    findings = [
        {
            "code": "collective_account",
            "line": 3,
            "message": "Account (401000) or other is collective",
            "detail": "line 3 uses collective account 401000 without an auxiliary account",
        }
    ]
    force_status(
        database,
        "ACME",
        "inv-4",
        S.SYNC_FAILED,
        code="collective_account",
        message="Account (401000) or other is collective",
        findings=json.dumps(findings),
    )
    [row] = [row.as_dict() for row in workspace.list_entries("ACME", [S.SYNC_FAILED])]
    assert row["code"] == "collective_account"
    assert row["message"] == "Account (401000) or other is collective"
    assert row["findings"] == findings
    assert row["predicted"] is None  # no mirror: no pre-flight
    assert row["remedy"]["precise"] == [
        "line 3 uses 401000 without an auxiliary account; add the third party's auxiliary account to the line"
    ]
    assert row["remedy"]["actions"][0].startswith("Edit the entry and add the missing auxiliary")


def test_a_foreign_ledgers_unknown_message_is_shown_verbatim_with_the_support_remedy(
    workspace: Workspace, database: Database
) -> None:
    failed_by_ledger(database, "ACME", "inv-1", "E42", "Compte 401 bloqué par l'exercice")
    [row] = workspace.list_entries("ACME", [S.SYNC_FAILED])
    assert (row.code, row.message) == ("E42", "Compte 401 bloqué par l'exercice")
    assert row.remedy is not None
    assert row.remedy.actions == (
        'Contact support with this exact message: "Compte 401 bloqué par l\'exercice"',
    )


def test_the_ledgers_message_is_shown_only_while_the_entry_is_failed(
    workspace: Workspace, database: Database
) -> None:
    failed_by_ledger(
        database, "ACME", "inv-1", "journal_locked", "The purchase journal is locked or read-only"
    )
    workspace.verify("ACME", ["inv-1"])
    [row] = workspace.list_entries("ACME", [S.VERIFIED])
    assert (row.code, row.message, row.remedy) == (None, None, None)


def test_a_synchronized_entry_carries_its_entry_number(
    workspace: Workspace, database: Database
) -> None:
    force_status(database, "ACME", "inv-1", S.SYNCHRONIZED, entry_number=42, fiscal_year="2026")
    [row] = workspace.list_entries("ACME", [S.SYNCHRONIZED])
    assert (row.id, row.entry_number, row.fiscal_year) == ("inv-1", 42, "2026")
    assert row.ledger_number == "2026/42"
    assert (row.as_dict()["entry_number"], row.as_dict()["fiscal_year"]) == (42, "2026")
    assert json.loads(row.as_json()) == row.as_dict()


def test_entries_of_two_fiscal_years_numbered_alike_are_told_apart_by_their_fiscal_year(
    workspace: Workspace, database: Database
) -> None:
    force_status(database, "ACME", "inv-1", S.SYNCHRONIZED, entry_number=1, fiscal_year="FY25")
    force_status(database, "ACME", "inv-2", S.SYNCHRONIZED, entry_number=1, fiscal_year="FY26")
    rows = workspace.list_entries("ACME", [S.SYNCHRONIZED])
    assert [json.loads(row.as_json()) for row in rows] == [row.as_dict() for row in rows]
    assert [(row.id, row.entry_number, row.fiscal_year) for row in rows] == [
        ("inv-1", 1, "FY25"),
        ("inv-2", 1, "FY26"),
    ]
    assert [row.ledger_number for row in rows] == ["FY25/1", "FY26/1"]


def test_the_list_filters_by_one_or_several_statuses(
    workspace: Workspace, database: Database
) -> None:
    workspace.verify("ACME", ["inv-2"])
    failed_by_ledger(database, "ACME", "inv-3", "record_not_found", "Record not found")
    assert [row.id for row in workspace.list_entries("ACME", [S.VERIFIED])] == ["inv-2"]
    to_verify_tab = workspace.list_entries("ACME", [S.TO_VERIFY, S.VERIFIED, S.SYNC_FAILED])
    assert [(row.id, row.status) for row in to_verify_tab] == [
        ("inv-1", S.TO_VERIFY),
        ("inv-2", S.VERIFIED),
        ("inv-3", S.SYNC_FAILED),
    ]
    assert workspace.list_entries("ACME", [S.EXCLUDED]) == []
    assert len(workspace.list_entries("ACME")) == 3


def test_an_edit_waits_for_a_sync_holding_the_entry_and_then_sees_it_synchronizing(
    workspace: Workspace, database: Database
) -> None:
    if database.is_sqlite:
        pytest.skip("SQLite runs one writer at a time: the edit cannot start before the sync ends")
    workspace.verify("ACME", ["inv-1"])
    outcome: list[BaseException | None] = []
    with database.engine.connect() as sync, sync.begin():
        sync.execute(
            entries.update()
            .where(entries.c.client == "ACME", entries.c.entry_id == "inv-1")
            .values(status=S.SYNCHRONIZING.value)
        )

        def edit() -> None:
            try:
                workspace.edit("ACME", "inv-1", {"label": "corrigé"})
            except BaseException as error:
                outcome.append(error)
            else:
                outcome.append(None)

        editor = threading.Thread(target=edit)
        editor.start()
        wait_until_a_session_waits_on_a_lock(database)
    editor.join()
    assert len(outcome) == 1 and isinstance(outcome[0], IllegalTransition)
    row = stored(database, "ACME", "inv-1")
    assert row is not None
    assert (row.status, row.revision) == ("synchronizing", 1)


def wait_until_a_session_waits_on_a_lock(database: Database) -> None:
    with database.engine.connect() as watcher:
        for _ in range(500):
            waiting = watcher.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            watcher.rollback()
            if waiting:
                return
            time.sleep(0.01)
    raise AssertionError("the edit never waited for the sync's lock")
