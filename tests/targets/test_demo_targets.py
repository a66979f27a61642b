"""The demo's annual targets (demo/network.py, illustrative): the Bù Đăng centre's communes have
targets for the demo's year, Bom Bo's revised on 1 July, and Bom Bo shows met and not met — on its
page, its targets page and its station head's dashboard."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from danso_network.common import clock
from danso_network.demo import network
from danso_network.extensions import db
from danso_network.targets import services
from danso_network.targets.models import CommuneTarget
from danso_network.units import services as units
from danso_network.units.models import AdminUnit, Facility
from tests.conftest import DEMO_PASSWORD, csrf_token

pytestmark = pytest.mark.slow
YEAR = network.TARGETS_YEAR


@pytest.fixture
def demo(demo_network_db):
    with demo_network_db.use() as load:
        yield load.report


def _unit(code: str) -> AdminUnit:
    """The commune holding the code today: since the reform of 1/7/2025 the demo also holds the old
    commune of the same code (Xã Bom Bo of Huyện Bù Đăng, closed that day), which has no targets."""
    return units.find_unit_by_code(code)


def _login(app, username: str):
    client = app.test_client()
    token = csrf_token(client)
    assert client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                       "csrf_token": token}).status_code == 302
    return client


def test_the_centres_communes_have_illustrative_targets_and_bom_bo_a_revision(demo):
    centre = db.session.scalar(select(Facility).where(Facility.code == network.CENTRE_CODE))
    versions = list(db.session.scalars(select(CommuneTarget).where(CommuneTarget.year == YEAR)))
    assert demo.network.targets == len(versions) == 7  # six communes, Bom Bo twice
    assert all(v.is_illustrative and v.source.startswith("Dữ liệu minh hoạ") for v in versions)
    assert {(v.set_by_role, v.set_by_facility_id) for v in versions} == {("centre_officer", centre.id)}
    bom_bo = _unit(network.BOM_BO)
    history = services.versions(bom_bo, YEAR)
    assert [(v.valid_from, v.valid_to) for v in history] == [(date(YEAR, 7, 1), None),
                                                             (date(YEAR, 1, 1), date(YEAR, 7, 1))]
    assert (history[0].hamlets_covered_pct, history[1].hamlets_covered_pct) == (60, 80)


def test_bom_bo_meets_some_targets_and_not_others(demo):
    bom_bo = _unit(network.BOM_BO)
    card = services.scorecards([bom_bo.id], YEAR, network.END)[bom_bo.id]
    verdicts = {line.verdict for line in card.lines}
    assert verdicts == {"met", "not_met"} and card.verdict == "not_met"
    final = services.scorecards([bom_bo.id], YEAR, date(YEAR + 1, 1, 5))[bom_bo.id]
    assert final.final and {line.verdict for line in final.lines} == {"met", "not_met"}


def test_bom_bo_pages_show_met_and_not_met(app, demo):
    bom_bo = _unit(network.BOM_BO)
    head = _login(app, "tram_bombo")
    page = head.get(f"/targets/communes/{bom_bo.id}?year={YEAR}").get_data(as_text=True)
    table = re.search(r'<table[^>]*id="commune-targets".*?</table>', page, re.S).group(0)
    assert set(re.findall(r'data-verdict="([a-z_]+)"', table)) == {"met", "not_met"}
    assert "Minh hoạ — chưa có văn bản" in page and 'id="target-history"' in page
    if clock.today().year == YEAR:  # the commune page and the dashboard show this year's targets
        commune = head.get(f"/units/{bom_bo.id}").get_data(as_text=True)
        section = re.search(r'id="commune-targets-section".*?</section>', commune, re.S).group(0)
        assert set(re.findall(r'data-verdict="([a-z_]+)"', section)) >= {"met", "not_met"}
        home = head.get("/").get_data(as_text=True)
        assert {"met", "not_met"} <= set(re.findall(r'<li data-kind="[a-z_]+">.*?data-verdict="([a-z_]+)"', home, re.S))
    area = _login(app, "ttyt_budang").get(f"/targets/?year={YEAR}", follow_redirects=True).get_data(as_text=True)
    assert re.search(r"\d/6 xã đạt chỉ tiêu", area) and area.count('<tr data-commune="') == 6
