"""The coverage rules as pure functions over frames (no database)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from danso_network.coverage import rules
from danso_network.coverage.labels import STATUS_COLOURS, STATUS_LABELS
from danso_network.recruitment.rules import QUOTA_PRESETS, quota_for


@pytest.mark.parametrize("active, quota, pending, status", [
    (0, 1, 0, "vacant"), (0, 1, 2, "pending"), (0, None, 0, "vacant"), (0, None, 1, "pending"),
    (1, None, 0, "unknown"), (3, None, 1, "unknown"), (1, 2, 0, "below_quota"), (1, 2, 1, "below_quota"),
    (2, 2, 0, "covered"), (3, 2, 0, "covered"), (1, 1, 5, "covered"),
])
def test_status_of_a_hamlet(active, quota, pending, status):
    got = rules.statuses(pd.Series([active]), pd.Series([quota], dtype="Int64"), pd.Series([pending]))
    assert got.to_list() == [status]
    assert rules.Status(status).value == status


def test_every_status_has_a_label_and_a_distinct_colour():
    assert set(rules.STATUSES) == set(STATUS_LABELS) == set(STATUS_COLOURS)
    assert len(set(STATUS_COLOURS.values())) == len(rules.STATUSES)
    assert STATUS_COLOURS["vacant"] == "#d73027" and STATUS_COLOURS["covered"] == "#1a9850"


def test_households_per_collaborator_and_days_vacant():
    active = pd.Series([2, 0, 0, 1])
    ratio = rules.households_per_collaborator(pd.Series([300, 90, 0, 7]), active)
    assert ratio.dtype == "Float64" and ratio.iloc[0] == 150.0 and ratio.iloc[3] == 7.0
    assert ratio.isna().to_list() == [False, True, True, False]
    days = rules.days_vacant(active, pd.Series([None, date(2026, 1, 10), "2025-07-01", None], dtype="object"),
                             date(2026, 2, 1))
    assert days.dtype == "Int64" and days.isna().to_list() == [True, False, False, True]
    assert (days.iloc[1], days.iloc[2]) == (22, 215)


@given(st.lists(st.integers(min_value=0, max_value=5000), max_size=50), st.sampled_from(sorted(QUOTA_PRESETS)))
def test_quotas_of_many_hamlets_follow_recruitment_rules(households, preset):
    bands = QUOTA_PRESETS[preset]
    assert rules.quotas(np.array(households, dtype="int64"), bands).tolist() == [quota_for(h, bands) for h in households]
    assert rules.quotas(np.array(households, dtype="int64"), None).tolist() == [-1] * len(households)


@pytest.mark.parametrize("on, months, expected", [
    (date(2026, 2, 1), 3, [date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 1)]),
    (date(2024, 3, 31), 2, [date(2024, 2, 29), date(2024, 3, 31)]),  # leap year; on is the month's end
    (date(2026, 1, 15), 2, [date(2025, 12, 31), date(2026, 1, 15)]),
    (date(2026, 5, 5), 1, [date(2026, 5, 5)]),
])
def test_month_ends(on, months, expected):
    assert rules.month_ends(on, months) == expected


def _frame(rows):
    columns = ("hamlet_id", "commune_id", "province_id", "households", "active", "quota", "pending", "days_vacant",
               "centre_ids")
    frame = pd.DataFrame(rows, columns=columns)
    frame["quota"] = frame["quota"].astype("Int64")
    frame["days_vacant"] = frame["days_vacant"].astype("Int64")
    frame["status"] = rules.statuses(frame["active"], frame["quota"], frame["pending"])
    return frame


def test_aggregates_count_statuses_households_and_old_vacancies():
    frame = _frame([
        (1, 10, 1, 100, 1, 1, 0, None, (7,)),  # covered
        (2, 10, 1, 300, 1, 2, 0, None, (7,)),  # below quota
        (3, 11, 1, 50, 0, 1, 0, 91, (7, 8)),  # vacant for 91 days
        (4, 11, 1, 60, 0, 1, 1, 90, (7, 8)),  # pending for 90 days
        (5, 12, 2, 70, 2, None, 0, None, ()),  # unknown quota, no centre
    ])
    communes = rules.aggregate(frame, "commune").set_index("unit_id")
    assert communes.loc[10, ["hamlets", "covered", "below_quota", "households", "households_covered",
                             "collaborators"]].to_list() == [2, 1, 1, 400, 100, 2]
    assert communes.loc[11, ["vacant", "pending", "vacancies", "vacancies_over_90_days", "pct_covered"]].to_list() \
        == [1, 1, 2, 1, 0.0]
    centres = rules.aggregate(frame, "centre").set_index("unit_id")
    assert list(centres.index) == [7, 8]
    assert (centres.loc[7, "hamlets"], centres.loc[7, "pct_covered"], centres.loc[8, "hamlets"]) == (4, 25.0, 2)
    provinces = rules.aggregate(frame, "province").set_index("unit_id")
    assert (provinces.loc[2, "unknown"], provinces.loc[2, "covered"], provinces.loc[2, "pct_covered"]) == (1, 0, 0.0)
    national = rules.aggregate(frame, "national")
    assert national.iloc[0][["hamlets", "covered", "vacancies", "collaborators"]].to_list() == [5, 1, 2, 4]
    assert national["pct_covered"].iloc[0] == pytest.approx(20.0)
    filtered = rules.aggregate(frame[frame["province_id"] == 1], "centre")  # a filtered frame keeps its index
    assert filtered["hamlets"].to_list() == [4, 2]


def test_oldest_vacancies_first():
    frame = _frame([(1, 10, 1, 100, 0, 1, 0, 5, ()), (2, 10, 1, 100, 0, 1, 0, 400, ()),
                    (3, 10, 1, 100, 1, 1, 0, None, ())])
    frame["full_name"] = ["A", "B", "C"]
    assert rules.oldest_vacancies(frame, 5)["hamlet_id"].to_list() == [2, 1]
    assert rules.oldest_vacancies(frame, 1)["hamlet_id"].to_list() == [2]
