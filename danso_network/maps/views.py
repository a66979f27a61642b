"""Coverage map pages and their GeoJSON layers (issue #10 items 2, 3, 5).

Pages: a commune (hamlets by status), a health centre (the hamlets of its communes), a province
(communes by % covered, each a click away from its own map) and ``/maps/`` (the user's own area).
Each page loads its unit or centre through ``load_or_404`` (404 unknown, 403 out of scope), and
so does every layer endpoint. ``?format=html`` exports the map as one standalone file,
``?format=svg`` / ``?format=pdf`` a snapshot for meetings.

Layers answer gzip-compressed when the client accepts it, with an ETag derived from the layer's
key and the data version, so a repeat request is a 304 and a changed network a new layer
(``services.cached_layer``).
"""

from __future__ import annotations

import gzip
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.permissions import can_view_unit, landing_of, scope_of
from ..common.clock import now, today
from ..common.params import choice_arg, date_arg, int_arg, parse_date
from ..common.views import load_or_404
from ..security import csp_nonce
from ..units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from . import render, services
from .permissions import can_view_centre_map, can_view_unit_map, visible_area

bp = Blueprint("maps", __name__, url_prefix="/maps")

GEOJSON = "application/geo+json"
EXPORTS = ("html", "svg", "pdf", "thumb")
PLACEHOLDER_ID = 123456789  # replaced by each feature's id in static/maps.js


# --- the app's own copies of Leaflet and jQuery (xstatic packages) ------------------------------


def _asset(name: str, mimetype: str):
    if name == "leaflet.css":  # images inlined (render.leaflet_css)
        response = Response(render.leaflet_css(), mimetype=mimetype)
        response.set_etag(render.ASSET_VERSION)
        response = response.make_conditional(request)
    else:
        response = send_file(render.ASSET_FILES[name], mimetype=mimetype, max_age=86400, conditional=True)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.get("/assets/leaflet.js")
@login_required
def leaflet_js():
    return _asset("leaflet.js", "text/javascript")


@bp.get("/assets/leaflet.css")
@login_required
def leaflet_css():
    return _asset("leaflet.css", "text/css")


@bp.get("/assets/jquery.js")
@login_required
def jquery_js():
    return _asset("jquery.js", "text/javascript")


# --- loading ------------------------------------------------------------------------------------


def _unit_or_404(unit_id: int, level: UnitLevel | None = None, need=can_view_unit) -> AdminUnit:
    return load_or_404(AdminUnit, unit_id, need, where=None if level is None else lambda u: u.level == level)


def _centre_or_404(facility_id: int) -> Facility:
    return load_or_404(Facility, facility_id, can_view_centre_map,
                       where=lambda f: f.kind == FacilityKind.HEALTH_CENTRE.value)


def _flag() -> str | None:
    return choice_arg("flag", services.FLAGS)


def _keep(on: date, flag: str | None) -> dict:
    """The query string that keeps the date and the filter across links."""
    args = {} if on == today() else {"as_of": on.isoformat()}
    if flag:
        args["flag"] = flag
    return args


# --- pages --------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    """The user's own area: their one centre or unit, else every commune of their scope."""
    landing = landing_of(current_user)
    args = request.args.to_dict()
    if landing.only_centre is not None:
        return redirect(url_for(".centre", facility_id=landing.only_centre.id, **args))
    if landing.only_unit is not None:
        return redirect(url_for(".unit", unit_id=landing.only_unit.id, **args))
    prefixes = scope_of(current_user).prefixes
    if not prefixes:
        abort(403)
    area = services.scope_area(prefixes, _("Địa bàn của bạn"))
    return _page(area, "scope_layer", {})


