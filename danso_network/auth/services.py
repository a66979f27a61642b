"""Accounts and role grants."""

from __future__ import annotations

import functools
import os
import re
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ..audit.services import VISITOR, record
from ..common import clock
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..textnorm import is_ascii_digits
from ..units.models import AdminUnit, Facility, FacilityKind
from .models import Role, RoleGrant, User

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,79}$")
MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
# Fewer different characters than this ("aaaaaaaaaa", "1212121212") is guessed as fast as a common password.
MIN_DISTINCT_CHARACTERS = 4

# Which roles make sense where: a station role is held at a station, a centre role at a centre.
ROLE_FACILITY_KIND = {
    Role.STATION_HEAD: FacilityKind.STATION,
    Role.STATION_OFFICER: FacilityKind.STATION,
    Role.CENTRE_OFFICER: FacilityKind.HEALTH_CENTRE,
}


@functools.cache
def common_passwords() -> frozenset[str]:
    """The well-known passwords shipped with the app (``common_passwords.txt``; its header says
    where they come from), lower-cased."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_password_strength(password: str, *, username: str | None = None, user: User | None = None) -> None:
    """The password policy, checked wherever a password is set (account pages, the administrator's
    reset, the command line, the demo): at least :data:`MIN_PASSWORD_LENGTH` characters, not
    containing the username (any case), not a well-known password, and — when ``user`` changes
    theirs — not the current one. These follow NIST SP 800-63B §5.1.1.2 (length, a list of
    commonly used or compromised values, no composition rules). Passwords set before the policy
    keep working: it is checked only when a password is set."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(_l("Mật khẩu phải có ít nhất %(n)d ký tự.", n=MIN_PASSWORD_LENGTH), field="password")
    username = (username or (user.username if user is not None else "")).strip().lower()
    if username and username in password.lower():
        raise ValidationFailed(_l("Mật khẩu không được chứa tên đăng nhập."), field="password")
    if password.lower() in common_passwords() or len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise ValidationFailed(_l("Mật khẩu này quá phổ biến, dễ bị đoán; vui lòng chọn mật khẩu khác."),
                               field="password")
    if user is not None and user.password_hash and user.check_password(password):
        raise ValidationFailed(_l("Mật khẩu mới phải khác mật khẩu hiện tại."), field="password")


def get_user_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.username) == (username or "").strip().lower()))


def user_area_path(user: User) -> str | None:
    """Where account events are filed in the audit log: the widest area the user holds a grant
    in, so that only administrators of that area see them."""
    paths = [g.unit.path if g.unit is not None else g.facility.unit.path for g in user.grants]
    return min(paths, key=len) if paths else None


USERNAME_RULE = _l("Tên đăng nhập gồm 3–80 ký tự: chữ thường không dấu, số, dấu chấm, gạch dưới hoặc gạch ngang.")


def check_username(username: str | None) -> str:
    """The username as stored (trimmed, lower case) if it follows :data:`USERNAME_RE`: 3–80
    characters, lower-case ASCII letters, digits, dot, underscore or hyphen, starting with a letter
    or a digit; else :class:`ValidationFailed`."""
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise ValidationFailed(USERNAME_RULE, field="username")
    return username


def create_user(*, username: str, full_name: str, password: str, email: str | None = None,
                phone: str | None = None, unit_path: str | None = None, actor=None,
                source_file: str | None = None, password_hash: str | None = None,
                must_change: bool = False) -> User:
    """A new account. ``source_file``: the name of the file it was imported from, recorded in
    the audit event; ``password_hash``: the hash of ``password`` when the caller made it already
    (:func:`hash_passwords`, many accounts at once) — the password's policy is checked either way;
    ``must_change``: the password was chosen by someone else (a one-time password), so the user
    replaces it at first login."""
    username = check_username(username)
    if get_user_by_username(username) is not None:
        raise Conflict(_l("Tên đăng nhập “%(u)s” đã tồn tại.", u=username), field="username")
    check_password_strength(password, username=username)
    user = User(username=username, full_name=full_name.strip() or username, email=email, phone=phone,
                created_at=clock.now(), active=True, session_version=1, password_must_change=must_change)
    if password_hash is not None:
        user.password_hash = password_hash
    else:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    after = {"username": username, "full_name": user.full_name}
    if source_file:
        after["file"] = source_file
    record("user.create", user, label=username, unit_path=unit_path, after=after, actor=actor)
    return user


