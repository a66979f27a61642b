"""training course: folded search text (the course list searches in SQL)

Revision ID: 5c1e7a9d2b40
Revises: 9e2dc6aa25e2
Create Date: 2026-12-06 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from danso_network.textnorm import fold

# revision identifiers, used by Alembic.
revision = '5c1e7a9d2b40'
down_revision = '9e2dc6aa25e2'
branch_labels = None
depends_on = None

course = sa.table('training_course', sa.column('id', sa.Integer()), sa.column('title', sa.String()),
                  sa.column('organiser', sa.String()), sa.column('search_text', sa.String()))


def upgrade():
    with op.batch_alter_table('training_course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.String(length=700), nullable=True))
    # The same text as danso_network.training.models.course_search_text (a data migration does
    # not import the app's models).
    bind = op.get_bind()
    for course_id, title, organiser in bind.execute(sa.select(course.c.id, course.c.title, course.c.organiser)).all():
        bind.execute(course.update().where(course.c.id == course_id)
                     .values(search_text=f"{fold(title)}\n{fold(organiser)}"))
    with op.batch_alter_table('training_course', schema=None) as batch_op:
        batch_op.alter_column('search_text', existing_type=sa.String(length=700), nullable=False)


def downgrade():
    with op.batch_alter_table('training_course', schema=None) as batch_op:
        batch_op.drop_column('search_text')
