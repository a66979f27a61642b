"""Map renderers: the folium shell of a map page, the standalone HTML export and the SVG/PDF
snapshot for meetings. They take plain values and return strings; no session, no request.

The shell (DESIGN.md §7): folium builds the Leaflet map — tiles per ``DANSO_MAP_TILES``
(none: no tile layer at all), the canvas renderer, the fitted extent, one feature group per layer
and the layer control — and ``static/maps.js`` fetches the layer's GeoJSON and draws it into
those groups. Leaflet and jQuery come from the xstatic packages, served by the app: folium's
``default_js``/``default_css`` lists (CDN addresses) are replaced on each map. folium writes
inline ``<script>`` and ``<style>``; the Content-Security-Policy (``security.py``) runs them only
with this request's nonce, which :func:`_with_nonce` adds to every one.
"""

from __future__ import annotations

import base64
import functools
import html
import importlib.util
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import folium
import shapely
from markupsafe import Markup
from shapely.geometry import MultiPolygon, Polygon
from xstatic.pkg import jquery as xjquery
from xstatic.pkg import leaflet as xleaflet

STATIC = Path(__file__).resolve().parent.parent / "static"
LEAFLET_DIR = Path(xleaflet.BASE_DIR)
JQUERY_DIR = Path(xjquery.BASE_DIR)
ASSET_FILES = {
    "leaflet.js": LEAFLET_DIR / "leaflet.js",
    "leaflet.css": LEAFLET_DIR / "leaflet.css",
    "jquery.js": JQUERY_DIR / "jquery.min.js",
}
ASSET_VERSION = f"{xleaflet.VERSION}-{xjquery.VERSION}"


# --- assets ---------------------------------------------------------------------------------------


def _data_uri(path: Path, mimetype: str = "image/png") -> str:
    return f"data:{mimetype};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@functools.cache
def leaflet_css() -> str:
    """Leaflet's stylesheet with its images (layer-control icon, default marker) inlined as
    ``data:`` URIs, so the same text serves the pages and the offline export."""
    text = ASSET_FILES["leaflet.css"].read_text(encoding="utf-8")
    return re.sub(r"url\((images/[a-z0-9-]+\.png)\)",
                  lambda m: f"url({_data_uri(LEAFLET_DIR / m.group(1))})", text)


@functools.cache
def leaflet_js() -> str:
    """Leaflet without its source-map comment (nothing to fetch from a file opened offline)."""
    return re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", ASSET_FILES["leaflet.js"].read_text(encoding="utf-8"))


