"""A batch's items and its answers kept by chunks: in order across chunks, each document kept as
it was sent, acknowledged a chunk at a time, and moved by migration 0012 both ways."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ledgerbridge.db import Database, Moment, alembic_config
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.domain.entries import decode_entry
from ledgerbridge.ledger import Ledger
from ledgerbridge.relay import OutgoingBatch, OutgoingEntry, Relay
from ledgerbridge.relay.chunks import items_from_json, items_json
from ledgerbridge.relay.injection import StoredItem
from ledgerbridge.relay.opening import Openings
from ledgerbridge.relay.tables import batches, item_chunks, metadata, result_chunks
from tests.integration.ledger_samples import purchase, without_auxiliary
from tests.integration.relay_samples import NOW, content, document, entries_batch

CHUNK = 3  # items and answers per chunk in these tests
IDS = [f"e{number}" for number in range(8)]  # three chunks: 3, 3 and 2


@pytest.fixture
def linked(database: Database) -> Relay:
    """A relay keeping 3 items per chunk, ACME's connector active, the administrator in."""
    relay = Relay(database, FixedClock(NOW), chunk_size=CHUNK)
    relay.authenticate_administrator()
    relay.activate_connector("ACME", accept=True)
    return relay


def eight_entries() -> OutgoingBatch:
    """Purchases, every third one rejected (no auxiliary account)."""
    return entries_batch(
        "b-1",
        *(
            without_auxiliary(entry_id) if number % 3 == 2 else purchase(entry_id)
            for number, entry_id in enumerate(IDS)
        ),
    )


def chunk_rows(database: Database, table: sa.Table, text: str) -> list[tuple[Any, ...]]:
    """The chunks of `table`, in order, each with its JSON text read."""
    order = table.c.id if "id" in table.c else table.c.first_position
    with database.transaction(write=False) as connection:
        rows = connection.execute(sa.select(table).order_by(order)).mappings().all()
    return [(row["first_position"], json.loads(row[text])) for row in rows]


def test_a_batch_is_kept_by_chunks_each_content_the_document_itself(
    linked: Relay, database: Database
) -> None:
    batch = eight_entries()

    linked.deposit(batch)

    chunks = chunk_rows(database, item_chunks, "items")
    assert [first for first, _ in chunks] == [0, 3, 6]
    items = [item for _, chunk in chunks for item in chunk]
    assert [(position, key, kind) for position, key, kind, _ in items] == [
        (number, f"ACME/{entry_id}/1", "entry") for number, entry_id in enumerate(IDS)
    ]
    # Embedded as JSON, not as a string of JSON.
    assert [item[3] for item in items] == [json.loads(entry.content) for entry in batch.entries]


def test_a_batch_of_several_chunks_is_injected_and_answered_in_order(
    linked: Relay, acme: Ledger
) -> None:
    linked.deposit(eight_entries())

    report = linked.open_folder("ACME", acme)

    assert (report.posted, report.rejected) == (6, 2)
    results = linked.collect_results("ACME")
    assert [r.result["id"] for r in results] == IDS
    assert [r.position for r in results] == list(range(8))
    assert [r.result["status"] for r in results] == [
        "rejected" if number % 3 == 2 else "accepted" for number in range(8)
    ]
    accepted = [r.result["entry_number"] for r in results if r.result["status"] == "accepted"]
    assert accepted == list(range(1, 7))
    # The results of one chunk share its id; the chunks come in the batch's order.
    ids = [r.result_id for r in results]
    assert ids == sorted(ids)
    assert [ids.count(chunk_id) for chunk_id in dict.fromkeys(ids)] == [3, 3, 2]
    assert {(r.batch_id, r.folder, r.created_at, r.delivered_at) for r in results} == {
        ("b-1", "ACME", NOW, None)
    }


def test_an_injected_batch_lets_its_items_go_and_keeps_its_record(
    linked: Relay, acme: Ledger, database: Database
) -> None:
    linked.deposit(eight_entries())
    linked.deposit(entries_batch("b-2", purchase("later")))
    linked.deactivate_connector("ACME")
    linked.open_folder("ACME", acme)  # nothing injected: both batches keep their items
    assert len(chunk_rows(database, item_chunks, "items")) == 4
    linked.activate_connector("ACME", accept=True)

    linked.open_folder("ACME", acme)

    assert chunk_rows(database, item_chunks, "items") == []
    with database.transaction(write=False) as connection:
        kept = connection.execute(
            sa.select(batches.c.batch_id, batches.c.size, batches.c.state).order_by(batches.c.id)
        ).all()
    assert [tuple(row) for row in kept] == [("b-1", 8, "injected"), ("b-2", 1, "injected")]
    assert len(linked.collect_results("ACME")) == 9


