"""The selection workflow through its web pages: the "done when" path from a vacant hamlet to an
active collaborator, and the bad paths (bad input keeps what was typed and changes nothing;
out-of-scope and read-only users are refused)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from danso_network.auth.models import Role
from danso_network.common import clock
from danso_network.extensions import db
from danso_network.recruitment.models import (
    DOSSIER_ITEMS,
    Application,
    ApplicationEvent,
    Candidate,
    RecognitionDecision,
)
from danso_network.recruitment.rules import MANUAL_CODES
from danso_network.recruitment.workflow import Approver, State

from .. import factories
from ..conftest import csrf_token, login

BORN = date(1990, 5, 17)


@pytest.fixture
def setup(world):
    factories.criteria(world.dong_nai)
    db.session.commit()
    return world


class Browser:
    """A logged-in user's browser: one client, one CSRF token."""

    def __init__(self, app, username: str):
        self.client = app.test_client()
        assert login(self.client, username).status_code == 302
        self.token = csrf_token(self.client, "/")

    def get(self, url: str):
        return self.client.get(url)

    def post(self, url: str, data: dict | None = None, **kw):
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kw)

    def act(self, application_id: int, action: str, version: int | None = None, **fields):
        """Submit the application page's form for ``action`` (its fields carry the action as prefix)."""
        if version is None:
            version = db.session.scalar(select(Application.version).where(Application.id == application_id))
        data = {"action": action, f"{action}-csrf_token": self.token, f"{action}-version": str(version),
                **{f"{action}-{k}": v for k, v in fields.items()}}
        return self.client.post(f"/recruitment/applications/{application_id}/transitions", data=data)

    def dossier(self, application_id: int, **fields):
        version = db.session.scalar(select(Application.version).where(Application.id == application_id))
        data = {"version": str(version), **{f"item_{k}": "y" for k in DOSSIER_ITEMS},
                "application_signed_on": "2025-09-01", **fields}
        return self.post(f"/recruitment/applications/{application_id}/dossier", data)


def candidate_form(hamlet, serial: int = 1, **overrides) -> dict:
    data = {"full_name": f"Nguyễn Thị Ứng Viên {serial}", "date_of_birth": BORN.isoformat(), "sex": "female",
            "ethnicity": "Kinh", "national_id": factories.national_id(BORN, "female", serial),
            "phone": "0912345678", "residence_hamlet": str(hamlet.id), "education": "lower_secondary",
            "languages": "Việt, S'tiêng", "nominated_by": "Trưởng ấp giới thiệu"}
    data.update(overrides)
    return data


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Candidate, Application, ApplicationEvent))


def text(response) -> str:
    return response.get_data(as_text=True)


def flashes(response) -> str:
    return " ".join(re.findall(r'role="alert">\s*(.*?)\s*<', text(response), re.S))


def state_of(application_id: int) -> str:
    return db.session.scalar(select(Application.state).where(Application.id == application_id))


def nominate(browser, hamlet, serial=1, **overrides) -> int:
    response = browser.post(f"/recruitment/hamlets/{hamlet.id}/applications/new", candidate_form(hamlet, serial,
                                                                                                  **overrides))
    assert response.status_code == 302, flashes(response) or text(response)[:2000]
    browser.get(response.headers["Location"])  # read the confirmation, as the user would
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def to_reviewed(browser, hamlet, serial=1) -> int:
    app_id = nominate(browser, hamlet, serial)
    assert browser.dossier(app_id).status_code == 302
    for action, fields in [("complete_dossier", {}), ("screen", {}),
                           ("review", {**{f"check_{c}": "y" for c in MANUAL_CODES}, "ranking": str(serial)})]:
        response = browser.act(app_id, action, **fields)
        assert response.status_code == 302, text(response)[:3000]
    assert state_of(app_id) == State.STATION_REVIEWED
    return app_id


def to_submitted(browser, hamlet, serial=1) -> int:
    app_id = to_reviewed(browser, hamlet, serial)
    assert browser.post("/recruitment/submit", {"application": app_id}).status_code == 302
    return app_id


# --- the path a user walks ---------------------------------------------------------------------------


