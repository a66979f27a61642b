"""Unit browser and hamlet maintenance through HTTP: scope, search, as-of dates, forms (CSRF on)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from danso_network.audit.models import AuditEvent
from danso_network.auth.models import Role
from danso_network.common import clock
from danso_network.extensions import db
from danso_network.units import services
from danso_network.units.models import AdminUnit, UnitLevel

from .. import factories
from ..conftest import csrf_token


def text(response) -> str:
    return response.get_data(as_text=True)


def post_form(client, url: str, data: dict):
    """POST ``data`` to a form page with the CSRF token read from that page."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def audit_count(action: str | None = None) -> int:
    stmt = select(func.count()).select_from(AuditEvent)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return db.session.scalar(stmt)


def hamlet_names(commune: AdminUnit) -> list[str]:
    return sorted(db.session.scalars(select(AdminUnit.name).where(
        AdminUnit.parent_id == commune.id, AdminUnit.valid_to.is_(None))))


# --- scope -------------------------------------------------------------------------------------


def test_station_head_sees_own_commune_and_its_hamlets(world, login_as):
    client = login_as(world.users["head_a"])
    page = text(client.get(f"/units/{world.commune_a.id}"))
    assert "Phường Bình Phước" in page
    assert "Khu phố 1" in page and "Khu phố 2" in page
    assert "Trạm Y tế Phường Bình Phước" in page  # facility serving it
    assert "Trung tâm Y tế khu vực Đồng Xoài" in page  # supervision chain
    assert client.get(f"/units/{world.hamlets_a[0].id}").status_code == 200


@pytest.mark.parametrize("target", ["commune_b", "hamlet_b", "dong_nai", "hanoi", "commune_c"])
def test_station_head_is_refused_outside_scope(world, login_as, target):
    unit = {"commune_b": world.commune_b, "hamlet_b": world.hamlets_b[0], "dong_nai": world.dong_nai,
            "hanoi": world.hanoi, "commune_c": world.commune_c}[target]
    client = login_as(world.users["head_a"])
    response = client.get(f"/units/{unit.id}")
    assert response.status_code == 403
    assert "không có quyền" in text(response)


def test_unknown_unit_is_404(world, login_as):
    client = login_as(world.users["admin"])
    assert client.get("/units/999999").status_code == 404


