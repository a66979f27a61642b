"""The collaborators brought in from a province's own file, and the roster export read back (issue
#12 item 3): the dry run says what would be created, updated or left unchanged and every problem by
sheet, row and column; the import writes all or nothing, audited with the file's name; the same
file, or an exported roster, imported again changes nothing; every bad input leaves the database
as it was."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import xlsxwriter
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.collaborators import roster_import
from danso_network.collaborators import services as roster_services
from danso_network.collaborators.models import (
    Assignment,
    Collaborator,
    CollaboratorDuty,
    NetworkPolicy,
    Suspension,
)
from danso_network.collaborators.roster_import import FIELDS, apply_roster_import, plan_roster_import
from danso_network.common.clock import now, today
from danso_network.exports import services as export_services
from danso_network.extensions import db
from danso_network.imports.problems import ImportRefused
from danso_network.imports.reading import FileRefused, read_table
from danso_network.recruitment.models import Application, ApplicationEvent, Candidate

from .. import factories
from ..conftest import csrf_token, login

DATA = Path(__file__).resolve().parent.parent / "data"
HEAD = ["STT", "Mã thôn", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Điện thoại", "Dân tộc",
        "Trình độ học vấn", "Loại phân công", "Phụ trách từ", "Số quyết định", "Số hợp đồng", "Kiêm YTTB",
        "Kiêm GĐ&TE"]
BORN = date(1990, 5, 17)
START = date(2025, 9, 1)
MODELS = (Candidate, Application, ApplicationEvent, Collaborator, Assignment, CollaboratorDuty, Suspension, AuditEvent)


def code(hamlet) -> str:
    return f"{hamlet.parent.code}-{hamlet.local_id}"


def line(hamlet, serial: int, **values) -> dict:
    """One row of the file as a header → value mapping (a new person by default)."""
    born = values.pop("born", BORN)
    sex = values.pop("sex", "female")
    row = {"Mã thôn": code(hamlet), "Họ và tên": f"Nguyễn Thị Nhập {serial}", "Ngày sinh": born,
           "Giới tính": "Nữ" if sex == "female" else "Nam", "Số CCCD": factories.national_id(born, sex, 500 + serial),
           "Điện thoại": f"09120000{serial:02d}", "Dân tộc": "Kinh", "Trình độ học vấn": "Tốt nghiệp THCS",
           "Loại phân công": "Thôn chính", "Phụ trách từ": START, "Số quyết định": f"{serial}/QĐ-TTYT",
           "Số hợp đồng": None, "Kiêm YTTB": None, "Kiêm GĐ&TE": "Có"}
    row.update(values)
    return row


def workbook(rows: list[dict], *, head: list[str] = HEAD, title: bool = True) -> bytes:
    """An XLSX as an office would fill it: a title block, the header, the rows (dates as dates)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    ws = book.add_worksheet("CTV")
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    top = 0
    if title:
        ws.write(0, 0, "DANH SÁCH CỘNG TÁC VIÊN DÂN SỐ")
        ws.write(1, 0, "Trạm Y tế phường Bình Phước")
        top = 3
    for c, header in enumerate(head):
        ws.write(top, c, header)
    for r, row in enumerate(rows, top + 1):
        for c, header in enumerate(head):
            value = row.get(header, r - top) if header == "STT" else row.get(header)
            if isinstance(value, date):
                ws.write_datetime(r, c, value, dates)
            elif isinstance(value, str) and value.startswith("=") and header != "Họ và tên":
                ws.write_formula(r, c, value, None, row.get(f"{header} (giá trị)", 0))
            elif value is not None:
                ws.write(r, c, value) if not isinstance(value, str) else ws.write_string(r, c, value)
    book.close()
    return buffer.getvalue()


def plan(data: bytes, user=None, filename: str = "ctv-bom-bo.xlsx"):
    return plan_roster_import(read_table(io.BytesIO(data), FIELDS, filename=filename), user=user)


def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in MODELS}


def messages(found) -> list[str]:
    return [str(p) for p in found.problems]


def imported(data: bytes, user=None, filename: str = "ctv-bom-bo.xlsx"):
    found = plan(data, user, filename)
    assert not found.problems, messages(found)
    summary = apply_roster_import(found, actor=user, filename=filename)
    db.session.commit()
    return summary


