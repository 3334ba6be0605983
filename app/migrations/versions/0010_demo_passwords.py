"""demo passwords: accounts still holding the password `yuqing seed-demo` printed

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# The demo accounts as app.operations.users.DEMO_USERS seeded them (migrations do not import the app).
DEMO_ACCOUNTS = {
    "monitor": "舆情监控员(演示)", "office": "办公室主任(演示)", "leader": "领导小组组长(演示)",
    "deputy": "领导小组副组长(演示)", "section": "承办科室负责人(演示)", "section2": "社会保险科负责人(演示)",
    "publicity": "宣传组成员(演示)", "spokesperson": "新闻发言人(演示)", "commentator": "网评员(演示)",
    "party": "局党组成员(演示)", "coordinator": "协调组成员(演示)", "risk": "风险评估主体(演示)",
    "owner": "流程管理员(演示)", "publisher": "流程发布人(演示)", "admin": "系统管理员(演示)",
}


def upgrade():
    # Not batch mode: on SQLite that would copy user_account, which every other table references
    # (the copy's DROP TABLE fails on a database with rows); ADD COLUMN with a constant default is plain.
    op.add_column('user_account', sa.Column('demo_password', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))

    # Demo accounts seeded before this column existed keep their printed password unless their
    # holder changed it (every change is audited as password_changed).
    users = sa.table('user_account', sa.column('id', sa.Integer), sa.column('username', sa.String),
                     sa.column('display_name', sa.String), sa.column('demo_password', sa.Boolean))
    audit = sa.table('audit_event', sa.column('actor_id', sa.Integer), sa.column('action', sa.String))
    changed = sa.select(audit.c.actor_id).where(audit.c.action == 'password_changed', audit.c.actor_id.is_not(None))
    for username, display_name in DEMO_ACCOUNTS.items():
        op.execute(users.update()
                   .where(users.c.username == username, users.c.display_name == display_name,
                          users.c.id.not_in(changed))
                   .values(demo_password=True))


def downgrade():
    op.execute('ALTER TABLE user_account DROP COLUMN demo_password')  # not batch mode, as above
