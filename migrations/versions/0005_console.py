"""console: duplicate decisions, export jobs and notices

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import models.base  # noqa: F401  (UTCDateTime columns)

revision = "0005"
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "duplicate_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("second_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("duplicate_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["first_id"],
            ["projects.id"],
            name=op.f("fk_duplicate_decisions_first_id_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["second_id"],
            ["projects.id"],
            name=op.f("fk_duplicate_decisions_second_id_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_duplicate_decisions_decided_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_decisions")),
        sa.UniqueConstraint(
            "first_id", "second_id", name=op.f("uq_duplicate_decisions_first_id")
        ),
    )
    with op.batch_alter_table("duplicate_decisions") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_duplicate_decisions_first_id"), ["first_id"]
        )
        batch_op.create_index(
            batch_op.f("ix_duplicate_decisions_second_id"), ["second_id"]
        )

    op.create_table(
        "export_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=True),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("full_id_numbers", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("rq_job_id", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=120), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("finished_at", models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_export_jobs_requested_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["town_id"], ["towns.id"], name=op.f("fk_export_jobs_town_id_towns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
    )
    with op.batch_alter_table("export_jobs") as batch_op:
        batch_op.create_index(batch_op.f("ix_export_jobs_created_at"), ["created_at"])
        batch_op.create_index(
            batch_op.f("ix_export_jobs_requested_by_id"), ["requested_by_id"]
        )

    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=True),
        sa.Column("publisher", sa.String(length=20), nullable=False),
        sa.Column("content", sa.String(length=20), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_notices_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["town_id"], ["towns.id"], name=op.f("fk_notices_town_id_towns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices") as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_author_id"), ["author_id"])
        batch_op.create_index(batch_op.f("ix_notices_created_at"), ["created_at"])


def downgrade():
    with op.batch_alter_table("notices") as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_created_at"))
        batch_op.drop_index(batch_op.f("ix_notices_author_id"))
    op.drop_table("notices")

    with op.batch_alter_table("export_jobs") as batch_op:
        batch_op.drop_index(batch_op.f("ix_export_jobs_requested_by_id"))
        batch_op.drop_index(batch_op.f("ix_export_jobs_created_at"))
    op.drop_table("export_jobs")

    with op.batch_alter_table("duplicate_decisions") as batch_op:
        batch_op.drop_index(batch_op.f("ix_duplicate_decisions_second_id"))
        batch_op.drop_index(batch_op.f("ix_duplicate_decisions_first_id"))
    op.drop_table("duplicate_decisions")
