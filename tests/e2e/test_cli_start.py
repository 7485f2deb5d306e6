"""A short command pays only for what it uses: documents that read cleanly load no schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parent.parent.parent / "examples"
# Runs the command in a fresh interpreter, then says whether pydantic was loaded.
_SCRIPT = """
import sys
from ledgerbridge.cli.app import run
code = run(sys.argv[1:])
print("exit", code, "pydantic" in sys.modules)
"""


def _check(home: Path, setup: Path) -> list[str]:
    entries = EXAMPLES / "acme-entries.json"
    command = ["ledger", "check", "--setup", str(setup), str(entries), "--json"]
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, "--home", str(home), *command],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert "Traceback" not in done.stderr
    return done.stdout.splitlines()


def test_a_check_of_well_formed_documents_never_loads_pydantic(tmp_path: Path) -> None:
    *output, last = _check(tmp_path, EXAMPLES / "acme-setup.json")

    assert last == "exit 0 False"
    assert len(json.loads("\n".join(output))["results"]) == 20


def test_a_malformed_setup_is_explained_by_the_schema(tmp_path: Path) -> None:
    document = json.loads((EXAMPLES / "acme-setup.json").read_text())
    document["limits"] = {"label": 0}
    setup = tmp_path / "setup.json"
    setup.write_text(json.dumps(document))

    *output, last = _check(tmp_path, setup)

    assert last == "exit 2 True"  # malformed: refused whole
    assert "limits.label" in "\n".join(output)
