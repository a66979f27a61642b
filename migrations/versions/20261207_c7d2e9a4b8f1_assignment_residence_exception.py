"""assignment: the written residence exception of a transfer (TT 02/2021 Art. 2.2, issue #9 item 11)

Revision ID: c7d2e9a4b8f1
Revises: a61f0c3d8e27
Create Date: 2026-12-07 00:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c7d2e9a4b8f1'
down_revision = 'a61f0c3d8e27'
branch_labels = None
depends_on = None


def upgrade():
    # NULL for every existing assignment: no exception was recorded before this column.
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('residence_exception', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('residence_exception')
