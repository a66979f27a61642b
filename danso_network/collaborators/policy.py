"""The province's network policy in force on a date (effective-dated settings; the defaults are
the proposals of DOMAIN.md §7.2–7.3 until the province records its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..units.models import AdminUnit
from .models import NetworkPolicy


@dataclass(frozen=True)
class Policy:
    allow_additional_hamlet: bool = False
    pay_additional_hamlet: bool = False
    visit_interval_days: int = NetworkPolicy.DEFAULT_VISIT_INTERVAL_DAYS
    missed_meetings_for_review: int = NetworkPolicy.DEFAULT_MISSED_MEETINGS
    legal_basis: str | None = None
    valid_from: date | None = None  # None: the defaults, no province decision recorded
    record: NetworkPolicy | None = None


def province_id_of(path: str) -> int:
    """The province of any unit is the root of its materialised path (``/1/7/42/`` → 1)."""
    return int(path.strip("/").split("/")[0])


def policy_for(province: AdminUnit | int, on: date | None = None) -> Policy:
    """The latest policy version of the province whose ``valid_from`` is on or before ``on``."""
    on = on or date.today()
    province_id = province if isinstance(province, int) else province.id
    row = db.session.scalar(
        select(NetworkPolicy).where(NetworkPolicy.province_id == province_id, NetworkPolicy.valid_from <= on)
        .order_by(NetworkPolicy.valid_from.desc()).limit(1))
    if row is None:
        return Policy()
    return Policy(row.allow_additional_hamlet, row.pay_additional_hamlet, row.visit_interval_days,
                  row.missed_meetings_for_review, row.legal_basis, row.valid_from, row)
