"""Remedies shown next to a failed or predicted entry: the catalogue's, made precise with what is known.

The catalogue says what a code means in general; the findings, the mirrored folder setup
and the entry itself say which line, which account, which period, and sometimes which
third party's auxiliary account is missing. A message the catalogue does not know (a
foreign ledger's) is never guessed at: the accountant is sent to support with it, quoted.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from string import Formatter
from typing import Any

from ledgerbridge.domain.catalogue import CATALOGUE, UNKNOWN_MESSAGE_REMEDY, Text
from ledgerbridge.domain.entries import Entry, Line
from ledgerbridge.domain.folder_index import FolderIndex

UNKNOWN_CAUSE = (
    "The ledger rejected the entry with a message ledgerbridge does not know, so it cannot"
    " tell the cause."
)
_CANDIDATES_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Remedy:
    """Why an entry is (or will be) rejected and what to do, in the accountant's words."""

    cause: str
    actions: tuple[str, ...]
    precise: tuple[str, ...] = ()  # what is known of this entry: its line, account, period

    def as_dict(self) -> dict[str, Any]:
        return {"cause": self.cause, "actions": list(self.actions), "precise": list(self.precise)}


@cache
def _message_pattern(code: str) -> re.Pattern[str]:
    """The catalogue message of `code` as a pattern, each `{placeholder}` a named group."""
    pattern = ""
    for literal, name, _spec, _conversion in Formatter().parse(CATALOGUE[code].message):
        pattern += re.escape(literal)
        if name:
            pattern += f"(?P<{name}>.+?)"
    return re.compile(pattern)


def message_params(code: str, message: str) -> dict[str, str] | None:
    """What a catalogue message says in its placeholders (`{"account": "401000"}`), or None
    when the message is not that code's."""
    if code not in CATALOGUE:
        return None
    found = _message_pattern(code).fullmatch(message.strip())
    return found.groupdict() if found else None


def recognized_code(code: str | None, message: str | None) -> str | None:
    """The catalogue code of a rejection: its own code when the catalogue has it, else the
    code whose exact message it is, else None (a message only the foreign ledger knows)."""
    if code in CATALOGUE:
        return code
    if message:
        for candidate in CATALOGUE:
            if message_params(candidate, message) is not None:
                return candidate
    return None


def remedy_for(
    code: str | None,
    message: str | None,
    findings: Sequence[Mapping[str, Any]] = (),
    setup: FolderIndex | None = None,
    entry: Entry | None = None,
) -> Remedy:
    """The remedy of a rejection (the ledger's or the pre-flight's).

    `findings` are §4.3 findings (`code`, `line`, `message`, `detail`); `setup` is the
    folder as the workspace mirrors it and `entry` the rejected entry, each when known.
    """
    known = recognized_code(code, message)
    if known is None:
        quoted = message if message else (code or "")
        return Remedy(
            UNKNOWN_CAUSE,
            (UNKNOWN_MESSAGE_REMEDY.en.format(message=quoted),),
            tuple(_dedupe(str(finding["detail"]) for finding in findings if finding.get("detail"))),
        )
    codes = [known] + [
        str(finding["code"]) for finding in findings if finding.get("code") in CATALOGUE
    ]
    actions = _dedupe(
        remedy.en
        for each in _dedupe(codes)
        for remedy in applicable_remedies(
            each, [finding for finding in findings if finding.get("code") == each], entry
        )
    )
    if findings:
        precise = _dedupe(_explain(finding, setup, entry) for finding in findings)
    else:
        precise = _dedupe(_explain_message(known, message or "", setup, entry))
    return Remedy(CATALOGUE[known].cause.en, tuple(actions), tuple(precise))


# The seed's fixes of the codes whose findings tell which fix applies, in its order.
_WAIVE_ANALYTICS, _ALLOCATE_EVERY_AXIS, _CREATE_AXIS_OR_SECTION = CATALOGUE[
    "analytic_axis_missing"
].remedies
_BALANCE_TOTALS, _SPLIT_LINE = CATALOGUE["document_not_settled"].remedies
_USE_EXISTING_RECORD, _CREATE_MISSING_RECORD = CATALOGUE["record_not_found"].remedies
# The detail of rule 4 (check._record_not_found) for an auxiliary account that exists, but
# under another account than the line's: nothing is missing from the folder.
_AUXILIARY_OF_ANOTHER_ACCOUNT = re.compile(r"line \d+: auxiliary account .+ belongs to account ")
# The details of rule 10 (check._analytic_axis_missing): a line on an analytics account
# missing an axis, or an allocation naming no axis or section, or one the folder lacks.
_NO_ALLOCATION_ON_AXIS = re.compile(r"line \d+ on account .+ has no allocation on axis ")
_UNKNOWN_AXIS_OR_SECTION = re.compile(r"line \d+, allocation \d+(:| names no )")


