"""Request parsing (shape only) and response serialisers for the JSON API.

Each request body is described once, as a list of :class:`Field`: the parser checks it and the
OpenAPI document (:mod:`.openapi`) is generated from it, so the two cannot drift apart. Rules
about the *content* (a CCCD's digits, a date in the future, who may act) stay in the services.
Unknown fields are ignored; a body that is not a JSON object is a 400; a field of the wrong type
is a 422 naming the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_babel import lazy_gettext as _l

from ..common.paging import PER_PAGE, Page
from ..common.params import YEARS
from ..errors import DomainError, ValidationFailed
from ..recruitment import rules
from ..recruitment.labels import EDUCATION_LABELS, EVENT_LABELS, SEX_LABELS
from ..recruitment.models import DOSSIER_ITEMS, Education, Sex
from ..recruitment.services import action_label, dossier_label, state_label
from ..recruitment.workflow import Action, State
from ..textnorm import is_ascii_digits

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database


class MalformedRequest(DomainError):
    """The body is not JSON, or not a JSON object."""

    status = 400


@dataclass(frozen=True)
class Field:
    """One field of a request body. ``kind``: str, text, int, id, bool, date, enum, flags (an
    object of booleans), checks (manual criteria: code → {ok, note}), ids (a list of ids),
    answers (an object of true/false/null: a visit's checklist), attendance (a list of
    {collaborator_id, attended, p0_submitted, note?}, parsed to {id: (attended, p0, note)})."""

    name: str
    kind: str
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    description: str = ""


def _named(field: str):
    return f"“{field}”"


def _check(field: Field, value, problems: list[tuple[str, str]]):
    """The value converted to Python, or ``None`` after noting a problem."""
    name = _named(field.name)

    def bad(message):
        problems.append((field.name, str(message)))

    if field.kind in ("str", "text", "enum"):
        if not isinstance(value, str):
            return bad(_l("Trường %(f)s phải là chuỗi ký tự.", f=name))
        if field.max_length and len(value) > field.max_length:
            return bad(_l("Trường %(f)s dài quá %(n)d ký tự.", f=name, n=field.max_length))
        if field.kind == "enum" and value not in field.choices:
            return bad(_l("Trường %(f)s phải là một trong các giá trị: %(c)s.", f=name, c=", ".join(field.choices)))
        return value
    if field.kind in ("int", "id"):
        if isinstance(value, bool) or not isinstance(value, int):
            return bad(_l("Trường %(f)s phải là số nguyên.", f=name))
        if field.kind == "id" and not 1 <= value <= MAX_ID:
            return bad(_l("Trường %(f)s phải là mã số dương.", f=name))
        if field.kind == "int" and abs(value) > MAX_ID:
            return bad(_l("Trường %(f)s quá lớn.", f=name))
        return value
    if field.kind == "bool":
        if not isinstance(value, bool):
            return bad(_l("Trường %(f)s phải là true hoặc false.", f=name))
        return value
    if field.kind == "date":
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            return bad(_l("Trường %(f)s phải là ngày dạng YYYY-MM-DD (ví dụ 2025-09-30).", f=name))
    if field.kind == "flags":
        if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
            return bad(_l("Trường %(f)s phải là đối tượng JSON với giá trị true/false cho từng giấy tờ.", f=name))
        return value
    if field.kind == "checks":
        ok = isinstance(value, dict) and all(
            isinstance(v, dict) and isinstance(v.get("ok", False), bool)
            and isinstance(v.get("note") or "", str) for v in value.values())
        if not ok:
            return bad(_l("Trường %(f)s phải có dạng {\"MÃ_TIÊU_CHÍ\": {\"ok\": true, \"note\": \"…\"}}.", f=name))
        return value
    if field.kind == "answers":
        if not isinstance(value, dict) or not all(v is None or isinstance(v, bool) for v in value.values()):
            return bad(_l("Trường %(f)s phải là đối tượng JSON với giá trị true (Đạt), false (Chưa đạt) hoặc "
                          "null (không kiểm tra) cho từng nội dung.", f=name))
        return value
    if field.kind == "attendance":
        return _attendance(field, value, bad)
    if field.kind == "ids":
        if (not isinstance(value, list) or not value or len(value) > 500
                or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ID for v in value)):
            return bad(_l("Trường %(f)s phải là danh sách mã hồ sơ (1–500 số nguyên dương).", f=name))
        return list(dict.fromkeys(value))
    raise AssertionError(field.kind)


ATTENDANCE_MAX = 1000  # more rows than any commune has collaborators
ATTENDANCE_NOTE_MAX = 300


def _attendance(field: Field, value, bad):
    """A list of ``{collaborator_id, attended, p0_submitted, note?}``; one row per collaborator."""
    name = _named(field.name)
    if not isinstance(value, list) or not value or len(value) > ATTENDANCE_MAX:
        return bad(_l("Trường %(f)s phải là danh sách (1–%(n)d dòng) dạng "
                      "{\"collaborator_id\": 12, \"attended\": true, \"p0_submitted\": true}.",
                      f=name, n=ATTENDANCE_MAX))
    rows: dict[int, tuple] = {}
    for i, row in enumerate(value, start=1):
        cid = row.get("collaborator_id") if isinstance(row, dict) else None
        note = row.get("note") if isinstance(row, dict) else None
        if (not isinstance(cid, int) or isinstance(cid, bool) or not 1 <= cid <= MAX_ID
                or not isinstance(row.get("attended"), bool) or not isinstance(row.get("p0_submitted"), bool)
                or not (note is None or (isinstance(note, str) and len(note) <= ATTENDANCE_NOTE_MAX))):
            return bad(_l("Dòng %(i)d của %(f)s phải có collaborator_id (số nguyên dương), attended và p0_submitted "
                          "(true/false), note (chuỗi, tối đa %(n)d ký tự) nếu có.", i=i, f=name,
                          n=ATTENDANCE_NOTE_MAX))
        if cid in rows:
            return bad(_l("Cộng tác viên mã %(c)d có hai dòng trong %(f)s.", c=cid, f=name))
        rows[cid] = (row["attended"], row["p0_submitted"], note)
    return rows


def json_body() -> dict:
    """The request body as a JSON object, or :class:`MalformedRequest` with the reason."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise MalformedRequest(_l("Thiếu nội dung JSON trong yêu cầu (Content-Type: application/json)."))
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise MalformedRequest(_l("Nội dung yêu cầu phải được mã hoá UTF-8.")) from None
    except json.JSONDecodeError as e:
        raise MalformedRequest(_l("Nội dung yêu cầu không phải JSON hợp lệ (dòng %(l)d, cột %(c)d).",
                                  l=e.lineno, c=e.colno)) from None
    if not isinstance(data, dict):
        raise MalformedRequest(_l("Nội dung yêu cầu phải là một đối tượng JSON {…}."))
    return data


