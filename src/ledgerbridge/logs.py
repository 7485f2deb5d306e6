"""Structured logs: one JSON object per line, in the home directory's `ledgerbridge.log`."""

from __future__ import annotations

import logging
from pathlib import Path

import structlog


def configure(home: Path, level: int = logging.INFO) -> Path:
    """Send structured events to `<home>/ledgerbridge.log`; returns the file's path."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "ledgerbridge.log"
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(file=path.open("a", encoding="utf-8")),
        cache_logger_on_first_use=False,
    )
    return path


log = structlog.get_logger("ledgerbridge")
