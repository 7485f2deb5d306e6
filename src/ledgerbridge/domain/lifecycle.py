"""The entry lifecycle of the workspace (§2): one table of allowed transitions, nothing else."""

from __future__ import annotations

from enum import StrEnum

from ledgerbridge.domain.refusals import Refusal


class Status(StrEnum):
    TO_VERIFY = "to_verify"
    VERIFIED = "verified"
    SYNCHRONIZING = "synchronizing"
    SYNCHRONIZED = "synchronized"
    SYNC_FAILED = "sync_failed"
    EXCLUDED = "excluded"

    @property
    def shown_as(self) -> str:
        return _SHOWN_AS[self]


_SHOWN_AS = {
    Status.TO_VERIFY: "To verify",
    Status.VERIFIED: "Verified",
    Status.SYNCHRONIZING: "Synchronizing",
    Status.SYNCHRONIZED: "Synchronized",
    Status.SYNC_FAILED: "Synchronization failed",
    Status.EXCLUDED: "Excluded",
}


class Action(StrEnum):
    VERIFY = "verify"
    SYNC = "sync"
    POSTED = "posted"
    REJECTED = "rejected"
    EDIT = "edit"
    EXCLUDE = "exclude"
    RESTORE = "restore"


TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.TO_VERIFY, Action.VERIFY): Status.VERIFIED,
    (Status.SYNC_FAILED, Action.VERIFY): Status.VERIFIED,  # the fix was made in the ledger
    (Status.VERIFIED, Action.SYNC): Status.SYNCHRONIZING,
    (Status.SYNCHRONIZING, Action.POSTED): Status.SYNCHRONIZED,
    (Status.SYNCHRONIZING, Action.REJECTED): Status.SYNC_FAILED,
    (Status.TO_VERIFY, Action.EDIT): Status.TO_VERIFY,
    (Status.VERIFIED, Action.EDIT): Status.TO_VERIFY,
    (Status.SYNC_FAILED, Action.EDIT): Status.TO_VERIFY,
    (Status.TO_VERIFY, Action.EXCLUDE): Status.EXCLUDED,
    (Status.VERIFIED, Action.EXCLUDE): Status.EXCLUDED,
    (Status.SYNC_FAILED, Action.EXCLUDE): Status.EXCLUDED,
    (Status.EXCLUDED, Action.RESTORE): Status.TO_VERIFY,
}

# What an entry in each status is, as a clause of a sentence ("it is ...").
_STATE = {
    Status.TO_VERIFY: "it is still to be verified",
    Status.VERIFIED: "it is verified",
    Status.SYNCHRONIZING: "it is synchronizing",
    Status.SYNCHRONIZED: "it is synchronized",
    Status.SYNC_FAILED: "its synchronization failed",
    Status.EXCLUDED: "it is excluded",
}

_WHY_NOT = {
    Status.SYNCHRONIZED: "the ledger posted it, and a posted entry is final",
    Status.SYNCHRONIZING: "its batch waits in the relay, and its result must come back first",
}


def _fix_by_status(status: Status, folder: str, entry_id: str) -> str | None:
    if status is Status.SYNCHRONIZED:
        return "a posted entry is final: correct it in the ledger with a new entry (a reversal)"
    if status is Status.SYNCHRONIZING:
        return (
            "wait for its result: open the folder's accounting in the ledger"
            f" (`ledgerbridge ledger open {folder}`), then try again; if its batch stays"
            f" waiting, `ledgerbridge doctor {folder}` says why"
        )
    if status is Status.EXCLUDED:
        return f"restore it first (`ledgerbridge entries restore {folder} {entry_id}`)"
    return None


_FIX_BY_ACTION = {
    Action.VERIFY: "only entries to verify or whose synchronization failed can be marked verified",
    Action.SYNC: "only verified entries are sent: mark it verified first",
    Action.POSTED: "only a synchronizing entry receives the ledger's result",
    Action.REJECTED: "only a synchronizing entry receives the ledger's result",
    Action.EDIT: "only entries to verify, verified or failed can be edited",
    Action.EXCLUDE: "only entries to verify, verified or failed can be excluded",
    Action.RESTORE: "only excluded entries can be restored",
}


class IllegalTransition(Refusal):
    code = "illegal_transition"

    def __init__(self, entry_id: str, status: Status, action: Action, *, folder: str) -> None:
        why = _STATE[status] + (f": {_WHY_NOT[status]}" if status in _WHY_NOT else "")
        fix = _fix_by_status(status, folder, entry_id) or _FIX_BY_ACTION[action]
        super().__init__(f"Entry {entry_id} cannot be {_PAST[action]}: {why}.", fix=fix + ".")
        self.entry_id, self.status, self.action = entry_id, status, action
        self.folder = folder


_PAST = {
    Action.VERIFY: "marked verified",
    Action.SYNC: "sent",
    Action.POSTED: "marked synchronized",
    Action.REJECTED: "marked failed",
    Action.EDIT: "edited",
    Action.EXCLUDE: "excluded",
    Action.RESTORE: "restored",
}


def moved_by(action: Action) -> tuple[Status, ...]:
    """The statuses `action` moves an entry from, in the table's order."""
    return tuple(status for status, moving in TRANSITIONS if moving is action)


def next_status(entry_id: str, status: Status, action: Action, *, folder: str) -> Status:
    """The status after `action`, or IllegalTransition saying why not and what to do (its
    fix names the entry's `folder` and id, so that it can be run as written)."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalTransition(entry_id, status, action, folder=folder) from None