def test_the_answers_are_kept_by_chunks_each_result_the_document_itself(
    linked: Relay, acme: Ledger, database: Database
) -> None:
    linked.deposit(eight_entries())
    linked.open_folder("ACME", acme)

    chunks = chunk_rows(database, result_chunks, "answers")

    assert [first for first, _ in chunks] == [0, 3, 6]
    answers = [answer for _, chunk in chunks for answer in chunk]
    assert [answer[:3] for answer in answers] == [
        [number, f"ACME/{entry_id}/1", None] for number, entry_id in enumerate(IDS)
    ]
    assert [answer[3]["id"] for answer in answers] == IDS
    assert {answer[4] for answer in answers} == {False}


def test_acknowledging_a_result_acknowledges_the_whole_of_its_chunk(
    linked: Relay, acme: Ledger
) -> None:
    linked.deposit(eight_entries())
    linked.open_folder("ACME", acme)
    collected = linked.collect_results("ACME")

    assert linked.acknowledge([collected[0].result_id], folder="ACME") == 1
    left = linked.collect_results("ACME")
    assert left == collected[3:]
    assert linked.acknowledge([result.result_id for result in collected], folder="ACME") == 2
    assert linked.acknowledge([result.result_id for result in collected], folder="ACME") == 0
    assert linked.collect_results("ACME") == []


def stored_items(database: Database) -> list[StoredItem]:
    """The items of the one batch, as an opening reads them."""
    with database.transaction(write=False) as connection:
        batch_pk, size = connection.execute(sa.select(batches.c.id, batches.c.size)).one()
    return list(Openings(database, FixedClock(NOW), CHUNK)._read_items(batch_pk, size))


def text_of(item: StoredItem) -> str:
    """An item's document as the JSON text it was sent as."""
    content = item.content
    return content if isinstance(content, str) else bytes(content).decode()


def test_an_entry_written_unusually_is_kept_as_sent_and_read_as_the_same_entry(
    linked: Relay, database: Database
) -> None:
    plain = content(document(purchase("plain")))
    numbers = document(purchase("numbers"))
    numbers["lines"][0]["debit"] = 100  # a JSON number, not a string of cents
    # A lone surrogate, escaped: the schema takes it, strict JSON does not.
    surrogate = content(document(purchase("odd"))).replace("EDF mars", "EDF\\ud800")
    sent = [plain, json.dumps(numbers), surrogate, plain.replace("plain", "last")]
    linked.deposit(
        OutgoingBatch(
            "b-1",
            "ACME",
            entries=tuple(OutgoingEntry(f"ACME/{n}/1", text) for n, text in enumerate(sent)),
        )
    )

    items = stored_items(database)

    assert [decode_entry(item.content) for item in items] == [decode_entry(t) for t in sent]
    assert decode_entry(items[2].content).label == "EDF\ud800 2026"
    assert items[2].content == surrogate  # its text, the rest of its chunk strict JSON
    assert [text_of(item) for item in items if item.position != 2] == [
        text for position, text in enumerate(sent) if position != 2
    ]


def test_a_chunk_reads_back_the_items_it_was_made_of() -> None:
    text = content(document(purchase("a")))
    items = [
        StoredItem(0, "ACME/a/1", "entry", text),
        StoredItem(1, "account:401000", "account", '{"number": "401000"}'),
    ]

    again = items_from_json(items_json(items))

    assert [item.content for item in again] == [text, '{"number": "401000"}']
    assert [item[:3] for item in again] == [item[:3] for item in items]


def test_the_relay_tables_match_the_migrations(database: Database) -> None:
    with database.transaction(write=False) as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)

    assert [difference for difference in differences if "relay_" in str(difference)] == []


# -- migration 0012: rows into chunks and back

