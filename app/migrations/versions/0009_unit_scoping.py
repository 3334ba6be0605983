"""unit scoping: tasks addressed to one person, units an instance concerns

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 10:00:00.000000

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# As app.operations.visibility.UNIT_KEYS when this was written (migrations do not import the app).
UNIT_KEYS = ("lead_unit", "assist_units", "related_units", "dispatch_unit", "risk_owner_unit")


def upgrade():
    # A plain ADD COLUMN: batch mode would copy human_task on SQLite, which the rows referring to it
    # (candidates, attachments, ledger entries) forbid while foreign keys are enforced.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE human_task ADD COLUMN addressed_to_id INTEGER '
                   'CONSTRAINT fk_human_task_addressed_to_id_user_account REFERENCES user_account (id)')
    else:
        op.add_column('human_task', sa.Column('addressed_to_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_human_task_addressed_to_id_user_account'), 'human_task', 'user_account',
                              ['addressed_to_id'], ['id'])

    op.create_table('instance_unit',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_instance_unit_instance_id_process_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', 'unit_code', name=op.f('pk_instance_unit'))
    )
    with op.batch_alter_table('instance_unit', schema=None) as batch_op:
        batch_op.create_index('ix_instance_unit_unit', ['unit_code', 'instance_id'], unique=False)

    _backfill()


def _backfill():
    """Tasks given at creation (claimed in the same instant, never claimed by a person) were addressed
    by the diagram; the units of existing instances come from their data."""
    op.execute(
        "UPDATE human_task SET addressed_to_id = assignee_id WHERE assignee_id IS NOT NULL "
        "AND claimed_at = created_at AND NOT EXISTS (SELECT 1 FROM audit_event WHERE "
        "audit_event.task_id = human_task.id AND audit_event.action IN ('task_claimed', 'task_reassigned'))")
    connection = op.get_bind()
    unit = sa.table('instance_unit', sa.column('instance_id', sa.Integer), sa.column('unit_code', sa.String))
    page = sa.text("SELECT id, data FROM process_instance WHERE data IS NOT NULL AND id > :last "
                   "ORDER BY id LIMIT 500")
    last = 0
    while batch := connection.execute(page, {"last": last}).all():
        rows = [{"instance_id": instance_id, "unit_code": code}
                for instance_id, text in batch for code in sorted(_units(text))]
        if rows:
            connection.execute(unit.insert(), rows)
        last = batch[-1][0]


def _units(text):
    try:
        data = json.loads(text)
    except ValueError:
        return set()
    if not isinstance(data, dict):
        return set()
    values = []
    for key in UNIT_KEYS:
        value = data.get(key)
        values.extend(value if isinstance(value, list) else [value])
    tasks = data.get("dispatch_tasks")
    if isinstance(tasks, list):
        values.extend(row.get("unit") for row in tasks if isinstance(row, dict))
    return {value for value in values if isinstance(value, str) and 0 < len(value) <= 64}


def downgrade():
    with op.batch_alter_table('instance_unit', schema=None) as batch_op:
        batch_op.drop_index('ix_instance_unit_unit')
    op.drop_table('instance_unit')
    if op.get_bind().dialect.name == 'sqlite':
        # Batch mode copies the table, its key with the column (as earlier downgrades of human_task do,
        # it stops at rows referring to human_task while SQLite enforces foreign keys).
        with op.batch_alter_table('human_task', schema=None) as batch_op:
            batch_op.drop_column('addressed_to_id')
    else:
        op.drop_constraint(op.f('fk_human_task_addressed_to_id_user_account'), 'human_task', type_='foreignkey')
        op.drop_column('human_task', 'addressed_to_id')
