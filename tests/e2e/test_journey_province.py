"""The province officer's downloads in a real browser (issue #14 item 1 d): the province admin of
Đồng Nai opens the province roster from the menu and downloads it as XLSX — more rows than
``EXPORT_INLINE_ROWS``, so the file is made by a background job whose page reloads itself until it
offers the file — then a commune's roster as PDF (answered at once), then the year's network
report as XLSX and PDF. Each file is real: the XLSX opens in calamine and lists the collaborators,
the PDF starts with ``%PDF`` and its text (read from the fonts' ToUnicode maps: no PDF reader is a
dependency) holds the title and the names, and the report's figures are those the page shows.
No console error, no CSP violation, no request leaving 127.0.0.1 on any page."""

from __future__ import annotations

import io
import re
import zlib
from datetime import date

import pytest
from python_calamine import CalamineWorkbook

from .. import factories
from .conftest import assert_clean, serve

pytestmark = pytest.mark.e2e

PEOPLE = {"Lê Thị Hồng Nhung": 0, "Trần Văn Bảo": 1, "Phạm Thị Thu Hà": 2}  # name → hamlet of the world


def _build() -> dict:
    """The test world with criteria in force and three collaborators: two in Phường Bình Phước
    since September 2025, one in Xã Đồng Xoài since 1 January of this year (a new recruit of the
    year's report); Ấp 2 has nobody."""
    from danso_network.common.clock import today

    w = factories.build_world()
    factories.criteria(w.dong_nai)
    year_start = date(today().year, 1, 1)
    hamlets = [w.hamlets_a[0], w.hamlets_a[1], w.hamlets_b[0]]
    for serial, (name, index) in enumerate(PEOPLE.items(), start=1):
        started = year_start if index == 2 else date(2025, 9, 1)
        factories.appoint(hamlets[index], 900 + serial, started_on=started, full_name=name)
    return {"province": w.dong_nai.id, "commune_a": w.commune_a.id, "year": today().year}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # Two rows per file at once: the province's roster (three rows) is made by a background job,
    # run by the thread engine as in production (the job page reloads until the file is ready).
    with serve(tmp_path_factory, "journey_province", _build, LOGIN_RATE_LIMIT="100 per minute",
               EXPORT_INLINE_ROWS=2, JOB_ENGINE="thread", JOB_THREADS=1) as served:
        yield served


def downloaded(page, click) -> tuple[str, bytes]:
    """(suggested file name, bytes) of the download that ``click()`` starts."""
    with page.expect_download() as started:
        click()
    download = started.value
    return download.suggested_filename, download.path().read_bytes()


