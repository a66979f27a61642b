"""The small network the roster export tests read (tests/factories.build_world plus people):
see tests/exports/roster_data.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from shapely.geometry import box

from danso_network.collaborators import services as roster_services
from danso_network.extensions import db
from danso_network.units.spatial import geometry_columns

from .. import factories
from .roster_data import FORMULA_NAME


@dataclass
class People:
    lan: object
    formula: object
    hoa: object
    mai: object


@pytest.fixture
def people(world) -> People:
    factories.criteria(world.dong_nai)
    for n, hamlet in enumerate([*world.hamlets_a, world.hamlets_b[0]]):
        x = 106.86 + n * 0.02
        for key, value in geometry_columns(box(x, 11.51, x + 0.015, 11.525)).items():
            setattr(hamlet, key, value)
    lan = factories.appoint(world.hamlets_a[0], 1, full_name="Nguyễn Thị Lan", vhw=True, phone="0911000001")
    formula = factories.appoint(world.hamlets_a[1], 2, full_name=FORMULA_NAME, phone="0911000002")
    hoa = factories.appoint(world.hamlets_b[0], 3, full_name="Trần Thị Hoa", phone="0911000003")
    mai = factories.appoint(world.hamlets_c[0], 4, full_name="Lê Thị Mai", phone="0911000004")
    roster_services.suspend_collaborator(formula, on=date(2026, 11, 1), reason="Ốm dài ngày", actor=None)
    db.session.commit()
    return People(lan, formula, hoa, mai)


