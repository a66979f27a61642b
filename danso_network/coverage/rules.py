"""Coverage rules: pure functions over pandas frames (no database, no request).

Sources of the rules:
- TT 02/2021/TT-BYT Art. 2: at least one population collaborator per hamlet — a hamlet with
  nobody active is a vacancy whatever its quota.
- The quota is the province's decision by household count (e.g. Gia Lai QĐ 34/2023/QĐ-UBND), read
  from the province's recruitment criteria in force on the date
  (``recruitment.services.bands_in_force`` / ``quota_sql``; :func:`recruitment.rules.quota_for`).
  A province without criteria in force has no quota: it is unknown, never guessed (DOMAIN.md §3.1).
- "Pending": an application in progress for the hamlet, i.e. in a state of the selection workflow
  before its end (``recruitment.workflow.FINAL_STATES``: active, rejected, withdrawn).

A collaborator is *active* in a hamlet on a date when an assignment to it (primary or additional)
is in force that day and no suspension of theirs is (``collaborators.services.quota_query``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd


class Status(enum.StrEnum):
    """A hamlet's coverage on a date (see :func:`statuses`)."""

    COVERED = "covered"  # active collaborators at or above the quota
    BELOW_QUOTA = "below_quota"  # some, fewer than the quota
    VACANT = "vacant"  # nobody active, nobody in the selection pipeline
    PENDING = "pending"  # nobody active, an application in progress for the hamlet
    UNKNOWN = "unknown"  # someone active, but no quota: the province has no criteria in force


STATUSES = tuple(s.value for s in Status)
AGGREGATIONS = ("commune", "centre", "province", "national")
VACANCY_ALERT_DAYS = 90  # "vacancies older than 90 days" (issue #10)

AGGREGATE_COLUMNS = ("unit_id", "hamlets", "covered", "below_quota", "vacant", "pending", "unknown", "pct_covered",
                     "households", "households_covered", "collaborators", "vacancies", "vacancies_over_90_days")


# --- one hamlet at a time, vectorised --------------------------------------------------------------


def statuses(active: pd.Series, quota: pd.Series, pending: pd.Series) -> pd.Series:
    """Each hamlet's :class:`Status`.

    - nobody active: ``pending`` when an application for the hamlet is in progress, else
      ``vacant`` — whatever the quota, since every hamlet needs at least one collaborator
      (TT 02/2021/TT-BYT Art. 2);
    - someone active and no quota (the province has no criteria in force): ``unknown``, not
      guessed;
    - fewer active than the province's quota: ``below_quota``; else ``covered``."""
    active = active.to_numpy(dtype="int64")
    quota = pd.array(quota, dtype="Int64")
    unknown = quota.isna()
    below = (pd.Series(quota).fillna(0).to_numpy(dtype="int64") > active) & ~unknown
    nobody = active == 0
    choice = np.select([nobody & (pending.to_numpy(dtype="int64") > 0), nobody, unknown, below],
                       [Status.PENDING.value, Status.VACANT.value, Status.UNKNOWN.value, Status.BELOW_QUOTA.value],
                       default=Status.COVERED.value)
    return pd.Series(choice, index=pending.index, dtype="str")


def households_per_collaborator(households: pd.Series, active: pd.Series) -> pd.Series:
    """Households per active collaborator; missing (<NA>) when nobody is active."""
    ratio = pd.array(households.to_numpy(dtype="float64"), dtype="Float64") / pd.array(
        active.to_numpy(dtype="float64"), dtype="Float64")
    return pd.Series(ratio, index=households.index).where(active.to_numpy() > 0, pd.NA)


def days_vacant(active: pd.Series, vacant_since: pd.Series, on: date) -> pd.Series:
    """Days a hamlet with nobody active has been without one, as of ``on``: since the last day a
    collaborator was active there ended (the end of their assignment, or the start of the
    suspension they are under), or since the hamlet came into force if nobody ever was
    (``vacant_since``, dates or ISO strings). <NA> for a hamlet with someone active."""
    days = pd.Series(pd.NA, index=active.index, dtype="Int64")
    nobody = active.to_numpy() == 0
    if nobody.any():
        since = _dates(vacant_since.to_numpy()[nobody])
        days[nobody] = np.maximum((np.datetime64(on, "D") - since).astype("int64"), 0)
    return days