def test_vacant_hamlet_to_active_collaborator_through_the_pages(app, setup):
    world = setup
    hamlet = world.hamlets_b[0]
    head = Browser(app, "truongtram_b")

    page = text(head.get("/recruitment/vacancies"))
    assert "Ấp Tân Lập" in page and "Giới thiệu ứng viên" in page
    assert f"/recruitment/hamlets/{hamlet.id}/applications/new" in page
    assert "Khu phố 1" not in page  # commune A is not this head's

    form = text(head.get(f"/recruitment/hamlets/{hamlet.id}/applications/new"))
    assert f'<option selected value="{hamlet.id}">' in form or f'value="{hamlet.id}" selected' in form

    app_id = nominate(head, hamlet)
    page = text(head.get(f"/recruitment/applications/{app_id}"))
    assert "Nguyễn Thị Ứng Viên 1" in page and "Được giới thiệu" in page
    assert "Cập nhật hồ sơ giấy tờ" in page

    response = head.dossier(app_id)
    assert response.status_code == 302
    response = head.act(app_id, "complete_dossier", comment="Đủ 5 loại giấy tờ")
    assert "Đã thực hiện “Xác nhận đủ hồ sơ”" in flashes(head.get(response.headers["Location"]))
    head.act(app_id, "screen")
    page = text(head.get(f"/recruitment/applications/{app_id}"))
    assert "Tốt nghiệp THCS trở lên" in page and "bộ tiêu chuẩn phiên bản 1" in page
    assert "TT 02/2021/TT-BYT, Điều 2 khoản 1" in page
    head.act(app_id, "review", ranking="1",
             **{f"check_{c}": "y" for c in MANUAL_CODES}, note_TRUSTED="Biên bản họp ấp 02/10")
    assert state_of(app_id) == State.STATION_REVIEWED

    submit_page = text(head.get("/recruitment/submit"))
    assert "Nguyễn Thị Ứng Viên 1" in submit_page
    response = head.post("/recruitment/submit", {"application": app_id, "comment": "Danh sách tháng 10"})
    assert response.status_code == 302
    assert state_of(app_id) == State.SUBMITTED

    centre = Browser(app, "ttyt689")
    approvals = text(centre.get("/recruitment/approvals"))
    assert "Nguyễn Thị Ứng Viên 1" in approvals and "Xã Đồng Xoài" in approvals
    response = centre.post("/recruitment/approvals", {f"choice-{app_id}": "approve"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/recruitment/decisions/new")
    assert state_of(app_id) == State.APPROVED

    assert "Nguyễn Thị Ứng Viên 1" in text(centre.get("/recruitment/decisions/new"))
    response = centre.post("/recruitment/decisions/new", {
        "application": app_id, "number": "125/QĐ-TTYT", "issued_on": "2025-10-01", "signer_name": "Lê Văn An",
        "signer_title": "Giám đốc"})
    assert response.status_code == 302, flashes(response) or text(response)[:2000]
    decision = db.session.scalar(select(RecognitionDecision).where(RecognitionDecision.number == "125/QĐ-TTYT"))
    assert decision.issuer_name == "Trung tâm Y tế khu vực Đồng Xoài"
    annex = text(centre.get(f"/recruitment/decisions/{decision.id}"))
    assert "Kèm theo Quyết định số 125/QĐ-TTYT ngày 01/10/2025" in annex
    assert "Nguyễn Thị Ứng Viên 1" in annex and factories.national_id(BORN, "female", 1) in annex
    assert "@page" in annex and "GIÁM ĐỐC" in annex.upper() and "Lê Văn An" in annex

    response = centre.act(app_id, "contract", contract_date="2025-10-05", contract_number="HĐ-01",
                          allowance_tier="Mức chung")
    assert response.status_code == 302
    assert state_of(app_id) == State.CONTRACTED
    response = head.act(app_id, "activate", start_date="2025-10-06")
    assert response.status_code == 302
    assert state_of(app_id) == State.ACTIVE

    page = text(head.get(f"/recruitment/applications/{app_id}"))
    timeline = page[page.index("Quá trình xử lý"):]
    steps = ["Giới thiệu ứng viên", "Cập nhật hồ sơ", "Xác nhận đủ hồ sơ", "Sàng lọc tự động", "Thẩm định tại trạm",
             "Trình phê duyệt", "Phê duyệt", "Đưa vào quyết định công nhận", "Ký hợp đồng trách nhiệm",
             "Bắt đầu hoạt động"]
    positions = [timeline.index(f"<strong>{s}</strong>") for s in steps]
    assert positions == sorted(positions)
    assert timeline.count("(truongtram_b)") == 7 and timeline.count("(ttyt689)") == 3
    assert world.users["head_b"].full_name in timeline and "Biên bản họp ấp 02/10" in page
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", timeline)
    assert 'name="action"' not in page  # nothing left to do on an active collaborator

    vacancies = text(head.get("/recruitment/vacancies"))
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Ấp Tân Lập(?:(?!</tr>).)*</tr>", vacancies, re.S).group(0)
    cells = [c.strip() for c in re.findall(r'<td class="text-end[^"]*">\s*([^<]*)', row)]
    assert cells[:4] == ["300", "2", "1", "1"]  # households, quota, active, missing


def test_applications_list_filters_and_searches_without_diacritics(app, setup):
    head = Browser(app, "truongtram_b")
    first = nominate(head, setup.hamlets_b[0], 1)
    nominate(head, setup.hamlets_b[1], 2, full_name="Trần Văn Đông", sex="male",
             national_id=factories.national_id(BORN, "male", 2))
    assert "Đã thực hiện “Rút hồ sơ”" in flashes(head.get(head.act(first, "withdraw", comment="Đi xa").location))
    page = text(head.get("/recruitment/applications?q=tran van dong"))
    assert "Trần Văn Đông" in page and "Nguyễn Thị Ứng Viên 1" not in page
    page = text(head.get(f"/recruitment/applications?q={factories.national_id(BORN, 'female', 1)}"))
    assert "Nguyễn Thị Ứng Viên 1" in page and "Trần Văn Đông" not in page
    page = text(head.get("/recruitment/applications?state=withdrawn"))
    assert "Nguyễn Thị Ứng Viên 1" in page and "Trần Văn Đông" not in page
    assert "Không có hồ sơ nào phù hợp" in text(head.get(f"/recruitment/applications?commune={setup.commune_a.id}"))


def test_vacancies_filter_by_commune_and_hamlet_name(app, setup):
    centre = Browser(app, "ttyt689")
    page = text(centre.get("/recruitment/vacancies"))
    assert "Khu phố 1" in page and "Ấp Tân Lập" in page
    assert "Giới thiệu ứng viên</a>" not in page  # the centre approves; stations nominate
    page = text(centre.get(f"/recruitment/vacancies?commune={setup.commune_b.id}"))
    assert "Khu phố 1" not in page and "Ấp Tân Lập" in page
    page = text(centre.get("/recruitment/vacancies?q=tan lap"))
    assert "Ấp Tân Lập" in page and "Ấp 2" not in page


def test_vacancy_pages_show_the_next_hamlets_and_the_totals_of_the_whole_list(app, setup, monkeypatch):
    monkeypatch.setattr("danso_network.common.params.PER_PAGE", 1)
    centre = Browser(app, "ttyt689")
    hamlets = [text(centre.get(f"/recruitment/vacancies?page={n}")) for n in (1, 2, 3, 4)]
    names = ["Khu phố 1", "Khu phố 2", "Ấp Tân Lập", "Ấp 2"]  # nobody anywhere: by commune, then number
    assert [[n for n in names if f">{n}</a>" in page] for page in hamlets] == [[n] for n in names]
    totals = "4 thôn/tổ dân phố còn thiếu, trong đó 4 chưa có CTV nào; cần thêm 7 CTV."
    assert all(totals in page for page in hamlets)
    filtered = text(centre.get(f"/recruitment/vacancies?commune={setup.commune_a.id}&page=2"))
    assert ">Khu phố 2</a>" in filtered and ">Khu phố 1</a>" not in filtered
    assert "2 thôn/tổ dân phố còn thiếu, trong đó 2 chưa có CTV nào; cần thêm 4 CTV." in filtered
    assert "Ấp 2" in text(centre.get("/recruitment/vacancies?all=1"))  # print all: one page


def test_application_pages_show_the_next_rows_newest_first(app, setup, monkeypatch):
    head = Browser(app, "truongtram_b")
    nominate(head, setup.hamlets_b[0], 1)
    nominate(head, setup.hamlets_b[1], 2, full_name="Trần Văn Đông", sex="male",
             national_id=factories.national_id(BORN, "male", 2))
    monkeypatch.setattr("danso_network.common.params.PER_PAGE", 1)
    first, second = (text(head.get(f"/recruitment/applications?page={n}")) for n in (1, 2))
    assert "Trần Văn Đông" in first and "Nguyễn Thị Ứng Viên 1" not in first
    assert "Nguyễn Thị Ứng Viên 1" in second and "Trần Văn Đông" not in second
    assert "Tất cả (2)" in second  # the counts by state cover the whole list
    only = text(head.get("/recruitment/applications?q=nguyen&page=5"))  # past the end: the last page
    assert "Nguyễn Thị Ứng Viên 1" in only and "Trần Văn Đông" not in only


def _two_provinces_admin(world) -> str:
    from danso_network.auth import services as auth_services
    factories.criteria(world.hanoi)
    both = factories.user(Role.PROVINCE_ADMIN, unit=world.dong_nai, username="admin_hai_tinh")
    auth_services.grant_role(both, Role.PROVINCE_ADMIN, unit=world.hanoi, valid_from=both.grants[0].valid_from)
    db.session.commit()
    return both.username


def _options(page: str, name: str) -> list[str]:
    """The labels offered by the drop-down ``name`` (none: the page has no such drop-down)."""
    found = re.search(rf'<select id="{name}" name="{name}".*?</select>', page, re.S)
    return re.findall(r"<option value=\"\d+\"[^>]*>([^<]*)</option>", found.group(0)) if found else []


def test_a_scope_over_several_provinces_filters_by_province_then_by_its_communes(app, setup):
    """A national user would get thousands of communes in one drop-down: a scope over several
    provinces offers its provinces, then the communes of the chosen one; a link to one commune
    (the vacancy list's) still filters and selects its province."""
    browser = Browser(app, _two_provinces_admin(setup))
    page = text(browser.get("/recruitment/vacancies"))
    assert _options(page, "province") == ["Thành phố Đồng Nai", "Thành phố Hà Nội"]
    assert _options(page, "commune") == []  # no province chosen: no commune list
    assert "Khu phố 1" in page and "Tổ dân phố 5" in page
    page = text(browser.get(f"/recruitment/vacancies?province={setup.hanoi.id}"))
    assert _options(page, "commune") == ["Phường Ba Đình"]
    assert "Tổ dân phố 5" in page and "Khu phố 1" not in page and "Ấp Tân Lập" not in page
    page = text(browser.get(f"/recruitment/vacancies?commune={setup.commune_b.id}"))
    assert re.search(rf'<option value="{setup.dong_nai.id}" selected>', page)
    assert _options(page, "commune") == ["Phường Bình Phước", "Xã Đồng Xoài"]
    assert re.search(rf'<option value="{setup.commune_b.id}" selected>', page)
    assert "Ấp Tân Lập" in page and "Khu phố 1" not in page and "Tổ dân phố 5" not in page
    # The province changed while a commune of another one was still selected: the province wins.
    page = text(browser.get(f"/recruitment/vacancies?province={setup.hanoi.id}&commune={setup.commune_b.id}"))
    assert "Tổ dân phố 5" in page and "Ấp Tân Lập" not in page

    head = Browser(app, "truongtram_b")
    nominate(head, setup.hamlets_b[0], 1)
    page = text(browser.get(f"/recruitment/applications?province={setup.dong_nai.id}"))
    assert "Nguyễn Thị Ứng Viên 1" in page and _options(page, "commune") == ["Phường Bình Phước", "Xã Đồng Xoài"]
    assert "Không có hồ sơ nào phù hợp" in text(browser.get(f"/recruitment/applications?province={setup.hanoi.id}"))
    page = text(browser.get(f"/recruitment/applications?commune={setup.commune_b.id}"))
    assert "Nguyễn Thị Ứng Viên 1" in page and re.search(rf'<option value="{setup.dong_nai.id}" selected>', page)
    assert "Không có hồ sơ nào phù hợp" in text(browser.get(f"/recruitment/applications?commune={setup.commune_a.id}"))
    assert "Tất cả (1)" in text(browser.get(f"/recruitment/applications?province={setup.hanoi.id}"))


def test_a_scope_within_one_province_offers_its_communes_only(app, setup):
    page = text(Browser(app, "admin75").get("/recruitment/vacancies"))
    assert _options(page, "province") == []
    assert _options(page, "commune") == ["Phường Bình Phước", "Xã Đồng Xoài"]


# --- bad input: a message on the field, the input kept, nothing changed ------------------------------


@pytest.mark.parametrize("overrides, message", [
    ({"national_id": "12345"}, "Số CCCD phải gồm đúng 12 chữ số."),
    ({"national_id": "070090000001"}, "Số CCCD không khớp với giới tính và năm sinh"),
    ({"date_of_birth": (clock.today() + timedelta(days=30)).isoformat()}, "Ngày sinh phải trước ngày hôm nay."),
    ({"residence_hamlet": "other"}, "Ứng viên phải đang sinh sống tại Ấp Tân Lập"),
])
def test_bad_candidate_input_keeps_the_form_and_changes_nothing(app, setup, overrides, message):
    hamlet = setup.hamlets_b[0]
    if overrides.get("residence_hamlet") == "other":
        overrides = {"residence_hamlet": str(setup.hamlets_b[1].id)}
    head = Browser(app, "truongtram_b")
    before = counts()
    data = candidate_form(hamlet, 7, **overrides)
    response = head.post(f"/recruitment/hamlets/{hamlet.id}/applications/new", data)
    page = text(response)
    assert response.status_code == 200
    assert message in page
    assert 'value="Nguyễn Thị Ứng Viên 7"' in page and f'value="{data["national_id"]}"' in page
    assert 'value="Trưởng ấp giới thiệu"' in page
    assert counts() == before


def test_national_id_of_another_person_is_refused_on_its_field(app, setup):
    hamlet = setup.hamlets_b[0]
    head = Browser(app, "truongtram_b")
    nominate(head, hamlet, 1)
    before = counts()
    data = candidate_form(hamlet, 1, full_name="Lò Thị Khác")
    page = text(head.post(f"/recruitment/hamlets/{hamlet.id}/applications/new", data))
    assert "đã được ghi cho một người khác (Nguyễn Thị Ứng Viên 1)" in page
    assert re.search(r'id="national_id"[^>]*is-invalid|is-invalid[^>]*id="national_id"', page)
    assert 'value="Lò Thị Khác"' in page
    assert counts() == before


def test_transition_not_allowed_from_the_state_is_explained_and_changes_nothing(app, setup):
    head = Browser(app, "truongtram_b")
    app_id = nominate(head, setup.hamlets_b[0])
    before = counts()
    response = head.act(app_id, "review", **{f"check_{c}": "y" for c in MANUAL_CODES})
    assert response.status_code == 302
    assert "Không thể “Thẩm định tại trạm” hồ sơ đang ở trạng thái “Được giới thiệu”" in flashes(
        head.get(response.headers["Location"]))
    assert counts() == before and state_of(app_id) == State.NOMINATED


def test_incomplete_dossier_is_listed_on_the_action_form(app, setup):
    head = Browser(app, "truongtram_b")
    app_id = nominate(head, setup.hamlets_b[0])
    before = counts()
    response = head.act(app_id, "complete_dossier", comment="thử")
    page = text(response)
    assert response.status_code == 200
    assert "Hồ sơ chưa đủ" in page and "Thiếu: Đơn tình nguyện." in page
    assert "Chưa thực hiện được “Xác nhận đủ hồ sơ”" in page
    assert counts() == before


def test_review_without_every_manual_check_keeps_the_notes(app, setup):
    head = Browser(app, "truongtram_b")
    app_id = nominate(head, setup.hamlets_b[0])
    head.dossier(app_id)
    head.act(app_id, "complete_dossier")
    head.act(app_id, "screen")
    before = counts()
    response = head.act(app_id, "review", check_RESPONSIBLE="y", note_RESPONSIBLE="Nhiệt tình, đã làm tổ trưởng",
                        ranking="2")
    page = text(response)
    assert "Chưa xác nhận: Có khả năng vận động quần chúng." in page
    assert 'value="Nhiệt tình, đã làm tổ trưởng"' in page and 'value="2"' in page
    assert counts() == before and state_of(app_id) == State.SCREENED


def test_reject_needs_a_reason(app, setup):
    head = Browser(app, "truongtram_b")
    app_id = to_submitted(head, setup.hamlets_b[0])
    centre = Browser(app, "ttyt689")
    before = counts()
    page = text(centre.act(app_id, "reject", comment=""))
    assert "Từ chối phải ghi rõ lý do." in page
    assert counts() == before and state_of(app_id) == State.SUBMITTED


def test_a_stale_page_gets_the_concurrent_change_message(app, setup):
    head = Browser(app, "truongtram_b")
    app_id = nominate(head, setup.hamlets_b[0])
    old_version = db.session.scalar(select(Application.version).where(Application.id == app_id))
    head.dossier(app_id)  # someone saved the dossier in the meantime
    before = counts()
    response = head.act(app_id, "withdraw", version=old_version, comment="Rút")
    assert "Hồ sơ vừa được người khác xử lý" in flashes(head.get(response.headers["Location"]))
    assert counts() == before and state_of(app_id) == State.NOMINATED


def test_dossier_date_in_the_future_is_refused_on_its_field(app, setup):
    head = Browser(app, "truongtram_b")
    app_id = nominate(head, setup.hamlets_b[0])
    before = counts()
    future = (clock.today() + timedelta(days=3)).isoformat()
    page = text(head.dossier(app_id, application_signed_on=future))
    assert "Ngày không được ở tương lai." in page and f'value="{future}"' in page
    assert counts() == before


def test_exception_justification_shows_only_below_lower_secondary(app, setup):
    head = Browser(app, "truongtram_b")
    thcs = nominate(head, setup.hamlets_b[0], 1)
    primary = nominate(head, setup.hamlets_b[0], 2, education="primary")
    assert "exception_justification" not in text(head.get(f"/recruitment/applications/{thcs}"))
    assert "exception_justification" in text(head.get(f"/recruitment/applications/{primary}"))


def test_reused_decision_number_is_refused_on_the_number_field(app, setup):
    head = Browser(app, "truongtram_b")
    first = to_submitted(head, setup.hamlets_b[0], 1)
    second = to_submitted(head, setup.hamlets_b[1], 2)
    centre = Browser(app, "ttyt689")
    centre.post("/recruitment/approvals", {f"choice-{first}": "approve", f"choice-{second}": "approve"})
    fields = {"number": "7/QĐ-TTYT", "issued_on": "2025-10-01", "signer_name": "Lê Văn An", "signer_title": "Giám đốc"}
    assert centre.post("/recruitment/decisions/new", {"application": first, **fields}).status_code == 302
    before = db.session.scalar(select(func.count()).select_from(RecognitionDecision))
    response = centre.post("/recruitment/decisions/new", {"application": second, **fields,
                                                          "issued_on": "2025-11-02", "signer_name": "Phạm Thị Bình"})
    page = text(response)
    assert "Số quyết định 7/QĐ-TTYT đã được dùng trong năm 2025" in page
    assert re.search(r'id="number"[^>]*is-invalid|is-invalid[^>]*id="number"', page)
    assert 'value="Phạm Thị Bình"' in page and 'value="2025-11-02"' in page
    assert db.session.scalar(select(func.count()).select_from(RecognitionDecision)) == before
    assert db.session.scalar(select(Application.decision_id).where(Application.id == second)) is None


def test_approvals_are_all_or_nothing_and_name_the_candidate(app, setup):
    head = Browser(app, "truongtram_b")
    first = to_submitted(head, setup.hamlets_b[0], 1)
    second = to_submitted(head, setup.hamlets_b[1], 2)
    centre = Browser(app, "ttyt689")
    before = counts()
    response = centre.post("/recruitment/approvals", {f"choice-{first}": "approve", f"choice-{second}": "reject",
                                                      f"reason-{second}": ""})
    page = text(response)
    assert "Nguyễn Thị Ứng Viên 2: Từ chối phải ghi rõ lý do." in page
    assert re.search(rf'id="approve-{first}" value="approve" checked', page)  # the choices are kept
    assert counts() == before
    assert (state_of(first), state_of(second)) == (State.SUBMITTED, State.SUBMITTED)

    response = centre.post("/recruitment/approvals", {f"choice-{first}": "approve", f"choice-{second}": "reject",
                                                      f"reason-{second}": "Sắp chuyển công tác"})
    assert response.status_code == 302
    assert (state_of(first), state_of(second)) == (State.APPROVED, State.REJECTED)
    page = text(head.get(f"/recruitment/applications/{second}"))
    assert "Sắp chuyển công tác" in page and "Bị từ chối" in page


def test_commune_committee_confirms_on_the_approvals_page(app, setup):
    world = setup
    factories.criteria(world.dong_nai, valid_from=date(2025, 8, 1), approver=Approver.STATION_DIRECTOR_THEN_COMMITTEE)
    factories.user(Role.COMMUNE_COMMITTEE, unit=world.commune_b, username="ubnd_b")
    db.session.commit()
    head = Browser(app, "truongtram_b")
    app_id = to_submitted(head, world.hamlets_b[0])
    head.post("/recruitment/approvals", {f"choice-{app_id}": "approve"})
    assert state_of(app_id) == State.DIRECTOR_APPROVED
    committee = Browser(app, "ubnd_b")
    page = text(committee.get("/recruitment/approvals"))
    assert "UBND xã xác nhận" in page
    committee.post("/recruitment/approvals", {f"choice-{app_id}": "approve"})
    assert state_of(app_id) == State.APPROVED
    assert committee.get("/recruitment/decisions/new").status_code == 403  # the committee does not issue


# --- who may see and act ----------------------------------------------------------------------------------


def test_station_head_of_another_commune_is_refused(app, setup):
    head_b = Browser(app, "truongtram_b")
    app_id = to_submitted(head_b, setup.hamlets_b[0])
    centre = Browser(app, "ttyt689")
    centre.post("/recruitment/approvals", {f"choice-{app_id}": "approve"})
    centre.post("/recruitment/decisions/new", {"application": app_id, "number": "9/QĐ", "issued_on": "2025-10-01",
                                               "signer_name": "Lê Văn An", "signer_title": "Giám đốc"})
    decision_id = db.session.scalar(select(Application.decision_id).where(Application.id == app_id))
    head_a = Browser(app, "truongtram_a")
    before = counts()
    assert head_a.get(f"/recruitment/applications/{app_id}").status_code == 403
    assert head_a.get(f"/recruitment/decisions/{decision_id}").status_code == 403
    assert head_a.act(app_id, "withdraw", comment="x").status_code == 403
    assert head_a.dossier(app_id).status_code == 403
    assert head_a.get(f"/recruitment/hamlets/{setup.hamlets_b[0].id}/applications/new").status_code == 403
    assert head_a.get("/recruitment/applications/999999").status_code == 404
    assert head_a.get("/recruitment/decisions/999999").status_code == 404
    for url in ("/recruitment/applications", "/recruitment/decisions", "/recruitment/vacancies"):
        assert "Nguyễn Thị Ứng Viên 1" not in text(head_a.get(url)) and "9/QĐ" not in text(head_a.get(url))
    assert counts() == before


def test_viewer_reads_but_cannot_act(app, setup):
    head = Browser(app, "truongtram_b")
    app_id = to_reviewed(head, setup.hamlets_b[0])
    viewer = Browser(app, "xem_b")
    page = text(viewer.get(f"/recruitment/applications/{app_id}"))
    assert "Nguyễn Thị Ứng Viên 1" in page and "Quá trình xử lý" in page
    assert 'name="action"' not in page and "/dossier" not in page
    assert "Giới thiệu ứng viên</a>" not in text(viewer.get("/recruitment/vacancies"))
    before = counts()
    assert viewer.act(app_id, "submit").status_code == 403
    assert viewer.act(app_id, "withdraw", comment="x").status_code == 403
    assert viewer.dossier(app_id).status_code == 403
    assert viewer.post("/recruitment/submit", {"application": app_id}).status_code == 403
    assert viewer.get("/recruitment/approvals").status_code == 403
    assert viewer.get(f"/recruitment/hamlets/{setup.hamlets_b[0].id}/applications/new").status_code == 403
    assert counts() == before and state_of(app_id) == State.STATION_REVIEWED


def test_a_role_not_allowed_to_act_gets_403(app, setup):
    head = Browser(app, "truongtram_b")
    app_id = to_submitted(head, setup.hamlets_b[0])
    before = counts()
    assert head.act(app_id, "approve").status_code == 403  # the health centre approves in this province
    assert head.post("/recruitment/approvals", {f"choice-{app_id}": "approve"}).status_code == 403
    assert Browser(app, "ttyt689").act(app_id, "withdraw", comment="x").status_code == 403
    assert counts() == before and state_of(app_id) == State.SUBMITTED


def test_application_page_offers_only_the_users_actions(app, setup):
    head = Browser(app, "truongtram_b")
    app_id = to_submitted(head, setup.hamlets_b[0])
    page = text(head.get(f"/recruitment/applications/{app_id}"))
    assert 'value="withdraw"' in page and 'data-confirm="Rút hồ sơ của' in page and 'value="approve"' not in page
    page = text(Browser(app, "ttyt689").get(f"/recruitment/applications/{app_id}"))
    assert 'value="approve"' in page and 'value="reject"' in page and 'value="return"' in page
    assert 'value="withdraw"' not in page


def test_unknown_action_is_a_bad_request(app, setup):
    head = Browser(app, "truongtram_b")
    app_id = nominate(head, setup.hamlets_b[0])
    assert head.act(app_id, "promote").status_code == 400


def test_override_needs_a_written_reason_and_is_flagged(app, world):
    factories.criteria(world.dong_nai, allow_override=True)
    db.session.commit()
    head = Browser(app, "truongtram_b")
    app_id = nominate(head, world.hamlets_b[1], 1, education="primary")  # Ấp 2 is not a difficult hamlet
    head.dossier(app_id)
    for action, fields in [("complete_dossier", {}), ("screen", {}),
                           ("review", {f"check_{c}": "y" for c in MANUAL_CODES})]:
        head.act(app_id, action, **fields)
    head.post("/recruitment/submit", {"application": app_id})
    centre = Browser(app, "ttyt689")
    page = text(centre.get(f"/recruitment/applications/{app_id}"))
    assert "Không đạt" in page and "Lý do phê duyệt vượt tiêu chuẩn" in page
    before = counts()
    page = text(centre.act(app_id, "approve", override_reason="ngắn"))
    assert "Phê duyệt vượt tiêu chuẩn cần ghi rõ lý do (ít nhất 10 ký tự)." in page and "ngắn</textarea>" in page
    assert counts() == before and state_of(app_id) == State.SUBMITTED
    reason = "Thôn không có người đạt THCS nhận làm; đã họp thôn thống nhất"
    assert centre.act(app_id, "approve", override_reason=reason).status_code == 302
    assert state_of(app_id) == State.APPROVED
    listing = text(centre.get("/recruitment/applications"))
    assert "Vượt tiêu chuẩn" in listing and reason in listing  # the badge carries the reason


def test_batch_submission_ticks_nothing_until_the_user_does(app, setup):
    """Issue #9 item 18: every reviewed application was pre-ticked while the header box looked
    unticked; the user now ticks what goes up."""
    head = Browser(app, "truongtram_b")
    first = to_reviewed(head, setup.hamlets_b[0], 1)
    second = to_reviewed(head, setup.hamlets_b[0], 2)
    page = text(head.get("/recruitment/submit"))
    assert f'value="{first}"' in page and f'value="{second}"' in page
    assert not re.search(r'name="application" value="\d+" id="app-\d+"\s+checked', page)


def test_two_candidates_of_one_hamlet_cannot_share_a_priority(app, setup):
    head = Browser(app, "truongtram_b")
    hamlet = setup.hamlets_b[0]
    to_reviewed(head, hamlet, 1)
    app_id = nominate(head, hamlet, 2)
    head.dossier(app_id)
    head.act(app_id, "complete_dossier")
    head.act(app_id, "screen")
    response = head.act(app_id, "review", ranking="1", **{f"check_{c}": "y" for c in MANUAL_CODES})
    assert "Thứ tự ưu tiên 1 ở" in text(response) and "đã dành cho Nguyễn Thị Ứng Viên 1" in text(response)
    assert state_of(app_id) == State.SCREENED
    assert head.act(app_id, "review", ranking="2", **{f"check_{c}": "y" for c in MANUAL_CODES}).status_code == 302
    assert state_of(app_id) == State.STATION_REVIEWED


def test_a_viewer_is_not_offered_to_nominate(app, setup):
    """Issue #9 item 21: the viewer saw a "Giới thiệu ứng viên" button it could not use."""
    assert "Giới thiệu ứng viên" not in text(Browser(app, "xem_b").get("/recruitment/applications"))
    assert "Giới thiệu ứng viên" in text(Browser(app, "truongtram_b").get("/recruitment/applications"))
