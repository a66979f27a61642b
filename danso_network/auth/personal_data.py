"""Personal data: who sees a person's CCCD number, phone number and full date of birth.

This is the project's policy, written once here and applied to every page, print, CSV export and
the JSON API (DESIGN.md §4 rule 6). It follows Nghị định 13/2023/NĐ-CP on personal data protection
(bảo vệ dữ liệu cá nhân): a person's name, date of birth, sex, phone and CCCD number are basic
personal data (Điều 2 khoản 3), processed only for their purpose and limited to what that purpose
needs (Điều 3). How the decree applies to each role below is this project's choice, not text of
the decree.

**Personal fields** (:data:`PERSONAL_FIELDS`): the CCCD number (``national_id``), the phone number
and the full date of birth. Everyone who may see a record also sees the person's name, sex,
ethnicity, year of birth and hamlet: the record is about a named person (a recognition decision is
an administrative document that lists them), and the year gives the age the criteria check.

**Who sees the personal fields:**

1. The editing roles (province admin, centre officer, station head, station population officer)
   over a hamlet the person serves or served as a collaborator, or applied for: those who recruit,
   contract, pay, train and supervise them (:func:`can_see_personal_data`).
2. The commune People's Committee (UBND xã), for an application in its commune that awaits its own
   decision: where the province's criteria make it confirm the station director's approval, the
   workflow table gives it the move from ``director_approved`` (:func:`can_see_applicant_data`).
3. On a recognition decision, its issuer — the user who issued it, or an editing role at the
   issuing facility — sees everyone listed; any other reader sees, person by person, what rules 1
   and 2 give, and the others by name (:func:`visible_in_decision`).

Everyone else — viewers, and the commune committee outside rule 2 — sees name, sex and year of
birth; the CCCD and phone are hidden and the date of birth is cut to its year.

**Searches.** Digits typed in a search match CCCD numbers only in the areas of rule 1
(:func:`personal_data_areas`), so that a search cannot probe a number its user may not see.

**How hidden values look.** Pages show a mark with the title “Ẩn theo quy định bảo vệ dữ liệu cá
nhân” (:func:`show_national_id`, :func:`show_phone`, :func:`show_birth_date`); CSV files the text
“(ẩn)” (:func:`masked_text`); the API ``null``, with ``year_of_birth`` always given.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from .models import EDITING_ROLES, Role, User
from .permissions import scope_of

PERSONAL_FIELDS = ("national_id", "phone", "date_of_birth")
HIDDEN_TITLE = _l("Ẩn theo quy định bảo vệ dữ liệu cá nhân")
HIDDEN_TEXT = _l("(ẩn)")
HIDDEN_MARK = "••••"


# --- who sees ---------------------------------------------------------------------------------


def personal_data_areas(user: User) -> list[str]:
    """The areas (unit paths) where the user sees people's personal data: those of their editing
    roles (rule 1). Searches by CCCD digits are limited to them."""
    return scope_of(user).prefixes_for(EDITING_ROLES)


def can_see_personal_data(user: User, paths: Iterable[str]) -> bool:
    """Rule 1: whether the user sees the personal data of a person whose hamlets (served, once
    served, or applied for) are ``paths``: an editing role over one of them. No path, no data."""
    scope = scope_of(user)
    return any(scope.roles_at(p) & EDITING_ROLES for p in paths)


def can_see_applicant_data(user: User, application) -> bool:
    """Rules 1 and 2 for an application: an editing role over its hamlet, or a read-only role
    that the workflow table makes decide the application in its current state (the commune
    People's Committee confirming the station director's approval)."""
    if can_see_personal_data(user, [application.hamlet_path]):
        return True
    from ..recruitment.workflow import TRANSITIONS

    held = scope_of(user).roles_at(application.hamlet_path) - EDITING_ROLES
    return bool(held) and any(state == application.state and isinstance(who, frozenset) and who & held
                              for (state, _action), (_to, who) in TRANSITIONS.items())


def is_decision_issuer(user: User, decision) -> bool:
    """Rule 3: the user issued the recognition decision, or holds an editing role, today, at the
    facility that issued it (the area health centre or the Department of Health)."""
    if getattr(user, "id", None) is None:
        return False
    if decision.created_by_id == user.id:
        return True
    from ..common.clock import today

    day = today()
    return decision.issuer_facility_id is not None and any(
        g.facility_id == decision.issuer_facility_id and g.valid_on(day) and Role(g.role) in EDITING_ROLES
        for g in user.grants)


def visible_in_decision(user: User, decision) -> set[int]:
    """The ids of the decision's applications whose people's personal data the user sees: all
    for its issuer, else those of rules 1 and 2 (the people of the reader's own area)."""
    if is_decision_issuer(user, decision):
        return {a.id for a in decision.applications}
    return {a.id for a in decision.applications if can_see_applicant_data(user, a)}


# --- how it is shown --------------------------------------------------------------------------


def masked_text(value: str | None, visible: bool) -> str:
    """A personal value for a file (CSV): itself (empty when missing), or “(ẩn)”."""
    if visible:
        return value or ""
    return str(HIDDEN_TEXT)


def birth_date_text(born: date | None, visible: bool) -> str:
    """A date of birth as text: dd/mm/yyyy, or only the year for those who may not see it."""
    if born is None:
        return ""
    return born.strftime("%d/%m/%Y") if visible else str(born.year)


def hidden_html() -> Markup:
    """The mark shown in place of a hidden value, saying why it is hidden."""
    return Markup('<span class="text-muted" title="{t}"><span aria-hidden="true">{m}</span>'
                  '<span class="visually-hidden">{t}</span></span>').format(t=HIDDEN_TITLE, m=HIDDEN_MARK)


def show_national_id(value: str | None, visible: bool) -> Markup:
    """A CCCD number on a page, or the hidden mark."""
    if not visible:
        return hidden_html()
    return Markup('<span class="font-monospace">{v}</span>').format(v=value) if value else Markup("—")


def show_phone(value: str | None, visible: bool) -> Markup:
    """A phone number on a page, or the hidden mark."""
    if not visible:
        return hidden_html()
    return escape(value) if value else Markup("—")


def show_birth_date(born: date | None, visible: bool) -> Markup:
    """A date of birth on a page: dd/mm/yyyy, or the year with the reason in its title."""
    if born is None:
        return Markup("—")
    if visible:
        return escape(birth_date_text(born, True))
    return Markup('<span title="{t}">{y}</span>').format(t=HIDDEN_TITLE, y=born.year)