def parse(fields: list[Field], data: dict | None = None) -> dict:
    """Check ``data`` (default: the request body) against ``fields``; every problem is listed.
    Optional fields that are absent or ``null`` are left out of the result."""
    data = json_body() if data is None else data
    problems: list[tuple[str, str]] = []
    values = {}
    for field in fields:
        value = data.get(field.name)
        if value is None:
            if field.required:
                problems.append((field.name, str(_l("Thiếu trường bắt buộc %(f)s.", f=_named(field.name)))))
            continue
        before = len(problems)
        converted = _check(field, value, problems)
        if len(problems) == before:
            values[field.name] = converted
    if problems:
        raise ValidationFailed(problems[0][1], problems=[p for _, p in problems], field=problems[0][0])
    return values


def query_int(name: str, default: int, *, low: int = 1, high: int = MAX_ID) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not is_ascii_digits(raw) or not low <= int(raw) <= high:
        raise ValidationFailed(_l("Tham số %(f)s phải là số nguyên từ %(a)d đến %(b)d.", f=_named(name), a=low, b=high),
                               field=name)
    return int(raw)


QUERY_YEARS = YEARS  # one bound for pages and API (common/params.py)


def query_date(name: str, default: date | None = None) -> date | None:
    """A ``YYYY-MM-DD`` query parameter (``as_of`` and the like)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        if len(raw) != 10:
            raise ValueError
        value = date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(_l("Tham số %(f)s phải là ngày dạng YYYY-MM-DD (ví dụ 2025-09-30).", f=_named(name)),
                               field=name) from None
    if not QUERY_YEARS[0] <= value.year <= QUERY_YEARS[1]:
        raise ValidationFailed(_l("Tham số %(f)s phải là ngày trong các năm %(a)d–%(b)d.", f=_named(name),
                                  a=QUERY_YEARS[0], b=QUERY_YEARS[1]), field=name)
    return value


def query_bool(name: str) -> bool | None:
    """``true``/``false`` (also ``1``/``0``); absent or empty: no filter."""
    raw = request.args.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    raise ValidationFailed(_l("Tham số %(f)s phải là true hoặc false.", f=_named(name)), field=name)


def query_choice(name: str, choices) -> str | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if raw not in choices:
        raise ValidationFailed(_l("Tham số %(f)s phải là một trong các giá trị: %(c)s.", f=_named(name),
                                  c=", ".join(choices)), field=name)
    return raw


# --- request bodies ---------------------------------------------------------------------------

TOKEN_REQUEST = [
    Field("username", "str", True, 80, description="Tên đăng nhập"),
    Field("password", "str", True, 200, description="Mật khẩu"),
    Field("name", "str", False, 100, description="Tên gợi nhớ của mã (vd. “Ứng dụng Excel của trạm”)"),
]

APPLICATION_CREATE = [
    Field("hamlet_id", "id", True, description="Thôn/tổ dân phố tuyển CTV"),
    Field("full_name", "str", True, 200, description="Họ và tên"),
    Field("date_of_birth", "date", True, description="Ngày sinh (YYYY-MM-DD)"),
    Field("sex", "enum", True, choices=tuple(s.value for s in Sex), description="Giới tính"),
    Field("ethnicity", "str", True, 60, description="Dân tộc"),
    Field("national_id", "str", True, 20, description="Số CCCD (12 chữ số)"),
    Field("residence_hamlet_id", "id", True, description="Thôn/tổ dân phố nơi đang sinh sống"),
    Field("education", "enum", True, choices=tuple(e.value for e in Education), description="Trình độ học vấn"),
    Field("phone", "str", False, 20, description="Số điện thoại"),
    Field("is_village_health_worker", "bool", description="Là nhân viên y tế thôn bản"),
    Field("languages", "str", False, 200, description="Ngôn ngữ sử dụng"),
    Field("speaks_local_language", "bool", description="Biết tiếng dân tộc tại địa phương"),
    Field("prior_experience", "str", False, 300, description="Kinh nghiệm"),
    Field("resident_since", "date", description="Cư trú tại thôn từ ngày"),
    Field("nominated_by", "str", False, 200, description="Người/cuộc họp giới thiệu"),
]

DOSSIER_UPDATE = [
    Field("items", "flags", True, choices=DOSSIER_ITEMS,
          description="Giấy tờ đã có trong hồ sơ; giấy tờ không nêu được coi là chưa có"),
    Field("application_signed_on", "date", description="Ngày ký đơn tình nguyện"),
    Field("exception_justification", "text", False, 2000,
          description="Giải trình ngoại lệ trình độ tiểu học (thôn khó khăn/DTTS)"),
]

TRANSITION = [
    Field("action", "enum", True, choices=tuple(a.value for a in Action), description="Thao tác"),
    Field("comment", "text", False, 2000, description="Ý kiến; bắt buộc khi từ chối hoặc trả lại"),
    Field("on", "date", description="Ngày thực hiện (mặc định hôm nay; với activate là ngày bắt đầu hoạt động)"),
    Field("manual_checks", "checks", choices=tuple(rules.MANUAL_CODES),
          description="Thẩm định tại trạm: mỗi tiêu chí {\"ok\": true, \"note\": \"…\"}"),
    Field("ranking", "int", description="Thứ tự ưu tiên (≥ 1)"),
    Field("override_reason", "text", False, 2000, description="Lý do phê duyệt vượt tiêu chuẩn"),
    Field("contract_date", "date", description="Ngày ký hợp đồng trách nhiệm"),
    Field("contract_number", "str", False, 60, description="Số hợp đồng"),
    Field("allowance_tier", "str", False, 60, description="Mức bồi dưỡng"),
]

DECISION_CREATE = [
    Field("application_ids", "ids", True, description="Các hồ sơ đã phê duyệt đưa vào quyết định"),
    Field("number", "str", True, 60, description="Số quyết định"),
    Field("issued_on", "date", True, description="Ngày quyết định"),
    Field("signer_name", "str", True, 200, description="Người ký"),
    Field("signer_title", "str", False, 200, description="Chức vụ người ký"),
    Field("issuer_name", "str", False, 250,
          description="Cơ quan ban hành (mặc định: cơ sở y tế nơi người gọi được phân quyền)"),
]

# Service field names that differ from the API's.
_API_FIELDS = {"hamlet": "hamlet_id", "residence_hamlet": "residence_hamlet_id"}


def api_field(field: str | None) -> str | None:
    return _API_FIELDS.get(field, field) if field else None


# --- responses --------------------------------------------------------------------------------


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 with the time zone, in the app's zone (Việt Nam, +07:00)."""
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite returns UTC without a zone
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).isoformat()


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def error(status: int, message, *, problems: list[str] | None = None, field: str | None = None) -> dict:
    body: dict = {"error": str(message), "status": status}
    if field:
        body["field"] = field
    if problems is not None:
        body["problems"] = [str(p) for p in problems]
    return body