def quotas(households: np.ndarray, bands: Sequence[Sequence[int | None]] | None) -> np.ndarray:
    """:func:`recruitment.rules.quota_for` over an array of household counts, for one band table
    (a province's criteria in force); ``None`` bands → every quota unknown (-1 here)."""
    households = np.asarray(households, dtype="int64")
    if bands is None:
        return np.full(households.shape, -1, dtype="int64")
    conds, choices, default = [], [], None
    for upper, count in bands:
        if upper is None:
            default = max(1, int(count))
            break
        conds.append(households <= upper)
        choices.append(max(1, int(count)))
    if default is None:
        default = max(1, int(bands[-1][1])) if bands else 1
    return np.select(conds, choices, default=default).astype("int64") if conds else np.full(
        households.shape, default, dtype="int64")


# --- who belongs where -----------------------------------------------------------------------------


def centre_memberships(communes: pd.DataFrame, service_areas: pd.DataFrame) -> dict[int, tuple[int, ...]]:
    """The area health centres each commune belongs to: every centre whose service area on the
    date is the commune or one of its ancestors (``units.services.facilities_serving``: a station
    serves one commune, a centre many). ``communes``: ``commune_id, commune_path``;
    ``service_areas``: ``facility_id, unit_id``. Returns commune id → sorted centre ids."""
    by_unit: dict[int, set[int]] = {}
    for facility_id, unit_id in zip(service_areas["facility_id"], service_areas["unit_id"], strict=True):
        by_unit.setdefault(int(unit_id), set()).add(int(facility_id))
    found = {}
    for commune_id, path in zip(communes["commune_id"], communes["commune_path"], strict=True):
        ids: set[int] = set()
        for unit_id in path.strip("/").split("/"):
            ids |= by_unit.get(int(unit_id), set())
        found[int(commune_id)] = tuple(sorted(ids))
    return found


# --- aggregates ------------------------------------------------------------------------------------


def _counts(frame: pd.DataFrame) -> pd.DataFrame:
    status = frame["status"].to_numpy()
    households = frame["households"].to_numpy(dtype="int64")
    covered = status == Status.COVERED.value
    nobody = frame["active"].to_numpy(dtype="int64") == 0
    old = frame["days_vacant"].fillna(0).to_numpy(dtype="int64") > VACANCY_ALERT_DAYS
    return pd.DataFrame({
        "hamlets": np.ones(len(frame), dtype="int64"),
        **{s.value: (status == s.value).astype("int64") for s in Status},
        "households": households,
        "households_covered": np.where(covered, households, 0),
        "collaborators": frame["active"].to_numpy(dtype="int64"),
        "vacancies": nobody.astype("int64"),
        "vacancies_over_90_days": (nobody & old).astype("int64"),
    }, index=frame.index)


