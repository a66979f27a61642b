"""The OpenAPI 3.1 document of ``/api/v1``, served at ``/api/v1/openapi.json``.

Request bodies are generated from the field lists the parser uses (:mod:`.schemas`), so the
document describes exactly what is checked. A test walks ``app.url_map`` to prove every API
route is described and every described path exists.
"""

from __future__ import annotations

from copy import deepcopy

from ..collaborators.models import DutyKind, EndReason
from ..collaborators.services import ROSTER_STATUSES, SORTS, TENURES
from ..common.paging import PER_PAGE
from ..recruitment import rules
from ..recruitment.models import DOSSIER_ITEMS
from ..supervision.models import ChecklistItem
from . import network_schemas, schemas
from .auth import TOKEN_LIFETIME

_JSON = "application/json"
VISIT_ITEMS = tuple(i.value for i in ChecklistItem)
END_REASONS = [r.value for r in EndReason]

_KINDS = {
    "str": {"type": "string"},
    "text": {"type": "string"},
    "int": {"type": "integer"},
    "id": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_ID},
    "bool": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
}


def _field_schema(field: schemas.Field) -> dict:
    if field.kind == "enum":
        schema = {"type": "string", "enum": list(field.choices)}
    elif field.kind == "flags":
        schema = {"type": "object", "properties": {k: {"type": "boolean"} for k in field.choices},
                  "additionalProperties": {"type": "boolean"}}
    elif field.kind == "checks":
        check = {"type": "object", "properties": {"ok": {"type": "boolean"}, "note": {"type": "string"}}}
        schema = {"type": "object", "properties": {k: check for k in field.choices}, "additionalProperties": check}
    elif field.kind == "answers":
        answer = {"type": ["boolean", "null"]}
        schema = {"type": "object", "properties": {k: answer for k in field.choices}, "additionalProperties": answer}
    elif field.kind == "attendance":
        schema = {"type": "array", "minItems": 1, "maxItems": schemas.ATTENDANCE_MAX, "items": {
            "type": "object", "required": ["collaborator_id", "attended", "p0_submitted"],
            "properties": {"collaborator_id": deepcopy(_KINDS["id"]), "attended": {"type": "boolean"},
                           "p0_submitted": {"type": "boolean", "description": "Đã nộp phiếu P0/CTV"},
                           "note": {"type": ["string", "null"], "maxLength": schemas.ATTENDANCE_NOTE_MAX}}}}
    elif field.kind == "ids":
        schema = {"type": "array", "items": deepcopy(_KINDS["id"]), "minItems": 1, "maxItems": 500}
    else:
        schema = deepcopy(_KINDS[field.kind])
    if field.max_length:
        schema["maxLength"] = field.max_length
    if field.description:
        schema["description"] = field.description
    if not field.required:  # optional fields may also be null
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def request_schema(fields: list[schemas.Field]) -> dict:
    return {"type": "object", "properties": {f.name: _field_schema(f) for f in fields},
            "required": [f.name for f in fields if f.required],
            "description": "Trường không có trong danh sách được bỏ qua."}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(name: str) -> dict:
    return {"required": True, "content": {_JSON: {"schema": _ref(name)}}}


def _ok(description: str, schema: str | dict) -> dict:
    return {"description": description, "content": {_JSON: {"schema": _ref(schema) if isinstance(schema, str)
                                                           else schema}}}


_ERRORS = {
    "400": "Nội dung không phải JSON hợp lệ hoặc không phải đối tượng JSON.",
    "401": "Thiếu mã truy cập, mã sai, hết hạn hoặc đã thu hồi.",
    "403": "Ngoài phạm vi hoặc vai trò không được phép.",
    "404": "Không tìm thấy.",
    "409": "Xung đột: thao tác không hợp lệ ở trạng thái hiện tại, số quyết định đã dùng, "
           "hoặc người khác vừa xử lý cùng hồ sơ.",
    "410": "Tệp đã hết hạn (chỉ được giữ một ngày) và đã được xoá.",
    "422": "Dữ liệu sai kiểu hoặc vi phạm quy định; có `field` và `problems`.",
    "429": "Thử quá nhiều lần.",
    "503": "Hệ thống đang bận (cơ sở dữ liệu chưa nhận ghi lúc này); không có gì thay đổi. Thử lại sau số giây "
           "trong tiêu đề `Retry-After`.",
}


def _errors(*codes: str) -> dict:
    return {code: {"$ref": f"#/components/responses/E{code}"} for code in codes}


_ID_PARAM = {"name": "application_id", "in": "path", "required": True, "description": "Mã hồ sơ",
             "schema": {"type": "integer", "minimum": 1}}
_COMMUNE_PARAM = {"name": "commune", "in": "query", "required": False,
                  "description": "Mã xã/phường (5 chữ số) trong phạm vi của bạn",
                  "schema": {"type": "string", "pattern": "^[0-9]{5}$"}}

_NULLABLE_STR = {"type": ["string", "null"]}
_NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
# Who sees a person's CCCD, phone and date of birth: danso_network.auth.personal_data (NĐ 13/2023/NĐ-CP).
_PERSONAL = ("null khi người gọi không được xem dữ liệu cá nhân của người này: chỉ vai trò nghiệp vụ (trạm, "
             "TTYT khu vực, Sở) tại thôn của người đó và UBND xã với hồ sơ đang chờ mình xác nhận được xem; "
             "người chỉ xem và UBND xã nhận null")
_PERSONAL_FIELDS = {
    "national_id": {"type": ["string", "null"], "description": "Số CCCD; " + _PERSONAL},
    "phone": {"type": ["string", "null"], "description": "Số điện thoại; " + _PERSONAL},
    "date_of_birth": {"type": ["string", "null"], "format": "date", "description": "Ngày sinh; " + _PERSONAL},
    "year_of_birth": {"type": ["integer", "null"], "description": "Năm sinh, luôn trả về"},
}
_UNIT = {"type": "object", "required": ["id", "name", "full_name"],
         "properties": {"id": {"type": "integer"}, "code": _NULLABLE_STR, "name": {"type": "string"},
                        "full_name": {"type": "string"}}}

