"""The workspace's refusals: each says what was refused, why, and how to fix it."""

from __future__ import annotations

from collections.abc import Sequence

from ledgerbridge.domain.plurals import listed
from ledgerbridge.domain.refusals import NotFound, Refusal


class UnknownClient(NotFound):
    code = "unknown_client"

    def __init__(self, folder: str, clients: Sequence[str] = ()) -> None:
        """`clients`: some of the workspace's, those whose code differs only in case first."""
        connect = f"`ledgerbridge client connect {folder}`"
        like = [code for code in clients if code.casefold() == folder.casefold()]
        if like:
            fix = (
                f"Did you mean {like[0]}? Folder codes are told apart by case. To tie a client"
                f" to folder {folder} itself: {connect}."
            )
        elif clients:
            fix = (
                f"Check the folder code: the workspace's clients are {listed(clients)}. To tie"
                f" a client to folder {folder}: {connect}."
            )
        else:
            fix = f"Connect it first: {connect}."
        super().__init__(
            f"Unknown client {folder!r}: no workspace client is tied to that folder.", fix=fix
        )


class UnknownEntry(NotFound):
    code = "unknown_entry"

    def __init__(self, folder: str, entry_id: str) -> None:
        super().__init__(
            f"Unknown entry {entry_id!r} for client {folder}.",
            fix=f"List the client's entries with `ledgerbridge entries list {folder}`.",
        )


class ApiDisabled(Refusal):
    code = "api_disabled"

    def __init__(self, folder: str) -> None:
        super().__init__(
            f"Client {folder} cannot synchronize: its API setting is off.",
            fix=f"Enable it: `ledgerbridge client set {folder} --api on`, then synchronize again.",
        )


class SyncAlreadyRunning(Refusal):
    code = "sync_running"

    def __init__(self, folder: str, holder: str | None, until: str) -> None:
        running = f" ({holder})" if holder else ""
        super().__init__(
            f"A synchronization of client {folder} is already running{running}.",
            fix="Wait for it to finish, then synchronize again: two syncs of one client never"
            " run at once. A sync that died on this machine frees the client at once; one that"
            f" died elsewhere holds it until {until}.",
        )


class UnknownLedgerFolder(NotFound):
    code = "unknown_folder"

    def __init__(self, folder: str) -> None:
        super().__init__(
            f"Cannot connect client {folder}: the ledger has no folder {folder!r}.",
            fix="Check the folder code, or create the folder in the ledger first"
            " (`ledgerbridge ledger apply --setup FILE`), then connect the client again.",
        )


class UnknownRejectionCode(Refusal):
    code = "unknown_rejection_code"
    http_status = 422  # a value no failed entry can carry, not a state of the client

    def __init__(self, folder: str, code: str, known: Sequence[str]) -> None:
        super().__init__(
            f"Cannot mark verified the failed entries of client {folder} with code {code!r}:"
            " no rejection has that code, and no failed entry of the client carries it.",
            fix=f"Name one of the codes a failed entry can carry: {', '.join(known)}"
            f" (`ledgerbridge entries list {folder} --status sync_failed` shows each failed"
            " entry's code).",
        )
