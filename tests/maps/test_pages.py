"""The coverage map pages (issue #10 item 2): figures, legend, units without geometry, the
as-of date and the filter, who lands where, and what the page may load (CSP nonces, the app's own
Leaflet and jQuery, no address outside the app)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from danso_network.auth.models import Role
from danso_network.common.clock import today
from danso_network.coverage import services as coverage
from danso_network.extensions import db
from danso_network.maps.render import ASSET_FILES

from .. import factories
from ..conftest import login

URL = re.compile(r"https?://[^\s\"'<>)]+")


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response, response.get_data(as_text=True)


def legend(html) -> dict[str, tuple[int, int]]:
    """status → (count, drawn) from the legend beside the map."""
    return {s: (int(c), int(d)) for s, c, d in re.findall(
        r'data-status="(\w+)" data-count="(\d+)" data-drawn="(\d+)"', html)}


def test_commune_page_shows_figures_legend_and_hamlets_not_on_the_map(login_as, client, mapped):
    w = mapped
    login_as("truongtram_a")
    _, html = page(client, f"/maps/unit/{w.commune_a.id}")
    frame = coverage.hamlet_frame([w.commune_a.path], today())
    counts = frame["status"].value_counts()
    drawn = frame[frame["has_geometry"]]["status"].value_counts()
    assert legend(html) == {s: (int(counts.get(s, 0)), int(drawn.get(s, 0)))
                            for s in ("covered", "below_quota", "pending", "vacant", "unknown")}
    assert "Bản đồ bao phủ CTV: Phường Bình Phước" in html
    assert "Không có trên bản đồ: 1" in html
    assert f'href="/units/{w.hamlets_a[1].id}"' in html  # Khu phố 2, without geometry, links to its page
    assert f'data-layer-url="/maps/layers/hamlets/{w.commune_a.id}.geojson"' in html
    assert 'data-click="/units/123456789"' in html
    assert "Ranh giới hành chính: Bản đồ ĐVHC sau sắp xếp (sapnhap.bando.com.vn" in html
    assert re.search(r"Thôn/tổ dân phố đủ CTV</dt><dd>\d+/2</dd>", html)
    assert "Dữ liệu minh hoạ" not in html  # nothing synthetic in this commune


def test_synthetic_hamlets_are_labelled(login_as, client, mapped):
    mapped.hamlets_b[0].is_synthetic = True
    db.session.commit()
    login_as("truongtram_b")
    _, html = page(client, f"/maps/unit/{mapped.commune_b.id}")
    assert "Dữ liệu minh hoạ" in html and "1 thôn/tổ dân phố trên bản đồ được sinh tự động" in html


def test_province_page_colours_communes_and_leads_to_each_communes_map(login_as, client, mapped):
    login_as("admin75")
    _, html = page(client, f"/maps/unit/{mapped.dong_nai.id}")
    assert legend(html)["pct0"] == (1, 1)  # commune B: nobody active
    assert sum(c for c, _d in legend(html).values()) == 2
    assert 'data-click="/maps/unit/123456789"' in html
    assert f'data-layer-url="/maps/layers/communes/{mapped.dong_nai.id}.geojson"' in html


def test_a_hamlets_map_is_its_communes_map_focused_on_it(login_as, client, mapped):
    login_as("truongtram_a")
    response = client.get(f"/maps/unit/{mapped.hamlets_a[0].id}?as_of=01/10/2025")
    assert response.status_code == 302
    assert response.headers["Location"] == (f"/maps/unit/{mapped.commune_a.id}?as_of=01/10/2025"
                                            f"&focus={mapped.hamlets_a[0].id}")
    _, html = page(client, response.headers["Location"])
    assert f'data-focus="{mapped.hamlets_a[0].id}"' in html


def test_a_unit_with_no_geometry_anywhere_says_so_and_still_counts(login_as, client, world):
    login_as("admin01")
    _, html = page(client, f"/maps/unit/{world.commune_c.id}")
    assert 'id="no-geometry"' in html and "chưa có ranh giới trên bản đồ" in html
    assert 'id="coverage-map"' not in html and "<script nonce" not in html  # no map is built
    assert re.search(r"Thôn/tổ dân phố đủ CTV</dt><dd>0/1</dd>", html)
    assert "Không có trên bản đồ: 1" in html and "Tổ dân phố 5" in html


def test_a_date_before_the_unit_existed_says_there_is_no_data(login_as, client, mapped):
    login_as("truongtram_a")
    _, html = page(client, f"/maps/unit/{mapped.commune_a.id}?as_of=01/01/2024")
    assert "chưa có hiệu lực vào ngày 01/01/2024" in html and 'id="coverage-map"' not in html


def test_a_past_date_is_kept_in_the_layer_and_the_links(login_as, client, mapped):
    login_as("truongtram_a")
    _, html = page(client, f"/maps/unit/{mapped.commune_a.id}?as_of=01/10/2025")
    assert "Dữ liệu quá khứ" in html and 'value="01/10/2025"' in html
    assert f'data-layer-url="/maps/layers/hamlets/{mapped.commune_a.id}.geojson?as_of=2025-10-01"' in html
    assert 'data-click="/units/123456789?as_of=2025-10-01"' in html


def test_an_unreadable_date_falls_back_to_today_and_says_so(login_as, client, mapped):
    login_as("truongtram_a")
    _, html = page(client, f"/maps/unit/{mapped.commune_a.id}?as_of=32/13/2025")
    assert "không hợp lệ" in html and f'value="{today():%d/%m/%Y}"' in html


def test_the_filter_counts_only_the_chosen_hamlets(login_as, client, mapped):
    login_as("ttyt689")
    _, html = page(client, f"/maps/centre/{mapped.centre.id}?flag=ethnic_minority")
    assert sum(c for c, _d in legend(html).values()) == 1  # Ấp Tân Lập
    assert f'data-layer-url="/maps/layers/centre/{mapped.centre.id}.geojson?flag=ethnic_minority"' in html
    assert '<option value="ethnic_minority" selected>' in html


# --- who lands where, who is refused ---------------------------------------------------------------


@pytest.mark.parametrize("username, lands_on", [
    ("ttyt689", lambda w: f"/maps/centre/{w.centre.id}"),
    ("truongtram_a", lambda w: f"/maps/unit/{w.commune_a.id}"),
    ("admin75", lambda w: f"/maps/unit/{w.dong_nai.id}"),
])
def test_landing_on_ones_own_area(login_as, client, world, username, lands_on):
    login_as(username)
    assert client.get("/maps/?as_of=01/10/2025").headers["Location"] == lands_on(world) + "?as_of=01/10/2025"


def test_a_user_over_two_provinces_sees_all_their_communes(login_as, client, world):
    user = factories.user(Role.VIEWER, unit=world.dong_nai, username="xem_hai_tinh")
    from danso_network.auth import services as auth_services

    auth_services.grant_role(user, Role.VIEWER, unit=world.hanoi, valid_from=date(2025, 1, 1))
    db.session.commit()
    login_as("xem_hai_tinh")
    _, html = page(client, "/maps/")
    assert "Bản đồ bao phủ CTV: Địa bàn của bạn" in html
    assert 'data-layer-url="/maps/layers/communes.geojson"' in html
    assert sum(c for c, _d in legend(html).values()) == 3  # A, B and Ba Đình
    assert "Không có trên bản đồ: 1" in html  # Ba Đình has no geometry


def test_a_user_granted_one_hamlet_is_told_why_there_is_no_map_and_sees_the_hamlet(login_as, client, world):
    from danso_network.auth import services as auth_services

    hamlet = world.hamlets_a[0]
    user = factories.UserFactory(username="xem_mot_thon")
    auth_services.grant_role(user, Role.VIEWER, unit=hamlet, valid_from=date(2025, 1, 1))
    db.session.commit()
    login_as("xem_mot_thon")
    response = client.get("/maps/", follow_redirects=True)
    assert response.status_code == 200 and response.request.path == f"/units/{hamlet.id}"
    assert "Bản đồ bao phủ được vẽ theo xã/phường" in response.get_data(as_text=True)
    assert client.get(f"/maps/unit/{world.commune_a.id}").status_code == 403  # the commune stays closed


def test_a_user_without_a_grant_has_no_map(login_as, client, world):
    login_as("chuacapquyen")
    assert client.get("/maps/").status_code == 403


@pytest.mark.parametrize("url", ["/maps/unit/{commune_b}", "/maps/unit/{hanoi}", "/maps/centre/{centre}",
                                 "/maps/unit/{hamlet_b}"])
def test_pages_out_of_scope_are_403(login_as, client, world, url):
    login_as("truongtram_a")
    url = url.format(commune_b=world.commune_b.id, province=world.dong_nai.id, hanoi=world.hanoi.id,
                     centre=world.centre.id, hamlet_b=world.hamlets_b[0].id)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", ["/maps/unit/987654", "/maps/centre/987654", "/maps/centre/{station}"])
def test_unknown_pages_are_404(login_as, client, world, url):
    login_as("admin75")
    assert client.get(url.format(station=world.station_a.id)).status_code == 404


def test_the_province_map_shows_the_part_of_the_province_in_ones_scope(app, login_as, client, mapped):
    login_as("truongtram_a")
    _, html = page(client, f"/maps/unit/{mapped.dong_nai.id}")
    assert 'id="partial-area"' in html and sum(c for c, _d in legend(html).values()) == 1  # commune A only
    layer = client.get(f"/maps/layers/communes/{mapped.dong_nai.id}.geojson").json
    assert [f["properties"]["id"] for f in layer["features"] if f["properties"]["kind"] == "commune"] == [
        mapped.commune_a.id]
    admin = app.test_client()
    assert login(admin, "admin75").status_code == 302  # the whole province is another layer
    layer = admin.get(f"/maps/layers/communes/{mapped.dong_nai.id}.geojson").json
    assert len([f for f in layer["features"] if f["properties"]["kind"] == "commune"]) == 2


# --- what the page loads ---------------------------------------------------------------------------


def test_every_inline_script_and_style_carries_the_nonce(login_as, client, mapped):
    """Twice: the second page is drawn from the map shell kept after the first (render.py), and
    still carries its own request's nonce."""
    login_as("ttyt689")
    nonces = set()
    for _time in range(2):
        response, html = page(client, f"/maps/centre/{mapped.centre.id}")
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
        inline = re.findall(r"<(script|style)(\s[^>]*)?>", html)
        inline = [(tag, attrs or "") for tag, attrs in inline if "src=" not in (attrs or "")]
        assert len(inline) >= 3  # folium's style, its map script, and ours
        assert all(f'nonce="{nonce}"' in attrs for _tag, attrs in inline), inline
        nonces.add(nonce)
    assert len(nonces) == 2
    assert ' style="' not in html  # style attributes are refused by the policy
    assert "html, body" not in html and "<meta name=\"viewport\" content=\"width=device-width,\n" not in html