_RESPONSES = {
    "Error": {
        "type": "object", "required": ["error", "status"],
        "properties": {
            "error": {"type": "string", "description": "Thông báo tiếng Việt cho người dùng"},
            "status": {"type": "integer"},
            "field": {"type": "string", "description": "Trường gây lỗi (nếu xác định được)"},
            "problems": {"type": "array", "items": {"type": "string"},
                         "description": "Mọi vấn đề tìm thấy (chỉ với lỗi 422)"},
        },
    },
    "Token": {
        "type": "object", "required": ["token", "expires_at"],
        "properties": {"token": {"type": "string", "description": "Chỉ hiển thị một lần; máy chủ chỉ lưu mã băm"},
                       "token_type": {"const": "Bearer"}, "name": {"type": "string"},
                       "expires_at": {"type": "string", "format": "date-time"}},
    },
    "Revoked": {"type": "object", "properties": {"revoked": {"type": "boolean"}, "message": {"type": "string"}}},
    "Unit": _UNIT,
    "Vacancy": {
        "type": "object",
        "properties": {"hamlet": {"allOf": [_ref("Unit")], "properties": {"households": {"type": "integer"}}},
                       "commune": _ref("Unit"),
                       "quota": {"type": ["integer", "null"],
                                 "description": "null: tỉnh chưa có bộ tiêu chuẩn tuyển chọn có hiệu lực"},
                       "active": {"type": "integer"},
                       "missing": {"type": ["integer", "null"], "description": "null khi chưa xác định định mức "
                                   "(thôn được liệt kê vì chưa có CTV nào; mỗi thôn ít nhất một CTV)"},
                       "open_applications": {"type": "integer"}},
    },
    "VacancyList": {"type": "object", "required": ["items", "total", "page", "pages"],
                    "properties": {"items": {"type": "array", "items": _ref("Vacancy")},
                                   "total": {"type": "integer", "description": "Số thôn còn thiếu (toàn danh sách)"},
                                   "page": {"type": "integer"}, "per_page": {"type": "integer"},
                                   "pages": {"type": "integer"},
                                   "empty": {"type": "integer", "description": "Số thôn chưa có CTV nào"},
                                   "missing": {"type": "integer", "description": "Số CTV còn thiếu so với định mức"},
                                   "unknown": {"type": "integer", "description": "Số thôn chưa xác định định mức "
                                               "(không tính vào missing)"},
                                   "no_criteria": {"type": "array", "items": _ref("Unit"),
                                                   "description": "Tỉnh chưa có bộ tiêu chuẩn tuyển chọn có hiệu lực"},
                                   "as_of": {"type": "string", "format": "date"}}},
    "ApplicationSummary": {
        "type": "object", "required": ["id", "state", "state_label", "version"],
        "properties": {
            "id": {"type": "integer"}, "state": {"type": "string", "enum": list(schemas.STATES)},
            "state_label": {"type": "string"}, "version": {"type": "integer"},
            "candidate": {"type": "object", "properties": {"full_name": {"type": "string"}}},
            "hamlet": _ref("Unit"), "commune": _ref("Unit"), "screening_passed": {"type": ["boolean", "null"]},
            "overridden": {"type": "boolean"}, "decision_id": {"type": ["integer", "null"]},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "ApplicationList": {
        "type": "object", "required": ["items", "total", "page", "pages"],
        "properties": {"items": {"type": "array", "items": _ref("ApplicationSummary")}, "total": {"type": "integer"},
                       "page": {"type": "integer"}, "per_page": {"type": "integer"}, "pages": {"type": "integer"}},
    },
    "Candidate": {
        "type": "object",
        "properties": {
            "full_name": {"type": "string"}, **_PERSONAL_FIELDS,
            "sex": {"type": "string"}, "sex_label": {"type": "string"}, "ethnicity": {"type": "string"},
            "residence_hamlet_id": {"type": "integer"},
            "resident_since": _NULLABLE_DATE, "education": {"type": "string"}, "education_label": {"type": "string"},
            "is_village_health_worker": {"type": "boolean"}, "languages": _NULLABLE_STR,
            "speaks_local_language": {"type": "boolean"}, "prior_experience": _NULLABLE_STR,
        },
    },
    "ScreeningResult": {
        "type": "object",
        "properties": {"code": {"type": "string"}, "passed": {"type": ["boolean", "null"]},
                       "detail": {"type": "string"}, "label": {"type": "string"}, "kind": _NULLABLE_STR,
                       "source": _NULLABLE_STR},
    },
    "Decision": {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "number": {"type": "string"}, "year": {"type": "integer"},
                       "issued_on": {"type": "string", "format": "date"}, "signer_name": {"type": "string"},
                       "signer_title": {"type": "string"}, "issuer_name": {"type": "string"},
                       "application_ids": {"type": "array", "items": {"type": "integer"}}},
    },
    "Application": {
        "allOf": [_ref("ApplicationSummary")],
        "properties": {
            "candidate": _ref("Candidate"), "nominated_by": _NULLABLE_STR,
            "created_at": {"type": "string", "format": "date-time"},
            "dossier": {"type": "object", "properties": {
                "items": {"type": "object", "properties": {k: {"type": "boolean"} for k in DOSSIER_ITEMS}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "application_signed_on": _NULLABLE_DATE, "exception_justification": _NULLABLE_STR}},
            "screening": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {
                "criteria_version": {"type": ["integer", "null"]}, "passed": {"type": ["boolean", "null"]},
                "screened_on": _NULLABLE_DATE, "results": {"type": "array", "items": _ref("ScreeningResult")}}}]},
            "override_reason": _NULLABLE_STR,
            "manual_checks": {"type": ["object", "null"]},
            "ranking": {"type": ["integer", "null"]},
            "review_note": _NULLABLE_STR,
            "rejection_reason": _NULLABLE_STR,
            "decision": {"anyOf": [{"type": "null"}, _ref("Decision")]},
            "contract": {"type": "object", "properties": {"number": _NULLABLE_STR, "date": _NULLABLE_DATE,
                                                          "allowance_tier": _NULLABLE_STR}},
            "activated_on": _NULLABLE_DATE,
            "available_actions": {
                "type": "array", "description": "Thao tác người gọi được làm ngay bây giờ",
                "items": {"type": "object", "properties": {"action": {"type": "string"}, "label": {"type": "string"}}}},
        },
    },
    "Event": {
        "type": "object", "required": ["action", "action_label", "to_state", "actor", "at"],
        "properties": {
            "id": {"type": "integer"}, "action": {"type": "string"}, "action_label": {"type": "string"},
            "from_state": _NULLABLE_STR, "from_state_label": _NULLABLE_STR, "to_state": {"type": "string"},
            "to_state_label": {"type": "string"}, "actor": {"type": "string", "description": "Tên đăng nhập"},
            "actor_full_name": _NULLABLE_STR,
            "at": {"type": "string", "format": "date-time", "description": "ISO 8601, có múi giờ"},
            "comment": _NULLABLE_STR, "data": {"type": ["object", "null"]},
        },
    },
    "TransitionResult": {"type": "object", "required": ["application", "event"],
                         "properties": {"application": _ref("Application"), "event": _ref("Event")}},
    "Timeline": {"type": "object",
                 "properties": {"application_id": {"type": "integer"}, "state": {"type": "string"},
                                "state_label": {"type": "string"},
                                "items": {"type": "array", "items": _ref("Event")}}},
}

_REQUESTS = {
    "TokenRequest": schemas.TOKEN_REQUEST,
    "ApplicationCreate": schemas.APPLICATION_CREATE,
    "DossierUpdate": schemas.DOSSIER_UPDATE,
    "TransitionRequest": schemas.TRANSITION,
    "DecisionCreate": schemas.DECISION_CREATE,
}

_SECURED = [{"bearerAuth": []}]


