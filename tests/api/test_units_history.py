"""The unit tree as of a date and the change history in the JSON API (issue #13 items 5–6): the
tree of a day before a reform shows the units then in force where the caller's units come from;
a unit's predecessors and successors with kind, date and decision; the changes of a period;
grants left reaching nothing; bad input answered with a JSON 4xx; all in the OpenAPI document."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from danso_network.api.auth import issue_token
from danso_network.auth.models import User
from danso_network.extensions import db
from danso_network.units import reforms
from danso_network.units import services as unit_services
from danso_network.units.models import UnitChange, UnitChangeKind, UnitLevel, UnitType
from danso_network.units.reforms import MergeUnits

OLD_FROM = date(2020, 1, 1)
REFORM = date(2025, 7, 1)
ON = date(2026, 1, 1)
DECISION = "NQ 1662/NQ-UBTVQH15"
OLD_DECISION = "NQ 1659/NQ-UBTVQH15"


class Api:
    """A test client speaking JSON with one user's bearer token."""

    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url):
        return self.client.get("/api/v1" + url, headers=self.headers)


@pytest.fixture
def as_user(app, world):
    def make(username: str) -> Api:
        _, raw = issue_token(db.session.scalar(select(User).where(User.username == username)))
        db.session.commit()
        return Api(app.test_client(), raw)

    return make


def _old(level, name, full_name, type, parent=None, code=None, local_id=None):
    return unit_services.create_unit(level=level, name=name, full_name=full_name, type=type, parent=parent, code=code,
                                     local_id=local_id, valid_from=OLD_FROM, valid_to=REFORM)


@pytest.fixture
def old(world):
    """Before 1/7/2025: province 70 with one district whose communes Tân Phú and Tân Đồng became
    commune A (Tân Phú's hamlet became A's Khu phố 1) and Tân Bình became commune B."""
    province = _old(UnitLevel.PROVINCE, "Bình Phước", "Tỉnh Bình Phước", UnitType.TINH, code="70")
    district = _old(UnitLevel.DISTRICT, "Đồng Xoài", "Thành phố Đồng Xoài", UnitType.THANH_PHO_THUOC_TINH,
                    province, code="689")
    tan_phu = _old(UnitLevel.COMMUNE, "Tân Phú", "Phường Tân Phú", UnitType.PHUONG, district, code="25193")
    tan_dong = _old(UnitLevel.COMMUNE, "Tân Đồng", "Phường Tân Đồng", UnitType.PHUONG, district, code="25194")
    tan_binh = _old(UnitLevel.COMMUNE, "Tân Bình", "Phường Tân Bình", UnitType.PHUONG, district, code="25196")
    hamlet = _old(UnitLevel.HAMLET, "Khu phố 3", "Khu phố 3, Phường Tân Phú", UnitType.KHU_PHO, tan_phu,
                  local_id="003")
    for kind, sources, targets in ((UnitChangeKind.MERGE, [tan_phu, tan_dong], [world.commune_a]),
                                   (UnitChangeKind.MERGE, [tan_binh], [world.commune_b]),
                                   (UnitChangeKind.REPARENT, [hamlet], [world.hamlets_a[0]])):
        db.session.add(UnitChange(kind=kind.value, effective_on=REFORM, decision_ref=OLD_DECISION, sources=sources,
                                  targets=targets))
    db.session.commit()
    return dict(province=province, district=district, tan_phu=tan_phu, tan_dong=tan_dong, tan_binh=tan_binh,
                hamlet=hamlet)


def merge_a_and_b(world):
    tl, ap2 = world.hamlets_b
    op = MergeUnits(sources=[world.commune_a, world.commune_b], target_name="Bình Phước", target_code="25195",
                    type="phuong", effective_on=ON, decision_ref=DECISION,
                    hamlet_types={tl.id: "khu_pho", ap2.id: "khu_pho"})
    commune = reforms.apply(op, actor=world.users["admin"]).opened[0]
    db.session.commit()
    return commune


