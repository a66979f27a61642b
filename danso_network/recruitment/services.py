"""Recruitment actions: criteria versions, vacancies, applications and their transitions,
recognition decisions. One function per action: guard → change → record history → flush.
Never commits (DESIGN.md §4)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import wraps

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, and_, case, cast, exists, func, literal, null, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import aliased, defer, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..audit.services import record, snapshot
from ..auth.models import Role, User
from ..auth.permissions import scope_of
from ..collaborators.models import Assignment, Collaborator
from ..common import clock
from ..common.dates import check_effective_date
from ..common.paging import PER_PAGE, Page, clamp
from ..errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..textnorm import fold, is_ascii_digits
from ..training.services import completed_population_training
from ..units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from ..units.services import bytewise, in_areas, is_postgresql, province_id_of, province_of, valid_on
from . import rules
from .models import (
    DOSSIER_ITEMS,
    Application,
    ApplicationEvent,
    Candidate,
    CriteriaSet,
    Education,
    RecognitionDecision,
    Sex,
)
from .workflow import (
    FINAL_STATES,
    Action,
    Approver,
    State,
    actions_from,
    allowed_roles,
    approver_roles,
    target_state,
)

CCCD_RE = re.compile(r"^[0-9]{12}$")  # ASCII digits only: \d would take any script's digits
PHONE_RE = re.compile(r"^(0[0-9]{9,10}|\+84[0-9]{9,10})$")
OVERRIDE_FLAG = "override"
APPROVER_ROLES = frozenset().union(*(approver_roles(a) for a in Approver))  # who may approve somewhere


DUPLICATE_RACE = _l("Số CCCD hoặc số quyết định vừa được người khác ghi. Vui lòng tải lại trang và kiểm tra.")
CONCURRENT_CHANGE = _l("Hồ sơ vừa được người khác xử lý. Vui lòng tải lại trang để xem trạng thái mới.")


def guard_concurrent_change(service):
    """A version clash may surface at any flush, including an autoflush before a lazy load (e.g.
    ``application.candidate``) or a handler's own flush: it always means someone acted on the
    same application first, and is always refused as :class:`Conflict`."""

    @wraps(service)
    def guarded(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except StaleDataError:
            raise Conflict(CONCURRENT_CHANGE) from None
        except OperationalError as e:
            if "database is locked" not in str(e):  # SQLite's way of saying the same thing
                raise
            raise Conflict(CONCURRENT_CHANGE) from None

    return guarded


def guard_duplicate_race(service):
    """A unique key (CCCD, decision number) taken by someone else between the service's own
    check and its write is the same refusal as the check, seen later: Conflict, not a 500."""

    @wraps(service)
    def guarded(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except IntegrityError:
            raise Conflict(DUPLICATE_RACE) from None

    return guarded


def _actor_name(actor) -> str:
    return getattr(actor, "username", None) or "hệ thống"


# --- criteria ---------------------------------------------------------------------------------


def criteria_for(province: AdminUnit, on: date | None = None) -> CriteriaSet | None:
    """The version in force on a date: the latest whose ``valid_from`` is on or before it."""
    on = on or clock.today()
    return db.session.scalar(
        select(CriteriaSet).where(CriteriaSet.province_id == province.id, CriteriaSet.valid_from <= on)
        .order_by(CriteriaSet.valid_from.desc(), CriteriaSet.version.desc()).limit(1))


def no_criteria(province: AdminUnit) -> Conflict:
    """The one refusal of whatever needs criteria (nominating, screening, any transition) in a
    province with no version in force: it names the province and sends its admin to the criteria
    page. No other province's bands or approver stand in (issue #9 item 12)."""
    return Conflict(_l("%(p)s chưa ban hành bộ tiêu chuẩn tuyển chọn CTV đang có hiệu lực; quản trị viên cấp tỉnh "
                       "cần thiết lập tại trang Tiêu chuẩn trước khi tiếp tục.", p=province.full_name))


def require_criteria(province: AdminUnit, on: date | None = None) -> CriteriaSet:
    """The version in force on ``on``, or :func:`no_criteria`'s refusal (409 in the API)."""
    found = criteria_for(province, on)
    if found is None:
        raise no_criteria(province)
    return found


def provinces_without_criteria(prefixes: Sequence[str], on: date) -> list[AdminUnit]:
    """The provinces of the areas (unit paths) with no criteria version in force on ``on``: their
    hamlets' quotas are unknown that day (pages say so and link their admin to the criteria page)."""
    ids = {province_id_of(p) for p in prefixes}
    missing = {i for i, bands in bands_in_force(ids, on).items() if bands is None}
    if not missing:
        return []
    return list(db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_(missing)).order_by(AdminUnit.code)))


def criteria_versions(province: AdminUnit) -> list[CriteriaSet]:
    return list(db.session.scalars(select(CriteriaSet).where(CriteriaSet.province_id == province.id)
                                   .order_by(CriteriaSet.version.desc())))


CRITERIA_FIELDS = ["version", "valid_from", "quota_preset", "quota_bands", "approver", "min_age", "max_age",
                   "min_residence_months", "single_active_assignment", "allow_override", "enabled_rules", "note",
                   "is_illustrative"]


