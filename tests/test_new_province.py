"""Issue #12 "Done when": a province other than Đồng Nai brought in on a fresh database by the
commands of the README's "Triển khai cho một tỉnh mới" — communes from data/, a centres file,
stations created, a hamlets file, a collaborators file with one error (shown, nothing written),
fixed and imported, station head accounts from a file — and the station head logs in with the
one-time password, sets their own and sees the roster of their commune."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from danso_network.collaborators.models import Collaborator
from danso_network.extensions import db
from tests.conftest import csrf_token, login
from tests.factories import national_id

DATA = Path(__file__).resolve().parents[1] / "data"
README = Path(__file__).resolve().parents[1] / "README.md"
COMMUNES = ("28243", "25459")  # two communes of Tây Ninh (code 80)


def write(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_the_readme_new_province_section_names_these_commands():
    section = README.read_text(encoding="utf-8").split("## Triển khai cho một tỉnh mới", 1)[1].split("\n## ", 1)[0]
    for command in ("units import data/vn_provinces_2026.geojson --province 80", "facilities import",
                    "facilities create-stations --province 80", "units import-hamlets", "roster import",
                    "users import", "setup --province 80"):
        assert command in section, command


def test_a_new_province_from_its_files_to_a_station_head_reading_the_roster(app, client, tmp_path):
    run = app.test_cli_runner().invoke

    def ok(*args):
        done = run(args=[str(a) for a in args])
        assert done.exit_code == 0, done.output
        return done.output

    ok("units", "import", DATA / "vn_provinces_2026.geojson", "--province", "80")
    ok("units", "import", DATA / "vn_wards_2026.geojson.gz", "--province", "80")
    ok("users", "create", "--username", "admin80", "--full-name", "Quản trị Sở Y tế", "--role", "province_admin",
       "--unit", "80", "--password", "mat-khau-quan-tri-80")
    centres = write(tmp_path / "trung-tam.csv", "Mã trung tâm,Tên trung tâm,Mã xã/phường phục vụ,Hiệu lực từ",
                    f'TTYT-KV1,Trung tâm Y tế khu vực 1,"{COMMUNES[0]}, {COMMUNES[1]}",01/07/2025')
    ok("facilities", "import", centres, "--dry-run")
    ok("facilities", "import", centres)
    ok("facilities", "create-stations", "--province", "80", "--on", "01/07/2025")
    hamlets = write(tmp_path / "thon.csv", "Mã xã/phường,Tên thôn/tổ dân phố,Số hộ,Ngày hiệu lực",
                    f"{COMMUNES[0]},Ấp 1,250,01/07/2025", f"{COMMUNES[0]},Ấp 2,180,01/07/2025",
                    f"{COMMUNES[1]},Khu phố Bình Hoà,300,01/07/2025")
    ok("units", "import-hamlets", hamlets)

    header = "Họ và tên,Ngày sinh,Giới tính,Số CCCD,Trình độ học vấn,Mã xã/phường,Thôn/tổ dân phố,Phụ trách từ"
    lan = national_id(date(1985, 3, 2), "female", 11, province="072")
    hoa = national_id(date(1990, 5, 6), "female", 12, province="072")
    bad = write(tmp_path / "ctv-loi.csv", header,
                f"Nguyễn Thị Lan,02/03/1985,Nữ,{lan},THPT,{COMMUNES[0]},Ấp 1,01/08/2025",
                f"Trần Thị Hoa,06/05/2090,Nữ,{hoa},THPT,{COMMUNES[1]},Khu phố Bình Hoà,01/08/2025")
    refused = run(args=["roster", "import", str(bad)])
    assert refused.exit_code == 2, refused.output
    assert "Dòng 3, cột “Ngày sinh”: Ngày sinh 06/05/2090 không thể ở tương lai." in refused.output
    assert "không ghi gì vào cơ sở dữ liệu" in refused.output
    assert db.session.scalar(select(func.count()).select_from(Collaborator)) == 0  # nothing written
    fixed = write(tmp_path / "ctv.csv", header,
                  f"Nguyễn Thị Lan,02/03/1985,Nữ,{lan},THPT,{COMMUNES[0]},Ấp 1,01/08/2025",
                  f"Trần Thị Hoa,06/05/1990,Nữ,{hoa},THPT,{COMMUNES[1]},Khu phố Bình Hoà,01/08/2025")
    ok("roster", "import", fixed, "--dry-run")
    ok("roster", "import", fixed)
    assert db.session.scalar(select(func.count()).select_from(Collaborator)) == 2

    accounts = write(tmp_path / "tai-khoan.csv", "Tên đăng nhập,Họ và tên,Vai trò,Mã cơ sở y tế",
                     f"tram_{COMMUNES[0]},Trạm trưởng {COMMUNES[0]},station_head,TYT-{COMMUNES[0]}")
    output = ok("users", "import", accounts, "--passwords-out", tmp_path / "phieu.xlsx")
    password = re.search(rf"^tram_{COMMUNES[0]}\t(\S+)\t", output, re.M).group(1)  # the hand-out table
    assert (tmp_path / "phieu.xlsx").stat().st_size > 0
    setup = ok("setup", "--province", "80")
    # Two communes of 96 have a centre and hamlets: the guided start says what is missing.
    assert "[x] 1. Tỉnh và các xã/phường — Đã xong" in setup and "[~] 3. Thôn/tổ dân phố — Còn thiếu" in setup

    login(client, f"tram_{COMMUNES[0]}", password)
    # A one-time password: the station head sets their own before anything else.
    assert client.get("/collaborators/").headers["Location"].endswith("/account/password")
    client.post("/account/password", data={"csrf_token": csrf_token(client, "/account/password"),
                                           "current_password": password, "new_password": "mat-khau-tram-xa-2026",
                                           "confirm": "mat-khau-tram-xa-2026"})
    roster = client.get("/collaborators/", follow_redirects=True).get_data(as_text=True)
    assert "Nguyễn Thị Lan" in roster and "Trần Thị Hoa" not in roster  # the other commune is not theirs