def names(body) -> list[str]:
    return [u["full_name"] for u in body["items"]]


def assert_tree_order(items):
    """Each unit comes after its parent when the parent is listed."""
    seen = set()
    listed = {u["id"] for u in items}
    for u in items:
        assert u["parent_id"] is None or u["parent_id"] not in listed or u["parent_id"] in seen, u
        seen.add(u["id"])


# --- the tree -----------------------------------------------------------------------------------------------


def test_the_tree_of_the_day_before_the_reform_shows_the_old_units(world, old, as_user):
    api = as_user("admin75")
    body = api.get("/units/tree?as_of=2025-06-30").json
    assert body["as_of"] == "2025-06-30" and body["root"] is None
    assert sorted(names(body)) == sorted(["Tỉnh Bình Phước", "Thành phố Đồng Xoài", "Phường Tân Phú",
                                          "Phường Tân Đồng", "Phường Tân Bình", "Khu phố 3, Phường Tân Phú"])
    assert all(u["history"] for u in body["items"])  # read-only history of the caller's province
    assert_tree_order(body["items"])
    district = next(u for u in body["items"] if u["level"] == "district")
    assert (district["code"], district["parent_id"], district["valid_from"], district["valid_to"]) == (
        "689", old["province"].id, "2020-01-01", "2025-07-01")

    after = api.get("/units/tree?as_of=2025-07-01").json
    assert names(after)[0] == "Thành phố Đồng Nai" and not any(u["history"] for u in after["items"])
    assert {u["id"] for u in after["items"]} == {world.dong_nai.id, world.commune_a.id, world.commune_b.id,
                                                 *(h.id for h in world.hamlets_a + world.hamlets_b)}
    assert_tree_order(after["items"])
    assert after["total"] == 7
    # Hà Nội's admin reads none of it.
    assert as_user("admin01").get("/units/tree?as_of=2025-06-30").json["total"] == 0


def test_a_station_head_gets_the_old_communes_of_their_commune_only(world, old, as_user):
    api = as_user("truongtram_a")
    body = api.get("/units/tree?as_of=2025-06-30").json
    assert sorted(names(body)) == ["Khu phố 3, Phường Tân Phú", "Phường Tân Phú", "Phường Tân Đồng"]
    # The old district is only partly theirs: asked as the root, its part that is.
    part = api.get(f"/units/tree?as_of=2025-06-30&root={old['district'].id}").json
    assert sorted(names(part)) == sorted(names(body)) and part["root"]["id"] == old["district"].id
    assert api.get(f"/units/tree?as_of=2025-06-30&root={old['tan_binh'].id}").status_code == 403
    assert [c["sources"][0]["full_name"] for c in api.get("/unit-changes?level=commune").json["items"]] == [
        "Phường Tân Phú"]


def test_the_tree_under_a_root_by_level_and_a_page_at_a_time(world, old, as_user):
    api = as_user("admin75")
    a = api.get(f"/units/tree?root={world.commune_a.id}").json
    assert names(a) == ["Phường Bình Phước", "Khu phố 1, Phường Bình Phước", "Khu phố 2, Phường Bình Phước"]
    communes = api.get("/units/tree?level=commune").json
    assert sorted(names(communes)) == ["Phường Bình Phước", "Xã Đồng Xoài"]
    first = api.get("/units/tree?per_page=3").json
    second = api.get("/units/tree?per_page=3&page=3").json
    assert (first["total"], first["pages"], len(first["items"]), len(second["items"])) == (7, 3, 3, 1)


