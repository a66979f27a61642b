"""Request fields and response serialisers of the collaborator-network API (issue #4 item 9):
roster, profiles, assignment changes, supervision visits, monthly meetings.

Like :mod:`.schemas`, each request body is described once as a list of
:class:`~danso_network.api.schemas.Field`; the OpenAPI document is generated from the same
lists. Shape only: the rules (dates in the future, scope, states) stay in the services.
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l

from ..collaborators.labels import FLAG_LABELS, STATUS_LABELS, duty_label, end_reason_label, kind_label
from ..collaborators.models import TERMINATION_REASONS
from ..collaborators.services import Residence
from ..errors import ValidationFailed
from ..recruitment.labels import EDUCATION_LABELS, SEX_LABELS
from ..recruitment.models import Education, Sex
from ..supervision.labels import ANSWER_LABELS, CHECKLIST_DUTIES, CHECKLIST_LABELS, MISS_LABELS
from ..supervision.models import ChecklistItem
from ..units.models import LEVEL_TYPES, UnitLevel
from .schemas import QUERY_YEARS, Field, day, timestamp, unit
from .schemas import personal as personal_fields

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
HAMLET_TYPES = tuple(sorted(t.value for t in LEVEL_TYPES[UnitLevel.HAMLET]))
REASONS = tuple(r.value for r in TERMINATION_REASONS)
RESIDENCE_CHOICES = tuple(r.value for r in Residence)
Q_MAX = 100

# --- request bodies ---------------------------------------------------------------------------

_ON = "Ngày có hiệu lực (YYYY-MM-DD; không ở tương lai)"

TRANSFER = [
    Field("hamlet_id", "id", True, description="Thôn/tổ dân phố chuyển đến (trong phạm vi của bạn)"),
    Field("on", "date", True, description=_ON + "; phân công cũ kết thúc và phân công mới bắt đầu cùng ngày"),
    Field("decision_ref", "str", False, 200, description="Số quyết định điều chuyển"),
    Field("residence", "enum", False, choices=RESIDENCE_CHOICES,
          description="Nơi cư trú từ ngày điều chuyển (TT 02/2021/TT-BYT, Điều 2): `moves` — chuyển đến sinh sống "
                      "tại thôn mới (cập nhật nơi cư trú); `elsewhere` — vẫn sinh sống nơi khác, cần "
                      "`residence_exception`. Bắt buộc, trừ khi CTV đã cư trú tại thôn mới"),
    Field("residence_exception", "text", False, 2000,
          description="Giải trình ngoại lệ nơi cư trú (ít nhất 10 ký tự) khi `residence` là `elsewhere`"),
    Field("note", "text", False, 2000, description="Ghi chú (lý do điều chuyển)"),
]

ADD_HAMLET = [
    Field("hamlet_id", "id", True, description="Thôn/tổ dân phố kiêm nhiệm thêm (khi tỉnh cho phép)"),
    Field("on", "date", True, description=_ON),
    Field("decision_ref", "str", False, 200, description="Số quyết định phân công"),
]

END_COVER = [
    Field("on", "date", True, description=_ON),
    Field("note", "text", False, 2000, description="Ghi chú"),
]

SUSPEND = [
    Field("on", "date", True, description=_ON),
    Field("reason", "text", True, 2000, description="Lý do tạm đình chỉ"),
]

REINSTATE = [
    Field("on", "date", True, description="Ngày hoạt động trở lại (không ở tương lai)"),
    Field("note", "text", False, 2000, description="Ghi chú"),
]

TERMINATE = [
    Field("on", "date", True, description="Ngày nghỉ việc: mọi phân công đang có kết thúc ngày này"),
    Field("reason", "enum", True, choices=REASONS, description="Lý do nghỉ việc"),
    Field("note", "text", False, 2000, description="Ghi chú"),
]

VISIT_CREATE = [
    Field("visited_on", "date", True, description="Ngày giám sát (không được ở tương lai)"),
    Field("checklist", "answers", True, choices=tuple(i.value for i in ChecklistItem),
          description="Bảng kiểm: mỗi nội dung true (Đạt), false (Chưa đạt) hoặc null (không kiểm tra); "
                      "nội dung không nêu coi như không kiểm tra; phải đánh giá ít nhất một nội dung"),
    Field("findings", "text", False, 4000, description="Nhận xét, phát hiện"),
    Field("follow_up", "text", False, 2000, description="Nội dung cần khắc phục (đi cùng follow_up_due)"),
    Field("follow_up_due", "date", description="Hạn khắc phục (không trước ngày giám sát)"),
]

FOLLOW_UP_CLOSE = [
    Field("closed_on", "date", True, description="Ngày hoàn thành khắc phục"),
    Field("result", "text", True, 2000, description="Kết quả khắc phục"),
]

MEETING_PUT = [
    Field("held_on", "date", True, description="Ngày họp giao ban (trong tháng giao ban hoặc sau, không ở tương lai)"),
    Field("attendance", "attendance", True,
          description="Điểm danh: mỗi CTV một dòng {collaborator_id, attended, p0_submitted, note?}; "
                      "CTV không nêu giữ nguyên dòng đã ghi (nếu có)"),
    Field("note", "text", False, 2000, description="Ghi chú buổi họp"),
]


def parse_month(raw: str, field: str = "month") -> date:
    """``YYYY-MM`` → the first day of that month."""
    match = MONTH_RE.match(raw or "")
    low, high = QUERY_YEARS
    if match and 1 <= int(match.group(2)) <= 12 and low <= int(match.group(1)) <= high:
        return date(int(match.group(1)), int(match.group(2)), 1)
    raise ValidationFailed(_l("Tháng phải có dạng YYYY-MM (ví dụ 2025-10), năm từ %(a)d đến %(b)d.", a=low, b=high),
                           field=field)


def month(value: date | None) -> str | None:
    return value.strftime("%Y-%m") if value else None


# --- responses --------------------------------------------------------------------------------


def status_fields(status: str) -> dict:
    return {"status": str(status), "status_label": str(STATUS_LABELS.get(str(status), status))}


def roster_row(r, personal: bool) -> dict:
    return {
        "collaborator": person_ref(r.collaborator_id, r.full_name),
        **personal_fields(r, personal), "sex": r.sex, "is_village_health_worker": r.is_vhw,
        "hamlet": {"id": r.hamlet_id, "name": r.hamlet_name, "type": r.hamlet_type},
        "commune": place(r.commune_id, r.commune_name),
        "assignment": {"kind": r.assignment_kind, "kind_label": kind_label(r.assignment_kind),
                       "started_on": day(r.started_on), "ended_on": day(r.ended_on), "end_reason": r.end_reason,
                       "end_reason_label": end_reason_label(r.end_reason) or None},
        "activated_on": day(r.activated_on), **status_fields(r.status),
    }


def assignment(a) -> dict:
    return {"id": a.id, "hamlet": unit(a.hamlet), "commune": unit(a.hamlet.parent) if a.hamlet.parent else None,
            "kind": a.kind, "kind_label": kind_label(a.kind), "started_on": day(a.started_on),
            "ended_on": day(a.ended_on), "end_reason": a.end_reason,
            "end_reason_label": end_reason_label(a.end_reason) or None, "end_note": a.end_note,
            "decision_ref": a.decision_ref or (a.decision.number if a.decision else None),
            "allowance_tier": a.allowance_tier, "residence_exception": a.residence_exception}


def duty(d) -> dict:
    """A period of a duty held with population work (collaborators.models.CollaboratorDuty)."""
    return {"kind": d.duty, "kind_label": duty_label(d.duty), "started_on": day(d.started_on),
            "ended_on": day(d.ended_on), "decision_ref": d.decision_ref}


def suspension(s) -> dict:
    return {"id": s.id, "started_on": day(s.started_on), "ended_on": day(s.ended_on), "reason": s.reason,
            "end_note": s.end_note}


def handover(h) -> dict:
    return {"id": h.id, "hamlet": unit(h.hamlet), "assignment_id": h.assignment_id,
            "from_collaborator_id": h.from_collaborator_id, "requested_on": day(h.requested_on),
            "handed_on": day(h.handed_on), "received_by": h.received_by,
            "to_collaborator_id": h.to_collaborator_id, "note": h.note}


def person(c, personal: bool) -> dict:
    return {"full_name": c.full_name, "sex": c.sex,
            "sex_label": str(SEX_LABELS.get(Sex(c.sex), c.sex)), "ethnicity": c.ethnicity,
            **personal_fields(c, personal),
            "education": c.education,
            "education_label": str(EDUCATION_LABELS.get(Education(c.education), c.education)),
            "is_village_health_worker": c.is_village_health_worker, "languages": c.languages,
            "residence_hamlet_id": c.residence_hamlet_id}


def profile(c, *, on: date, status: str, current: list, handovers: list, personal: bool, can: dict) -> dict:
    return {
        "id": c.id, "full_name": c.full_name, "person": person(c.candidate, personal),
        "application_id": c.application_id, "activated_on": day(c.activated_on), "as_of": day(on),
        **status_fields(status), "current_assignment_ids": [a.id for a in current],
        "assignments": [assignment(a) for a in sorted(c.assignments, key=lambda a: (a.started_on, a.id))],
        "suspensions": [suspension(s) for s in c.suspensions],
        "duties": [duty(d) for d in c.duties],
        "handovers": [handover(h) for h in handovers], "can": can,
    }


def quota_row(r) -> dict:
    return {"hamlet": {**unit(r.hamlet), "type": r.hamlet.type, "is_difficult": r.hamlet.is_difficult,
                       "is_ethnic_minority": r.hamlet.is_ethnic_minority},
            "commune": unit(r.commune), "households": r.households, "quota": r.quota, "active": r.active,
            "suspended": r.suspended, "households_per_collaborator": _round(r.households_per_collaborator),
            "flag": r.flag, "flag_label": str(FLAG_LABELS.get(r.flag, r.flag))}


def quota_totals(t) -> dict:
    return {"hamlets": t.hamlets, "households": t.households, "quota": t.quota, "active": t.active,
            "suspended": t.suspended, "under": t.under, "over": t.over, "empty": t.empty,
            "without_quota": t.without_quota, "unknown": t.unknown,
            "households_per_collaborator": _round(t.households_per_collaborator)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def person_ref(collaborator_id: int, full_name: str) -> dict:
    return {"id": collaborator_id, "full_name": full_name}


def place(unit_id: int, name: str) -> dict:
    return {"id": unit_id, "name": name}


def user_ref(user) -> dict | None:
    return {"username": user.username, "full_name": user.full_name} if user is not None else None


def checklist_items() -> list[dict]:
    return [{"item": i.value, "label": str(CHECKLIST_LABELS[i]), "duty": str(CHECKLIST_DUTIES[i])}
            for i in ChecklistItem]


def visit(v) -> dict:
    checklist = {i.value: (v.checklist or {}).get(i.value) for i in ChecklistItem}
    return {
        "id": v.id, "collaborator": person_ref(v.collaborator_id, v.collaborator.full_name),
        "hamlet": unit(v.hamlet), "supervisor": user_ref(v.supervisor), "visited_on": day(v.visited_on),
        "checklist": checklist,
        "checklist_labels": {k: str(ANSWER_LABELS[a]) for k, a in checklist.items()},
        "score": v.score, "findings": v.findings, "follow_up": v.follow_up, "follow_up_due": day(v.follow_up_due),
        "follow_up_closed_on": day(v.follow_up_closed_on), "follow_up_result": v.follow_up_result,
        "created_at": timestamp(v.created_at),
    }


def overdue(row) -> dict:
    return {"collaborator": person_ref(row.collaborator_id, row.full_name),
            "hamlet": place(row.hamlet_id, row.hamlet_name), "commune": place(row.commune_id, row.commune_name),
            "last_visit": day(row.last_visit), "since": day(row.since), "interval_days": row.interval_days,
            "due_on": day(row.due_on), "days_overdue": row.days_overdue}


def follow_up(row) -> dict:
    v = row.visit
    return {"visit_id": v.id, "collaborator": person_ref(v.collaborator_id, v.collaborator.full_name),
            "hamlet": unit(v.hamlet), "commune": unit(v.hamlet.parent) if v.hamlet.parent else None,
            "visited_on": day(v.visited_on), "supervisor": user_ref(v.supervisor), "follow_up": v.follow_up,
            "follow_up_due": day(v.follow_up_due), "overdue": row.overdue, "days_late": row.days_late}


def review(row) -> dict:
    return {"collaborator": person_ref(row.collaborator_id, row.full_name),
            "hamlet": place(row.hamlet_id, row.hamlet_name), "commune": place(row.commune_id, row.commune_name),
            "missed": [{"month": month(m.month), "held_on": day(m.held_on), "reason": m.reason,
                        "reason_label": str(MISS_LABELS.get(m.reason, m.reason))} for m in row.missed]}


def meeting(m) -> dict | None:
    if m is None:
        return None
    return {"id": m.id, "month": month(m.month), "held_on": day(m.held_on), "note": m.note,
            "created_at": timestamp(m.created_at)}


def meeting_summary(s) -> dict:
    return {**meeting(s.meeting), "rows": s.rows, "attended": s.attended, "p0_submitted": s.p0}


def meeting_sheet(commune, month_day: date, found, roster) -> dict:
    rows = []
    for r in roster:
        a = r.attendance
        rows.append({"collaborator": person_ref(r.collaborator.id, r.collaborator.full_name),
                     "hamlets": [place(h.id, h.name) for h in r.hamlets],
                     "attendance": None if a is None else {"attended": a.attended, "p0_submitted": a.p0_submitted,
                                                           "note": a.note}})
    return {"commune": unit(commune), "month": month(month_day), "meeting": meeting(found), "rows": rows}
