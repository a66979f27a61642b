"""A whole reform from a table (issue #13 item 3): ``danso units reform FILE [--dry-run]``.

What a user notices: the file's rows become mergers, splits, renames and moves applied in one go —
the old communes closed, never deleted, the new ones open with the hamlets under them (retyped
and renamed where the new commune needs it), each collaborator's service going on the same day;
a dry run says all that and writes nothing; and a bad file (unknown codes, duplicates, cycles, a
code of another unit, mixed dates, hamlets of a divided commune left out, what the reform
services refuse) is refused with the exact rows at fault, nothing applied. The real table of
Đồng Nai's 2025 reform applies to a part of the old province as it would to all of it."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from danso_network.audit.models import AuditEvent
from danso_network.collaborators import services as network
from danso_network.collaborators.models import Assignment
from danso_network.config import DATA_DIR
from danso_network.extensions import db
from danso_network.imports.problems import ImportRefused
from danso_network.imports.reading import FileRefused
from danso_network.units import reform_import
from danso_network.units import services as unit_services
from danso_network.units.models import AdminUnit, UnitChange, UnitLevel
from danso_network.units.reform_cli import reform_command
from tests.factories import appoint, criteria, hamlet
from tests.units import test_reforms
from tests.units.test_reforms import DAY_BEFORE, DECISION, ON, assignments_of, roster, state

people = test_reforms.people  # the same fixture (four collaborators), found by pytest under this name

HEADER = ["old_code", "old_name", "new_code", "new_name", "new_type", "part", "effective_on", "decision_ref",
          "hamlets"]


def table(*rows, header=HEADER) -> bytes:
    """A CSV reform file; each row a dict (missing columns empty, the date and decision default)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        values = {"effective_on": ON.isoformat(), "decision_ref": DECISION, "part": "", **row}
        writer.writerow([values.get(k, "") for k in header])
    return out.getvalue().encode("utf-8")


def plan(data: bytes, name: str = "sap-xep.csv") -> reform_import.ReformPlan:
    return reform_import.plan_reform(reform_import.read_reform(io.BytesIO(data), filename=name))


def run(data: bytes, **kw) -> reform_import.ReformSummary:
    return reform_import.run_reform(plan(data), **kw)


def refused(data: bytes, **kw) -> list[str]:
    """The problems a file is refused with, checking the database is left as it was."""
    before = state()
    with pytest.raises(ImportRefused) as caught:
        run(data, **kw)
    assert state() == before
    return caught.value.problems


def unit(code: str, on: date = ON) -> AdminUnit:
    return unit_services.find_unit_by_code(code, as_of=on)


MERGE_AB = [dict(old_code="25195", old_name="Phường Bình Phước", new_code="25195", new_name="Bình Phước",
                 new_type="phường"),
            dict(old_code="25210", old_name="Xã Đồng Xoài", new_code="25195", new_name="Bình Phước",
                 new_type="phường")]


# --- the good path ------------------------------------------------------------------------------------------


