"""The initial connection's reference data: what the folder has is rejected, as expected;
what it lacks is added to its setup."""

from __future__ import annotations

import pytest

from ledgerbridge.db import Database
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.domain.setup import Account, ThirdParty
from ledgerbridge.ledger import Ledger
from ledgerbridge.relay import OutgoingBatch, Relay, reference_items
from tests.integration.relay_samples import NOW


@pytest.fixture
def linked(database: Database) -> Relay:
    relay = Relay(database, FixedClock(NOW))
    relay.authenticate_administrator()
    relay.activate_connector("ACME", accept=True)
    return relay


def connection_batch() -> OutgoingBatch:
    return OutgoingBatch.of_reference(
        "ACME-connect",
        "ACME",
        reference_items(
            [
                Account(number="401000", name="Fournisseurs", collective=True),
                Account(number="401100", name="Fournisseurs étrangers", collective=True),
            ],
            [
                ThirdParty(code="FEDF", name="EDF", account="401000"),
                ThirdParty(code="FSIEMENS", name="Siemens AG", account="401100"),
                ThirdParty(code="FNOWHERE", name="Nowhere", account="409999"),
            ],
        ),
    )


def test_items_the_folder_has_are_rejected_as_expected_the_others_added_or_refused(
    linked: Relay, acme: Ledger
) -> None:
    linked.deposit(connection_batch())

    report = linked.open_folder("ACME", acme)

    assert (report.injected_batches, report.reference_added, report.expected_rejections) == (
        1,
        2,
        2,
    )
    # A third party on an account the folder lacks was not added: a real refusal, not expected.
    assert (report.posted, report.rejected) == (0, 1)
    assert report.refused_items == (
        "third party FNOWHERE belongs to account 409999, which folder ACME does not have",
    )
    assert report.lines()[-1] == (
        "1 third-party or account record sent at the initial connection refused by the ledger:"
        " third party FNOWHERE belongs to account 409999, which folder ACME does not have."
        " Correct the reference file, or add what is missing in the ledger, then connect the"
        " client again (ledgerbridge client connect ACME --reference FILE)."
    )
    setup = acme.folder_setup("ACME")
    assert "401100" in {account.number for account in setup.accounts}
    assert ThirdParty(code="FSIEMENS", name="Siemens AG", account="401100") in setup.third_parties
    assert "FNOWHERE" not in {party.code for party in setup.third_parties}
    results = linked.collect_results("ACME")
    # Every item is answered, in the batch's order; an added one as accepted.
    assert [(r.item, r.expected, r.result["status"], r.result.get("code")) for r in results] == [
        ("account 401000", True, "rejected", "record_already_exists"),
        ("account 401100", False, "accepted", None),
        ("third party FEDF", True, "rejected", "record_already_exists"),
        ("third party FSIEMENS", False, "accepted", None),
        ("third party FNOWHERE", False, "rejected", "record_not_found"),
    ]
    assert [r.result.get("message") for r in results if r.result["status"] == "rejected"] == [
        "Record already exists: account 401000",
        "Record already exists: third party FEDF",
        "Record not found",
    ]
    assert [r.key for r in results] == [
        "account:401000",
        "account:401100",
        "third_party:FEDF",
        "third_party:FSIEMENS",
        "third_party:FNOWHERE",
    ]
    assert results[4].result["findings"][0]["detail"] == (
        "third party FNOWHERE belongs to account 409999, which folder ACME does not have"
    )


def test_the_opening_report_says_the_reference_rejections_are_to_be_ignored(
    linked: Relay, acme: Ledger
) -> None:
    linked.deposit(connection_batch())

    lines = linked.open_folder("ACME", acme).lines()

    assert (
        lines[0]
        == "Folder ACME opened; 1 batch injected: 0 posted, 0 already posted (replays), 1 rejected."
    )
    assert "ignore them" in lines[-2]
    assert "third party FEDF" in lines[-2]
    assert "third party FNOWHERE belongs to account 409999" in lines[-1]  # not to be ignored


def test_a_connection_whose_items_the_folder_all_has_changes_nothing(
    linked: Relay, acme: Ledger
) -> None:
    before = acme.folder_setup("ACME")
    linked.deposit(
        OutgoingBatch.of_reference(
            "ACME-connect",
            "ACME",
            reference_items(before.accounts, before.third_parties),
        )
    )

    report = linked.open_folder("ACME", acme)

    assert report.reference_added == 0
    assert report.expected_rejections == len(before.accounts) + len(before.third_parties)
    assert acme.folder_setup("ACME") == before
