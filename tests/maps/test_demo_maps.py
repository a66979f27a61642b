"""The coverage maps on the Đồng Nai demo (issue #10 targets): 95 communes and about 1,400
synthetic hamlets. Pages stay under 50 KB, the hamlet layer of the whole province under 1.5 MB (400 KB
gzipped), and what the maps count matches the coverage frame."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from danso_network.common.clock import today
from danso_network.coverage import services as coverage
from danso_network.maps import services
from danso_network.units.services import find_unit_by_code

from ..conftest import DEMO_PASSWORD, login

pytestmark = pytest.mark.slow
PAGE_LIMIT = 50 * 1024


@pytest.fixture
def demo(demo_network_db):
    with demo_network_db.use() as load:
        yield load.report


def get(client, url, status=200, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response


def test_map_pages_of_the_demo_are_small(demo, client):
    province = find_unit_by_code("75")
    assert login(client, "soyte", DEMO_PASSWORD).status_code == 302
    page = get(client, f"/maps/unit/{province.id}")
    html = page.get_data(as_text=True)
    assert len(page.get_data()) < PAGE_LIMIT
    # The province officer sees all 95 communes, counted as the frame counts them.
    assert sum(int(n) for n in re.findall(r'data-count="(\d+)"', html)) == 95
    layer = get(client, f"/maps/layers/communes/{province.id}.geojson", **{"Accept-Encoding": "gzip"})
    communes = [f for f in json.loads(gzip.decompress(layer.get_data()))["features"]
                if f["properties"]["kind"] == "commune"]
    assert len(communes) == 95
    commune_id = communes[0]["properties"]["id"]
    commune_page = get(client, f"/maps/unit/{commune_id}")
    assert len(commune_page.get_data()) < PAGE_LIMIT


def test_the_centre_officer_sees_the_centres_communes_by_status(demo, client):
    assert login(client, "ttyt_budang", DEMO_PASSWORD).status_code == 302
    centre_url = get(client, "/maps/", 302).headers["Location"]
    page = get(client, centre_url)
    assert len(page.get_data()) < PAGE_LIMIT
    html = page.get_data(as_text=True)
    legend = {s: (int(c), int(d)) for s, c, d in re.findall(
        r'data-status="(\w+)" data-count="(\d+)" data-drawn="(\d+)"', html)}
    url = re.search(r'data-layer-url="([^"]+)"', html).group(1)
    features = get(client, url).json["features"]
    drawn = {}
    for f in features:
        if f["properties"]["kind"] == "hamlet":
            drawn[f["properties"]["status"]] = drawn.get(f["properties"]["status"], 0) + 1
    assert {s: d for s, (_c, d) in legend.items() if d} == drawn
    assert all(c == d for c, d in legend.values())  # every demo hamlet has (synthetic) geometry
    assert all(f["properties"].get("synthetic") for f in features if f["properties"]["kind"] == "hamlet")
    assert len({f["properties"]["id"] for f in features if f["properties"]["kind"] == "boundary"}) == 6


def test_the_hamlet_layer_of_the_whole_province_fits_the_targets(demo):
    province = find_unit_by_code("75")
    area = services.MapArea("commune", (province.path,), province.full_name, unit=province)
    payload = services.build_layer(area, today()).encode("utf-8")
    hamlets = [f for f in json.loads(payload)["features"] if f["properties"]["kind"] == "hamlet"]
    frame = coverage.hamlet_frame([province.path], today())
    assert len(hamlets) == int(frame["has_geometry"].sum()) == len(frame) > 1300
    assert len(payload) < 1.5 * 1024 * 1024
    assert len(gzip.compress(payload, compresslevel=6)) < 400 * 1024