@pytest.mark.parametrize(("query", "status", "field"), [
    ("as_of=2025-6-30", 422, "as_of"),
    ("as_of=30/06/2025", 422, "as_of"),
    ("as_of=1850-01-01", 422, "as_of"),
    ("level=village", 422, "level"),
    ("root=abc", 422, "root"),
    ("root=999999", 404, None),
    ("root=hanoi", 403, None),
    ("root=dong_nai&as_of=2025-06-30", 422, "as_of"),  # the new province did not exist yet
    ("per_page=100000", 422, "per_page"),
])
def test_bad_tree_requests_get_a_json_error(world, old, as_user, query, status, field):
    query = query.replace("hanoi", str(world.hanoi.id)).replace("dong_nai", str(world.dong_nai.id))
    response = as_user("admin75").get(f"/units/tree?{query}")
    assert response.status_code == status, response.json
    assert response.is_json and response.json["status"] == status and response.json["error"]
    assert response.json.get("field") == field


# --- a unit's changes ---------------------------------------------------------------------------------------


def test_a_unit_lists_its_predecessors_and_successors(world, old, as_user):
    commune = merge_a_and_b(world)
    api = as_user("admin75")
    body = api.get(f"/units/{commune.id}/changes").json
    assert body["unit"]["id"] == commune.id and body["unit"]["valid_from"] == "2026-01-01"
    assert [(x["unit"]["full_name"], x["change"]["kind"], x["change"]["effective_on"], x["change"]["decision_ref"])
            for x in body["predecessors"]] == [("Phường Bình Phước", "merge", "2026-01-01", DECISION),
                                               ("Xã Đồng Xoài", "merge", "2026-01-01", DECISION)]
    assert body["predecessors"][0]["change"]["kind_label"] == "Sáp nhập"
    assert body["successors"] == []

    a = api.get(f"/units/{world.commune_a.id}/changes").json
    assert a["unit"]["valid_to"] == "2026-01-01"
    assert [(x["unit"]["full_name"], x["change"]["effective_on"]) for x in a["predecessors"]] == [
        ("Phường Tân Phú", "2025-07-01"), ("Phường Tân Đồng", "2025-07-01")]
    assert [x["unit"]["id"] for x in a["successors"]] == [commune.id]
    old_hamlet = api.get(f"/units/{old['hamlet'].id}/changes").json
    assert [(x["unit"]["id"], x["change"]["kind"]) for x in old_hamlet["successors"]] == [
        (world.hamlets_a[0].id, "reparent")]
    # The station of A serves the merged commune and reads the whole line; the station of B serves nothing now.
    assert as_user("truongtram_a").get(f"/units/{old['tan_phu'].id}/changes").status_code == 200
    assert as_user("truongtram_a").get(f"/units/{old['tan_binh'].id}/changes").status_code == 200
    assert as_user("truongtram_b").get(f"/units/{world.commune_b.id}/changes").status_code == 403


def test_unknown_or_out_of_scope_units_have_no_changes_to_show(world, old, as_user):
    missing = as_user("admin75").get("/units/999999/changes")
    assert missing.status_code == 404 and missing.json["error"]
    denied = as_user("admin01").get(f"/units/{old['tan_phu'].id}/changes")
    assert denied.status_code == 403 and denied.json["error"]
    assert as_user("truongtram_b").get(f"/units/{old['tan_phu'].id}/changes").status_code == 403


# --- the changes of a period --------------------------------------------------------------------------------