@bp.get("/unit/<int:unit_id>")
@login_required
def unit(unit_id: int):
    found = _unit_or_404(unit_id, need=can_view_unit_map)
    if found.level == UnitLevel.PROVINCE:
        area = services.province_area(found, visible_area(current_user, found))
        return _page(area, "province_layer", {"province_id": found.id})
    if not can_view_unit(current_user, found):
        abort(403)
    if found.level == UnitLevel.HAMLET:
        if not can_view_unit(current_user, found.parent):
            # Maps are drawn per commune; a grant on one hamlet does not open its neighbours.
            flash(_("Bản đồ bao phủ được vẽ theo xã/phường, mà bạn chỉ được xem %(h)s: số liệu của thôn ở trang này.",
                    h=found.full_name), "warning")
            return redirect(url_for("units.show", unit_id=found.id))
        return redirect(url_for(".unit", unit_id=found.parent_id, **{**request.args.to_dict(), "focus": found.id}))
    if found.level == UnitLevel.COMMUNE:
        return _page(services.commune_area(found), "hamlet_layer", {"commune_id": found.id})
    abort(404)  # a pre-2025 district: no map


@bp.get("/centre/<int:facility_id>")
@login_required
def centre(facility_id: int):
    found = _centre_or_404(facility_id)
    on = date_arg("as_of")
    return _page(services.centre_area(found, on), "centre_layer", {"facility_id": found.id}, on=on)


def _page(area: services.MapArea, layer_endpoint: str, layer_args: dict, on: date | None = None):
    on = on or date_arg("as_of")
    flag = _flag()
    fmt = choice_arg("format", EXPORTS)
    if fmt == "thumb":
        return _thumbnail(area, on, flag)
    figures = services.figures(area, on, flag)
    if fmt in ("svg", "pdf"):
        return _snapshot(area, on, flag, figures.legend, fmt)
    not_in_force = services.unit_not_in_force(area, on)
    bounds = None if not_in_force else services.bounds(area, on)
    context = dict(area=area, on=on, flag=flag, is_today=on == today(), legend=figures.legend,
                   off_map=figures.off_map, totals=figures.totals, synthetic=figures.synthetic,
                   not_in_force=not_in_force, bounds=bounds, attribution=services.attribution(),
                   keep=_keep(on, flag), focus=int_arg("focus"), flag_labels=services.FLAG_LABELS,
                   pdf_available=render.pdf_available(), colours={i.key: i.colour for i in figures.legend},
                   labels=_labels(figures.legend), exported_at=now(),
                   layer_url=url_for(f".{layer_endpoint}", **layer_args, **_keep(on, flag)),
                   click_url=_click_url(area, on, flag),
                   exports={f: url_for(request.endpoint, **(request.view_args or {}), **_keep(on, flag), format=f)
                            for f in ("html", "svg", "pdf")})
    if fmt == "html":
        return _export_html(area, on, flag, context)
    shell = _shell(area, bounds, nonce=csp_nonce(), inline=False) if bounds else None
    return render_template("maps/show.html", shell=shell, **context)  # nosec B604 # "shell" is the map shell, no command


def _labels(legend) -> dict:
    """What ``static/maps.js`` writes in tooltips, translated here."""
    return {"status": {item.key: item.label for item in legend}, "households": _("Số hộ"),
            "active": _("CTV đang hoạt động"), "quota": _("Định mức CTV"), "unknown_quota": _("chưa rõ (tỉnh chưa có "
            "tiêu chuẩn)"), "synthetic": _("Dữ liệu minh hoạ"), "pct": _("Thôn đủ CTV"),
            "vacancies": _("Thôn chưa có CTV"), "station": _("Trạm y tế xã/phường"),
            "open_unit": _("Bấm để mở trang thôn/tổ dân phố"), "open_map": _("Bấm để xem bản đồ của xã/phường"),
            "loading": _("Đang tải bản đồ…"), "error": _("Không tải được lớp bản đồ. Hãy tải lại trang.")}


def _click_url(area: services.MapArea, on: date, flag: str | None) -> str:
    """Where a click on a feature leads (``123456789`` stands for its id): a hamlet's page, or
    a commune's own map from the province and national maps."""
    if area.grain == "hamlet":
        return url_for("units.show", unit_id=PLACEHOLDER_ID, **({} if on == today() else {"as_of": on.isoformat()}))
    return url_for(".unit", unit_id=PLACEHOLDER_ID, **_keep(on, flag))