@functools.cache
def static_text(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def inline(name: str) -> Markup:
    """A script or stylesheet to write inside ``<script>``/``<style>`` of the export: Leaflet's
    own files or ours, trusted text, checked to hold nothing that would close the element."""
    text = {"leaflet.js": leaflet_js, "leaflet.css": leaflet_css}.get(name, lambda: static_text(name))()
    if re.search(r"</(script|style)", text, re.IGNORECASE):
        raise ValueError(f"{name} cannot be inlined: it closes its element")
    return Markup(text)  # nosec B704 # the app's own asset files, checked just above


def pdf_available() -> bool:
    """WeasyPrint (DESIGN.md §8) renders the PDF snapshot; without it, only the SVG is offered."""
    return importlib.util.find_spec("weasyprint") is not None


# --- the folium shell ---------------------------------------------------------------------------

_TAG = re.compile(r"<(script|style)(?=[\s>])", re.IGNORECASE)
_META = re.compile(r"<meta\b[^>]*>", re.IGNORECASE | re.DOTALL)
# folium's full-window page rules (``html, body`` at 100 %, ``#map`` absolute): our pages have
# their own layout; the map's own rule (``#map_<id>``) is kept.
_PAGE_RULES = re.compile(r"<style>\s*(?:html,\s*body|#map)\s*\{[^}]*\}\s*</style>", re.IGNORECASE)


def _with_nonce(markup: str, nonce: str | None) -> str:
    if not nonce:
        return markup
    return _TAG.sub(lambda m: f'<{m.group(1)} nonce="{html.escape(nonce)}"', markup)


@dataclass(frozen=True)
class Shell:
    """The pieces of a folium map for a page of our own: ``head`` (links and the map's style),
    ``body`` (the map's element), ``script`` (the inline script that builds the map), and the
    JavaScript names ``static/maps.js`` finds the map and its feature groups by."""

    head: Markup
    body: Markup
    script: Markup
    map_name: str
    groups: dict[str, str]


@functools.cache
def _openstreetmap() -> tuple[str, str, int]:
    """folium's OpenStreetMap layer (URL, attribution, zoom): looked up by name once, not on
    every page (xyzservices' look-up took a tenth of a map page's time)."""
    layer = folium.TileLayer("OpenStreetMap")
    return layer.tiles, layer.options["attribution"], layer.options["max_zoom"]


def tile_layer(setting: str | None, label: str) -> folium.TileLayer | None:
    """The base map per ``DANSO_MAP_TILES``: OpenStreetMap, a tile URL template, or none."""
    value = str(setting or "none").strip()
    if value.lower() == "none":
        return None
    if value.lower() == "osm":
        tiles, attribution, max_zoom = _openstreetmap()
        return folium.TileLayer(tiles=tiles, attr=attribution, name=label, max_zoom=max_zoom, max_native_zoom=max_zoom)
    return folium.TileLayer(tiles=value, attr=urlsplit(value).netloc, name=label)


def build_shell(*, bounds: Sequence[Sequence[float]], tiles: str | None, tiles_label: str,
                groups: dict[str, str], nonce: str | None, js: Iterable[tuple[str, str]] = (),
                css: Iterable[tuple[str, str]] = ()) -> Shell:
    """A folium map fitted to ``bounds`` (``[[south, west], [north, east]]``) with one feature
    group per entry of ``groups`` (key → name shown in the layer control). ``js``/``css`` are the
    (name, URL) pairs to load instead of folium's CDN defaults (empty: the caller inlines them)."""
    head, body, script, map_name, names = _shell_text(
        tuple(tuple(float(v) for v in corner) for corner in bounds), tiles, tiles_label, tuple(groups.items()),
        tuple(js), tuple(css))
    # Bandit B704 (Markup) below: folium's own HTML and script, built from the app's labels, the
    # bounds (numbers) and the tiles setting; no user-entered text goes into the shell.
    return Shell(head=Markup(_with_nonce(head, nonce)), body=Markup(body),  # nosec B704
                 script=Markup(_with_nonce(f"<script>{script}</script>", nonce)), map_name=map_name,  # nosec B704
                 groups=dict(names))


@functools.lru_cache(maxsize=256)
def _shell_text(bounds: tuple, tiles: str | None, tiles_label: str, groups: tuple, js: tuple,
                css: tuple) -> tuple[str, str, str, str, tuple]:
    """The shell's head, body and script as text, its map's and groups' JavaScript names: kept
    per process for the same arguments (a map's shell depends on no figure, only on its extent,
    the tiles setting and the labels; folium took a sixth of a map page's time to write it)."""
    (south, west), (north, east) = bounds
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=10, tiles=None,
                   prefer_canvas=True, control_scale=True, zoom_snap=0.25, zoom_delta=0.5)
    m.default_js = list(js)  # per map: never the class lists (folium's CDNs)
    m.default_css = list(css)
    base = tile_layer(tiles, tiles_label)
    if base is not None:
        base.add_to(m)
    names = {}
    for key, label in groups:
        group = folium.FeatureGroup(name=label, show=True)
        group.add_to(m)
        names[key] = group.get_name()
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    m.fit_bounds([[south, west], [north, east]], padding=(8, 8))
    figure = m.get_root()
    figure.header._children.pop("meta_http", None)
    figure.render()
    head = _PAGE_RULES.sub("", _META.sub("", figure.header.render()))
    return head, figure.html.render(), figure.script.render(), m.get_name(), tuple(names.items())


def json_for_script(text: str) -> Markup:
    """JSON text safe inside ``<script type="application/json">`` (no ``</script>`` can close it)."""
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))  # nosec B704 # escaped here


# --- the snapshot (SVG, and PDF when WeasyPrint is installed) -----------------------------------

SNAPSHOT_WIDTH = 1100
MAP_BOX = 760  # the map's side, in SVG units
LEGEND_X = MAP_BOX + 40


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    lat = max(min(lat, 85.0), -85.0)
    return math.radians(lon), math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _rings(geom) -> list:
    polygons = geom.geoms if isinstance(geom, MultiPolygon) else [geom] if isinstance(geom, Polygon) else []
    rings = []
    for polygon in polygons:
        rings.append(polygon.exterior.coords)
        rings.extend(i.coords for i in polygon.interiors)
    return rings


@dataclass(frozen=True)
class SnapshotShape:
    geom: object  # a shapely geometry in longitude/latitude
    fill: str | None  # None: outline only
    label: str = ""


def _project(shapes: list[SnapshotShape]) -> list[tuple[SnapshotShape, list]]:
    projected = []
    for shape in shapes:
        rings = [[_mercator(x, y) for x, y, *_ in ring] for ring in _rings(shape.geom)]
        if rings:
            projected.append((shape, rings))
    return projected


