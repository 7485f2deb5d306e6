"""The entry lifecycle of §2: every allowed transition, and every other one refused."""

from __future__ import annotations

import itertools

import pytest

from ledgerbridge.domain.lifecycle import (
    TRANSITIONS,
    Action,
    IllegalTransition,
    Status,
    next_status,
)

S, A = Status, Action
ALLOWED = {
    (S.TO_VERIFY, A.VERIFY): S.VERIFIED,
    (S.SYNC_FAILED, A.VERIFY): S.VERIFIED,
    (S.VERIFIED, A.SYNC): S.SYNCHRONIZING,
    (S.SYNCHRONIZING, A.POSTED): S.SYNCHRONIZED,
    (S.SYNCHRONIZING, A.REJECTED): S.SYNC_FAILED,
    (S.TO_VERIFY, A.EDIT): S.TO_VERIFY,
    (S.VERIFIED, A.EDIT): S.TO_VERIFY,
    (S.SYNC_FAILED, A.EDIT): S.TO_VERIFY,
    (S.TO_VERIFY, A.EXCLUDE): S.EXCLUDED,
    (S.VERIFIED, A.EXCLUDE): S.EXCLUDED,
    (S.SYNC_FAILED, A.EXCLUDE): S.EXCLUDED,
    (S.EXCLUDED, A.RESTORE): S.TO_VERIFY,
}


@pytest.mark.parametrize(("status", "action"), list(ALLOWED))
def test_allowed_transition_leads_where_the_spec_says(status: Status, action: Action) -> None:
    assert next_status("e1", status, action, folder="ACME") is ALLOWED[(status, action)]


@pytest.mark.parametrize(
    ("status", "action"),
    [pair for pair in itertools.product(Status, Action) if pair not in ALLOWED],
)
def test_every_other_transition_is_refused_with_why_and_fix(status: Status, action: Action) -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status("e1", status, action, folder="ACME")
    assert "e1" in refused.value.message
    assert refused.value.fix


def test_the_table_is_exactly_the_spec() -> None:
    assert dict(TRANSITIONS) == ALLOWED


def test_a_synchronized_entry_is_final() -> None:
    assert not [pair for pair in TRANSITIONS if pair[0] is S.SYNCHRONIZED]


def test_a_synchronizing_entry_cannot_be_edited_until_its_result_is_back() -> None:
    with pytest.raises(IllegalTransition, match="synchronizing") as refused:
        next_status("inv-1", S.SYNCHRONIZING, A.EDIT, folder="ACME")
    assert refused.value.fix is not None
    assert "ledger open" in refused.value.fix


@pytest.mark.parametrize(
    ("status", "action", "fix"),
    [
        (S.SYNCHRONIZING, A.EXCLUDE, "`ledgerbridge ledger open PAINDOR`"),
        (S.EXCLUDED, A.EDIT, "`ledgerbridge entries restore PAINDOR c1-objref`"),
        (S.EXCLUDED, A.VERIFY, "`ledgerbridge entries restore PAINDOR c1-objref`"),
    ],
)
def test_a_fix_names_the_entrys_folder_and_id_so_it_runs_as_written(
    status: Status, action: Action, fix: str
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status("c1-objref", status, action, folder="PAINDOR")
    assert refused.value.fix is not None
    assert fix in refused.value.fix
    assert "FOLDER" not in refused.value.fix and " ID" not in refused.value.fix


@pytest.mark.parametrize("action", [A.EDIT, A.EXCLUDE])
def test_a_synchronizing_entrys_fix_says_where_to_look_when_its_batch_stays_waiting(
    action: Action,
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status("c1-objref", S.SYNCHRONIZING, action, folder="PAINDOR")
    assert refused.value.fix == (
        "wait for its result: open the folder's accounting in the ledger"
        " (`ledgerbridge ledger open PAINDOR`), then try again; if its batch stays waiting,"
        " `ledgerbridge doctor PAINDOR` says why."
    )


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (S.TO_VERIFY, "it is still to be verified."),
        (S.VERIFIED, "it is verified."),
        (S.SYNC_FAILED, "its synchronization failed."),
        (S.EXCLUDED, "it is excluded."),
        (S.SYNCHRONIZING, "it is synchronizing: its batch waits in the relay"),
        (S.SYNCHRONIZED, "it is synchronized: the ledger posted it"),
    ],
)
def test_why_a_change_is_refused_reads_right_for_every_status(status: Status, said: str) -> None:
    action = A.RESTORE if status is not S.EXCLUDED else A.SYNC
    with pytest.raises(IllegalTransition) as refused:
        next_status("c1-objref", status, action, folder="PAINDOR")
    assert f"Entry c1-objref cannot be {'restored' if action is A.RESTORE else 'sent'}: {said}" in (
        refused.value.message
    )


@pytest.mark.parametrize(
    ("status", "action"),
    [pair for pair in itertools.product(Status, Action) if pair not in ALLOWED],
)
def test_no_refusal_says_it_is_followed_by_a_status_as_shown(
    status: Status, action: Action
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status("e1", status, action, folder="ACME")
    for shown in ("to verify", "synchronization failed"):
        assert f"it is {shown}" not in refused.value.message
