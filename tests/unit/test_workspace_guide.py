"""The workspace guide names the Rejections tab's states as `ledgerbridge rejections` prints them."""

from __future__ import annotations

import re
from pathlib import Path

from ledgerbridge.cli.diagnose import _state

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "workspace-guide.md"
# "shown in the Rejections tab as `not settled`", "the Rejections tab marks them `expected`"
SAID_STATE = re.compile(r"Rejections\s+tab\s+(?:as|marks\s+them)\s+`([^`]+)`")


def test_the_rejections_tab_states_the_guide_names_are_those_the_cli_prints() -> None:
    printed = {
        _state({"expected": expected, "settled": settled})
        for expected in (True, False)
        for settled in (True, False)
    }
    named = SAID_STATE.findall(GUIDE.read_text(encoding="utf-8"))

    assert named  # the guide does name them
    assert set(named) <= printed, f"not printed by `rejections`: {set(named) - printed}"
