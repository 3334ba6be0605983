"""insert sentinels: the audit trail's events of one step are one INSERT … RETURNING on SQLite too

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 19:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    # SQLAlchemy's insert sentinel (docs/decisions.md): nullable, filled only in multi-row INSERTs, so that
    # SQLite's RETURNING rows can be matched to the events they belong to. Plain ADD COLUMN on both databases.
    op.add_column('audit_event', sa.Column('_sentinel', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_event') as batch_op:
        batch_op.drop_column('_sentinel')