def test_anonymous_is_sent_to_login(world, client):
    for url in ("/units/", f"/units/{world.commune_a.id}", "/units/search?q=a",
                f"/units/{world.commune_a.id}/hamlets/new"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_centre_officer_sees_both_communes_but_not_hanoi(world, login_as):
    client = login_as(world.users["centre"])
    page = text(client.get("/units/"))
    assert "Phường Bình Phước" in page and "Xã Đồng Xoài" in page
    assert ">600<" in page and ">390<" in page  # households: 180 + 420 in A, 300 + 90 in B
    assert client.get(f"/units/{world.commune_a.id}").status_code == 200
    assert client.get(f"/units/{world.commune_b.id}").status_code == 200
    assert client.get(f"/units/{world.hanoi.id}").status_code == 403
    assert client.get(f"/units/{world.commune_c.id}").status_code == 403


def test_index_goes_straight_to_a_single_unit(world, login_as):
    client = login_as(world.users["head_a"])
    response = client.get("/units/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/units/{world.commune_a.id}")


def test_index_without_grant_shows_nothing(world, login_as):
    client = login_as(world.users["nogrant"])
    page = text(client.get("/units/"))
    assert "chưa được cấp quyền" in page
    assert "Bình Phước" not in page
    assert client.get(f"/units/{world.commune_a.id}").status_code == 403


def test_breadcrumb_links_only_ancestors_in_scope(world, login_as):
    client = login_as(world.users["head_a"])
    page = text(client.get(f"/units/{world.hamlets_a[0].id}"))
    assert "Thành phố Đồng Nai" in page
    assert f'href="/units/{world.dong_nai.id}"' not in page
    assert f'href="/units/{world.commune_a.id}"' in page

    other = factories.user(Role.PROVINCE_ADMIN, unit=world.dong_nai, username="admin75b")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    page = text(login_as(other).get(f"/units/{world.hamlets_a[0].id}"))
    assert f'href="/units/{world.dong_nai.id}"' in page


def test_unit_page_shows_facts_and_print_button(world, login_as):
    client = login_as(world.users["admin"])
    page = text(client.get(f"/units/{world.commune_b.id}"))
    assert "25210" in page and "Xã" in page
    assert "data-print" in page
    assert "Khó khăn" in page and "DTTS" in page  # flags of Ấp Tân Lập
    assert "Thêm thôn/tổ dân phố" in page
    province = text(client.get(f"/units/{world.dong_nai.id}"))
    assert "Bình Phước" in province and "Đồng Xoài" in province
    assert "Sở Y tế Thành phố Đồng Nai" in province


def test_synthetic_hamlets_are_marked(world, login_as):
    made_up = services.create_hamlet(world.commune_b, name="Ấp Minh Hoạ", type="ap", valid_from=factories.REFORM_DAY,
                                     households=100, is_synthetic=True)
    client = login_as(world.users["admin"])
    commune = text(client.get(f"/units/{world.commune_b.id}"))
    assert "Dữ liệu minh hoạ" in commune
    assert "sinh tự động" in commune
    hamlet = text(client.get(f"/units/{made_up.id}"))
    assert "Dữ liệu minh hoạ" in hamlet and "sinh tự động" in hamlet


def test_children_sort_on_whitelisted_keys_only(world, login_as):
    client = login_as(world.users["head_a"])
    url = f"/units/{world.commune_a.id}"
    page = text(client.get(url + "?sort=households&dir=desc"))
    assert page.index("Khu phố 2") < page.index("Khu phố 1")  # 420 households before 180
    page = text(client.get(url + "?sort=name"))
    assert page.index("Khu phố 1") < page.index("Khu phố 2")
    assert client.get(url + "?sort=path;drop&dir=sideways&page=abc").status_code == 200
    assert client.get(url + "?page=99").status_code == 200


def test_commune_page_filters_hamlets_by_flag(world, login_as):
    client = login_as(world.users["head_b"])
    page = text(client.get(f"/units/{world.commune_b.id}?flag=difficult"))
    assert "Ấp Tân Lập" in page and "Ấp 2" not in page
    page = text(client.get(f"/units/{world.commune_b.id}?flag=bogus"))
    assert "Ấp Tân Lập" in page and "Ấp 2" in page


def test_child_table_costs_the_same_queries_whatever_its_size(app, world, login_as):
    client = login_as(world.users["head_a"])
    url = f"/units/{world.commune_a.id}"

    def statements() -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    before = statements()
    for i in range(8):
        factories.hamlet(world.commune_a, f"Khu phố {10 + i}", type="khu_pho")
    db.session.commit()
    assert statements() == before


# --- as of a date ------------------------------------------------------------------------------


def test_bad_as_of_gives_a_message_not_an_error(world, login_as):
    client = login_as(world.users["head_a"])
    for bad in ("hôm-qua", "2025-13-45", "31/02/2025", "9" * 40):
        response = client.get(f"/units/{world.commune_a.id}", query_string={"as_of": bad})
        assert response.status_code == 200
        assert "không hợp lệ" in text(response)
        assert "Khu phố 1" in text(response)  # fell back to today


def test_past_tree_shows_districts_before_the_reform(world, login_as):
    old = factories.province(code="70", name="Bình Phước", full_name="Tỉnh Bình Phước", type="tinh",
                             valid_from=date(2004, 1, 1))
    district = services.create_unit(level=UnitLevel.DISTRICT, code="689", name="Đồng Xoài",
                                    full_name="Thành phố Đồng Xoài", type="thanh_pho_thuoc_tinh", parent=old,
                                    valid_from=date(2004, 1, 1))
    services.close_unit(district, on=factories.REFORM_DAY, decision_ref="NQ 1662/NQ-UBTVQH15")
    admin = factories.user(Role.PROVINCE_ADMIN, unit=old, username="admin70")
    client = login_as(admin)

    past = text(client.get(f"/units/{old.id}?as_of=2025-06-30"))
    assert "Đồng Xoài" in past
    assert "Hết hiệu lực từ 01/07/2025" in past
    assert "30/06/2025" in past
    assert "Đồng Xoài" not in text(client.get(f"/units/{old.id}"))
    closed = text(client.get(f"/units/{district.id}"))
    assert "Hết hiệu lực từ 01/07/2025" in closed and "NQ 1662/NQ-UBTVQH15" in closed


# --- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["dong xoai", "ĐỒNG XOÀI", "Dong  Xoai", "đồng xoài"])
def test_search_ignores_diacritics_case_and_spaces(world, login_as, query):
    client = login_as(world.users["admin"])
    page = text(client.get("/units/search", query_string={"q": query}))
    assert "Xã Đồng Xoài" in page
    assert f'href="/units/{world.commune_b.id}"' in page


def test_search_never_leaves_the_scope(world, login_as):
    client = login_as(world.users["head_a"])
    page = text(client.get("/units/search", query_string={"q": "dong xoai"}))
    assert "Xã Đồng Xoài" not in page and "Ấp Tân Lập" not in page
    assert "Không tìm thấy" in page
    page = text(client.get("/units/search", query_string={"q": "khu pho"}))
    assert "Khu phố 1, Phường Bình Phước" in page
    assert "Phường Bình Phước" in page  # the parent commune column

    hanoi = login_as_other(world, "hanoi_admin", client)
    page = text(hanoi.get("/units/search", query_string={"q": "dong"}))
    assert "Đồng Xoài" not in page and "Đồng Nai" not in page.split("<main", 1)[1]


def login_as_other(world, key, client):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client)
    client.post("/login", data={"username": world.users[key].username, "password": factories.PASSWORD,
                                "csrf_token": token})
    return client


