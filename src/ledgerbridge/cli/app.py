"""The `ledgerbridge` command: its verb groups, global options and the one place errors become exit codes."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

from ledgerbridge.cli import client, diagnose, entries, ledger, ledger_link, synchronize
from ledgerbridge.cli.log_file import ensure_log, prepare_log
from ledgerbridge.cli.output import emit, is_json, say
from ledgerbridge.cli.settings import SETTINGS, MissingHome, take_global_options
from ledgerbridge.domain.malformed import MalformedDocument
from ledgerbridge.domain.refusals import Refusal

if TYPE_CHECKING:
    from typer._click import Context, HelpFormatter  # the click typer carries

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Typer answers Ctrl-C (KeyboardInterrupt) with it, the exception dropped


class _VerbGroup(TyperGroup):
    """A verb group whose help goes to stderr under --json, so that stdout holds only the
    JSON. Typer prints the help to stdout as it makes it, and a group named without a verb
    makes it for the message of its usage error."""

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        if not is_json():
            super().format_help(ctx, formatter)
            return
        with contextlib.redirect_stdout(sys.stderr):
            super().format_help(ctx, formatter)


app = typer.Typer(
    cls=_VerbGroup,
    name="ledgerbridge",
    help="Carries accounting entries from the workspace to the ledger and back.\n\n"
    "Global options, accepted anywhere: --home DIR (embedded state; or LEDGERBRIDGE_HOME) and "
    "--json (one JSON object on stdout).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(ledger.app, name="ledger", cls=_VerbGroup)
app.add_typer(client.app, name="client", cls=_VerbGroup)
app.add_typer(entries.app, name="entries", cls=_VerbGroup)
app.command("sync")(synchronize.sync)
app.command("nightly")(synchronize.nightly)
app.command("scheduler")(synchronize.scheduler)
app.command("rejections")(diagnose.rejections)
app.command("doctor")(diagnose.doctor)
_ = ledger_link  # its verbs join the `ledger` group when imported


def _refused(
    kind: str, message: str, extra: dict[str, object], code: int, *, short: str | None = None
) -> int:
    """`message` on stderr; under --json, the error object too, its message `short` when the
    fix it would repeat is given apart."""
    say(message)
    if is_json():
        with contextlib.suppress(OSError, ValueError, AttributeError):  # stdout may be gone
            emit({"error": {"code": kind, "message": message if short is None else short, **extra}})
    return code


def _interrupted() -> int:
    return _refused(
        "interrupted",
        "Interrupted. What was committed before stays: running the command again is safe.",
        {},
        EXIT_INTERRUPTED,
    )


def run(argv: list[str]) -> int:
    """Run one command line; returns the exit code. Never lets a traceback reach the user."""
    SETTINGS.home, SETTINGS.json, SETTINGS.log_home = None, False, None
    try:
        args = take_global_options(argv)
    except MissingHome as missing:  # bad usage, said as the parser says a missing value
        say(f"Error: {missing}")
        if is_json():
            emit({"error": {"code": "usage", "message": str(missing)}})
        return EXIT_USAGE
    try:
        log_path = prepare_log(SETTINGS.resolved_home)
    except OSError as error:
        return _refused(
            "unusable_home",
            f"The home directory {SETTINGS.resolved_home} cannot be used: {error.strerror or error}."
            "\nTo fix: name a directory you may write to with --home DIR (or LEDGERBRIDGE_HOME).",
            {},
            EXIT_REFUSED,
        )
    try:
        returned = app(args=args, prog_name="ledgerbridge", standalone_mode=False)
        if returned == EXIT_INTERRUPTED:
            return _interrupted()
    except MalformedDocument as malformed:
        problems = [{"path": p.path, "message": p.message} for p in malformed.problems]
        return _refused(
            "malformed_document", malformed.summary(), {"problems": problems}, EXIT_USAGE
        )
    except Refusal as refusal:  # under --json, the fix is its own field, not in the message
        return _refused(
            refusal.code, str(refusal), {"fix": refusal.fix}, EXIT_REFUSED, short=refusal.message
        )
    except typer.Exit as done:
        return int(done.exit_code)
    except typer.TyperException as usage:  # bad usage: the parser's own message, exit 2
        usage.show()  # type: ignore[attr-defined]
        if is_json():
            # A group named without a verb has the help, already written, for its message.
            message = usage.format_message() or "Missing command."
            emit({"error": {"code": "usage", "message": message}})
        return int(getattr(usage, "exit_code", EXIT_USAGE))
    except (typer.Abort, KeyboardInterrupt):
        return _interrupted()
    except Exception as error:
        unwritable = _unwritable_output(error)
        if unwritable is not None:  # told on stderr alone: the output is what failed
            say(
                f"ledgerbridge could not write its output: {unwritable}. What was committed"
                " before stays: running the command again is safe.\nTo fix: Send the output"
                " to a terminal, a pipe or a file on a disk with room to spare."
            )
            return EXIT_REFUSED
        problem = _database_problem(error)
        if problem is not None:
            return _refused(
                problem.code,
                str(problem),
                {"fix": problem.fix},
                EXIT_REFUSED,
                short=problem.message,
            )
        with contextlib.suppress(Exception):  # the details are worth a try, not a traceback
            ensure_log()
            from ledgerbridge.logs import log

            log.exception("unexpected_error", command=args)
        return _refused(
            "internal_error",
            f"ledgerbridge hit an unexpected error ({type(error).__name__}: {error})."
            f" What was committed before it stays (running the command again is safe);"
            f" the details are in {log_path}.",
            {},
            EXIT_REFUSED,
        )
    return 0


# Why an output could not be written, by the error's number: a disk full, or failing.
_OUTPUT_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _unwritable_output(error: Exception) -> str | None:
    """Why the command's output could not be written (standard output closed, the disk it
    or the results' spool is on full), or None for any other error."""
    if sys.stdout is None or (isinstance(error, ValueError) and "closed file" in str(error)):
        return "standard output is closed"
    if isinstance(error, OSError) and error.errno in _OUTPUT_ERRORS:
        return error.strerror or str(error)
    return None


def _database_problem(error: Exception) -> Refusal | None:
    """The database's own failure (a damaged file, a server out of reach), told for people."""
    if "ledgerbridge.db" not in sys.modules:  # no database opened: not one of those
        return None
    from ledgerbridge.db import database_problem, database_url

    try:
        return database_problem(error, database_url(SETTINGS.home))
    except Refusal:  # the URL itself is wrong: then the database was never reached
        return None


def main() -> None:
    code = run(sys.argv[1:])
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (OSError, ValueError):  # what stdout could not take is lost; nothing to add
        # The interpreter flushes stdout again as it ends: let it write to nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if not {"ledgerbridge.db", "sqlalchemy"}.isdisjoint(sys.modules):
        sys.exit(code)  # a database may be open: it closes as the interpreter ends
    # Nothing to close: ending at once spares tearing the interpreter down, a good part of
    # a short command's time.
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)
