"""Properties of the eligibility screening (``recruitment.rules.screen``) over any candidate and
any province settings, beyond tests/recruitment/test_rules.py: every candidate gets a verdict
(never an exception), in the registry's order, and the verdict moves the right way when one fact
changes — older than the maximum age, younger than the minimum, a hamlet at its quota, less
schooling or a shorter residence never turn a failure into a pass."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from danso_network.recruitment import rules
from danso_network.recruitment.models import Education

from .conftest import FUZZ

ON = date(2026, 3, 15)
# The order screens show: the registry's, with each age limit beside the other and the priority
# flags last (``screen`` puts MAX_AGE right after ADULT, MIN_RESIDENCE after the automatic rules).
SCREEN_ORDER = ["EDU_MIN", "RESIDES_IN_HAMLET", "VOLUNTARY", "HEALTH_OK", "ADULT", "MAX_AGE", "QUOTA",
                "SINGLE_ACTIVE", "MIN_RESIDENCE", "VHW", "LOCAL_LANGUAGE", "EXPERIENCE"]

facts = st.builds(
    rules.Facts,
    education=st.sampled_from(list(Education)),
    date_of_birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    residence_hamlet_id=st.integers(1, 5), hamlet_id=st.integers(1, 5),
    hamlet_difficult_or_ethnic=st.booleans(), hamlet_households=st.integers(0, 10**6),
    active_in_hamlet=st.integers(0, 50), active_elsewhere=st.integers(0, 3),
    application_signed=st.booleans(), health_evidence=st.booleans(),
    exception_justification=st.text(max_size=20), is_village_health_worker=st.booleans(),
    speaks_local_language=st.booleans(), prior_experience=st.booleans(),
    resident_months=st.one_of(st.none(), st.integers(0, 1200)),
    on=st.dates(min_value=date(2021, 3, 10), max_value=date(2100, 12, 31)),
)


@st.composite
def bands(draw):
    """A band table as a province may save it (validate_bands' rules), or an odd one."""
    uppers = sorted(draw(st.lists(st.integers(1, 5000), unique=True, max_size=4)))
    counts = sorted(draw(st.lists(st.integers(1, 6), min_size=len(uppers) + 1, max_size=len(uppers) + 1)))
    table = [[u, c] for u, c in zip(uppers, counts, strict=False)] + [[None, counts[-1]]]
    return draw(st.sampled_from([table, table, rules.QUOTA_PRESETS["gia_lai"], rules.QUOTA_PRESETS["hai_duong"],
                                 [], [[None, 0]], [[100, 1], [200, 2]]]))


@st.composite
def province_settings(draw):
    min_age = draw(st.integers(0, 30))
    return dict(enabled=draw(st.lists(st.sampled_from(list(rules.RULES)), unique=True)), bands=draw(bands()),
                min_age=min_age, max_age=draw(st.one_of(st.none(), st.integers(min_age, 120))),
                min_residence_months=draw(st.one_of(st.none(), st.integers(0, 240))))


def by_code(f: rules.Facts, s: dict) -> dict[str, rules.Result]:
    return {r.code: r for r in rules.screen(f, **s)}


@settings(FUZZ, max_examples=300)
@given(facts, province_settings())
def test_every_candidate_gets_a_verdict_in_one_order(f, s):
    """Any facts and settings: a result per enabled automatic rule (always in the same order,
    each with a Vietnamese detail), the three priority flags that never block, and a verdict."""
    results = rules.screen(f, **s)
    codes = [r.code for r in results]
    assert codes == sorted(codes, key=SCREEN_ORDER.index)
    assert len(codes) == len(set(codes))
    assert set(codes) - {"VHW", "LOCAL_LANGUAGE", "EXPERIENCE"} <= set(s["enabled"])
    for r in results:
        assert r.detail.strip()
        assert (r.passed is None) is (rules.RULES[r.code].kind == rules.RuleKind.PRIORITY)
    verdict = rules.passed(results)
    assert verdict is all(r.passed is not False for r in results)
    assert rules.passed([r.as_dict() for r in results]) is verdict


@settings(FUZZ, max_examples=200)
@given(facts, province_settings(), st.integers(1, 80))
def test_older_than_the_maximum_age_never_passes(f, s, years_over):
    """With the MAX_AGE extension on, a candidate past the maximum fails it, and the screening."""
    assume(s["max_age"] is not None)
    s = {**s, "enabled": sorted({*s["enabled"], "ADULT", "MAX_AGE"})}
    born_year = f.on.year - s["max_age"] - years_over
    assume(born_year >= 1900)
    f = replace(f, date_of_birth=date(born_year, 1, 1))
    assume(rules.age_on(f.date_of_birth, f.on) > s["max_age"])
    results = by_code(f, s)
    assert results["MAX_AGE"].passed is False
    assert not rules.passed(list(results.values()))


@settings(FUZZ, max_examples=200)
@given(facts, province_settings())
def test_younger_than_the_minimum_age_never_passes(f, s):
    s = {**s, "enabled": sorted({*s["enabled"], "ADULT"}), "min_age": max(s["min_age"], 1)}
    assume(rules.age_on(f.date_of_birth, f.on) < s["min_age"])
    assert by_code(f, s)["ADULT"].passed is False


@settings(FUZZ, max_examples=200)
@given(facts, province_settings(), st.integers(0, 20))
def test_a_hamlet_at_its_quota_never_takes_another(f, s, more):
    s = {**s, "enabled": sorted({*s["enabled"], "QUOTA"})}
    quota = rules.quota_for(f.hamlet_households, s["bands"])
    f = replace(f, active_in_hamlet=quota + more)
    assert by_code(f, s)["QUOTA"].passed is False


@settings(FUZZ, max_examples=200)
@given(facts, province_settings(), st.sampled_from(list(Education)), st.integers(0, 20))
def test_a_change_for_the_worse_never_turns_a_failure_into_a_pass(f, s, lower, fewer_months):
    """Less schooling, more collaborators already active, a shorter residence, an older
    candidate: whatever failed still fails."""
    assume(lower.rank <= f.education.rank)
    before = by_code(f, s)
    worse = replace(f, education=lower, active_in_hamlet=f.active_in_hamlet + 1,
                    resident_months=None if f.resident_months is None else max(0, f.resident_months - fewer_months))
    after = by_code(worse, s)
    for code in ("EDU_MIN", "QUOTA", "MIN_RESIDENCE"):
        if code in before and before[code].passed is False:
            assert after[code].passed is False, code
    if not rules.passed(list(before.values())):
        failed = {c for c, r in before.items() if r.passed is False and c in ("EDU_MIN", "QUOTA", "MIN_RESIDENCE")}
        assert failed <= {c for c, r in after.items() if r.passed is False}
