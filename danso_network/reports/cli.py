"""``danso report network``: the network report from the command line (issue #11 item 3).

    danso report network --year 2026 --unit 75 --format xlsx -o dong-nai-2026.xlsx
    danso report network --year 2026 --quarter 4 --centre TTYT-689 --format pdf -o ttyt-q4.pdf
    danso report network --year 2026 --month 11 --unit 25195 --user truongtram_a -o binh-phuoc.pdf

``--unit CODE`` (a province's or commune's official code) or ``--centre CODE`` (an area health
centre's code); neither: the user's whole scope, or the whole country. ``--year`` defaults to the
current year; ``--quarter N`` or ``--month N`` narrows it. ``--user USERNAME`` makes the report
with that user's scope (a unit outside it is refused, as the page answers 403); without it the
command runs as an administrator over everything, and says so. The format defaults to the output
file's extension. Bad input (an unknown format, unit, centre or user, a bad period, a period
before any data, a unit outside the user's scope) is one line on standard error and exit status
2; nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..common.cli import active_user, fail, output_checks
from ..errors import DomainError
from ..extensions import db
from ..units.models import Facility, FacilityKind
from ..units.services import find_unit_by_code
from . import services

report_cli = AppGroup("report", help="Báo cáo mạng lưới cộng tác viên dân số.")


def _area(unit_code: str | None, centre_code: str | None, user, period: services.Period) -> services.Area:
    """The area the options name, for ``user`` (checked against their scope) or, without one,
    for an administrator (everything)."""
    key = None
    if unit_code:
        # The unit holding the code at the period's end, else today's (then refused with the day its data begin).
        unit = find_unit_by_code(unit_code, period.end) or find_unit_by_code(unit_code)
        if unit is None:
            fail(f"không có đơn vị hành chính mang mã {unit_code} vào ngày {period.end:%d/%m/%Y}.")
        key = f"unit-{unit.id}"
    elif centre_code:
        centre = db.session.scalar(select(Facility).where(Facility.code == centre_code))
        if centre is None or centre.kind != FacilityKind.HEALTH_CENTRE.value:
            fail(f"không có trung tâm y tế mang mã {centre_code}.")
        key = f"centre-{centre.id}"
    if user is not None:
        return services.area_for(user, key or "scope", period.end)
    click.echo("Chạy với quyền quản trị: toàn bộ dữ liệu (dùng --user để lập báo cáo theo phạm vi của một tài "
               "khoản).", err=True)
    if unit_code:
        return services.unit_area(unit)
    if centre_code:
        return services.centre_area(centre, period.end)
    return services.national_area()


@report_cli.command("network")
@click.option("--year", metavar="YYYY", help="Năm báo cáo; mặc định năm nay.")
@click.option("--quarter", metavar="N", help="Quý 1–4 của năm (không dùng cùng --month).")
@click.option("--month", metavar="N", help="Tháng 1–12 của năm (không dùng cùng --quarter).")
@click.option("--unit", "unit_code", metavar="CODE", help="Mã đơn vị hành chính (tỉnh hoặc xã/phường), vd. 75, 25195.")
@click.option("--centre", "centre_code", metavar="CODE", help="Mã trung tâm y tế, vd. TTYT-689.")
@click.option("--format", "fmt", metavar="|".join(services.FORMATS), help="Định dạng tệp; mặc định theo đuôi tệp của -o.")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Tệp ghi ra.")
@click.option("--user", "username", metavar="USERNAME", help="Lập báo cáo với phạm vi của tài khoản này.")
def network_command(year, quarter, month, unit_code, centre_code, fmt, output: Path, username):
    """Báo cáo mạng lưới CTV theo năm, quý hoặc tháng (xlsx, pdf)."""
    fmt = output_checks(fmt, output, services.FORMATS, unit_code=unit_code, centre_code=centre_code)
    partial = output.with_name(output.name + ".part")
    try:
        period = services.period_from({"year": year, "quarter": quarter, "month": month})
        user = active_user(username)
        area = _area(unit_code, centre_code, user, period)
        services.report_file(area, period, fmt, partial)
        os.replace(partial, output)
    except DomainError as error:
        db.session.rollback()
        partial.unlink(missing_ok=True)
        fail(str(error))
        return
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"Đã ghi “{output}” ({fmt.upper()}, {area.label}, {period.label}, "
               f"từ ngày {period.first_day:%d/%m/%Y} đến ngày {period.end:%d/%m/%Y}).")
