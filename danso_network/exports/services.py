"""Roster, quota and coverage lists out of the application (issue #11, item 1): the documents
offices print, sign and send up, and the GIS layers of their hamlets.

One :class:`ExportSpec` says what a file holds — the list (``roster``, ``quota`` or ``coverage``),
the area (a unit, a health centre's communes, or the user's whole scope), the date, the page's
filters and the format — and is built the same way by the pages (``exports.views``), the
background job (kind :data:`JOB_KIND`, for files over ``EXPORT_INLINE_ROWS`` rows) and the CLI
(``danso roster export``). Every path re-applies the same scope rule (:func:`resolve_area`): what
the roster page refuses, its export refuses.

A list becomes a :class:`~.document.Document` (:func:`roster_document`, :func:`quota_document`,
:func:`coverage_document`); the writers (``exports.xlsx``, ``exports.pdf``, and the CSV of
``exports.writer``) format it, every cell through the one formula-safe writer; the hamlets' layers
are :mod:`.gis`. Personal data follow ``auth.personal_data``: the CCCD number, the phone and the
full date of birth are written only where the reader sees them on the page, "(ẩn)" elsewhere (the
year of birth is always given, as on the page).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import IO, Any
from urllib.parse import quote

import pandas as pd
from flask import current_app, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import distinct, func, select

from ..auth.models import User
from ..auth.permissions import scope_of
from ..auth.personal_data import HIDDEN_TEXT, personal_data_areas
from ..collaborators import services as roster_services
from ..collaborators.labels import (
    END_REASON_LABELS,
    FLAG_LABELS,
    KIND_LABELS,
    ROSTER_STATUS_LABELS,
    SORT_LABELS,
    TENURE_LABELS,
)
from ..collaborators.labels import STATUS_LABELS as COLLABORATOR_STATUS_LABELS
from ..collaborators.models import AssignmentKind
from ..collaborators.services import RosterFilters, RosterRow, tenure_years
from ..common.clock import today
from ..common.params import parse_date, parse_month
from ..coverage import services as coverage
from ..coverage.labels import STATUS_LABELS as COVERAGE_STATUS_LABELS
from ..errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..jobs.services import JobFile, register
from ..recruitment.labels import SEX_LABELS
from ..textnorm import fold, slug
from ..units.labels import type_label
from ..units.lineage import area_on
from ..units.models import LEVEL_TYPES, AdminUnit, Facility, UnitLevel
from ..units.services import in_areas, province_id_of, served_units, valid_on
from .document import Column, Document, Kind, Sheet
from .writer import csv_lines

FORMATS = ("xlsx", "csv", "pdf", "geojson", "gpkg")
TABLE_FORMATS = ("xlsx", "csv", "pdf")
GIS_FORMATS = ("geojson", "gpkg")
LISTS = ("roster", "quota", "coverage")
MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",  # Flask adds "; charset=utf-8" to text types
    "pdf": "application/pdf",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
}
FORMAT_LABELS = {"xlsx": "Excel (XLSX)", "csv": "CSV", "pdf": "PDF", "geojson": "GeoJSON", "gpkg": "GeoPackage"}
EXPORT_INLINE_ROWS = 5000  # default of the setting: more rows than this go to a background job
JOB_KIND = "roster_export"
MAP_FLAGS = ("difficult", "ethnic_minority")  # the coverage map's hamlet filter (maps.services.FLAGS)
HAMLET_TYPES = tuple(sorted(t.value for t in LEVEL_TYPES[UnitLevel.HAMLET]))
PROGRESS_EVERY = 2000  # rows between two progress reports

Progress = Callable[[int, int | None], None]  # (rows done, rows in all)


class BadExport(DomainError):
    """A request for a file that cannot be made as asked (unknown format, unreadable date…):
    400 on a page, exit 2 in the CLI."""

    status = 400


def inline_limit() -> int:
    """``EXPORT_INLINE_ROWS``: files over this many rows are made by a background job."""
    if has_app_context():
        return int(current_app.config.get("EXPORT_INLINE_ROWS", EXPORT_INLINE_ROWS))
    return EXPORT_INLINE_ROWS


def _d(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _count(n: int) -> str:
    """A whole number the Vietnamese way: 150.123."""
    return format(n, ",").replace(",", ".")


# --- what a file covers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    """The area of an export: the unit paths whose rows it holds, its name, and the unit or
    facility it is about (neither: the user's whole scope, or everything for the CLI's
    administrator)."""

    prefixes: tuple[str, ...]
    title: str
    unit: AdminUnit | None = None
    facility: Facility | None = None

    @property
    def params(self) -> dict:
        if self.unit is not None:
            return {"unit_id": self.unit.id}
        if self.facility is not None:
            return {"facility_id": self.facility.id}
        return {"scope": True}


def _viewable(user: User | None, scope, path: str) -> bool:
    return user is None or bool(scope.roles_at(path))


def unit_area(unit: AdminUnit, user: User | None, *, on: date | None = None, partial: bool = False) -> Area:
    """A unit's rows (a province, a commune, a hamlet): the user must reach the whole unit, as on
    its roster page (``collaborators.views.roster``); with ``partial`` (the coverage map's rule,
    ``maps.permissions.visible_area``) a province of which the user reaches a part gives that
    part. On a day before the unit was formed, the units it was formed from too
    (``units.lineage.area_on``)."""
    prefixes: tuple[str, ...] = tuple(area_on(unit, on or today()))
    if user is not None:
        scope = scope_of(user)
        if not scope.roles_at(unit.path):
            inside = (tuple(sorted(p for p in scope.prefixes if p.startswith(unit.path)))
                      if partial and unit.level == UnitLevel.PROVINCE else ())
            if not inside:
                raise PermissionDenied(_l("%(u)s nằm ngoài địa bàn bạn được xem; không xuất được danh sách.",
                                          u=unit.full_name))
            prefixes = inside
    return Area(prefixes, unit.full_name, unit=unit)


def centre_area(facility: Facility, user: User | None, on: date) -> Area:
    """The communes a facility serves on ``on`` (``collaborators.views.centre_roster``): the user
    must reach every commune it serves today; past communes outside the user's area are left out."""
    scope = scope_of(user) if user is not None else None
    served_now = served_units(facility, today())
    if user is not None and not (served_now and all(scope.roles_at(u.path) for u in served_now)):
        raise PermissionDenied(_l("Địa bàn của %(f)s nằm ngoài địa bàn bạn được xem; không xuất được danh sách.",
                                  f=facility.name))
    served = [u for u in served_units(facility, on) if _viewable(user, scope, u.path)]
    return Area(tuple(u.path for u in served), facility.name, facility=facility)


