"""The command line's structured log, in the home directory: made ready at once, set up on need.

Setting up structlog takes a good part of a short command's start (a tenth of a second),
and the ledger's verbs write no log at all; so a command line only makes sure the log file
can be written, and structlog is set up when something that logs is opened (the platform)
or when an unexpected error is to be recorded.
"""

from __future__ import annotations

from pathlib import Path

from ledgerbridge.cli.settings import SETTINGS

_FILE_NAME = "ledgerbridge.log"


def prepare_log(home: Path) -> Path:
    """The log file of `home`, the directory made if needed; OSError when it cannot be written."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / _FILE_NAME
    path.open("a", encoding="utf-8").close()
    return path


def ensure_log() -> None:
    """Structured events go to the home's log file from now on (set up once per command line)."""
    home = SETTINGS.resolved_home
    if SETTINGS.log_home == home:
        return
    from ledgerbridge.logs import configure

    configure(home)
    SETTINGS.log_home = home
