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


def take_global_options(argv: list[str]) -> list[str]:
    """Pull `--json` and `--home DIR` / `--home=DIR` from anywhere; return the rest."""
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
            value = next(args, None)
            if value is None:
                rest.append(arg)  # let the parser report the missing value
            else:
                SETTINGS.home = Path(value)
        elif arg.startswith("--home="):
            SETTINGS.home = Path(arg.removeprefix("--home="))
        else:
            rest.append(arg)
    return rest
