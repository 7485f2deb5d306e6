"""The relay's refusals: each says what was refused, why, and how to fix it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ledgerbridge.domain.clock import DEFAULT_TIMEZONE, local_time
from ledgerbridge.domain.plurals import listed
from ledgerbridge.domain.refusals import NotFound, Refusal

CERTIFICATE_EXPIRED_MESSAGE = (
    "For security reasons, the GE Connector security certificate has expired."
    " It is necessary for the reference administrator to identify again."
)


class CertificateExpired(Refusal):
    """The reference administrator's credential expired (or never existed): nothing passes."""

    code = "certificate_expired"
    http_status = 403

    def __init__(self, expired_at: datetime | None, timezone: str = DEFAULT_TIMEZONE) -> None:
        self.expired_at = expired_at
        # The message is the seed's, word for word, "identify again" even for an
        # administrator who never did; the fix says what is true of this one.
        if expired_at is None:
            fix = (
                "The reference administrator has never authenticated. Authenticate the"
                f" reference administrator with {_AUTHENTICATE}, then try again."
            )
        else:
            fix = (
                f"The certificate expired on {local_time(expired_at, timezone)}. The reference"
                f" administrator authenticates again with {_AUTHENTICATE}, then opens the"
                " folder's accounting again."
            )
        super().__init__(CERTIFICATE_EXPIRED_MESSAGE, fix=fix)

    def told_in(self, timezone: str) -> CertificateExpired:
        """The same refusal, its time told in `timezone` (a folder's client's)."""
        return CertificateExpired(self.expired_at, timezone)


_AUTHENTICATE = (
    "`ledgerbridge ledger admin-auth` (Processes > GE Connector > Reference Administrator >"
    " Authenticate Reference Administrator Account)"
)


class ConnectorInactive(Refusal):
    """The folder's marketplace connector is deactivated or its interactions not accepted."""

    code = "connector_inactive"

    def __init__(self, folder: str, action: str, reason: str) -> None:
        self.folder = folder
        self.reason = reason
        super().__init__(
            f"Cannot {action} for folder {folder}: {reason}.",
            fix=f"Activate the connector, accepting its interactions:"
            f" `ledgerbridge ledger marketplace {folder} --activate --accept`, then try again.",
        )


class ConsentRequired(Refusal):
    """Activating a connector needs its interactions accepted (the seed's checkbox)."""

    code = "consent_required"

    def __init__(self, folder: str) -> None:
        self.folder = folder
        super().__init__(
            f"The marketplace connector of folder {folder} was not activated: its interactions"
            " must be accepted to activate it.",
            fix=f"Accept them: `ledgerbridge ledger marketplace {folder} --activate --accept`.",
        )


class FolderNotInLedger(NotFound):
    """The ledger has no folder by that code."""

    code = "unknown_folder"

    def __init__(self, folder: str, known: Sequence[str] = ()) -> None:
        self.folder = folder
        having = f"its folders are {listed(known)}" if known else "it has no folder yet"
        super().__init__(
            f"Unknown ledger folder {folder!r}: the ledger has no such folder ({having}).",
            fix="Check the folder code, or create the folder with"
            " `ledgerbridge ledger apply --setup FILE`.",
        )


class BatchIdTaken(Refusal):
    """A batch id already holds another folder's (or another kind of) batch."""

    code = "batch_id_taken"

    def __init__(self, batch_id: str, folder: str, kind: str) -> None:
        self.batch_id = batch_id
        super().__init__(
            f"Batch {batch_id!r} was not deposited: the relay already holds a batch under that"
            f" id, the {kind} batch of folder {folder}.",
            fix="Give each batch an id of its own (the sending folder's code in it, say);"
            " the same id is for resending the same batch only.",
        )
