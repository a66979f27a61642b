"""Properties of the spreadsheet imports (issue #12): whatever file a user uploads — cells holding
formulas, huge numbers, control characters, combining marks, odd Unicode, wrong or missing
headers, an empty sheet — reading it and planning the import (the dry run) ends in one of two
ways: a clear refusal (:class:`FileRefused`/:class:`ImportRefused`, a Vietnamese message with
its problems) or a plan whose problems name their row; a plan without problems then applies.
Never another exception (which a page would show as a 500).

The four imports are fuzzed alike: hamlets (``units.hamlets_import``), the collaborators roster
(``collaborators.roster_import``), health centres (``facilities.facilities_import``) and accounts
(``auth.accounts_import``), on the small world of ``tests/factories.py``.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime, time
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import event, given, settings
from hypothesis import strategies as st

from danso_network.auth import accounts_import
from danso_network.collaborators import roster_import
from danso_network.errors import DomainError
from danso_network.extensions import db
from danso_network.facilities import facilities_import
from danso_network.imports.cells import CellError, code, flag, integer, phone, text
from danso_network.imports.problems import ImportRefused, Problem
from danso_network.imports.reading import FileRefused, cell_value, read_table
from danso_network.units import hamlets_import

from .conftest import FUZZ

# --- cells ------------------------------------------------------------------------------------------

ODD_TEXT = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(categories=["Mn", "Me", "Cc", "Cf", "Co", "Zl", "Zp"]), max_size=10),
    st.sampled_from(["=1+1", "=SUM(A1:A3)", "=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(1)",
                     "-1", "1e308", "NaN", "∞", "Ấp 3", "A\u0323\u0302p 3", "\u200bẤp\u200d 3", "\x00", "\ufeff",
                     "Có", "Không", "x", "", " ", "٠٧٠", "０７０", "12.0", "1.234.567", "1,5", "07/12/2026",
                     "2026-12-07", "31/02/2026", "a" * 500]),
)
ODD_CELL = st.one_of(
    st.none(), st.booleans(), ODD_TEXT,
    st.integers(min_value=-(2**63), max_value=2**63), st.integers(min_value=-10**40, max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True), st.dates(), st.datetimes(), st.times(),
)


@settings(FUZZ, max_examples=300)
@given(ODD_CELL)
def test_every_cell_reader_gives_a_value_or_a_clear_problem(value):
    """Each column reader (text, code, number, phone, yes/no) takes any cell: a value of its
    kind, or a CellError with a Vietnamese message."""
    cleaned = cell_value(value)
    for read in (text, code, integer, phone, flag):
        try:
            read(cleaned)
        except CellError as e:
            assert str(e.message)


@settings(FUZZ, max_examples=200)
@given(st.one_of(st.integers(), st.text(alphabet="0123456789.,- ", max_size=25)))
def test_an_integer_cell_is_within_its_bounds_or_refused(value):
    try:
        number = integer(value, low=0, high=10**6)
    except CellError:
        return
    assert number is None or 0 <= number <= 10**6


# --- files ------------------------------------------------------------------------------------------


def xlsx_bytes(rows: list[list], sheet: str = "Trang 1") -> bytes:
    """A workbook as Excel writes it: a formula cell keeps its formula and a cached value."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False, "strings_to_urls": False})
    ws = book.add_worksheet(sheet)
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str) and value.startswith("=") and len(value) > 1:
                ws.write_formula(r, c, value, None, "42")
            elif isinstance(value, str):
                ws.write_string(r, c, value[:32767])
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, (datetime, date)):
                ws.write_datetime(r, c, value, dates)
            elif isinstance(value, time):
                ws.write_datetime(r, c, value)
            elif isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < 1e300:
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))
    book.close()
    return buffer.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["" if v is None else v for v in row] for row in rows])
    return out.getvalue().encode(encoding, errors="replace")


def headers_of(fields) -> list[str]:
    return [str(f.label) for f in fields]


