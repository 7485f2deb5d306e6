"""Each part with its database, on SQLite and on PostgreSQL."""