def create_criteria_version(province: AdminUnit, *, valid_from: date, quota_bands, approver: Approver,
                            min_age: int = 18, max_age: int | None = None, min_residence_months: int | None = None,
                            single_active_assignment: bool = True, allow_override: bool = False,
                            enabled_rules: Sequence[str] | None = None, quota_preset: str = "custom",
                            name: str | None = None, note: str | None = None, is_illustrative: bool = False,
                            actor=None) -> CriteriaSet:
    """Add a new version of a province's criteria from ``valid_from``. Earlier versions are never
    changed, so applications screened under them keep their results (issue #3). A new version must
    start after the latest, so ``valid_from`` is bounded (``common.dates``: from TT 02/2021/TT-BYT
    coming into force to two years ahead): a year-9999 version would block every later one.
    ``is_illustrative``: no document of the province was seen for its bands or approver (demo data),
    labelled so on every page (issue #9 item 13)."""
    if province.level != UnitLevel.PROVINCE:
        raise ValidationFailed(_l("Bộ tiêu chuẩn được ban hành cho cấp tỉnh."))
    problems = rules.validate_bands(quota_bands)
    if min_age < 15 or min_age > 60:
        problems.append(str(_l("Tuổi tối thiểu phải trong khoảng 15–60.")))
    if max_age is not None and max_age <= min_age:
        problems.append(str(_l("Tuổi tối đa phải lớn hơn tuổi tối thiểu.")))
    enabled = list(enabled_rules if enabled_rules is not None else rules.DEFAULT_ENABLED)
    unknown = [c for c in enabled if c not in rules.RULES]
    if unknown:
        problems.append(str(_l("Mã tiêu chí không hợp lệ: %(c)s.", c=", ".join(unknown))))
    if "MAX_AGE" in enabled and max_age is None:
        problems.append(str(_l("Bật tiêu chí tuổi tối đa thì phải nhập tuổi tối đa.")))
    if "MIN_RESIDENCE" in enabled and not min_residence_months:
        problems.append(str(_l("Bật tiêu chí thời gian cư trú thì phải nhập số tháng tối thiểu.")))
    if problems:
        raise ValidationFailed(problems[0], problems=problems)
    check_effective_date(valid_from)
    latest = db.session.scalar(select(CriteriaSet).where(CriteriaSet.province_id == province.id)
                               .order_by(CriteriaSet.version.desc()).limit(1))
    if latest is not None and valid_from <= latest.valid_from:
        raise ValidationFailed(_l("Phiên bản mới phải có hiệu lực sau ngày %(d)s của phiên bản %(v)d.",
                                  d=latest.valid_from.strftime("%d/%m/%Y"), v=latest.version), field="valid_from")
    version = (latest.version + 1) if latest else 1
    criteria = CriteriaSet(
        province_id=province.id, version=version, valid_from=valid_from,
        name=name or f"Tiêu chuẩn CTV dân số {province.full_name} (phiên bản {version})",
        legal_basis="Thông tư 02/2021/TT-BYT, Điều 2", quota_bands=[list(b) for b in quota_bands],
        quota_preset=quota_preset, approver=Approver(approver).value, min_age=min_age, max_age=max_age,
        min_residence_months=min_residence_months, single_active_assignment=single_active_assignment,
        allow_override=allow_override, enabled_rules=enabled, note=note, is_illustrative=bool(is_illustrative),
        created_at=clock.now(),
        created_by_id=getattr(actor, "id", None))
    db.session.add(criteria)
    db.session.flush()
    record("criteria.create", criteria, label=criteria.name, unit_path=province.path,
           after=snapshot(criteria, CRITERIA_FIELDS), actor=actor)
    return criteria


# --- quota and vacancies ----------------------------------------------------------------------

def _open_on(day: date):
    return and_(Assignment.started_on <= day, or_(Assignment.ended_on.is_(None), Assignment.ended_on > day))


def active_collaborators(hamlet_id: int, on: date | None = None) -> int:
    day = on or clock.today()
    return db.session.scalar(select(func.count()).select_from(Assignment)
                             .where(Assignment.hamlet_id == hamlet_id, _open_on(day))) or 0


def in_force_by_province(province_ids: Iterable[int], on: date, column) -> dict[int, object]:
    """``column`` of each province's criteria version in force on ``on`` (the last one, by
    ``valid_from`` then version, starting on or before ``on``: :func:`criteria_for`), in one
    query; a province without one is left out."""
    ids = set(province_ids)
    found: dict[int, object] = {}
    if ids:
        rows = db.session.execute(
            select(CriteriaSet.province_id, column)
            .where(CriteriaSet.province_id.in_(ids), CriteriaSet.valid_from <= on)
            .order_by(CriteriaSet.province_id, CriteriaSet.valid_from, CriteriaSet.version))
        for province_id, value in rows:  # ascending: the version in force comes last
            found[province_id] = value
    return found


def bands_in_force(province_ids: Iterable[int], on: date) -> dict[int, list | None]:
    """The quota bands of each province's criteria version in force on ``on``; None for a
    province without one: its quotas are unknown, never another province's (quotas are
    provincial decisions, DOMAIN.md §3.1)."""
    ids = set(province_ids)
    found = in_force_by_province(ids, on, CriteriaSet.quota_bands)
    return {i: found.get(i) for i in ids}


def _band_case(households, bands):
    """:func:`rules.quota_for` as SQL over a households column, for one band table."""
    whens, default = [], None
    for upper, count in bands:
        if upper is None:
            default = max(1, int(count))
            break
        whens.append((households <= upper, max(1, int(count))))
    if default is None:
        default = max(1, int(bands[-1][1])) if bands else 1
    return case(*whens, else_=literal(default)) if whens else literal(default)


UNKNOWN_QUOTA = cast(null(), Integer)  # a province without criteria in force: no quota


def quota_sql(households, path, bands_by_province: dict[int, list | None]):
    """SQL for a hamlet's quota: :func:`rules.quota_for` of its households with the bands of
    its province (the first segment of its ``path``), NULL where the province has no bands
    (:func:`bands_in_force`); provinces sharing a band table share a branch, so the usual case
    (every province on the same bands) is one CASE."""
    households = func.coalesce(households, 0)
    groups: dict[str, list[int]] = {}
    tables: dict[str, list | None] = {}
    for province_id, bands in sorted(bands_by_province.items()):
        key = repr(bands)
        groups.setdefault(key, []).append(province_id)
        tables[key] = bands
    if not groups:
        return UNKNOWN_QUOTA

    def quota(key):
        return UNKNOWN_QUOTA if tables[key] is None else _band_case(households, tables[key])

    keys = sorted(groups, key=lambda k: -len(groups[k]))
    branches = [(or_(*(path.startswith(f"/{i}/") for i in groups[k])), quota(k)) for k in keys[1:]]
    widest = quota(keys[0])
    return case(*branches, else_=widest) if branches else widest


def below_quota(active, quota):
    """SQL: fewer collaborators in post than the quota; where the quota is unknown (no criteria),
    fewer than the national floor of one per hamlet (TT 02/2021/TT-BYT), nothing more invented."""
    return active < func.coalesce(quota, 1)


@dataclass(frozen=True)
class Vacancy:
    hamlet: AdminUnit
    commune: AdminUnit
    households: int
    quota: int | None  # None: the province has no criteria in force (the hamlet is listed for having nobody)
    active: int
    open_applications: int

    @property
    def missing(self) -> int | None:
        """Collaborators needed to reach the quota; None when the quota is unknown."""
        return None if self.quota is None else max(0, self.quota - self.active)


