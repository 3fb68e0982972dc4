"""indexes for the project lists

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 16:30:00.000000

A town's project list is ordered by last update, so (town_id, updated_at,
id) lets the database read one page from the index instead of sorting the
whole town. The "pending" and "returned" list filters look for projects
with an entry in one state, and (state, project_id) answers that from the
index alone, without reading the entries' form data.
"""

from alembic import op

revision = "0006"
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_projects_town_updated", "projects", ["town_id", "updated_at", "id"]
    )
    op.create_index("ix_entries_state_project", "entries", ["state", "project_id"])


def downgrade():
    op.drop_index("ix_entries_state_project", table_name="entries")
    op.drop_index("ix_projects_town_updated", table_name="projects")