def scope_area(user: User | None) -> Area:
    """The user's whole scope; for the CLI's administrator (no user), every province there is."""
    if user is None:
        roots = db.session.scalars(select(AdminUnit.path).where(AdminUnit.parent_id.is_(None))
                                   .order_by(AdminUnit.path))
        return Area(tuple(roots), _("Toàn quốc"))
    prefixes = scope_of(user).prefixes
    if not prefixes:
        raise PermissionDenied(_l("Tài khoản của bạn chưa được phân quyền tại địa bàn nào."))
    units = db.session.scalars(select(AdminUnit).where(AdminUnit.path.in_(prefixes))).all()
    if len(units) == 1:  # one area: the export is that unit's (its heading and title)
        return Area(tuple(prefixes), units[0].full_name, unit=units[0])
    return Area(tuple(sorted(prefixes)), _("Toàn bộ địa bàn của bạn"))


def resolve_area(params: dict, user: User | None, on: date, *, partial: bool = False) -> Area:
    """The area named by a page's, a job's or the CLI's parameters (``unit_id``, ``facility_id``
    or neither: the scope), checked against the user's scope: 404 for what does not exist, 403
    outside (``partial``: see :func:`unit_area`)."""
    if not isinstance(params, dict):
        raise BadExport(_l("Tham số xuất danh sách không hợp lệ."))
    if params.get("unit_id") is not None:
        unit = _get(AdminUnit, params["unit_id"])
        if unit is None:
            raise NotFound(_l("Không có đơn vị hành chính này."))
        return unit_area(unit, user, on=on, partial=partial)
    if params.get("facility_id") is not None:
        facility = _get(Facility, params["facility_id"])
        if facility is None:
            raise NotFound(_l("Không có cơ sở y tế này."))
        return centre_area(facility, user, on)
    return scope_area(user)


def _get(model, object_id):
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        return None
    return db.session.get(model, object_id) if 0 < object_id < 2**31 else None


# --- what a file holds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSpec:
    """One export: which list, of which area, on which date, with which filters, in which format.
    ``filters`` is the roster's (``collaborators.services.RosterFilters``; its hamlet type and
    "difficult" filters narrow the hamlets of the other lists and layers too); ``flag`` is the
    quota page's flag (under/over/ok/unknown) or the coverage map's hamlet filter
    (difficult/ethnic_minority)."""

    list: str
    fmt: str
    area: Area
    filters: RosterFilters
    flag: str | None = None

    @property
    def as_of(self) -> date:
        return self.filters.as_of

    def params(self) -> dict:
        """The job's parameters (JSON): enough to make the same file again (for the job's owner,
        whose scope and rights are applied when it runs)."""
        filters = asdict(self.filters)
        filters["as_of"] = self.filters.as_of.isoformat()
        filters.pop("cccd_areas")  # the reader's, recomputed when the job runs
        return {"list": self.list, "format": self.fmt, "area": self.area.params, "filters": filters,
                "flag": self.flag}


def check_format(fmt: str | None, allowed: Sequence[str] = FORMATS) -> str:
    """The format asked for, one of ``allowed`` (a page that offers only tables passes
    :data:`TABLE_FORMATS`), or :class:`BadExport` naming the ones there are (400)."""
    if fmt not in allowed:
        raise BadExport(_l("Định dạng “%(f)s” không được hỗ trợ. Hãy chọn một trong: %(a)s.",
                           f=(fmt or "")[:20], a=", ".join(allowed)))
    return fmt


def check_list(name: str | None) -> str:
    if name not in LISTS:
        raise BadExport(_l("Không có loại danh sách “%(l)s” để xuất.", l=(name or "")[:20]))
    return name


def check_date(raw: str | None) -> date:
    """A date given to an export (dd/mm/yyyy or ISO; none: today); unreadable: :class:`BadExport`."""
    raw = (raw or "").strip()
    if not raw:
        return today()
    try:
        return parse_date(raw)
    except ValueError:
        raise BadExport(_l("Ngày “%(v)s” không hợp lệ: dùng ngày/tháng/năm (ví dụ 07/12/2026) hoặc YYYY-MM-DD.",
                           v=raw[:30])) from None


def check_month(raw: str | None) -> date:
    """The month a file is asked for (``yyyy-mm`` or ``mm/yyyy``; none: this month), its first
    day; unreadable: :class:`BadExport` (400) — a file says which month it holds, so it is never
    silently another month, as a page may show with a warning."""
    raw = (raw or "").strip()
    if not raw:
        return today().replace(day=1)
    try:
        return parse_month(raw)
    except ValueError:
        raise BadExport(_l("Tháng “%(v)s” không hợp lệ: dùng tháng/năm (ví dụ 03/2026) hoặc YYYY-MM.",
                           v=raw[:30])) from None


