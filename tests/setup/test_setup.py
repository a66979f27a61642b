"""The guided start of a province (issue #12, item 6): each step's state read from the
database, the page for the province's admins only, and ``danso setup``."""

from __future__ import annotations

from datetime import date

import pytest

from danso_network.extensions import db
from danso_network.setup import services

from .. import factories


def states(steps) -> dict[str, str]:
    return {s.key: s.state for s in steps}


def test_an_empty_province_has_every_step_to_do(world):
    empty = factories.province(code="80", name="Tây Ninh", full_name="Tỉnh Tây Ninh")
    db.session.flush()
    assert set(states(services.province_steps(empty, date(2026, 12, 7))).values()) == {services.MISSING}
    assert services.next_step(services.province_steps(empty, date(2026, 12, 7))).key == "units"


def test_the_small_world_shows_what_is_in_place_and_what_is_missing(world):
    on = date(2026, 12, 7)
    steps = states(services.province_steps(world.dong_nai, on))
    # Department, centre serving both communes, a station in each; hamlets in both communes.
    assert steps["units"] == steps["facilities"] == steps["hamlets"] == services.DONE
    assert steps["criteria"] == services.MISSING and steps["collaborators"] == services.MISSING
    # Both stations have a head, the centre an officer.
    assert steps["accounts"] == services.DONE
    factories.criteria(world.dong_nai)
    factories.appoint(world.hamlets_a[0], 1)
    db.session.flush()
    steps = services.province_steps(world.dong_nai, on)
    assert states(steps)["criteria"] == services.DONE
    collaborators = next(s for s in steps if s.key == "collaborators")
    assert collaborators.state == services.PARTIAL
    assert collaborators.figures == ["1 cộng tác viên; 1/4 thôn/tổ dân phố có cộng tác viên."]


def test_a_commune_without_a_station_or_a_centre_leaves_facilities_partial(world):
    factories.commune(world.dong_nai, "25216", "Tân Thành")
    db.session.flush()
    step = next(s for s in services.province_steps(world.dong_nai, date(2026, 12, 7)) if s.key == "facilities")
    assert step.state == services.PARTIAL
    assert "2/3 xã/phường có trạm y tế." in step.figures
    assert "1 trung tâm y tế; 2/3 xã/phường được một trung tâm phụ trách." in step.figures


def test_the_page_is_for_the_provinces_admins(world, client, login_as):
    login_as(world.users["admin"])
    page = client.get("/setup/", follow_redirects=True)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Triển khai hệ thống cho Thành phố Đồng Nai" in text and 'data-step="criteria" data-state="missing"' in text
    assert "Bước tiếp theo: Tiêu chuẩn tuyển chọn cộng tác viên." in text
    assert client.get(f"/setup/{world.hanoi.id}").status_code == 403
    assert client.get(f"/setup/{world.commune_a.id}").status_code == 404


@pytest.mark.parametrize("who", ["centre", "head_a", "viewer_b", "nogrant"])
def test_other_roles_may_not_see_it(world, client, login_as, who):
    login_as(world.users[who])
    assert client.get(f"/setup/{world.dong_nai.id}").status_code == 403
    assert "Chỉ quản trị viên cấp tỉnh" in client.get("/setup/").get_data(as_text=True)


def test_the_command_lists_the_steps_and_refuses_an_unknown_province(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["setup", "--province", "75"])
    assert result.exit_code == 0, result.output
    assert "[x] 1. Tỉnh và các xã/phường — Đã xong" in result.output
    assert "[ ] 4. Tiêu chuẩn tuyển chọn cộng tác viên — Chưa làm" in result.output
    assert "Bước tiếp theo: Tiêu chuẩn tuyển chọn cộng tác viên." in result.output
    bad = runner.invoke(args=["setup", "--province", "99"])
    assert bad.exit_code == 2 and "không có tỉnh/thành phố mã “99”" in bad.output

