"""assignment: end reason "unit_reorganised" (an assignment moved by an administrative reform, issue #13)

Revision ID: f4a2b9c1d7e3
Revises: c2e1d3b4a5f6
Create Date: 2026-12-07 06:40:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f4a2b9c1d7e3'
down_revision = 'c2e1d3b4a5f6'
branch_labels = None
depends_on = None

BEFORE = ("'resigned', 'moved_out', 'health', 'non_performance', 'contract_ended', 'hamlet_merged', 'deceased', "
          "'transferred', 'cover_ended'")
AFTER = BEFORE + ", 'unit_reorganised'"


def _reasons(values: str) -> None:
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_assignment_end_reason_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_assignment_end_reason_known'),
                                         f"end_reason IS NULL OR end_reason IN ({values})")


def upgrade():
    _reasons(AFTER)


def downgrade():
    op.execute("UPDATE assignment SET end_reason = 'hamlet_merged' WHERE end_reason = 'unit_reorganised'")
    _reasons(BEFORE)
