"""application: index on (updated_at, id), the applications list's order

Revision ID: 7d3f1b2c9a15
Revises: 5c1e7a9d2b40
Create Date: 2026-12-06 21:40:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '7d3f1b2c9a15'
down_revision = '5c1e7a9d2b40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index('ix_application_updated', ['updated_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index('ix_application_updated')
