"""Importing entries (§4.2): new ones land in To Verify; ids already there are unchanged,
updated (a new revision) or left as they are, each reported; a malformed batch stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledgerbridge.db import Database
from ledgerbridge.documents import stream_entries
from ledgerbridge.domain.entries import BatchReader, Entry
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.malformed import MalformedDocument
from ledgerbridge.workspace.errors import UnknownClient
from ledgerbridge.workspace.importing import ImportReport
from ledgerbridge.workspace.service import Workspace
from ledgerbridge.workspace.tables import entries, history_events, revisions
from ledgerbridge.workspace.transitions import history_of
from tests.integration.workspace_samples import (
    NOW,
    Document,
    force_status,
    invoice,
    new_workspace,
    parsed,
    stored,
)


@pytest.fixture
def workspace(database: Database) -> Workspace:
    workspace, _, _ = new_workspace(database)
    workspace.connect_client("ACME")
    return workspace


def import_documents(workspace: Workspace, *documents: Document) -> ImportReport:
    return workspace.import_entries("ACME", parsed(*documents))


def outcomes(report: ImportReport) -> dict[str, tuple[str, str, int]]:
    return {
        result.id: (result.outcome, result.status.value, result.revision)
        for result in report.results
    }


def test_new_entries_land_in_to_verify_at_revision_one_with_their_import_in_the_history(
    workspace: Workspace, database: Database
) -> None:
    report = import_documents(workspace, invoice("inv-1"), invoice("inv-2"))
    assert outcomes(report) == {
        "inv-1": ("new", "to_verify", 1),
        "inv-2": ("new", "to_verify", 1),
    }
    row = stored(database, "ACME", "inv-1")
    assert row is not None
    assert (row.status, row.revision, row.imported_at) == ("to_verify", 1, NOW)
    assert json.loads(row.content) == invoice("inv-1")
    [line] = workspace.history("ACME", "inv-1")
    assert line.as_dict() == {
        "at": NOW.isoformat(),
        "actor": "import",
        "from": None,
        "to": "to_verify",
        "message": "imported",
        "revision": 1,
    }


def test_the_same_content_again_changes_nothing(workspace: Workspace, database: Database) -> None:
    import_documents(workspace, invoice("inv-1"))
    # The same content written differently: an amount as a number, a zero-less decimal.
    same = invoice("inv-1")
    same["lines"][1]["debit"] = 20
    report = import_documents(workspace, same)
    assert outcomes(report) == {"inv-1": ("unchanged", "to_verify", 1)}
    assert len(workspace.history("ACME", "inv-1")) == 1


@pytest.mark.parametrize("status", [Status.TO_VERIFY, Status.VERIFIED, Status.SYNC_FAILED])
def test_other_content_makes_a_new_revision_back_to_to_verify(
    workspace: Workspace, database: Database, status: Status
) -> None:
    import_documents(workspace, invoice("inv-1"))
    force_status(
        database, "ACME", "inv-1", status, code="record_not_found", message="Record not found"
    )
    report = import_documents(workspace, invoice("inv-1", label="EDF mars 2026 (corrigé)"))
    assert outcomes(report) == {"inv-1": ("updated", "to_verify", 2)}
    row = stored(database, "ACME", "inv-1")
    assert row is not None
    assert (row.status, row.revision, row.code, row.message) == ("to_verify", 2, None, None)
    assert json.loads(row.content)["label"] == "EDF mars 2026 (corrigé)"
    last = workspace.history("ACME", "inv-1")[-1]
    assert (last.actor, last.from_status, last.to_status, last.revision) == (
        "import",
        status,
        Status.TO_VERIFY,
        2,
    )
    with database.transaction(write=False) as connection:
        kept = connection.execute(
            sa.select(revisions.c.revision, revisions.c.content).order_by(revisions.c.revision)
        ).all()
    assert [revision for revision, _ in kept] == [1, 2]
    assert json.loads(kept[0].content)["label"] == "EDF mars 2026"


@pytest.mark.parametrize("status", [Status.SYNCHRONIZING, Status.SYNCHRONIZED, Status.EXCLUDED])
def test_a_synchronizing_synchronized_or_excluded_entry_is_left_as_it_is(
    workspace: Workspace, database: Database, status: Status
) -> None:
    import_documents(workspace, invoice("inv-1"))
    force_status(database, "ACME", "inv-1", status)
    report = import_documents(workspace, invoice("inv-1", label="autre"), invoice("inv-2"))
    assert outcomes(report) == {
        "inv-1": ("left_as_is", status.value, 1),
        "inv-2": ("new", "to_verify", 1),
    }
    row = stored(database, "ACME", "inv-1")
    assert row is not None
    assert (row.status, row.revision) == (status.value, 1)
    assert json.loads(row.content)["label"] == "EDF mars 2026"


def test_one_import_reports_every_kind_of_outcome_in_the_batchs_order(
    workspace: Workspace, database: Database
) -> None:
    import_documents(workspace, invoice("a"), invoice("b"), invoice("c"))
    force_status(database, "ACME", "c", Status.SYNCHRONIZED, entry_number=7)
    report = import_documents(
        workspace, invoice("d"), invoice("c", label="x"), invoice("b", label="y"), invoice("a")
    )
    assert [(result.id, result.outcome) for result in report.results] == [
        ("d", "new"),
        ("c", "left_as_is"),
        ("b", "updated"),
        ("a", "unchanged"),
    ]
    assert (report.count("new"), report.count("updated"), report.count("unchanged")) == (1, 1, 1)


def test_importing_into_an_unknown_client_is_refused(database: Database) -> None:
    workspace, _, _ = new_workspace(database)
    with pytest.raises(UnknownClient):
        import_documents(workspace, invoice("inv-1"))


def count_rows(database: Database) -> tuple[int, int, int, int]:
    """How many entries, revisions, history lines and history events the workspace holds."""
    with database.transaction(write=False) as connection:

        def count(table: sa.Table) -> int:
            return int(
                connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            )

        lines = sum(
            len(history_of(column)) for column in connection.scalars(sa.select(entries.c.history))
        )
        return count(entries), count(revisions), lines, count(history_events)


def write_batch(path: Path, documents: list[Document], folder: str = "ACME") -> Path:
    path.write_text(json.dumps({"folder": folder, "entries": documents}), encoding="utf-8")
    return path


def import_file(workspace: Workspace, path: Path, folder: str = "ACME") -> ImportReport:
    reader = BatchReader(expected_folder=folder)
    return workspace.import_entries(
        folder, stream_entries(path, reader), before_commit=lambda: reader.finish(source=str(path))
    )


def test_a_batch_malformed_near_its_end_stores_nothing_even_after_many_chunks(
    workspace: Workspace, database: Database, tmp_path: Path
) -> None:
    documents = [invoice(f"inv-{number:05d}") for number in range(2500)]
    documents.append(invoice("bad", date="2026-13-01"))
    path = write_batch(tmp_path / "batch.json", documents)
    with pytest.raises(MalformedDocument) as malformed:
        import_file(workspace, path)
    assert [str(problem) for problem in malformed.value.problems] == [
        "entries[2500].date: impossible date '2026-13-01': no such day in the calendar"
    ]
    assert count_rows(database) == (0, 0, 0, 0)


def test_an_id_twice_in_one_batch_is_malformed_and_stores_nothing(
    workspace: Workspace, database: Database, tmp_path: Path
) -> None:
    path = write_batch(
        tmp_path / "batch.json", [invoice("inv-1"), invoice("inv-2"), invoice("inv-1")]
    )
    with pytest.raises(MalformedDocument) as malformed:
        import_file(workspace, path)
    assert "duplicate id 'inv-1'" in str(malformed.value)
    assert count_rows(database) == (0, 0, 0, 0)


def test_an_id_twice_is_refused_even_without_a_reader_to_say_so(
    workspace: Workspace, database: Database
) -> None:
    with pytest.raises(MalformedDocument, match="duplicate id 'inv-1'"):
        import_documents(workspace, invoice("inv-1"), invoice("inv-1"))
    assert count_rows(database) == (0, 0, 0, 0)


def test_a_batch_for_another_folder_is_malformed_and_stores_nothing(
    workspace: Workspace, database: Database, tmp_path: Path
) -> None:
    path = write_batch(tmp_path / "batch.json", [invoice("inv-1")], folder="OTHER")
    with pytest.raises(MalformedDocument) as malformed:
        import_file(workspace, path)
    assert [problem.path for problem in malformed.value.problems] == ["folder"]
    assert count_rows(database) == (0, 0, 0, 0)


def test_entries_are_read_lazily_as_the_import_goes(workspace: Workspace) -> None:
    taken: list[str] = []

    def batch() -> Iterator[Entry]:
        for entry in parsed(*(invoice(f"inv-{number}") for number in range(3))):
            taken.append(entry.id)
            yield entry

    report = workspace.import_entries("ACME", batch())
    assert taken == ["inv-0", "inv-1", "inv-2"]
    assert report.count("new") == 3


def test_a_large_import_writes_every_entry_revision_and_history_line(
    workspace: Workspace, database: Database
) -> None:
    report = import_documents(workspace, *(invoice(f"inv-{number:05d}") for number in range(2345)))
    assert report.count("new") == 2345
    # One event, "imported", shared by every entry's first history line.
    assert count_rows(database) == (2345, 2345, 2345, 1)
    again = import_documents(
        workspace, *(invoice(f"inv-{number:05d}", label="v2") for number in range(2345))
    )
    assert again.count("updated") == 2345
    assert count_rows(database) == (2345, 4690, 4690, 2)
    assert [line.message for line in workspace.history("ACME", "inv-02344")] == [
        "imported",
        "imported again with other content: revision 2",
    ]
