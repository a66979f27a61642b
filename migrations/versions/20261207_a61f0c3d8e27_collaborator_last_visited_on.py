"""collaborator: the day of the latest supervision visit (the overdue list at national scale)

Revision ID: a61f0c3d8e27
Revises: e4a7c2d9f150
Create Date: 2026-12-07 00:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a61f0c3d8e27'
down_revision = 'e4a7c2d9f150'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('collaborator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_visited_on', sa.Date(), nullable=True))
    # Existing visits: the latest of each collaborator (plain SQL, valid on SQLite and PostgreSQL).
    op.execute("UPDATE collaborator SET last_visited_on = (SELECT max(v.visited_on) FROM supervision_visit AS v "
               "WHERE v.collaborator_id = collaborator.id)")


def downgrade():
    with op.batch_alter_table('collaborator', schema=None) as batch_op:
        batch_op.drop_column('last_visited_on')
