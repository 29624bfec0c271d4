"""Alembic's environment for the ledger: the URL comes from ``station.schema.alembic_config``.

Revisions are written as SQL (``op.execute``): the ledger has no SQLAlchemy models, its tables
are the SQL text of ``station/ledger.py``, so there is no metadata to autogenerate from.
"""

from alembic import context
from sqlalchemy import create_engine, pool

url = context.config.attributes.get("url") or context.config.get_main_option("sqlalchemy.url")

if context.is_offline_mode():  # `alembic upgrade --sql`: print the SQL instead of running it
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
