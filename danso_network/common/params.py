"""Query-string arguments of the HTML pages, parsed one way everywhere.

Dates are read day-first (``dd/mm/yyyy``, as they are shown) or ISO (``yyyy-mm-dd``, what a date
input sends); months as ``yyyy-mm`` or ``mm/yyyy``. Both are bounded to the years
:data:`YEARS` — outside that a value is a typo, and date arithmetic near year 1 or 9999
overflows. The pure parsers (:func:`parse_date`, :func:`parse_month`) raise ``ValueError`` and
are shared with the JSON API (``api/schemas.py``), which answers 422 instead of falling back.
A page given something unreadable falls back to its default and says so in a flash message.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date

from flask import flash, request
from flask_babel import gettext as _

from . import clock
from .paging import PER_PAGE, PRINT_LIMIT

YEARS = (1900, 2100)
MAX_PAGE = 1_000_000  # beyond any list; a larger number would overflow the OFFSET


def _in_years(value: date) -> date:
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise ValueError(f"year outside {YEARS}")
    return value


def parse_date(raw: str) -> date:
    """``dd/mm/yyyy`` (also ``d/m/yyyy``, ``dd-mm-yyyy``) or ISO ``yyyy-mm-dd``; ValueError otherwise."""
    raw = raw.strip()
    if len(raw) == 10 and raw[4] == "-":
        return _in_years(date.fromisoformat(raw))
    parts = raw.replace("-", "/").replace(".", "/").split("/")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts) or len(parts[2]) != 4:
        raise ValueError(raw)
    day, month, year = (int(p) for p in parts)
    return _in_years(date(year, month, day))


def parse_month(raw: str) -> date:
    """``yyyy-mm`` (what a month input sends) or ``mm/yyyy``: the first day of that month."""
    raw = raw.strip()
    if "/" in raw:
        month, _sep, year = raw.partition("/")
    else:
        year, _sep, month = raw[:7].partition("-")
    if not (year.isascii() and year.isdigit() and len(year) == 4 and month.isascii() and month.isdigit()):
        raise ValueError(raw)
    return _in_years(date(int(year), int(month), 1))


def date_arg(name: str = "as_of", default: date | None = None, *, fallback_today: bool = True) -> date | None:
    """A date from the query string; absent: ``default`` (today when none is given and
    ``fallback_today``); unreadable: the same, with a warning."""
    if default is None and fallback_today:
        default = clock.today()
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse_date(raw)
    except ValueError:
        flash(_("Ngày “%(v)s” không hợp lệ (ngày/tháng/năm, từ năm %(a)d đến %(b)d); đã bỏ qua.",
                v=raw[:30], a=YEARS[0], b=YEARS[1]), "warning")
        return default


def month_arg(name: str = "month") -> date:
    """The first day of a month from the query string; this month when absent or unreadable."""
    this_month = clock.today().replace(day=1)
    raw = request.args.get(name, "").strip()
    if not raw:
        return this_month
    try:
        return parse_month(raw)
    except ValueError:
        flash(_("Tháng “%(v)s” không hợp lệ; đang dùng tháng hiện tại.", v=raw[:30]), "warning")
        return this_month


def bool_arg(name: str) -> bool | None:
    """``1`` → True, ``0`` → False, anything else → no filter."""
    return {"1": True, "0": False}.get(request.args.get(name, ""))


def choice_arg(name: str, choices: Container[str], default: str | None = None) -> str | None:
    value = request.args.get(name, "")
    return value if value in choices else default


def int_arg(name: str, default: int | None = None, *, low: int = 1, high: int = 2**31 - 1) -> int | None:
    """A whole number within bounds, else ``default`` (an id filter, a year)."""
    raw = request.args.get(name, "").strip()
    if raw.isascii() and raw.isdigit() and low <= int(raw) <= high:
        return int(raw)
    return default


def page_arg() -> tuple[int, int]:
    """``(page, per_page)``: ``?page=N`` (bounded), or every row up to the print limit with
    ``?all=1`` (the "print all" button)."""
    if request.args.get("all") == "1":
        return 1, PRINT_LIMIT
    return int_arg("page", 1, high=MAX_PAGE), PER_PAGE
