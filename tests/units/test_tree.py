"""Unit tree queries: descendants, ancestors, as-of dates, codes over time (both databases)."""

from datetime import date

import pytest
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.errors import Conflict, ValidationFailed
from danso_network.units import services
from danso_network.units.models import AdminUnit, UnitLevel

from .. import factories

BEFORE_REFORM = date(2025, 6, 30)


def test_descendants_cover_the_subtree_and_nothing_else(world):
    names = {u.full_name for u in services.descendants(world.dong_nai)}
    assert {"Phường Bình Phước", "Xã Đồng Xoài"} <= names
    assert "Khu phố 1, Phường Bình Phước" in names
    assert not any("Ba Đình" in n for n in names)
    hamlets = services.descendants(world.dong_nai, level=UnitLevel.HAMLET)
    assert len(hamlets) == 4


def test_ancestors_run_from_the_root_to_the_parent(world):
    hamlet = world.hamlets_b[0]
    assert [u.code for u in services.ancestors(hamlet)] == ["75", "25210"]
    assert services.ancestors(world.dong_nai) == []


def test_paths_do_not_confuse_ids_sharing_a_prefix(world):
    # /1/ must not match /12/: the trailing slash is part of every path.
    for unit in services.descendants(world.dong_nai):
        assert unit.path.startswith(world.dong_nai.path)
        assert unit.path.endswith(f"/{unit.id}/")


def test_as_of_shows_units_valid_on_that_day(world):
    old = factories.hamlet(world.commune_a, "Khu phố cũ", type="khu_pho", valid_from=date(2025, 7, 1))
    services.close_unit(old, on=date(2026, 1, 1))
    on_day = [u.name for u in services.children(world.commune_a, as_of=date(2025, 12, 31))]
    after = [u.name for u in services.children(world.commune_a, as_of=date(2026, 1, 1))]
    before_creation = services.children(world.commune_a, as_of=BEFORE_REFORM)
    assert "Khu phố cũ" in on_day
    assert "Khu phố cũ" not in after
    assert before_creation == []


def test_a_closed_code_is_never_given_to_another_unit(world):
    """QĐ 124/2004/QĐ-TTg: a code is never shared at once, and a closed code is never reused."""
    old = factories.province(code="70", name="Bình Phước", full_name="Tỉnh Bình Phước", type="tinh",
                             valid_from=date(2020, 1, 1))
    with pytest.raises(Conflict, match="đang được"):
        factories.province(code="70", name="X", full_name="Tỉnh X", type="tinh", valid_from=date(2024, 1, 1))
    services.close_unit(old, on=date(2025, 7, 1))
    with pytest.raises(Conflict, match="không được cấp cho đơn vị khác"):
        factories.province(code="70", name="Mới", full_name="Tỉnh Mới", type="tinh", valid_from=date(2025, 7, 1))
    assert services.find_unit_by_code("70", as_of=BEFORE_REFORM) == old
    assert services.find_unit_by_code("70") is None


def test_the_unit_that_continues_a_closed_one_keeps_its_code(world):
    """A merger keeps the code of the new seat (QĐ 124/2004/QĐ-TTg): the continuing unit may
    take the code from the day its predecessor closed, never before."""
    old = factories.province(code="70", name="Bình Phước", full_name="Tỉnh Bình Phước", type="tinh",
                             valid_from=date(2020, 1, 1))
    services.close_unit(old, on=date(2025, 7, 1))
    with pytest.raises(Conflict, match="đang được"):
        factories.province(code="70", name="Sớm", full_name="Tỉnh Sớm", type="tinh", valid_from=date(2025, 1, 1),
                           keeps_code_of=old)
    new = factories.province(code="70", name="Mới", full_name="Tỉnh Mới", type="tinh", valid_from=date(2025, 7, 1),
                             keeps_code_of=old)
    assert services.find_unit_by_code("70", as_of=BEFORE_REFORM) == old
    assert services.find_unit_by_code("70") == new


def test_closing_a_unit_with_open_children_is_refused(world):
    with pytest.raises(Conflict, match="đơn vị trực thuộc"):
        services.close_unit(world.commune_a, on=date(2026, 1, 1))
    assert world.commune_a.valid_to is None


def test_close_date_must_follow_the_start(world):
    with pytest.raises(ValidationFailed):
        services.close_unit(world.hamlets_a[0], on=date(2025, 7, 1))


def test_hamlet_type_must_suit_the_commune_type(world):
    # A "khu phố" belongs under a phường, an "ấp" under a xã (Thông tư 04/2012/TT-BNV).
    with pytest.raises(ValidationFailed, match="04/2012"):
        factories.hamlet(world.commune_b, "Khu phố 9", type="khu_pho")
    with pytest.raises(ValidationFailed):
        factories.hamlet(world.commune_a, "Ấp 9", type="ap")


def test_hamlets_get_local_ids_not_codes(world):
    h = factories.hamlet(world.commune_b, "Ấp 3")
    assert h.code is None
    assert h.local_id == "003"


def test_duplicate_hamlet_name_in_a_commune_is_refused(world):
    with pytest.raises(Conflict):
        factories.hamlet(world.commune_b, "ấp 2")


def test_counts_sum_hamlet_households(world):
    counts = services.subtree_counts(world.dong_nai)
    assert counts.hamlets == 4
    assert counts.households == 180 + 420 + 300 + 90
    stats = services.child_stats(world.dong_nai)
    assert stats[world.commune_a.id] == (2, 600, 2400)


def test_every_change_writes_an_audit_event(world):
    before = _audit_count()
    h = factories.hamlet(world.commune_b, "Ấp 7")
    services.update_unit(h, households=321)
    services.close_unit(h, on=date(2026, 2, 1))
    actions = [e.action for e in _audit_events()[-3:]]
    assert _audit_count() == before + 3
    assert actions == ["unit.create", "unit.update", "unit.close"]
    update = _audit_events()[-2]
    assert update.before == {"households": 250} and update.after == {"households": 321}


def test_audit_events_cannot_be_edited_or_deleted(world):
    from danso_network.audit.models import AppendOnlyError
    from danso_network.extensions import db

    event = _audit_events()[-1]
    event.action = "tampered"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    event = _audit_events()[-1]
    db.session.delete(event)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_database_refuses_a_hamlet_with_a_code(world):
    from sqlalchemy.exc import IntegrityError

    from danso_network.extensions import db

    db.session.begin_nested()
    world.hamlets_a[0].code = "99999"
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def _audit_events():
    from danso_network.extensions import db

    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _audit_count():
    from danso_network.extensions import db

    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_search_is_diacritics_insensitive_and_scoped(world):
    everywhere = [world.dong_nai.path, world.hanoi.path]
    for query in ["dong xoai", "ĐỒNG XOÀI", "Dong   Xoai", "đồng xoài"]:
        assert [u.code for u in services.search_units(query, everywhere)] == ["25210"]
    assert services.search_units("dong xoai", [world.commune_a.path]) == []
    assert services.search_units("", everywhere) == []
    assert [u.code for u in services.search_units("2519", everywhere)] == ["25195"]
    assert services.search_units("%", everywhere) == []


def test_unit_count_is_stable(world):
    from danso_network.extensions import db

    assert db.session.scalar(select(func.count()).select_from(AdminUnit)) == 2 + 3 + 5
