"""One cell of an imported table turned into the value a field needs, or a Vietnamese reason
(:class:`CellError`) that becomes a :class:`~.problems.Problem` with the row and the column.

Every number has bounds; dates are real calendar dates (dd/mm/yyyy as typed, ISO, or a date cell
of Excel) in the years the application accepts (``common.params.YEARS``); yes/no columns take what
offices write ("Có", "x", "1", "Không", empty…). Codes keep their leading zeros when written as
text, and a code Excel turned into a number (``12.0``) is read back as "12".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from ..common.params import YEARS, parse_date
from ..textnorm import fold

_YES = {"co", "x", "1", "c", "yes", "y", "true", "dung", "v"}
_NO = {"khong", "0", "k", "no", "n", "false", "sai"}


class CellError(ValueError):
    """A cell that does not hold what its column needs; ``message`` is Vietnamese."""

    def __init__(self, message: Any):
        super().__init__(str(message))
        self.message = message


def text(value: Any, *, max_length: int = 200, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise CellError(_l("Ô này không được để trống."))
        return None
    if isinstance(value, bool):
        raise CellError(_l("Cần một đoạn chữ, không phải giá trị đúng/sai."))
    if isinstance(value, (date, datetime)):
        value = value.strftime("%d/%m/%Y")
    out = str(value).strip()
    if len(out) > max_length:
        raise CellError(_l("Quá dài: tối đa %(n)d ký tự (ô có %(m)d).", n=max_length, m=len(out)))
    return out or None


def code(value: Any, *, max_length: int = 30, required: bool = False) -> str | None:
    """A code as text: 12 / 12.0 → "12"; "00123" stays "00123"; no spaces inside."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = text(value, max_length=max_length, required=required)
    if out is not None and any(ch.isspace() for ch in out):
        raise CellError(_l("Mã “%(v)s” không được chứa khoảng trắng.", v=out[:40]))
    return out


def integer(value: Any, *, low: int = 0, high: int = 10**6, required: bool = False) -> int | None:
    if value is None:
        if required:
            raise CellError(_l("Ô này không được để trống."))
        return None
    if isinstance(value, bool):
        raise CellError(_l("Cần một số nguyên."))
    number: Any = value
    if isinstance(value, str):
        raw = value.replace(".", "").replace(",", "").replace(" ", "") if value.count(".") + value.count(",") <= 2 \
            else value
        if not (raw.isascii() and raw.removeprefix("-").isdigit()):  # one minus sign at most ("--0" is no number)
            raise CellError(_l("“%(v)s” không phải số nguyên.", v=value[:30]))
        number = int(raw)
    elif isinstance(value, float):
        if not value.is_integer():
            raise CellError(_l("Cần một số nguyên (ô có %(v)s).", v=value))
        number = int(value)
    elif not isinstance(value, int):
        raise CellError(_l("Cần một số nguyên."))
    if not low <= number <= high:
        raise CellError(_l("Số %(v)s nằm ngoài khoảng cho phép (%(a)d–%(b)d).", v=number, a=low, b=high))
    return number


def phone(value: Any) -> str | None:
    """A Vietnamese phone number, checked as a form checks it (``recruitment.services.check_phone``);
    a number Excel stored as a number lost its leading 0, which is put back."""
    from ..errors import DomainError
    from ..recruitment.services import check_phone

    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"0{value}"
    try:
        return check_phone(text(value, max_length=30))
    except DomainError as e:
        raise CellError(e.message) from None


def day(value: Any, *, required: bool = False) -> date | None:
    """A date: a date cell, or text dd/mm/yyyy (d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy) or yyyy-mm-dd."""
    if value is None:
        if required:
            raise CellError(_l("Ô này không được để trống."))
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        if not YEARS[0] <= value.year <= YEARS[1]:
            raise CellError(_l("Ngày %(v)s nằm ngoài khoảng năm %(a)d–%(b)d.", v=value.strftime("%d/%m/%Y"),
                               a=YEARS[0], b=YEARS[1]))
        return value
    try:
        return parse_date(str(value))
    except ValueError:
        raise CellError(_l("“%(v)s” không phải ngày hợp lệ: ghi ngày/tháng/năm, ví dụ 07/12/2026.",
                           v=str(value)[:30])) from None


def flag(value: Any) -> bool:
    """Yes / no: "Có", "x", "1", "C", "yes", TRUE… / "Không", "0", "K", empty…"""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    folded = fold(str(value))
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    raise CellError(_l("“%(v)s” không rõ là có hay không: ghi “Có” hoặc “Không” (hoặc để trống).", v=str(value)[:30]))


def choice(value: Any, options: Mapping[str, Any], *, required: bool = False) -> Any:
    """One of ``options`` (label or code as written → value), matched folded; the message lists
    the labels."""
    if value is None:
        if required:
            raise CellError(_l("Ô này không được để trống."))
        return None
    by_name = {fold(str(k)): v for k, v in options.items()}
    found = by_name.get(fold(str(value)))
    if found is None:
        shown = ", ".join(f"“{k}”" for k in options)
        raise CellError(_l("“%(v)s” không phải lựa chọn hợp lệ; chọn một trong: %(o)s.", v=str(value)[:40], o=shown))
    return found