def allow_additional(world) -> None:
    db.session.add(NetworkPolicy(province_id=world.dong_nai.id, valid_from=date(2025, 7, 1),
                                 allow_additional_hamlet=True, created_at=now()))
    db.session.commit()


# --- the good path ------------------------------------------------------------------------------------


def test_a_paper_roster_is_checked_first_then_written_from_paper_and_audited_with_the_file(world):
    factories.criteria(world.dong_nai)
    allow_additional(world)
    admin = world.users["admin"]
    rows = [line(world.hamlets_a[0], 1, **{"Kiêm YTTB": "Có"}),
            line(world.hamlets_a[1], 2, **{"Kiêm GĐ&TE": None, "Số hợp đồng": "07/HĐ-TYT"}),
            line(world.hamlets_a[1], 1, **{"Loại phân công": "Kiêm nhiệm thêm", "Phụ trách từ": date(2025, 10, 1)}),
            line(world.hamlets_b[1], 3, **{"Giới tính": "Nam", "Số CCCD": factories.national_id(BORN, "male", 503)})]
    before = counts()
    dry = plan(workbook(rows), admin)
    assert not dry.problems, messages(dry)
    assert (dry.summary.created, dry.summary.updated, dry.summary.unchanged) == (4, 0, 0)
    assert [i.row for i in dry.items] == [5, 6, 7, 8]  # the rows as the user sees them, under the title block
    assert counts() == before  # a dry run writes nothing

    summary = apply_roster_import(dry, actor=admin, filename="ctv-bom-bo.xlsx")
    db.session.commit()
    assert (summary.created, summary.updated, summary.unchanged) == (4, 0, 0)
    after = counts()
    assert after["Collaborator"] - before["Collaborator"] == 3  # three people, one covering a second hamlet
    assert after["Assignment"] - before["Assignment"] == 4
    assert after["CollaboratorDuty"] - before["CollaboratorDuty"] == 2

    lan = db.session.scalar(select(Candidate).where(Candidate.national_id == factories.national_id(BORN, "female", 501)))
    collaborator = db.session.scalar(select(Collaborator).where(Collaborator.candidate_id == lan.id))
    assert lan.full_name == "Nguyễn Thị Nhập 1" and lan.is_village_health_worker and lan.phone == "0912000001"
    assert lan.residence_hamlet_id == world.hamlets_a[0].id and lan.education == "lower_secondary"
    assert collaborator.application.state == "active"
    assert collaborator.application.nominated_by == roster_services.FROM_PAPER  # as the demo writes it
    assert "ctv-bom-bo.xlsx" in collaborator.application.events[0].comment
    primary, extra = sorted(collaborator.assignments, key=lambda a: a.kind != "primary")
    assert (primary.hamlet_id, primary.kind, primary.started_on, primary.decision_ref) == (
        world.hamlets_a[0].id, "primary", START, "1/QĐ-TTYT")
    assert (extra.hamlet_id, extra.kind, extra.started_on) == (world.hamlets_a[1].id, "additional", date(2025, 10, 1))
    assert roster_services.status_on(collaborator, today()) == "active"
    duty = roster_services.open_duty(collaborator, "family_children")
    assert duty is not None and duty.started_on == START

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "collaborator.from_paper")).all()
    assert len(events) == 3
    assert all(e.after["file"] == "ctv-bom-bo.xlsx" and e.actor_name == "admin75" for e in events)


def test_the_same_file_imported_again_changes_nothing(world):
    head = world.users["head_a"]
    data = workbook([line(world.hamlets_a[0], 1), line(world.hamlets_a[1], 2)])
    imported(data, head)
    before = counts()
    again = plan(data, head)
    assert not again.problems, messages(again)
    assert (again.summary.created, again.summary.updated, again.summary.unchanged) == (0, 0, 2)
    assert {i.action for i in again.items} == {"unchanged"}
    apply_roster_import(again, actor=head, filename="ctv-bom-bo.xlsx")
    db.session.commit()
    assert counts() == before