@st.composite
def spreadsheet(draw, fields, plausible: dict):
    """A file for an import of ``fields``: mostly the right header row (the required columns and
    some optional ones, in any case), sometimes a broken one (columns dropped, misspelt, doubled,
    or none at all), maybe a title block above it, rows of plausible cells for each column mixed
    with odd ones; as XLSX or CSV (UTF-8, with or without BOM), or bytes that are no spreadsheet."""
    keys = [f.key for f in fields if f.required or draw(st.booleans())]
    label = {f.key: str(f.label) for f in fields}
    spellings = lambda k: [label[k], label[k], label[k].upper(), f" {label[k]} "]  # noqa: E731
    if draw(st.integers(0, 3)) == 0:  # a broken header row
        keys = draw(st.lists(st.sampled_from([f.key for f in fields]), max_size=len(fields)))
        spellings = lambda k: [label[k], label[k] + "?", label[k][:-1]]  # noqa: E731
    header = [draw(st.sampled_from(spellings(k))) for k in keys]
    extra = draw(st.lists(ODD_TEXT, max_size=1))
    columns = [st.one_of(st.sampled_from(plausible.get(k, plausible["*"])), st.sampled_from(plausible["*"]), ODD_CELL)
               for k in keys] + [ODD_CELL for _ in extra]
    rows = draw(st.lists(st.tuples(*columns).map(list) if columns else st.just([]), max_size=5))
    title = draw(st.lists(st.lists(ODD_TEXT, max_size=2), max_size=2))
    table = [*title, header + extra, *rows] if header or draw(st.booleans()) else []
    kind = draw(st.sampled_from(["xlsx", "xlsx", "csv", "utf-8-sig", "bytes"]))
    if kind == "xlsx":
        return "tep.xlsx", xlsx_bytes(table)
    if kind == "bytes":  # a file that is not a spreadsheet at all, maybe pretending to be one
        return draw(st.sampled_from(["tep.xlsx", "tep.csv", "tep.xls", "tep.pdf"])), draw(st.binary(max_size=200))
    return "tep.csv", csv_bytes(table, "utf-8" if kind == "csv" else kind)


def read_or_refuse(name: str, data: bytes, fields):
    """The table, or None when the file was refused with a message (the other allowed outcome)."""
    try:
        return read_table(io.BytesIO(data), fields, filename=name)
    except FileRefused as e:
        assert str(e.message)
        event("file refused")
        return None


def check_plan(plan, apply) -> None:
    """A plan's problems each say where and what; a plan without problems applies (rolled back)."""
    problems = list(plan.problems)
    for p in problems:
        assert isinstance(p, Problem) and p.message.strip()
    if problems:
        event("plan with problems")
        return
    event("plan applied")
    savepoint = db.session.begin_nested()
    try:
        apply(plan)
    except ImportRefused as e:  # a refusal met while writing (a code taken meanwhile…): still a list
        assert e.items
    finally:
        savepoint.rollback()


def dry_run(name: str, data: bytes, fields, plan, apply) -> None:
    table = read_or_refuse(name, data, fields)
    if table is None:
        return
    savepoint = db.session.begin_nested()  # what one example does is undone before the next
    try:
        try:
            result = plan(table)
        except DomainError as e:  # refused as a whole (scope, no province…): a clear message
            assert str(e.message)
            event("import refused as a whole")
            return
        check_plan(result, apply)
    finally:
        savepoint.rollback()


