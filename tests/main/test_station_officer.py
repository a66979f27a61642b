"""A station without a population officer is flagged (issue #9, item 16): the Đồng Nai plan
KH 14676/KH-UBND keeps one population officer (viên chức dân số) per commune health station, who
runs the monthly meeting; the commune page and the homes of the centre and the province show the
stations that have none on the date."""

from __future__ import annotations

from datetime import date

from danso_network.auth import services as auth_services
from danso_network.common.clock import today
from danso_network.main.services import stations_without_officer

from ..conftest import login

FLAG = "chưa có viên chức dân số"


def test_the_stations_without_an_officer_on_a_date(world):
    prefixes = [world.dong_nai.path]
    assert [f.code for f in stations_without_officer(prefixes, today())] == ["TYT-25210"]
    grant = next(g for g in world.users["officer_a"].grants)
    auth_services.end_grant(grant, on=date(2026, 1, 1))
    assert [f.code for f in stations_without_officer(prefixes, date(2026, 1, 1))] == ["TYT-25195", "TYT-25210"]
    assert [f.code for f in stations_without_officer(prefixes, date(2025, 12, 31))] == ["TYT-25210"]
    assert stations_without_officer([world.commune_a.path], date(2025, 12, 31)) == []


def test_the_commune_page_flags_its_station(world, login_as):
    client = login_as(world.users["admin"])
    assert FLAG in client.get(f"/units/{world.commune_b.id}").get_data(as_text=True)
    assert FLAG not in client.get(f"/units/{world.commune_a.id}").get_data(as_text=True)


def test_the_centre_and_province_homes_list_the_stations(world, app):
    for user in ("centre", "admin"):
        client = app.test_client()
        login(client, world.users[user].username)
        html = client.get("/").get_data(as_text=True)
        assert FLAG in html and "Trạm Y tế Xã Đồng Xoài" in html, user
    client = app.test_client()
    login(client, world.users["head_a"].username)
    assert FLAG not in client.get("/").get_data(as_text=True)