@dataclass(frozen=True)
class VacancyTotals:
    hamlets: int = 0
    empty: int = 0  # hamlets with nobody active
    missing: int = 0  # collaborators needed to reach every known quota
    unknown: int = 0  # hamlets listed whose quota is unknown (no criteria): not in ``missing``


@dataclass(frozen=True)
class VacancyFilters:
    on: date
    commune_id: int | None = None
    q: str | None = None  # part of the hamlet's name, without diacritics


_vacant_hamlet = aliased(AdminUnit, name="vacant_hamlet")
_vacant_commune = aliased(AdminUnit, name="vacant_commune")
_GEOMETRY = ("geom_wkb", "geom_simplified_wkb")  # not needed for a table; large


def _vacancy_columns(prefixes: Sequence[str], f: VacancyFilters):
    """(staffed, quota, active, conditions) over ``_vacant_hamlet``: the hamlets in force
    under ``prefixes`` with fewer collaborators in post on the day than their quota, filtered.

    Collaborators in post are counted by the database in the way each answers fastest, with the
    same result: PostgreSQL counts the area's assignments in force by one GROUP BY (``staffed``,
    outer-joined by the caller), which it hashes; SQLite counts each hamlet's through the
    assignments' (hamlet, dates) index (a correlated count; ``staffed`` is None), which is
    several times faster there than grouping every assignment of the area."""
    day, h = f.on, _vacant_hamlet
    if is_postgresql():
        staffed = (select(Assignment.hamlet_id, func.count().label("active"))
                   .where(in_areas(prefixes, Assignment.hamlet_path), _open_on(day))
                   .group_by(Assignment.hamlet_id).subquery("staffed"))
        active = func.coalesce(staffed.c.active, 0)
    else:
        staffed = None
        active = (select(func.count()).select_from(Assignment)
                  .where(Assignment.hamlet_id == h.id, _open_on(day)).correlate(h).scalar_subquery())
    quota = quota_sql(h.households, h.path, bands_in_force({province_id_of(p) for p in prefixes}, day))
    conds = [h.level == UnitLevel.HAMLET.value, valid_on(h, day), in_areas(prefixes, h.path), below_quota(active, quota)]
    if f.commune_id:
        conds.append(h.parent_id == f.commune_id)
    if f.q and f.q.strip():
        conds.append(h.search_text.contains(fold(f.q), autoescape=True))
    return staffed, quota, active, conds


def _vacant_hamlets(prefixes: Sequence[str], f: VacancyFilters, columns, *, commune: bool = False):
    """``select(*columns(quota, active))`` over the vacant hamlets (joined to their commune)."""
    staffed, quota, active, conds = _vacancy_columns(prefixes, f)
    stmt = select(*columns(quota, active)).select_from(_vacant_hamlet)
    if commune:
        stmt = stmt.join(_vacant_commune, _vacant_commune.id == _vacant_hamlet.parent_id)
    if staffed is not None:
        stmt = stmt.outerjoin(staffed, staffed.c.hamlet_id == _vacant_hamlet.id)
    return stmt.where(*conds), active


def _vacancy_order(active):
    """Hamlets with nobody first, then by commune, hamlet number and name (folded)."""
    c, h = _vacant_commune, _vacant_hamlet
    return [case((active > 0, 1), else_=0), bytewise(c.search_text), c.id,
            bytewise(func.coalesce(h.local_id, "")), bytewise(h.search_text), h.id]


def _vacancy_query(prefixes: Sequence[str], f: VacancyFilters, columns):
    stmt, active = _vacant_hamlets(prefixes, f, columns, commune=True)
    return stmt.order_by(*_vacancy_order(active))


def _vacancies_of(rows) -> list[Vacancy]:
    """Vacancy objects for ``(hamlet id, quota, active)`` rows, in their order: the hamlets,
    their communes and their applications in progress in one query each."""
    ids = [r[0] for r in rows]
    if not ids:
        return []
    units = {hamlet.id: (hamlet, commune) for hamlet, commune in db.session.execute(
        select(_vacant_hamlet, _vacant_commune).join(_vacant_commune, _vacant_commune.id == _vacant_hamlet.parent_id)
        .where(_vacant_hamlet.id.in_(ids))
        .options(*(defer(getattr(m, c)) for m in (_vacant_hamlet, _vacant_commune) for c in _GEOMETRY)))}
    pending = dict(db.session.execute(
        select(Application.hamlet_id, func.count()).where(
            Application.hamlet_id.in_(ids), Application.state.not_in([s.value for s in FINAL_STATES]))
        .group_by(Application.hamlet_id)).all())
    result = []
    for hamlet_id, quota, active in rows:
        hamlet, commune = units[hamlet_id]
        result.append(Vacancy(hamlet, commune, hamlet.households or 0, None if quota is None else int(quota),
                              int(active), pending.get(hamlet_id, 0)))
    return result


def vacancy_page(prefixes: Sequence[str], filters: VacancyFilters, page: int = 1,
                 per_page: int = PER_PAGE) -> tuple[Page, VacancyTotals]:
    """One page of the hamlets in the given areas (unit paths; none → nothing) with fewer
    collaborators in post on ``filters.on`` than their quota — hamlets with nobody first
    (TT 02/2021/TT-BYT: at least one per hamlet; quotas are the province's bands) — and the
    totals of the whole filtered list (hamlets, hamlets with nobody, collaborators missing, hamlets
    whose quota is unknown because their province has no criteria in force: :func:`below_quota`).

    The database computes the quota (:func:`quota_sql`) and counts the collaborators in post;
    one query returns the page's hamlets with the totals (window aggregates), then the page's
    units and applications in progress are read for its rows only."""
    page, per_page = clamp(page, per_page)

    def columns(quota, active):
        return (_vacant_hamlet.id, quota, active, func.count().over(),
                func.sum(case((active == 0, 1), else_=0)).over(), func.sum(quota - active).over(),
                func.sum(case((quota.is_(None), 1), else_=0)).over())

    found = db.session.execute(_vacancy_query(prefixes, filters, columns)
                               .limit(per_page).offset((page - 1) * per_page)).all()
    if not found:
        totals = vacancy_totals(prefixes, filters)
        last = max(1, math.ceil(totals.hamlets / per_page))
        if totals.hamlets and page > last:  # past the end (a stale link): the last page
            return vacancy_page(prefixes, filters, last, per_page)
        return Page([], totals.hamlets, page, per_page), totals
    first = found[0]
    totals = VacancyTotals(int(first[3]), int(first[4] or 0), int(first[5] or 0), int(first[6] or 0))
    return Page(_vacancies_of([r[:3] for r in found]), totals.hamlets, page, per_page), totals