def check_data_on(area: Area, on: date) -> None:
    """A date before any data of the area (before its unit or facility came into force) is
    refused with the day its data begin (``coverage.services.require_data_on``); a unit closed
    since may still be exported as it was."""
    if area.unit is not None and on < area.unit.valid_from:
        coverage.require_data_on(area.unit, on)
    if area.facility is not None and on < area.facility.valid_from:
        raise ValidationFailed(_l("%(f)s chỉ có dữ liệu từ ngày %(d)s; hãy chọn một ngày từ ngày đó trở đi.",
                                  f=area.facility.name, d=_d(area.facility.valid_from)), field="as_of")


def filters_from(values: dict, *, as_of: date, user: User | None) -> RosterFilters:
    """Roster filters from plain values (a query string's, a job's, the CLI's); unknown values
    are refused (:class:`BadExport`) rather than silently dropped: a file says what it holds."""

    def choice(name, allowed):
        value = values.get(name) or None
        if value is not None and value not in allowed:
            raise BadExport(_l("Giá trị “%(v)s” của bộ lọc %(n)s không hợp lệ.", v=str(value)[:30], n=name))
        return value

    def flag(name):
        value = values.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        if str(value) in ("1", "0"):
            return str(value) == "1"
        raise BadExport(_l("Giá trị “%(v)s” của bộ lọc %(n)s không hợp lệ.", v=str(value)[:30], n=name))

    q = (str(values.get("q") or "")).strip()[:100] or None
    return RosterFilters(
        as_of=as_of, status=choice("status", roster_services.ROSTER_STATUSES),
        hamlet_type=choice("hamlet_type", HAMLET_TYPES), difficult=flag("difficult"), vhw=flag("vhw"),
        family_children=flag("family_children"), tenure=choice("tenure", roster_services.TENURES), q=q,
        sort=choice("sort", roster_services.SORTS) or "name",
        cccd_areas=tuple(personal_data_areas(user)) if user is not None else ("/",))


def spec_from_params(params: dict, user: User | None) -> ExportSpec:
    """An :class:`ExportSpec` from a job's parameters, re-checked: list, format, date, filters and
    the area against the user's scope."""
    if not isinstance(params, dict):
        raise BadExport(_l("Tham số xuất danh sách không hợp lệ."))
    list_name = check_list(params.get("list", "roster"))
    fmt = check_format(params.get("format"))
    raw_filters = params.get("filters") or {}
    if not isinstance(raw_filters, dict):
        raise BadExport(_l("Tham số xuất danh sách không hợp lệ."))
    on = check_date(raw_filters.get("as_of"))
    area = resolve_area(params.get("area") or {}, user, on, partial=list_name == "coverage")
    flag = check_flag(list_name, params.get("flag"))
    check_data_on(area, on)
    return ExportSpec(list_name, fmt, area, filters_from(raw_filters, as_of=on, user=user), flag)


def check_flag(list_name: str, flag: str | None) -> str | None:
    """The quota page's flag (under/over/ok/unknown) or the coverage map's hamlet filter
    (difficult/ethnic_minority); anything else is refused."""
    flag = flag or None
    allowed = FLAG_LABELS if list_name == "quota" else MAP_FLAGS
    if flag is not None and flag not in allowed:
        raise BadExport(_l("Giá trị “%(v)s” của bộ lọc %(n)s không hợp lệ.", v=str(flag)[:30], n="flag"))
    return flag


# --- the roster -------------------------------------------------------------------------------------


def roster_counts(prefixes: Sequence[str], filters: RosterFilters) -> tuple[int, int]:
    """(rows, collaborators) of the roster for the filters: one row per assignment in force, so
    a collaborator covering an additional hamlet is one person on two rows. Counted by the
    database with only what the filters read (the roster page's own count)."""
    conds, _suspended = roster_services._roster_conditions(prefixes, filters)
    stmt = roster_services._roster_from(
        select(func.count(), func.count(distinct(roster_services.Assignment.collaborator_id))), filters,
        full=False, ordered=False)
    rows, people = db.session.execute(stmt.where(*conds)).one()
    return int(rows or 0), int(people or 0)


def _labels(mapping) -> dict:
    """A label table made plain text once (not once per row)."""
    return {str(k): str(v) for k, v in mapping.items()}


def hamlet_filter_words(filters: RosterFilters) -> list[str]:
    """The filters on hamlets (type, difficult or ethnic-minority area) in words."""
    words = []
    if filters.hamlet_type:
        words.append(_("Loại thôn: %(t)s", t=type_label(filters.hamlet_type)))
    if filters.difficult is True:
        words.append(_("Chỉ thôn khó khăn hoặc vùng DTTS"))
    elif filters.difficult is False:
        words.append(_("Chỉ thôn không khó khăn, không thuộc vùng DTTS"))
    return words


def filter_words(filters: RosterFilters) -> list[str]:
    """The roster filters in words, for a file's title block."""
    words = [_("Tình trạng: %(s)s", s=ROSTER_STATUS_LABELS[filters.status or ""]), *hamlet_filter_words(filters)]
    yes_no = {True: _("Có"), False: _("Không")}
    if filters.vhw is not None:
        words.append(_("Kiêm y tế thôn bản: %(v)s", v=yes_no[filters.vhw]))
    if filters.family_children is not None:
        words.append(_("Kiêm công tác GĐ&TE: %(v)s", v=yes_no[filters.family_children]))
    if filters.tenure:
        words.append(_("Thâm niên: %(t)s", t=TENURE_LABELS[filters.tenure]))
    if filters.q:
        words.append(_("Tìm: “%(q)s”", q=filters.q))
    words.append(_("Sắp xếp theo: %(s)s", s=SORT_LABELS.get(filters.sort, filters.sort)))
    return words