def test_a_csv_in_windows_style_reads_like_the_workbook(world):
    """Semicolons, dd/mm/yyyy text dates, "x" for yes, the CCCD as Excel turned it into a number."""
    cccd = factories.national_id(BORN, "female", 501)
    text = ("Mã thôn;Họ và tên;Ngày sinh;Giới tính;Số CCCD;Trình độ học vấn;Phụ trách từ;Kiêm YTTB\n"
            f"{code(world.hamlets_a[0])};Trần Thị Bích;17/05/1990;nữ;{int(cccd)};THCS;01/09/2025;x\n")
    found = plan(text.encode("utf-8"), world.users["head_a"], "ctv.csv")
    assert not found.problems, messages(found)
    assert found.new[0].national_id == cccd and found.new[0].is_village_health_worker


# --- updates --------------------------------------------------------------------------------------------


def test_an_existing_collaborator_is_updated_by_cccd_never_duplicated(world):
    head = world.users["head_a"]
    lan = factories.appoint(world.hamlets_a[0], 1, full_name="Nguyễn Thị Lan", phone="0911000001")
    db.session.commit()
    before = counts()
    row = line(world.hamlets_a[0], 1, **{"Họ và tên": "NGUYỄN THỊ LAN", "Số CCCD": lan.candidate.national_id,
                                         "Điện thoại": "0987654321", "Kiêm YTTB": "Có", "Kiêm GĐ&TE": "Có",
                                         "Phụ trách từ": None, "Số quyết định": "QĐ số 5/QĐ-TYT"})
    found = plan(workbook([row]), head, "cap-nhat.xlsx")
    assert not found.problems, messages(found)
    assert (found.summary.created, found.summary.updated) == (0, 1)
    said = "; ".join(found.items[0].changes)
    assert "Điện thoại: 0911000001 → 0987654321" in said and "Số quyết định" in said
    apply_roster_import(found, actor=head, filename="cap-nhat.xlsx")
    db.session.commit()
    after = counts()
    assert after["Collaborator"] == before["Collaborator"] and after["Candidate"] == before["Candidate"]
    db.session.refresh(lan)
    assert lan.candidate.phone == "0987654321" and lan.candidate.is_village_health_worker
    assert lan.assignments[0].decision_ref == "QĐ số 5/QĐ-TYT"
    assert roster_services.open_duty(lan, "family_children").started_on == today()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "collaborator.import"))
    assert event.after["file"] == "cap-nhat.xlsx" and event.before["phone"] == "0911000001"
    assert event.object_id == str(lan.id)
    # … and again: nothing left to change
    assert plan(workbook([row]), head).summary.unchanged == 1


def test_an_empty_cell_keeps_what_is_stored_but_an_empty_yes_no_means_no(world):
    head = world.users["head_a"]
    lan = factories.appoint(world.hamlets_a[0], 1, vhw=True, phone="0911000001")
    db.session.commit()
    row = {"Mã thôn": code(world.hamlets_a[0]), "Họ và tên": lan.full_name, "Số CCCD": lan.candidate.national_id,
           "Kiêm YTTB": None}
    found = plan(workbook([row], head=["Mã thôn", "Họ và tên", "Số CCCD", "Kiêm YTTB"]), head)
    assert found.items[0].changes == ["Kiêm YTTB: Có → Không"]
    found = plan(workbook([row], head=["Mã thôn", "Họ và tên", "Số CCCD"]), head)
    assert found.items[0].action == "unchanged"


# --- the exported roster read back -------------------------------------------------------------------


@pytest.fixture
def network(world):
    """A small network with what the export writes: a village health worker, a suspended person,
    a name starting with "=", someone covering a second hamlet, the combined duty, a commune of
    another province (Hà Nội) that a Đồng Nai roster leaves out."""
    factories.criteria(world.dong_nai)
    allow_additional(world)
    lan = factories.appoint(world.hamlets_a[0], 1, full_name="Nguyễn Thị Lan", vhw=True, phone="0911000001")
    formula = factories.appoint(world.hamlets_a[1], 2, full_name="=HYPERLINK(\"http://x\",\"Bấm\")", phone=None)
    hoa = factories.appoint(world.hamlets_b[0], 3, full_name="Trần Thị Hoa", phone="0911000003")
    factories.appoint(world.hamlets_c[0], 4, full_name="Lê Thị Mai", phone="0911000004")
    roster_services.suspend_collaborator(formula, on=date(2026, 11, 1), reason="Ốm dài ngày", actor=None)
    roster_services.add_hamlet(hoa, world.hamlets_b[1], on=date(2025, 10, 1), actor=None, decision_ref="3/QĐ")
    roster_services.start_duty(lan, "family_children", on=date(2025, 9, 1), actor=None)
    db.session.commit()
    return world


