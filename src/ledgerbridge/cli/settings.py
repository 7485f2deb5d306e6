"""Options every command accepts anywhere on its line: `--home DIR` and `--json`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Settings:
    home: Path | None = None
    json: bool = False
    log_home: Path | None = None  # the home whose log structlog writes to, once set up

    @property
    def resolved_home(self) -> Path:
        if self.home is not None:
            return self.home
        env = os.environ.get("LEDGERBRIDGE_HOME")
        return Path(env) if env else Path.home() / ".ledgerbridge"


SETTINGS = Settings()


class MissingHome(ValueError):
    """`--home` without its directory: last on the line, empty, or followed by an option."""

    def __init__(self) -> None:
        super().__init__(
            "Option '--home' needs a value: the directory that holds the embedded state"
            " (--home DIR or --home=DIR; or set LEDGERBRIDGE_HOME)."
        )


def _home(value: str | None) -> Path:
    # An option where the directory should be is a forgotten value, not a directory's name
    # (`--home --json` would otherwise make a directory named `--json`).
    if not value or value.startswith("--"):
        raise MissingHome
    return Path(value)


def take_global_options(argv: list[str]) -> list[str]:
    """Pull `--json` and `--home DIR` / `--home=DIR` from anywhere; return the rest.

    MissingHome when `--home` comes without its directory."""
    rest: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            rest.append(arg)
            rest.extend(args)
            break
        if arg == "--json":
            SETTINGS.json = True
        elif arg == "--home":
            SETTINGS.home = _home(next(args, None))
        elif arg.startswith("--home="):
            SETTINGS.home = _home(arg.removeprefix("--home="))
        else:
            rest.append(arg)
    return rest
