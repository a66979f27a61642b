"""The range of effective dates a user may give a versioned setting (issue #9 item 9).

Versioned settings take effect on a date typed by a user: a province's recruitment criteria, its
network policy and allowance rules, the national base salary, a commune's professional-direction
links. Several of them must start after the version before them, and an end can be set only once,
so a date typed far in the future (31/12/9999) would be accepted and then block every later
version for good. Every such date is checked here, once, by the services that record them:

- not later than :data:`YEARS_AHEAD` years after today (Vietnam's date, :func:`clock.today`): a
  province decides its rules months ahead, not decades;
- not earlier than the date the rules the setting implements took effect — by default
  :data:`TT_02_2021_IN_FORCE`, when Thông tư 02/2021/TT-BYT (the collaborators' criteria, duties
  and network) came into force; a service passes its own ``earliest`` where another source applies.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from ..errors import ValidationFailed
from . import clock

TT_02_2021_IN_FORCE = date(2021, 3, 10)  # Thông tư 02/2021/TT-BYT, Điều 7: in force from 10/3/2021
YEARS_AHEAD = 2


def _vn(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def latest_effective_date(today: date | None = None) -> date:
    """The last date an effective date may be: :data:`YEARS_AHEAD` years after ``today`` (29/2
    becomes 28/2 in a common year)."""
    today = today or clock.today()
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def check_effective_date(value: date, *, field: str = "valid_from", earliest: date = TT_02_2021_IN_FORCE) -> date:
    """``value`` if it is inside ``[earliest, latest_effective_date()]``, else
    :class:`ValidationFailed` naming ``field`` (shown beside it on the form, 422 in the API)."""
    latest = latest_effective_date()
    if value > latest:
        raise ValidationFailed(_l("Ngày %(d)s quá xa: chỉ nhập được đến ngày %(m)s (tối đa %(n)d năm kể từ hôm nay).",
                                  d=_vn(value), m=_vn(latest), n=YEARS_AHEAD), field=field)
    if value < earliest:
        raise ValidationFailed(_l("Ngày %(d)s quá sớm: phải từ ngày %(m)s trở đi.", d=_vn(value), m=_vn(earliest)),
                               field=field)
    return value
