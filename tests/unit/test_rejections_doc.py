"""The generated rejection catalogue: up to date, complete, and fixable in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerbridge.domain.catalogue import CATALOGUE, UNKNOWN_MESSAGE_REMEDY, check_rules
from ledgerbridge.domain.rejections_doc import REGENERATE_COMMAND, render_rejections_markdown

COMMITTED_DOC = Path(__file__).resolve().parents[2] / "docs" / "rejections.md"


@pytest.fixture(scope="module")
def rendered() -> str:
    return render_rejections_markdown()


def test_committed_rejections_doc_is_the_rendered_catalogue(rendered: str) -> None:
    committed = COMMITTED_DOC.read_text(encoding="utf-8") if COMMITTED_DOC.exists() else ""
    assert committed == rendered, (
        "docs/rejections.md is out of date with the catalogue; regenerate it from the"
        f" repository's root with:\n{REGENERATE_COMMAND}"
    )


def test_doc_says_it_is_generated_and_how_to_regenerate_it(rendered: str) -> None:
    head = rendered.split("-->", 1)[0]
    assert head.startswith("<!--")
    assert REGENERATE_COMMAND in head


def test_rendering_is_deterministic_and_ends_with_one_newline(rendered: str) -> None:
    assert render_rejections_markdown() == rendered
    assert rendered.endswith("\n")
    assert not rendered.endswith("\n\n")


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_has_its_section_and_exact_message(rendered: str, code: str) -> None:
    assert f"\n## `{code}`\n" in rendered
    assert f"`{CATALOGUE[code].message}`" in rendered


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_has_a_remedy_in_english_and_french(code: str) -> None:
    remedies = CATALOGUE[code].remedies
    assert remedies, f"{code} has no corrective action"
    assert all(remedy.en.strip() and remedy.fr.strip() for remedy in remedies)


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_shows_its_cause_and_remedies_in_both_languages(
    rendered: str, code: str
) -> None:
    rejection = CATALOGUE[code]
    section = rendered.split(f"\n## `{code}`\n", 1)[1].split("\n## ", 1)[0]
    english, french = section.split("\n### En français\n", 1)
    assert rejection.cause.en in english
    assert rejection.cause.fr in french
    for remedy in rejection.remedies:
        assert remedy.en in english
        assert remedy.fr in french


def test_sections_follow_the_order_of_the_check_then_idempotency_conflict(rendered: str) -> None:
    positions = [rendered.index(f"\n## `{rule.code}`\n") for rule in check_rules()]
    assert positions == sorted(positions)
    assert rendered.index("\n## `idempotency_conflict`\n") > positions[-1]


def test_summary_table_gives_order_code_message_and_help_page_error(rendered: str) -> None:
    assert (
        "| 8 | [`collective_account`](#collective_account)"
        " | `Account ({account}) or other is collective` | 4 |"
    ) in rendered
    assert "| — | [`idempotency_conflict`](#idempotency_conflict)" in rendered


def test_placeholders_are_explained_with_a_filled_in_example(rendered: str) -> None:
    assert "- `{year}`:" in rendered
    assert "- `{kind}`:" in rendered
    assert "For example: `The purchase journal is locked or read-only`" in rendered


def test_unknown_messages_fall_back_to_support_with_the_message_quoted(rendered: str) -> None:
    section = rendered.split("\n## Messages the product does not know\n", 1)[1]
    assert UNKNOWN_MESSAGE_REMEDY.en in section
    assert UNKNOWN_MESSAGE_REMEDY.fr in section


def test_entries_stuck_synchronizing_point_to_opening_the_accounting_and_doctor(
    rendered: str,
) -> None:
    section = rendered.split("\n## Entries stuck synchronizing\n", 1)[1]
    assert "Help page error 8" in section
    assert "ledgerbridge ledger open FOLDER" in section
    assert "ledgerbridge doctor FOLDER" in section
