"""The command line: thin Typer commands over the ledger and workspace services."""