def _paths(projected, side: float, left: float, top: float, *, titles: bool = True) -> tuple[list[str], float]:
    """SVG paths of the projected shapes fitted into a ``side`` × ``side`` box at (left, top),
    and the drawing's height."""
    xs = [x for _, rings in projected for ring in rings for x, _y in ring]
    ys = [y for _, rings in projected for ring in rings for _x, y in ring]
    if not xs:
        return [], 0.0
    esc = html.escape
    minx, maxx, miny, maxy = min(xs), max(xs), min(ys), max(ys)
    scale = side / max(maxx - minx, maxy - miny, 1e-9)
    left += (side - (maxx - minx) * scale) / 2
    parts = []
    for shape, rings in projected:
        d = " ".join("M" + " L".join(f"{left + (x - minx) * scale:.1f},{top + (maxy - y) * scale:.1f}"
                                     for x, y in ring) + " Z" for ring in rings)
        if shape.fill:
            title = f"<title>{esc(shape.label)}</title>" if titles else ""
            parts.append(f'<path d="{d}" fill="{esc(shape.fill)}" fill-opacity="0.85" stroke="#ffffff" '
                         f'stroke-width="0.6" fill-rule="evenodd">{title}</path>')
        else:
            parts.append(f'<path d="{d}" fill="none" stroke="#333333" stroke-width="1.4"/>')
    return parts, (maxy - miny) * scale


def snapshot_svg(*, title: str, subtitle: str, shapes: list[SnapshotShape], legend: list[tuple[str, str, int]],
                 notes: list[str], attribution: str, legend_title: str) -> str:
    """The choropleth drawn server-side as SVG (Web Mercator), with title, date, legend (colour,
    label, count) and attribution: a picture for meetings that needs nothing but a browser or a
    printer."""
    esc = html.escape
    top = 90
    parts, map_height = _paths(_project(shapes), MAP_BOX, 20, top)
    height = max(top + (map_height or MAP_BOX) + 60, top + 60 + 28 * (len(legend) + len(notes) + 2))
    y = top + 10
    legend_parts = [f'<text x="{LEGEND_X}" y="{y}" font-size="15" font-weight="bold">{esc(legend_title)}</text>']
    for colour, label, count in legend:
        y += 28
        legend_parts.append(f'<rect x="{LEGEND_X}" y="{y - 14}" width="18" height="18" fill="{esc(colour)}" '
                            f'stroke="#555555" stroke-width="0.5"/>'
                            f'<text x="{LEGEND_X + 26}" y="{y}" font-size="14">{esc(label)}: {count}</text>')
    y += 14
    for note in notes:
        y += 24
        legend_parts.append(f'<text x="{LEGEND_X}" y="{y}" font-size="13" fill="#333333">{esc(note)}</text>')
    height = max(height, y + 60)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SNAPSHOT_WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {SNAPSHOT_WIDTH} {height:.0f}" font-family="DejaVu Sans, Arial, sans-serif">'
        f'<rect width="100%" height="100%" fill="#ffffff"/>'
        f'<text x="20" y="36" font-size="22" font-weight="bold">{esc(title)}</text>'
        f'<text x="20" y="64" font-size="15" fill="#333333">{esc(subtitle)}</text>'
        + "".join(parts) + "".join(legend_parts)
        + f'<text x="20" y="{height - 20:.0f}" font-size="11" fill="#555555">{esc(attribution)}</text></svg>'
    )


def thumbnail_svg(shapes: list[SnapshotShape], side: int = 240) -> str:
    """The choropleth alone, small (a home page's picture of its map)."""
    parts, height = _paths(_project(shapes), side, 0, 0, titles=False)
    height = max(height, 1.0)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{height:.0f}" '
            f'viewBox="0 0 {side} {height:.0f}">' + "".join(parts) + "</svg>")


def snapshot_pdf(svg: str, title: str) -> bytes:
    """The SVG on one landscape A4 page (WeasyPrint, fetching no URL: the SVG is the app's own and
    names none, and a mistake that put one in would still fetch nothing)."""
    from weasyprint import HTML

    from ..exports.pdf import refusing_fetcher

    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<style>@page { size: A4 landscape; margin: 10mm } svg { width: 100%; height: auto }</style>"
            f"</head><body>{svg}</body></html>")
    return HTML(string=page, url_fetcher=refusing_fetcher()).write_pdf()


def shapes_from_wkb(items: Iterable[tuple[bytes, str | None, str]]) -> list[SnapshotShape]:
    """(simplified WKB, fill or None, label) → shapes for :func:`snapshot_svg`."""
    return [SnapshotShape(shapely.from_wkb(wkb), fill, label) for wkb, fill, label in items if wkb is not None]