# The two tables as 0002_relay made them, which 0012 replaces.
_before = sa.MetaData()
old_items = sa.Table(
    "relay_batch_items",
    _before,
    sa.Column("batch", sa.Integer, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("key", sa.String),
    sa.Column("kind", sa.String),
    sa.Column("content", sa.Text),
)
old_results = sa.Table(
    "relay_results",
    _before,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch", sa.Integer),
    sa.Column("position", sa.Integer),
    sa.Column("folder", sa.String),
    sa.Column("key", sa.String),
    sa.Column("item", sa.String),
    sa.Column("result", sa.Text),
    sa.Column("expected", sa.Boolean),
    sa.Column("created_at", Moment),
    sa.Column("delivered_at", Moment),
)
LATER = NOW + timedelta(hours=1)


def _result(entry_id: str, number: int | None) -> str:
    if number is None:
        result: dict[str, Any] = {"id": entry_id, "status": "rejected", "code": "x"}
    else:
        result = {"id": entry_id, "status": "accepted", "entry_number": number}
    return json.dumps(result)


def _rows_at_0011(connection: sa.Connection) -> None:
    """Two injected batches of ACME, one of OTHER, and one of ACME still waiting."""
    connection.execute(
        batches.insert(),
        [
            {"id": pk, "batch_id": batch_id, "folder": folder, "kind": kind, "size": size,
             "deposited_at": NOW, "state": state}
            for pk, batch_id, folder, kind, size, state in [
                (1, "b-1", "ACME", "entries", 3, "injected"),
                (2, "c-1", "OTHER", "reference", 2, "injected"),
                (3, "b-2", "ACME", "entries", 3, "injected"),
                (4, "b-3", "ACME", "entries", 3, "waiting"),
            ]
        ],
    )  # fmt: skip
    items: list[dict[str, Any]] = [
        {"batch": batch, "position": position, "key": f"ACME/{entry_id}/1", "kind": "entry",
         "content": content(document(purchase(entry_id)))}
        for batch, ids in [(1, ["a", "b", "c"]), (3, ["d", "e", "f"]), (4, ["g", "h", "i"])]
        for position, entry_id in enumerate(ids)
    ]  # fmt: skip
    # Written by hand, as an old deposit may hold it: kept character for character.
    items[-1]["content"] = items[-1]["content"].replace(", ", " ,  ")
    connection.execute(old_items.insert(), items)
    rows = [
        # b-1, answered and delivered, but its last answer's acknowledgement lost.
        (1, 1, 0, "ACME", "ACME/a/1", None, _result("a", 1), False, NOW, LATER),
        (2, 1, 1, "ACME", "ACME/b/1", None, _result("b", None), False, NOW, LATER),
        (3, 1, 2, "ACME", "ACME/c/1", None, _result("c", 2), False, NOW, None),
        # OTHER's initial connection: an expected rejection, and an unexpected one.
        (4, 2, 0, "OTHER", "account:401000", "account 401000", _result("401000", None),
         True, NOW, None),
        (5, 2, 1, "OTHER", "third_party:FEDF", "third party FEDF", _result("FEDF", None),
         False, NOW, None),
        # b-2, answered later, not delivered yet.
        (6, 3, 0, "ACME", "ACME/d/1", None, _result("d", 3), False, LATER, None),
        (7, 3, 1, "ACME", "ACME/e/1", None, _result("e", 4), False, LATER, None),
        (8, 3, 2, "ACME", "ACME/f/1", None, _result("f", 5), False, LATER, None),
    ]  # fmt: skip
    names = [column.name for column in old_results.c]
    connection.execute(old_results.insert(), [dict(zip(names, row, strict=True)) for row in rows])


def _old_rows(connection: sa.Connection) -> tuple[list[Any], list[Any]]:
    items = connection.execute(
        sa.select(old_items).order_by(old_items.c.batch, old_items.c.position)
    ).all()
    columns = [column for column in old_results.c if column.name != "id"]
    results = connection.execute(sa.select(*columns).order_by(old_results.c.id)).all()
    return [tuple(row) for row in items], [tuple(row) for row in results]


def _migrate(database: Database, target: str) -> None:
    config = alembic_config()
    with database.transaction() as connection:
        config.attributes["connection"] = connection
        if target == "heads":
            command.upgrade(config, target)
        else:
            command.downgrade(config, target)


def test_migration_0012_moves_waiting_items_and_every_result_into_chunks_and_back(
    database: Database,
) -> None:
    database.ensure_schema()
    _migrate(database, "0011_history_events")
    with database.transaction() as connection:
        _rows_at_0011(connection)
        items_before, results_before = _old_rows(connection)

    _migrate(database, "heads")

    relay = Relay(database, FixedClock(NOW))
    assert [batch.batch_id for batch in relay.waiting("ACME")] == ["b-3"]
    with database.transaction(write=False) as connection:
        chunks = connection.execute(
            sa.select(item_chunks.c.batch, item_chunks.c.first_position)
        ).all()
    assert [tuple(chunk) for chunk in chunks] == [(4, 0)]  # the injected ones' items go
    openings = Openings(database, FixedClock(NOW), 1000)
    read = list(openings._read_items(4, 3))
    assert [(i.position, i.key, i.kind, text_of(i)) for i in read] == [
        row[1:] for row in items_before if row[0] == 4
    ]
    collected = relay.collect_results("ACME")
    assert [
        (r.batch_id, r.position, r.key, r.item, r.result, r.expected, r.created_at)
        for r in collected
    ] == [
        ("b-1", 2, "ACME/c/1", None, json.loads(_result("c", 2)), False, NOW),
        ("b-2", 0, "ACME/d/1", None, json.loads(_result("d", 3)), False, LATER),
        ("b-2", 1, "ACME/e/1", None, json.loads(_result("e", 4)), False, LATER),
        ("b-2", 2, "ACME/f/1", None, json.loads(_result("f", 5)), False, LATER),
    ]
    other = relay.collect_results("OTHER")
    assert [(r.item, r.expected) for r in other] == [
        ("account 401000", True),
        ("third party FEDF", False),
    ]
    with database.transaction(write=False) as connection:
        delivered = connection.execute(
            sa.select(result_chunks.c.batch, result_chunks.c.answers).where(
                result_chunks.c.delivered_at == LATER
            )
        ).all()
    assert [(batch, [a[0] for a in json.loads(text)]) for batch, text in delivered] == [(1, [0, 1])]

    _migrate(database, "0011_history_events")

    with database.transaction(write=False) as connection:
        items_after, results_after = _old_rows(connection)
    assert items_after == [row for row in items_before if row[0] == 4]
    assert results_after == results_before


def test_migration_0012_cuts_a_large_batch_into_chunks_in_order(database: Database) -> None:
    database.ensure_schema()
    _migrate(database, "0011_history_events")
    size = 2500
    with database.transaction() as connection:
        connection.execute(
            batches.insert(),
            [
                {"id": pk, "batch_id": f"b-{pk}", "folder": "ACME", "kind": "entries",
                 "size": size, "deposited_at": NOW, "state": state}
                for pk, state in [(1, "injected"), (2, "waiting")]
            ],
        )  # fmt: skip
        connection.execute(
            old_items.insert(),
            [
                {"batch": 2, "position": n, "key": f"ACME/e{n}/1", "kind": "entry",
                 "content": f'{{"id": "e{n}"}}'}
                for n in range(size)
            ],
        )  # fmt: skip
        # The first 1,200 answers delivered, the others not.
        connection.execute(
            old_results.insert(),
            [
                {"batch": 1, "position": n, "folder": "ACME", "key": f"ACME/e{n}/1",
                 "item": None, "result": f'{{"id": "e{n}"}}', "expected": False,
                 "created_at": NOW, "delivered_at": LATER if n < 1200 else None}
                for n in range(size)
            ],
        )  # fmt: skip
        items_before, results_before = _old_rows(connection)

    _migrate(database, "heads")

    with database.transaction(write=False) as connection:
        item_firsts = connection.execute(
            sa.select(item_chunks.c.first_position).order_by(item_chunks.c.first_position)
        ).scalars()
        assert list(item_firsts) == [0, 1000, 2000]
        result_firsts = connection.execute(
            sa.select(result_chunks.c.first_position, result_chunks.c.delivered_at).order_by(
                result_chunks.c.id
            )
        ).all()
    assert [tuple(row) for row in result_firsts] == [
        (0, LATER),
        (1000, LATER),
        (1200, None),
        (2200, None),
    ]
    read = list(Openings(database, FixedClock(NOW), 1000)._read_items(2, size))
    assert [item.key for item in read] == [f"ACME/e{n}/1" for n in range(size)]
    collected = Relay(database, FixedClock(NOW)).collect_results("ACME")
    assert [r.result["id"] for r in collected] == [f"e{n}" for n in range(1200, size)]

    _migrate(database, "0011_history_events")

    with database.transaction(write=False) as connection:
        assert _old_rows(connection) == (items_before, results_before)