def test_a_merger_from_a_file_keeps_every_collaborator_and_records_the_lineage(world, people):
    a, b = world.commune_a, world.commune_b
    data = table(*MERGE_AB)
    dry = run(data, dry_run=True)
    assert state() == state()  # (commits the set-up)
    assert (dry.operations, dry.communes_closed, dry.communes_opened, dry.hamlets_closed, dry.hamlets_opened,
            dry.collaborators) == (1, 2, 1, 4, 4, 4)
    assert unit("25210") is not None and not db.session.scalars(select(UnitChange)).all()  # nothing written

    summary = run(data, actor=world.users["admin"])
    db.session.commit()
    assert (summary.operations, summary.collaborators, summary.changes) == (1, 4, 5)
    merged = unit("25195")
    assert (merged.full_name, merged.type, merged.parent_id, merged.valid_from, merged.decision_ref) == (
        "Phường Bình Phước", "phuong", world.dong_nai.id, ON, DECISION)
    assert (db.session.get(AdminUnit, a.id).valid_to, db.session.get(AdminUnit, b.id).valid_to) == (ON, ON)
    assert unit("25210") is None and unit("25210", DAY_BEFORE).id == b.id
    # The hamlets of the xã are retyped for a phường (Thông tư 04/2012/TT-BNV), their names follow,
    # and a name that would repeat carries its old commune's name.
    assert [(h.name, h.type) for h in unit_services.children(merged, ON)] == [
        ("Khu phố 1", "khu_pho"), ("Khu phố 2", "khu_pho"), ("Khu phố Tân Lập", "khu_pho"),
        ("Khu phố 2 (Đồng Xoài)", "khu_pho")]
    change = db.session.scalar(select(UnitChange).where(UnitChange.kind == "merge"))
    assert {u.code for u in change.sources} == {"25195", "25210"} and [u.id for u in change.targets] == [merged.id]
    # The same four collaborators the day before and on the day, regrouped under one commune.
    assert {r.collaborator_id for r in roster(world, DAY_BEFORE)} == {r.collaborator_id for r in roster(world, ON)}
    assert {r.commune_name for r in roster(world, ON)} == {"Bình Phước"}
    old, new = assignments_of(people["cuc"])
    assert (old.ended_on, old.end_reason, new.started_on, new.hamlet.name) == (ON, "unit_reorganised", ON,
                                                                               "Khu phố 2 (Đồng Xoài)")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "unit.reform_import"))
    assert event.object_id == "sap-xep.csv" and event.after["new_codes"] == ["25195"]
    # The same file again: its old communes are closed now.
    problems = refused(data)
    assert any("Dòng 2" in p and "đã hết hiệu lực từ ngày 01/01/2026" in p for p in problems)


def test_a_split_a_rename_and_a_move_from_one_file(world, people):
    a, b = world.commune_a, world.commune_b
    tl, ap2 = world.hamlets_b
    data = table(dict(old_code="25210", new_code="25210", new_name="Đồng Xoài", part="có", hamlets="Ấp Tân Lập"),
                 dict(old_code="25210", new_code="25299", new_name="Tân Đồng", new_type="xã", part="có",
                      hamlets=ap2.local_id),
                 dict(old_code="25195", new_code="25195", new_name="Tân Phú"))
    summary = run(data)
    db.session.commit()
    assert summary.operations == 2 and summary.collaborators == 4
    kept, new = unit("25210"), unit("25299")
    assert (kept.name, new.name, new.parent_id) == ("Đồng Xoài", "Tân Đồng", world.dong_nai.id)
    assert [h.name for h in unit_services.children(kept, ON)] == ["Ấp Tân Lập"]
    assert [h.name for h in unit_services.children(new, ON)] == ["Ấp 2"]
    renamed = unit("25195")
    assert (renamed.full_name, renamed.id != a.id) == ("Phường Tân Phú", True)
    kinds = sorted(c.kind for c in db.session.scalars(select(UnitChange)))
    assert kinds == ["rename", "reparent", "reparent", "reparent", "reparent", "split"]
    assert network.current_assignments(people["cuc"], ON)[0].hamlet.parent_id == new.id
    assert db.session.get(AdminUnit, b.id).valid_to == ON


def _commune(code: str, name: str, *hamlets: str) -> AdminUnit:
    made = unit_services.create_unit(level=UnitLevel.COMMUNE, code=code, name=name, full_name=f"Xã {name}",
                                     type="xa", parent=unit("75", DAY_BEFORE), valid_from=date(2025, 7, 1))
    for h in hamlets:
        hamlet(made, h)
    return made