def exported(fmt: str, area: dict, user=None) -> bytes:
    spec = export_services.spec_from_params({"list": "roster", "format": fmt, "area": area,
                                              "filters": {"as_of": today().isoformat()}}, user)
    buffer = io.BytesIO()
    export_services.make(spec, user).write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("fmt", "who"), [("xlsx", None), ("xlsx", "admin"), ("csv", "admin"), ("xlsx", "centre")])
def test_an_exported_roster_re_imports_unchanged(network, fmt, who):
    user = network.users[who] if who else None
    area = {"unit_id": network.dong_nai.id} if who != "centre" else {"facility_id": network.centre.id}
    data = exported(fmt, area, user)
    before = counts()
    found = plan(data, user, f"danh-sach-ctv.{fmt}")
    assert not found.problems, messages(found)
    assert found.rows == 4  # Lan, the suspended one, Hoa and her second hamlet (Hà Nội is not in the file)
    assert (found.summary.created, found.summary.updated, found.summary.unchanged) == (0, 0, 4)
    assert "Thâm niên (năm)" not in found.ignored and "Tình trạng" not in found.ignored
    apply_roster_import(found, actor=user, filename=f"danh-sach-ctv.{fmt}")
    db.session.commit()
    assert counts() == before


def test_an_exported_roster_of_people_who_left_re_imports_unchanged(network):
    hoa = db.session.scalar(select(Collaborator).join(Candidate).where(Candidate.full_name == "Trần Thị Hoa"))
    roster_services.terminate_collaborator(hoa, on=date(2026, 11, 15), reason="resigned", actor=None)
    db.session.commit()
    spec = export_services.spec_from_params({"list": "roster", "format": "xlsx", "area": {"unit_id": network.dong_nai.id},
                                              "filters": {"as_of": today().isoformat(), "status": "ended"}}, None)
    buffer = io.BytesIO()
    export_services.make(spec, None).write(buffer)
    found = plan(buffer.getvalue())
    assert not found.problems, messages(found)
    assert found.summary.unchanged == 2 and found.rows == 2


def test_hidden_personal_data_in_an_export_is_kept_and_a_hidden_cccd_is_refused(network):
    viewer = factories.user(factories.Role.VIEWER, unit=network.dong_nai, username="xem_dn")
    db.session.commit()
    data = exported("xlsx", {"unit_id": network.dong_nai.id}, viewer)
    found = plan(data, network.users["admin"])
    assert len(found.problems) == 4
    assert all("bị ẩn" in str(p) and "cột “Số CCCD”" in str(p) for p in found.problems)


# --- bad input: each leaves the database as it was ------------------------------------------------


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"%PDF-1.7 not a table", "ctv.pdf", "không phải bảng tính"),
    (b"PK\x03\x04 broken zip", "ctv.xlsx", "Không đọc được tệp Excel"),
    ((DATA / "table_bad_password.xlsx").read_bytes(), "ctv.xlsx", "đặt mật khẩu"),
    ("Họ và tên,Mã thôn\nAn,25195-001\n".encode(), "ctv.csv", "Thiếu cột bắt buộc"),
])
def test_a_file_that_cannot_be_read_is_refused_before_any_row(world, data, name, words):
    with pytest.raises(FileRefused) as refused:
        read_table(io.BytesIO(data), FIELDS, filename=name)
    assert words in str(refused.value.message)


def bad(world, rows, user=None, **kw) -> list[str]:
    """The problems of a file, after checking that neither the dry run nor the refused import
    wrote anything."""
    before = counts()
    found = plan(workbook(rows, **kw), user)
    assert found.problems
    with pytest.raises(ImportRefused):
        apply_roster_import(found, actor=user, filename="x.xlsx")
    db.session.rollback()
    assert counts() == before
    return messages(found)


def test_a_file_without_a_hamlet_column_is_refused(world):
    found = bad(world, [line(world.hamlets_a[0], 1)], head=["Họ và tên", "Số CCCD", "Ngày sinh"])
    assert found == ["Trang “CTV”: Thiếu cột “Mã thôn” hoặc “Thôn/tổ dân phố”: mỗi dòng phải cho biết thôn/tổ dân phố "
                     "mà cộng tác viên phụ trách."]