def unit(u) -> dict:
    return {"id": u.id, "code": u.code, "name": u.name, "full_name": u.full_name}


def vacancy(v) -> dict:
    return {"hamlet": {**unit(v.hamlet), "households": v.households}, "commune": unit(v.commune),
            "quota": v.quota, "active": v.active, "missing": v.missing, "open_applications": v.open_applications}


def state_fields(value: str) -> dict:
    return {"state": value, "state_label": state_label(value)}


def application_summary(a) -> dict:
    return {"id": a.id, **state_fields(a.state), "version": a.version, "candidate": {"full_name": a.candidate.full_name},
            "hamlet": unit(a.hamlet), "commune": unit(a.hamlet.parent), "screening_passed": a.screening_passed,
            "overridden": a.overridden, "decision_id": a.decision_id, "updated_at": timestamp(a.updated_at)}


def personal(p, visible: bool) -> dict:
    """A person's CCCD, phone and date of birth as the caller may see them (``auth.personal_data``):
    ``null`` when hidden; the year of birth is always given."""
    born = p.date_of_birth
    return {"national_id": p.national_id if visible else None, "phone": p.phone if visible else None,
            "date_of_birth": day(born) if visible else None, "year_of_birth": born.year if born else None}


def candidate(c, visible: bool) -> dict:
    return {"full_name": c.full_name, "sex": c.sex,
            "sex_label": str(SEX_LABELS.get(Sex(c.sex), c.sex)), "ethnicity": c.ethnicity,
            **personal(c, visible), "residence_hamlet_id": c.residence_hamlet_id,
            "resident_since": day(c.resident_since), "education": c.education,
            "education_label": str(EDUCATION_LABELS.get(Education(c.education), c.education)),
            "is_village_health_worker": c.is_village_health_worker, "languages": c.languages,
            "speaks_local_language": c.speaks_local_language, "prior_experience": c.prior_experience}