def test_search_empty_query_gives_a_hint(world, login_as):
    client = login_as(world.users["admin"])
    page = text(client.get("/units/search?q="))
    assert "có dấu hoặc không dấu" in page


def test_search_caps_results_with_a_message(world, login_as, monkeypatch):
    from danso_network.units import views

    monkeypatch.setattr(views, "SEARCH_LIMIT", 1)
    client = login_as(world.users["head_a"])
    page = text(client.get("/units/search", query_string={"q": "khu pho"}))
    assert "Hiển thị 1 kết quả đầu tiên" in page


# --- hamlet maintenance ------------------------------------------------------------------------


def new_url(world):
    return f"/units/{world.commune_a.id}/hamlets/new"


GOOD_HAMLET = {"name": "Khu phố 3", "type": "khu_pho", "households": "150", "population": "600",
               "valid_from": clock.today().isoformat(), "note": "Tách từ khu phố 2"}


def test_create_hamlet(world, login_as):
    client = login_as(world.users["head_a"])
    page = text(client.get(new_url(world)))
    assert 'value="khu_pho"' in page and 'value="ap"' not in page  # only urban types under a phường
    before = audit_count("unit.create")
    response = post_form(client, new_url(world), {**GOOD_HAMLET, "is_difficult": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/units/{world.commune_a.id}")
    hamlet = db.session.scalar(select(AdminUnit).where(AdminUnit.name == "Khu phố 3"))
    assert hamlet.parent_id == world.commune_a.id and hamlet.level == "hamlet"
    assert hamlet.full_name == "Khu phố 3, Phường Bình Phước"
    assert (hamlet.households, hamlet.population, hamlet.is_difficult) == (150, 600, True)
    assert hamlet.note == "Tách từ khu phố 2" and hamlet.local_id == "003"
    assert audit_count("unit.create") == before + 1
    last = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert last.actor_id == world.users["head_a"].id and last.unit_path == hamlet.path
    assert "Đã thêm Khu phố 3." in text(client.get(response.headers["Location"]))


@pytest.mark.parametrize("change, message", [
    ({"name": "   "}, "Vui lòng nhập tên."),
    ({"households": "-5"}, "Số hộ gia đình phải từ 0 đến 20.000."),
    ({"population": "nhiều"}, "Phải là số nguyên không âm."),
    ({"name": "Khu phố 2"}, "Phường Bình Phước đã có “Khu phố 2”."),
    ({"name": "khu phố 2"}, "Phường Bình Phước đã có “Khu phố 2”."),
    ({"type": "ap"}, "Thông tư 04/2012/TT-BNV"),
    ({"type": "tinh"}, "không thuộc cấp này"),
    ({"type": "zzz"}, "không hợp lệ"),
    ({"valid_from": "2025-02-30"}, "Ngày không hợp lệ"),
    ({"valid_from": "2020-01-01"}, "không còn hiệu lực vào ngày bắt đầu"),
])
def test_create_hamlet_refusals_keep_input_and_change_nothing(world, login_as, change, message):
    client = login_as(world.users["head_a"])
    before = (hamlet_names(world.commune_a), audit_count())
    data = {**GOOD_HAMLET, **change}
    response = post_form(client, new_url(world), data)
    page = text(response)
    assert response.status_code == 200
    assert message in page
    assert 'value="Tách từ khu phố 2"' in page or "Tách từ khu phố 2</textarea>" in page
    if data["name"].strip():
        assert f'value="{data["name"]}"' in page
    assert (hamlet_names(world.commune_a), audit_count()) == before


def test_post_without_csrf_token_is_refused(world, login_as):
    client = login_as(world.users["head_a"])
    before = hamlet_names(world.commune_a)
    response = client.post(new_url(world), data=GOOD_HAMLET)
    assert response.status_code == 400
    assert hamlet_names(world.commune_a) == before
    hamlet = world.hamlets_a[0]
    assert client.post(f"/units/{hamlet.id}/close", data={"valid_to": clock.today().isoformat()}).status_code == 400
    assert db.session.get(AdminUnit, hamlet.id).valid_to is None


def test_hamlet_forms_only_for_hamlets_and_communes(world, login_as):
    client = login_as(world.users["admin"])
    assert client.get(f"/units/{world.hamlets_a[0].id}/hamlets/new").status_code == 404
    assert client.get(f"/units/{world.commune_a.id}/edit").status_code == 404
    assert client.get(f"/units/{world.commune_a.id}/close").status_code == 404


def test_viewer_cannot_open_or_post_hamlet_forms(world, login_as):
    client = login_as(world.users["viewer_b"])
    page = text(client.get(f"/units/{world.commune_b.id}"))
    assert "Ấp Tân Lập" in page
    assert "Thêm thôn/tổ dân phố" not in page
    hamlet = world.hamlets_b[0]
    token = csrf_token(client, f"/units/{world.commune_b.id}")
    before = (hamlet_names(world.commune_b), audit_count())
    for url, data in [
        (f"/units/{world.commune_b.id}/hamlets/new", {**GOOD_HAMLET, "type": "ap"}),
        (f"/units/{hamlet.id}/edit", {"name": "Ấp Mới", "type": "ap"}),
        (f"/units/{hamlet.id}/close", {"valid_to": clock.today().isoformat()}),
    ]:
        assert client.get(url).status_code == 403
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403
    assert (hamlet_names(world.commune_b), audit_count()) == before
    assert db.session.get(AdminUnit, hamlet.id).valid_to is None


def test_station_head_cannot_edit_another_commune(world, login_as):
    client = login_as(world.users["head_a"])
    assert client.get(f"/units/{world.commune_b.id}/hamlets/new").status_code == 403
    assert client.get(f"/units/{world.hamlets_b[0].id}/edit").status_code == 403


def test_edit_hamlet(world, login_as):
    hamlet = world.hamlets_a[0]
    client = login_as(world.users["officer_a"])
    url = f"/units/{hamlet.id}/edit"
    assert 'value="Khu phố 1"' in text(client.get(url))
    before = audit_count("unit.update")
    response = post_form(client, url, {"name": "Khu phố Một", "type": "to_dan_pho", "households": "999",
                                       "population": "", "is_ethnic_minority": "y", "note": "Đổi tên"})
    assert response.status_code == 302
    db.session.expire_all()
    hamlet = db.session.get(AdminUnit, hamlet.id)
    assert hamlet.name == "Khu phố Một" and hamlet.full_name == "Khu phố Một, Phường Bình Phước"
    assert (hamlet.type, hamlet.households, hamlet.population) == ("to_dan_pho", 999, None)
    assert hamlet.is_ethnic_minority and hamlet.note == "Đổi tên"
    assert audit_count("unit.update") == before + 1
    last = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "unit.update")
                             .order_by(AuditEvent.id.desc()))
    assert last.before["households"] == 180 and last.after["households"] == 999
    assert last.actor_id == world.users["officer_a"].id