def test_a_commune_divided_between_two_mergers(world, people):
    """Part of Đồng Xoài (Ấp Tân Lập) joins Bình Phước, the rest (Ấp 2) joins the merger of
    Tân Hưng and Tân Lợi: its other hamlets move first, then the commune joins its main part."""
    _commune("25220", "Tân Hưng", "Ấp Hưng 1")
    _commune("25230", "Tân Lợi", "Ấp Lợi 1")
    db.session.commit()
    data = table(dict(old_code="25195", new_code="25195", new_name="Bình Phước", new_type="phường"),
                 dict(old_code="25210", new_code="25195", new_name="Bình Phước", new_type="phường", part="x",
                      hamlets="Ấp Tân Lập"),
                 dict(old_code="25220", new_code="25220", new_name="Hưng Lợi"),
                 dict(old_code="25230", new_code="25220", new_name="Hưng Lợi"),
                 dict(old_code="25210", new_code="25220", new_name="Hưng Lợi", part="x", hamlets="Ấp 2"))
    checked = plan(data)
    assert [s.kind.value for s in checked.steps] == ["merge", "reparent", "merge"]  # Hưng Lợi first
    summary = run(data)
    db.session.commit()
    assert summary.collaborators == 4
    bp, hl = unit("25195"), unit("25220")
    assert [h.name for h in unit_services.children(hl, ON)] == ["Ấp Hưng 1", "Ấp Lợi 1", "Ấp 2"]
    assert "Khu phố Tân Lập" in [h.name for h in unit_services.children(bp, ON)]
    merge = db.session.scalar(select(UnitChange).where(UnitChange.kind == "merge",
                                                       UnitChange.targets.any(AdminUnit.id == bp.id)))
    assert {u.code for u in merge.sources} == {"25195", "25210"}
    assert "25220" in merge.note
    moved = network.current_assignments(people["cuc"], ON)[0]  # Cúc served in Ấp 2
    assert (moved.hamlet.parent_id, moved.started_on) == (hl.id, ON)


# --- the real table: Đồng Nai 2025, on a part of the province ------------------------------------------------


SUBSET = ("25195", "26359", "26446")  # Bình Phước (six wards of Đồng Xoài), Xuân Đông and Xuân Hoà (Xuân Tâm divided)