def test_unknown_and_out_of_scope_hamlets_and_communes(world):
    head = world.users["head_a"]
    found = bad(world, [line(world.hamlets_a[0], 1, **{"Mã thôn": "25195-999"}),
                        line(world.hamlets_a[0], 2, **{"Mã thôn": "99999-001"}),
                        line(world.hamlets_b[0], 3),  # commune B: another station's
                        line(world.hamlets_c[0], 4)], head)  # Hà Nội
    assert found[0] == ("Trang “CTV”, dòng 5, cột “Mã thôn”: Phường Bình Phước không có thôn/tổ dân phố mã “25195-999” "
                        "đang có hiệu lực (xem trang “Thôn” của mẫu).")
    assert "dòng 6" in found[1] and "Không có xã/phường nào mang mã “99999”" in found[1]
    assert "dòng 7" in found[2] and "Xã Đồng Xoài (mã 25210) nằm ngoài địa bàn bạn được phân quyền" in found[2]
    assert "dòng 8" in found[3] and "nằm ngoài địa bàn" in found[3]


def test_a_station_head_cannot_import_into_another_communes_hamlet_by_name_either(world):
    found = bad(world, [{"Thôn/tổ dân phố": "Ấp 2", "Xã/phường": "Đồng Xoài", **line(world.hamlets_b[1], 1)}],
                world.users["head_a"], head=["Thôn/tổ dân phố", "Xã/phường", "Họ và tên", "Số CCCD", "Ngày sinh",
                                             "Giới tính", "Trình độ học vấn", "Phụ trách từ"])
    assert found == ["Trang “CTV”, dòng 5, cột “Xã/phường”: Không tìm thấy xã/phường “Đồng Xoài” trong địa bàn bạn được "
                     "phân quyền phân công cộng tác viên."]


def test_the_same_cccd_twice_in_the_file_or_already_someone_else_in_the_database(world):
    factories.appoint(world.hamlets_a[1], 9, full_name="Phạm Văn Khác")
    db.session.commit()
    taken = factories.national_id(date(1990, 5, 17), "female", 9)
    found = bad(world, [line(world.hamlets_a[0], 1), line(world.hamlets_a[1], 1),
                        line(world.hamlets_a[0], 2, **{"Số CCCD": taken})], world.users["head_a"])
    assert any("dòng 6" in p and "đã có ở dòng 5" in p and "một thôn chính" in p for p in found)
    assert any("dòng 7" in p and "đã được ghi cho Phạm Văn Khác" in p for p in found)


def test_a_cccd_of_a_candidate_in_selection_or_outside_the_area_is_refused(world):
    from danso_network.recruitment import services as rs

    factories.criteria(world.dong_nai)
    rs.create_application(**factories.candidate_fields(world.hamlets_a[0], 7))
    outside = factories.appoint(world.hamlets_b[0], 8, full_name="Nguyễn Thị Ứng Viên 8")
    db.session.commit()
    found = bad(world, [line(world.hamlets_a[0], 7, **{"Họ và tên": "Nguyễn Thị Ứng Viên 7",
                                                       "Số CCCD": factories.national_id(BORN, "female", 7)}),
                        line(world.hamlets_a[0], 8, **{"Họ và tên": outside.full_name,
                                                       "Số CCCD": outside.candidate.national_id})],
                world.users["head_a"])
    assert "hồ sơ tuyển chọn chưa hoạt động" in found[0]
    assert "ngoài địa bàn bạn được phân quyền" in found[1] and outside.full_name not in found[1]


