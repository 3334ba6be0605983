"""API v1: tokens act as service users with scopes, a unit, an expiry and a rate; idempotency keys

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:40:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy of the table on SQLite); the user FK is declared by the model and
    # enforced on PostgreSQL, where it is added as a constraint.
    op.add_column('api_token', sa.Column('user_id', sa.Integer(), nullable=True))
    op.add_column('api_token', sa.Column('unit_code', sa.String(length=64), nullable=True))
    op.add_column('api_token', sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('api_token', sa.Column('rate_per_minute', sa.Integer(), nullable=False, server_default='120'))
    if op.get_bind().dialect.name != 'sqlite':
        op.create_foreign_key(op.f('fk_api_token_user_id_user_account'), 'api_token', 'user_account',
                              ['user_id'], ['id'])
    # Tokens issued before scopes had actions could only post leads.
    op.execute("UPDATE api_token SET scopes = '[\"alerts:write\"]' WHERE scopes = '[\"alerts\"]'")
    # Each of them gets its service user (no roles, no usable password; inactive if the token was revoked).
    bind = op.get_bind()
    tokens = bind.execute(sa.text("SELECT id, name, revoked_at FROM api_token WHERE user_id IS NULL")).all()
    users = sa.table('user_account', sa.column('id', sa.Integer), sa.column('username', sa.String),
                     sa.column('display_name', sa.String), sa.column('password_hash', sa.String),
                     sa.column('active', sa.Boolean), sa.column('must_change_password', sa.Boolean),
                     sa.column('session_epoch', sa.Integer), sa.column('created_at', sa.DateTime(timezone=True)))
    for token_id, name, revoked_at in tokens:
        bind.execute(users.insert().values(
            username=f'api-legacy-{token_id}', display_name=f'接口:{name}'[:100], password_hash='!api-token-user',
            active=revoked_at is None, must_change_password=False, session_epoch=0,
            created_at=datetime.now(timezone.utc)))
        user_id = bind.execute(sa.text("SELECT id FROM user_account WHERE username = :u"),
                               {"u": f'api-legacy-{token_id}'}).scalar_one()
        bind.execute(sa.text("UPDATE api_token SET user_id = :u WHERE id = :t"), {"u": user_id, "t": token_id})
    op.create_table('api_idempotency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['api_token.id'], name=op.f('fk_api_idempotency_token_id_api_token'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                            name=op.f('fk_api_idempotency_instance_id_process_instance'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_idempotency')),
    sa.UniqueConstraint('token_id', 'key', name=op.f('uq_api_idempotency_token_id'))
    )


def downgrade():
    op.drop_table('api_idempotency')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_api_token_user_id_user_account'), 'api_token', type_='foreignkey')
    for column in ('rate_per_minute', 'expires_at', 'unit_code', 'user_id'):
        op.execute(f'ALTER TABLE api_token DROP COLUMN {column}')
