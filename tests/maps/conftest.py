"""Coverage-map tests: the test world with geometry for some hamlets, criteria in force, and one
collaborator, so every status and the "not on the map" list have something to show."""

from __future__ import annotations

from datetime import date

import pytest
from shapely.geometry import box

from danso_network.extensions import db
from danso_network.maps import services
from danso_network.units.spatial import geometry_columns

from .. import factories


@pytest.fixture(autouse=True)
def _fresh_layer_cache(app):
    """Every test starts with no kept layer: ids are reused after each test's rollback, so a layer
    kept by an earlier test could carry the same data version."""
    with app.app_context():
        services.clear_cache()
    yield


def give_geometry(unit, geom) -> None:
    for key, value in geometry_columns(geom).items():
        setattr(unit, key, value)
    db.session.flush()


@pytest.fixture
def mapped(world):
    """Commune A: Khu phố 1 drawn (one collaborator), Khu phố 2 without geometry. Commune B: both
    hamlets drawn, Ấp Tân Lập (difficult, ethnic minority) and Ấp 2, nobody active. Hà Nội:
    nothing has geometry. Đồng Nai has criteria in force (quotas known)."""
    give_geometry(world.hamlets_a[0], box(106.85, 11.50, 106.9012345678, 11.60))
    give_geometry(world.hamlets_b[0], box(106.95, 11.50, 107.00, 11.60))
    give_geometry(world.hamlets_b[1], box(107.00, 11.50, 107.05, 11.60))
    factories.criteria(world.dong_nai)
    factories.appoint(world.hamlets_a[0], 501, started_on=date(2025, 9, 1))
    db.session.commit()
    return world
