"""admin_unit: geom_simplified_geojson — the simplified geometry stored as GeoJSON text too, which
the map layers serve as it is (issue #10: converting the WKB on each request took a quarter of a
province's hamlet layer); filled here from geom_simplified_wkb

Revision ID: b8d4f2a6c9e1
Revises: a7c3e5b9d1f2
Create Date: 2026-12-07 19:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8d4f2a6c9e1'
down_revision = 'a7c3e5b9d1f2'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade():
    import shapely

    with op.batch_alter_table('admin_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('geom_simplified_geojson', sa.Text(), nullable=True))
    bind = op.get_bind()
    unit = sa.table('admin_unit', sa.column('id', sa.Integer), sa.column('geom_simplified_wkb', sa.LargeBinary),
                    sa.column('geom_simplified_geojson', sa.Text))
    last = 0
    while True:
        rows = bind.execute(sa.select(unit.c.id, unit.c.geom_simplified_wkb)
                            .where(unit.c.id > last, unit.c.geom_simplified_wkb.is_not(None))
                            .order_by(unit.c.id).limit(BATCH)).all()
        if not rows:
            break
        texts = shapely.to_geojson(shapely.from_wkb([bytes(wkb) for _id, wkb in rows])).tolist()
        bind.execute(unit.update().where(unit.c.id == sa.bindparam('_id'))
                     .values(geom_simplified_geojson=sa.bindparam('_text')),
                     [{'_id': unit_id, '_text': text} for (unit_id, _wkb), text in zip(rows, texts, strict=True)])
        last = rows[-1][0]


def downgrade():
    with op.batch_alter_table('admin_unit', schema=None) as batch_op:
        batch_op.drop_column('geom_simplified_geojson')
