"""Alembic environment: runs on the connection the service hands over (see kb/db.py)."""

from alembic import context

from kb.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
