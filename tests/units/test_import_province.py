"""``danso units import --province CODE``: one province and its communes from the national files
shipped in data/ (issue #12: a province other than Đồng Nai brought in from data/)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from danso_network.extensions import db
from danso_network.units.models import AdminUnit, UnitLevel

DATA = Path(__file__).resolve().parents[2] / "data"


def test_one_province_and_its_communes_from_the_national_files(app):
    runner = app.test_cli_runner()
    done = runner.invoke(args=["units", "import", str(DATA / "vn_provinces_2026.geojson"), "--province", "80"])
    assert done.exit_code == 0, done.output
    done = runner.invoke(args=["units", "import", str(DATA / "vn_wards_2026.geojson.gz"), "--province", "80"])
    assert done.exit_code == 0, done.output
    assert "tạo mới 96" in done.output
    provinces = db.session.scalars(select(AdminUnit.code).where(AdminUnit.level == UnitLevel.PROVINCE.value)).all()
    assert provinces == ["80"]
    communes = db.session.scalar(select(func.count()).select_from(AdminUnit).where(
        AdminUnit.level == UnitLevel.COMMUNE.value, AdminUnit.code.in_(["28243", "25459"])))
    assert communes == 2


def test_a_province_the_file_does_not_hold_is_refused_and_nothing_is_written(app):
    done = app.test_cli_runner().invoke(
        args=["units", "import", str(DATA / "vn_wards_2026.geojson.gz"), "--province", "99"])
    assert done.exit_code != 0
    assert "không có tỉnh/thành phố mã 99" in done.output
    assert db.session.scalar(select(func.count()).select_from(AdminUnit)) == 0
