"""Merging hamlets through the pages (issue #13, "Done when"): the province admin picks two hamlets
of a commune, sees the preview (nothing written), downloads it, applies it; the roster of the day
before still shows the two hamlets, the merged hamlet's page names its predecessors and the old
hamlets' pages their successor. Bad input re-displays the form with a Vietnamese message and
writes nothing; only a province admin reaches the page."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from danso_network.collaborators import services as network
from danso_network.extensions import db
from danso_network.units.models import AdminUnit, UnitChange
from tests.conftest import csrf_token, login
from tests.exports.roster_data import xlsx_sheets
from tests.factories import appoint, criteria

ON = date(2026, 1, 1)


@pytest.fixture
def people(world):
    criteria(world.dong_nai)
    kp1, kp2 = world.hamlets_a
    found = {"lan": appoint(kp1, 1), "hoa": appoint(kp2, 2)}
    db.session.commit()
    return found


def url(world) -> str:
    return f"/units/{world.commune_a.id}/reform/merge-hamlets"


def fields(world, client, **overrides) -> dict:
    kp1, kp2 = world.hamlets_a
    data = {"csrf_token": csrf_token(client, url(world)), "hamlets": [kp1.id, kp2.id], "seat": kp1.id,
            "name": "Khu phố 1-2", "effective_on": "01/01/2026", "decision_ref": "NQ 25/NQ-HĐND ngày 20/12/2025",
            "preview": "Xem trước tác động"}
    data.update(overrides)
    return data


def written() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(AdminUnit)),
            db.session.scalar(select(func.count()).select_from(UnitChange)))


def test_the_province_admin_previews_downloads_then_applies_a_merger(world, client, people):
    login(client, "admin75")
    commune_page = client.get(f"/units/{world.commune_a.id}").get_data(as_text=True)
    assert f'href="{url(world)}"' in commune_page and "Sáp nhập thôn/tổ dân phố" in commune_page
    form = client.get(url(world)).get_data(as_text=True)
    assert "Khu phố 1" in form and "Khu phố 2" in form and "Xem trước tác động" in form

    before = written()
    preview = client.post(url(world), data=fields(world, client))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and written() == before  # a preview writes nothing
    assert "Khu phố 1-2, Phường Bình Phước" in html and "Nguyễn Thị Ứng Viên 1" in html
    assert "Nguyễn Thị Ứng Viên 2" in html and "Thực hiện sáp nhập" in html and "data-confirm" in html

    download = client.post(url(world), data=fields(world, client, preview=None, download="x"))
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    sheets = xlsx_sheets(download.data)
    assert any("Khu phố 1-2, Phường Bình Phước" in str(cell) for row in sheets["Đơn vị"] for cell in row)
    assert written() == before

    done = client.post(url(world), data=fields(world, client, preview=None, apply="x"))
    assert done.status_code == 302
    merged = db.session.scalar(select(AdminUnit).where(AdminUnit.name == "Khu phố 1-2"))
    assert done.headers["Location"].endswith(f"/units/{merged.id}")
    assert "Đã sáp nhập 2 thôn/tổ dân phố thành Khu phố 1-2 từ ngày 01/01/2026." in client.get(
        done.headers["Location"]).get_data(as_text=True)
    # The day before, the roster still shows the two hamlets; from the date, the merged one.
    rows = lambda day: {r.hamlet_name for r in network.roster_rows(  # noqa: E731
        [world.dong_nai.path], network.RosterFilters(as_of=day))}
    assert {"Khu phố 1", "Khu phố 2"} <= rows(date(2025, 12, 31)) and "Khu phố 1-2" not in rows(date(2025, 12, 31))
    assert "Khu phố 1-2" in rows(ON) and not {"Khu phố 1", "Khu phố 2"} & rows(ON)
    # Each page names the other side, with the decision and the date.
    merged_page = client.get(f"/units/{merged.id}").get_data(as_text=True)
    assert "Hình thành từ" in merged_page and "Khu phố 2, Phường Bình Phước" in merged_page
    assert "NQ 25/NQ-HĐND ngày 20/12/2025" in merged_page and "01/01/2026" in merged_page
    old_page = client.get(f"/units/{world.hamlets_a[1].id}").get_data(as_text=True)
    assert "Được thay thế bởi" in old_page and "Khu phố 1-2, Phường Bình Phước" in old_page


@pytest.mark.parametrize(("overrides", "message"), [
    ({"hamlets": None}, "Chọn ít nhất hai thôn/tổ dân phố để sáp nhập."),
    ({"name": ""}, "Vui lòng nhập tên."),
    ({"effective_on": "31/02/2026"}, "Ngày không hợp lệ (ngày/tháng/năm)."),
    ({"decision_ref": ""}, "Vui lòng nhập số, ngày nghị quyết hoặc quyết định."),
    ({"households": "-5"}, "phải từ 0 đến"),
])
def test_bad_input_is_shown_on_the_form_and_nothing_is_written(world, client, people, overrides, message):
    login(client, "admin75")
    before = written()
    data = {k: v for k, v in fields(world, client, **overrides).items() if v is not None}
    page = client.post(url(world), data={**data, "preview": None, "apply": "x"} if "apply" in data else data)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and message in html and written() == before
    assert 'value="Khu phố 1-2"' in html or overrides.get("name") == ""  # the user's input is kept


def test_a_merger_the_rules_refuse_is_shown_and_cannot_be_applied(world, client, people):
    """An effective date before the hamlets existed: the preview lists the problem, offers no
    "apply", and an apply posted anyway writes nothing."""
    login(client, "admin75")
    before = written()
    html = client.post(url(world), data=fields(world, client, effective_on="01/01/2000")).get_data(as_text=True)
    assert "Chưa thực hiện được" in html and "Thực hiện sáp nhập" not in html
    forced = client.post(url(world), data=fields(world, client, effective_on="01/01/2000", preview=None, apply="x"))
    assert forced.status_code == 200 and "Chưa thực hiện được" in forced.get_data(as_text=True)
    assert written() == before


def test_a_hamlet_of_another_commune_is_refused(world, client, people):
    login(client, "admin75")
    before = written()
    html = client.post(url(world), data=fields(world, client, hamlets=[world.hamlets_a[0].id, world.hamlets_b[0].id])
                       ).get_data(as_text=True)
    assert "không còn hiệu lực trong Phường Bình Phước" in html and written() == before


@pytest.mark.parametrize("username", ["truongtram_a", "ttyt689", "xem_b", "admin01", "chuacapquyen"])
def test_only_the_province_admin_reaches_the_page(world, client, people, username):
    login(client, username)
    assert client.get(url(world)).status_code == 403
    assert client.post(url(world), data=fields(world, client, apply="x")).status_code == 403
    assert "data-merge-hamlets-link" not in client.get(f"/units/{world.commune_a.id}").get_data(as_text=True)


def test_the_unit_browser_shows_the_tree_before_a_commune_merger(world, client, people):
    """``/units/?as_of=``: the station head of the merged commune sees, as of the day before the
    merger, the two communes it was formed from (their history), and today only the new one."""
    from danso_network.units import reforms
    from tests.units.test_reforms import commune_merger

    reforms.apply(commune_merger(world, effective_on=ON), actor=world.users["admin"])
    db.session.commit()
    login(client, "truongtram_a")
    today_page = client.get("/units/")
    assert today_page.status_code == 302  # one unit today: its page
    merged = client.get(today_page.headers["Location"]).get_data(as_text=True)
    assert "Hình thành từ" in merged and "Xã Đồng Xoài" in merged
    before = client.get("/units/?as_of=31/12/2025")
    html = before.get_data(as_text=True)
    assert before.status_code == 200 and "Dữ liệu quá khứ" in html
    assert f"/units/{world.commune_a.id}?as_of=2025-12-31" in html and f"/units/{world.commune_b.id}?as_of=2025-12-31" in html
    assert client.get(f"/units/{world.commune_b.id}?as_of=2025-12-31").status_code == 200  # history, read-only
    assert client.get(f"/units/{world.hamlets_b[0].id}/edit").status_code == 403


def test_a_merged_communes_roster_quota_and_export_read_its_predecessors_before_the_merger(world, client, people):
    """The roster, quota page and roster export of the commune formed on 01/01/2026, as of
    31/12/2025, list the collaborators then serving in the two communes merged into it: the two
    days add up (the same people, regrouped)."""
    from danso_network.units import reforms
    from tests.units.test_reforms import commune_merger

    appoint(world.hamlets_b[1], 4)
    db.session.commit()
    merged = reforms.apply(commune_merger(world, effective_on=ON), actor=world.users["admin"]).opened[0]
    db.session.commit()
    login(client, "admin75")
    names = {f"Nguyễn Thị Ứng Viên {n}" for n in (1, 2, 4)}
    for day in ("2025-12-31", "2026-01-01"):
        roster = client.get(f"/collaborators/roster/{merged.id}?as_of={day}").get_data(as_text=True)
        assert all(name in roster for name in names), day
        quota = client.get(f"/collaborators/quota/{merged.id}?as_of={day}").get_data(as_text=True)
        assert "Ấp 2" in quota and "Khu phố 1" in quota, day
        csv = client.get(f"/collaborators/roster/{merged.id}?as_of={day}&format=csv").get_data(as_text=True)
        assert all(name in csv for name in names), day



def test_an_action_page_shows_service_continued_across_a_commune_merger(world, client, people):
    """Lan serves Khu phố 1 since 01/09/2025; the commune merger of 01/01/2026 re-opens her
    assignment in the new commune's Khu phố 1. The terminate page says she serves it "từ
    01/09/2025", as the roster does, not from the day of the merger."""
    from danso_network.units import reforms
    from tests.units.test_reforms import commune_merger

    reforms.apply(commune_merger(world, effective_on=ON), actor=world.users["admin"])
    db.session.commit()
    login(client, "admin75")
    page = client.get(f"/collaborators/{people['lan'].id}/terminate").get_data(as_text=True)
    assert "Khu phố 1 (Phường Bình Phước), từ 01/09/2025" in page and "từ 01/01/2026" not in page
