"""The ledger's verbs end to end: verdicts, exit codes, JSON shapes, refusals without tracebacks."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from ledgerbridge.domain.clock import local_time
from tests.e2e.conftest import Cli


def test_check_prints_each_verdict_with_the_failing_line_and_its_remedy(
    cli: Cli, setup_file: Path, entries_file: Path
) -> None:
    outcome = cli("ledger", "check", "--setup", setup_file, entries_file)
    assert outcome.code == 0
    assert "✓ ok-edf  accepted" in outcome.out
    assert (
        "✗ err-collective  rejected  collective_account: Account (401000) or other is collective"
        in outcome.out
    )
    assert (
        "line 2   line 2 uses collective account 401000 without an auxiliary account" in outcome.out
    )
    assert "fix      Edit the entry and add the missing auxiliary account" in outcome.out
    assert "2 accepted, 1 rejected" in outcome.err


def test_check_of_an_unknown_section_shows_the_fixes_that_apply_not_the_waiver(
    cli: Cli, setup_file: Path, entries_file: Path, tmp_path: Path
) -> None:
    entry = json.loads(entries_file.read_text())["entries"][0]
    entry["lines"][0]["analytics"][0]["section"] = "MARSEILLE"
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps({"folder": "ACME", "entries": [entry]}))

    outcome = cli("ledger", "check", "--setup", setup_file, batch)

    fixes = [line.strip() for line in outcome.out.splitlines() if line.strip().startswith("fix")]
    assert fixes[0].startswith("fix      Edit the entry to allocate the line on every axis")
    assert not any("without analytics" in fix for fix in fixes)


def test_check_json_is_one_object_of_results_in_the_shape_of_the_spec(
    cli: Cli, setup_file: Path, entries_file: Path
) -> None:
    outcome = cli("ledger", "check", "--json", "--setup", setup_file, entries_file)
    results = outcome.json["results"]
    assert [r["id"] for r in results] == ["ok-edf", "err-collective", "ok-small"]
    assert results[0] == {
        "id": "ok-edf",
        "status": "accepted",
        "code": None,
        "message": None,
        "findings": [],
    }
    assert results[1]["findings"] == [
        {
            "code": "collective_account",
            "line": 2,
            "message": "Account (401000) or other is collective",
            "detail": "line 2 uses collective account 401000 without an auxiliary account",
        }
    ]


def test_check_stores_nothing(cli: Cli, setup_file: Path, entries_file: Path) -> None:
    cli("ledger", "check", "--setup", setup_file, entries_file)
    assert cli("ledger", "entries", "ACME").code == 1  # the folder was never created


def test_global_options_are_accepted_anywhere(
    cli: Cli, setup_file: Path, entries_file: Path
) -> None:
    outcome = cli("ledger", "check", "--setup", setup_file, entries_file, "--json")
    assert outcome.code == 0
    assert len(outcome.json["results"]) == 3


def test_post_numbers_entries_and_a_second_post_replays_them(
    cli: Cli, setup_file: Path, entries_file: Path
) -> None:
    assert cli("ledger", "apply", "--setup", setup_file).code == 0
    first = cli("ledger", "post", "ACME", entries_file, "--json")
    assert first.code == 0
    by_id = {r["id"]: r for r in first.json["results"]}
    assert by_id["ok-edf"]["entry_number"] == 1
    assert by_id["ok-edf"]["fiscal_year"] == "2026"
    assert by_id["ok-small"]["entry_number"] == 1
    assert by_id["ok-small"]["fiscal_year"] == "2025"
    assert by_id["err-collective"]["status"] == "rejected"
    assert "entry_number" not in by_id["err-collective"]

    second = cli("ledger", "post", "ACME", entries_file, "--json")
    replays = {r["id"]: r for r in second.json["results"]}
    assert replays["ok-edf"]["replay"] is True
    assert replays["ok-edf"]["entry_number"] == 1

    listed = cli("ledger", "entries", "ACME", "--json").json["entries"]
    assert sorted((e["fiscal_year"], e["number"], e["id"]) for e in listed) == [
        ("2025", 1, "ok-small"),
        ("2026", 1, "ok-edf"),
    ]
    edf = next(e for e in listed if e["id"] == "ok-edf")
    assert [line["account"] for line in edf["lines"]] == ["606100", "445660", "401000"]

    shown = cli("ledger", "entries", "ACME").out.splitlines()
    assert shown == [
        "ENTRY   DATE        JNL         TOTAL  ID        LABEL",
        "    ACCOUNT                  DEBIT        CREDIT  LABEL",
        "2025/1  2025-12-31  ACH          1.50  ok-small",
        "    445660                    1.50",
        "    401000 FEDF                             1.50",
        "2026/1  2026-03-14  ACH        120.00  ok-edf    EDF mars 2026",
        "    606100                  100.00                EDF mars 2026",
        "    445660                   20.00                TVA",
        "    401000 FEDF                           120.00  EDF",
    ]


def _starts(text: str, values: list[str]) -> list[int]:
    """Where each value starts in `text`, looked for left to right."""
    found, at = [], 0
    for value in values:
        at = text.index(value, at)
        found.append(at)
        at += len(value)
    return found


def test_ledger_entries_header_stands_over_its_columns_whatever_their_widths(
    cli: Cli, setup_file: Path, tmp_path: Path
) -> None:
    def entry(entry_id: str, amount: str, label: str | None) -> dict[str, object]:
        return {
            "id": entry_id,
            "journal": "ACH",
            "date": "2026-03-14",
            **({"label": label} if label else {}),
            "lines": [
                {"account": "445660", "debit": amount},
                {"account": "401000", "auxiliary": "FEDF", "credit": amount},
            ],
        }

    entries = [entry("a", "1.50", "Petit"), entry("an-entry-id-much-longer", "98765.43", None)]
    entries += [entry(f"n{number}", "2.00", f"Facture {number}") for number in range(9)]
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps({"folder": "ACME", "entries": entries}), encoding="utf-8")
    assert cli("ledger", "apply", "--setup", setup_file).code == 0
    assert cli("ledger", "post", "ACME", batch).code == 0

    lines = cli("ledger", "entries", "ACME").out.splitlines()

    header, rows = lines[0], [line for line in lines[2:] if not line.startswith("    ")]
    names = ["ENTRY", "DATE", "JNL", "TOTAL", "ID", "LABEL"]
    starts = dict(zip(names, _starts(header, names), strict=True))
    total_end = starts["TOTAL"] + len("TOTAL")
    assert len(rows) == 11
    for row, posted in zip(rows, entries, strict=True):
        fields = row.split()
        number, date, journal, total, entry_id = fields[:5]
        where = _starts(row, [number, date, journal, total, entry_id])
        assert where[:3] == [starts["ENTRY"], starts["DATE"], starts["JNL"]], row
        assert where[3] + len(total) == total_end, row  # amounts are right-aligned
        assert where[4] == starts["ID"], row
        if posted.get("label"):
            assert row.index(str(posted["label"]), where[4] + len(entry_id)) == starts["LABEL"]
    assert rows[-1].startswith("2026/11 ")


STALE_PREFLIGHT = "The workspace's pre-flight still reads the setup published on"


def test_applying_a_changed_setup_says_the_preflight_reads_the_one_published_before(
    cli: Cli, setup_file: Path, tmp_path: Path
) -> None:
    assert cli("ledger", "apply", "--setup", setup_file).code == 0
    assert cli("client", "connect", "ACME").code == 0
    assert cli("ledger", "admin-auth").code == 0
    assert cli("ledger", "marketplace", "ACME", "--activate", "--accept").code == 0
    assert cli("ledger", "resync-fiscal-years", "ACME").code == 0
    published = cli("client", "show", "ACME", "--json").json["client"]["mirror"]["published_at"]
    setup = json.loads(setup_file.read_text(encoding="utf-8"))
    setup["import_cursor"] = {"locked_periods": []}
    unlocked = tmp_path / "unlocked.json"
    unlocked.write_text(json.dumps(setup), encoding="utf-8")

    updated = cli("ledger", "apply", "--setup", unlocked, "--json")

    assert updated.code == 0
    assert list(updated.json) == ["folder"]  # the message is on stderr only
    assert updated.err.splitlines()[-1] == (
        f"{STALE_PREFLIGHT} {local_time(datetime.fromisoformat(published), 'Europe/Paris')}:"
        " ledgerbridge ledger resync-fiscal-years ACME publishes this one to the workspace."
    )
    assert cli("ledger", "resync-fiscal-years", "ACME").code == 0
    assert STALE_PREFLIGHT not in cli("ledger", "apply", "--setup", unlocked).err


def test_applying_a_setup_says_nothing_of_a_preflight_without_a_mirror(
    cli: Cli, setup_file: Path, tmp_path: Path
) -> None:
    setup = json.loads(setup_file.read_text(encoding="utf-8"))
    setup["name"] = "ACME SAS (renamed)"
    renamed = tmp_path / "renamed.json"
    renamed.write_text(json.dumps(setup), encoding="utf-8")
    created = cli("ledger", "apply", "--setup", setup_file)
    without_client = cli("ledger", "apply", "--setup", renamed)
    assert cli("client", "connect", "ACME").code == 0
    without_mirror = cli("ledger", "apply", "--setup", setup_file)

    for outcome in (created, without_client, without_mirror):
        assert outcome.code == 0
        assert outcome.err.count("\n") == 1, outcome.err  # the summary alone
        assert STALE_PREFLIGHT not in outcome.err


@pytest.mark.parametrize("verb", ["open", "resync-fiscal-years"])
def test_an_administrator_who_never_authenticated_is_told_to_authenticate_not_to_again(
    cli: Cli, setup_file: Path, verb: str
) -> None:
    assert cli("ledger", "apply", "--setup", setup_file).code == 0
    assert cli("ledger", "marketplace", "ACME", "--activate", "--accept").code == 0

    outcome = cli("ledger", verb, "ACME")

    assert outcome.code == 1
    message, fix = outcome.err.splitlines()
    assert message == (  # the seed's own words, "identify again" included
        "For security reasons, the GE Connector security certificate has expired."
        " It is necessary for the reference administrator to identify again."
    )
    assert fix.startswith(
        "To fix: The reference administrator has never authenticated. Authenticate the"
        " reference administrator with `ledgerbridge ledger admin-auth` ("
    )
    assert fix.endswith("then try again.")
    assert "again with" not in fix and "authenticates again" not in fix


def test_post_of_the_same_id_with_other_content_is_an_idempotency_conflict(
    cli: Cli, setup_file: Path, entries_file: Path, tmp_path: Path
) -> None:
    cli("ledger", "apply", "--setup", setup_file)
    cli("ledger", "post", "ACME", entries_file)
    batch = json.loads(entries_file.read_text())
    batch["entries"] = [batch["entries"][2]]
    batch["entries"][0]["lines"][0]["debit"] = "2.00"
    batch["entries"][0]["lines"][1]["credit"] = "2.00"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(batch))
    result = cli("ledger", "post", "ACME", changed, "--json").json["results"][0]
    assert result["status"] == "rejected"
    assert result["code"] == "idempotency_conflict"
    assert "1" in result["message"]


def test_malformed_document_is_refused_whole_with_every_problem_and_exit_2(
    cli: Cli, setup_file: Path, tmp_path: Path
) -> None:
    cli("ledger", "apply", "--setup", setup_file)
    bad = tmp_path / "bad.json"
    good = {
        "id": "fine",
        "journal": "ACH",
        "date": "2026-01-02",
        "lines": [
            {"account": "445660", "debit": "1.00"},
            {"account": "401000", "auxiliary": "FEDF", "credit": "1.00"},
        ],
    }
    bad.write_text(
        json.dumps(
            {
                "folder": "ACME",
                "entries": [
                    good,
                    {
                        "id": "x",
                        "date": "2025-13-01",
                        "lines": [{"account": "445660", "debt": "1.00", "credit": "1.005"}],
                    },
                ],
            }
        )
    )
    outcome = cli("ledger", "post", "ACME", bad)
    assert outcome.code == 2
    assert "entries[1].date" in outcome.err
    assert "entries[1].lines[0].debt: unknown field" in outcome.err
    assert "entries[1].lines[0].credit: 3 decimals, at most 2 allowed" in outcome.err
    assert outcome.out == ""
    assert cli("ledger", "entries", "ACME", "--json").json["entries"] == []


def test_a_batch_for_another_folder_is_malformed(
    cli: Cli, setup_file: Path, entries_file: Path
) -> None:
    cli("ledger", "apply", "--setup", setup_file)
    setup = json.loads(setup_file.read_text())
    setup["folder"] = "OTHER"
    other = Path("other.json")
    other.write_text(json.dumps(setup))
    cli("ledger", "apply", "--setup", other)
    outcome = cli("ledger", "post", "OTHER", entries_file, "--json")
    assert outcome.code == 2
    assert outcome.json["error"]["problems"][0]["path"] == "folder"


def test_a_batch_for_another_folder_names_where_the_expected_folder_comes_from(
    cli: Cli, setup_file: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("folder: OTHER\nentries: []\n")
    checked = cli("ledger", "check", "--setup", setup_file, other)
    assert checked.code == 2
    assert "the document is for folder 'OTHER', but the setup is for folder 'ACME'" in checked.err
    assert "command line" not in checked.err
    cli("ledger", "apply", "--setup", setup_file)
    posted = cli("ledger", "post", "ACME", other)
    assert posted.code == 2
    assert "the document is for folder 'OTHER', not 'ACME' as named on the command line" in (
        posted.err
    )


def test_unknown_folder_is_refused_with_exit_1(cli: Cli, entries_file: Path) -> None:
    outcome = cli("ledger", "post", "NOPE", entries_file)
    assert outcome.code == 1
    assert "NOPE" in outcome.err


def test_bad_usage_exits_2(cli: Cli, setup_file: Path) -> None:
    assert cli("ledger", "check", "--setup", setup_file, "missing.json").code == 2
    assert cli("ledger", "nonsense").code == 2


@pytest.mark.parametrize("group", [[], ["ledger"], ["client"], ["entries"]])
def test_json_without_a_verb_writes_only_the_error_on_stdout_and_the_help_on_stderr(
    cli: Cli, group: list[str]
) -> None:
    outcome = cli(*group, "--json")
    assert outcome.code == 2
    assert outcome.json == {"error": {"code": "usage", "message": "Missing command."}}
    assert f"Usage: {' '.join(['ledgerbridge', *group])} [OPTIONS] COMMAND" in outcome.err


def test_without_json_a_group_without_a_verb_prints_its_help(cli: Cli) -> None:
    outcome = cli("entries")
    assert outcome.code == 2
    assert "Usage: ledgerbridge entries [OPTIONS] COMMAND" in outcome.out


def test_a_directory_given_for_a_file_is_said_to_be_one(
    cli: Cli, setup_file: Path, entries_file: Path, tmp_path: Path
) -> None:
    cli("ledger", "apply", "--setup", setup_file)
    cases: list[tuple[list[str | Path], str]] = [
        (["ledger", "check", "--setup", setup_file, tmp_path], "ENTRIES"),
        (["ledger", "post", "ACME", tmp_path], "ENTRIES"),
        (["ledger", "check", "--setup", tmp_path, entries_file], "'--setup'"),
        (["ledger", "apply", "--setup", tmp_path], "'--setup'"),
    ]
    for arguments, hint in cases:
        outcome = cli(*arguments)
        assert outcome.code == 2, arguments
        assert f"Invalid value for {hint}: {tmp_path} is a directory, not a file" in outcome.err
    missing = cli("ledger", "check", "--setup", tmp_path / "nope.json", entries_file)
    assert missing.code == 2
    assert f"no such file: {tmp_path / 'nope.json'}" in missing.err


def test_a_malformed_batch_from_standard_input_is_named_so(
    cli: Cli, setup_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"folder":')))
    outcome = cli("ledger", "check", "--setup", setup_file, "-")
    assert outcome.code == 2
    assert outcome.err.startswith("standard input is malformed (1 problem)")
    assert "/tmp" not in outcome.err


@pytest.mark.parametrize("rest", [["--home"], ["--home="], ["--home", "--json"]])
def test_home_without_its_directory_says_it_needs_a_value(cli: Cli, rest: list[str]) -> None:
    outcome = cli("ledger", "entries", "ACME", *rest)
    assert outcome.code == 2
    assert "Option '--home' needs a value" in outcome.err
    assert "No such option" not in outcome.err


def test_yaml_setup_and_entries_are_read_with_decimals(cli: Cli, tmp_path: Path) -> None:
    setup = tmp_path / "setup.yaml"
    setup.write_text(
        "folder: Y\nfiscal_years:\n  - {code: '2026', start: 2026-01-01, end: 2026-12-31}\n"
        "journals:\n  - {code: BQ, kind: bank}\naccounts:\n  - {number: '512000'}\n  - {number: '627000'}\n"
    )
    entries = tmp_path / "entries.yaml"
    entries.write_text(
        "folder: Y\nentries:\n  - id: fee\n    journal: BQ\n    date: 2026-02-01\n    lines:\n"
        "      - {account: '627000', debit: 0.10}\n      - {account: '512000', credit: 0.1}\n"
    )
    outcome = cli("ledger", "check", "--json", "--setup", setup, entries)
    assert outcome.json["results"][0]["status"] == "accepted"


def test_export_fec_writes_the_file_named_after_siren_and_year_end(
    cli: Cli, setup_file: Path, entries_file: Path, tmp_path: Path
) -> None:
    cli("ledger", "apply", "--setup", setup_file)
    cli("ledger", "post", "ACME", entries_file)
    outcome = cli("ledger", "export-fec", "ACME")
    assert outcome.code == 0
    fec = tmp_path / "552100554FEC20261231.txt"
    rows = fec.read_text(encoding="utf-8").splitlines()
    assert rows[0].split("|")[:4] == ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate"]
    assert len(rows) == 1 + 3
    assert rows[1].split("|")[11] == "100,00"


def test_export_fec_into_a_directory_takes_the_fec_s_own_name(
    cli: Cli, setup_file: Path, entries_file: Path, tmp_path: Path
) -> None:
    cli("ledger", "apply", "--setup", setup_file)
    cli("ledger", "post", "ACME", entries_file)
    exports = tmp_path / "exports"
    exports.mkdir()

    outcome = cli("ledger", "export-fec", "ACME", "-o", exports, "--json")

    assert outcome.code == 0
    fec = exports / "552100554FEC20261231.txt"
    assert outcome.json["export"]["path"] == str(fec)
    assert fec.read_text(encoding="utf-8").startswith("JournalCode|")
    assert [path.name for path in exports.iterdir()] == [fec.name]  # no spool left behind


def test_export_fec_to_standard_output_under_json_is_bad_usage(
    cli: Cli, setup_file: Path, entries_file: Path, tmp_path: Path
) -> None:
    cli("ledger", "apply", "--setup", setup_file)
    cli("ledger", "post", "ACME", entries_file)

    outcome = cli("ledger", "export-fec", "ACME", "-o", "-", "--json")

    assert outcome.code == 2
    assert outcome.json["error"]["code"] == "usage"
    assert "cannot go to standard output with --json" in outcome.json["error"]["message"]
    assert not list(tmp_path.glob("*FEC*.txt"))


def test_counts_of_one_are_said_in_the_singular(
    cli: Cli, setup_file: Path, entries_file: Path, tmp_path: Path
) -> None:
    document = json.loads(entries_file.read_text(encoding="utf-8"))
    one = tmp_path / "one.json"
    one.write_text(json.dumps({**document, "entries": document["entries"][:1]}), encoding="utf-8")

    checked = cli("ledger", "check", "--setup", setup_file, one)
    applied = cli("ledger", "apply", "--setup", setup_file)
    cli("ledger", "post", "ACME", one)
    listed = cli("ledger", "entries", "ACME")
    streamed = cli("ledger", "export-fec", "ACME", "-o", "-")
    written = cli("ledger", "export-fec", "ACME")

    assert "Checked 1 entry: 1 accepted, 0 rejected." in checked.err
    assert (
        "folder ACME created (2 fiscal years, 2 journals, 4 accounts, 1 third party,"
        " 1 analytic axis)" in applied.err
    )
    assert "Folder ACME: 1 posted entry." in listed.err
    assert "Wrote the FEC of fiscal year 2026 (1 entry, 3 lines)." in streamed.err
    assert "FEC of folder ACME, fiscal year 2026, 1 entry, 3 lines." in written.err


def test_the_installed_command_never_prints_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"folder": "ACME", "entries": [ {"id": ')
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledgerbridge",
            "--home",
            str(tmp_path / "h"),
            "ledger",
            "check",
            "--setup",
            str(Path(__file__).parent.parent / "data" / "e2e_setup.json"),
            str(broken),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert process.returncode == 2
    assert "not valid JSON" in process.stderr
    assert "Traceback" not in process.stderr
    assert process.stdout == ""
