"""commune_target: a commune's annual targets for its collaborator network, effective-dated (issue #11 item 4)

Revision ID: c2e1d3b4a5f6
Revises: b1f0c2a3d4e5
Create Date: 2026-12-07 03:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c2e1d3b4a5f6'
down_revision = 'b1f0c2a3d4e5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('commune_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('hamlets_covered_pct', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('collaborators_trained', sa.Integer(), nullable=True),
    sa.Column('supervision_visits', sa.Integer(), nullable=True),
    sa.Column('meeting_attendance_pct', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=300), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('is_illustrative', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_by_role', sa.String(length=30), nullable=True),
    sa.Column('set_by_facility_id', sa.Integer(), nullable=True),
    sa.Column('set_by_unit_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('year >= 2021 AND year <= 2100', name=op.f('ck_commune_target_year_range')),
    sa.CheckConstraint('hamlets_covered_pct IS NULL OR (hamlets_covered_pct >= 0 AND hamlets_covered_pct <= 100)',
                       name=op.f('ck_commune_target_hamlets_covered_pct_range')),
    sa.CheckConstraint('collaborators_trained IS NULL OR (collaborators_trained >= 0 AND collaborators_trained <= 9999)',
                       name=op.f('ck_commune_target_collaborators_trained_range')),
    sa.CheckConstraint('supervision_visits IS NULL OR (supervision_visits >= 0 AND supervision_visits <= 9999)',
                       name=op.f('ck_commune_target_supervision_visits_range')),
    sa.CheckConstraint('meeting_attendance_pct IS NULL OR (meeting_attendance_pct >= 0 AND meeting_attendance_pct <= 100)',
                       name=op.f('ck_commune_target_meeting_attendance_pct_range')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name=op.f('ck_commune_target_valid_range')),
    sa.CheckConstraint("set_by_role IS NULL OR set_by_role IN ('province_admin', 'centre_officer')",
                       name=op.f('ck_commune_target_set_by_role_known')),
    sa.CheckConstraint('set_by_facility_id IS NULL OR set_by_unit_id IS NULL',
                       name=op.f('ck_commune_target_set_by_facility_or_unit')),
    sa.ForeignKeyConstraint(['commune_id'], ['admin_unit.id'], name=op.f('fk_commune_target_commune_id_admin_unit'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['set_by_id'], ['user_account.id'], name=op.f('fk_commune_target_set_by_id_user_account'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['set_by_facility_id'], ['facility.id'],
                            name=op.f('fk_commune_target_set_by_facility_id_facility'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['set_by_unit_id'], ['admin_unit.id'],
                            name=op.f('fk_commune_target_set_by_unit_id_admin_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commune_target')),
    sa.UniqueConstraint('commune_id', 'year', 'valid_from', name='uq_commune_target_version')
    )
    with op.batch_alter_table('commune_target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commune_target_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index('ix_commune_target_year_commune', ['year', 'commune_id'], unique=False)
        batch_op.create_index('uq_commune_target_open', ['commune_id', 'year'], unique=True,
                              sqlite_where=sa.text('valid_to IS NULL'), postgresql_where=sa.text('valid_to IS NULL'))


def downgrade():
    with op.batch_alter_table('commune_target', schema=None) as batch_op:
        batch_op.drop_index('uq_commune_target_open', sqlite_where=sa.text('valid_to IS NULL'),
                            postgresql_where=sa.text('valid_to IS NULL'))
        batch_op.drop_index('ix_commune_target_year_commune')
        batch_op.drop_index(batch_op.f('ix_commune_target_commune_id'))
    op.drop_table('commune_target')
