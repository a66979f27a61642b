"""The coverage-map layers in the JSON API (issue #10 item 6): the same GeoJSON the map pages
draw (``maps.services.build_layer``), with a bearer token instead of the session.

Registered on the API blueprint (tokens, CSRF exemption, JSON errors). Scope as on the pages: a
commune's layer needs the whole commune in the caller's scope, a province's layer holds the part
of the province in it, a centre's layer needs every commune it serves; 404 unknown, 403 out of
scope. ``as_of`` is an ISO date (422 otherwise, as
everywhere in the API); a day on which the unit was not in force is a 422 that says from when
there is data. Answers carry an ETag (304 on ``If-None-Match``) and are gzip-compressed when
the client accepts it.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from ..auth.permissions import can_view_unit, scope_of
from ..common.clock import today
from ..common.views import load_or_404
from ..errors import PermissionDenied, ValidationFailed
from ..maps import services as maps
from ..maps.permissions import can_view_centre_map, can_view_unit_map, visible_area
from ..maps.views import geojson_response
from ..units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from . import auth, schemas
from .views import actor, bp


def _unit(unit_id: int, level: UnitLevel, missing, need=can_view_unit) -> AdminUnit:
    return load_or_404(AdminUnit, unit_id, need, user=actor(), missing=missing,
                       denied=_l("Đơn vị này nằm ngoài phạm vi của bạn."), where=lambda u: u.level == level)


def _day(unit: AdminUnit | None = None) -> date:
    on = schemas.query_date("as_of", today())
    if unit is not None and not unit.valid_on(on):
        raise ValidationFailed(_l("%(u)s không có hiệu lực vào ngày %(d)s (hiệu lực từ %(f)s): không có dữ liệu ngày đó.",
                                  u=unit.full_name, d=on.strftime("%d/%m/%Y"),
                                  f=unit.valid_from.strftime("%d/%m/%Y")), field="as_of")
    return on


def _flag() -> str | None:
    return schemas.query_choice("flag", tuple(maps.FLAGS))


@bp.get("/maps/layers/hamlets/<int:commune_id>.geojson")
@auth.token_required
def map_hamlet_layer(commune_id: int):
    commune = _unit(commune_id, UnitLevel.COMMUNE, _l("Không tìm thấy xã/phường/đặc khu."))
    on = _day(commune)
    return geojson_response("hamlets", commune.id, on, _flag(), lambda: maps.commune_area(commune))


@bp.get("/maps/layers/centre/<int:facility_id>.geojson")
@auth.token_required
def map_centre_layer(facility_id: int):
    centre = load_or_404(Facility, facility_id, can_view_centre_map, user=actor(),
                         missing=_l("Không tìm thấy trung tâm y tế khu vực."),
                         denied=_l("Trung tâm y tế này phụ trách cả địa bàn ngoài phạm vi của bạn."),
                         where=lambda f: f.kind == FacilityKind.HEALTH_CENTRE.value)
    on = _day()
    return geojson_response("centre", centre.id, on, _flag(), lambda: maps.centre_area(centre, on))


@bp.get("/maps/layers/communes/<int:province_id>.geojson")
@auth.token_required
def map_province_layer(province_id: int):
    province = _unit(province_id, UnitLevel.PROVINCE, _l("Không tìm thấy tỉnh/thành phố."), need=can_view_unit_map)
    area = maps.province_area(province, visible_area(actor(), province))
    on = _day(province)
    return geojson_response("communes", area.ident, on, _flag(), lambda: area)


@bp.get("/maps/layers/communes.geojson")
@auth.token_required
def map_scope_layer():
    prefixes = tuple(sorted(scope_of(actor()).prefixes))
    if not prefixes:
        raise PermissionDenied(_l("Tài khoản của bạn chưa được cấp quyền tại địa bàn nào."))
    on = _day()
    return geojson_response("scope", prefixes, on, _flag(), lambda: maps.scope_area(prefixes, ""))
