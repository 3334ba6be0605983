"""generated documents: Word files made from an incident's ledger or a month's statistics, versioned

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('generated_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_generated_document_incident_id_incident'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_generated_document_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_generated_document')),
    sa.UniqueConstraint('public_id', name=op.f('uq_generated_document_public_id')),
    sa.UniqueConstraint('kind', 'subject', 'version', name=op.f('uq_generated_document_kind'))
    )
    op.create_index('ix_generated_document_incident', 'generated_document', ['incident_id'], unique=False)


def downgrade():
    op.drop_index('ix_generated_document_incident', table_name='generated_document')
    op.drop_table('generated_document')
