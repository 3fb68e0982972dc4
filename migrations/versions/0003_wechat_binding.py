"""WeChat binding scenes and callback receipts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 15:45:00

"""

import sqlalchemy as sa
from alembic import op

import models.base  # noqa: F401  (UTCDateTime columns)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "wechat_binding_scenes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scene", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ticket", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=255), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("used_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("bound_openid", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_wechat_binding_scenes_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_binding_scenes")),
        sa.UniqueConstraint("scene", name=op.f("uq_wechat_binding_scenes_scene")),
    )
    with op.batch_alter_table("wechat_binding_scenes") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wechat_binding_scenes_created_at"), ["created_at"]
        )
        batch_op.create_index(
            batch_op.f("ix_wechat_binding_scenes_user_id"), ["user_id"]
        )

    op.create_table(
        "wechat_callback_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("msg_type", sa.String(length=32), nullable=True),
        sa.Column("event", sa.String(length=64), nullable=True),
        sa.Column("received_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("template_msgid", sa.String(length=32), nullable=True),
        sa.Column("template_status", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_callback_receipts")),
        sa.UniqueConstraint(
            "dedupe_key", name=op.f("uq_wechat_callback_receipts_dedupe_key")
        ),
    )
    with op.batch_alter_table("wechat_callback_receipts") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wechat_callback_receipts_received_at"), ["received_at"]
        )
        batch_op.create_index(
            batch_op.f("ix_wechat_callback_receipts_template_msgid"),
            ["template_msgid"],
        )


def downgrade():
    with op.batch_alter_table("wechat_callback_receipts") as batch_op:
        batch_op.drop_index(batch_op.f("ix_wechat_callback_receipts_template_msgid"))
        batch_op.drop_index(batch_op.f("ix_wechat_callback_receipts_received_at"))
    op.drop_table("wechat_callback_receipts")

    with op.batch_alter_table("wechat_binding_scenes") as batch_op:
        batch_op.drop_index(batch_op.f("ix_wechat_binding_scenes_user_id"))
        batch_op.drop_index(batch_op.f("ix_wechat_binding_scenes_created_at"))
    op.drop_table("wechat_binding_scenes")
