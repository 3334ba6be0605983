"""im task mentions: a person's choice to be @-mentioned in the duty group robots, and the mobiles a delivery mentions

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('notification_preference',
                  sa.Column('im', sa.String(length=16), nullable=False, server_default='never'))
    op.add_column('notification_delivery', sa.Column('mentions', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('notification_delivery') as batch_op:
        batch_op.drop_column('mentions')
    with op.batch_alter_table('notification_preference') as batch_op:
        batch_op.drop_column('im')