def _groups(area: services.MapArea) -> dict[str, str]:
    groups = {"area": _("Thôn/tổ dân phố theo tình trạng") if area.grain == "hamlet"
              else _("Xã/phường theo tỉ lệ thôn đủ CTV")}
    if area.grain == "hamlet":
        groups["boundary"] = _("Ranh giới xã/phường")
    if area.with_stations:
        groups["station"] = _("Trạm y tế xã/phường")
    return groups


def _shell(area: services.MapArea, bounds, *, nonce: str | None, inline: bool) -> render.Shell:
    js, css = [], []
    if not inline:
        js = [("leaflet", url_for(".leaflet_js", v=render.ASSET_VERSION)),
              ("jquery", url_for(".jquery_js", v=render.ASSET_VERSION))]
        css = [("leaflet_css", url_for(".leaflet_css", v=render.ASSET_VERSION))]
    return render.build_shell(bounds=bounds, tiles=current_app.config.get("MAP_TILES"),
                              tiles_label=_("Bản đồ nền"), groups=_groups(area), nonce=nonce, js=js, css=css)


def _download_name(area: services.MapArea, on: date, extension: str) -> str:
    ident = area.unit.id if area.unit else (area.facility.id if area.facility else "khu-vuc")
    return f"ban-do-bao-phu-{area.kind}-{ident}-{on.isoformat()}.{extension}"


def _export_html(area: services.MapArea, on: date, flag: str | None, context: dict):
    """One HTML file that opens offline: Leaflet, the map script and the layer inlined."""
    layer = services.build_layer(area, on, flag) if context["bounds"] else None
    shell = _shell(area, context["bounds"], nonce=csp_nonce(), inline=True) if context["bounds"] else None
    # Bandit B604 below (shell=True): "shell" is the folium map shell passed to the template; no command runs.
    page = render_template("maps/export.html", shell=shell, layer=render.json_for_script(layer) if layer else None,  # nosec B604
                           leaflet_js=render.inline("leaflet.js"), leaflet_css=render.inline("leaflet.css"),
                           maps_js=render.inline("maps.js"), maps_css=render.inline("maps.css"),
                           **context)
    response = Response(page, mimetype="text/html")
    response.headers["Content-Disposition"] = f'attachment; filename="{_download_name(area, on, "html")}"'
    return response


def _snapshot(area: services.MapArea, on: date, flag: str | None, legend, fmt: str):
    if fmt == "pdf" and not render.pdf_available():
        return Response(_("Chưa cài WeasyPrint trên máy chủ nên chưa xuất được PDF; hãy dùng ảnh SVG (in được từ "
                          "trình duyệt)."), status=501, mimetype="text/plain")
    title = _("Bản đồ bao phủ CTV dân số: %(name)s", name=area.title)
    subtitle = _("Số liệu tại ngày %(d)s", d=on.strftime("%d/%m/%Y"))
    if flag:
        subtitle += " · " + str(services.FLAG_LABELS[flag])
    svg = render.snapshot_svg(
        title=title, subtitle=subtitle, shapes=render.shapes_from_wkb(services.snapshot_shapes(area, on, flag)),
        legend=[(item.colour, item.label, item.count) for item in legend],
        notes=[_("Không có trên bản đồ: %(n)s", n=off) for off in [sum(i.count - i.drawn for i in legend)] if off],
        attribution=services.attribution(),
        legend_title=_("Tình trạng thôn/tổ dân phố") if area.grain == "hamlet" else _("Tỉ lệ thôn đủ CTV"))
    if fmt == "svg":
        body, mimetype = svg, "image/svg+xml"
    else:
        body, mimetype = render.snapshot_pdf(svg, title), "application/pdf"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{_download_name(area, on, fmt)}"'
    return response


def _thumbnail(area: services.MapArea, on: date, flag: str | None) -> Response:
    """A small picture of the map (the centre officer's home page), kept like a layer."""
    return cached_response(f"thumb-{area.kind}", area.ident, on, flag, "image/svg+xml", lambda: render.thumbnail_svg(
        render.shapes_from_wkb(services.snapshot_shapes(area, on, flag, outlines=False))))


@bp.app_context_processor
def map_helpers():
    """For links to maps on other pages (home, roster): who may open which map."""
    return {"can_view_centre_map": can_view_centre_map, "can_view_unit_map": can_view_unit_map}


