"""Time from one injectable clock, so nightly runs, certificate expiry and "today" are testable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]  # returns an aware datetime

# The product's zone where none other is known: a new client's, and the ledger's own (a
# last day of validity ends at its midnight; the FEC's dates are its days).
DEFAULT_TIMEZONE = "Europe/Paris"


def system_clock() -> datetime:
    return datetime.now(UTC)


def local_time(moment: datetime, timezone: str) -> str:
    """A moment as a client's accountant reads it: local time, with its zone (`CET`)."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


class FixedClock:
    """A clock that stands still until told to move: for tests and simulations."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("a clock tells aware times: give the datetime a timezone")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def set(self, now: datetime) -> None:
        self.now = now
