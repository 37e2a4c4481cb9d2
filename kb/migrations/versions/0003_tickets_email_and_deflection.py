"""Tickets by email as well as webhook, and what honest deflection figures need.

The outbox gets one row per ticket and channel (webhook, email) and a mark for deliveries the
receiver refused for good; tickets and events carry the widget's anonymous visitor id and a
salted hash of the email; tickets from other channels get a table; the salt is made here, once.

Revision ID: 0003
Revises: 0002
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _outbox_before(unique_ticket: bool) -> sa.Table:
    """The outbox as 0001 made it (SQLite cannot drop its unnamed unique constraint in place)."""
    return sa.Table(
        "outbox", sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("ticket.id", ondelete="CASCADE"),
                  nullable=False, unique=unique_ticket),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("delivered_at", sa.DateTime(timezone=True), index=True),
        sa.Column("last_error", sa.Text),
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_constraint("outbox_ticket_id_key", "outbox", type_="unique")
    with op.batch_alter_table("outbox", copy_from=_outbox_before(unique_ticket=False),
                              recreate="auto") as batch:
        batch.add_column(sa.Column("channel", sa.String(20), nullable=False,
                                   server_default="webhook"))
        batch.add_column(sa.Column("failed_at", sa.DateTime(timezone=True)))
        batch.create_unique_constraint("uq_outbox_ticket_channel", ["ticket_id", "channel"])
    for table in ("ticket", "event"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("visitor_id", sa.String(100)))
            batch.add_column(sa.Column("email_hash", sa.String(64)))
            batch.create_index(f"ix_{table}_visitor_id", ["visitor_id"])
    op.create_index("ix_ticket_email_hash", "ticket", ["email_hash"])
    op.create_table(
        "external_ticket",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("email_hash", sa.String(64), nullable=False, index=True),
        sa.Column("source", sa.String(100)),
    )
    secret = op.create_table(
        "deployment_secret",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    op.bulk_insert(secret, [{"name": "email_salt", "value": secrets.token_hex(16)}])


def downgrade() -> None:
    op.drop_table("deployment_secret")
    op.drop_table("external_ticket")
    op.drop_index("ix_ticket_email_hash", "ticket")
    for table in ("ticket", "event"):
        op.drop_index(f"ix_{table}_visitor_id", table)
        # Plain DROP COLUMN (SQLite 3.35+): a batch copy would drop the ticket table, and with it,
        # through ON DELETE CASCADE, every outbox row.
        for column in ("email_hash", "visitor_id"):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    # A ticket may now have two rows (webhook and email); the old schema allows one.
    op.execute("DELETE FROM outbox WHERE id NOT IN (SELECT MIN(id) FROM outbox GROUP BY ticket_id)")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_ticket_channel", type_="unique")
        batch.drop_column("failed_at")
        batch.drop_column("channel")
        batch.create_unique_constraint("outbox_ticket_id_key", ["ticket_id"])