def area_heading(area: Area, on: date):
    """The official heading of the office issuing the file (``exports.heading.heading_for``):
    the commune's station, the centre, or the provincial department. A scope of several areas in
    one province is issued by that province's department; across provinces (a national user,
    the CLI's administrator) no office of the network issues it: no heading (None)."""
    from .heading import heading_for

    if area.unit is None and area.facility is None:
        provinces = {province_id_of(p) for p in area.prefixes}
        if len(provinces) != 1:
            return None
        province = db.session.get(AdminUnit, provinces.pop())
        return heading_for(unit=province, on=on) if province is not None else None
    return heading_for(unit=area.unit, facility=area.facility, on=on)


def _seer(user: User | None) -> Callable[[str], bool]:
    """Whether the reader sees the personal data of a row (its hamlet path): an editing role
    over it (``auth.personal_data.can_see_personal_data``, rule 1), decided from the reader's
    areas computed once rather than once per row."""
    if user is None:
        return lambda path: True
    areas = tuple(personal_data_areas(user))
    if not areas:
        return lambda path: False
    return lambda path: path.startswith(areas)


def _all_seen(user: User | None, prefixes: Sequence[str]) -> bool:
    seen = _seer(user)
    return all(seen(p) for p in prefixes)


def roster_columns(filters: RosterFilters, *, printed: bool = False) -> list[Column]:
    """The roster's columns, those of the roster page (ended rows add when and why). A printed
    roster (PDF, A4 landscape) is narrower: the date of birth in one column (the year alone
    where it is hidden), the kind of assignment after the hamlet's name, the concurrent duties
    in one column, no notes column."""
    if printed:
        columns = [
            Column(_("STT"), Kind.ORDINAL, 5), Column(_("Họ và tên"), Kind.TEXT, 22),
            Column(_("Ngày sinh"), Kind.DATE, 10), Column(_("Giới tính"), Kind.TEXT, 7),
            Column(_("Số CCCD"), Kind.TEXT, 13), Column(_("Điện thoại"), Kind.TEXT, 11),
            Column(_("Thôn/tổ dân phố"), Kind.TEXT, 18), Column(_("Xã/phường"), Kind.TEXT, 16),
            Column(_("Phụ trách từ"), Kind.DATE, 10),
        ]
    else:
        columns = [
            Column(_("STT"), Kind.ORDINAL, 6),
            Column(_("Họ và tên"), Kind.TEXT, 26),
            Column(_("Năm sinh"), Kind.ORDINAL, 8),
            Column(_("Ngày sinh"), Kind.DATE, 11),
            Column(_("Giới tính"), Kind.TEXT, 8),
            Column(_("Số CCCD"), Kind.TEXT, 14),
            Column(_("Điện thoại"), Kind.TEXT, 12),
            Column(_("Thôn/tổ dân phố"), Kind.TEXT, 22),
            Column(_("Xã/phường"), Kind.TEXT, 22),
            Column(_("Loại phân công"), Kind.TEXT, 14),
            Column(_("Phụ trách từ"), Kind.DATE, 11),
        ]
    if filters.status == "ended":
        columns += [Column(_("Nghỉ từ"), Kind.DATE, 10 if printed else 11),
                    Column(_("Lý do nghỉ"), Kind.TEXT, 16 if printed else 20)]
    if printed:
        return columns + [Column(_("Thâm niên (năm)"), Kind.INT, 8), Column(_("Kiêm nhiệm"), Kind.TEXT, 10),
                          Column(_("Tình trạng"), Kind.TEXT, 11)]
    return columns + [
        Column(_("Thâm niên (năm)"), Kind.INT, 9),
        Column(_("Kiêm YTTB"), Kind.TEXT, 8),
        Column(_("Kiêm GĐ&TE"), Kind.TEXT, 8),
        Column(_("Tình trạng"), Kind.TEXT, 13),
        Column(_("Ghi chú"), Kind.TEXT, 20),
    ]


# Positions in a row of the roster's statement (``collaborators.services._roster_select``, the one
# ``roster_rows`` reads): RosterRow's first 17 fields, then these four.
_AT = {f.name: i for i, f in enumerate(fields(RosterRow)[:17])}
_SUSPENDED, _PATH, _EXCEPTION, _FAMILY = 17, 18, 19, 20


def roster_records(prefixes: Sequence[str], filters: RosterFilters) -> Iterator[tuple]:
    """The rows of ``collaborators.services.roster_rows`` — the same statement, in the same
    order — as plain tuples read through SQLAlchemy Core: a national roster streams twice as
    fast without the ORM's row layer and a dataclass per row (positions: :data:`_AT` and
    ``_SUSPENDED, _PATH, _EXCEPTION, _FAMILY``; tests/exports check both give the same)."""
    stmt = roster_services._roster_select(prefixes, filters)
    # The option on the statement: ``Connection.execution_options`` would change the
    # session's connection itself, and every later statement would open a server-side cursor.
    result = db.session.connection().execute(stmt, execution_options={"yield_per": 1000})
    if len(result.keys()) != _FAMILY + 1:
        raise RuntimeError("the roster's statement changed: update exports.services._AT")
    return iter(result)


