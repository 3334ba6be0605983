"""standing delegates (委托) of task holders

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:45:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'task_delegation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('delegate_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['delegate_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_task_delegation_user_id', 'task_delegation', ['user_id'])
    op.create_index('ix_task_delegation_delegate_id', 'task_delegation', ['delegate_id'])


def downgrade():
    op.drop_index('ix_task_delegation_delegate_id', table_name='task_delegation')
    op.drop_index('ix_task_delegation_user_id', table_name='task_delegation')
    op.drop_table('task_delegation')