def xlsx_rows(data: bytes) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def pdf_text(data: bytes) -> str:
    """The text a reader would extract from a WeasyPrint PDF, its runs joined by " | ": every
    object (object streams unpacked), each font's ToUnicode map, then each content stream's
    ``Tf``/``TJ``/``Tj`` operators decoded with the current font's map (glyph ids of 2 bytes)."""
    objects: dict[int, bytes] = {}
    streams: dict[int, bytes] = {}
    for found in re.finditer(rb"(\d+) 0 obj(.*?)endobj", data, re.S):
        number, body = int(found.group(1)), found.group(2)
        objects[number] = body
        inner = re.search(rb"stream\r?\n(.*)endstream", body, re.S)
        if inner:
            raw = inner.group(1)  # the EOL before "endstream" is left to zlib: a stream may end in 0x0a
            streams[number] = (zlib.decompressobj().decompress(raw) if b"/FlateDecode" in body[:inner.start()]
                               else raw.rstrip(b"\r\n"))
    for number, body in list(streams.items()):
        head = objects[number][:objects[number].find(b"stream")]
        if b"/ObjStm" in head:
            first = int(re.search(rb"/First (\d+)", head).group(1))
            numbers = [int(x) for x in body[:first].split()]
            pairs = list(zip(numbers[::2], numbers[1::2], strict=True))
            for i, (inner_number, offset) in enumerate(pairs):
                end = pairs[i + 1][1] if i + 1 < len(pairs) else len(body) - first
                objects[inner_number] = body[first + offset:first + end]
    maps: dict[bytes, dict[int, str]] = {}
    for body in objects.values():
        for name, ref in re.findall(rb"/(\w+) (\d+) 0 R", body):
            font = objects.get(int(ref), b"")
            unicode = re.search(rb"/ToUnicode (\d+) 0 R", font)
            if b"/Font" in font and unicode:
                cmap = streams[int(unicode.group(1))]
                chars = b"".join(re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S))
                maps[name] = {int(src, 16): bytes.fromhex(dst.decode()).decode("utf-16-be")
                              for src, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", chars)}
    runs = []
    for body in streams.values():
        current: dict[int, str] = {}
        for op in re.finditer(rb"/(\w+) [\d.]+ Tf|\[(.*?)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj", body, re.S):
            if op.group(1):
                current = maps.get(op.group(1), {})
                continue
            hexes = re.findall(rb"<([0-9a-fA-F]*)>", op.group(2) or b"<" + op.group(3) + b">")
            runs.append("".join(current.get(int(h[i:i + 4], 16), "\ufffd") for h in hexes for i in range(0, len(h), 4)))
    return " | ".join(runs)


def test_the_province_officer_downloads_the_rosters_and_the_yearly_report(visitor, site, shoot):
    base_url, facts = site
    page = visitor(base_url, "admin75", viewport={"width": 1280, "height": 900}, outside=True)

    # The roster, from the menu: the province's (the admin's one area), everybody listed.
    page.get_by_role("button", name="Mạng lưới CTV").click()
    page.get_by_role("link", name="Danh sách CTV", exact=True).click()
    page.wait_for_url(f"**/collaborators/roster/{facts['province']}**")
    assert "Cộng tác viên dân số: Thành phố Đồng Nai" in page.locator("h1").inner_text()
    listing = page.inner_text("main")
    assert all(name in listing for name in PEOPLE)
    shoot(page, "journey-d-roster")
    assert_clean(page)

    # XLSX: three rows, more than a file made at once: the job's page, then the file.
    page.locator("[data-exports]").get_by_role("link", name="XLSX").click()
    page.wait_for_url("**/jobs/*")
    ready = page.get_by_text("Tệp đã sẵn sàng.")
    ready.wait_for(timeout=15000)  # the page reloads itself every 2 s while the job runs
    assert page.locator("h1").inner_text().startswith("Danh sách CTV")  # the job's kind, "Đã xong"
    shoot(page, "journey-d-job")
    name, data = downloaded(page, lambda: page.get_by_role("link", name="Tải tệp xuống").click())
    assert name.startswith("danh-sach-ctv-thanh-pho-dong-nai") and name.endswith(".xlsx")
    sheets = xlsx_rows(data)
    roster = sheets["Danh sách CTV"]
    assert roster[0][0] == "Danh sách cộng tác viên dân số" and roster[1][0] == "Thành phố Đồng Nai"
    header = roster.index(next(r for r in roster if r[0] == "STT"))
    names = [r[1] for r in roster[header + 1:] if isinstance(r[0], float)]
    assert sorted(names) == sorted(PEOPLE)
    vacant = sheets["Thôn chưa có CTV"]
    assert [r[1:3] for r in vacant if isinstance(r[0], float)] == [["Ấp 2", "Xã Đồng Xoài"]]
    assert_clean(page)

    # PDF of Phường Bình Phước's roster: two rows, answered at once.
    page.goto(f"/collaborators/roster/{facts['commune_a']}")
    name, data = downloaded(page, lambda: page.locator("[data-exports]").get_by_role("link", name="PDF").click())
    assert name.endswith(".pdf") and data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "DANH SÁCH CỘNG TÁC VIÊN DÂN SỐ" in text
    assert "Lê Thị Hồng Nhung" in text and "Trần Văn Bảo" in text and "Phạm Thị Thu Hà" not in text
    assert_clean(page)

    # The year's network report of the province (the page's defaults: this year, the admin's area).
    page.goto("/reports/network")
    year = facts["year"]
    assert f"năm {year}" in page.locator("main h2").inner_text()
    totals = page.locator("#totals").inner_text()
    assert "2 → 3" in totals  # two at the start of the year, three now
    assert "1 / 0" in totals  # one recruit, nobody left
    shoot(page, "journey-d-report")
    name, data = downloaded(page, lambda: page.get_by_role("link", name="Tải XLSX").click())
    assert name == f"bao-cao-mang-luoi-ctv-nam-{year}-thanh-pho-dong-nai.xlsx"
    rows = xlsx_rows(data)["Theo xã, phường"]
    header = next(r for r in rows if r and r[0] == "Mã")
    total = next(r for r in rows if len(r) > 1 and r[1] == "Tổng cộng")
    figure = {label: total[header.index(label)] for label in (
        "CTV đầu kỳ", "CTV cuối kỳ", "Tuyển mới", "Nghỉ việc", "Số thôn/tổ dân phố", "Thôn chưa có CTV hoạt động",
        "Thôn đủ định mức")}
    # Under the criteria's bands (up to 200 households: 1, up to 400: 2, more: 3) only Khu phố 1
    # (180) has its quota; Khu phố 2 (420) and Ấp Tân Lập (300) have one each; Ấp 2 has nobody.
    assert figure == {"CTV đầu kỳ": 2, "CTV cuối kỳ": 3, "Tuyển mới": 1, "Nghỉ việc": 0, "Số thôn/tổ dân phố": 4,
                      "Thôn chưa có CTV hoạt động": 1, "Thôn đủ định mức": 1}
    assert "1 / 4" in totals  # the page says the same
    communes = {r[1]: r for r in rows if len(r) > 1 and r[0] in ("25195", "25210")}
    assert communes["Phường Bình Phước"][header.index("CTV cuối kỳ")] == 2
    assert communes["Xã Đồng Xoài"][header.index("Tuyển mới")] == 1

    name, data = downloaded(page, lambda: page.get_by_role("link", name="Tải PDF").click())
    assert name.endswith(".pdf") and data.startswith(b"%PDF")
    text = pdf_text(data)
    assert f"BÁO CÁO MẠNG LƯỚI CỘNG TÁC VIÊN DÂN SỐ NĂM {year}" in text
    assert "Phường Bình Phước" in text and "Xã Đồng Xoài" in text
    assert_clean(page)