def vacancy_totals(prefixes: Sequence[str], filters: VacancyFilters) -> VacancyTotals:
    """How many hamlets are below their quota, how many have nobody, how many collaborators are
    missing and how many listed hamlets have no known quota (the figures above the list), by one
    aggregate query."""
    stmt, _active = _vacant_hamlets(prefixes, filters, lambda quota, active: (
        func.count(), func.sum(case((active == 0, 1), else_=0)), func.sum(quota - active),
        func.sum(case((quota.is_(None), 1), else_=0))))
    row = db.session.execute(stmt).one()
    return VacancyTotals(*(int(v or 0) for v in row))


def vacancies(prefixes: Sequence[str], on: date | None = None) -> list[Vacancy]:
    """Every hamlet in the given areas below its quota on the date, in the list's order (for
    services and tests; a page reads :func:`vacancy_page`)."""
    filters = VacancyFilters(on or clock.today())
    rows = db.session.execute(_vacancy_query(prefixes, filters, lambda quota, active: (
        _vacant_hamlet.id, quota, active))).all()
    return _vacancies_of(rows)


# --- lists of applications and decisions ------------------------------------------------------


def applications_query(prefixes: Sequence[str], *, state: str | None = None, within: str | None = None,
                       q: str | None = None, cccd_areas: Sequence[str] = ()):
    """The applications for hamlets under ``prefixes`` (and under the path ``within``, e.g. a
    commune), newest change first, as a select for :func:`common.paging.paginate` (the page and
    the API). ``q`` matches part of the candidate's name without diacritics, or the start of
    the CCCD (spaces ignored) of an application under ``cccd_areas`` only — the areas where the
    reader sees CCCD numbers (``auth.personal_data``), so a search cannot probe the others."""
    stmt = (select(Application).where(in_areas(prefixes, Application.hamlet_path))
            .options(selectinload(Application.candidate),
                     selectinload(Application.hamlet).selectinload(AdminUnit.parent)))
    if state:
        stmt = stmt.where(Application.state == state)
    if within:
        stmt = stmt.where(in_areas([within], Application.hamlet_path))
    q = (q or "").strip()
    if q:
        digits = q.replace(" ", "")
        by_cccd = is_ascii_digits(digits)
        people = select(Candidate.id).where(
            Candidate.national_id.startswith(digits, autoescape=True) if by_cccd
            else Candidate.search_text.contains(fold(q), autoescape=True))
        stmt = stmt.where(Application.candidate_id.in_(people))
        if by_cccd:
            stmt = stmt.where(in_areas(cccd_areas, Application.hamlet_path))
    return stmt.order_by(Application.updated_at.desc(), Application.id.desc())


def application_counts(prefixes: Sequence[str]) -> dict[str, int]:
    """How many applications are in each state under ``prefixes`` (one GROUP BY)."""
    return {state: int(n) for state, n in db.session.execute(
        select(Application.state, func.count()).where(in_areas(prefixes, Application.hamlet_path))
        .group_by(Application.state))}


def decisions_query(prefixes: Sequence[str]):
    """The recognition decisions covering an application under ``prefixes``, newest first
    (each decision looks up its own applications by their decision index)."""
    visible = exists().where(Application.decision_id == RecognitionDecision.id,
                             in_areas(prefixes, Application.hamlet_path))
    return (select(RecognitionDecision).where(visible)
            .options(selectinload(RecognitionDecision.applications))
            .order_by(RecognitionDecision.issued_on.desc(), RecognitionDecision.id.desc()))


# --- candidates and applications --------------------------------------------------------------


def check_phone(phone: str | None) -> str | None:
    """A Vietnamese phone number: 10–11 digits starting with 0 (mobile 10, landline 11), or +84
    and the number without its 0. ASCII digits only; spaces, dots and dashes are dropped."""
    value = re.sub(r"[\s.\-()]", "", phone or "")
    if not value:
        return None
    if not PHONE_RE.match(value):
        raise ValidationFailed(_l("Số điện thoại không hợp lệ: 10–11 chữ số bắt đầu bằng 0 (hoặc +84)."), field="phone")
    return value