def test_impossible_dates_are_refused(world):
    future = today() + timedelta(days=3)
    found = bad(world, [line(world.hamlets_a[0], 1, **{"Phụ trách từ": date(2020, 1, 1)}),  # before the hamlet
                        line(world.hamlets_a[0], 2, born=date(2000, 1, 1), **{"Ngày sinh": future}),
                        line(world.hamlets_a[0], 3, **{"Phụ trách từ": future}),
                        line(world.hamlets_a[0], 4, **{"Ngày sinh": "31/02/1990"}),
                        line(world.hamlets_a[0], 5, born=date(2015, 1, 1)),  # ten years old when starting
                        line(world.hamlets_a[0], 6, **{"Số hợp đồng": "1/HĐ", "Ngày ký hợp đồng": date(2025, 10, 1)})],
                head=[*HEAD, "Ngày ký hợp đồng"])
    assert "có hiệu lực trong hệ thống từ ngày 01/07/2025; ngày bắt đầu phụ trách (01/01/2020)" in found[0]
    assert "dòng 6, cột “Ngày sinh”" in found[1] and "không thể ở tương lai" in found[1]
    assert "dòng 7, cột “Phụ trách từ”" in found[2] and "chưa đến" in found[2]
    assert "dòng 8, cột “Ngày sinh”: “31/02/1990” không phải ngày hợp lệ" in found[3]
    assert "dòng 9" in found[4] and "chưa đủ 15 tuổi" in found[4]
    assert "dòng 10, cột “Ngày ký hợp đồng”" in found[5]


def test_a_cccd_that_does_not_match_the_person_or_is_not_twelve_digits(world):
    found = bad(world, [line(world.hamlets_a[0], 1, **{"Giới tính": "Nam"}),  # the 4th digit says female
                        line(world.hamlets_a[0], 2, **{"Số CCCD": "12345"}),
                        line(world.hamlets_a[0], 3, **{"Số CCCD": None})])
    assert "không khớp với giới tính và năm sinh" in found[0]
    assert "dòng 6, cột “Số CCCD”: Số CCCD phải gồm đúng 12 chữ số" in found[1]
    assert "dòng 7, cột “Số CCCD”: Ô này không được để trống." in found[2]


def test_a_new_person_needs_what_a_record_must_hold(world):
    found = bad(world, [line(world.hamlets_a[0], 1, **{"Ngày sinh": None, "Trình độ học vấn": None,
                                                       "Phụ trách từ": None, "Giới tính": "không rõ"})])
    assert any("cột “Ngày sinh”: Người mới: cần ghi ngày sinh" in p for p in found)
    assert any("cột “Trình độ học vấn”: Người mới" in p for p in found)
    assert any("cột “Giới tính”: “không rõ” không phải lựa chọn hợp lệ" in p for p in found)


def test_an_additional_hamlet_needs_the_provinces_permission(world):
    found = bad(world, [line(world.hamlets_a[0], 1),
                        line(world.hamlets_a[1], 1, **{"Loại phân công": "Kiêm nhiệm thêm"})])
    assert found == ["Trang “CTV”, dòng 6, cột “Loại phân công”: Tỉnh chưa cho phép cộng tác viên kiêm nhiệm thêm "
                     "thôn vào ngày 01/09/2025 (thiết lập của tỉnh)."]


def test_history_is_not_rewritten_through_a_file(world):
    head = world.users["head_a"]
    lan = factories.appoint(world.hamlets_a[0], 1, full_name="Nguyễn Thị Lan")
    db.session.commit()
    same = {"Họ và tên": lan.full_name, "Số CCCD": lan.candidate.national_id}
    found = bad(world, [line(world.hamlets_a[1], 1, **same, **{"Phụ trách từ": None})], head)  # a transfer
    assert "đang phụ trách chính Khu phố 1" in found[0] and "trang hồ sơ cộng tác viên" in found[0]
    found = bad(world, [line(world.hamlets_a[0], 1, **same, **{"Phụ trách từ": date(2025, 8, 1)})], head)
    assert "không sửa lịch sử phân công" in found[0]


def test_formulas_are_read_as_text_never_evaluated(world):
    head = world.users["head_a"]
    text = ("Mã thôn,Họ và tên,Ngày sinh,Giới tính,Số CCCD,Trình độ học vấn,Phụ trách từ,Dân tộc\n"
            f"{code(world.hamlets_a[0])},\"=HYPERLINK(\"\"http://x\"\",\"\"Lan\"\")\",17/05/1990,Nữ,"
            f"{factories.national_id(BORN, 'female', 501)},THCS,01/09/2025,=1+1\n")
    found = plan(text.encode(), head, "ctv.csv")
    assert not found.problems, messages(found)
    assert found.new[0].full_name == "=HYPERLINK(\"http://x\",\"Lan\")" and found.new[0].ethnicity == "=1+1"
    # In a workbook, a formula cell gives the value Excel stored; here a CCCD computed to a number.
    rows = [line(world.hamlets_a[0], 2, **{"Số CCCD": "=A1*1", "Số CCCD (giá trị)": 999})]
    found = plan(workbook(rows), head)
    assert any("Số CCCD phải gồm đúng 12 chữ số" in p or "3 số đầu" in p for p in messages(found))


