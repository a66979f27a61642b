"""application: index on (hamlet_path, state), the scoped lists' count and counts by state

Revision ID: b3e8f4a1c6d2
Revises: 7d3f1b2c9a15
Create Date: 2026-12-06 22:30:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3e8f4a1c6d2'
down_revision = '7d3f1b2c9a15'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index('ix_application_path_state', ['hamlet_path', 'state'], unique=False,
                              postgresql_ops={'hamlet_path': 'text_pattern_ops'})


def downgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index('ix_application_path_state')
