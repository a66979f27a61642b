"""The Đồng Nai demo: 95 real communes with boundaries, synthetic hamlets, facilities, one user
per role; idempotent and deterministic for a seed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from danso_network.auth.models import Role, RoleGrant, User
from danso_network.config import DATA_DIR
from danso_network.demo.hamlets import generate_hamlets
from danso_network.demo.loader import DEMO_USERS, load_demo
from danso_network.extensions import db
from danso_network.units import services
from danso_network.units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from danso_network.units.spatial import from_wkb

from .conftest import DEMO_PASSWORD as PASSWORD
from .conftest import login

pytestmark = pytest.mark.slow


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def demo(demo_db):
    """The demo (seed 7, without the network's history), loaded once per worker; this test's
    changes are rolled back."""
    with demo_db.use() as report:
        yield report


def test_demo_has_the_95_real_communes_with_boundaries(demo):
    province = services.find_unit_by_code("75")
    assert province.full_name == "Thành phố Đồng Nai"
    communes = services.descendants(province, level=UnitLevel.COMMUNE)
    assert len(communes) == 95
    assert all(c.geom_wkb and c.geom_simplified_wkb for c in communes)
    bom_bo = services.find_unit_by_code("25405")
    assert bom_bo.full_name == "Xã Bom Bo"
    # The boundary is real: Bom Bo lies in the north-east of the province.
    assert 106.9 < bom_bo.centroid_lon < 107.3 and 11.7 < bom_bo.centroid_lat < 12.1


def test_every_commune_gets_5_to_25_synthetic_hamlets_inside_it(demo):
    province = services.find_unit_by_code("75")
    for commune in services.descendants(province, level=UnitLevel.COMMUNE):
        hamlets = services.children(commune)
        assert 5 <= len(hamlets) <= 25, commune.full_name
        assert all(h.is_synthetic for h in hamlets)
        outline = from_wkb(commune.geom_wkb).buffer(1e-6)
        assert all(outline.contains(from_wkb(h.geom_wkb)) for h in hamlets[:3])
        assert all(80 <= h.households <= 600 for h in hamlets)
        expected = "Khu phố" if commune.type == "phuong" else "Ấp"
        assert hamlets[0].name.startswith(expected)
    flagged = _count(AdminUnit, AdminUnit.level == "hamlet", AdminUnit.is_ethnic_minority.is_(True))
    assert flagged > 0


def test_centres_follow_the_pre_2025_districts(demo):
    assert _count(Facility, Facility.kind == FacilityKind.DEPARTMENT.value) == 1
    assert _count(Facility, Facility.kind == FacilityKind.HEALTH_CENTRE.value) == 22
    assert _count(Facility, Facility.kind == FacilityKind.STATION.value) == 95
    centre = db.session.scalar(select(Facility).where(Facility.code == "TTYT-696"))
    assert centre.name == "Trung tâm Y tế khu vực Bù Đăng"
    assert "25405" in [u.code for u in services.served_units(centre)]
    station = db.session.scalar(select(Facility).where(Facility.code == "TYT-25405"))
    assert [f.kind for f in services.supervision_chain(station)] == ["station", "health_centre", "department"]


def test_history_keeps_the_districts_before_the_reform(demo):
    from datetime import date

    old = services.find_unit_by_code("696", as_of=date(2025, 6, 30))
    assert old.full_name == "Huyện Bù Đăng" and old.level == "district"
    assert services.find_unit_by_code("696") is None
    binh_phuoc = services.find_unit_by_code("70", as_of=date(2025, 6, 30))
    assert binh_phuoc.full_name == "Tỉnh Bình Phước"


def test_one_demo_user_per_role(demo):
    roles = {g.role for g in db.session.scalars(select(RoleGrant))}
    assert roles == {r.value for r in Role}
    assert sorted(demo.users_created) == sorted(u.username for u in DEMO_USERS)


def test_loading_twice_creates_no_duplicates(demo):
    """The fixture's load was the first; this is a second, real one over it."""
    counts = [_count(m) for m in (AdminUnit, Facility, User, RoleGrant)]
    again = load_demo(Path(DATA_DIR), seed=7, password=PASSWORD, network=False)
    db.session.commit()
    assert [_count(m) for m in (AdminUnit, Facility, User, RoleGrant)] == counts
    assert again.hamlets_created == 0 and again.facilities_created == 0 and again.users_created == []


def test_a_test_may_change_the_loaded_demo(demo):
    """The demo is loaded once per worker; a test changes it freely, commits included..."""
    db.session.delete(db.session.scalar(select(User).where(User.username == "tram_bombo")))
    db.session.commit()
    assert _count(User, User.username == "tram_bombo") == 0


def test_the_next_test_sees_the_demo_as_loaded(demo):
    """...and the next test sees none of it (each runs in a transaction rolled back at the end)."""
    assert _count(User, User.username == "tram_bombo") == 1


def test_demo_station_head_sees_only_bom_bo(demo, client):
    response = login(client, "tram_bombo", PASSWORD)
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Xã Bom Bo" in home
    other = services.find_unit_by_code("25396")  # Xã Bù Đăng, same centre
    assert client.get(f"/units/{other.id}").status_code == 403


def test_same_seed_same_hamlets_other_seed_other_hamlets():
    from shapely.geometry import box

    outline = box(107.0, 11.8, 107.1, 11.9)
    first = generate_hamlets(outline, commune_code="25405", commune_type="xa", district_code="696", seed=1)
    second = generate_hamlets(outline, commune_code="25405", commune_type="xa", district_code="696", seed=1)
    other = generate_hamlets(outline, commune_code="25405", commune_type="xa", district_code="696", seed=2)
    assert [(h.name, h.households, h.geometry.wkb) for h in first] == \
        [(h.name, h.households, h.geometry.wkb) for h in second]
    assert [(h.households, h.geometry.wkb) for h in first] != [(h.households, h.geometry.wkb) for h in other]
    # The cells tile the commune: no gaps, no overlaps.
    assert abs(sum(h.geometry.area for h in first) - outline.area) < 1e-9


def test_cli_load_prints_the_logins(app, demo_network_db):
    """``danso demo load`` into an empty database (the prepared whole demo was loaded that way)
    reports what it loaded and the logins; ``--if-empty`` then skips."""
    with demo_network_db.use() as load:
        assert load.exit_code == 0, load.output
        assert "95 xã/phường" in load.output
        assert "tram_bombo" in load.output
        result = app.test_cli_runner().invoke(args=["demo", "load", "--if-empty"])
        assert result.exit_code == 0
        assert "bỏ qua" in result.output


def test_cli_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(args=["demo", "load", "--password", "123"])
    assert result.exit_code != 0
    assert "ít nhất 10 ký tự" in result.output
