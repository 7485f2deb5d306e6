"""Remedies: the catalogue's cause and fixes, made precise with the line, account, period and
third party that the findings, the mirrored setup and the entry tell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledgerbridge.domain.catalogue import CATALOGUE
from ledgerbridge.domain.entries import Entry, parse_entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.domain.remedies import Remedy, message_params, recognized_code, remedy_for
from ledgerbridge.domain.setup import parse_setup

Document = dict[str, Any]
Check = Callable[[Document], CheckResult]


def remedy_of(result: CheckResult, setup: FolderIndex | None, raw: Document | None) -> Remedy:
    entry = parse_entry(raw, 0) if raw is not None else None
    findings = [finding.as_dict() for finding in result.findings]
    return remedy_for(result.code, result.message, findings, setup, entry)


def without_auxiliary(invoice: Document) -> Document:
    del invoice["lines"][2]["auxiliary"]
    return invoice


def test_collective_account_remedy_names_the_line_and_the_third_partys_auxiliary_account(
    check: Check, acme: FolderIndex, edf_invoice: Document
) -> None:
    raw = without_auxiliary(edf_invoice)
    remedy = remedy_of(check(raw), acme, raw)
    assert remedy.precise == (
        "line 3 uses 401000 without an auxiliary account; EDF's auxiliary account is FEDF",
    )
    assert remedy.cause == CATALOGUE["collective_account"].cause.en
    assert remedy.actions == tuple(r.en for r in CATALOGUE["collective_account"].remedies)


def test_the_third_party_is_found_from_the_entry_label_when_the_line_label_says_nothing(
    check: Check, acme: FolderIndex, edf_invoice: Document
) -> None:
    raw = without_auxiliary(edf_invoice)
    raw["lines"][2]["label"] = "Fournisseur"
    raw["label"] = "Facture EDF de mars"
    remedy = remedy_of(check(raw), acme, raw)
    assert "EDF's auxiliary account is FEDF" in remedy.precise[0]


def test_the_third_party_is_found_from_another_line_on_the_same_account(
    check: Check, acme: FolderIndex, edf_invoice: Document
) -> None:
    raw = without_auxiliary(edf_invoice)
    raw["label"] = "Mars"
    raw["lines"][0]["label"] = "Fournitures"
    raw["lines"][2] = {"account": "401000", "label": "Fournisseur", "credit": "60.00"}
    raw["lines"].append(
        {"account": "401000", "auxiliary": "FEDF", "label": "Fournisseur", "credit": "60.00"}
    )
    remedy = remedy_of(check(raw), acme, raw)
    assert remedy.precise == (
        "line 3 uses 401000 without an auxiliary account; EDF's auxiliary account is FEDF",
    )


def test_without_a_clue_the_remedy_lists_the_auxiliary_accounts_under_the_collective_account(
    check: Check, acme: FolderIndex, edf_invoice: Document
) -> None:
    raw = without_auxiliary(edf_invoice)
    raw["label"] = "Mars"
    raw["lines"][0]["label"] = "Fournitures"
    raw["lines"][2]["label"] = "Fournisseur"
    remedy = remedy_of(check(raw), acme, raw)
    assert remedy.precise == (
        "line 3 uses 401000 without an auxiliary account;"
        " the folder's auxiliary accounts under 401000 are FEDF (EDF)",
    )


def test_without_the_mirror_the_remedy_still_names_the_line_and_account(
    check: Check, edf_invoice: Document
) -> None:
    raw = without_auxiliary(edf_invoice)
    remedy = remedy_of(check(raw), None, raw)
    assert remedy.precise[0].startswith("line 3 uses 401000 without an auxiliary account")


def test_a_bare_message_is_read_against_the_entry_to_find_the_line(
    acme: FolderIndex, edf_invoice: Document
) -> None:
    entry = parse_entry(without_auxiliary(edf_invoice), 0)
    remedy = remedy_for(
        "collective_account", "Account (401000) or other is collective", [], acme, entry
    )
    assert remedy.precise == (
        "line 3 uses 401000 without an auxiliary account; EDF's auxiliary account is FEDF",
    )


def test_a_known_message_without_a_code_is_recognized() -> None:
    assert recognized_code(None, "Account (401000) or other is collective") == "collective_account"
    assert recognized_code(None, "The sales journal is locked or read-only") == "journal_locked"
    assert message_params("account_locked", "Account 626000 is locked") == {"account": "626000"}


def test_an_unknown_foreign_message_sends_the_accountant_to_support_with_the_message_quoted() -> (
    None
):
    remedy = remedy_for("E_TRYTON_42", "Move line must have a party", [], None, None)
    assert remedy.actions == (
        'Contact support with this exact message: "Move line must have a party"',
    )
    assert remedy.precise == ()
    assert "does not know" in remedy.cause


def test_a_date_in_a_closed_fiscal_year_names_the_open_fiscal_years(
    check: Check, acme: FolderIndex, edf_invoice: Document
) -> None:
    edf_invoice["date"] = "2024-05-02"
    remedy = remedy_of(check(edf_invoice), acme, edf_invoice)
    assert remedy.precise == (
        "the date 2024-05-02 is in fiscal year 2024, which is closed; the two latest open"
        " fiscal years are 2025 (2025-01-01 to 2025-12-31) and 2026 (2026-01-01 to 2026-12-31)",
    )


def test_several_problems_give_every_precise_finding_and_the_fixes_of_each_code(
    check: Check, acme: FolderIndex, edf_invoice: Document
) -> None:
    raw = without_auxiliary(edf_invoice)
    raw["lines"][1]["account"] = "626000"  # locked
    result = check(raw)
    assert [finding.code for finding in result.findings] == [
        "collective_account",
        "account_locked",
    ]
    remedy = remedy_of(result, acme, raw)
    assert remedy.precise == (
        "line 3 uses 401000 without an auxiliary account; EDF's auxiliary account is FEDF",
        "line 2 uses locked account 626000",
    )
    assert CATALOGUE["account_locked"].remedies[0].en in remedy.actions
    assert remedy.actions[0] == CATALOGUE["collective_account"].remedies[0].en


WAIVE_ANALYTICS, OR_ALLOCATE_EVERY_AXIS, CREATE_AXIS_OR_SECTION = (
    remedy.en for remedy in CATALOGUE["analytic_axis_missing"].remedies
)
# Said first, the seed's alternative reads as a fix of its own.
ALLOCATE_EVERY_AXIS = "Edit the entry to allocate the line on every axis" + (
    OR_ALLOCATE_EVERY_AXIS.removeprefix("Or edit the entry to allocate the line on every axis")
)
BALANCE_TOTALS, SPLIT_LINE = (remedy.en for remedy in CATALOGUE["document_not_settled"].remedies)


def test_the_seeds_analytic_fixes_are_the_waiver_then_allocating_then_creating() -> None:
    assert "without analytics" in WAIVE_ANALYTICS
    assert OR_ALLOCATE_EVERY_AXIS.startswith("Or edit the entry to allocate the line on every axis")
    assert "create the missing axis or section" in CREATE_AXIS_OR_SECTION.lower()


@pytest.mark.parametrize(
    "allocation",
    [
        {"axis": "REGION", "section": "IDF", "amount": "100.00"},  # unknown axis
        {"axis": "SITE", "section": "MARSEILLE", "amount": "100.00"},  # unknown section
        {"section": "PARIS", "amount": "100.00"},  # no axis
    ],
)
def test_an_unknown_axis_or_section_is_never_told_to_allow_entries_without_analytics(
    check: Check, acme: FolderIndex, edf_invoice: Document, allocation: Document
) -> None:
    edf_invoice["lines"][0]["analytics"] = [allocation]
    result = check(edf_invoice)
    assert result.code == "analytic_axis_missing"

    with_entry = remedy_of(result, acme, edf_invoice)
    from_findings_alone = remedy_of(result, None, None)

    for remedy in (with_entry, from_findings_alone):
        assert remedy.actions[0] == ALLOCATE_EVERY_AXIS
        assert CREATE_AXIS_OR_SECTION in remedy.actions
        assert WAIVE_ANALYTICS not in remedy.actions


def test_a_line_without_any_allocation_is_first_told_the_waiver(
    check: Check, acme: FolderIndex, edf_invoice: Document
) -> None:
    del edf_invoice["lines"][0]["analytics"]

    remedy = remedy_of(check(edf_invoice), acme, edf_invoice)

    assert remedy.actions[:2] == (WAIVE_ANALYTICS, OR_ALLOCATE_EVERY_AXIS)


def test_a_line_allocated_on_some_axes_only_is_not_told_the_waiver(
    check_in: Callable[[Document, Document], CheckResult],
    setup_document: Document,
    edf_invoice: Document,
) -> None:
    setup_document["analytics"]["axes"].append(
        {"code": "ACTIVITY", "name": "Activité", "sections": ["CONSEIL"]}
    )
    result = check_in(setup_document, edf_invoice)  # allocated on SITE, not on ACTIVITY
    assert [finding.detail for finding in result.findings] == [
        "line 1 on account 606100 has no allocation on axis ACTIVITY"
    ]

    remedy = remedy_of(result, None, edf_invoice)

    assert remedy.actions[0] == ALLOCATE_EVERY_AXIS
    assert WAIVE_ANALYTICS not in remedy.actions


def test_a_line_without_allocation_beside_an_unknown_section_gets_every_fix_the_waiver_last(
    check: Check, acme: FolderIndex, edf_invoice: Document
) -> None:
    edf_invoice["lines"][0]["analytics"] = [
        {"axis": "SITE", "section": "MARSEILLE", "amount": "50.00"}
    ]
    edf_invoice["lines"].insert(
        1, {"account": "606100", "label": "EDF abonnement", "debit": "50.00"}
    )
    edf_invoice["lines"][0]["debit"] = "50.00"

    remedy = remedy_of(check(edf_invoice), acme, edf_invoice)

    assert remedy.actions == (ALLOCATE_EVERY_AXIS, CREATE_AXIS_OR_SECTION, WAIVE_ANALYTICS)


def test_a_line_with_both_a_debit_and_a_credit_is_first_told_to_be_split(
    check: Check, acme: FolderIndex, edf_invoice: Document
) -> None:
    edf_invoice["lines"][1]["credit"] = "20.00"
    edf_invoice["lines"][2]["credit"] = "100.00"  # the totals balance: 120 and 120
    result = check(edf_invoice)
    assert [(finding.code, finding.line) for finding in result.findings] == [
        ("document_not_settled", 2)
    ]

    remedy = remedy_of(result, acme, edf_invoice)

    assert remedy.actions[0] == SPLIT_LINE
    assert "the detail names the line and both its amounts" in SPLIT_LINE


def test_unbalanced_totals_are_first_told_to_balance_with_the_detail_giving_the_totals(
    check: Check, acme: FolderIndex, edf_invoice: Document
) -> None:
    edf_invoice["lines"][2]["credit"] = "119.00"
    result = check(edf_invoice)

    remedy = remedy_of(result, acme, edf_invoice)

    assert remedy.actions[0] == BALANCE_TOTALS
    assert "when the totals differ, the detail gives both totals" in BALANCE_TOTALS
    assert "difference" in result.findings[0].detail and "total debit" in result.findings[0].detail


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_catalogue_code_has_a_cause_and_an_action(code: str) -> None:
    remedy = remedy_for(code, CATALOGUE[code].message, [], None, None)
    assert remedy.cause == CATALOGUE[code].cause.en
    assert remedy.actions
    assert "Contact support" not in " ".join(remedy.actions)


def test_as_dict_is_plain_json() -> None:
    remedy = Remedy("cause", ("do this",), ("line 1",))
    assert remedy.as_dict() == {"cause": "cause", "actions": ["do this"], "precise": ["line 1"]}


def test_an_entry_without_lines_gives_no_precise_sentence_from_a_bare_message() -> None:
    entry = Entry(id="x")
    remedy = remedy_for("account_locked", "Account 626000 is locked", [], None, entry)
    assert remedy.precise == ("account 626000 is locked in the ledger",)


def test_the_longest_third_party_name_in_the_label_wins(
    check_in: Callable[[Document, Document], CheckResult],
    setup_document: Document,
    edf_invoice: Document,
) -> None:
    setup_document["third_parties"].append(
        {"code": "FEDFENR", "name": "EDF ENR", "account": "401000"}
    )
    raw = without_auxiliary(edf_invoice)
    raw["lines"][2]["label"] = "edf enr, mars"
    setup = FolderIndex.of(parse_setup(setup_document))
    remedy = remedy_of(check_in(setup_document, raw), setup, raw)
    assert remedy.precise == (
        "line 3 uses 401000 without an auxiliary account; EDF ENR's auxiliary account is FEDFENR",
    )


def test_two_third_parties_of_the_same_name_are_not_guessed_between(
    check_in: Callable[[Document, Document], CheckResult],
    setup_document: Document,
    edf_invoice: Document,
) -> None:
    setup_document["third_parties"].append({"code": "FEDF2", "name": "EDF", "account": "401000"})
    raw = without_auxiliary(edf_invoice)
    setup = FolderIndex.of(parse_setup(setup_document))
    remedy = remedy_of(check_in(setup_document, raw), setup, raw)
    assert remedy.precise == (
        "line 3 uses 401000 without an auxiliary account; its label names several third"
        " parties under 401000: EDF (FEDF), EDF (FEDF2); add the auxiliary account of the one"
        " the line is about",
    )


def test_two_third_parties_named_in_the_label_are_not_guessed_between(
    check_in: Callable[[Document, Document], CheckResult],
    setup_document: Document,
    edf_invoice: Document,
) -> None:
    setup_document["third_parties"].append(
        {"code": "FORANGE", "name": "Orange", "account": "401000"}
    )
    raw = without_auxiliary(edf_invoice)
    raw["label"] = "Prélèvements de mars"
    raw["lines"][0]["label"] = "Fournitures"
    raw["lines"][2]["label"] = "Prélèvement EDF Orange"
    setup = FolderIndex.of(parse_setup(setup_document))
    remedy = remedy_of(check_in(setup_document, raw), setup, raw)
    assert remedy.precise == (
        "line 3 uses 401000 without an auxiliary account; its label names several third"
        " parties under 401000: EDF (FEDF), Orange (FORANGE); add the auxiliary account of"
        " the one the line is about",
    )


def test_a_third_party_of_another_account_named_in_the_label_is_told_with_its_account(
    check_in: Callable[[Document, Document], CheckResult],
    setup_document: Document,
    edf_invoice: Document,
) -> None:
    raw = without_auxiliary(edf_invoice)
    raw["label"] = "Avoir"
    raw["lines"][0]["label"] = "Fournitures"
    raw["lines"][2]["label"] = "Dupont SARL"
    setup = FolderIndex.of(parse_setup(setup_document))
    remedy = remedy_of(check_in(setup_document, raw), setup, raw)
    assert remedy.precise == (
        "line 3 uses 401000 without an auxiliary account; its label names Dupont SARL"
        " (CDUPONT), whose auxiliary account is under 411000, not 401000: if the line is"
        " about it, put the line on 411000 with the auxiliary account CDUPONT",
    )


USE_EXISTING_RECORD, CREATE_MISSING_RECORD = (
    remedy.en for remedy in CATALOGUE["record_not_found"].remedies
)


def test_an_auxiliary_account_of_another_account_is_not_told_to_create_a_record(
    check: Check, acme: FolderIndex, edf_invoice: Document
) -> None:
    edf_invoice["lines"][2]["auxiliary"] = "CDUPONT"  # a customer's, on the supplier account
    result = check(edf_invoice)
    assert [finding.detail for finding in result.findings] == [
        "line 3: auxiliary account CDUPONT belongs to account 411000, not to 401000"
    ]

    for remedy in (remedy_of(result, acme, edf_invoice), remedy_of(result, None, None)):
        assert remedy.actions == (USE_EXISTING_RECORD,)


def test_a_missing_record_beside_an_auxiliary_of_another_account_is_told_both_fixes(
    check: Check, acme: FolderIndex, edf_invoice: Document
) -> None:
    edf_invoice["lines"][2]["auxiliary"] = "CDUPONT"
    edf_invoice["journal"] = "XX"

    remedy = remedy_of(check(edf_invoice), acme, edf_invoice)

    assert remedy.actions == (USE_EXISTING_RECORD, CREATE_MISSING_RECORD)
