"""collaborator_duty: the dated "kiêm công tác gia đình và trẻ em" duty, and allowance rules restricted by it (issue #9 item 15)

Revision ID: d3b8f6c1a9e4
Revises: c7d2e9a4b8f1
Create Date: 2026-12-07 00:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd3b8f6c1a9e4'
down_revision = 'c7d2e9a4b8f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('collaborator_duty',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collaborator_id', sa.Integer(), nullable=False),
    sa.Column('duty', sa.String(length=40), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('decision_ref', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('ended_on IS NULL OR ended_on >= started_on', name=op.f('ck_collaborator_duty_end_after_start')),
    sa.CheckConstraint("duty IN ('family_children')", name=op.f('ck_collaborator_duty_duty_known')),
    sa.ForeignKeyConstraint(['collaborator_id'], ['collaborator.id'], name=op.f('fk_collaborator_duty_collaborator_id_collaborator'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_collaborator_duty_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collaborator_duty'))
    )
    with op.batch_alter_table('collaborator_duty', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collaborator_duty_collaborator_id'), ['collaborator_id'], unique=False)
        batch_op.create_index('uq_collaborator_duty_open', ['collaborator_id', 'duty'], unique=True,
                              sqlite_where=sa.text('ended_on IS NULL'), postgresql_where=sa.text('ended_on IS NULL'))

    # NULL for every existing rule: it applies whether or not the collaborator holds the duty.
    with op.batch_alter_table('allowance_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_children_duty', sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table('allowance_rule', schema=None) as batch_op:
        batch_op.drop_column('family_children_duty')
    with op.batch_alter_table('collaborator_duty', schema=None) as batch_op:
        batch_op.drop_index('uq_collaborator_duty_open', sqlite_where=sa.text('ended_on IS NULL'),
                            postgresql_where=sa.text('ended_on IS NULL'))
        batch_op.drop_index(batch_op.f('ix_collaborator_duty_collaborator_id'))
    op.drop_table('collaborator_duty')