def applicable_remedies(
    code: str, findings: Sequence[Mapping[str, Any]] = (), entry: Entry | None = None
) -> tuple[Text, ...]:
    """The catalogue's fixes of `code`, those the findings (of that code) show to apply first.

    analytic_axis_missing: allowing entries without analytics waives only a line with no
    allocation at all (SPEC §5.1), so it is not offered for an unknown axis or section, or a
    line allocated on some axes only; it comes last when some line needs it and others not.
    document_not_settled: a line with both a debit and a credit, totals balanced, is split
    first. record_not_found: creating a record in the ledger is not offered when every
    finding is an auxiliary account that exists, under another account (only the edit
    helps). Without findings, or when they tell nothing more, the catalogue's order.
    """
    remedies = CATALOGUE[code].remedies
    if (
        code == "record_not_found"
        and findings
        and all(_AUXILIARY_OF_ANOTHER_ACCOUNT.match(_detail(finding)) for finding in findings)
    ):
        return (_USE_EXISTING_RECORD,)
    if code == "analytic_axis_missing" and findings:
        allocated = {  # lines known to carry allocations, whatever the entry
            finding.get("line")
            for finding in findings
            if _UNKNOWN_AXIS_OR_SECTION.match(str(finding.get("detail") or ""))
        }
        waivable = [_waivable(finding, entry, allocated) for finding in findings]
        if None in waivable:  # a detail this version does not know: the seed's order
            return remedies
        if not any(waivable):
            return (_leading(_ALLOCATE_EVERY_AXIS), _CREATE_AXIS_OR_SECTION)
        if not all(waivable):
            return (_leading(_ALLOCATE_EVERY_AXIS), _CREATE_AXIS_OR_SECTION, _WAIVE_ANALYTICS)
    both_only = all(finding.get("line") is not None for finding in findings)
    if code == "document_not_settled" and findings and both_only:
        return (_SPLIT_LINE, _BALANCE_TOTALS)
    return remedies


def _detail(finding: Mapping[str, Any]) -> str:
    return str(finding.get("detail") or "")


def _leading(remedy: Text) -> Text:
    """A fix the catalogue gives as an alternative (`Or edit...`), said first (`Edit...`)."""
    return Text(_without_or(remedy.en, "Or "), _without_or(remedy.fr, "Ou "))


def _without_or(text: str, alternative: str) -> str:
    if not text.startswith(alternative):
        return text
    rest = text.removeprefix(alternative)
    return rest[:1].upper() + rest[1:]


def _waivable(
    finding: Mapping[str, Any], entry: Entry | None, allocated: Collection[object]
) -> bool | None:
    """Whether allowing entries without analytics would let this finding's line through:
    yes for a missing allocation on a line with none at all (or maybe, the entry unknown);
    no for a line allocated on other axes, or an allocation naming an unknown axis or
    section, or none; None when the detail is none of these."""
    detail = str(finding.get("detail") or "")
    if _UNKNOWN_AXIS_OR_SECTION.match(detail):
        return False
    number = finding.get("line")
    if not _NO_ALLOCATION_ON_AXIS.match(detail) or not isinstance(number, int):
        return None
    if number in allocated:
        return False
    line = _line(entry, number)
    return line is None or not line.analytics


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def _explain(finding: Mapping[str, Any], setup: FolderIndex | None, entry: Entry | None) -> str:
    """One finding said precisely: its detail, completed where the setup or entry tell more."""
    code = str(finding.get("code") or "")
    line = finding.get("line") if isinstance(finding.get("line"), int) else None
    message = str(finding.get("message") or "")
    detail = str(finding.get("detail") or "")
    if code == "collective_account" and line is not None:
        params = message_params(code, message) or {}
        account = params.get("account") or _account_of_line(entry, line)
        if account:
            return _collective(line, account, setup, entry)
    text = detail or (f"line {line}: {message}" if line is not None else message)
    if code == "fiscal_year_not_open" and setup is not None:
        text += f"; {_open_years(setup)}"
    return text


