"""Setting a commune's annual targets: who may, the bounds (service and database), versions in
force on a date, corrections, the audit trail; and judging targets against figures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from danso_network.audit.models import AuditEvent
from danso_network.common import clock
from danso_network.errors import PermissionDenied, ValidationFailed
from danso_network.extensions import db
from danso_network.targets import services
from danso_network.targets.models import CommuneTarget
from danso_network.targets.services import Targets, Verdict, judge

from .conftest import AFTER_YEAR, YEAR

JAN = date(YEAR, 1, 1)
JUNE = date(YEAR, 6, 1)
FULL = {"hamlets_covered_pct": "50", "collaborators_trained": 3, "supervision_visits": 4,
        "meeting_attendance_pct": Decimal("80.0")}


def _set(world, commune=None, values=None, *, who="centre", valid_from=JAN, **kw):
    return services.set_targets(commune or world.commune_a, YEAR, FULL if values is None else values,
                                actor=world.users[who], valid_from=valid_from, **kw)


def _versions(commune) -> list[CommuneTarget]:
    return list(db.session.scalars(select(CommuneTarget).where(CommuneTarget.commune_id == commune.id)
                                   .order_by(CommuneTarget.valid_from)))


# --- who may ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "centre"])
def test_the_province_and_the_serving_centre_set_targets(world, who):
    version = _set(world, world.commune_b, who=who, source="KH 123/KH-TTYT")
    assert (version.hamlets_covered_pct, version.collaborators_trained) == (Decimal("50.0"), 3)
    assert version.set_by_id == world.users[who].id and version.source == "KH 123/KH-TTYT"
    if who == "admin":  # a grant at the province unit
        assert (version.set_by_role, version.set_by_unit_id, version.set_by_facility_id) == (
            "province_admin", world.dong_nai.id, None)
    else:  # a grant at the centre, which serves the commune
        assert (version.set_by_role, version.set_by_unit_id, version.set_by_facility_id) == (
            "centre_officer", None, world.centre.id)
        assert version.setter_name == world.centre.name


@pytest.mark.parametrize("who", ["head_a", "officer_a", "viewer_b", "hanoi_admin", "nogrant"])
def test_stations_viewers_and_other_provinces_cannot(world, who):
    commune = world.commune_b if who == "viewer_b" else world.commune_a
    with pytest.raises(PermissionDenied):
        _set(world, commune, who=who)
    assert _versions(commune) == []


def test_the_centre_cannot_replace_what_the_province_set_but_the_province_replaces_the_centre(world):
    _set(world, who="admin")
    with pytest.raises(PermissionDenied, match="Sở Y tế giao"):
        _set(world, who="centre", valid_from=JUNE)
    other = _set(world, world.commune_b, who="centre")
    replaced = _set(world, world.commune_b, who="admin", valid_from=JUNE)
    assert other.valid_to == JUNE and replaced.set_by_role == "province_admin"


def test_only_communes_get_targets(world):
    with pytest.raises(ValidationFailed, match="từng xã"):
        services.set_targets(world.hamlets_a[0], YEAR, FULL, actor=world.users["admin"], valid_from=JAN)


# --- bounds -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value", "message"), [
    ("hamlets_covered_pct", "100.1", "từ 0 đến 100"),
    ("hamlets_covered_pct", -1, "từ 0 đến 100"),
    ("meeting_attendance_pct", "92.55", "một chữ số thập phân"),
    ("meeting_attendance_pct", "abc", "phải là một số"),
    ("meeting_attendance_pct", "NaN", "phải là một số"),
    ("collaborators_trained", 10_000, "từ 0 đến 9.999"),
    ("supervision_visits", -3, "từ 0 đến 9.999"),
    ("supervision_visits", "2.5", "số nguyên"),
    ("collaborators_trained", True, "không hợp lệ"),
])
def test_numbers_out_of_bounds_are_refused_beside_their_field(world, field, value, message):
    with pytest.raises(ValidationFailed, match=message) as refused:
        _set(world, values={**FULL, field: value})
    assert refused.value.field == field
    assert _versions(world.commune_a) == []


def test_a_decimal_comma_and_the_bounds_themselves_are_accepted(world):
    version = _set(world, values={"hamlets_covered_pct": "92,5", "meeting_attendance_pct": 100,
                                  "collaborators_trained": 0, "supervision_visits": "9999"})
    assert (version.hamlets_covered_pct, version.meeting_attendance_pct) == (Decimal("92.5"), Decimal("100.0"))
    assert (version.collaborators_trained, version.supervision_visits) == (0, 9999)


def test_at_least_one_target_and_no_unknown_one(world):
    with pytest.raises(ValidationFailed, match="ít nhất một chỉ tiêu"):
        _set(world, values={"hamlets_covered_pct": None, "collaborators_trained": ""})
    with pytest.raises(ValidationFailed, match="không hợp lệ: births"):
        _set(world, values={**FULL, "births": 3})


def test_a_target_left_empty_is_not_set(world):
    version = _set(world, values={"supervision_visits": 12})
    assert version.hamlets_covered_pct is None and version.meeting_attendance_pct is None
    targets = services.targets_for([world.commune_a.id], YEAR)[world.commune_a.id]
    assert targets.supervision_visits == 12 and targets.collaborators_trained is None


@pytest.mark.parametrize(("valid_from", "message"), [
    (date(YEAR - 1, 12, 31), "trong năm 2026"),
    (date(YEAR + 1, 1, 1), "trong năm 2026"),
])
def test_the_first_day_lies_within_the_year(world, valid_from, message):
    with pytest.raises(ValidationFailed, match=message) as refused:
        _set(world, valid_from=valid_from)
    assert refused.value.field == "valid_from"


def test_not_before_the_commune_came_into_force(world):
    # The communes of the world exist from 1/7/2025 (the reform).
    with pytest.raises(ValidationFailed, match="01/07/2025") as refused:
        services.set_targets(world.commune_a, 2025, FULL, actor=world.users["centre"], valid_from=date(2025, 1, 1))
    assert refused.value.field == "valid_from"
    version = services.set_targets(world.commune_a, 2025, FULL, actor=world.users["centre"],
                                   valid_from=date(2025, 7, 1))
    assert version.year == 2025


@pytest.mark.parametrize("year", [2020, clock.today().year + 3, "2026", True])
def test_the_year_is_bounded(world, year):
    with pytest.raises(ValidationFailed, match="Năm giao chỉ tiêu") as refused:
        services.set_targets(world.commune_a, year, FULL, actor=world.users["centre"], valid_from=JAN)
    assert refused.value.field == "year"


@pytest.mark.parametrize(("column", "value"), [
    ("hamlets_covered_pct", Decimal("100.5")), ("meeting_attendance_pct", Decimal("-0.1")),
    ("collaborators_trained", 10_000), ("supervision_visits", -1), ("year", 2020), ("year", 2101),
])
def test_the_database_holds_the_bounds_too(world, column, value):
    row = CommuneTarget(commune_id=world.commune_a.id, year=YEAR, valid_from=JAN, created_at=datetime.now(UTC))
    setattr(row, column, value)
    savepoint = db.session.begin_nested()
    db.session.add(row)
    with pytest.raises(IntegrityError):
        db.session.flush()
    savepoint.rollback()


def test_the_database_keeps_one_open_version_per_commune_and_year(world):
    _set(world)
    savepoint = db.session.begin_nested()
    db.session.add(CommuneTarget(commune_id=world.commune_a.id, year=YEAR, valid_from=JUNE, supervision_visits=1,
                                 created_at=datetime.now(UTC)))
    with pytest.raises(IntegrityError):
        db.session.flush()
    savepoint.rollback()


# --- versions ---------------------------------------------------------------------------------------


def test_a_change_in_june_keeps_the_january_version_for_history(world):
    first = _set(world)
    second = _set(world, values={**FULL, "supervision_visits": 6}, valid_from=JUNE)
    assert [v.id for v in _versions(world.commune_a)] == [first.id, second.id]
    assert (first.valid_from, first.valid_to, second.valid_to) == (JAN, JUNE, None)
    ids = [world.commune_a.id]
    assert services.targets_for(ids, YEAR, date(YEAR, 5, 31))[world.commune_a.id].supervision_visits == 4
    assert services.targets_for(ids, YEAR, JUNE)[world.commune_a.id].supervision_visits == 6
    # A past year answers with the version in force on its last day; a year not started with its first day's.
    assert services.targets_for(ids, YEAR, AFTER_YEAR)[world.commune_a.id].version_id == second.id
    assert services.targets_for(ids, YEAR, date(YEAR - 1, 10, 1))[world.commune_a.id].version_id == first.id
    assert [v.id for v in services.versions(world.commune_a, YEAR)] == [second.id, first.id]


def test_history_is_never_rewritten_backwards(world):
    _set(world, valid_from=JUNE)
    with pytest.raises(ValidationFailed, match="01/06/2026") as refused:
        _set(world, valid_from=date(YEAR, 3, 1))
    assert refused.value.field == "valid_from" and len(_versions(world.commune_a)) == 1


def test_a_version_of_the_same_day_corrects_the_latest_one(world):
    first = _set(world)
    corrected = _set(world, values={**FULL, "collaborators_trained": 5}, valid_from=JAN, note="Sửa lỗi nhập")
    assert corrected.id == first.id and corrected.collaborators_trained == 5 and corrected.note == "Sửa lỗi nhập"
    assert len(_versions(world.commune_a)) == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "targets.correct"))
    assert event.before["collaborators_trained"] == 3 and event.after["collaborators_trained"] == 5


def test_targets_of_other_years_and_communes_are_apart(world):
    _set(world)
    services.set_targets(world.commune_a, YEAR + 1, {"supervision_visits": 9}, actor=world.users["centre"],
                         valid_from=date(YEAR + 1, 1, 1))
    found = services.targets_for([world.commune_a.id, world.commune_b.id], YEAR, AFTER_YEAR)
    assert found[world.commune_a.id].supervision_visits == 4
    assert found[world.commune_b.id] == Targets(world.commune_b.id, YEAR) and not found[world.commune_b.id].any_set
    assert services.years_with_targets(world.commune_a) == [YEAR + 1, YEAR]


def test_every_setting_is_audited_with_the_version_it_closes(world):
    first = _set(world, source="KH 123/KH-TTYT")
    second = _set(world, valid_from=JUNE, who="admin")
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "CommuneTarget")
                                     .order_by(AuditEvent.id)))
    assert [e.action for e in events] == ["targets.set", "targets.set"]
    assert events[0].unit_path == world.commune_a.path and events[0].actor_name == "ttyt689"
    assert events[0].after["source"] == "KH 123/KH-TTYT" and events[0].before is None
    assert events[1].before == {"closed": {"id": first.id, "valid_from": JAN.isoformat(), "valid_to": None}}
    assert events[1].object_id == str(second.id) and events[1].actor_name == "admin75"


def test_a_refusal_writes_nothing(world):
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(ValidationFailed):
        _set(world, values={**FULL, "hamlets_covered_pct": 120})
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


# --- judging ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "actual", "verdict"), [
    (None, 5, Verdict.NOT_SET),
    (None, None, Verdict.NOT_SET),
    (4, 4, Verdict.MET),
    (4, 5, Verdict.MET),
    (4, 3, Verdict.NOT_MET),
    (Decimal("90.0"), Decimal("90.0"), Verdict.MET),
    (Decimal("90.0"), Decimal("89.9"), Verdict.NOT_MET),
    (Decimal("0"), 0, Verdict.MET),
    (Decimal("50"), None, Verdict.NOT_MET),  # no hamlet, no meeting: a figure that cannot meet a target
])
def test_judge(target, actual, verdict):
    assert judge(target, actual) == verdict


def test_a_scorecard_judges_each_target_and_the_commune(world, year_world):
    # Commune A's 2026 (conftest): 50.0 % covered, 2 trained, 4 visits, 60.0 % attendance.
    _set(world, values={"hamlets_covered_pct": 50, "collaborators_trained": 3, "supervision_visits": 4})
    card = services.scorecards([world.commune_a.id], YEAR, AFTER_YEAR)[world.commune_a.id]
    assert [(line.kind.value, line.verdict) for line in card.lines] == [
        ("hamlets_covered_pct", "met"), ("collaborators_trained", "not_met"), ("supervision_visits", "met"),
        ("meeting_attendance_pct", "not_set")]
    assert card.verdict == Verdict.NOT_MET and card.met == 2 and len(card.set_lines) == 3 and card.final
    nothing = services.scorecards([world.commune_b.id], YEAR, AFTER_YEAR)[world.commune_b.id]
    assert nothing.verdict == Verdict.NOT_SET


def test_the_area_summary_counts_communes_meeting_every_target(world, year_world):
    _set(world, values={"supervision_visits": 4, "meeting_attendance_pct": 60})  # A: both met
    _set(world, world.commune_b, values={"collaborators_trained": 2})  # B: 1 trained, not met
    prefixes = [world.dong_nai.path]
    summary = services.area_summary(prefixes, YEAR, AFTER_YEAR)
    assert (summary.met, summary.judged, summary.not_met, summary.final) == (1, 2, 1, True)
    assert services.area_summary([world.hanoi.path], YEAR, AFTER_YEAR).judged == 0
    page = services.area_page(prefixes, YEAR, AFTER_YEAR, per_page=1)
    assert page.total == 2 and len(page.items) == 1


def test_the_dashboard_panel_is_a_scorecard_for_a_commune_and_a_summary_above(world, year_world):
    _set(world, values={"supervision_visits": 4})
    one = services.dashboard_targets([world.commune_a.path], AFTER_YEAR)
    assert one.card is not None and one.unit_id == world.commune_a.id and one.year == AFTER_YEAR.year
    area = services.dashboard_targets([world.commune_a.path, world.commune_b.path], date(YEAR, 12, 1))
    assert area.card is None and (area.summary.met, area.summary.judged) == (1, 1) and not area.summary.final
    assert services.dashboard_targets([], AFTER_YEAR) is None
