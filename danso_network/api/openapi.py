"""The OpenAPI 3.1 document of ``/api/v1``, served at ``/api/v1/openapi.json``.

Request bodies are generated from the field lists the parser uses (:mod:`.schemas`), so the
document describes exactly what is checked. A test walks ``app.url_map`` to prove every API
route is described and every described path exists.
"""

from __future__ import annotations

from copy import deepcopy

from ..recruitment import rules
from ..recruitment.models import DOSSIER_ITEMS
from . import schemas
from .auth import TOKEN_LIFETIME

_JSON = "application/json"

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
    "422": "Dữ liệu sai kiểu hoặc vi phạm quy định; có `field` và `problems`.",
    "429": "Thử quá nhiều lần.",
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
                       "commune": _ref("Unit"), "quota": {"type": "integer"}, "active": {"type": "integer"},
                       "missing": {"type": "integer"}, "open_applications": {"type": "integer"}},
    },
    "VacancyList": {"type": "object", "properties": {"items": {"type": "array", "items": _ref("Vacancy")},
                                                     "total": {"type": "integer"},
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
            "full_name": {"type": "string"}, "date_of_birth": {"type": "string", "format": "date"},
            "sex": {"type": "string"}, "sex_label": {"type": "string"}, "ethnicity": {"type": "string"},
            "national_id": {"type": "string"}, "phone": _NULLABLE_STR, "residence_hamlet_id": {"type": "integer"},
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
                "application_signed_on": _NULLABLE_DATE, "exception_justification": _NULLABLE_STR,
                "training_completed_on": _NULLABLE_DATE}},
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
                "description": f"Mã có hiệu lực {TOKEN_LIFETIME.days} ngày. Giới hạn số lần thử như trang đăng nhập.",
                "security": [], "requestBody": _body("TokenRequest"),
                "responses": {"201": _ok("Mã truy cập mới", "Token"), **_errors("400", "401", "422", "429")},
            },
            "delete": {
                "operationId": "revokeToken", "summary": "Thu hồi mã truy cập đang dùng", "security": _SECURED,
                "responses": {"200": _ok("Đã thu hồi", "Revoked"), **_errors("401")},
            },
        },
        "/api/v1/vacancies": {"get": {
            "operationId": "listVacancies", "summary": "Thôn/tổ dân phố còn thiếu CTV (hôm nay)",
            "security": _SECURED, "parameters": [_COMMUNE_PARAM],
            "responses": {"200": _ok("Danh sách chỗ trống", "VacancyList"), **_errors("401", "403", "404")},
        }},
        "/api/v1/applications": {
            "get": {
                "operationId": "listApplications", "summary": "Hồ sơ trong phạm vi của bạn", "security": _SECURED,
                "parameters": [
                    {"name": "state", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": list(schemas.STATES)}},
                    _COMMUNE_PARAM,
                    {"name": "q", "in": "query", "required": False, "description": "Họ tên (không dấu cũng được) "
                     "hoặc phần đầu số CCCD", "schema": {"type": "string"}},
                    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
                    {"name": "per_page", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
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


def document() -> dict:
    """The OpenAPI 3.1 document (a fresh dict each time)."""
    components = {name: request_schema(fields) for name, fields in _REQUESTS.items()}
    components.update(deepcopy(_RESPONSES))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "danso_network API",
            "version": "1.0.0",
            "summary": "Tuyển chọn cộng tác viên dân số: chỗ trống, hồ sơ, quy trình, quyết định công nhận.",
            "description": "Mọi thông báo lỗi bằng tiếng Việt, dạng `{\"error\": \"…\", \"status\": N}`. "
                           "Phạm vi và vai trò giống hệt giao diện web. Xem docs/api.md.",
        },
        "servers": [{"url": "/"}],
        "security": _SECURED,
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "Mã lấy từ POST /api/v1/auth/token"}},
            "schemas": components,
            "responses": {f"E{code}": {"description": text, "content": {_JSON: {"schema": _ref("Error")}}}
                          for code, text in _ERRORS.items()},
        },
    }
