"""unit english names: an optional English name of each organisation unit, shown on the English pages

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# The units `ensure_roles_and_units` seeds get their English name; units an admin added keep none.
SEEDED = {
    'office': 'Bureau office',
    'policy': 'Policy and regulations section',
    'employment': 'Employment promotion section',
    'social_insurance': 'Social insurance section',
    'labour_relations': 'Labour relations section',
    'supervision': 'Labour security inspection brigade',
    'service_center': 'Government service centre',
}


def upgrade():
    op.add_column('org_unit', sa.Column('name_en', sa.String(length=200), nullable=True))
    unit = sa.table('org_unit', sa.column('code', sa.String), sa.column('name_en', sa.String))
    for code, name in SEEDED.items():
        op.execute(unit.update().where(unit.c.code == code).values(name_en=name))


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35+ too): batch mode would copy org_unit, which user accounts refer to,
    # and SQLite, enforcing foreign keys, refuses to drop the original.
    op.drop_column('org_unit', 'name_en')