def roster_row_values(prefixes: Sequence[str], filters: RosterFilters, user: User | None,
                      progress: Progress | None = None, total: int | None = None, *,
                      printed: bool = False) -> Iterator[tuple]:
    """The roster's rows in its columns' order (:func:`roster_columns`, ``printed`` or not),
    streamed (:func:`roster_records`): personal values only where the reader sees them."""
    if printed:
        yield from _printed_values(prefixes, filters, user, progress, total)
        return
    seen = _seer(user)
    hidden = str(HIDDEN_TEXT)
    sexes, kinds, statuses = _labels(SEX_LABELS), _labels(KIND_LABELS), _labels(COLLABORATOR_STATUS_LABELS)
    reasons = _labels(END_REASON_LABELS)
    yes = _("Có")
    exception = _("Ngoại lệ nơi cư trú: %(j)s", j="")
    ended = filters.status == "ended"
    as_of = filters.as_of
    active, suspended, left = statuses["active"], statuses["suspended"], statuses["ended"]
    (name_at, id_at, born_at, sex_at, phone_at, vhw_at, hamlet_at, commune_at, kind_at, started_at, ended_at,
     reason_at, activated_at) = (_AT[f] for f in (
        "full_name", "national_id", "date_of_birth", "sex", "phone", "is_vhw", "hamlet_name", "commune_name",
        "assignment_kind", "started_on", "ended_on", "end_reason", "activated_on"))
    n = 0
    for n, r in enumerate(roster_records(prefixes, filters), 1):
        visible = seen(r[_PATH])
        born = r[born_at]
        head = (n, r[name_at], born.year if born else None, (born if visible else hidden) if born else None,
                sexes.get(r[sex_at], r[sex_at]), r[id_at] if visible else hidden,
                r[phone_at] if visible else hidden, r[hamlet_at], r[commune_at],
                kinds.get(r[kind_at], r[kind_at]), r[started_at])
        if ended:
            head += (r[ended_at], reasons.get(r[reason_at], r[reason_at]))
        # An empty cell is None, not "": a blank cell for the writers, cheaper than a string.
        yield head + (tenure_years(r[activated_at], as_of), yes if r[vhw_at] else None, yes if r[_FAMILY] else None,
                      left if ended else suspended if r[_SUSPENDED] else active,
                      exception + r[_EXCEPTION] if r[_EXCEPTION] else None)
        if progress is not None and n % PROGRESS_EVERY == 0:
            progress(n, total)
    if progress is not None:
        progress(n, total)


def _printed_values(prefixes: Sequence[str], filters: RosterFilters, user: User | None,
                    progress: Progress | None, total: int | None) -> Iterator[tuple]:
    """The rows of the printed roster (:func:`roster_columns` with ``printed``)."""
    seen = _seer(user)
    hidden = str(HIDDEN_TEXT)
    sexes, statuses, reasons = _labels(SEX_LABELS), _labels(COLLABORATOR_STATUS_LABELS), _labels(END_REASON_LABELS)
    additional = " (" + str(KIND_LABELS[AssignmentKind.ADDITIONAL]).lower() + ")"
    vhw, family = _("YTTB"), _("GĐ&TE")
    duties = {(True, True): f"{vhw}, {family}", (True, False): vhw, (False, True): family, (False, False): None}
    ended = filters.status == "ended"
    as_of = filters.as_of
    active, suspended, left = statuses["active"], statuses["suspended"], statuses["ended"]
    n = 0
    for n, r in enumerate(roster_records(prefixes, filters), 1):
        visible = seen(r[_PATH])
        born = r[_AT["date_of_birth"]]
        hamlet = r[_AT["hamlet_name"]]
        if r[_AT["assignment_kind"]] == AssignmentKind.ADDITIONAL:
            hamlet += additional
        head = (n, r[_AT["full_name"]], (born if visible else str(born.year)) if born else None,
                sexes.get(r[_AT["sex"]], r[_AT["sex"]]), r[_AT["national_id"]] if visible else hidden,
                r[_AT["phone"]] if visible else hidden, hamlet, r[_AT["commune_name"]], r[_AT["started_on"]])
        if ended:
            head += (r[_AT["ended_on"]], reasons.get(r[_AT["end_reason"]], r[_AT["end_reason"]]))
        yield head + (tenure_years(r[_AT["activated_on"]], as_of), duties[bool(r[_AT["is_vhw"]]), bool(r[_FAMILY])],
                      left if ended else suspended if r[_SUSPENDED] else active)
        if progress is not None and n % PROGRESS_EVERY == 0:
            progress(n, total)
    if progress is not None:
        progress(n, total)


VACANCY_SHEET = _l("Thôn chưa có CTV")


def _hamlet_filtered(frame: pd.DataFrame, filters: RosterFilters, flag: str | None = None) -> pd.DataFrame:
    """The frame's hamlets narrowed by the roster's hamlet filters (type, difficult or ethnic
    minority) and the map's flag."""
    if not len(frame):
        return frame
    if filters.difficult is not None:
        hard = frame["is_difficult"].astype(bool) | frame["is_ethnic_minority"].astype(bool)
        frame = frame[hard if filters.difficult else ~hard]
    if flag in MAP_FLAGS:
        frame = frame[frame["is_" + flag].astype(bool)]
    if filters.hamlet_type and len(frame):
        types = _unit_values(frame["hamlet_id"].tolist(), AdminUnit.type)
        frame = frame[frame["hamlet_id"].map(types) == filters.hamlet_type]
    return frame


def _unit_values(ids: Sequence[int], column) -> dict[int, Any]:
    """``id → column`` for these units, read in chunks (no database limit on the list)."""
    found: dict[int, Any] = {}
    ids = [int(i) for i in ids]
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        found.update(db.session.execute(select(AdminUnit.id, column).where(AdminUnit.id.in_(chunk))).all())
    return found


def _communes(frame: pd.DataFrame) -> dict[int, tuple[str, str | None]]:
    """commune id → (full name, code) for the frame's communes."""
    ids = sorted({int(i) for i in frame["commune_id"].tolist()}) if len(frame) else []
    found: dict[int, tuple[str, str | None]] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        for unit_id, name, code in db.session.execute(
                select(AdminUnit.id, AdminUnit.full_name, AdminUnit.code).where(AdminUnit.id.in_(chunk))):
            found[unit_id] = (name, code)
    return found


def _int(value) -> int | None:
    return None if value is None or value is pd.NA or pd.isna(value) else int(value)