def test_leaflet_and_jquery_come_from_the_app(login_as, client, mapped):
    login_as("truongtram_a")
    _, html = page(client, f"/maps/unit/{mapped.commune_a.id}")
    assert re.search(r'<script[^>]* src="/maps/assets/leaflet.js\?v=[^"]+"></script>', html)
    assert re.search(r'<script[^>]* src="/maps/assets/jquery.js\?v=[^"]+"></script>', html)
    assert re.search(r'<link rel="stylesheet" href="/maps/assets/leaflet.css\?v=[^"]+"/>', html)
    js = client.get("/maps/assets/leaflet.js")
    assert js.status_code == 200 and js.get_data() == ASSET_FILES["leaflet.js"].read_bytes()
    assert client.get("/maps/assets/jquery.js").get_data() == ASSET_FILES["jquery.js"].read_bytes()
    css = client.get("/maps/assets/leaflet.css").get_data(as_text=True)
    assert ".leaflet-container" in css and "url(images/" not in css and "url(data:image/png;base64," in css


def test_no_address_outside_the_app_with_tiles_none(app, login_as, client, mapped, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILES", "none")
    login_as("admin75")
    for url in (f"/maps/unit/{mapped.dong_nai.id}", f"/maps/unit/{mapped.commune_a.id}",
                f"/maps/centre/{mapped.centre.id}", "/maps/"):
        _, html = page(client, client.get(url).headers.get("Location") or url)
        assert URL.findall(html) == [], url
        assert "L.tileLayer" not in html


def test_with_osm_tiles_the_only_outside_address_is_the_tile_server(app, login_as, client, mapped, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILES", "osm")
    login_as("truongtram_a")
    _, html = page(client, f"/maps/unit/{mapped.commune_a.id}")
    assert "L.tileLayer" in html
    outside = set(URL.findall(html))
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in outside
    assert all(u.startswith(("https://tile.openstreetmap.org/", "https://www.openstreetmap.org/copyright"))
               for u in outside), outside
