"""slot runs and daily progress snapshots

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 16:00:00

"""

import sqlalchemy as sa
from alembic import op

import models.base  # noqa: F401  (UTCDateTime columns)

revision = "0004"
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "slot_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("slot_date", sa.Date(), nullable=False),
        sa.Column("slot", sa.String(length=8), nullable=False),
        sa.Column("due_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("lease_until", models.base.UTCDateTime(), nullable=True),
        sa.Column("planned_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("finished_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_runs")),
        sa.UniqueConstraint(
            "kind", "slot_date", "slot", name=op.f("uq_slot_runs_kind")
        ),
    )
    with op.batch_alter_table("slot_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slot_runs_due_at"), ["due_at"])
        batch_op.create_index(batch_op.f("ix_slot_runs_slot_date"), ["slot_date"])
        batch_op.create_index(batch_op.f("ix_slot_runs_status"), ["status"])

    op.create_table(
        "progress_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=False),
        sa.Column("projects", sa.Integer(), nullable=False),
        sa.Column("submitted", sa.Integer(), nullable=False),
        sa.Column("reviewed", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("taken_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["town_id"],
            ["towns.id"],
            name=op.f("fk_progress_snapshots_town_id_towns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_snapshots")),
        sa.UniqueConstraint(
            "snapshot_date",
            "town_id",
            name=op.f("uq_progress_snapshots_snapshot_date"),
        ),
    )
    with op.batch_alter_table("progress_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_progress_snapshots_snapshot_date"), ["snapshot_date"]
        )
        batch_op.create_index(batch_op.f("ix_progress_snapshots_town_id"), ["town_id"])


def downgrade():
    with op.batch_alter_table("progress_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_progress_snapshots_town_id"))
        batch_op.drop_index(batch_op.f("ix_progress_snapshots_snapshot_date"))
    op.drop_table("progress_snapshots")

    with op.batch_alter_table("slot_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slot_runs_status"))
        batch_op.drop_index(batch_op.f("ix_slot_runs_slot_date"))
        batch_op.drop_index(batch_op.f("ix_slot_runs_due_at"))
    op.drop_table("slot_runs")