def vacancy_sheet(prefixes: Sequence[str], filters: RosterFilters) -> Sheet:
    """Sheet 2 of the roster: the hamlets of the area with nobody active on the date
    (``coverage.services.hamlet_frame``: vacant, or pending while a selection is under way),
    longest vacant first (``coverage.rules.oldest_vacancies``), narrowed by the roster's hamlet
    filters."""
    frame = _hamlet_filtered(coverage.hamlet_frame(list(prefixes), filters.as_of), filters)
    vacant = coverage.oldest_vacancies(frame, limit=len(frame)) if len(frame) else frame
    communes = _communes(vacant)
    pending = _("Đang tuyển chọn (%(n)s hồ sơ)", n="{n}")
    rows = []
    for n, r in enumerate(vacant.itertuples(index=False), 1):
        note = pending.replace("{n}", str(int(r.pending))) if int(r.pending) else ""
        rows.append((n, str(r.name), communes.get(int(r.commune_id), ("", None))[0], int(r.households),
                     _int(r.quota), _int(r.days_vacant), str(COVERAGE_STATUS_LABELS[r.status]), note))
    return Sheet(str(VACANCY_SHEET), [
        Column(_("STT"), Kind.ORDINAL, 6), Column(_("Thôn/tổ dân phố"), Kind.TEXT, 26),
        Column(_("Xã/phường"), Kind.TEXT, 26), Column(_("Số hộ"), Kind.INT, 9, total=True),
        Column(_("Định mức CTV"), Kind.INT, 10, total=True), Column(_("Số ngày chưa có CTV"), Kind.INT, 12),
        Column(_("Tình trạng"), Kind.TEXT, 26), Column(_("Ghi chú"), Kind.TEXT, 24),
    ], rows, title=_("Thôn/tổ dân phố chưa có cộng tác viên đang hoạt động vào ngày %(d)s", d=_d(filters.as_of)),
        empty_text=_("Không có thôn/tổ dân phố nào chưa có CTV."))


def _base_name(kind: str, area: Area, on: date) -> str:
    return f"{kind}-{slug(area.title, default='khu-vuc')}-{on.isoformat()}"


def roster_document(prefixes: Sequence[str], filters: RosterFilters, *, user: User | None, title: str,
                    unit: AdminUnit | None = None, facility: Facility | None = None,
                    progress: Progress | None = None, vacancies: bool = True, heading: bool = True,
                    printed: bool = False) -> Document:
    """The roster of the areas as of ``filters.as_of`` as a document: sheet 1 the collaborators
    (the roster page's columns and order; personal values only where ``user`` sees them — None:
    the CLI's administrator, who sees all), sheet 2 the hamlets with nobody active that day.
    The title block names the area, the date and the filters; the number of collaborators (and
    of rows, when a person covers two hamlets) is counted first and written under them. A CSV
    needs neither the second sheet nor the heading (``vacancies``, ``heading`` False); a PDF
    has the narrower columns of a printed roster (``printed``, :func:`roster_columns`)."""
    on = filters.as_of
    area = Area(tuple(prefixes), title, unit=unit, facility=facility)
    rows, people = roster_counts(prefixes, filters)
    lines = [title, _("Tính đến ngày %(d)s", d=_d(on)), _("Bộ lọc: %(f)s", f="; ".join(filter_words(filters)))]
    total = _("Tổng số: %(n)s cộng tác viên", n=_count(people))
    if rows != people:
        total += " " + _("(%(r)s dòng: người kiêm nhiệm thêm thôn có một dòng cho mỗi thôn)", r=_count(rows))
    lines.append(total)
    notes = [total]
    if not _all_seen(user, prefixes):
        notes.append(_("“%(h)s”: số CCCD, điện thoại và ngày sinh đầy đủ được ẩn theo quy định bảo vệ dữ liệu "
                       "cá nhân (Nghị định 13/2023/NĐ-CP).", h=str(HIDDEN_TEXT)))
    sheets = [Sheet(_("Danh sách CTV"), roster_columns(filters, printed=printed),
                    roster_row_values(prefixes, filters, user, progress, rows, printed=printed),
                    empty_text=_("Không có cộng tác viên nào phù hợp với bộ lọc vào ngày %(d)s.", d=_d(on)),
                    totals_label=None)]
    if vacancies:
        sheets.append(vacancy_sheet(prefixes, filters))
    made_on = today()
    return Document(title=_("Danh sách cộng tác viên dân số"), lines=lines, sheets=sheets,
                    filename=_base_name("danh-sach-ctv", area, on), made_on=made_on,
                    heading=area_heading(area, made_on) if heading else None, notes=notes)


# --- the quota list and the coverage figures -------------------------------------------------------


def quota_document(unit: AdminUnit, *, as_of: date, flag: str | None = None, area: Area | None = None) -> Document:
    """The quota page's list as a document: every hamlet under the unit in force on ``as_of``
    with its households, quota, collaborators active and suspended, households per collaborator
    and the flag (``collaborators.services.quota_status``); ``flag`` keeps only the hamlets so
    flagged; totals under the numbers."""
    area = area or Area((unit.path,), unit.full_name, unit=unit)
    flags = _labels(FLAG_LABELS)
    found = [r for r in roster_services.quota_status(unit, as_of=as_of) if flag is None or r.flag == flag]
    rows = [(n, r.commune.full_name, r.hamlet.name, r.households, r.quota, r.active, r.suspended,
             round(r.households_per_collaborator, 1) if r.households_per_collaborator is not None else None,
             flags.get(r.flag, r.flag)) for n, r in enumerate(found, 1)]
    lines = [unit.full_name, _("Tính đến ngày %(d)s", d=_d(as_of))]
    if flag:
        lines.append(_("Bộ lọc: %(f)s", f=_("Đánh giá: %(v)s", v=flags[flag])))
    made_on = today()
    return Document(
        title=_("Tình hình định mức cộng tác viên dân số"), lines=lines,
        sheets=[Sheet(_("Định mức CTV"), [
            Column(_("STT"), Kind.ORDINAL, 6), Column(_("Xã/phường"), Kind.TEXT, 26),
            Column(_("Thôn/tổ dân phố"), Kind.TEXT, 26), Column(_("Số hộ"), Kind.INT, 9, total=True),
            Column(_("Định mức"), Kind.INT, 9, total=True), Column(_("Đang hoạt động"), Kind.INT, 10, total=True),
            Column(_("Tạm đình chỉ"), Kind.INT, 10, total=True), Column(_("Số hộ/CTV"), Kind.NUMBER, 10),
            Column(_("Đánh giá"), Kind.TEXT, 22)], rows,
            empty_text=_("Không có thôn/tổ dân phố nào phù hợp vào ngày %(d)s.", d=_d(as_of)))],
        filename=_base_name("dinh-muc-ctv", area, as_of), made_on=made_on, heading=area_heading(area, made_on),
        notes=[_("Định mức theo số hộ, theo bảng định mức trong bộ tiêu chuẩn tuyển chọn của tỉnh có hiệu lực ngày "
                 "đó. Chỉ tính CTV đang hoạt động, không tính CTV đang tạm đình chỉ.")])