def check_national_id(national_id: str, *, born: date, sex: Sex) -> str:
    """CCCD: 12 digits — 3 for the province of birth registration (001–096), 1 for sex and
    century (0/1: male/female born 1900–1999, 2/3: 2000–2099, …), 2 for the year of birth, 6
    random (Thông tư 59/2021/TT-BCA, Điều 7). The sex/century and year digits must match."""
    value = (national_id or "").strip().replace(" ", "")
    if not CCCD_RE.match(value):
        raise ValidationFailed(_l("Số CCCD phải gồm đúng 12 chữ số."), field="national_id")
    if not 1 <= int(value[:3]) <= 96:
        raise ValidationFailed(_l("Số CCCD không hợp lệ: 3 số đầu là mã tỉnh nơi đăng ký khai sinh (001–096)."),
                               field="national_id")
    century = (born.year // 100) - 19
    expected = century * 2 + (1 if sex == Sex.FEMALE else 0)
    if century < 0 or int(value[3]) != expected or value[4:6] != f"{born.year % 100:02d}":
        raise ValidationFailed(_l("Số CCCD không khớp với giới tính và năm sinh (số thứ 4–6)."), field="national_id")
    return value


CANDIDATE_FIELDS = ["full_name", "date_of_birth", "sex", "ethnicity", "national_id", "phone",
                    "residence_hamlet_id", "education", "is_village_health_worker", "languages",
                    "speaks_local_language", "prior_experience"]


@guard_duplicate_race
def create_application(*, hamlet: AdminUnit, full_name: str, date_of_birth: date, sex: str, ethnicity: str,
                       national_id: str, residence_hamlet: AdminUnit, education: str, phone: str | None = None,
                       is_village_health_worker: bool = False, languages: str | None = None,
                       speaks_local_language: bool = False, prior_experience: str | None = None,
                       resident_since: date | None = None, nominated_by: str | None = None, actor=None) -> Application:
    """Nominate a candidate for a hamlet (state: nominated). The candidate must live in that
    hamlet (TT 02/2021 Art. 2.2); a national ID belongs to one person only. The province must
    have criteria in force (its quota and approver; :func:`no_criteria` otherwise)."""
    today = clock.today()
    if hamlet.level != UnitLevel.HAMLET or not hamlet.is_current:
        raise ValidationFailed(_l("Chỉ tuyển CTV cho thôn/tổ dân phố đang hiệu lực."), field="hamlet")
    require_criteria(province_of(hamlet), today)
    full_name = " ".join((full_name or "").split())
    if len(full_name) < 3:
        raise ValidationFailed(_l("Vui lòng nhập đầy đủ họ và tên."), field="full_name")
    if date_of_birth >= today:
        raise ValidationFailed(_l("Ngày sinh phải trước ngày hôm nay."), field="date_of_birth")
    if rules.age_on(date_of_birth, today) > 100:
        raise ValidationFailed(_l("Ngày sinh không hợp lệ (trên 100 tuổi)."), field="date_of_birth")
    try:
        sex_value, education_value = Sex(sex), Education(education)
    except ValueError:
        raise ValidationFailed(_l("Giới tính hoặc trình độ học vấn không hợp lệ.")) from None
    if residence_hamlet.id != hamlet.id:
        raise ValidationFailed(_l("Ứng viên phải đang sinh sống tại %(h)s (Thông tư 02/2021/TT-BYT, Điều 2).",
                                  h=hamlet.full_name), field="residence_hamlet")
    if resident_since is not None and resident_since > today:
        raise ValidationFailed(_l("Ngày bắt đầu cư trú không được ở tương lai."), field="resident_since")
    national_id = check_national_id(national_id, born=date_of_birth, sex=sex_value)
    phone = check_phone(phone)
    candidate = db.session.scalar(select(Candidate).where(Candidate.national_id == national_id))
    if candidate is not None:
        if fold(candidate.full_name) != fold(full_name) or candidate.date_of_birth != date_of_birth:
            raise Conflict(_l("Số CCCD %(n)s đã được ghi cho một người khác (%(name)s).", n=national_id,
                              name=candidate.full_name), field="national_id")
        open_app = db.session.scalar(select(Application).where(
            Application.candidate_id == candidate.id, Application.hamlet_id == hamlet.id,
            Application.state.not_in([s.value for s in FINAL_STATES])))
        if open_app is not None:
            raise Conflict(_l("Ứng viên này đã có hồ sơ đang xử lý cho %(h)s.", h=hamlet.name), field="national_id")
    else:
        candidate = Candidate(created_at=clock.now())
        db.session.add(candidate)
    candidate.full_name, candidate.search_text = full_name, fold(full_name)
    candidate.date_of_birth, candidate.sex, candidate.ethnicity = date_of_birth, sex_value.value, ethnicity.strip()
    candidate.national_id, candidate.phone = national_id, phone
    candidate.residence_hamlet_id, candidate.resident_since = residence_hamlet.id, resident_since
    candidate.education, candidate.is_village_health_worker = education_value.value, is_village_health_worker
    candidate.languages, candidate.speaks_local_language = languages, speaks_local_language
    candidate.prior_experience = prior_experience
    stamp = clock.now()
    application = Application(candidate=candidate, hamlet_id=hamlet.id, hamlet_path=hamlet.path,
                              state=State.NOMINATED.value, nominated_by=nominated_by, dossier={},
                              created_at=stamp, updated_at=stamp)
    db.session.add(application)
    db.session.flush()
    _event(application, "nominate", None, State.NOMINATED, actor, comment=nominated_by)
    record("application.create", application, label=f"{full_name} – {hamlet.full_name}", unit_path=hamlet.path,
           after=snapshot(candidate, CANDIDATE_FIELDS), actor=actor)
    _flush()
    return application


DOSSIER_EDITABLE = frozenset({State.NOMINATED, State.RETURNED, State.DOSSIER_COMPLETE, State.SCREENED})


@guard_concurrent_change
def update_dossier(application: Application, *, items: dict[str, bool], application_signed_on: date | None,
                   exception_justification: str | None = None, actor=None) -> Application:
    """Record which dossier documents are on file. Editable until the station review. (Training
    is not part of the dossier: it is an attendance record, see collaborators.training.)"""
    state = State(application.state)
    if application_signed_on is not None and application_signed_on > clock.today():
        raise ValidationFailed(_l("Ngày không được ở tương lai."), field="application_signed_on")
    if state not in DOSSIER_EDITABLE:
        raise Conflict(_l("Hồ sơ ở trạng thái này không còn sửa được."))
    before = {"dossier": dict(application.dossier or {}), "application_signed_on": application.application_signed_on,
              "exception_justification": application.exception_justification}
    application.dossier = {k: bool(items.get(k)) for k in DOSSIER_ITEMS}
    application.application_signed_on = application_signed_on
    application.exception_justification = (exception_justification or "").strip() or None
    after = {"dossier": dict(application.dossier or {}), "application_signed_on": application.application_signed_on,
             "exception_justification": application.exception_justification}
    if before != after:
        application.updated_at = clock.now()
        _event(application, "update_dossier", state, state, actor)
        record("application.update_dossier", application, label=application.candidate.full_name,
               unit_path=application.hamlet_path, before=before, after=after, actor=actor)
    _flush()
    return application


# --- transitions ------------------------------------------------------------------------------


def approver_for(application: Application, on: date | None = None) -> Approver:
    hamlet = db.session.get(AdminUnit, application.hamlet_id)
    return Approver(require_criteria(province_of(hamlet), on).approver)


def roles_for(user: User, application: Application) -> frozenset[Role]:
    return scope_of(user).roles_at(application.hamlet_path)


def available_actions(user: User, application: Application) -> list[Action]:
    """The actions this user may take on the application now (for buttons and the API)."""
    held = roles_for(user, application)
    if not held:
        return []
    criteria = criteria_for(province_of(application.hamlet))
    if criteria is None:
        return []
    approver = Approver(criteria.approver)
    return [a for a in actions_from(State(application.state)) if allowed_roles(State(application.state), a, approver) & held]


@guard_concurrent_change
def perform(application: Application, action: Action | str, *, actor: User, comment: str | None = None,
            on: date | None = None, **payload) -> Application:
    """Take ``action`` on an application: check that the move exists from its state and that the
    actor holds a role allowed to make it at the hamlet, run the action's own rules, record the
    event, and flush. A concurrent change by someone else is refused with :class:`Conflict`."""
    try:
        action = Action(action)
    except ValueError:
        raise ValidationFailed(_l("Thao tác “%(a)s” không tồn tại.", a=action)) from None
    state = State(application.state)
    approver = approver_for(application)
    roles = allowed_roles(state, action, approver)
    if not roles:
        raise Conflict(_l("Không thể “%(a)s” hồ sơ đang ở trạng thái “%(s)s”.",
                          a=action_label(action), s=state_label(state)))
    if not roles & roles_for(actor, application):
        raise PermissionDenied(_l("Vai trò của bạn không được phép “%(a)s” hồ sơ này.", a=action_label(action)))
    handler = _HANDLERS.get(action)
    data = handler(application, actor=actor, comment=comment, on=on or clock.today(), **payload) if handler else None
    to_state = target_state(state, action, approver)
    application.state = to_state.value
    application.updated_at = clock.now()
    _event(application, action.value, state, to_state, actor, comment=comment, data=data)
    record(f"application.{action.value}", application, label=application.candidate.full_name,
           unit_path=application.hamlet_path, before={"state": state.value},
           after={"state": to_state.value, **(data or {})}, actor=actor)
    _flush()
    return application


def _complete_dossier(application: Application, **_) -> dict:
    """The dossier (proposed list, DOMAIN.md §7.2): application letter, ID card, education proof,
    health evidence, endorsement by the hamlet (head or meeting minutes); a signed date."""
    missing = [k for k in DOSSIER_ITEMS if not (application.dossier or {}).get(k)]
    problems = [str(_l("Thiếu: %(i)s.", i=dossier_label(k))) for k in missing]
    if application.application_signed_on is None:
        problems.append(str(_l("Chưa ghi ngày ký đơn tình nguyện.")))
    if problems:
        raise ValidationFailed(_l("Hồ sơ chưa đủ: %(p)s", p=" ".join(problems)), problems=problems)
    return {}


def _screen(application: Application, *, on: date, **_) -> dict:
    """Run the automatic checks of the criteria version in force today and store the results
    with that version (TT 02/2021/TT-BYT Art. 2 and the province's settings)."""
    hamlet = application.hamlet
    criteria = require_criteria(province_of(hamlet), on)
    candidate = application.candidate
    elsewhere = db.session.scalar(
        select(func.count()).select_from(Assignment).join(Collaborator)
        .where(Collaborator.candidate_id == candidate.id, Assignment.hamlet_id != hamlet.id, _open_on(on))) or 0
    months = None
    if candidate.resident_since is not None:
        months = (on.year - candidate.resident_since.year) * 12 + on.month - candidate.resident_since.month
    facts = rules.Facts(
        education=Education(candidate.education), date_of_birth=candidate.date_of_birth,
        residence_hamlet_id=candidate.residence_hamlet_id, hamlet_id=hamlet.id,
        hamlet_difficult_or_ethnic=hamlet.is_difficult or hamlet.is_ethnic_minority,
        hamlet_households=hamlet.households or 0, active_in_hamlet=active_collaborators(hamlet.id, on),
        active_elsewhere=elsewhere if criteria.single_active_assignment else 0,
        application_signed=application.application_signed_on is not None,
        health_evidence=bool((application.dossier or {}).get("health_evidence")),
        exception_justification=application.exception_justification or "",
        is_village_health_worker=candidate.is_village_health_worker,
        speaks_local_language=candidate.speaks_local_language, prior_experience=bool(candidate.prior_experience),
        resident_months=months, on=on)
    enabled = [c for c in criteria.enabled_rules if c != "SINGLE_ACTIVE" or criteria.single_active_assignment]
    results = rules.screen(facts, enabled=enabled, bands=criteria.quota_bands, min_age=criteria.min_age,
                           max_age=criteria.max_age, min_residence_months=criteria.min_residence_months)
    application.criteria_set_id = criteria.id
    application.screening = [r.as_dict() for r in results]
    application.screening_passed = rules.passed(results)
    application.screened_on = on
    return {"criteria_version": criteria.version, "passed": application.screening_passed}


def _review(application: Application, *, manual_checks: dict | None = None, ranking: int | None = None,
            comment: str | None = None, **_) -> dict:
    """The station head confirms each manual criterion with a note (TT 02/2021 Art. 2.2)."""
    criteria = application.criteria_set
    codes = [c for c in rules.MANUAL_CODES if c in (criteria.enabled_rules if criteria else rules.MANUAL_CODES)]
    checks = manual_checks or {}
    problems = [str(_l("Chưa xác nhận: %(r)s.", r=rules.RULES[c].label)) for c in codes
                if not (checks.get(c) or {}).get("ok")]
    if problems:
        raise ValidationFailed(_l("Cần xác nhận đủ các tiêu chí do trạm đánh giá. %(p)s", p=" ".join(problems)),
                               problems=problems)
    if ranking is not None and not 1 <= ranking <= rules.MAX_RANKING:
        raise ValidationFailed(_l("Thứ tự ưu tiên phải từ 1 đến %(m)d.", m=rules.MAX_RANKING), field="ranking")
    if ranking is not None:
        rival = db.session.scalar(select(Application).join(Candidate).where(
            Application.hamlet_id == application.hamlet_id, Application.id != application.id,
            Application.ranking == ranking, Application.state.not_in([s.value for s in FINAL_STATES])))
        if rival is not None:
            raise ValidationFailed(_l("Thứ tự ưu tiên %(r)d ở %(h)s đã dành cho %(n)s; mỗi ứng viên một thứ tự khác nhau.",
                                      r=ranking, h=application.hamlet.name, n=rival.candidate.full_name),
                                   field="ranking")
    application.manual_checks = {c: {"ok": True, "note": ((checks.get(c) or {}).get("note") or "").strip()}
                                 for c in codes}
    application.ranking = ranking
    application.review_note = comment
    return {"ranking": ranking}


def _approve(application: Application, *, override_reason: str | None = None, **_) -> dict:
    """A failed screening blocks approval unless the province allows an override, which then needs
    a written reason and is flagged in reports (issue #3)."""
    if application.screening_passed:
        return {}
    criteria = application.criteria_set
    if criteria is None or not criteria.allow_override:
        raise ValidationFailed(_l("Hồ sơ không đạt sàng lọc tự động; tỉnh không cho phép phê duyệt vượt tiêu chuẩn."))
    reason = (override_reason or "").strip()
    if len(reason) < 10:
        raise ValidationFailed(_l("Phê duyệt vượt tiêu chuẩn cần ghi rõ lý do (ít nhất 10 ký tự)."),
                               field="override_reason")
    application.override_reason = reason
    return {OVERRIDE_FLAG: True}


def _reject(application: Application, *, comment: str | None = None, **_) -> dict:
    reason = (comment or "").strip()
    if not reason:
        raise ValidationFailed(_l("Từ chối phải ghi rõ lý do."), field="comment")
    application.rejection_reason = reason
    return {}


def _return(application: Application, *, comment: str | None = None, **_) -> dict:
    if not (comment or "").strip():
        raise ValidationFailed(_l("Trả lại hồ sơ phải ghi rõ nội dung cần bổ sung, sửa chữa."), field="comment")
    return {}


def _contract(application: Application, *, contract_date: date | None = None, contract_number: str | None = None,
              allowance_tier: str | None = None, **_) -> dict:
    """The responsibility contract (hợp đồng trách nhiệm) follows the recognition decision."""
    if application.decision is None:
        raise ValidationFailed(_l("Chưa có quyết định công nhận cho hồ sơ này; hãy ban hành quyết định trước."))
    if contract_date is None:
        raise ValidationFailed(_l("Vui lòng nhập ngày ký hợp đồng."), field="contract_date")
    if contract_date < application.decision.issued_on:
        raise ValidationFailed(_l("Ngày ký hợp đồng không được trước ngày quyết định (%(d)s).",
                                  d=application.decision.issued_on.strftime("%d/%m/%Y")), field="contract_date")
    if not (allowance_tier or "").strip():
        raise ValidationFailed(_l("Vui lòng chọn mức bồi dưỡng."), field="allowance_tier")
    application.contract_date = contract_date
    application.contract_number = (contract_number or "").strip() or None
    application.allowance_tier = allowance_tier.strip()
    return {"contract_date": contract_date.isoformat(), "allowance_tier": application.allowance_tier}


def _activate(application: Application, *, on: date, actor=None, **_) -> dict:
    """Activation creates the collaborator and the first dated assignment to the hamlet. A
    collaborator chosen under the primary-school exception must first complete population-work
    training (TT 02/2021 Art. 2.1): a completed attendance on a population-work course that ended
    on or before the activation day (collaborators.training)."""
    candidate = application.candidate
    if on < application.contract_date:
        raise ValidationFailed(_l("Ngày bắt đầu hoạt động không được trước ngày ký hợp đồng."), field="on")
    if rules.needs_training_before_activation(Education(candidate.education)) and (
            completed_population_training(candidate, on) is None):
        raise ValidationFailed(_l("%(n)s được tuyển theo ngoại lệ trình độ tiểu học nên phải hoàn thành lớp tập huấn "
                                  "công tác dân số trước khi hoạt động (Thông tư 02/2021/TT-BYT, Điều 2 khoản 1). "
                                  "Chưa có kết quả “Hoàn thành” ở lớp tập huấn công tác dân số nào kết thúc trước hoặc "
                                  "trong ngày %(d)s. Hãy ghi kết quả ở mục Tập huấn (/training): mở lớp, thêm học viên "
                                  "và đánh dấu “Đã hoàn thành”, rồi thực hiện lại.",
                                  n=candidate.full_name, d=on.strftime("%d/%m/%Y")))
    criteria = application.criteria_set
    if criteria is not None and "QUOTA" in criteria.enabled_rules:
        # Screening checked the quota when it ran; others may have been activated since.
        hamlet = application.hamlet
        quota = rules.quota_for(hamlet.households or 0, criteria.quota_bands)
        active = active_collaborators(hamlet.id, on)
        if active >= quota:
            raise Conflict(_l("%(h)s đã đủ định mức %(q)d CTV (%(n)d đang hoạt động); không thể kích hoạt thêm.",
                              h=hamlet.full_name, q=quota, n=active))
    if criteria is not None and criteria.single_active_assignment:
        existing = db.session.scalar(select(Collaborator).where(Collaborator.candidate_id == candidate.id))
        if existing is not None and any(a.ended_on is None for a in existing.assignments):
            raise Conflict(_l("Người này đang là CTV hoạt động ở thôn khác."))
    collaborator = db.session.scalar(select(Collaborator).where(Collaborator.candidate_id == candidate.id))
    if collaborator is None:
        collaborator = Collaborator(candidate=candidate, application=application, activated_on=on, created_at=clock.now())
        db.session.add(collaborator)
    db.session.add(Assignment(collaborator=collaborator, hamlet_id=application.hamlet_id,
                              hamlet_path=application.hamlet.path, started_on=on,
                              decision_id=application.decision_id, allowance_tier=application.allowance_tier,
                              created_at=clock.now(), created_by_id=getattr(actor, "id", None)))
    application.activated_on = on
    db.session.flush()
    record("collaborator.activate", collaborator, label=candidate.full_name, unit_path=application.hamlet_path,
           after={"hamlet_id": application.hamlet_id, "started_on": on}, actor=actor)
    return {"collaborator_id": collaborator.id, "started_on": on.isoformat()}


_HANDLERS = {
    Action.COMPLETE_DOSSIER: _complete_dossier,
    Action.SCREEN: _screen,
    Action.REVIEW: _review,
    Action.APPROVE: _approve,
    Action.REJECT: _reject,
    Action.RETURN: _return,
    Action.CONTRACT: _contract,
    Action.ACTIVATE: _activate,
}


def perform_many(applications: Sequence[Application], action: Action | str, *, actor: User,
                 comment: str | None = None, **payload) -> list[Application]:
    """The same action on a list (a station submits its list; an approver decides a batch).
    All or nothing: one refusal refuses the batch, naming the candidate."""
    if not applications:
        raise ValidationFailed(_l("Chưa chọn hồ sơ nào."))
    for application in applications:
        try:
            perform(application, action, actor=actor, comment=comment, **payload)
        except (ValidationFailed, Conflict, PermissionDenied) as e:
            raise type(e)(_l("%(name)s: %(msg)s", name=application.candidate.full_name, msg=str(e))) from None
    return list(applications)


def decide_batch(choices: Sequence[tuple[Application, str, str | None]], *, actor: User) -> tuple[int, int]:
    """An approver's decisions on a submitted list, all or nothing: ``(application, "approve" |
    "reject", text)``. For an approval the text is the override reason (needed only when the
    screening failed); for a rejection it is the required reason. An application already
    approved by the director is confirmed by the commune People's Committee instead.
    Returns how many were approved and rejected."""
    if not choices:
        raise ValidationFailed(_l("Chưa chọn hồ sơ nào."))
    approved = rejected = 0
    for application, choice, text in choices:
        text = (text or "").strip() or None
        if choice == "reject":
            perform_many([application], Action.REJECT, actor=actor, comment=text)
            rejected += 1
        elif application.state == State.DIRECTOR_APPROVED:
            perform_many([application], Action.CONFIRM, actor=actor)
            approved += 1
        else:
            perform_many([application], Action.APPROVE, actor=actor, override_reason=text)
            approved += 1
    return approved, rejected


# --- recognition decisions ----------------------------------------------------------------------


def decision_issuer(user: User, applications: Sequence[Application], on: date | None = None, *,
                    name: str | None = None) -> tuple[str, Facility | None]:
    """The body issuing a recognition decision for ``applications``, as ``(name, facility)``,
    the same for the page and the API: a name the caller writes (the API's ``issuer_name``) is
    kept as written; otherwise the facility of the user's grant in force on ``on`` — one holding
    an approver role first (the health centre or the Department that approves, per the
    province's criteria) — else the province's Department of Health (Sở Y tế) in force, else
    its name alone ("Sở Y tế <province>")."""
    if name and name.strip():
        return name.strip(), None
    day = on or clock.today()
    grants = [g for g in user.grants if g.valid_on(day) and g.facility is not None]
    grants.sort(key=lambda g: (Role(g.role) not in APPROVER_ROLES, g.id))
    if grants:
        return grants[0].facility.name, grants[0].facility
    if not applications:
        return "", None
    province = province_of(applications[0].hamlet)
    department = db.session.scalar(select(Facility).where(
        Facility.kind == FacilityKind.DEPARTMENT.value, Facility.unit_id == province.id, valid_on(Facility, day))
        .order_by(Facility.id).limit(1))
    if department is not None:
        return department.name, department
    return str(_l("Sở Y tế %(p)s", p=province.full_name)), None


@guard_duplicate_race
@guard_concurrent_change
def issue_decision(applications: Sequence[Application], *, number: str, issued_on: date, signer_name: str,
                   signer_title: str, issuer_name: str, issuer_facility=None, actor: User) -> RecognitionDecision:
    """One recognition decision covering approved applications of one province; its number is
    unique within the province and year (a reused number is refused)."""
    number = (number or "").strip()
    if not number:
        raise ValidationFailed(_l("Vui lòng nhập số quyết định."), field="number")
    if issued_on > clock.today():
        raise ValidationFailed(_l("Ngày quyết định không được ở tương lai."), field="issued_on")
    if not (signer_name or "").strip():
        raise ValidationFailed(_l("Vui lòng nhập người ký."), field="signer_name")
    if not applications:
        raise ValidationFailed(_l("Chưa chọn hồ sơ nào."))
    provinces = {province_of(a.hamlet).id for a in applications}
    if len(provinces) != 1:
        raise ValidationFailed(_l("Một quyết định chỉ gồm hồ sơ của cùng một tỉnh."))
    for a in applications:
        if a.state != State.APPROVED or a.decision_id is not None:
            raise Conflict(_l("%(n)s: chỉ hồ sơ đã phê duyệt và chưa có quyết định mới được đưa vào quyết định.",
                              n=a.candidate.full_name))
        if not allowed_roles(State.APPROVED, Action.CONTRACT, approver_for(a)) & roles_for(actor, a):
            raise PermissionDenied(_l("Bạn không phải người phê duyệt của hồ sơ %(n)s.", n=a.candidate.full_name))
    province_id = provinces.pop()
    clash = db.session.scalar(select(RecognitionDecision).where(
        RecognitionDecision.province_id == province_id, RecognitionDecision.year == issued_on.year,
        RecognitionDecision.number == number))
    if clash is not None:
        raise Conflict(_l("Số quyết định %(n)s đã được dùng trong năm %(y)d (ngày %(d)s).", n=number,
                          y=issued_on.year, d=clash.issued_on.strftime("%d/%m/%Y")), field="number")
    paths = [a.hamlet_path for a in applications]
    common = paths[0]
    for p in paths[1:]:
        while not p.startswith(common):
            common = common[: common.rstrip("/").rfind("/") + 1]
    decision = RecognitionDecision(
        province_id=province_id, issuer_facility=issuer_facility, issuer_name=issuer_name, number=number,
        year=issued_on.year, issued_on=issued_on, signer_name=signer_name.strip(),
        signer_title=(signer_title or "").strip(), scope_path=common or "/", created_at=clock.now(),
        created_by_id=actor.id)
    db.session.add(decision)
    for a in applications:
        a.decision = decision
        a.updated_at = clock.now()
        _event(a, "decision", State.APPROVED, State.APPROVED, actor,
               comment=f"QĐ số {number} ngày {issued_on.strftime('%d/%m/%Y')}")
    db.session.flush()
    record("decision.issue", decision, label=f"{number} ({issued_on.year})", unit_path=decision.scope_path,
           after={"number": number, "issued_on": issued_on, "signer": signer_name,
                  "applications": [a.id for a in applications]}, actor=actor)
    _flush()
    return decision


# --- helpers ----------------------------------------------------------------------------------


def get_application(application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None:
        raise NotFound(_l("Không tìm thấy hồ sơ."))
    return application


def _event(application: Application, action: str, from_state: State | None, to_state: State, actor,
           *, comment: str | None = None, data: dict | None = None) -> None:
    db.session.add(ApplicationEvent(
        application=application, action=action, from_state=from_state.value if from_state else None,
        to_state=to_state.value, actor_id=getattr(actor, "id", None), actor_name=_actor_name(actor), at=clock.now(),
        comment=(comment or "").strip() or None, data=data))


def _flush() -> None:
    """Flush; a version clash means someone acted on the same application first."""
    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict(CONCURRENT_CHANGE) from None


def state_label(state) -> str:
    from .labels import STATE_LABELS

    return str(STATE_LABELS.get(State(state), state))


def action_label(action) -> str:
    from .labels import ACTION_LABELS

    return str(ACTION_LABELS.get(Action(action), action))


def dossier_label(item: str) -> str:
    from .labels import DOSSIER_LABELS

    return str(DOSSIER_LABELS.get(item, item))