@pytest.mark.parametrize("change, message", [
    ({"name": "Khu phố 2"}, "đã có “Khu phố 2”"),
    ({"name": ""}, "Vui lòng nhập tên."),
    ({"population": "-1"}, "Số nhân khẩu phải từ 0 đến 100.000."),
    ({"type": "thon"}, "Thông tư 04/2012/TT-BNV"),
])
def test_edit_hamlet_refusals_change_nothing(world, login_as, change, message):
    hamlet = world.hamlets_a[0]
    client = login_as(world.users["head_a"])
    before = audit_count()
    data = {"name": "Khu phố Mới", "type": "khu_pho", "households": "181", **change}
    response = post_form(client, f"/units/{hamlet.id}/edit", data)
    assert response.status_code == 200
    assert message in text(response)
    assert 'value="181"' in text(response)
    db.session.expire_all()
    hamlet = db.session.get(AdminUnit, hamlet.id)
    assert (hamlet.name, hamlet.households, hamlet.type) == ("Khu phố 1", 180, "khu_pho")
    assert audit_count() == before


def test_close_hamlet_hides_it_from_later_dates_only(world, login_as):
    hamlet = world.hamlets_a[0]
    close_on = clock.today() - timedelta(days=10)
    assert close_on > hamlet.valid_from + timedelta(days=1)
    client = login_as(world.users["head_a"])
    url = f"/units/{hamlet.id}/close"
    page = text(client.get(url))
    assert "Khi xác nhận" in page and "Không xoá dữ liệu" in page
    before = audit_count("unit.close")
    response = post_form(client, url, {"valid_to": close_on.isoformat(), "decision_ref": "QĐ 12/QĐ-UBND"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/units/{world.commune_a.id}")
    assert "Đã đóng Khu phố 1" in text(client.get(response.headers["Location"]))
    db.session.expire_all()
    closed = db.session.get(AdminUnit, hamlet.id)
    assert closed.valid_to == close_on and closed.decision_ref == "QĐ 12/QĐ-UBND"
    assert audit_count("unit.close") == before + 1

    commune = f"/units/{world.commune_a.id}"
    assert "Khu phố 1" not in text(client.get(commune))
    assert "Khu phố 1" not in text(client.get(commune, query_string={"as_of": close_on.isoformat()}))
    earlier = (close_on - timedelta(days=1)).isoformat()
    assert "Khu phố 1" in text(client.get(commune, query_string={"as_of": earlier}))
    # The closed hamlet keeps its page, marked, with no edit buttons.
    page = text(client.get(f"/units/{hamlet.id}"))
    assert "Hết hiệu lực từ" in page and f"/units/{hamlet.id}/edit" not in page


@pytest.mark.parametrize("data, message", [
    ({"valid_to": "2025-06-01"}, "Ngày hết hiệu lực phải sau ngày bắt đầu hiệu lực (01/07/2025)."),
    ({"valid_to": "2025-07-01"}, "Ngày hết hiệu lực phải sau ngày bắt đầu hiệu lực"),
    ({"valid_to": ""}, "Vui lòng nhập ngày hết hiệu lực."),
    ({"valid_to": "32/13/2025"}, "Ngày không hợp lệ"),
])
def test_close_hamlet_refusals_change_nothing(world, login_as, data, message):
    hamlet = world.hamlets_a[0]
    client = login_as(world.users["head_a"])
    before = audit_count()
    response = post_form(client, f"/units/{hamlet.id}/close", {**data, "decision_ref": "QĐ 99"})
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert 'value="QĐ 99"' in page
    db.session.expire_all()
    assert db.session.get(AdminUnit, hamlet.id).valid_to is None
    assert audit_count() == before


def test_closing_twice_is_refused_with_a_message(world, login_as):
    hamlet = world.hamlets_a[1]
    client = login_as(world.users["head_a"])
    url = f"/units/{hamlet.id}/close"
    close_on = clock.today() - timedelta(days=3)
    assert post_form(client, url, {"valid_to": close_on.isoformat()}).status_code == 302
    assert "đã hết hiệu lực" in text(client.get(url))
    assert "không sửa được" in text(client.get(f"/units/{hamlet.id}/edit"))
    response = post_form(client, f"/units/{hamlet.id}/edit", {"name": "X", "type": "khu_pho"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(AdminUnit, hamlet.id).name == "Khu phố 2"


def test_duplicate_check_folds_vietnamese_letters_and_accent_encoding(world, login_as):
    import unicodedata

    client = login_as(world.users["head_b"])
    url = f"/units/{world.commune_b.id}/hamlets/new"
    before = hamlet_names(world.commune_b)
    for name in ("ấp tân lập", unicodedata.normalize("NFD", "Ấp Tân Lập")):
        response = post_form(client, url, {"name": name, "type": "ap", "valid_from": clock.today().isoformat()})
        assert response.status_code == 200
        assert "Xã Đồng Xoài đã có “Ấp Tân Lập”." in text(response)
    assert hamlet_names(world.commune_b) == before
