"""Messages written straight to a file or a pipe read exactly as rich writes them."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from ledgerbridge.cli import output

MESSAGES = [
    "Checked 100000 entries: 97448 accepted, 2552 rejected.",
    "Folder ACME: 2 accepted, 1 of them already posted (replays), 1 rejected.",
    "batch.json is malformed (2 problems); nothing was stored:\n  entries[3].date: not a date"
    "\n  entries[9].id: duplicate id 'twin' (also entries[8])",
    "The home directory /tmp/x cannot be used: Permission denied.\nTo fix: name a directory.",
    "ids like :smile: and :x: are written as emoji by rich",
    "a tab\\there, a\tliteral one, a bell \a and trailing blanks   \nnext",
    "time 12:30:45, ratio 1:2, url http://example.com:8080/x",
    "",
    "\n",
    "café ✓ ✗ 日本語 \u00a0end\u00a0",
]


def _by_rich(message: str) -> str:
    file = io.StringIO()
    Console(file=file, highlight=False, soft_wrap=True).print(message, markup=False)
    return file.getvalue()


def _said(message: str, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    output.say(message)
    return capsys.readouterr().err


@pytest.mark.parametrize("message", MESSAGES)
def test_a_message_reads_as_rich_writes_it(
    message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    assert _said(message, capsys) == _by_rich(message)


@settings(max_examples=1000)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=120))
def test_any_text_reads_as_rich_writes_it(message: str) -> None:
    stream = io.StringIO()
    with contextlib.redirect_stderr(stream):
        output.say(message)
    assert stream.getvalue() == _by_rich(message)
