"""Map export (issue #10 item 5): a standalone HTML file with everything inlined, and an SVG (or,
with WeasyPrint, PDF) snapshot with title, date, legend and attribution."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree

from danso_network.maps.render import leaflet_js, pdf_available

# Addresses a browser would fetch: attributes, CSS url(), fetch().
FETCHED = re.compile(r"""(?:\b(?:src|href|action)\s*=\s*["']?|url\(\s*["']?|fetch\(\s*["'])(https?:)?//""", re.I)


def export(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response, response.get_data(as_text=True)


def test_html_export_opens_on_its_own(app, login_as, client, mapped, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILES", "none")
    login_as("ttyt689")
    response, html = export(client, f"/maps/centre/{mapped.centre.id}?format=html&flag=difficult")
    assert response.mimetype == "text/html"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=\"ban-do-bao-phu-centre-")
    assert leaflet_js() in html and "L.geoJSON" in html  # Leaflet and static/maps.js, inlined as they are
    assert "<link" not in html and not re.search(r"<script[^>]*\ssrc=", html)
    # Leaflet's own source names its web site in the attribution prefix, which static/maps.js
    # replaces; nothing else may point outside (the browser test opens the file offline).
    assert FETCHED.findall(html.replace(leaflet_js(), "")) == []
    assert "sourceMappingURL" not in html
    layer = json.loads(re.search(r'<script type="application/json" id="map-layer">(.*?)</script>', html, re.S).group(1))
    assert [f["properties"]["name"] for f in layer["features"] if f["properties"]["kind"] == "hamlet"] == ["Ấp Tân Lập"]
    assert "Chỉ thôn đặc biệt khó khăn" in html and "Ranh giới hành chính: Bản đồ ĐVHC" in html
    assert 'data-click' not in html and "/units/" not in html  # no way back into the app from a file


def test_html_export_with_osm_tiles_fetches_only_tiles(app, login_as, client, mapped, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILES", "osm")
    login_as("truongtram_a")
    _, html = export(client, f"/maps/unit/{mapped.commune_a.id}?format=html")
    # The tile template is in the map's script, not an attribute.
    assert FETCHED.findall(html.replace(leaflet_js(), "")) == []
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in html


def test_html_export_of_a_unit_without_geometry_still_has_the_figures(login_as, client, world):
    login_as("admin01")
    _, html = export(client, f"/maps/unit/{world.commune_c.id}?format=html")
    assert "chưa có ranh giới trên bản đồ" in html and "Không có trên bản đồ: 1" in html
    assert "L.geoJSON" not in html


def test_svg_snapshot_has_title_date_legend_attribution_and_every_shape(login_as, client, mapped):
    login_as("ttyt689")
    response, svg = export(client, f"/maps/centre/{mapped.centre.id}?format=svg&as_of=01/10/2025")
    assert response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in root.iter(ns + "text")]
    assert "Bản đồ bao phủ CTV dân số: Trung tâm Y tế khu vực Đồng Xoài" in texts
    assert "Số liệu tại ngày 01/10/2025" in texts
    assert any(t.startswith("Chưa có CTV: ") for t in texts)
    assert "Không có trên bản đồ: 1" in texts  # Khu phố 2
    assert any(t.startswith("Ranh giới hành chính") for t in texts)
    paths = list(root.iter(ns + "path"))
    assert len([p for p in paths if p.get("fill") != "none"]) == 3  # the hamlets with geometry
    assert len([p for p in paths if p.get("fill") == "none"]) == 2  # the two communes' outlines


def test_pdf_snapshot_for_meetings(login_as, client, mapped):
    """WeasyPrint is a dependency (DESIGN.md §8): the PDF is always offered and made."""
    assert pdf_available()
    login_as("truongtram_a")
    html = client.get(f"/maps/unit/{mapped.commune_a.id}").get_data(as_text=True)
    assert "format=pdf" in html
    response = client.get(f"/maps/unit/{mapped.commune_a.id}?format=pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF")


def test_the_pdf_snapshot_fetches_nothing(tmp_path):
    """The snapshot's page is the app's own SVG, but its printer refuses every URL all the same
    (docs/security.md): a picture named by a file: address is left out, not embedded."""
    from PIL import Image

    from danso_network.maps.render import snapshot_pdf

    picture = tmp_path / "secret.png"
    Image.new("RGB", (10, 10), "red").save(picture)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
           f'<image href="{picture.as_uri()}" width="100" height="100"/></svg>')
    data = snapshot_pdf(svg, "Bản đồ")
    assert data.startswith(b"%PDF") and b"/Image" not in data
