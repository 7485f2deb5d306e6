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
    assert next_status("e1", status, action) is ALLOWED[(status, action)]


@pytest.mark.parametrize(
    ("status", "action"),
    [pair for pair in itertools.product(Status, Action) if pair not in ALLOWED],
)
def test_every_other_transition_is_refused_with_why_and_fix(status: Status, action: Action) -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status("e1", status, action)
    assert "e1" in refused.value.message
    assert refused.value.fix


def test_the_table_is_exactly_the_spec() -> None:
    assert dict(TRANSITIONS) == ALLOWED


def test_a_synchronized_entry_is_final() -> None:
    assert not [pair for pair in TRANSITIONS if pair[0] is S.SYNCHRONIZED]


def test_a_synchronizing_entry_cannot_be_edited_until_its_result_is_back() -> None:
    with pytest.raises(IllegalTransition, match="synchronizing") as refused:
        next_status("inv-1", S.SYNCHRONIZING, A.EDIT)
    assert refused.value.fix is not None
    assert "ledger open" in refused.value.fix