# One-time passwords (issue #12 item 4): lower-case letters and digits without the look-alikes
# (0/o, 1/l/i), in groups of four: 12 characters drawn with ``secrets``, about 59 bits.
ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
ONE_TIME_GROUPS = 3


def one_time_password(username: str = "") -> str:
    """A random first password for an account (``secrets``), read aloud or copied from paper
    without ambiguity ("k7dm-q3wz-hx9p"), that passes :func:`check_password_strength` for
    ``username``. It is shown once to whoever creates the account and never stored in clear."""
    while True:
        password = "-".join("".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(4))
                            for _ in range(ONE_TIME_GROUPS))
        try:
            check_password_strength(password, username=username)
        except ValidationFailed:
            continue
        return password


def hash_passwords(passwords: Sequence[str]) -> list[str]:
    """The stored hash of each password (the app's hash, as :meth:`User.set_password`), made on
    every CPU at once: the hash is slow on purpose and a file of accounts makes hundreds."""
    if len(passwords) < 2:
        return [generate_password_hash(p) for p in passwords]
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        return list(pool.map(generate_password_hash, passwords))


def set_password(user: User, password: str, *, actor=None, must_change: bool = False) -> None:
    """Change a password; existing sessions of the user end (their session version changes).
    ``must_change``: set by someone else (an administrator's reset), so the user must replace it
    at their next login; a user changing their own password clears that."""
    check_password_strength(password, user=user)
    user.set_password(password)
    user.password_must_change = must_change
    user.session_version = (user.session_version or 1) + 1
    record("user.set_password", user, label=user.username, unit_path=user_area_path(user), actor=actor)
    db.session.flush()


def check_grant(role: Role, *, valid_from: date, unit: AdminUnit | None = None, facility: Facility | None = None,
                valid_to: date | None = None) -> None:
    """The rules of a grant, checked before anything is written (:func:`grant_role`, and the
    accounts import's dry run): exactly one of a unit or a facility; the station roles at a
    station and the centre role at an area health centre (:data:`ROLE_FACILITY_KIND`); an end
    after the start."""
    if (unit is None) == (facility is None):
        raise ValidationFailed(_l("Quyền phải gắn với đúng một đơn vị hoặc một cơ sở y tế."))
    expected = ROLE_FACILITY_KIND.get(role)
    if expected is not None and (facility is None or facility.kind != expected):
        raise ValidationFailed(_l("Vai trò này phải được cấp tại một cơ sở y tế đúng loại."))
    if valid_to is not None and valid_to <= valid_from:
        raise ValidationFailed(_l("Ngày kết thúc phải sau ngày bắt đầu."))


