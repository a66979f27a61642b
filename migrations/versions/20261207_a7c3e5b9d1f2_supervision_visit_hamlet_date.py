"""supervision_visit: index (hamlet_id, visited_on) — a commune's visits of a period were read by a
sequential scan of every visit (the home dashboard's targets; issue #14 load test)

Revision ID: a7c3e5b9d1f2
Revises: 189b643252de
Create Date: 2026-12-07 15:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c3e5b9d1f2'
down_revision = '189b643252de'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('supervision_visit', schema=None) as batch_op:
        batch_op.create_index('ix_supervision_visit_hamlet_date', ['hamlet_id', 'visited_on'], unique=False)


def downgrade():
    with op.batch_alter_table('supervision_visit', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_visit_hamlet_date')
