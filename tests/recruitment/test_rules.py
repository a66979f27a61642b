"""The eligibility rules as pure functions: hand-made values and their boundaries (TT 02/2021/TT-BYT
Art. 2; quota presets of Gia Lai and Hải Dương), plus properties of the quota bands."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from danso_network.recruitment import rules
from danso_network.recruitment.models import Education
from danso_network.recruitment.rules import QUOTA_PRESETS, RuleKind

GIA_LAI = QUOTA_PRESETS["gia_lai"]
HAI_DUONG = QUOTA_PRESETS["hai_duong"]
ON = date(2026, 3, 15)


def facts(**overrides) -> rules.Facts:
    values = dict(
        education=Education.LOWER_SECONDARY, date_of_birth=date(1990, 5, 17), residence_hamlet_id=7, hamlet_id=7,
        hamlet_difficult_or_ethnic=False, hamlet_households=250, active_in_hamlet=0, active_elsewhere=0,
        application_signed=True, health_evidence=True, exception_justification="", is_village_health_worker=False,
        speaks_local_language=False, prior_experience=False, resident_months=None, on=ON)
    values.update(overrides)
    return rules.Facts(**values)


def run(f: rules.Facts, **settings) -> dict[str, rules.Result]:
    values = dict(enabled=rules.DEFAULT_ENABLED, bands=GIA_LAI, min_age=18, max_age=None, min_residence_months=None)
    values.update(settings)
    return {r.code: r for r in rules.screen(f, **values)}


# --- the registry -----------------------------------------------------------------------------


def test_every_rule_has_a_label_and_a_source():
    for code, rule in rules.RULES.items():
        assert rule.code == code
        assert str(rule.label) and rule.source
    kinds = {r.kind for r in rules.RULES.values()}
    assert kinds == set(RuleKind)


def test_defaults_switch_on_automatic_and_manual_rules_but_no_extension():
    on = set(rules.DEFAULT_ENABLED)
    assert {"EDU_MIN", "RESIDES_IN_HAMLET", "VOLUNTARY", "HEALTH_OK", "ADULT", "QUOTA", "SINGLE_ACTIVE"} <= on
    assert set(rules.MANUAL_CODES) == {"RESPONSIBLE", "MOBILISES", "TRUSTED", "STABLE_WORK"} <= on
    assert not on & {"MAX_AGE", "MIN_RESIDENCE", "VHW", "LOCAL_LANGUAGE", "EXPERIENCE"}


# --- quota bands ------------------------------------------------------------------------------


@pytest.mark.parametrize(("households", "quota"), [
    (0, 1), (1, 1), (200, 1), (201, 2), (400, 2), (401, 3), (499, 3), (500, 3), (5000, 3)])
def test_gia_lai_bands(households, quota):
    """QĐ 34/2023/QĐ-UBND Gia Lai: ≤200 → 1, 201–400 → 2, >400 → 3."""
    assert rules.quota_for(households, GIA_LAI) == quota


@pytest.mark.parametrize(("households", "quota"), [
    (0, 1), (200, 1), (201, 1), (400, 1), (401, 1), (499, 1), (500, 2), (5000, 2)])
def test_hai_duong_bands(households, quota):
    """Hải Dương: <500 → 1, ≥500 → 2."""
    assert rules.quota_for(households, HAI_DUONG) == quota


def test_quota_is_at_least_one_even_for_odd_bands():
    assert rules.quota_for(10, []) == 1
    assert rules.quota_for(10, [[None, 0]]) == 1
    assert rules.quota_for(900, [[100, 1], [200, 2]]) == 2  # beyond a closed table: the last band


@pytest.mark.parametrize(("active", "households", "ok"), [
    (0, 200, True), (1, 200, False), (1, 201, True), (2, 400, False), (2, 401, True), (3, 401, False)])
def test_quota_check_counts_active_collaborators(active, households, ok):
    result = rules.check_quota(active, households, GIA_LAI)
    assert result.code == "QUOTA" and result.passed is ok
    assert f"{active}/{rules.quota_for(households, GIA_LAI)}" in result.detail


@pytest.mark.parametrize("bands", [GIA_LAI, HAI_DUONG, [[None, 1]], [[50, 1], [51, 2], [None, 4]]])
def test_valid_bands_have_no_problems(bands):
    assert rules.validate_bands(bands) == []


@pytest.mark.parametrize(("bands", "needle"), [
    ([], "ít nhất một bậc"),
    ([[400, 2], [200, 1], [None, 3]], "tăng dần"),
    ([[200, 1], [200, 2], [None, 3]], "tăng dần"),
    ([[200, 1], [400, 2]], "không giới hạn"),
    ([[None, 1], [400, 2], [None, 3]], "Chỉ bậc cuối"),
    ([[200, 0], [None, 2]], "số nguyên ≥ 1"),
    ([[0, 1], [None, 2]], "tăng dần"),
])
def test_invalid_bands_are_explained(bands, needle):
    problems = rules.validate_bands(bands)
    assert problems and any(needle in p for p in problems), problems


@given(st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=5, unique=True),
       st.lists(st.integers(min_value=1, max_value=6), min_size=6, max_size=6),
       st.integers(min_value=0, max_value=20000), st.integers(min_value=0, max_value=20000))
def test_quota_is_at_least_one_and_monotone_in_households(uppers, counts, a, b):
    """Property: for any valid ascending table with non-decreasing counts, a bigger hamlet never
    gets fewer collaborators, and every hamlet gets at least one (TT 02/2021)."""
    uppers = sorted(uppers)
    counts = sorted(counts)[: len(uppers) + 1]
    bands = [[u, c] for u, c in zip(uppers, counts, strict=False)] + [[None, counts[len(uppers)]]]
    assert rules.validate_bands(bands) == []
    low, high = sorted((a, b))
    assert rules.quota_for(low, bands) >= 1
    assert rules.quota_for(low, bands) <= rules.quota_for(high, bands)


@given(st.sampled_from(["gia_lai", "hai_duong"]), st.integers(min_value=0, max_value=100000))
def test_presets_give_one_to_three(preset, households):
    assert 1 <= rules.quota_for(households, QUOTA_PRESETS[preset]) <= 3


# --- education (TT 02/2021 Art. 2.1) ------------------------------------------------------------


@pytest.mark.parametrize("level", [Education.LOWER_SECONDARY, Education.UPPER_SECONDARY, Education.VOCATIONAL,
                                   Education.COLLEGE])
def test_thcs_or_higher_passes_anywhere(level):
    assert rules.check_education(level, False, "").passed is True


@pytest.mark.parametrize(("difficult", "justification", "ok", "needle"), [
    (True, "Ấp không có người tốt nghiệp THCS nhận nhiệm vụ", True, "tập huấn"),
    (True, "", False, "giải trình"),
    (True, "   ", False, "giải trình"),
    (False, "Ấp không có người tốt nghiệp THCS nhận nhiệm vụ", False, "Chưa đạt"),
    (False, "", False, "Chưa đạt"),
])
def test_primary_school_only_with_difficult_hamlet_and_justification(difficult, justification, ok, needle):
    result = rules.check_education(Education.PRIMARY, difficult, justification)
    assert result.passed is ok and needle in result.detail


def test_no_schooling_never_passes_even_with_justification():
    assert rules.check_education(Education.NONE, True, "Giải trình đầy đủ").passed is False


def test_training_before_activation_only_below_thcs():
    assert rules.needs_training_before_activation(Education.PRIMARY)
    assert not rules.needs_training_before_activation(Education.LOWER_SECONDARY)


# --- age, residence, the other automatic rules --------------------------------------------------


@pytest.mark.parametrize(("born", "on", "age"), [
    (date(2008, 3, 15), date(2026, 3, 15), 18),  # the 18th birthday itself
    (date(2008, 3, 16), date(2026, 3, 15), 17),  # one day short
    (date(2008, 2, 29), date(2026, 2, 28), 17),  # born on a leap day
    (date(2008, 2, 29), date(2026, 3, 1), 18),
])
def test_age_on(born, on, age):
    assert rules.age_on(born, on) == age


def test_adult_exactly_eighteen_on_the_day_passes_and_a_day_short_fails():
    assert run(facts(date_of_birth=date(2008, 3, 15)))["ADULT"].passed is True
    assert run(facts(date_of_birth=date(2008, 3, 16)))["ADULT"].passed is False


def test_max_age_only_when_the_extension_is_on():
    old = facts(date_of_birth=date(1960, 1, 1))
    assert "MAX_AGE" not in run(old, max_age=60)  # extension off
    result = run(old, enabled=[*rules.DEFAULT_ENABLED, "MAX_AGE"], max_age=60)["MAX_AGE"]
    assert result.passed is False and "tối đa 60" in result.detail
    assert run(facts(date_of_birth=date(1966, 3, 15)), enabled=[*rules.DEFAULT_ENABLED, "MAX_AGE"],
               max_age=60)["MAX_AGE"].passed is True  # exactly 60 on the day


def test_min_residence_only_when_the_extension_is_on_with_a_value():
    f = facts(resident_months=5)
    assert "MIN_RESIDENCE" not in run(f, min_residence_months=6)
    enabled = [*rules.DEFAULT_ENABLED, "MIN_RESIDENCE"]
    assert run(f, enabled=enabled, min_residence_months=6)["MIN_RESIDENCE"].passed is False
    assert run(replace(f, resident_months=6), enabled=enabled, min_residence_months=6)["MIN_RESIDENCE"].passed
    assert run(replace(f, resident_months=None), enabled=enabled, min_residence_months=6)["MIN_RESIDENCE"].passed \
        is False  # unknown residence start: cannot be confirmed


def test_residence_in_another_hamlet_fails():
    assert rules.check_residence(7, 7).passed is True
    result = rules.check_residence(8, 7)
    assert result.passed is False and "Không cư trú" in result.detail


@pytest.mark.parametrize(("field", "code"), [("application_signed", "VOLUNTARY"), ("health_evidence", "HEALTH_OK")])
def test_missing_signed_letter_or_health_evidence_fails(field, code):
    assert run(facts())[code].passed is True
    assert run(facts(**{field: False}))[code].passed is False


def test_active_elsewhere_fails_single_active():
    assert run(facts(active_elsewhere=1))["SINGLE_ACTIVE"].passed is False
    assert "SINGLE_ACTIVE" not in run(facts(active_elsewhere=1),
                                      enabled=[c for c in rules.DEFAULT_ENABLED if c != "SINGLE_ACTIVE"])


def test_a_rule_switched_off_is_not_checked():
    results = run(facts(education=Education.NONE), enabled=[c for c in rules.DEFAULT_ENABLED if c != "EDU_MIN"])
    assert "EDU_MIN" not in results and rules.passed(list(results.values()))


# --- priority flags and the verdict ---------------------------------------------------------------


@pytest.mark.parametrize("flags", [
    dict(is_village_health_worker=False, speaks_local_language=False, prior_experience=False),
    dict(is_village_health_worker=True, speaks_local_language=True, prior_experience=True)])
def test_priority_flags_are_shown_and_never_block(flags):
    results = run(facts(**flags))
    for code in ("VHW", "LOCAL_LANGUAGE", "EXPERIENCE"):
        assert results[code].passed is None
    assert rules.passed(list(results.values())) is True


def test_priority_flags_say_yes_or_no():
    results = run(facts(is_village_health_worker=True))
    assert results["VHW"].detail == "Có" and results["EXPERIENCE"].detail == "Không"


def test_one_failure_fails_the_screening_and_results_keep_registry_order():
    results = rules.screen(facts(hamlet_households=100, active_in_hamlet=1), enabled=rules.DEFAULT_ENABLED,
                           bands=GIA_LAI, min_age=18, max_age=None, min_residence_months=None)
    assert rules.passed(results) is False
    order = list(rules.RULES)
    assert [order.index(r.code) for r in results] == sorted(order.index(r.code) for r in results)


def test_passed_reads_stored_dicts_too():
    stored = [r.as_dict() for r in rules.screen(facts(), enabled=rules.DEFAULT_ENABLED, bands=GIA_LAI, min_age=18,
                                                max_age=None, min_residence_months=None)]
    assert rules.passed(stored) is True
    stored[0]["passed"] = False
    assert rules.passed(stored) is False
