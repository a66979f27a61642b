"""user account: login version (logging out ends the sessions and remember-me cookies)

Revision ID: e4a7c2d9f150
Revises: b3e8f4a1c6d2
Create Date: 2026-12-06 23:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4a7c2d9f150'
down_revision = 'b3e8f4a1c6d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login_version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('login_version')
