"""worklist: partial indexes on open tasks (by due time, assignee, unit) and on completed tasks by person

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")
# name → (columns, partial condition); as app.models.processes.HumanTask declares them.
INDEXES = {
    'ix_human_task_open_due': (['due_at', 'id'], OPEN),
    'ix_human_task_open_assignee': (['assignee_id', 'due_at', 'id'], OPEN),
    'ix_human_task_open_unit': (['unit_code', 'due_at', 'id'], OPEN),
    'ix_human_task_done_by': (['completed_by_id', 'completed_at', 'id'], None),
}


def upgrade():
    # Plain CREATE INDEX (not batch mode, which would copy human_task on SQLite); both databases
    # take the partial condition.
    for name, (columns, where) in INDEXES.items():
        op.create_index(name, 'human_task', columns, unique=False, sqlite_where=where, postgresql_where=where)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name='human_task')