def coverage_frame(area: Area, filters: RosterFilters, flag: str | None = None) -> pd.DataFrame:
    """The coverage frame of the area's hamlets (``coverage.services.hamlet_frame``), narrowed
    by the hamlet filters, ordered by commune then hamlet name."""
    return _hamlet_filtered(coverage.hamlet_frame(list(area.prefixes), filters.as_of), filters, flag)


def coverage_document(area: Area, filters: RosterFilters, flag: str | None = None) -> Document:
    """The coverage of the area's hamlets on the date as a document (the map's figures as a
    table): per hamlet its commune, households, quota, collaborators active and suspended,
    applications in progress, status, days without a collaborator and flags; totals under the
    numbers and the share of hamlets covered in the title block."""
    on = filters.as_of
    frame = coverage_frame(area, filters, flag)
    communes = _communes(frame)
    yes = _("Có")
    records = []
    for r in frame.itertuples(index=False):
        records.append((communes.get(int(r.commune_id), ("", None))[0], str(r.name), int(r.households),
                        _int(r.quota), int(r.active), int(r.suspended), int(r.pending),
                        str(COVERAGE_STATUS_LABELS[r.status]), _int(r.days_vacant), yes if r.is_difficult else "",
                        yes if r.is_ethnic_minority else "", yes if r.is_synthetic else ""))
    records.sort(key=lambda t: (fold(t[0]), fold(t[1])))
    rows = [(n, *t) for n, t in enumerate(records, 1)]
    lines = [area.title, _("Tính đến ngày %(d)s", d=_d(on))]
    words = hamlet_filter_words(filters)
    if flag in MAP_FLAGS:
        words.append({"difficult": _("Chỉ thôn đặc biệt khó khăn"),
                      "ethnic_minority": _("Chỉ thôn vùng đồng bào DTTS")}[flag])
    if words:
        lines.append(_("Bộ lọc: %(f)s", f="; ".join(words)))
    if len(frame):
        covered = int((frame["status"].astype(str) == "covered").sum())
        share = format(100 * covered / len(frame), ".1f").replace(".", ",")
        lines.append(_("Thôn/tổ dân phố đủ định mức CTV: %(c)s/%(h)s (%(p)s%%)", c=_count(covered),
                       h=_count(len(frame)), p=share))
    made_on = today()
    return Document(
        title=_("Tình hình bao phủ cộng tác viên dân số theo thôn/tổ dân phố"), lines=lines,
        sheets=[Sheet(_("Bao phủ CTV"), [
            Column(_("STT"), Kind.ORDINAL, 6), Column(_("Xã/phường"), Kind.TEXT, 24),
            Column(_("Thôn/tổ dân phố"), Kind.TEXT, 24), Column(_("Số hộ"), Kind.INT, 9, total=True),
            Column(_("Định mức"), Kind.INT, 9, total=True), Column(_("CTV đang hoạt động"), Kind.INT, 10, total=True),
            Column(_("Tạm đình chỉ"), Kind.INT, 9, total=True),
            Column(_("Hồ sơ đang tuyển chọn"), Kind.INT, 10, total=True),
            Column(_("Tình trạng"), Kind.TEXT, 24), Column(_("Số ngày chưa có CTV"), Kind.INT, 10),
            Column(_("Thôn ĐBKK"), Kind.TEXT, 8), Column(_("Vùng DTTS"), Kind.TEXT, 8),
            Column(_("Dữ liệu minh hoạ"), Kind.TEXT, 9)], rows,
            empty_text=_("Không có thôn/tổ dân phố nào trong địa bàn vào ngày %(d)s.", d=_d(on)))],
        filename=_base_name("bao-phu-ctv", area, on), made_on=made_on, heading=area_heading(area, made_on))


# --- making the file --------------------------------------------------------------------------------


def hamlet_count(area: Area, on: date) -> int:
    """Hamlets in force on ``on`` in the area (the rows of the quota, coverage and GIS files)."""
    return int(db.session.scalar(select(func.count()).select_from(AdminUnit).where(
        AdminUnit.level == UnitLevel.HAMLET.value, valid_on(AdminUnit, on), in_areas(list(area.prefixes)))) or 0)


def size_of(spec: ExportSpec) -> int:
    """The rows the file will hold (to choose between answering now and a background job)."""
    if spec.list == "roster" and spec.fmt in TABLE_FORMATS:
        return roster_counts(spec.area.prefixes, spec.filters)[0]
    return hamlet_count(spec.area, spec.as_of)


@dataclass
class Made:
    """A file ready to be written: its ASCII name (with extension), the Vietnamese name offered
    to browsers (``filename*``), its type, and ``write(binary file)``; ``notes`` are lines for the
    CLI or the response (hamlets left out of a layer for want of geometry)."""

    filename: str
    display_name: str
    mimetype: str
    write: Callable[[IO[bytes]], None]
    notes: list[str] = field(default_factory=list)
    without_geometry: int | None = None


