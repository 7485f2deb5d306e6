"""`python -m ledgerbridge`: the same as the `ledgerbridge` command."""

from ledgerbridge.cli.app import main

main()
