"""profile revision: a stamp that changes with every change of an organisation profile

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 11:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (nullable): a profile without a revision yet is read on every step until it changes.
    op.add_column('org_profile', sa.Column('revision', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('org_profile') as batch_op:
        batch_op.drop_column('revision')