def grant_role(user: User, role: Role, *, valid_from: date, unit: AdminUnit | None = None,
               facility: Facility | None = None, valid_to: date | None = None, actor=None,
               source_file: str | None = None) -> RoleGrant:
    """Grant ``role`` at a unit or a facility (exactly one). Station and centre roles are held at a
    facility of the matching kind; province admins and viewers may hold a grant at a unit
    (:func:`check_grant`). ``source_file``: the imported file's name, for the audit event."""
    check_grant(role, unit=unit, facility=facility, valid_from=valid_from, valid_to=valid_to)
    grant = RoleGrant(user=user, role=role.value, unit=unit, facility=facility,
                      valid_from=valid_from, valid_to=valid_to)
    db.session.add(grant)
    db.session.flush()
    where = unit.path if unit is not None else facility.unit.path
    after = {"user": user.username, "role": role.value, "unit_id": getattr(unit, "id", None),
             "facility_id": getattr(facility, "id", None), "valid_from": valid_from, "valid_to": valid_to}
    if source_file:
        after["file"] = source_file
    record("role.grant", grant, label=f"{user.username}: {role.value}", unit_path=where, after=after, actor=actor)
    return grant


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None. The same answer (and about the same
    time) whether the name or the password is wrong, so names cannot be probed."""
    user = get_user_by_username(username)
    if user is None:
        # Equalise timing: an unknown name costs one hash too (bandit B106: a throwaway, unsaved object).
        User(password_hash="").set_password(password or "x")  # nosec B106
        return None
    if not user.active or not user.check_password(password or ""):
        return None
    return user


def end_web_sessions(user: User) -> None:
    """Logging out ends the user's web sessions on the server: the session and remember-me
    cookies of every browser stop working (issue #9: a cookie copied before logout must not
    open the app after it). API tokens are not sessions and stay valid."""
    user.login_version = (user.login_version or 1) + 1


def note_login(user: User) -> None:
    user.last_login_at = clock.now()
    record("user.login", user, label=user.username, unit_path=user_area_path(user), actor=user)
    db.session.flush()


def note_failed_login(username: str) -> None:
    """Write a wrong password tried on an existing account in the audit log, with the client's
    address, where the account's administrators see it (docs/security.md). A name that is
    nobody's is not written: anyone could fill the log with made-up names, and the throttles
    (``auth/throttle.py``) bound what an existing account can receive."""
    user = get_user_by_username(username)
    if user is not None:
        record("user.login_failed", user, label=user.username, unit_path=user_area_path(user), actor=VISITOR)


def end_grant(grant: RoleGrant, *, on: date, actor=None) -> RoleGrant:
    """End a role grant from ``on`` (the last day of access is the day before). Grants are
    closed, never deleted, so who could do what on a past date stays answerable."""
    if grant.valid_to is not None and grant.valid_to <= on:
        raise Conflict(_l("Quyền này đã kết thúc từ trước."))
    if on <= grant.valid_from:
        raise ValidationFailed(_l("Ngày kết thúc phải sau ngày bắt đầu (%(d)s).",
                                  d=grant.valid_from.strftime("%d/%m/%Y")), field="valid_to")
    before = {"valid_to": grant.valid_to}
    grant.valid_to = on
    where = grant.unit.path if grant.unit is not None else grant.facility.unit.path
    record("role.end", grant, label=f"{grant.user.username}: {grant.role}", unit_path=where,
           before=before, after={"valid_to": on}, actor=actor)
    db.session.flush()
    return grant


def set_active(user: User, active: bool, *, actor=None) -> User:
    """Lock or unlock an account. A locked account cannot log in and its sessions end."""
    if actor is not None and actor.id == user.id and not active:
        raise ValidationFailed(_l("Bạn không thể tự khoá tài khoản của mình."))
    if user.active == active:
        return user
    user.active = active
    user.session_version = (user.session_version or 1) + 1
    record("user.activate" if active else "user.deactivate", user, label=user.username,
           unit_path=user_area_path(user),
           before={"active": not active}, after={"active": active}, actor=actor)
    db.session.flush()
    return user


def create_user_with_role(*, username: str, full_name: str, password: str, role: Role,
                          unit: AdminUnit | None = None, facility: Facility | None = None,
                          email: str | None = None, valid_from: date, actor=None) -> User:
    """A new account always starts with one grant, so it belongs to an area from the start."""
    where = unit if unit is not None else (facility.unit if facility is not None else None)
    user = create_user(username=username, full_name=full_name, password=password, email=email,
                       unit_path=where.path if where is not None else None, actor=actor)
    grant_role(user, role, unit=unit, facility=facility, valid_from=valid_from, actor=actor)
    return user


def grantable_places(prefixes: list[str], as_of: date) -> list[tuple[str, str, str]]:
    """Where a province admin may grant roles: facilities and units (province, communes) inside
    their area, as ``(value, label, group)`` for a select box. Values: ``f:<id>`` / ``u:<id>``."""
    from ..units.models import UnitLevel
    from ..units.services import path_filter, valid_on

    places: list[tuple[str, str, str]] = []
    facilities = db.session.scalars(
        select(Facility).join(AdminUnit, Facility.unit_id == AdminUnit.id)
        .where(path_filter(prefixes), valid_on(Facility, as_of)).order_by(Facility.kind, Facility.name))
    for f in facilities:
        places.append((f"f:{f.id}", f.name, str(_l("Cơ sở y tế"))))
    units = db.session.scalars(
        select(AdminUnit).where(path_filter(prefixes), valid_on(AdminUnit, as_of),
                                AdminUnit.level.in_([UnitLevel.PROVINCE.value, UnitLevel.COMMUNE.value]))
        .order_by(AdminUnit.level.desc(), AdminUnit.name))
    for u in units:
        places.append((f"u:{u.id}", u.full_name, str(_l("Đơn vị hành chính"))))
    return places


def resolve_place(value: str) -> tuple[AdminUnit | None, Facility | None]:
    """Turn a ``f:<id>`` / ``u:<id>`` choice back into objects (None, None if unknown)."""
    kind, _, raw = (value or "").partition(":")
    if not is_ascii_digits(raw):
        return None, None
    if kind == "f":
        return None, db.session.get(Facility, int(raw))
    if kind == "u":
        return db.session.get(AdminUnit, int(raw)), None
    return None, None