def test_the_changes_of_a_period_a_page_at_a_time(world, old, as_user):
    merge_a_and_b(world)
    api = as_user("admin75")
    body = api.get("/unit-changes?from=2025-01-01&to=2025-12-31").json
    assert (body["from"], body["to"], body["total"]) == ("2025-01-01", "2025-12-31", 3)
    merger = body["items"][0]
    assert (merger["kind"], merger["effective_on"], merger["decision_ref"]) == ("merge", "2025-07-01", OLD_DECISION)
    assert ([u["full_name"] for u in merger["sources"]], [u["full_name"] for u in merger["targets"]]) == (
        ["Phường Tân Phú", "Phường Tân Đồng"], ["Phường Bình Phước"])
    everything = api.get("/unit-changes").json
    assert everything["total"] == 3 + 5  # the 2026 merger and its four hamlets re-versioned
    communes = api.get("/unit-changes?level=commune").json
    assert [(c["kind"], c["effective_on"]) for c in communes["items"]] == [
        ("merge", "2025-07-01"), ("merge", "2025-07-01"), ("merge", "2026-01-01")]
    assert api.get("/unit-changes?kind=reparent&from=2026-01-01").json["total"] == 4
    page = api.get("/unit-changes?per_page=2&page=4").json
    assert (page["pages"], len(page["items"])) == (4, 2)
    assert as_user("admin01").get("/unit-changes").json["total"] == 0
    # The station of A serves the merged commune: both 2025 mergers are its history now; B's station reads none.
    assert as_user("truongtram_a").get("/unit-changes?from=2025-07-01&to=2025-07-01&level=commune").json["total"] == 2
    assert as_user("truongtram_b").get("/unit-changes").json["total"] == 0


@pytest.mark.parametrize(("query", "field"), [
    ("from=2025-13-01", "from"), ("to=tomorrow", "to"), ("from=2026-01-02&to=2026-01-01", "from"),
    ("kind=annex", "kind"), ("level=ward", "level"), ("page=0", "page"),
])
def test_bad_change_queries_get_a_422(world, as_user, query, field):
    response = as_user("admin75").get(f"/unit-changes?{query}")
    assert response.status_code == 422 and response.is_json
    assert response.json["field"] == field and response.json["error"]


# --- grants left reaching nothing ---------------------------------------------------------------------------


def test_grants_left_reaching_nothing_are_listed_for_the_province_admin(world, as_user):
    commune = merge_a_and_b(world)
    body = as_user("admin75").get("/grants/flagged").json
    assert body["total"] == 2
    found = {(g["user"]["username"], g["reason"], g["since"], tuple(p["name"] for p in g["proposals"]))
             for g in body["items"]}
    assert found == {("xem_b", "unit_closed", "2026-01-01", (commune.full_name,)),
                     ("truongtram_b", "serves_nothing", "2026-01-01", (world.station_a.name,))}
    viewer = next(g for g in body["items"] if g["user"]["username"] == "xem_b")
    assert viewer["place"] == {"kind": "unit", "id": world.commune_b.id, "name": "Xã Đồng Xoài"}
    assert viewer["proposals"][0]["id"] == commune.id and viewer["role"] == "viewer"
    assert as_user("admin75").get("/grants/flagged?on=2025-12-31").json["total"] == 0
    assert as_user("admin01").get("/grants/flagged").json["total"] == 0
    denied = as_user("truongtram_a").get("/grants/flagged")
    assert denied.status_code == 403 and denied.json["error"]
    assert as_user("admin75").get("/grants/flagged?on=31-12-2025").status_code == 422


# --- the document -------------------------------------------------------------------------------------------


def test_the_openapi_document_describes_the_tree_and_the_changes(client):
    doc = client.get("/api/v1/openapi.json").json
    expected = {"/api/v1/units/tree": {"200", "401", "403", "404", "422"},
                "/api/v1/units/{unit_id}/changes": {"200", "401", "403", "404"},
                "/api/v1/unit-changes": {"200", "401", "422"},
                "/api/v1/grants/flagged": {"200", "401", "403", "422"}}
    for path, statuses in expected.items():
        assert set(doc["paths"][path]["get"]["responses"]) == statuses, path
    params = {p["name"] for p in doc["paths"]["/api/v1/units/tree"]["get"]["parameters"]}
    assert params == {"as_of", "root", "level", "page", "per_page"}
    schemas = doc["components"]["schemas"]
    assert {"UnitTree", "UnitHistory", "UnitChangeList", "FlaggedGrantList"} <= set(schemas)
    assert schemas["UnitChange"]["properties"]["kind"]["enum"] == [k.value for k in UnitChangeKind]
