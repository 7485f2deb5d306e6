"""The platform of the current command line (home or database URL from the global options)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledgerbridge.cli.log_file import ensure_log
from ledgerbridge.cli.settings import SETTINGS

if TYPE_CHECKING:
    from ledgerbridge.platform import Platform


def open_platform() -> Platform:
    from ledgerbridge.platform import Platform

    ensure_log()
    return Platform.open(home=SETTINGS.home)