def _paths() -> dict:
    one = [_ID_PARAM]
    return {
        "/api/v1/openapi.json": {"get": {
            "operationId": "openapi", "summary": "Tài liệu OpenAPI này", "security": [],
            "responses": {"200": {"description": "Tài liệu OpenAPI 3.1", "content": {_JSON: {"schema": {"type": "object"}}}}},
        }},
        "/api/v1/auth/token": {
            "post": {
                "operationId": "createToken", "summary": "Đổi tên đăng nhập và mật khẩu lấy mã truy cập",
                "description": f"Mã có hiệu lực {TOKEN_LIFETIME.days} ngày. Số lần thử được tính chung với trang "
                               "đăng nhập (cùng một giới hạn cho mỗi địa chỉ).",
                "security": [], "requestBody": _body("TokenRequest"),
                "responses": {"201": _ok("Mã truy cập mới", "Token"), **_errors("400", "401", "422", "429", "503")},
            },
            "delete": {
                "operationId": "revokeToken", "summary": "Thu hồi mã truy cập đang dùng", "security": _SECURED,
                "responses": {"200": _ok("Đã thu hồi", "Revoked"), **_errors("401")},
            },
        },
        "/api/v1/vacancies": {"get": {
            "operationId": "listVacancies", "summary": "Thôn/tổ dân phố còn thiếu CTV (hôm nay)",
            "security": _SECURED, "parameters": [_COMMUNE_PARAM, *_PAGE],
            "responses": {"200": _ok("Một trang chỗ trống", "VacancyList"), **_errors("401", "403", "404", "422")},
        }},
        "/api/v1/applications": {
            "get": {
                "operationId": "listApplications", "summary": "Hồ sơ trong phạm vi của bạn", "security": _SECURED,
                "parameters": [
                    {"name": "state", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": list(schemas.STATES)}},
                    _COMMUNE_PARAM,
                    {"name": "q", "in": "query", "required": False, "description": "Họ tên (không dấu cũng được) "
                     "hoặc phần đầu số CCCD (số CCCD chỉ tìm được ở hồ sơ bạn được xem số CCCD)",
                     "schema": {"type": "string"}},
                    *_PAGE,
                ],
                "responses": {"200": _ok("Một trang hồ sơ", "ApplicationList"), **_errors("401", "403", "404", "422")},
            },
            "post": {
                "operationId": "createApplication", "summary": "Giới thiệu ứng viên cho một thôn",
                "security": _SECURED, "requestBody": _body("ApplicationCreate"),
                "responses": {"201": _ok("Hồ sơ mới (trạng thái nominated)", "Application"),
                              **_errors("400", "401", "403", "404", "409", "422")},
            },
        },
        "/api/v1/applications/{application_id}": {"get": {
            "operationId": "getApplication", "summary": "Một hồ sơ, với kết quả sàng lọc và thao tác được phép",
            "security": _SECURED, "parameters": one,
            "responses": {"200": _ok("Hồ sơ", "Application"), **_errors("401", "403", "404")},
        }},
        "/api/v1/applications/{application_id}/dossier": {"put": {
            "operationId": "updateDossier", "summary": "Ghi nhận giấy tờ trong hồ sơ (thay toàn bộ)",
            "security": _SECURED, "parameters": one, "requestBody": _body("DossierUpdate"),
            "responses": {"200": _ok("Hồ sơ sau khi cập nhật", "Application"),
                          **_errors("400", "401", "403", "404", "409", "422")},
        }},
        "/api/v1/applications/{application_id}/transitions": {"post": {
            "operationId": "performTransition", "summary": "Thực hiện một bước của quy trình tuyển chọn",
            "description": "Thao tác: " + ", ".join(f"`{a}`" for a in schemas.TRANSITION[0].choices)
            + ". Thẩm định (`review`) cần `manual_checks` cho các tiêu chí "
            + ", ".join(rules.MANUAL_CODES) + "; từ chối và trả lại cần `comment`; ký hợp đồng cần "
            "`contract_date` và `allowance_tier`. 409 khi thao tác không hợp lệ ở trạng thái hiện tại hoặc người "
            "khác vừa xử lý cùng hồ sơ; 403 khi vai trò của bạn không được phép.",
            "security": _SECURED, "parameters": one, "requestBody": _body("TransitionRequest"),
            "responses": {"200": _ok("Trạng thái mới và sự kiện vừa ghi", "TransitionResult"),
                          **_errors("400", "401", "403", "404", "409", "422")},
        }},
        "/api/v1/applications/{application_id}/timeline": {"get": {
            "operationId": "getTimeline", "summary": "Nhật ký các bước của hồ sơ (ai, khi nào, ý kiến)",
            "security": _SECURED, "parameters": one,
            "responses": {"200": _ok("Các sự kiện theo thứ tự thời gian", "Timeline"), **_errors("401", "403", "404")},
        }},
        "/api/v1/decisions": {"post": {
            "operationId": "issueDecision", "summary": "Ban hành quyết định công nhận cho các hồ sơ đã phê duyệt",
            "description": "Số quyết định là duy nhất trong tỉnh và năm (409 nếu đã dùng).",
            "security": _SECURED, "requestBody": _body("DecisionCreate"),
            "responses": {"201": _ok("Quyết định đã ban hành", "Decision"),
                          **_errors("400", "401", "403", "404", "409", "422")},
        }},
    }


# --- the collaborator network (issue #4 item 9) ------------------------------------------------


def _path_id(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer", "minimum": 1}}


_COLLABORATOR_ID = _path_id("collaborator_id", "Mã cộng tác viên")
_UNIT_ID = _path_id("unit_id", "Mã đơn vị hành chính (tỉnh, xã hoặc thôn); kết quả giới hạn trong phạm vi của bạn")
_COMMUNE_ID = _path_id("commune_id", "Mã xã/phường/đặc khu (mã số trong hệ thống, không phải mã 5 chữ số)")
_VISIT_ID = _path_id("visit_id", "Mã lần giám sát")
_ASSIGNMENT_ID = _path_id("assignment_id", "Mã phân công")
_MONTH = {"name": "month", "in": "path", "required": True, "description": "Tháng giao ban, dạng YYYY-MM",
          "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}
_AS_OF = {"name": "as_of", "in": "query", "required": False,
          "description": "Xem theo ngày (YYYY-MM-DD), mặc định hôm nay", "schema": {"type": "string", "format": "date"}}
_PAGE = [{"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
         {"name": "per_page", "in": "query", "required": False,
          "schema": {"type": "integer", "minimum": 1, "maximum": schemas.API_MAX_PER_PAGE, "default": PER_PAGE}}]

_INT = {"type": "integer"}
_STR = {"type": "string"}
_DATE = {"type": "string", "format": "date"}
_BOOL = {"type": "boolean"}


def _obj(required: list[str] | None = None, **properties) -> dict:
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _list_of(item: str, **extra) -> dict:
    return _obj(["items", "total"], items={"type": "array", "items": _ref(item)}, total=_INT, **extra)


def _area_list(item: str, **extra) -> dict:
    return _list_of(item, unit=_ref("Unit"), as_of=_DATE, page=_INT, per_page=_INT, pages=_INT, **extra)


_ASSIGNMENT = _obj(
    ["id", "hamlet", "kind", "started_on"],
    id=_INT, hamlet=_ref("Unit"), commune={"anyOf": [{"type": "null"}, _ref("Unit")]},
    kind={"type": "string", "enum": ["primary", "additional"]}, kind_label=_STR, started_on=_DATE,
    ended_on={"type": ["string", "null"], "format": "date", "description": "Ngày đầu tiên không còn phụ trách; "
              "null: đang phụ trách"},
    end_reason={"type": ["string", "null"], "enum": [*END_REASONS, None]}, end_reason_label=_NULLABLE_STR,
    end_note=_NULLABLE_STR, decision_ref=_NULLABLE_STR, allowance_tier=_NULLABLE_STR,
    residence_exception={"type": ["string", "null"], "description": "Giải trình ngoại lệ nơi cư trú của lần điều "
                         "chuyển (CTV không sinh sống tại thôn này); null: không có ngoại lệ"})


_NETWORK_RESPONSES = {
    "RosterRow": _obj(
        ["collaborator", "hamlet", "commune", "assignment", "status"],
        collaborator=_ref("CollaboratorRef"),
        **_PERSONAL_FIELDS, sex=_STR, is_village_health_worker=_BOOL,
        hamlet=_obj(["id", "name"], id=_INT, name=_STR, type=_STR), commune=_ref("Place"),
        assignment=_obj(["kind", "started_on"], kind=_STR, kind_label=_STR, started_on=_DATE,
                        ended_on=_NULLABLE_DATE, end_reason=_NULLABLE_STR, end_reason_label=_NULLABLE_STR),
        activated_on=_DATE, status={"type": "string", "enum": ["active", "suspended", "ended"]}, status_label=_STR),
    "Roster": _area_list("RosterRow"),
    "Assignment": _ASSIGNMENT,
    "Duty": _obj(["kind", "started_on"], kind={"type": "string", "enum": [k.value for k in DutyKind]}, kind_label=_STR,
                 started_on=_DATE, ended_on={"type": ["string", "null"], "format": "date",
                                             "description": "Ngày đầu tiên không còn kiêm nhiệm; null: đang kiêm nhiệm"},
                 decision_ref=_NULLABLE_STR),
    "Suspension": _obj(["id", "started_on", "reason"], id=_INT, started_on=_DATE, ended_on=_NULLABLE_DATE,
                       reason=_STR, end_note=_NULLABLE_STR),
    "Handover": _obj(
        ["id", "hamlet", "requested_on"], id=_INT, hamlet=_ref("Unit"), assignment_id=_INT,
        from_collaborator_id=_INT, requested_on=_DATE,
        handed_on={"type": ["string", "null"], "format": "date", "description": "null: chưa bàn giao Sổ A0"},
        received_by=_NULLABLE_STR, to_collaborator_id={"type": ["integer", "null"]}, note=_NULLABLE_STR),
    "Collaborator": _obj(
        ["id", "full_name", "person", "status", "assignments"],
        id=_INT, full_name=_STR,
        person=_obj(["full_name"], full_name=_STR, **_PERSONAL_FIELDS, sex=_STR, sex_label=_STR, ethnicity=_STR,
                    education=_STR,
                    education_label=_STR, is_village_health_worker=_BOOL, languages=_NULLABLE_STR,
                    residence_hamlet_id=_INT),
        application_id=_INT, activated_on=_DATE, as_of=_DATE,
        status={"type": "string", "enum": ["active", "suspended", "ended", "not_started"]}, status_label=_STR,
        current_assignment_ids={"type": "array", "items": _INT, "description": "Phân công có hiệu lực ngày as_of"},
        assignments={"type": "array", "items": _ref("Assignment"), "description": "Mọi phân công, cũ nhất trước"},
        suspensions={"type": "array", "items": _ref("Suspension")},
        duties={"type": "array", "items": _ref("Duty"), "description": "Nhiệm vụ kiêm nhiệm cùng công tác dân số "
                "(vd. kiêm công tác gia đình và trẻ em), cũ nhất trước"},
        handovers={"type": "array", "items": _ref("Handover"), "description": "Yêu cầu bàn giao Sổ A0 khi CTV rời thôn"},
        can=_obj(["change_assignments", "record_visits"], change_assignments=_BOOL, record_visits=_BOOL)),
    "CollaboratorChange": _obj(
        ["collaborator"], collaborator=_ref("Collaborator"),
        assignment={"allOf": [_ref("Assignment")], "description": "Phân công vừa mở hoặc vừa kết thúc"},
        suspension={"allOf": [_ref("Suspension")], "description": "Lần tạm đình chỉ vừa mở hoặc vừa kết thúc"},
        handovers={"type": "array", "items": _ref("Handover"),
                   "description": "Yêu cầu bàn giao Sổ A0 vừa phát sinh (thôn không còn CTV)"}),
    "QuotaRow": _obj(
        ["hamlet", "households", "quota", "active", "flag"],
        hamlet={"allOf": [_ref("Unit")], "properties": {"type": _STR, "is_difficult": _BOOL,
                                                       "is_ethnic_minority": _BOOL}},
        commune=_ref("Unit"), households=_INT,
        quota={"type": ["integer", "null"], "description": "Định mức theo bảng của tỉnh; null: tỉnh chưa có bộ "
               "tiêu chuẩn tuyển chọn có hiệu lực ngày đó"},
        active={"type": "integer", "description": "CTV đang hoạt động (không tính người bị tạm đình chỉ)"},
        suspended=_INT, households_per_collaborator={"type": ["number", "null"]},
        flag={"type": "string", "enum": ["under", "over", "ok", "unknown"],
              "description": "unknown: chưa xác định định mức nhưng có CTV; thôn không có CTV nào luôn là under"},
        flag_label=_STR),
    "QuotaStatus": _area_list("QuotaRow", totals=_obj(
        None, hamlets=_INT, households=_INT,
        quota={"type": "integer", "description": "Tổng định mức đã xác định (không tính thôn chưa có định mức)"},
        active=_INT, suspended=_INT, under=_INT, over=_INT,
        empty={"type": "integer", "description": "Thôn không có CTV nào đang hoạt động"},
        without_quota={"type": "integer", "description": "Thôn chưa xác định định mức (tỉnh chưa có tiêu chuẩn)"},
        unknown={"type": "integer", "description": "Thôn chưa xác định định mức và có CTV (flag unknown)"},
        households_per_collaborator={"type": ["number", "null"]}),
        no_criteria={"type": "array", "items": _ref("Unit"),
                     "description": "Tỉnh chưa có bộ tiêu chuẩn tuyển chọn có hiệu lực ngày as_of"}),
    "CollaboratorRef": _obj(["id", "full_name"], id=_INT, full_name=_STR),
    "Place": _obj(["id", "name"], id=_INT, name=_STR),
    "UserRef": _obj(["username", "full_name"], username=_STR, full_name=_STR),
    "ChecklistItem": _obj(["item", "label"], item=_STR, label=_STR,
                          duty={"type": "string", "description": "Nhiệm vụ của CTV mà nội dung này kiểm tra, có căn cứ"}),
    "Visit": _obj(
        ["id", "collaborator", "visited_on", "checklist", "score"],
        id=_INT, collaborator=_ref("CollaboratorRef"), hamlet=_ref("Unit"), supervisor=_ref("UserRef"),
        visited_on=_DATE,
        checklist={"type": "object", "additionalProperties": {"type": ["boolean", "null"]},
                   "description": "true: Đạt, false: Chưa đạt, null: không kiểm tra"},
        checklist_labels={"type": "object", "additionalProperties": _STR},
        score={"type": "integer", "minimum": 0, "maximum": 100,
               "description": "Tỷ lệ % nội dung đạt trên số nội dung được kiểm tra"},
        findings=_NULLABLE_STR, follow_up=_NULLABLE_STR, follow_up_due=_NULLABLE_DATE,
        follow_up_closed_on=_NULLABLE_DATE, follow_up_result=_NULLABLE_STR,
        created_at={"type": "string", "format": "date-time"}),
    "VisitList": _list_of("Visit", collaborator=_ref("CollaboratorRef"),
                          checklist_items={"type": "array", "items": _ref("ChecklistItem")},
                          page=_INT, per_page=_INT, pages=_INT),
    "OverdueVisit": _obj(
        ["collaborator", "due_on", "days_overdue"],
        collaborator=_ref("CollaboratorRef"), hamlet=_ref("Place"), commune=_ref("Place"),
        last_visit={"type": ["string", "null"], "format": "date", "description": "null: chưa được giám sát lần nào"},
        since={"type": "string", "format": "date", "description": "Lần giám sát gần nhất, hoặc ngày bắt đầu hoạt động"},
        interval_days={"type": "integer", "description": "Khoảng cách tối đa giữa hai lần giám sát (cấu hình của tỉnh)"},
        due_on=_DATE, days_overdue=_INT),
    "OverdueList": _area_list("OverdueVisit"),
    "FollowUp": _obj(
        ["visit_id", "collaborator", "follow_up"],
        visit_id=_INT, collaborator=_ref("CollaboratorRef"), hamlet=_ref("Unit"),
        commune={"anyOf": [{"type": "null"}, _ref("Unit")]}, visited_on=_DATE, supervisor=_ref("UserRef"),
        follow_up=_STR, follow_up_due=_NULLABLE_DATE, overdue=_BOOL, days_late=_INT),
    "FollowUpList": _area_list("FollowUp", overdue={"type": "integer", "description": "Số việc đã quá hạn"}),
    "UnderReview": _obj(
        ["collaborator", "missed"],
        collaborator=_ref("CollaboratorRef"), hamlet=_ref("Place"), commune=_ref("Place"),
        missed={"type": "array", "items": _obj(
            ["month", "reason"], month={"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}, held_on=_DATE,
            reason={"type": "string", "enum": ["absent", "no_p0", "no_record"]}, reason_label=_STR)}),
    "UnderReviewList": _area_list("UnderReview"),
    "Meeting": _obj(["id", "month", "held_on"], id=_INT, month=_STR, held_on=_DATE, note=_NULLABLE_STR,
                    created_at={"type": "string", "format": "date-time"}),
    "MeetingSummary": {"allOf": [_ref("Meeting")], "properties": {
        "rows": {"type": "integer", "description": "Số dòng điểm danh"}, "attended": _INT,
        "p0_submitted": {"type": "integer", "description": "Số CTV đã nộp phiếu P0"}}},
    "MeetingList": _list_of("MeetingSummary", commune=_ref("Unit")),
    "MeetingSheet": _obj(
        ["commune", "month", "rows"], commune=_ref("Unit"), month=_STR,
        meeting={"anyOf": [{"type": "null"}, _ref("Meeting")], "description": "null: tháng này chưa ghi giao ban"},
        rows={"type": "array", "description": "CTV phải dự họp trong tháng (có phân công tại xã, không bị tạm "
              "đình chỉ cả tháng)", "items": _obj(
                  ["collaborator", "hamlets"], collaborator=_ref("CollaboratorRef"),
                  hamlets={"type": "array", "items": _ref("Place")},
                  attendance={"anyOf": [{"type": "null"}, _obj(
                      ["attended", "p0_submitted"], attended=_BOOL, p0_submitted=_BOOL, note=_NULLABLE_STR)]})}),
}

_NETWORK_REQUESTS = {
    "TransferRequest": network_schemas.TRANSFER,
    "AddHamletRequest": network_schemas.ADD_HAMLET,
    "EndCoverRequest": network_schemas.END_COVER,
    "SuspendRequest": network_schemas.SUSPEND,
    "ReinstateRequest": network_schemas.REINSTATE,
    "TerminateRequest": network_schemas.TERMINATE,
    "VisitCreate": network_schemas.VISIT_CREATE,
    "FollowUpClose": network_schemas.FOLLOW_UP_CLOSE,
    "MeetingPut": network_schemas.MEETING_PUT,
}

_WRITE_ERRORS = ("400", "401", "403", "404", "409", "422", "503")


def _get(op: str, summary: str, ok: tuple[str, str], params: list, description: str | None = None,
         errors=("401", "403", "404", "422")) -> dict:
    operation = {"operationId": op, "summary": summary, "security": _SECURED, "parameters": params,
                 "responses": {"200": _ok(*ok), **_errors(*errors)}}
    if description:
        operation["description"] = description
    return operation


def _write(op: str, summary: str, body: str, ok: tuple[str, str], params: list, description: str | None = None,
           status: str = "200", extra_ok: dict | None = None) -> dict:
    operation = {"operationId": op, "summary": summary, "security": _SECURED, "parameters": params,
                 "requestBody": _body(body), "responses": {status: _ok(*ok), **(extra_ok or {}),
                                                           **_errors(*_WRITE_ERRORS)}}
    if description:
        operation["description"] = description
    return operation


def _roster_params() -> list:
    def query(name: str, description: str, schema: dict) -> dict:
        return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}

    return [
        _UNIT_ID, _AS_OF,
        query("status", "Mặc định: đang phụ trách (hoạt động và tạm đình chỉ); `ended`: đã nghỉ trước ngày as_of",
              {"type": "string", "enum": list(ROSTER_STATUSES)}),
        query("hamlet_type", "Loại thôn/tổ dân phố", {"type": "string", "enum": list(network_schemas.HAMLET_TYPES)}),
        query("difficult", "Thôn đặc biệt khó khăn hoặc vùng đồng bào dân tộc thiểu số", {"type": "boolean"}),
        query("vhw", "Kiêm nhân viên y tế thôn bản", {"type": "boolean"}),
        query("tenure", "Thâm niên tính đến ngày as_of: dưới 1 năm, 1–3, 3–5, từ 5 năm",
              {"type": "string", "enum": list(TENURES)}),
        query("q", "Họ tên (không dấu cũng được, mọi từ) hoặc phần đầu số CCCD (số CCCD chỉ tìm được ở CTV "
              "bạn được xem số CCCD)",
              {"type": "string", "maxLength": network_schemas.Q_MAX}),
        query("sort", "Sắp xếp", {"type": "string", "enum": list(SORTS), "default": "name"}),
        *_PAGE,
    ]


_CHANGE_OK = ("Hồ sơ CTV sau thay đổi (tình trạng hôm nay)", "CollaboratorChange")


def _change(op: str, summary: str, body: str, description: str, params=None) -> dict:
    return _write(op, summary, body, _CHANGE_OK, params or [_COLLABORATOR_ID], description=description)


def _network_paths() -> dict:
    v = "/api/v1"
    return {
        f"{v}/units/{{unit_id}}/collaborators": {"get": _get(
            "listRoster", "Danh sách CTV của một đơn vị theo ngày", ("Một trang danh sách CTV", "Roster"),
            _roster_params(),
            description="Mỗi dòng là một phân công (CTV kiêm nhiệm có một dòng cho mỗi thôn). Đơn vị chỉ nằm một "
                        "phần trong phạm vi của bạn (vd. tỉnh, với cán bộ TTYT khu vực) thì chỉ trả về phần đó.")},
        f"{v}/units/{{unit_id}}/quota": {"get": _get(
            "getQuotaStatus", "Định mức CTV theo thôn: số hộ, định mức, số CTV, hộ/CTV, thiếu/vượt",
            ("Một trang các thôn, và tổng của cả đơn vị", "QuotaStatus"), [_UNIT_ID, _AS_OF, *_PAGE])},
        f"{v}/collaborators/{{collaborator_id}}": {"get": _get(
            "getCollaborator", "Hồ sơ CTV: cá nhân, lịch sử phân công, tạm đình chỉ, bàn giao sổ",
            ("Hồ sơ CTV", "Collaborator"), [_COLLABORATOR_ID, _AS_OF],
            description="Ai có một thôn CTV đã hoặc đang phụ trách trong phạm vi thì xem được cả hồ sơ. Số CCCD, số "
                        "điện thoại và ngày sinh đầy đủ chỉ trả về cho vai trò nghiệp vụ (trạm, TTYT, Sở) tại một "
                        "thôn đó; người chỉ xem và UBND xã nhận null (năm sinh vẫn có).")},
        f"{v}/collaborators/{{collaborator_id}}/transfer": {"post": _change(
            "transferCollaborator", "Điều chuyển CTV sang thôn khác", "TransferRequest",
            "Phân công chính hiện tại kết thúc (lý do `transferred`) và phân công mới bắt đầu cùng ngày. Thôn đến "
            "phải trong phạm vi của bạn (403). Thôn cũ không còn ai thì phát sinh yêu cầu bàn giao Sổ A0 và thôn "
            "trở thành chỗ trống. 409 khi CTV đã nghỉ hoặc đang bị tạm đình chỉ. 422 khi CTV chưa cư trú tại thôn "
            "đến mà không nêu `residence` (hoặc `elsewhere` thiếu giải trình `residence_exception`).")},
        f"{v}/collaborators/{{collaborator_id}}/add-hamlet": {"post": _change(
            "addHamlet", "Phân công CTV kiêm nhiệm thêm một thôn", "AddHamletRequest",
            "Chỉ khi thiết lập của tỉnh cho phép vào ngày đó (409 nếu không).")},
        f"{v}/assignments/{{assignment_id}}/end-cover": {"post": _change(
            "endCover", "Kết thúc kiêm nhiệm thêm thôn", "EndCoverRequest",
            "Chỉ với phân công kiêm nhiệm (`additional`); thôn chính dùng điều chuyển hoặc nghỉ việc.",
            params=[_ASSIGNMENT_ID])},
        f"{v}/collaborators/{{collaborator_id}}/suspend": {"post": _change(
            "suspendCollaborator", "Tạm đình chỉ CTV", "SuspendRequest",
            "CTV giữ thôn nhưng không hoạt động, không hưởng thù lao cho đến khi hoạt động trở lại. 409 khi đã nghỉ "
            "việc hoặc đang bị tạm đình chỉ.")},
        f"{v}/collaborators/{{collaborator_id}}/reinstate": {"post": _change(
            "reinstateCollaborator", "Cho CTV hoạt động trở lại", "ReinstateRequest",
            "409 khi CTV không bị tạm đình chỉ.")},
        f"{v}/collaborators/{{collaborator_id}}/terminate": {"post": _change(
            "terminateCollaborator", "CTV nghỉ việc", "TerminateRequest",
            "Mọi phân công đang có kết thúc ngày `on` với lý do đã chọn. Thôn không còn CTV trở thành chỗ trống và "
            "phát sinh yêu cầu bàn giao Sổ A0 (trả về trong `handovers`). 409 khi CTV đã nghỉ việc.")},
        f"{v}/collaborators/{{collaborator_id}}/visits": {
            "get": _get("listVisits", "Các lần giám sát một CTV, mới nhất trước", ("Một trang lần giám sát", "VisitList"),
                        [_COLLABORATOR_ID, *_PAGE]),
            "post": _write(
                "recordVisit", "Ghi phiếu giám sát CTV (người gọi là người giám sát)", "VisitCreate",
                ("Lần giám sát vừa ghi", "Visit"), [_COLLABORATOR_ID], status="201",
                description="Nội dung bảng kiểm: " + ", ".join(f"`{i}`" for i in VISIT_ITEMS) + ". Ngày giám sát "
                "không ở tương lai và CTV phải đang hoạt động ngày đó. Cần vai trò ghi chép (không phải chỉ xem) "
                "tại nơi CTV đang làm việc."),
        },
        f"{v}/visits/{{visit_id}}": {"get": _get("getVisit", "Một lần giám sát", ("Lần giám sát", "Visit"),
                                                  [_VISIT_ID], errors=("401", "403", "404"))},
        f"{v}/visits/{{visit_id}}/close-follow-up": {"post": _write(
            "closeFollowUp", "Xác nhận đã khắc phục việc cần khắc phục sau giám sát", "FollowUpClose",
            ("Lần giám sát sau khi đóng việc khắc phục", "Visit"), [_VISIT_ID],
            description="409 khi lần giám sát không có việc cần khắc phục hoặc đã được xác nhận trước đó.")},
        f"{v}/units/{{unit_id}}/overdue-visits": {"get": _get(
            "listOverdueVisits", "CTV quá hạn giám sát", ("CTV quá hạn, quá hạn lâu nhất trước", "OverdueList"),
            [_UNIT_ID, _AS_OF, *_PAGE],
            description="CTV đang hoạt động vào ngày `as_of` mà lần giám sát gần nhất (hoặc ngày bắt đầu) đã cách "
                        "quá số ngày tỉnh quy định (mặc định 92 ngày, tức ít nhất mỗi quý một lần).")},
        f"{v}/units/{{unit_id}}/follow-ups": {"get": _get(
            "listOpenFollowUps", "Việc cần khắc phục chưa xong", ("Việc quá hạn trước", "FollowUpList"),
            [_UNIT_ID, _AS_OF, *_PAGE])},
        f"{v}/communes/{{commune_id}}/meetings": {"get": _get(
            "listMeetings", "Các buổi giao ban CTV đã ghi của xã", ("Mới nhất trước", "MeetingList"), [_COMMUNE_ID],
            errors=("401", "403", "404"))},
        f"{v}/communes/{{commune_id}}/meetings/{{month}}": {
            "get": _get("getMeeting", "Bảng điểm danh giao ban một tháng (kể cả khi chưa ghi)",
                        ("Danh sách CTV phải dự họp và điểm danh đã ghi", "MeetingSheet"), [_COMMUNE_ID, _MONTH]),
            "put": _write(
                "recordMeeting", "Ghi (hoặc sửa) giao ban tháng và điểm danh", "MeetingPut",
                ("Đã sửa giao ban đã có", "MeetingSheet"), [_COMMUNE_ID, _MONTH],
                extra_ok={"201": _ok("Đã ghi giao ban mới", "MeetingSheet")},
                description="Mỗi CTV có dự họp không và đã nộp phiếu P0/CTV chưa (Thông tư 01/2022/TT-BYT). Chỉ "
                "được điểm danh CTV thuộc danh sách của xã trong tháng; ngày họp trong tháng đó hoặc sau, không ở "
                "tương lai. Ghi lại cùng tháng thì cập nhật (có nhật ký trước/sau)."),
        },
        f"{v}/units/{{unit_id}}/under-review": {"get": _get(
            "listUnderReview", "CTV cần xem xét (vắng giao ban hoặc không nộp P0 nhiều tháng liền)",
            ("CTV cần xem xét", "UnderReviewList"), [_UNIT_ID, _AS_OF, *_PAGE],
            description="Bỏ lỡ (vắng họp, hoặc dự nhưng không nộp phiếu P0, hoặc không có tên trong bảng điểm danh) "
                        "các buổi giao ban của N tháng liền gần nhất; N do tỉnh cấu hình, mặc định 2.")},
    }


# --- coverage-map layers (issue #10 item 6) -----------------------------------------------------

_GEOJSON = "application/geo+json"
_MAP_FEATURE = _obj(
    ["type", "geometry", "properties"], type={"const": "Feature"},
    geometry={"type": "object", "description": "GeoJSON (WGS84) từ ranh giới đã đơn giản hoá khi nhập (0,0005°, 5 chữ "
              "số thập phân); điểm cho trạm y tế"},
    properties=_obj(
        ["kind", "id", "name"],
        kind={"type": "string", "enum": ["hamlet", "commune", "boundary", "station"],
              "description": "`hamlet`/`commune`: lớp tô màu; `boundary`: ranh giới xã; `station`: trạm y tế (tại điểm "
                             "nhãn của xã)"},
        id=_INT, name=_STR,
        status={"type": "string", "description": "Thôn: covered, below_quota, pending, vacant, unknown. Xã: nhóm tỉ lệ "
                "thôn đủ CTV (pct90, pct70, pct50, pct0, none)"},
        households={"type": ["integer", "null"]}, active={"type": "integer", "description": "CTV đang hoạt động"},
        quota={"type": ["integer", "null"], "description": "Định mức CTV của thôn; null khi tỉnh chưa có tiêu chuẩn"},
        pct={"type": ["number", "null"], "description": "Xã: % thôn đủ CTV (0–100); null khi không có thôn"},
        hamlets=_INT, covered=_INT, vacancies=_INT, unit_id=_INT,
        synthetic={"type": "boolean", "description": "Thôn sinh tự động cho bản trình diễn (chỉ có khi true)"}))


def _layer(op: str, summary: str, params: list, description: str) -> dict:
    flag = {"name": "flag", "in": "query", "required": False, "description": "Chỉ thôn đặc biệt khó khăn hoặc vùng "
            "đồng bào DTTS", "schema": {"type": "string", "enum": ["difficult", "ethnic_minority"]}}
    etag = {"name": "If-None-Match", "in": "header", "required": False, "schema": _STR,
            "description": "ETag đã nhận; không đổi thì trả 304"}
    return {"operationId": op, "summary": summary, "description": description, "security": _SECURED,
            "parameters": [*params, _AS_OF, flag, etag],
            "responses": {"200": {"description": "FeatureCollection (nén gzip khi client chấp nhận; có ETag)",
                                  "content": {_GEOJSON: {"schema": _ref("MapLayer")}}},
                          "304": {"description": "Lớp không đổi kể từ ETag đã gửi"},
                          **_errors("401", "403", "404", "422")}}


def _maps_paths() -> dict:
    v = "/api/v1/maps/layers"
    return {
        f"{v}/hamlets/{{commune_id}}.geojson": {"get": _layer(
            "getHamletLayer", "Lớp bản đồ các thôn của một xã theo tình trạng CTV", [_COMMUNE_ID],
            "Thôn có ranh giới, tô theo tình trạng; kèm ranh giới xã và trạm y tế. Thôn chưa có ranh giới không có "
            "trong lớp (vẫn được tính trong số liệu bao phủ). 422 khi ngày trước khi xã có hiệu lực.")},
        f"{v}/centre/{{facility_id}}.geojson": {"get": _layer(
            "getCentreLayer", "Lớp bản đồ các thôn của các xã do một TTYT khu vực phụ trách",
            [_path_id("facility_id", "Mã trung tâm y tế khu vực")],
            "Cần phạm vi gồm mọi xã trung tâm phụ trách (403 nếu không).")},
        f"{v}/communes/{{province_id}}.geojson": {"get": _layer(
            "getProvinceLayer", "Lớp bản đồ các xã của một tỉnh theo tỉ lệ thôn đủ CTV",
            [_path_id("province_id", "Mã tỉnh/thành phố (mã số trong hệ thống)")],
            "Mỗi xã có `pct` (% thôn đủ CTV) và nhóm màu `status`; kèm trạm y tế.")},
        f"{v}/communes.geojson": {"get": _layer(
            "getScopeLayer", "Lớp bản đồ mọi xã trong phạm vi của bạn theo tỉ lệ thôn đủ CTV", [],
            "Người dùng cấp quốc gia nhận mọi xã của các tỉnh mình phụ trách.")},
    }


# --- coverage as of a date (issue #10 item 6) ---------------------------------------------------

_COVERAGE_COUNTS = dict(
    hamlets={"type": "integer", "description": "Thôn/tổ dân phố có hiệu lực ngày as_of"},
    covered={"type": "integer", "description": "Thôn đủ định mức CTV"},
    below_quota={"type": "integer", "description": "Thôn có CTV nhưng thiếu so với định mức"},
    vacant={"type": "integer", "description": "Thôn chưa có CTV đang hoạt động, không có hồ sơ đang tuyển"},
    pending={"type": "integer", "description": "Thôn chưa có CTV đang hoạt động, có hồ sơ đang tuyển chọn"},
    unknown={"type": "integer", "description": "Thôn có CTV nhưng chưa xác định được định mức (tỉnh chưa có tiêu chuẩn)"},
    pct_covered={"type": ["number", "null"], "description": "% thôn đủ định mức (0–100); null khi không có thôn"},
    households=_INT, households_covered={"type": "integer", "description": "Số hộ của các thôn đủ định mức"},
    collaborators={"type": "integer", "description": "CTV đang hoạt động, tính theo từng thôn phụ trách (CTV kiêm "
                   "nhiệm thêm thôn được tính ở mỗi thôn)"},
    vacancies={"type": "integer", "description": "Thôn chưa có CTV đang hoạt động (vacant + pending)"},
    vacancies_over_90_days={"type": "integer", "description": "Trong đó: trống quá 90 ngày"})
_COVERAGE_STATUS = {"type": "string", "enum": ["covered", "below_quota", "vacant", "pending", "unknown"]}

_COVERAGE_RESPONSES = {
    "CoverageSummary": _obj(list(_COVERAGE_COUNTS), **_COVERAGE_COUNTS),
    "CoverageCommune": _obj(["unit", *_COVERAGE_COUNTS], unit=_ref("Unit"), **_COVERAGE_COUNTS),
    "CoverageHamlet": _obj(
        ["id", "name", "status", "households", "quota", "active"],
        id=_INT, name=_STR, full_name=_STR, status=_COVERAGE_STATUS, status_label=_STR, households=_INT,
        quota={"type": ["integer", "null"], "description": "Định mức theo bảng của tỉnh; null: tỉnh chưa có bộ tiêu "
               "chuẩn tuyển chọn có hiệu lực ngày đó (không suy đoán)"},
        active={"type": "integer", "description": "CTV đang hoạt động (không tính người bị tạm đình chỉ)"},
        suspended=_INT, pending={"type": "integer", "description": "Hồ sơ ứng viên đang trong quy trình tuyển chọn"},
        households_per_collaborator={"type": ["number", "null"]},
        days_vacant={"type": ["integer", "null"], "description": "Số ngày thôn không có CTV đang hoạt động; null "
                     "khi có CTV"},
        is_difficult=_BOOL, is_ethnic_minority=_BOOL, is_synthetic=_BOOL,
        has_geometry={"type": "boolean", "description": "Có ranh giới để vẽ trên bản đồ"}),
    "Coverage": _obj(
        ["unit", "as_of", "summary", "statuses", "parts_level", "parts"],
        unit={"allOf": [_ref("Unit")], "properties": {"level": _STR}}, as_of=_DATE, summary=_ref("CoverageSummary"),
        statuses={"type": "array", "description": "Chú giải: số thôn theo từng tình trạng, nhãn và màu trên bản đồ",
                  "items": _obj(["status", "label", "colour", "hamlets"], status=_COVERAGE_STATUS, label=_STR,
                                colour={"type": "string", "pattern": "^#[0-9a-f]{6}$"}, hamlets=_INT)},
        parts_level={"type": "string", "enum": ["commune", "hamlet"]},
        parts={"type": "array", "description": "Tỉnh: từng xã (`CoverageCommune`); xã hoặc thôn: từng thôn "
               "(`CoverageHamlet`)", "items": {"anyOf": [_ref("CoverageCommune"), _ref("CoverageHamlet")]}},
        no_criteria={"type": "array", "items": _ref("Unit"),
                     "description": "Tỉnh chưa có bộ tiêu chuẩn tuyển chọn có hiệu lực ngày as_of"}),
}


def _coverage_paths() -> dict:
    day = {"name": "as_of", "in": "query", "required": False,
           "description": "Xem theo ngày: YYYY-MM-DD hoặc ngày/tháng/năm (dd/mm/yyyy), mặc định hôm nay",
           "schema": {"type": "string"}}
    return {"/api/v1/coverage/{unit_id}": {"get": _get(
        "getCoverage", "Mức bao phủ CTV của một đơn vị theo ngày: tóm tắt và từng xã hoặc từng thôn",
        ("Tóm tắt của đơn vị và của từng phần", "Coverage"), [_UNIT_ID, day],
        description="Thôn: đủ định mức (covered), thiếu (below_quota), chưa có CTV (vacant), chưa có CTV nhưng đang "
                    "tuyển (pending), chưa xác định định mức (unknown). Định mức theo số hộ, theo bộ tiêu chuẩn của "
                    "tỉnh có hiệu lực ngày đó; mỗi thôn có ít nhất một CTV (Thông tư 02/2021/TT-BYT). Đơn vị chỉ nằm "
                    "một phần trong phạm vi của bạn thì chỉ tính phần đó. 422 khi ngày không đọc được hoặc đơn vị "
                    "không có hiệu lực vào ngày đó.")}}


# --- background jobs (issue #11 item 6) ----------------------------------------------------------

_JOB_ID = _path_id("job_id", "Mã việc (trả về khi tạo việc)")
_TIMESTAMP_OR_NULL = {"type": ["string", "null"], "format": "date-time"}


def _job_schemas() -> dict:
    from ..jobs.models import JobState
    from ..jobs.services import kinds

    known = ", ".join(f"`{k.name}` ({k.label or k.name})" for k in sorted(kinds().values(), key=lambda k: k.name))
    return {
        "JobCreate": _obj(
            ["kind"],
            kind={"type": "string", "maxLength": 60, "description": "Loại việc" + (f": {known}" if known else "")},
            params={"type": ["object", "null"], "description": "Tham số của loại việc (đơn vị, ngày, định dạng, bộ "
                    "lọc…), được kiểm tra như trên trang web trước khi xếp hàng"}),
        "Job": _obj(
            ["id", "kind", "state", "done", "status_url"],
            id=_INT, kind=_STR, kind_label=_STR,
            state={"type": "string", "enum": [s.value for s in JobState],
                   "description": "queued: đang chờ; running: đang chạy; done: tệp sẵn sàng; failed: không thành công "
                                  "(xem `error`); expired: tệp đã bị xoá sau một ngày"},
            state_label=_STR,
            done={"type": "integer", "description": "Số dòng (hoặc bước) đã xử lý"},
            total={"type": ["integer", "null"], "description": "Tổng số dòng; null khi chưa biết"},
            percent={"type": ["integer", "null"], "minimum": 0, "maximum": 100},
            message=_NULLABLE_STR,
            error={"type": ["string", "null"], "description": "Lý do không thành công, tiếng Việt (chỉ khi failed)"},
            created_at={"type": "string", "format": "date-time"}, started_at=_TIMESTAMP_OR_NULL,
            finished_at=_TIMESTAMP_OR_NULL,
            expires_at={"type": "string", "format": "date-time", "description": "Sau thời điểm này tệp bị xoá"},
            file={"anyOf": [{"type": "null"}, _obj(["filename", "mimetype"], filename=_STR, mimetype=_STR,
                                                   bytes={"type": ["integer", "null"]})]},
            status_url={"type": "string", "description": "Địa chỉ để hỏi lại trạng thái"},
            download_url={"type": ["string", "null"], "description": "Địa chỉ tải tệp, khi state là done"},
            page_url={"type": "string", "description": "Trang theo dõi việc trên giao diện web"}),
    }


def _jobs_paths() -> dict:
    v = "/api/v1/jobs"
    return {
        v: {"post": {
            "operationId": "createJob", "summary": "Bắt đầu một việc chạy nền (xuất danh sách, báo cáo)",
            "description": "Trả 202 ngay khi việc được xếp hàng; hỏi lại `status_url` (vài giây một lần) đến khi "
                           "`state` là done rồi tải `download_url`. 400 khi loại việc không tồn tại; 422 hoặc 403 khi "
                           "tham số sai hoặc ngoài phạm vi; 409 khi bạn đã có quá nhiều việc chưa xong.",
            "security": _SECURED, "requestBody": _body("JobCreate"),
            "responses": {"202": _ok("Việc đã được xếp hàng (tiêu đề Location: địa chỉ trạng thái)", "Job"),
                          **_errors("400", "401", "403", "404", "409", "422", "503")},
        }},
        f"{v}/{{job_id}}": {"get": _get("getJob", "Trạng thái và tiến độ của một việc", ("Việc", "Job"), [_JOB_ID],
                                         description="Chỉ người tạo việc xem được (403 với người khác).",
                                         errors=("401", "403", "404"))},
        f"{v}/{{job_id}}/download": {"get": {
            "operationId": "downloadJob", "summary": "Tải tệp của một việc đã xong",
            "description": "Chỉ người tạo việc tải được (403 với người khác). 409 khi việc chưa xong hoặc không thành "
                           "công; 410 khi tệp đã hết hạn (giữ một ngày).",
            "security": _SECURED, "parameters": [_JOB_ID],
            "responses": {"200": {"description": "Tệp (XLSX, CSV, PDF, GeoJSON, GeoPackage…), kèm Content-Disposition",
                                  "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                      "format": "binary"}}}},
                          **_errors("401", "403", "404", "409", "410")},
        }},
    }


# --- the unit tree as of a date and its changes (issue #13 items 5–6) -------------------------

_LEVELS = ["province", "district", "commune", "hamlet"]
_CHANGE_KINDS = ["merge", "split", "rename", "reparent", "create", "close"]
_HISTORY = ("Phạm vi gồm các đơn vị của bạn và lịch sử của chúng: các đơn vị tiền thân qua sắp xếp đơn vị hành "
            "chính (xã được sáp nhập, phiên bản cũ của các thôn, tỉnh cũ được hợp nhất), chỉ đọc.")


def _units_schemas() -> dict:
    version = _obj(
        ["id", "name", "full_name", "level", "type", "valid_from"],
        id=_INT, code={"type": ["string", "null"], "description": "Mã chính thức (tỉnh 2 chữ số, xã 5 chữ số); "
                       "null với thôn/tổ dân phố"},
        local_id={"type": ["string", "null"], "description": "Số thứ tự của thôn trong xã; null với cấp khác"},
        name=_STR, full_name=_STR, level={"type": "string", "enum": _LEVELS}, level_label=_STR, type=_STR,
        type_label=_STR, parent_id={"type": ["integer", "null"], "description": "null: tỉnh/thành phố"},
        valid_from={"type": "string", "format": "date", "description": "Ngày bắt đầu hiệu lực"},
        valid_to={"type": ["string", "null"], "format": "date", "description": "Ngày đầu tiên không còn hiệu lực; "
                  "null: đang hiệu lực"},
        decision_ref=_NULLABLE_STR)
    change = _obj(["id", "kind", "effective_on"], id=_INT, kind={"type": "string", "enum": _CHANGE_KINDS},
                  kind_label=_STR, effective_on={"type": "string", "format": "date",
                                                 "description": "Ngày có hiệu lực (đơn vị cũ hết hiệu lực từ ngày này)"},
                  decision_ref={"type": ["string", "null"], "description": "Số, ký hiệu văn bản quyết định"},
                  note=_NULLABLE_STR)
    link = _obj(["unit", "change"], unit=_ref("UnitVersion"), change=_ref("UnitChange"))
    place = _obj(["kind", "id", "name"], kind={"type": "string", "enum": ["unit", "facility"]}, id=_INT, name=_STR)
    return {
        "UnitVersion": version,
        "UnitTreeNode": {"allOf": [_ref("UnitVersion")], "properties": {"history": {
            "type": "boolean", "description": "true: đơn vị tiền thân của đơn vị bạn phụ trách (chỉ đọc)"}}},
        "UnitTree": _list_of("UnitTreeNode", as_of=_DATE, page=_INT, per_page=_INT, pages=_INT,
                             root={"anyOf": [{"type": "null"}, _ref("UnitVersion")]}),
        "UnitChange": change,
        "UnitLink": link,
        "UnitHistory": _obj(["unit", "predecessors", "successors"], unit=_ref("UnitVersion"),
                            predecessors={"type": "array", "items": _ref("UnitLink"),
                                          "description": "Đơn vị hình thành nên đơn vị này, với thay đổi tương ứng"},
                            successors={"type": "array", "items": _ref("UnitLink"),
                                        "description": "Đơn vị kế thừa đơn vị này, với thay đổi tương ứng"}),
        "UnitChangeDetail": {"allOf": [_ref("UnitChange")], "properties": {
            "sources": {"type": "array", "items": _ref("UnitVersion"), "description": "Đơn vị trước thay đổi"},
            "targets": {"type": "array", "items": _ref("UnitVersion"), "description": "Đơn vị sau thay đổi"}}},
        "UnitChangeList": _list_of("UnitChangeDetail", page=_INT, per_page=_INT, pages=_INT,
                                   **{"from": _NULLABLE_DATE, "to": _NULLABLE_DATE}),
        "FlaggedGrant": _obj(
            ["grant_id", "role", "user", "place", "reason", "proposals"],
            grant_id=_INT, role=_STR, role_label=_STR, user=_obj(["id", "username"], id=_INT, username=_STR,
                                                                full_name=_STR),
            place=place, valid_from=_DATE, valid_to=_NULLABLE_DATE,
            reason={"type": "string", "enum": ["unit_closed", "facility_closed", "serves_nothing"]},
            reason_label=_STR,
            since={"type": ["string", "null"], "format": "date",
                   "description": "Ngày đầu tiên quyền không còn cho truy cập; null: cơ sở chưa từng phục vụ đơn vị nào"},
            proposals={"type": "array", "items": place, "description": "Nơi đề xuất cấp lại quyền: đơn vị kế thừa "
                       "(đơn vị giữ mã cũ trước) hoặc cơ sở cùng loại phục vụ đơn vị kế thừa"}),
        "FlaggedGrantList": _list_of("FlaggedGrant", on=_DATE, page=_INT, per_page=_INT, pages=_INT),
    }


def _units_paths() -> dict:
    v = "/api/v1"
    day = {"name": "as_of", "in": "query", "required": False,
           "description": "Cây đơn vị có hiệu lực ngày này (YYYY-MM-DD), mặc định hôm nay", "schema": _DATE}
    level = {"name": "level", "in": "query", "required": False, "description": "Chỉ đơn vị cấp này",
             "schema": {"type": "string", "enum": _LEVELS}}
    root = {"name": "root", "in": "query", "required": False, "description": "Mã số (id) của đơn vị gốc; mặc định "
            "toàn bộ phạm vi của bạn", "schema": {"type": "integer", "minimum": 1}}

    def between(name: str, text: str) -> dict:
        return {"name": name, "in": "query", "required": False, "description": text, "schema": _DATE}

    kind = {"name": "kind", "in": "query", "required": False, "schema": {"type": "string", "enum": _CHANGE_KINDS}}
    return {
        f"{v}/units/tree": {"get": _get(
            "getUnitTree", "Cây đơn vị hành chính có hiệu lực vào một ngày, trong phạm vi của bạn",
            ("Một trang đơn vị, danh sách phẳng theo thứ tự cây (đơn vị cha trước các đơn vị con)", "UnitTree"),
            [day, root, level, *_PAGE],
            description="Mỗi đơn vị có `parent_id`; đơn vị cha nằm ngoài phạm vi của bạn thì không có trong danh "
                        "sách. " + _HISTORY + " Vd. ngày 30/6/2025 trả về các tỉnh, huyện, xã cũ nơi các xã hiện nay "
                        "được hình thành. 404: `root` không tồn tại; 403: `root` ngoài phạm vi; 422: ngày hoặc tham số "
                        "sai, hoặc `root` không có hiệu lực vào ngày đó.")},
        f"{v}/units/{{unit_id}}/changes": {"get": _get(
            "getUnitChanges", "Lịch sử sắp xếp của một đơn vị: đơn vị tiền thân và đơn vị kế thừa",
            ("Đơn vị, các đơn vị tiền thân và kế thừa trực tiếp, mỗi đơn vị kèm loại thay đổi, ngày hiệu lực và "
             "quyết định", "UnitHistory"),
            [_path_id("unit_id", "Mã số (id) của đơn vị, kể cả đơn vị đã hết hiệu lực")],
            description=_HISTORY + " Đi tiếp theo `unit.id` của từng đơn vị để xem các bước trước hoặc sau.",
            errors=("401", "403", "404"))},
        f"{v}/unit-changes": {"get": _get(
            "listUnitChanges", "Các thay đổi đơn vị hành chính trong một khoảng thời gian",
            ("Một trang thay đổi, cũ nhất trước", "UnitChangeList"),
            [between("from", "Từ ngày có hiệu lực (YYYY-MM-DD), tính cả ngày này"),
             between("to", "Đến ngày có hiệu lực (YYYY-MM-DD), tính cả ngày này"), kind,
             {**level, "description": "Chỉ thay đổi có đơn vị cấp này (vd. `commune` để bỏ qua các thôn được chuyển "
                                      "theo xã)"}, *_PAGE],
            description="Thay đổi có ít nhất một đơn vị (trước hoặc sau) trong phạm vi của bạn. " + _HISTORY
                        + " 422: ngày sai dạng, hoặc `from` sau `to`.",
            errors=("401", "422"))},
        f"{v}/grants/flagged": {"get": _get(
            "listFlaggedGrants", "Quyền còn thời hạn nhưng không còn cho truy cập đơn vị nào (sau sắp xếp)",
            ("Một trang quyền cần xem lại, kèm đề xuất", "FlaggedGrantList"),
            [{"name": "on", "in": "query", "required": False, "description": "Ngày xét (YYYY-MM-DD), mặc định hôm nay",
              "schema": _DATE}, *_PAGE],
            description="Chỉ quản trị cấp tỉnh (403 với vai trò khác); các quyền trong tỉnh của bạn và trong các đơn "
                        "vị tiền thân của tỉnh. Quyền tại đơn vị đã hết hiệu lực, tại cơ sở đã đóng hoặc không còn phục "
                        "vụ đơn vị nào; không quyền nào được chuyển tự động.",
            errors=("401", "403", "422"))},
    }


def document() -> dict:
    """The OpenAPI 3.1 document (a fresh dict each time)."""
    components = {name: request_schema(fields) for name, fields in _REQUESTS.items()}
    components.update({name: request_schema(fields) for name, fields in _NETWORK_REQUESTS.items()})
    components.update(deepcopy(_RESPONSES))
    components.update(deepcopy(_NETWORK_RESPONSES))
    components.update(deepcopy(_COVERAGE_RESPONSES))
    components.update(_job_schemas())
    components.update(_units_schemas())
    components["MapLayer"] = _obj(["type", "features"], type={"const": "FeatureCollection"},
                                   features={"type": "array", "items": deepcopy(_MAP_FEATURE)})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "danso_network API",
            "version": "1.0.0",
            "summary": "Tuyển chọn cộng tác viên dân số: chỗ trống, hồ sơ, quy trình, quyết định công nhận; "
                       "mạng lưới CTV: danh sách, phân công, định mức, giám sát, giao ban.",
            "description": "Mọi thông báo lỗi bằng tiếng Việt, dạng `{\"error\": \"…\", \"status\": N}`. "
                           "Phạm vi và vai trò giống hệt giao diện web. Xem docs/api.md.",
        },
        "servers": [{"url": "/"}],
        "security": _SECURED,
        "paths": {**_paths(), **_network_paths(), **_maps_paths(), **_coverage_paths(), **_jobs_paths(),
                  **_units_paths()},
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "Mã lấy từ POST /api/v1/auth/token"}},
            "schemas": components,
            "responses": {f"E{code}": {"description": text, "content": {_JSON: {"schema": _ref("Error")}}}
                          for code, text in _ERRORS.items()},
        },
    }