@pytest.fixture
def plausible(world) -> dict[str, list]:
    """Cells an office would write for the small world, by column key ("*": any column)."""
    w = world
    hamlets = [*w.hamlets_a, *w.hamlets_b, *w.hamlets_c]
    communes = [w.commune_a.code, w.commune_b.code, w.commune_c.code, "25999", "2519", 25195, 25210.0]
    days = [date(2025, 7, 1), date(2026, 1, 15), "01/07/2025", "2025-09-01", date(1990, 5, 17), "31/12/2099"]
    yes_no = ["Có", "Không", "x", "", 1, 0, True, "có"]
    return {
        "*": [*communes, w.commune_a.full_name, "Ấp 9", "250", 250, 0, -3, 10**12, *days[:2], "Có"],
        "commune_code": communes, "code": ["TTYT-689", "TTYT-999", "TTYT 1", "SYT-75", "TYT-25195"],
        "commune": [w.commune_a.full_name, w.commune_b.name, "xa dong xoai", "Phường Ba Đình", "Xã Không Có"],
        "commune_name": [w.commune_a.full_name, w.commune_b.name, "xa dong xoai", "Xã Không Có"],
        "name": [*(h.name for h in hamlets), "Ấp 9", "Khu phố 03", "ap 2", "Tổ dân phố 7", "Trung tâm Y tế mới",
                 "9", "Ấp Tân Lập"],
        "hamlet": [*(h.name for h in hamlets), "Ấp 9", "AP 02", "Khu phố 1"],
        "type": ["Ấp", "Khu phố", "Thôn", "Tổ dân phố", "tdp", "Phum", "khác"],
        "local_id": [*(h.local_id for h in hamlets), "001", 7, "00x"],
        "hamlet_code": [*(f"{h.parent.code}-{h.local_id}" for h in hamlets), "25195-999", "1"],
        "households": [250, "1.200", 0, -1, 10**7], "population": [900, "2,500", 10**9],
        "is_difficult": yes_no, "is_ethnic_minority": yes_no, "vhw": yes_no, "family_children": yes_no,
        "valid_from": days, "date_of_birth": days, "started_on": days, "contract_date": days, "ended_on": days,
        "full_name": ["Nguyễn Thị An", "Trần Văn B", "A", "x" * 300],
        "national_id": ["070190500017", "075190000001", "07019050001", "abc", 70190500017],
        "sex": ["Nữ", "Nam", "nu", "F"], "ethnicity": ["Kinh", "Tày", ""],
        "education": ["Tốt nghiệp THCS", "Tiểu học", "THPT", "Đại học"],
        "kind": ["Thôn chính", "Kiêm thêm", "Phụ trách tạm"],
        "phone": ["0912345678", 912345678, "+84912345678", "123"],
        "communes": ["25195, 25210", "25195;25210", "00004", "25195 25195", "99999"],
        "decision_ref": ["12/QĐ-TTYT", ""], "contract_number": ["01/HĐ"],
        "username": ["truongtram_a", "moi_1", "Moi 2", "admin75", "x" * 100],
        "role": ["Trạm trưởng", "station_head", "Viên chức dân số", "Quản trị tỉnh", "không rõ"],
        "unit": communes + ["75", "01"], "facility": ["TYT-25195", "TTYT-689", "TYT-0"],
        "email": ["a@b.vn", "khong-phai-email", ""], "address": ["Số 1, đường A"],
    }


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_hamlets_import_of_any_file(world, plausible, data):
    admin = world.users["admin"]
    name, content = data.draw(spreadsheet(hamlets_import.FIELDS, plausible))
    dry_run(name, content, hamlets_import.FIELDS,
            lambda t: hamlets_import.plan_hamlets(t, actor=admin, within=world.dong_nai),
            lambda p: hamlets_import.apply_hamlets(p, actor=admin, filename=name))


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_roster_import_of_any_file(world, plausible, data):
    head = world.users["centre"]
    name, content = data.draw(spreadsheet(roster_import.FIELDS, plausible))
    dry_run(name, content, roster_import.FIELDS,
            lambda t: roster_import.plan_roster_import(t, user=head),
            lambda p: roster_import.apply_roster_import(p, actor=head, filename=name))


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_centres_import_of_any_file(world, plausible, data):
    admin = world.users["admin"]
    name, content = data.draw(spreadsheet(facilities_import.FIELDS, plausible))
    dry_run(name, content, facilities_import.FIELDS,
            lambda t: facilities_import.plan_centres(t, province=world.dong_nai, actor=admin),
            lambda p: facilities_import.apply_centres(p, actor=admin, filename=name))


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_accounts_import_of_any_file(world, plausible, data):
    admin = world.users["admin"]
    name, content = data.draw(spreadsheet(accounts_import.FIELDS, plausible))
    dry_run(name, content, accounts_import.FIELDS,
            lambda t: accounts_import.plan_accounts(t, actor=admin),
            lambda p: accounts_import.apply_accounts(p, actor=admin, filename=name))


@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_the_upload_page_answers_any_file_without_a_server_error(app, world, plausible, client, login_as, data):
    """Through the page, as the province admin uploads it: the dry run (200) or the refusal with
    its message (422) — never a 500 — whatever the file (the staged file is a dry run's only write)."""
    from ..conftest import csrf_token

    if not getattr(client, "signed_in", False):  # the same client serves every example
        login_as(world.users["admin"])
        client.signed_in = True
    url = f"/units/{world.dong_nai.id}/hamlets/import"
    name, content = data.draw(spreadsheet(hamlets_import.FIELDS, plausible))
    staging = Path(app.config["UPLOAD_DIR"]) / "imports"
    before = set(staging.iterdir()) if staging.is_dir() else set()
    try:
        response = client.post(url, data={"csrf_token": csrf_token(client, url), "file": (io.BytesIO(content), name)},
                               content_type="multipart/form-data")
    finally:  # the dry run keeps the file for its confirmation: other tests expect none left behind
        for staged in (set(staging.iterdir()) if staging.is_dir() else set()) - before:
            staged.unlink(missing_ok=True)
    assert response.status_code in (200, 422), response.status_code
    event(f"page answered {response.status_code}")
