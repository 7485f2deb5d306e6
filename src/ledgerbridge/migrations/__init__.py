"""The database's schema history (Alembic), shipped in the package and applied on first use."""