def _explain_message(
    code: str, message: str, setup: FolderIndex | None, entry: Entry | None
) -> list[str]:
    """What a bare code and message (no findings) tell, once read against the entry."""
    params = message_params(code, message) or {}
    account = params.get("account")
    lines = list(enumerate(entry.lines or [], 1)) if entry is not None else []
    if code == "collective_account" and account:
        found = [
            _collective(number, account, setup, entry)
            for number, line in lines
            if line.account == account and not line.auxiliary
        ]
        return found or [
            f"a line uses the collective account {account} without an auxiliary account"
        ]
    if code == "account_locked" and account:
        found = [
            f"line {number} uses account {account}, which is locked in the ledger"
            for number, line in lines
            if line.account == account
        ]
        return found or [f"account {account} is locked in the ledger"]
    if code == "fiscal_year_not_open" and entry is not None and entry.date is not None:
        text = (
            f"the entry is dated {entry.date}, in fiscal year {params.get('year', entry.date.year)}"
        )
        return [text + (f"; {_open_years(setup)}" if setup is not None else "")]
    return []


def _account_of_line(entry: Entry | None, number: int) -> str | None:
    line = _line(entry, number)
    return line.account if line is not None else None


def _line(entry: Entry | None, number: int) -> Line | None:
    if entry is None or not entry.lines or not 0 < number <= len(entry.lines):
        return None
    return entry.lines[number - 1]


def _collective(number: int, account: str, setup: FolderIndex | None, entry: Entry | None) -> str:
    text = f"line {number} uses {account} without an auxiliary account"
    if setup is None:
        sibling = _auxiliary_on_other_lines(number, account, entry, None)
        if sibling is not None:
            return f"{text}; another line of the entry uses the auxiliary account {sibling} on {account}"
        return f"{text}; add the third party's auxiliary account to the line"
    parties = _third_parties(setup)
    candidates = parties.under(account)
    party = _third_party_of_line(number, account, entry, parties)
    if party is not None:
        name = candidates[party]
        whose = f"{name}'s" if name else "the third party's"
        return f"{text}; {whose} auxiliary account is {party}"
    label = line.label if (line := _line(entry, number)) is not None else None
    named = parties.names_in(label, account)
    if len(named) > 1:
        listed = ", ".join(_party(code, candidates[code]) for code in sorted(named))
        return (
            f"{text}; its label names several third parties under {account}: {listed}; add"
            " the auxiliary account of the one the line is about"
        )
    elsewhere = sorted(parties.names_in(label, None) - candidates.keys())
    owners = setup.auxiliary_accounts
    if len(elsewhere) == 1:
        [code] = elsewhere
        return (
            f"{text}; its label names {_party(code, parties.name(code))}, whose auxiliary"
            f" account is under {owners[code]}, not {account}: if the line is about it, put the"
            f" line on {owners[code]} with the auxiliary account {code}"
        )
    if elsewhere:
        listed = ", ".join(
            f"{_party(code, parties.name(code))} under {owners[code]}" for code in elsewhere
        )
        return f"{text}; its label names third parties of other accounts: {listed}"
    if not candidates:
        return (
            f"{text}; the folder has no third party under {account}: create it in the ledger,"
            " then add its auxiliary account to the line"
        )
    shown = [f"{code} ({name})" if name else code for code, name in candidates.items()]
    more = len(shown) - _CANDIDATES_SHOWN
    listed = ", ".join(shown[:_CANDIDATES_SHOWN]) + (f" and {more} more" if more > 0 else "")
    return f"{text}; the folder's auxiliary accounts under {account} are {listed}"


def _party(code: str, name: str) -> str:
    return f"{name} ({code})" if name else code


