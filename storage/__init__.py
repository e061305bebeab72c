"""Persistence: the database connection, migrations, and the queries of each table group."""
