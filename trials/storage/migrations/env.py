"""Alembic environment: runs migrations on the engine handed over by ``trials.storage.engine``."""

from alembic import context

from trials.storage.schema import metadata

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # SQLite's DDL is transactional, though Alembic assumes otherwise and would commit
        # after each revision. One transaction for the whole upgrade keeps the write lock
        # (BEGIN IMMEDIATE) from the version read to the last revision: processes starting
        # together take turns instead of two planning the same steps, and a migration
        # killed half-way leaves the database as it was.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
