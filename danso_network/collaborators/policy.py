"""The province's network policy in force on a date (effective-dated settings; the defaults are
the proposals of DOMAIN.md §7.2–7.3 until the province records its own)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..common.clock import today
from ..extensions import db
from ..units.models import AdminUnit
from ..units.services import province_id_of as province_id_of  # where callers find it
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


def _policy(row: NetworkPolicy | None) -> Policy:
    if row is None:
        return Policy()
    return Policy(row.allow_additional_hamlet, row.pay_additional_hamlet, row.visit_interval_days,
                  row.missed_meetings_for_review, row.legal_basis, row.valid_from, row)


def policies_for(province_ids: Iterable[int], on: date | None = None) -> dict[int, Policy]:
    """:func:`policy_for` of several provinces in one query (a national list touches 34)."""
    on, wanted = on or today(), set(province_ids)
    found: dict[int, Policy] = {}
    if wanted:
        rows = db.session.scalars(
            select(NetworkPolicy).where(NetworkPolicy.province_id.in_(sorted(wanted)), NetworkPolicy.valid_from <= on)
            .order_by(NetworkPolicy.province_id, NetworkPolicy.valid_from.desc()))
        for row in rows:
            found.setdefault(row.province_id, _policy(row))
    return {pid: found.get(pid, Policy()) for pid in sorted(wanted)}


def policy_for(province: AdminUnit | int, on: date | None = None) -> Policy:
    """The latest policy version of the province whose ``valid_from`` is on or before ``on``."""
    on = on or today()
    province_id = province if isinstance(province, int) else province.id
    row = db.session.scalar(
        select(NetworkPolicy).where(NetworkPolicy.province_id == province_id, NetworkPolicy.valid_from <= on)
        .order_by(NetworkPolicy.valid_from.desc()).limit(1))
    return _policy(row)
