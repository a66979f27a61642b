"""criteria set, network policy, allowance rule: is_illustrative (settings no document was seen for)

Revision ID: e9a1c5f7d2b6
Revises: d3b8f6c1a9e4
Create Date: 2026-12-07 01:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e9a1c5f7d2b6'
down_revision = 'd3b8f6c1a9e4'
branch_labels = None
depends_on = None

TABLES = ('criteria_set', 'network_policy', 'allowance_rule')

# The demo (danso demo load) labelled its unsourced settings in their text only until now: its
# allowance rules and network policy by a legal basis starting "Dữ liệu minh hoạ", its Đồng Nai
# criteria by these two notes. Existing demo databases get the flag; nothing else matches.
DEMO_LABEL = 'Dữ liệu minh hoạ%'
DEMO_CRITERIA_NOTES = (
    "Áp dụng từ khi tổ chức chính quyền địa phương hai cấp (01/7/2025). Trạm Y tế xã lựa chọn, "
    "Trung tâm Y tế khu vực thẩm định, phê duyệt và ra quyết định công nhận CTV.",
    "Từ 01/01/2026 Trạm Y tế xã là đơn vị sự nghiệp thuộc UBND xã (Thông tư 43/2025/TT-BYT): "
    "Giám đốc Trạm Y tế xã phê duyệt và ra quyết định công nhận CTV; định mức giữ nguyên.",
)


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('is_illustrative', sa.Boolean(), server_default=sa.false(), nullable=False))
    flag = sa.bindparam('flag', True, type_=sa.Boolean())
    for table in ('network_policy', 'allowance_rule'):
        op.execute(sa.text(f"UPDATE {table} SET is_illustrative = :flag WHERE legal_basis LIKE :label")
                   .bindparams(flag, sa.bindparam('label', DEMO_LABEL)))
    op.execute(sa.text("UPDATE criteria_set SET is_illustrative = :flag WHERE note IN (:first, :second)")
               .bindparams(flag, sa.bindparam('first', DEMO_CRITERIA_NOTES[0]),
                           sa.bindparam('second', DEMO_CRITERIA_NOTES[1])))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('is_illustrative')