def test_apply_refuses_a_plan_with_problems(world):
    found = plan(workbook([line(world.hamlets_a[0], 1, **{"Mã thôn": "25195-999"})]))
    with pytest.raises(ImportRefused):
        apply_roster_import(found, actor=None, filename="x.xlsx")


def test_a_hamlet_over_its_quota_is_a_warning_not_a_refusal(world):
    factories.criteria(world.dong_nai)  # Khu phố 1: 180 households → 1 collaborator
    found = plan(workbook([line(world.hamlets_a[0], 1), line(world.hamlets_a[0], 2)]), world.users["head_a"])
    assert not found.problems
    assert [str(w) for w in found.warnings] == [
        "Trang “CTV”: Khu phố 1 sẽ có 2 cộng tác viên (0 đang hoạt động, thêm 2), vượt định mức 1 theo tiêu chuẩn của "
        "tỉnh: vẫn nhập, danh sách định mức sẽ đánh dấu “Vượt định mức”."]


# --- the pages ------------------------------------------------------------------------------------------


def upload(client, data: bytes, name: str = "ctv.xlsx", url: str = "/collaborators/import"):
    token = csrf_token(client, "/collaborators/import")
    return client.post(url, data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def confirm_token(html: str) -> str:
    import re

    match = re.search(r'name="token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="token" name="token" type="hidden" value="([^"]+)"', html)
    assert match, html[:3000]
    return match.group(1)


def test_the_page_shows_the_dry_run_then_imports_on_confirmation(client, world, login_as):
    login_as("truongtram_a")
    data = workbook([line(world.hamlets_a[0], 1), line(world.hamlets_a[1], 2)])
    before = counts()
    response = upload(client, data, "ctv-phuong.xlsx")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:2000]
    assert "Chạy thử tệp “ctv-phuong.xlsx”" in html and 'data-count="created">2<' in html
    assert counts() == before
    token = confirm_token(html)
    response = client.post("/collaborators/import/confirm", data={"csrf_token": csrf_token(client, "/"),
                                                                  "token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert counts()["Collaborator"] == before["Collaborator"] + 2
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã nhập tệp “ctv-phuong.xlsx”: 2 dòng thêm mới" in page and "Nguyễn Thị Nhập 1" in page
    # the staged file is gone: confirming again is a 404, nothing is written twice
    again = client.post("/collaborators/import/confirm", data={"csrf_token": csrf_token(client, "/"), "token": token})
    assert again.status_code == 404
    assert counts()["Collaborator"] == before["Collaborator"] + 2
    collaborator = db.session.scalar(select(Collaborator).join(Candidate).where(
        Candidate.full_name == "Nguyễn Thị Nhập 1"))
    profile = client.get(f"/collaborators/{collaborator.id}").get_data(as_text=True)
    assert "1/QĐ-TTYT" in profile and "ctv-phuong.xlsx" in profile


def test_the_page_lists_every_problem_and_offers_no_confirmation(client, world, login_as):
    login_as("truongtram_a")
    before = counts()
    response = upload(client, workbook([line(world.hamlets_b[0], 1)]))
    html = response.get_data(as_text=True)
    assert "Tệp có 1 lỗi nên không ghi gì" in html
    assert "Trang “CTV”, dòng 5, cột “Mã thôn”: Xã Đồng Xoài (mã 25210) nằm ngoài địa bàn" in html
    assert "data-confirm-import" not in html
    assert counts() == before


def test_the_page_refuses_what_it_cannot_read_with_the_reason(client, world, login_as, app):
    login_as("truongtram_a")
    before = counts()
    response = upload(client, b"%PDF-1.7 ...", "ctv.pdf")
    assert response.status_code == 422 and "không đúng loại" in response.get_data(as_text=True)
    response = upload(client, (DATA / "table_bad_password.xlsx").read_bytes())
    assert response.status_code == 422 and "đặt mật khẩu" in response.get_data(as_text=True)
    response = upload(client, b"PK\x03\x04 broken", "ctv.xlsx")
    assert response.status_code == 422 and "Không đọc được tệp Excel" in response.get_data(as_text=True)
    response = upload(client, b"a" * (20 * 1024 * 1024 + 10), "ctv.csv")
    assert response.status_code == 422 and "Tệp lớn hơn 20 MB" in response.get_data(as_text=True)
    response = upload(client, b"a" * (50 * 1024 * 1024), "ctv.csv")
    assert response.status_code == 413 and "vượt quá dung lượng cho phép" in response.get_data(as_text=True)
    assert counts() == before


def signed_in(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


def test_only_those_who_appoint_may_import_and_a_token_is_its_owners(app, world):
    viewer = signed_in(app, "xem_b")
    assert viewer.get("/collaborators/import").status_code == 403
    assert viewer.get("/collaborators/import/template").status_code == 403
    assert "data-import-link" not in viewer.get(f"/collaborators/roster/{world.commune_b.id}").get_data(as_text=True)
    officer = signed_in(app, "vienchuc_a")  # the station officer keeps records but does not appoint
    assert officer.get("/collaborators/import").status_code == 403
    head = signed_in(app, "truongtram_a")
    assert "data-import-link" in head.get(f"/collaborators/roster/{world.commune_a.id}").get_data(as_text=True)
    assert head.get(f"/collaborators/import/template/{world.commune_b.id}").status_code == 403
    html = upload(head, workbook([line(world.hamlets_a[0], 1)])).get_data(as_text=True)
    token = confirm_token(html)
    other = signed_in(app, "truongtram_b")
    response = other.post("/collaborators/import/confirm", data={"csrf_token": csrf_token(other, "/"), "token": token})
    assert response.status_code == 404


def test_a_long_file_is_checked_and_imported_in_the_background(client, world, login_as, app):
    app.config["IMPORT_INLINE_ROWS"] = 1
    try:
        login_as("truongtram_a")
        before = counts()
        response = upload(client, workbook([line(world.hamlets_a[0], 1), line(world.hamlets_a[1], 2)]))
        assert response.status_code == 302 and "/collaborators/import/jobs/" in response.headers["Location"]
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Chạy thử tệp" in page and 'data-count="created">2<' in page
        assert counts()["Collaborator"] == before["Collaborator"]
        response = client.post("/collaborators/import/confirm", data={"csrf_token": csrf_token(client, "/"),
                                                                      "token": confirm_token(page)})
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Đã nhập tệp" in page
        assert counts()["Collaborator"] == before["Collaborator"] + 2
    finally:
        app.config.pop("IMPORT_INLINE_ROWS")


# --- the command line -------------------------------------------------------------------------------


def test_the_cli_dry_run_import_and_refusal(app, world, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "ctv.xlsx"
    path.write_bytes(workbook([line(world.hamlets_a[0], 1), line(world.hamlets_a[1], 2)]))
    before = counts()
    result = runner.invoke(args=["roster", "import", str(path), "--dry-run", "--user", "truongtram_a"])
    assert result.exit_code == 0, result.output
    assert "2 dòng — tạo mới 2, cập nhật 0, không đổi 0, lỗi 0" in result.output and "Chạy thử" in result.output
    assert counts() == before
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Chạy với quyền quản trị" in result.output and "Đã nhập: tạo mới 2" in result.output
    assert counts()["Collaborator"] == before["Collaborator"] + 2
    bad_path = tmp_path / "sai.xlsx"
    bad_path.write_bytes(workbook([line(world.hamlets_b[0], 3)]))
    middle = counts()
    result = runner.invoke(args=["roster", "import", str(bad_path), "--user", "truongtram_a"])
    assert result.exit_code == 2
    assert "Trang “CTV”, dòng 5, cột “Mã thôn”: Xã Đồng Xoài (mã 25210) nằm ngoài địa bàn" in result.output
    assert "không ghi gì" in result.output
    assert counts() == middle
    pdf = tmp_path / "ctv.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    result = runner.invoke(args=["roster", "import", str(pdf)])
    assert result.exit_code == 2 and "không phải bảng tính" in result.output


def test_the_job_result_is_the_report(world):
    found = plan(workbook([line(world.hamlets_a[0], 1)]), world.users["head_a"])
    data = roster_import.report(found, token="abc")
    assert json.loads(json.dumps(data))["created"] == 1 and data["token"] == "abc"
