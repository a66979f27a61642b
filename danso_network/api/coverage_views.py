"""Coverage as of a date in the JSON API (issue #10 item 6): a unit's summary and its parts — a
province's (or former district's) communes, a commune's hamlets with their status — computed by
``coverage.services`` like the maps and dashboards.

Registered on the API blueprint (tokens, CSRF exemption, JSON errors). Scope as in the other
unit lists (:func:`.network_views.area`): 404 unknown, 403 out of scope, and a unit only partly in
the caller's scope (a province, for a centre officer) answers for that part. ``as_of`` is read
day-first (``dd/mm/yyyy``) or ISO (``YYYY-MM-DD``), default today; unreadable, or a day on which
the unit was not in force (no data), a 422 that says why.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..common.clock import today
from ..common.params import YEARS, parse_date
from ..coverage import services as coverage
from ..coverage.labels import STATUS_COLOURS, STATUS_LABELS
from ..coverage.rules import STATUSES
from ..errors import ValidationFailed
from ..extensions import db
from ..recruitment.services import provinces_without_criteria
from ..units.models import AdminUnit, UnitLevel
from . import auth, schemas
from .network_views import area
from .views import bp

SUMMARY_FIELDS = ("hamlets", "covered", "below_quota", "vacant", "pending", "unknown", "pct_covered", "households",
                  "households_covered", "collaborators", "vacancies", "vacancies_over_90_days")


def as_of() -> date:
    raw = request.args.get("as_of", "").strip()
    if not raw:
        return today()
    try:
        return parse_date(raw)
    except ValueError:
        raise ValidationFailed(_l("Tham số “as_of” phải là một ngày dạng YYYY-MM-DD hoặc ngày/tháng/năm (vd. "
                                  "2026-03-31 hoặc 31/03/2026), trong các năm %(a)d–%(b)d.", a=YEARS[0], b=YEARS[1]),
                               field="as_of") from None


def _number(value):
    if value is None or pd.isna(value):
        return None
    return float(value) if isinstance(value, float) else int(value)


def _summary(values) -> dict:
    pct = _number(values["pct_covered"])
    return {**{k: int(values[k]) for k in SUMMARY_FIELDS if k != "pct_covered"},
            "pct_covered": None if pct is None else round(float(pct), 2)}


def _statuses(summary: coverage.CoverageSummary) -> list[dict]:
    return [{"status": s, "label": str(STATUS_LABELS[s]), "colour": STATUS_COLOURS[s], "hamlets": summary.count(s)}
            for s in STATUSES]


def _hamlet(row: dict) -> dict:
    return {"id": int(row["hamlet_id"]), "name": row["name"], "full_name": row["full_name"],
            "status": row["status"], "status_label": str(STATUS_LABELS[row["status"]]),
            "households": int(row["households"]), "quota": _number(row["quota"]), "active": int(row["active"]),
            "suspended": int(row["suspended"]), "pending": int(row["pending"]),
            "households_per_collaborator": _number(row["households_per_collaborator"]),
            "days_vacant": _number(row["days_vacant"]), "is_difficult": bool(row["is_difficult"]),
            "is_ethnic_minority": bool(row["is_ethnic_minority"]), "is_synthetic": bool(row["is_synthetic"]),
            "has_geometry": bool(row["has_geometry"])}


def _communes(frame: pd.DataFrame) -> list[dict]:
    rows = coverage.aggregate(frame, "commune").to_dict("records")
    units = {u.id: u for u in db.session.execute(
        select(AdminUnit.id, AdminUnit.code, AdminUnit.name, AdminUnit.full_name)
        .where(AdminUnit.id.in_([int(r["unit_id"]) for r in rows]))).all()}
    found = [{"unit": schemas.unit(units[int(r["unit_id"])]), **_summary(r)} for r in rows]
    return sorted(found, key=lambda c: (c["unit"]["code"] or "", c["unit"]["id"]))


@bp.get("/coverage/<int:unit_id>")
@auth.token_required
def unit_coverage(unit_id: int):
    """The unit's coverage on ``as_of`` and that of its parts (communes of a province, hamlets of
    a commune or the hamlet itself)."""
    unit, prefixes = area(unit_id)
    on = as_of()
    coverage.require_data_on(unit, on)
    frame = coverage.hamlet_frame(prefixes, on)
    summary = coverage.summarise(frame, on, unit.id)
    by_commune = unit.level in (UnitLevel.PROVINCE.value, UnitLevel.DISTRICT.value)
    parts = _communes(frame) if by_commune else [_hamlet(r) for r in frame.to_dict("records")]
    return jsonify(unit={**schemas.unit(unit), "level": unit.level}, as_of=on.isoformat(),
                   summary=_summary(summary.__dict__), statuses=_statuses(summary),
                   parts_level="commune" if by_commune else "hamlet", parts=parts,
                   no_criteria=[schemas.unit(p) for p in provinces_without_criteria(prefixes, on)])
