"""Where the maps are reached from (issue #10 item 2): unit pages, the roster and the home page
link to the map of their unit; the centre officer's home shows the centre's map."""

from __future__ import annotations

import re
from xml.etree import ElementTree


def html_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def test_unit_pages_link_to_their_map(login_as, client, world):
    login_as("admin75")
    for unit in (world.dong_nai, world.commune_a, world.hamlets_a[0]):
        assert f'href="/maps/unit/{unit.id}"' in html_of(client, f"/units/{unit.id}")
    assert f'href="/maps/unit/{world.commune_a.id}?as_of=2025-10-01"' in html_of(
        client, f"/units/{world.commune_a.id}?as_of=01/10/2025")


def test_rosters_link_to_their_map(login_as, client, world):
    login_as("ttyt689")
    html = html_of(client, f"/collaborators/roster/{world.commune_a.id}")
    assert re.search(rf'href="/maps/unit/{world.commune_a.id}\?as_of=[0-9-]+">Bản đồ bao phủ<', html)
    html = html_of(client, f"/collaborators/roster/centre/{world.centre.id}")
    assert re.search(rf'href="/maps/centre/{world.centre.id}\?as_of=[0-9-]+">Bản đồ bao phủ<', html)


def test_the_home_page_links_each_area_to_its_map(login_as, client, world):
    login_as("truongtram_a")
    html = html_of(client, "/")
    assert f'href="/maps/unit/{world.commune_a.id}">Bản đồ bao phủ<' in html
    assert "format=thumb" not in html  # a station head has no centre map


def test_the_centre_officers_home_shows_the_centres_map(login_as, client, mapped):
    login_as("ttyt689")
    html = html_of(client, "/")
    thumb = f"/maps/centre/{mapped.centre.id}?format=thumb"
    assert f'src="{thumb}"' in html and "Bản đồ bao phủ: Trung tâm Y tế khu vực Đồng Xoài" in html
    response = client.get(thumb)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = ElementTree.fromstring(response.get_data(as_text=True))
    fills = [p.get("fill") for p in svg.iter("{http://www.w3.org/2000/svg}path")]
    assert len(fills) == 3 and "none" not in fills  # the three hamlets with geometry, no outlines
    assert client.get(thumb, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