class _ThirdParties:
    """A folder's third parties by the account they belong to, and how to spot their names."""

    def __init__(self, setup: FolderIndex) -> None:
        self._by_account: dict[str, dict[str, str]] = {}
        self._names: dict[str, str] = {}
        for code, owner in sorted(setup.auxiliary_accounts.items()):
            name = setup.third_party_names.get(code, "")
            self._by_account.setdefault(owner, {})[code] = name
            self._names[code] = name
        self._spotters: dict[str | None, tuple[re.Pattern[str], dict[str, set[str]]]] = {}

    def under(self, account: str) -> dict[str, str]:
        """Code -> name of the third parties whose auxiliary account is under `account`."""
        return self._by_account.get(account, {})

    def name(self, code: str) -> str:
        return self._names.get(code, "")

    def named_in(self, text: str | None, account: str) -> str | None:
        """The one third party under `account` whose name (or code) the text mentions as a
        whole word; None when it mentions none, or several."""
        return _single(self.names_in(text, account))

    def names_in(self, text: str | None, account: str | None) -> set[str]:
        """The codes of the third parties under `account` (None: of the whole folder) whose
        names (or codes) the text mentions as whole words. Where one name holds another,
        the longest is the one found there (`EDF ENR` is EDF ENR, not EDF)."""
        parties = self._names if account is None else self.under(account)
        if not text or not parties:
            return set()
        pattern, owners = self._spotter(account, parties)
        return {
            code for found in pattern.finditer(text.casefold()) for code in owners[found.group(1)]
        }

    def _spotter(
        self, account: str | None, parties: Mapping[str, str]
    ) -> tuple[re.Pattern[str], dict[str, set[str]]]:
        if account not in self._spotters:
            owners: dict[str, set[str]] = {}
            for code, name in parties.items():
                for term in (name, code):
                    if term:
                        owners.setdefault(term.casefold(), set()).add(code)
            # Longest first, so that at one place the longest name is the one found.
            alternatives = "|".join(
                re.escape(term) for term in sorted(owners, key=len, reverse=True)
            )
            self._spotters[account] = (re.compile(rf"(?<!\w)({alternatives})(?!\w)"), owners)
        return self._spotters[account]


# The remedies of one list share their setup: its third parties are indexed once.
_KNOWN_SETUPS: dict[int, tuple[FolderIndex, _ThirdParties]] = {}
_KNOWN_SETUPS_KEPT = 8


def _third_parties(setup: FolderIndex) -> _ThirdParties:
    known = _KNOWN_SETUPS.get(id(setup))
    if known is not None and known[0] is setup:
        return known[1]
    if len(_KNOWN_SETUPS) >= _KNOWN_SETUPS_KEPT:
        _KNOWN_SETUPS.pop(next(iter(_KNOWN_SETUPS)))
    parties = _ThirdParties(setup)
    _KNOWN_SETUPS[id(setup)] = (setup, parties)
    return parties


def _third_party_of_line(
    number: int, account: str, entry: Entry | None, parties: _ThirdParties
) -> str | None:
    """The third party a line on a collective account is about, when the entry says so:
    named in the line's label, the auxiliary account of another line on the same account,
    or named in the entry's label or another line's label."""
    line = _line(entry, number)
    if entry is None or line is None or not parties.under(account):
        return None
    others = [other for index, other in enumerate(entry.lines or [], 1) if index != number]
    return (
        parties.named_in(line.label, account)
        or _auxiliary_on_other_lines(number, account, entry, parties.under(account))
        or parties.named_in(entry.label, account)
        or _single(
            {
                party
                for other in others
                if (party := parties.named_in(other.label, account)) is not None
            }
        )
    )


def _auxiliary_on_other_lines(
    number: int, account: str, entry: Entry | None, candidates: Mapping[str, str] | None
) -> str | None:
    if entry is None:
        return None
    return _single(
        {
            line.auxiliary
            for index, line in enumerate(entry.lines or [], 1)
            if index != number
            and line.account == account
            and line.auxiliary
            and (candidates is None or line.auxiliary in candidates)
        }
    )


def _single(found: set[str]) -> str | None:
    return next(iter(found)) if len(found) == 1 else None


def _open_years(setup: FolderIndex) -> str:
    latest = [year for year in setup.fiscal_years if year.code in setup.latest_open]
    described = [f"{year.code} ({year.start} to {year.end})" for year in latest]
    if not described:
        return "the folder has no open fiscal year"
    if len(described) == 1:
        return f"the only open fiscal year is {described[0]}"
    return f"the two latest open fiscal years are {described[0]} and {described[1]}"