def _old_tree(app_codes: set[str]) -> dict[str, AdminUnit]:
    """The old provinces, districts and communes of the rows of ``data/dong_nai_reform_2025.csv``
    going into ``SUBSET``, as ``data/dong_nai_pre2025_communes.csv`` gives them, before 1/7/2025."""
    from danso_network.units.labels import TYPE_FROM_SOURCE

    start, end = date(2016, 1, 1), date(2025, 7, 1)
    new = unit_services.create_unit(level=UnitLevel.PROVINCE, code="75", name="Đồng Nai", full_name="Tỉnh Đồng Nai",
                                    type="tinh", valid_from=end)
    with open(Path(DATA_DIR) / "dong_nai_pre2025_communes.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    provinces, districts, communes = {}, {}, {}
    for row in rows:
        if row["code"] not in app_codes:
            continue
        code = row["province_code"]
        if code not in provinces:
            provinces[code] = unit_services.create_unit(
                level=UnitLevel.PROVINCE, code=code, name=row["province"].removeprefix("Tỉnh "),
                full_name=row["province"], type="tinh", valid_from=start, valid_to=end,
                keeps_code_of=new if code == "75" else None)
        if row["district_code"] not in districts:
            districts[row["district_code"]] = unit_services.create_unit(
                level=UnitLevel.DISTRICT, code=row["district_code"], name=row["district"], full_name=row["district"],
                type="huyen", parent=provinces[code], valid_from=start, valid_to=end)
        communes[row["code"]] = unit_services.create_unit(
            level=UnitLevel.COMMUNE, code=row["code"], name=row["name"], full_name=row["full_name"],
            type=TYPE_FROM_SOURCE[row["type"]], parent=districts[row["district_code"]], valid_from=start)
    return communes


def test_the_real_table_of_dong_nai_on_part_of_the_province(app):
    source = Path(DATA_DIR) / "dong_nai_reform_2025.csv"
    with open(source, encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["new_code"] in SUBSET]
    old = _old_tree({r["old_code"] for r in rows})
    assert len(old) == 11
    start = date(2016, 1, 1)
    xuan_tam = old["26449"]
    for n in (1, 2, 3):
        hamlet(xuan_tam, f"Ấp {n}", valid_from=start)
    hamlet(old["25213"], "Ấp 1", valid_from=start)  # Xã Tiến Hưng: an ấp that becomes a khu phố
    criteria(unit("70", date(2025, 6, 30)), valid_from=date(2021, 3, 10))
    lan = appoint(unit_services.children(xuan_tam, date(2025, 6, 30))[2], 1, started_on=date(2020, 5, 1))
    for r in rows:  # Xuân Tâm's hamlets: Ấp 1 and 2 to Xuân Đông, Ấp 3 to Xuân Hoà
        if r["part"] == "true":
            r["hamlets"] = "Ấp 1; Ấp 2" if r["new_code"] == "26359" else "3"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    db.session.commit()

    summary = reform_import.import_reform(io.BytesIO(out.getvalue().encode()), filename="dong_nai_reform_2025.csv")
    db.session.commit()
    assert (summary.operations, summary.communes_closed, summary.communes_opened, summary.collaborators) == (4, 11, 3, 1)
    province = unit("75", date(2025, 7, 1))
    new = unit_services.children(province, date(2025, 7, 1))
    assert [(c.code, c.full_name) for c in new] == [("25195", "Phường Bình Phước"), ("26359", "Xã Xuân Đông"),
                                                    ("26446", "Xã Xuân Hoà")]
    assert all(u.valid_to == date(2025, 7, 1) for u in old.values())
    bp = unit("25195", date(2025, 7, 1))
    assert [h.name for h in unit_services.children(bp, date(2025, 7, 1))] == ["Khu phố 1"]
    dong, hoa = unit("26359", date(2025, 7, 1)), unit("26446", date(2025, 7, 1))
    assert [h.name for h in unit_services.children(dong, date(2025, 7, 1))] == ["Ấp 1", "Ấp 2"]
    assert [h.name for h in unit_services.children(hoa, date(2025, 7, 1))] == ["Ấp 3"]
    merge = db.session.scalar(select(UnitChange).where(UnitChange.targets.any(AdminUnit.id == dong.id)))
    assert (merge.kind, merge.decision_ref, {u.code for u in merge.sources}) == (
        "merge", "NQ 1662/NQ-UBTVQH15", {"26356", "26359", "26449"})
    new_assignment = network.current_assignments(lan, date(2025, 7, 1))[0]
    assert (new_assignment.hamlet.parent_id, new_assignment.started_on) == (hoa.id, date(2025, 7, 1))
    # The tree as of each day: the old communes under their districts, then the new ones.
    assert unit_services.find_unit_by_code("26449", date(2025, 6, 30)).parent.full_name == "Huyện Xuân Lộc"
    assert unit_services.find_unit_by_code("26449", date(2025, 7, 1)) is None


# --- bad input: refused with the exact rows, nothing applied ------------------------------------------------


def _lines(problems: list[str], *fragments: str) -> list[str]:
    return [p for p in problems if all(f in p for f in fragments)]


def test_unknown_codes_are_refused_on_their_rows(world, people):
    problems = refused(table(MERGE_AB[0], dict(old_code="99999", new_code="25195", new_name="Bình Phước")))
    assert _lines(problems, "Dòng 3", "old_code", "Không có xã/phường nào mang mã 99999")
    assert len(problems) == 1


def test_duplicates_are_refused_on_their_rows(world, people):
    twice = refused(table(*MERGE_AB, MERGE_AB[1]))
    assert _lines(twice, "Dòng 4", "Trùng với dòng 3")
    whole_twice = refused(table(*MERGE_AB, dict(old_code="25210", new_code="25299", new_name="Tân Đồng")))
    assert _lines(whole_twice, "Dòng 4", "đã sáp nhập toàn bộ vào mã 25195 ở dòng 3")
    one_part = refused(table(MERGE_AB[0], {**MERGE_AB[1], "part": "có"}))
    assert _lines(one_part, "Dòng 3", "không có phần nào khác")


def test_cycles_and_chains_of_codes_are_refused(world, people):
    cycle = refused(table(dict(old_code="25195", new_code="25210", new_name="A"),
                          dict(old_code="25210", new_code="25195", new_name="B")))
    assert _lines(cycle, "Dòng 2", "Vòng lặp mã") and _lines(cycle, "Dòng 3", "Vòng lặp mã")
    chain = refused(table(dict(old_code="25195", new_code="25210", new_name="A"),
                          dict(old_code="25210", new_code="25299", new_name="B")))
    assert _lines(chain, "Dòng 2", "là mã của đơn vị cũ ở dòng 3", "25299")


def test_a_code_held_by_another_live_unit_is_refused(world, people):
    problems = refused(table({**MERGE_AB[0], "new_code": "00004"}, {**MERGE_AB[1], "new_code": "00004"}))
    assert _lines(problems, "Dòng 2", "00004 đang được Phường Ba Đình sử dụng")
    assert _lines(problems, "Dòng 3", "00004 đang được Phường Ba Đình sử dụng")


def test_mixed_dates_and_unreadable_cells_are_refused(world, people):
    mixed = refused(table(MERGE_AB[0], {**MERGE_AB[1], "effective_on": "01/02/2026"}))
    assert _lines(mixed, "Dòng 3", "effective_on", "khác với các dòng khác (01/01/2026)")
    bad = refused(table({**MERGE_AB[0], "old_code": "2519x"}, {**MERGE_AB[1], "effective_on": "31/02/2026"}))
    assert _lines(bad, "Dòng 2", "old_code", "không hợp lệ") and _lines(bad, "Dòng 3", "effective_on")
    wrong_name = refused(table({**MERGE_AB[0], "old_name": "Phường Tân Phú"}, MERGE_AB[1]))
    assert _lines(wrong_name, "Dòng 2", "old_name", "không khớp với mã 25195")
    with pytest.raises(FileRefused):
        plan(table(MERGE_AB[0], header=["old_code", "new_name"]))


def test_a_divided_commune_must_give_each_hamlet_to_one_part(world, people):
    data = table(dict(old_code="25210", new_code="25210", part="có", hamlets="Ấp Tân Lập"),
                 dict(old_code="25210", new_code="25299", new_name="Tân Đồng", part="có", hamlets="Ấp 9"))
    problems = refused(data)
    assert _lines(problems, "Dòng 3", "không có thôn/tổ dân phố “Ấp 9”")
    assert _lines(problems, "Dòng 2", "chưa được phân về phần nào: Ấp 2")


def test_what_the_reform_services_refuse_is_refused_on_the_rows(world, people):
    kp1 = world.hamlets_a[0]
    appoint(kp1, 9, started_on=date(2026, 2, 1))  # recorded later, after the reform's date
    db.session.commit()
    problems = refused(table(*MERGE_AB))
    assert _lines(problems, "Dòng 2", "Nguyễn Thị Ứng Viên 9", "sau ngày hiệu lực", "các dòng 2, 3")


def test_only_a_province_admin_of_every_unit_may_apply(world, people):
    problems = refused(table(*MERGE_AB), actor=world.users["head_a"])
    assert _lines(problems, "Dòng 2", "Chỉ quản trị cấp tỉnh")


# --- the command ---------------------------------------------------------------------------------------------


def test_the_command_dry_run_and_refusal(app, world, people, tmp_path):
    good = tmp_path / "sap-xep.csv"
    good.write_bytes(table(*MERGE_AB))
    runner = app.test_cli_runner()  # click ≥ 8.2: standard error apart
    before = state()
    result = runner.invoke(reform_command, [str(good), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Chạy thử" in result.stdout and "Sáp nhập Phường Bình Phước, Xã Đồng Xoài → Phường Bình Phước" in result.stdout
    assert "4 cộng tác viên chuyển phân công" in result.stdout
    assert state() == before
    # As an operator types it: ``danso units reform FILE``.
    result = runner.invoke(args=["units", "reform", str(good), "--dry-run"])
    assert result.exit_code == 0 and "Chạy thử" in result.stdout, result.output
    assert state() == before
    bad = tmp_path / "sai.csv"
    bad.write_bytes(table(MERGE_AB[0], dict(old_code="99999", new_code="25195")))
    result = runner.invoke(reform_command, [str(bad)])
    assert result.exit_code == 2
    assert "Dòng 3" in result.stderr and "99999" in result.stderr and "không thay đổi" in result.stderr
    assert state() == before
    result = runner.invoke(reform_command, [str(good), "--user", "admin75"])
    assert result.exit_code == 0, result.output
    assert unit("25210") is None and "Đã áp dụng" in result.stdout
    assert db.session.scalars(select(Assignment).where(Assignment.started_on == ON)).all()
