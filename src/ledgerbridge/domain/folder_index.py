"""A folder setup indexed once per batch, so the check looks things up without scanning."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ledgerbridge.domain.setup import Account, FiscalYear, FolderSetup, Journal, LockedPeriod


@dataclass(frozen=True, slots=True)
class FiscalPlacement:
    """Where a date falls among the folder's fiscal years."""

    year: FiscalYear | None  # the fiscal year covering the date, if any
    before_all: bool = False
    after_all: bool = False  # after every fiscal year: its fiscal year is not opened
    between: tuple[FiscalYear, FiscalYear] | None = None  # in a gap between two


@dataclass(frozen=True, slots=True)
class FolderIndex:
    setup: FolderSetup
    journals: dict[str, Journal]
    accounts: dict[str, Account]
    auxiliary_accounts: dict[str, str]  # third party code -> the account it belongs to
    third_party_names: dict[str, str]
    axes: dict[str, frozenset[str]]
    axis_order: tuple[str, ...]  # sorted, so findings never depend on how the setup lists axes
    fiscal_years: tuple[FiscalYear, ...]  # by start date
    latest_open: frozenset[str]  # codes of the two open fiscal years that start last
    locked_periods: tuple[LockedPeriod, ...]
    label_limit: int
    reference_limit: int
    allow_entries_without_analytics: bool
    # Precomputed for the check's quick pass over an entry (see `check._passes_every_rule`):
    open_journals: frozenset[str]  # codes of the journals that exist and are open
    open_accounts: frozenset[str]  # numbers of the accounts that exist and are not locked
    collective_accounts: frozenset[str]
    analytic_accounts: frozenset[str]
    # the analytic accounts whose lines need allocations on every axis even when they have
    # none (rule 10): all of them, unless the folder allows entries without analytics
    unallocated_refused: frozenset[str]
    _placements: dict[date, FiscalPlacement] = field(
        default_factory=dict, compare=False, repr=False
    )
    _entry_days: dict[date, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, setup: FolderSetup) -> FolderIndex:
        years = tuple(sorted(setup.fiscal_years, key=lambda year: year.start))
        open_years = [year for year in years if year.status == "open"]
        analytic = frozenset(account.number for account in setup.accounts if account.analytics)
        waived = setup.analytics.allow_entries_without_analytics or not setup.analytics.axes
        return cls(
            setup=setup,
            journals={journal.code: journal for journal in setup.journals},
            accounts={account.number: account for account in setup.accounts},
            auxiliary_accounts={party.code: party.account for party in setup.third_parties},
            third_party_names={party.code: party.name for party in setup.third_parties},
            axes={axis.code: frozenset(axis.sections) for axis in setup.analytics.axes},
            axis_order=tuple(sorted(axis.code for axis in setup.analytics.axes)),
            fiscal_years=years,
            latest_open=frozenset(year.code for year in open_years[-2:]),
            locked_periods=tuple(setup.import_cursor.locked_periods),
            label_limit=setup.limits.label,
            reference_limit=setup.limits.reference,
            allow_entries_without_analytics=setup.analytics.allow_entries_without_analytics,
            open_journals=frozenset(
                journal.code for journal in setup.journals if journal.status == "open"
            ),
            open_accounts=frozenset(
                account.number for account in setup.accounts if not account.locked
            ),
            collective_accounts=frozenset(
                account.number for account in setup.accounts if account.collective
            ),
            analytic_accounts=analytic,
            unallocated_refused=frozenset() if waived else analytic,
        )

    def place(self, day: date) -> FiscalPlacement:
        """Where a date falls; remembered, since a batch's entries share few dates."""
        placement = self._placements.get(day)
        if placement is None:
            placement = self._placements[day] = self._find_place(day)
        return placement

    def takes_entries_on(self, day: date) -> bool:
        """Whether an entry dated `day` passes §5 rules 5, 6 and 7 as far as its date goes.

        That is: the date is in an open fiscal year, one of the two latest open ones (rule 5),
        so not after every fiscal year (rule 6), and in no locked period (rule 7). Remembered
        per date, like `place`.
        """
        takes = self._entry_days.get(day)
        if takes is None:
            year = self.place(day).year
            takes = self._entry_days[day] = (
                year is not None
                and year.status == "open"
                and year.code in self.latest_open
                and not any(period.covers(day) for period in self.locked_periods)
            )
        return takes

    def _find_place(self, day: date) -> FiscalPlacement:
        years = self.fiscal_years
        if not years:
            return FiscalPlacement(year=None)
        if day < years[0].start:
            return FiscalPlacement(year=None, before_all=True)
        if day > years[-1].end:
            return FiscalPlacement(year=None, after_all=True)
        for index, year in enumerate(years):
            if year.covers(day):
                return FiscalPlacement(year=year)
            if day < year.start:
                return FiscalPlacement(year=None, between=(years[index - 1], year))
        raise AssertionError("a date within the fiscal years' span is covered or in a gap")

    def fiscal_year_of(self, day: date) -> FiscalYear | None:
        return self.place(day).year
