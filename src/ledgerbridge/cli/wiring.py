"""The workspace of the current command line, and what brings the ledger's news into it at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledgerbridge.cli.platform_access import open_platform
from ledgerbridge.domain.clock import DEFAULT_TIMEZONE
from ledgerbridge.domain.refusals import NotFound

if TYPE_CHECKING:
    from ledgerbridge.platform import Platform
    from ledgerbridge.workspace.service import Workspace


def open_workspace() -> Workspace:
    """The workspace of the home (or database URL) of this command line."""
    return workspace_on(open_platform())


def workspace_on(platform: Platform) -> Workspace:
    """The workspace on the platform's database, connector and clock."""
    from ledgerbridge.workspace.service import Workspace

    return Workspace(platform.database, platform.connector, platform.clock)


def _has_client(workspace: Workspace, folder: str) -> bool:
    try:
        workspace.client(folder)
    except NotFound:
        return False
    return True


def folder_timezone(folder: str | None, platform: Platform | None = None) -> str:
    """The zone the ledger's times of a folder are told in: its client's, else the product's
    default (Europe/Paris), the zone of a time with no folder at all (the credential's)."""
    if folder is None:
        return DEFAULT_TIMEZONE
    try:
        return workspace_on(platform or open_platform()).client(folder).timezone
    except NotFound:
        return DEFAULT_TIMEZONE


def deliver_publication(folder: str, platform: Platform | None = None) -> None:
    """Take the setup the ledger just published into the workspace's mirror (pre-flight,
    fiscal-period warning); nothing when no client is tied to the folder."""
    workspace = workspace_on(platform or open_platform())
    if _has_client(workspace, folder):
        workspace.refresh_mirror(folder)