def aggregate(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Coverage of a :func:`coverage.services.hamlet_frame` summed per ``by``:

    - ``commune`` / ``province``: one row per commune / province of the frame's hamlets
      (``unit_id`` the admin unit's id), ordered by id;
    - ``centre``: one row per area health centre serving the hamlets' communes on the date
      (``unit_id`` is the *facility* id); a hamlet served by two centres counts in each, one
      served by none in no row;
    - ``national``: one row (``unit_id`` None), also for an empty frame.

    Columns: ``hamlets`` and the count of each status; ``pct_covered`` = covered hamlets per 100
    hamlets (<NA> without hamlets; a hamlet of unknown quota is not covered: it cannot be said
    to be); ``households`` and ``households_covered`` (of the covered hamlets); ``collaborators``
    = active collaborators counted per hamlet served (one serving an additional hamlet counts in
    each, as on the quota page); ``vacancies`` = hamlets with nobody active (vacant + pending;
    TT 02/2021/TT-BYT: at least one per hamlet) and those vacant for more than
    :data:`VACANCY_ALERT_DAYS` days."""
    if by not in AGGREGATIONS:
        raise ValueError(f"by must be one of {AGGREGATIONS}, not {by!r}")
    counts = _counts(frame)
    if by == "national":
        out = counts.sum().to_frame().T.astype("int64")
        out.insert(0, "unit_id", pd.Series([None], dtype="object"))
    else:
        if by == "centre":
            counts["unit_id"] = frame["centre_ids"] if "centre_ids" in frame else pd.Series(
                [()] * len(frame), index=frame.index, dtype="object")
            counts = counts.explode("unit_id").dropna(subset=["unit_id"])
            counts["unit_id"] = counts["unit_id"].astype("int64")
        else:
            counts["unit_id"] = frame[f"{by}_id"].to_numpy(dtype="int64")
        out = counts.groupby("unit_id", sort=True).sum().reset_index()
    hamlets = out["hamlets"].to_numpy(dtype="float64")
    pct = pd.array(out["covered"].to_numpy(dtype="float64") * 100 / np.where(hamlets > 0, hamlets, 1),
                   dtype="Float64")
    out["pct_covered"] = pd.Series(pct, index=out.index).where(hamlets > 0, pd.NA)
    return out[list(AGGREGATE_COLUMNS)].reset_index(drop=True)


def oldest_vacancies(frame: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """The hamlets with nobody active, longest vacant first (then by name), at most ``limit``."""
    vacant = frame[frame["active"] == 0]
    return vacant.sort_values(["days_vacant", "full_name"], ascending=[False, True], na_position="last").head(limit)


# --- over time -------------------------------------------------------------------------------------


def month_ends(on: date, months: int) -> list[date]:
    """The last day of each of the ``months`` months up to ``on``'s, oldest first; the current
    month's point is ``on`` itself (its end has not come yet)."""
    points = []
    first = on.replace(day=1)
    for _ in range(months):
        points.append(min(on, _next_month(first) - timedelta(days=1)))
        first = (first - timedelta(days=1)).replace(day=1)
    return points[::-1]


def _next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def _dates(values) -> np.ndarray:
    """Dates (None: open end) as datetime64[D], NaT for None."""
    return pd.to_datetime(pd.Series(values, dtype="object")).to_numpy(dtype="datetime64[D]")


def pct_covered_on(days: Iterable[date], hamlets: pd.DataFrame, assignments: pd.DataFrame,
                   suspensions: pd.DataFrame, bands_on: Mapping[date, Mapping[int, list | None]]
                   ) -> list[tuple[date, float | None]]:
    """% of the hamlets in force on each day that are covered that day (:func:`statuses` gives
    ``covered``): the same rules as :func:`aggregate`'s ``pct_covered``, evaluated on many days
    at once from the dated rows.

    ``hamlets``: ``hamlet_id, province_id, households, valid_from, valid_to``; ``assignments``:
    ``hamlet_id, collaborator_id, started_on, ended_on``; ``suspensions``: ``collaborator_id,
    started_on, ended_on`` (half-open intervals, None = open); ``bands_on[day][province_id]``:
    the quota bands in force that day (None: no criteria, quota unknown: never covered)."""
    ids = hamlets["hamlet_id"].to_numpy(dtype="int64")
    households = hamlets["households"].to_numpy(dtype="int64")
    provinces = hamlets["province_id"].to_numpy(dtype="int64")
    h_from, h_to = _dates(hamlets["valid_from"]), _dates(hamlets["valid_to"])
    where = pd.Index(ids).get_indexer(assignments["hamlet_id"].to_numpy(dtype="int64"))
    keep = where >= 0
    where = where[keep]
    a_people = assignments["collaborator_id"].to_numpy(dtype="int64")[keep]
    a_from, a_to = _dates(assignments["started_on"])[keep], _dates(assignments["ended_on"])[keep]
    s_people = suspensions["collaborator_id"].to_numpy(dtype="int64")
    s_from, s_to = _dates(suspensions["started_on"]), _dates(suspensions["ended_on"])
    quota_cache: dict[str, np.ndarray] = {}
    points = []
    for day in days:
        d = np.datetime64(day, "D")
        valid = (h_from <= d) & (np.isnat(h_to) | (h_to > d))
        suspended = s_people[(s_from <= d) & (np.isnat(s_to) | (s_to > d))]
        serving = (a_from <= d) & (np.isnat(a_to) | (a_to > d)) & ~np.isin(a_people, suspended)
        active = np.bincount(where[serving], minlength=len(ids))
        bands = bands_on[day]
        key = repr(sorted(bands.items()))
        if key not in quota_cache:
            quota = np.full(len(ids), -1, dtype="int64")
            for province_id, province_bands in bands.items():
                mine = provinces == province_id
                quota[mine] = quotas(households[mine], province_bands)
            quota_cache[key] = quota
        quota = quota_cache[key]
        covered = valid & (quota > 0) & (active >= quota)
        total = int(valid.sum())
        points.append((day, float(covered.sum()) * 100 / total if total else None))
    return points
