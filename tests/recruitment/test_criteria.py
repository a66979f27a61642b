"""Criteria pages: reading a province's versions, issuing a new version through the form, and the
promise that a new version never changes how earlier applications were screened."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.common import clock
from danso_network.extensions import db
from danso_network.recruitment import rules
from danso_network.recruitment import services as rs
from danso_network.recruitment.models import CriteriaSet
from danso_network.recruitment.workflow import Action, Approver

from .. import factories
from ..conftest import csrf_token

MANUAL_OK = {c: {"ok": True, "note": "Đã xác minh"} for c in rules.MANUAL_CODES}


def _versions(province) -> list[int]:
    return list(db.session.scalars(select(CriteriaSet.version).where(CriteriaSet.province_id == province.id)
                                   .order_by(CriteriaSet.version)))


def _value(html: str, name: str) -> str | None:
    """The value of the input named ``name`` as rendered."""
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else ("" if tag else None)


def _url(world) -> str:
    return f"/criteria/{world.dong_nai.id}/versions/new"


def form_data(client, url, **overrides) -> dict:
    """A complete submission: custom bands 150 → 1, 300 → 2, open → 3; overrides replace fields."""
    data = {
        "csrf_token": csrf_token(client, url), "quota_preset": "custom",
        "bands-0-upper": "150", "bands-0-count": "1", "bands-1-upper": "300", "bands-1-count": "2",
        "bands-2-upper": "", "bands-2-count": "3",
        "approver": Approver.STATION_DIRECTOR.value, "min_age": "18", "max_age": "", "min_residence_months": "",
        "single_active_assignment": "y", "enabled_rules": [c for c in rules.DEFAULT_ENABLED if c != "SINGLE_ACTIVE"],
        "valid_from": clock.today().isoformat(), "note": "Theo QĐ 15/2026/QĐ-UBND",
    }
    for row in range(3, 6):
        data.setdefault(f"bands-{row}-upper", "")
        data.setdefault(f"bands-{row}-count", "")
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def v1(world):
    criteria = factories.criteria(world.dong_nai)
    db.session.commit()
    return criteria


# --- reading -----------------------------------------------------------------------------------


def test_show_lists_versions_rules_and_the_version_in_force(client, world, v1, login_as):
    rs.create_criteria_version(world.dong_nai, valid_from=date(2026, 1, 1), quota_bands=rules.QUOTA_PRESETS["hai_duong"],
                               quota_preset="hai_duong", approver=Approver.STATION_DIRECTOR)
    db.session.commit()
    login_as("xem_b")  # a viewer of one commune reads the province's rules
    html = client.get(f"/criteria/{world.dong_nai.id}").get_data(as_text=True)
    assert "Đang áp dụng hôm nay" in html and "phiên bản 2" in html
    assert "Phiên bản 1" in html and "Phiên bản 2" in html and "Đã được thay thế" in html
    assert "Giám đốc Trạm Y tế xã phê duyệt" in html and "Trung tâm Y tế khu vực phê duyệt" in html
    assert "Hải Dương (NQ 2022)" in html and "Gia Lai (QĐ 34/2023)" in html
    for rule in rules.RULES.values():
        assert str(rule.label) in html and rule.source in html
    assert "Tiêu chí mở rộng của tỉnh" in html
    assert "Ban hành phiên bản mới" not in html  # viewers cannot change the rules
    assert "data-print" in html


def test_index_redirects_to_the_only_province(client, world, v1, login_as):
    login_as("truongtram_a")
    response = client.get("/criteria/")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/criteria/{world.dong_nai.id}")


def test_user_without_grant_sees_no_province(client, world, login_as):
    login_as("chuacapquyen")
    assert "chưa được phân quyền" in client.get("/criteria/").get_data(as_text=True)
    assert client.get(f"/criteria/{world.dong_nai.id}").status_code == 403


def test_province_without_criteria_says_so(client, world, login_as):
    login_as("admin75")
    html = client.get(f"/criteria/{world.dong_nai.id}").get_data(as_text=True)
    assert "chưa ban hành bộ tiêu chuẩn" in html


def test_unknown_or_non_province_is_404(client, world, login_as):
    login_as("admin75")
    assert client.get("/criteria/999999").status_code == 404
    assert client.get(f"/criteria/{world.commune_a.id}").status_code == 404


# --- who may issue a version ---------------------------------------------------------------------


def test_station_head_reads_but_cannot_change_the_rules(client, world, v1, login_as):
    login_as("truongtram_a")
    assert client.get(f"/criteria/{world.dong_nai.id}").status_code == 200
    assert client.get(_url(world)).status_code == 403
    data = form_data(client, "/", csrf_token=csrf_token(client, "/"))
    assert client.post(_url(world), data=data).status_code == 403
    assert _versions(world.dong_nai) == [1]


def test_admin_of_another_province_cannot_see_or_change(client, world, v1, login_as):
    login_as("admin01")
    assert client.get(f"/criteria/{world.dong_nai.id}").status_code == 403
    data = form_data(client, "/", csrf_token=csrf_token(client, "/"))
    assert client.post(_url(world), data=data).status_code == 403
    assert _versions(world.dong_nai) == [1]


# --- issuing a version ---------------------------------------------------------------------------


def test_form_is_prefilled_from_the_latest_version(client, world, login_as):
    factories.criteria(world.dong_nai, quota_bands=rules.QUOTA_PRESETS["hai_duong"], quota_preset="hai_duong",
                       min_age=20, allow_override=True)
    db.session.commit()
    login_as("admin75")
    html = client.get(_url(world)).get_data(as_text=True)
    assert '<option selected value="hai_duong">' in html
    assert _value(html, "min_age") == "20"
    assert _value(html, "bands-0-upper") == "499" and _value(html, "bands-1-upper") == ""
    assert _value(html, "bands-1-count") == "2"
    assert re.search(r'<input[^>]*checked[^>]*name="allow_override"', html)
    assert "phiên bản 1" in html


def test_admin_issues_a_version_with_custom_bands(client, world, v1, login_as):
    login_as("admin75")
    response = client.post(_url(world), data=form_data(client, _url(world), **{
        "enabled_rules": [*[c for c in rules.DEFAULT_ENABLED if c != "SINGLE_ACTIVE"], "MAX_AGE"], "max_age": "60",
        "allow_override": "y"}))
    assert response.status_code == 302
    assert "Đã ban hành phiên bản 2" in client.get(response.headers["Location"]).get_data(as_text=True)
    v2 = rs.criteria_for(world.dong_nai)
    assert (v2.version, v2.valid_from, v2.quota_preset) == (2, clock.today(), "custom")
    assert v2.quota_bands == [[150, 1], [300, 2], [None, 3]]
    assert v2.approver == Approver.STATION_DIRECTOR and v2.max_age == 60 and v2.allow_override
    assert v2.enabled_rules == [c for c in rules.RULES if c in {*rules.DEFAULT_ENABLED, "MAX_AGE"}]
    assert v2.note == "Theo QĐ 15/2026/QĐ-UBND"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "criteria.create", AuditEvent.object_id == str(v2.id))) == 1


def test_a_preset_uses_its_own_bands(client, world, v1, login_as):
    login_as("admin75")
    response = client.post(_url(world), data=form_data(client, _url(world), quota_preset="hai_duong",
                                                         **{"bands-0-upper": "9999"}))
    assert response.status_code == 302
    v2 = rs.criteria_for(world.dong_nai)
    assert v2.quota_preset == "hai_duong" and v2.quota_bands == rules.QUOTA_PRESETS["hai_duong"]


def test_single_active_off_switches_the_rule_off(client, world, v1, login_as):
    login_as("admin75")
    assert client.post(_url(world), data=form_data(client, _url(world), single_active_assignment=None)).status_code \
        == 302
    v2 = rs.criteria_for(world.dong_nai)
    assert not v2.single_active_assignment and "SINGLE_ACTIVE" not in v2.enabled_rules


def test_first_version_of_a_province(client, world, login_as):
    login_as("admin75")
    html = client.get(_url(world)).get_data(as_text=True)
    assert "Chưa có phiên bản nào" in html
    assert client.post(_url(world), data=form_data(client, _url(world), valid_from="2025-07-01")).status_code == 302
    assert _versions(world.dong_nai) == [1]


@pytest.mark.parametrize(("overrides", "message", "kept"), [
    ({"bands-0-upper": "300", "bands-1-upper": "150"}, "giới hạn số hộ phải tăng dần", ("bands-0-upper", "300")),
    ({"bands-2-upper": "450"}, "Bậc cuối cùng phải không giới hạn số hộ", ("bands-2-upper", "450")),
    ({"bands-1-count": ""}, "Bậc 2: vui lòng nhập số CTV", ("bands-1-upper", "300")),
    ({"bands-0-count": "0"}, "Số CTV phải là số nguyên ≥ 1", ("bands-0-count", "0")),
    ({"bands-0-upper": "mười"}, "Số hộ phải là số nguyên ≥ 1", ("bands-0-upper", "mười")),
    ({"max_age": "18", "enabled_rules": ["ADULT", "MAX_AGE"]}, "Tuổi tối đa phải lớn hơn tuổi tối thiểu",
     ("max_age", "18")),
    ({"max_age": "17"}, "Tuổi tối đa phải lớn hơn tuổi tối thiểu", ("max_age", "17")),
    ({"enabled_rules": ["ADULT", "MAX_AGE"]}, "Bật tiêu chí tuổi tối đa thì phải nhập tuổi tối đa",
     ("bands-0-upper", "150")),
    ({"enabled_rules": ["ADULT", "MIN_RESIDENCE"]}, "Bật tiêu chí thời gian cư trú thì phải nhập số tháng",
     ("bands-0-upper", "150")),
    ({"min_age": "12"}, "Tuổi tối thiểu phải trong khoảng 15–60", ("min_age", "12")),
    ({"valid_from": "2025-07-01"}, "Phiên bản mới phải có hiệu lực sau ngày 01/07/2025", ("valid_from", "2025-07-01")),
    ({"valid_from": "2025-06-01"}, "Phiên bản mới phải có hiệu lực sau ngày 01/07/2025", ("valid_from", "2025-06-01")),
    ({"valid_from": ""}, "Vui lòng nhập ngày có hiệu lực", ("min_age", "18")),
    ({"valid_from": "31/02/2026"}, "Ngày không hợp lệ", ("valid_from", "31/02/2026")),
    ({"enabled_rules": ["NO_SUCH_RULE"]}, "Mã tiêu chí không hợp lệ", ("bands-0-upper", "150")),
    ({"approver": "mayor"}, "Cấp phê duyệt không hợp lệ", ("min_age", "18")),
    ({"quota_preset": "ha_noi"}, "Mẫu định mức không hợp lệ", ("bands-0-upper", "150")),
])
def test_bad_input_is_shown_with_the_input_kept_and_nothing_saved(client, world, v1, login_as, overrides, message,
                                                                   kept):
    login_as("admin75")
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    response = client.post(_url(world), data=form_data(client, _url(world), **overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert _value(html, kept[0]) == kept[1]
    assert "Theo QĐ 15/2026/QĐ-UBND</textarea>" in html
    assert _versions(world.dong_nai) == [1]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


# --- versions never rewrite the past -----------------------------------------------------------------


def test_applications_keep_the_version_they_were_screened_with(client, world, v1, login_as):
    head = world.users["head_b"]
    hamlet = world.hamlets_b[1]  # 90 households: 1 collaborator under every band table here
    app = rs.create_application(**factories.candidate_fields(hamlet, 1), actor=head)
    factories.complete_dossier(app, head)
    rs.perform(app, Action.COMPLETE_DOSSIER, actor=head)
    rs.perform(app, Action.SCREEN, actor=head, on=clock.today() - timedelta(days=1))
    db.session.commit()
    stored = [dict(r) for r in app.screening]
    assert app.criteria_set.version == 1

    login_as("admin75")
    response = client.post(_url(world), data=form_data(client, _url(world), min_age="21",
                                                         **{"bands-0-upper": "50"}))
    assert response.status_code == 302
    db.session.expire_all()
    assert rs.criteria_for(world.dong_nai).version == 2
    assert app.criteria_set.version == 1 and app.screening == stored and app.screening_passed
    assert app.criteria_set.quota_bands == rules.QUOTA_PRESETS["gia_lai"] and app.criteria_set.min_age == 18

    # The station can still review the old screening; a new screening uses the version in force.
    rs.perform(app, Action.REVIEW, actor=head, manual_checks=MANUAL_OK)
    assert app.criteria_set.version == 1
    other = rs.create_application(**factories.candidate_fields(world.hamlets_b[0], 2), actor=head)
    factories.complete_dossier(other, head)
    rs.perform(other, Action.COMPLETE_DOSSIER, actor=head)
    rs.perform(other, Action.SCREEN, actor=head)
    assert other.criteria_set.version == 2
    assert "21" in next(r["detail"] for r in other.screening if r["code"] == "ADULT")
