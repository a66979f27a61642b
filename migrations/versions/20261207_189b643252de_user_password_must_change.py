"""user: password_must_change (a password somebody else chose is replaced at first login; issue #12 item 4)

Revision ID: 189b643252de
Revises: f4a2b9c1d7e3
Create Date: 2026-12-07 12:39:07.407296

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '189b643252de'
down_revision = 'f4a2b9c1d7e3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_must_change', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('password_must_change')
