"""incident comments (流转意见)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('incident_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=36), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('mentions', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_incident_comment_author_id_user_account')),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_comment_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_comment')),
    sa.UniqueConstraint('public_id', name=op.f('uq_incident_comment_public_id'))
    )
    op.create_index('ix_incident_comment_incident_created', 'incident_comment', ['incident_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_incident_comment_incident_created', table_name='incident_comment')
    op.drop_table('incident_comment')
