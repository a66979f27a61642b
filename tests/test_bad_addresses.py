"""Addresses typed or altered by hand: an id or a number too large for the database, a month
outside the calendar. The user gets "not found" or a clear message, never a server error."""

from __future__ import annotations

import pytest

HUGE = "99999999999999999999"


@pytest.mark.parametrize("url", [f"/units/{HUGE}", f"/collaborators/{HUGE}", f"/training/{HUGE}",
                                 f"/recruitment/applications/{HUGE}", "/collaborators/2147483648"])
def test_an_id_beyond_the_database_range_is_not_found(world, login_as, url):
    assert login_as(world.users["admin"]).get(url).status_code == 404


@pytest.mark.parametrize("path", ["/collaborators/roster/{u}?page={h}", "/collaborators/handovers?page={h}",
                                  "/supervision/overdue?commune={h}", "/supervision/visits?supervisor={h}",
                                  "/training/?page={h}&year={h}"])
def test_a_number_too_large_gets_a_clear_answer(world, login_as, path):
    response = login_as(world.users["admin"]).get(path.format(u=world.dong_nai.id, h=HUGE))
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "quá lớn" in response.get_data(as_text=True)


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "-1-01"])
def test_a_month_outside_the_calendar_falls_back_to_this_month(world, login_as, month):
    client = login_as(world.users["head_a"])
    for page in ("record", "sheet"):
        response = client.get(f"/supervision/meetings/{world.commune_a.id}/{page}?month={month}")
        assert response.status_code == 200
        assert "không hợp lệ" in response.get_data(as_text=True)