# --- layers -------------------------------------------------------------------------------------


class BadLayerRequest(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def layer_day(area_unit: AdminUnit | None = None) -> date:
    """The strict ``as_of`` of a layer (dd/mm/yyyy or ISO; default today): unreadable, or a day
    on which the unit was not in force, is a :class:`BadLayerRequest`."""
    raw = request.args.get("as_of", "").strip()
    if not raw:
        on = today()
    else:
        try:
            on = parse_date(raw)
        except ValueError:
            raise BadLayerRequest(_("Ngày “%(v)s” không hợp lệ: dùng ngày/tháng/năm (ví dụ 07/12/2026) hoặc "
                                    "YYYY-MM-DD.", v=raw[:30])) from None
    if area_unit is not None and not area_unit.valid_on(on):
        if on < area_unit.valid_from:
            raise BadLayerRequest(_("%(u)s chưa có hiệu lực vào ngày %(d)s (có hiệu lực từ %(f)s): chưa có dữ liệu.",
                                    u=area_unit.full_name, d=on.strftime("%d/%m/%Y"),
                                    f=area_unit.valid_from.strftime("%d/%m/%Y")))
        raise BadLayerRequest(_("%(u)s đã hết hiệu lực từ %(t)s.", u=area_unit.full_name,
                                t=area_unit.valid_to.strftime("%d/%m/%Y")))
    return on


@bp.errorhandler(BadLayerRequest)
def bad_layer_request(error: BadLayerRequest):
    return jsonify(error=error.message, status=400), 400


def cached_response(name: str, ident, on: date, flag: str | None, mimetype: str, build) -> Response:
    """The kept (or newly built) text ``build()`` of ``name`` for ``ident`` on ``on``: 304 when
    the client holds the current version, gzip-compressed when the client accepts it, with an
    ETag derived from the key and the data version (``services.cached_layer``)."""
    version = services.data_version()
    key = services.layer_key(name, ident, on, flag)
    etag = services.etag_for(key, version)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        compressed = services.cached_layer(key, version, build)
        if request.accept_encodings["gzip"]:
            response = Response(compressed, mimetype=mimetype)
            response.headers["Content-Encoding"] = "gzip"
        else:
            response = Response(gzip.decompress(compressed), mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "private, no-cache"  # kept by the browser, revalidated each time
    return response


def geojson_response(name: str, ident, on: date, flag: str | None, area_of) -> Response:
    """The layer ``name`` of ``ident`` on ``on`` (:func:`cached_response`); ``area_of()`` gives
    the :class:`~.services.MapArea`, only called when the layer must be built."""
    return cached_response(name, ident, on, flag, GEOJSON, lambda: services.build_layer(area_of(), on, flag))


@bp.get("/layers/hamlets/<int:commune_id>.geojson")
@login_required
def hamlet_layer(commune_id: int):
    commune = _unit_or_404(commune_id, UnitLevel.COMMUNE)
    on = layer_day(commune)
    return geojson_response("hamlets", commune.id, on, _flag(), lambda: services.commune_area(commune))


@bp.get("/layers/centre/<int:facility_id>.geojson")
@login_required
def centre_layer(facility_id: int):
    found = _centre_or_404(facility_id)
    on = layer_day()
    return geojson_response("centre", found.id, on, _flag(), lambda: services.centre_area(found, on))


@bp.get("/layers/communes/<int:province_id>.geojson")
@login_required
def province_layer(province_id: int):
    province = _unit_or_404(province_id, UnitLevel.PROVINCE, need=can_view_unit_map)
    area = services.province_area(province, visible_area(current_user, province))
    on = layer_day(province)
    return geojson_response("communes", area.ident, on, _flag(), lambda: area)


@bp.get("/layers/communes.geojson")
@login_required
def scope_layer():
    prefixes = tuple(sorted(scope_of(current_user).prefixes))
    if not prefixes:
        abort(403)
    on = layer_day()
    return geojson_response("scope", prefixes, on, _flag(), lambda: services.scope_area(prefixes, ""))