def write_csv(document: Document, target: IO[bytes]) -> None:
    """The first sheet as CSV: UTF-8 with a BOM, one header row, every cell formula-safe."""
    chunk: list[str] = []
    for line in csv_lines(document.sheets[0].csv_rows()):
        chunk.append(line)
        if len(chunk) >= 1000:  # one write per thousand lines, not one per line
            target.write("".join(chunk).encode("utf-8"))
            chunk.clear()
    target.write("".join(chunk).encode("utf-8"))


def write_document(document: Document, fmt: str, target: IO[bytes]) -> None:
    if fmt == "xlsx":
        from .xlsx import write_xlsx

        write_xlsx(document, target)
    elif fmt == "pdf":
        from .pdf import write_pdf

        write_pdf(document, target)
    elif fmt == "csv":
        write_csv(document, target)
    else:  # pragma: no cover - callers check the format first
        raise BadExport(_l("Định dạng “%(f)s” không được hỗ trợ.", f=fmt))


def display_name(spec: ExportSpec) -> str:
    """The file's name in Vietnamese (offered to browsers beside the ASCII one)."""
    what = {"roster": _("Danh sách CTV"), "quota": _("Định mức CTV"), "coverage": _("Bao phủ CTV")}[spec.list]
    return file_safe(f"{what} - {spec.area.title} - {spec.as_of.strftime('%d-%m-%Y')}.{spec.fmt}")


def file_safe(name: str) -> str:
    """A Vietnamese file name without the characters no system allows in one."""
    return re.sub(r'[\\/:*?"<>|\r\n]+', " ", name)


def build_document(spec: ExportSpec, user: User | None, progress: Progress | None = None) -> Document:
    area = spec.area
    if spec.list == "roster":
        return roster_document(area.prefixes, spec.filters, user=user, title=area.title, unit=area.unit,
                               facility=area.facility, progress=progress, vacancies=spec.fmt != "csv",
                               heading=spec.fmt != "csv", printed=spec.fmt == "pdf")
    if spec.list == "quota":
        if area.unit is None:
            raise BadExport(_l("Danh sách định mức chỉ xuất được cho một đơn vị hành chính."))
        return quota_document(area.unit, as_of=spec.as_of, flag=spec.flag, area=area)
    return coverage_document(area, spec.filters, spec.flag)


def make(spec: ExportSpec, user: User | None, progress: Progress | None = None) -> Made:
    """The file of ``spec`` for ``user`` (None: the CLI's administrator). Tables are built when
    written (rows streamed); layers are read now, so the number of hamlets left out for want of
    geometry is known before the file is sent."""
    if spec.fmt in GIS_FORMATS:
        from . import gis

        layer = gis.hamlet_layer(spec.area, spec.filters, spec.flag)
        base = _base_name({"roster": "thon-ctv", "quota": "dinh-muc-thon", "coverage": "bao-phu-thon"}[spec.list],
                          spec.area, spec.as_of)
        notes = [_("%(n)s thôn/tổ dân phố trong lớp bản đồ.", n=len(layer.frame))]
        if layer.without_geometry:
            notes.append(_("%(n)s thôn/tổ dân phố chưa có ranh giới nên không có trong lớp bản đồ.",
                           n=layer.without_geometry))
        return Made(f"{base}.{spec.fmt}", display_name(spec), MIMETYPES[spec.fmt],
                    lambda target: gis.write_layer(layer, spec.fmt, target), notes, layer.without_geometry)

    def write(target: IO[bytes]) -> None:
        write_document(build_document(spec, user, progress), spec.fmt, target)

    filename = _base_name({"roster": "danh-sach-ctv", "quota": "dinh-muc-ctv", "coverage": "bao-phu-ctv"}[spec.list],
                          spec.area, spec.as_of)
    return Made(f"{filename}.{spec.fmt}", display_name(spec), MIMETYPES[spec.fmt], write)


def content_disposition(filename: str, display: str) -> str:
    """``attachment`` with the ASCII name and, for Vietnamese, the RFC 5987 ``filename*``."""
    ascii_name = re.sub(r'[^A-Za-z0-9._-]+', "-", filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(display, safe='')}"


# --- the background job ---------------------------------------------------------------------------

# One job kind per list, so the jobs page names what is being made.
JOB_KINDS = {"roster": JOB_KIND, "quota": "quota_export", "coverage": "coverage_export"}
JOB_LABELS = {"roster": _l("Danh sách CTV"), "quota": _l("Danh sách định mức CTV"),
              "coverage": _l("Số liệu bao phủ CTV theo thôn")}


def _checker(list_name: str):
    def check_job(params: dict, user: User) -> dict:
        """Before an export is queued: the parameters make a file (format, date, filters) and
        the area lies in the user's scope (the page's own rule). Returns the parameters as
        they will be run (normalised; the list is the kind's)."""
        if not isinstance(params, dict):
            raise BadExport(_l("Tham số xuất danh sách không hợp lệ."))
        return spec_from_params({**params, "list": list_name}, user).params()
    return check_job


def run_job(params: dict, progress) -> JobFile:
    """Make the file of a queued export with the rights of the user who asked
    (``progress.owner``; checked again now: a grant may have ended since), reporting progress
    as rows are written. ``progress.owner`` is None only for the CLI's administrator
    (``jobs.services.run_now`` without a user)."""
    user = progress.owner
    spec = spec_from_params(params, user)
    total = size_of(spec)
    progress.update(0, total, _("Đang tạo tệp %(f)s…", f=FORMAT_LABELS[spec.fmt]))
    made = make(spec, user, lambda done, _total: progress.update(done, total))
    return JobFile(made.filename, made.mimetype, write=made.write)


for _list, _kind in JOB_KINDS.items():
    register(_kind, run_job, check=_checker(_list), label=JOB_LABELS[_list])