def decision(d) -> dict:
    return {"id": d.id, "number": d.number, "year": d.year, "issued_on": day(d.issued_on),
            "signer_name": d.signer_name, "signer_title": d.signer_title, "issuer_name": d.issuer_name,
            "application_ids": [a.id for a in d.applications]}


def application_detail(a, actions: list, *, personal_data: bool) -> dict:
    dossier = a.dossier or {}
    results = []
    for r in a.screening or []:
        rule = rules.RULES.get(r["code"])
        results.append({**r, "label": str(rule.label) if rule else r["code"], "kind": rule.kind.value if rule else None,
                        "source": rule.source if rule else None})
    return {
        **application_summary(a),
        "candidate": candidate(a.candidate, personal_data),
        "nominated_by": a.nominated_by,
        "created_at": timestamp(a.created_at),
        "dossier": {
            "items": {k: bool(dossier.get(k)) for k in DOSSIER_ITEMS},
            "labels": {k: dossier_label(k) for k in DOSSIER_ITEMS},
            "application_signed_on": day(a.application_signed_on),
            "exception_justification": a.exception_justification,
        },
        "screening": None if a.screening is None else {
            "criteria_version": a.criteria_set.version if a.criteria_set else None, "passed": a.screening_passed,
            "screened_on": day(a.screened_on), "results": results},
        "override_reason": a.override_reason,
        "manual_checks": a.manual_checks,
        "ranking": a.ranking,
        "review_note": a.review_note,
        "rejection_reason": a.rejection_reason,
        "decision": decision(a.decision) if a.decision else None,
        "contract": {"number": a.contract_number, "date": day(a.contract_date), "allowance_tier": a.allowance_tier},
        "activated_on": day(a.activated_on),
        "available_actions": [{"action": x.value, "label": action_label(x)} for x in actions],
    }


def event(e, full_names: dict[int, str] | None = None) -> dict:
    label = EVENT_LABELS.get(e.action)
    return {"id": e.id, "action": e.action, "action_label": str(label) if label else e.action,
            "from_state": e.from_state, "from_state_label": state_label(e.from_state) if e.from_state else None,
            "to_state": e.to_state, "to_state_label": state_label(e.to_state), "actor": e.actor_name,
            "actor_full_name": (full_names or {}).get(e.actor_id), "at": timestamp(e.at), "comment": e.comment,
            "data": e.data}


STATES = tuple(s.value for s in State)


API_MAX_PER_PAGE = 500


def query_page() -> tuple[int, int]:
    """``(page, per_page)`` of an API list: ``page`` ≥ 1, ``per_page`` 1–500 (default 50)."""
    return query_int("page", 1), query_int("per_page", PER_PAGE, high=API_MAX_PER_PAGE)


def page_json(page: Page, serialise, **extra) -> dict:
    """The one shape of an API list: the page's items and the counts of the whole list."""
    return dict(items=[serialise(item) for item in page.items], total=page.total, page=page.page,
                per_page=page.per_page, pages=page.pages, **extra)
