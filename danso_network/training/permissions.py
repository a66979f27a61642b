"""Who may see and change training courses and attendance (predicates written once, used by
views, templates, the API and the CLI; DESIGN.md §4 rule 6). Fail-closed: no grant, no access.

- A course belongs to the area that organises it (``unit``). It is visible to users whose scope
  covers that unit and to users whose area lies under it: a province course is open to every
  station of the province. Only users with an editing role covering the unit change the course.
- A user puts on a course only people of their own area (a person belongs to the areas of their
  applications' hamlets and of their open assignments), by an editing role.
- The organising area sees a course's whole list; others see the people of their own area.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from ..auth.models import User
from ..auth.permissions import scope_of
from ..collaborators.models import Collaborator
from ..collaborators.permissions import RECORDING_ROLES, can_record_at
from ..extensions import db
from ..recruitment.models import Candidate
from .models import TrainingAttendance, TrainingCourse


def course_visible_from(prefixes: Sequence[str], unit_path: str) -> bool:
    """The course's unit lies inside one of the areas, or one of the areas lies inside it."""
    return any(unit_path.startswith(p) or p.startswith(unit_path) for p in prefixes)


def recording_prefixes(user: User) -> list[str]:
    """The areas where the user records training (every editing role)."""
    return scope_of(user).prefixes_for(RECORDING_ROLES)


def person_paths(candidate: Candidate) -> list[str]:
    """The hamlet paths a person belongs to (applications, open assignments)."""
    paths = [a.hamlet_path for a in candidate.applications]
    collaborator = db.session.scalar(select(Collaborator).where(Collaborator.candidate_id == candidate.id))
    if collaborator is not None:
        paths += [a.hamlet_path for a in collaborator.assignments if a.ended_on is None]
    return paths


def person_in(prefixes: Sequence[str], candidate: Candidate) -> bool:
    return any(path.startswith(p) for path in person_paths(candidate) for p in prefixes)


def can_view_course(user: User, course: TrainingCourse) -> bool:
    return course_visible_from(scope_of(user).prefixes, course.unit_path)


def can_edit_course(user: User, course: TrainingCourse) -> bool:
    """Changing the course itself, and the results of everyone on it: the organising area."""
    return can_record_at(user, course.unit)


def can_enrol_on(user: User, course: TrainingCourse) -> bool:
    """Whether the user may put people (of their own area) on this course."""
    return course_visible_from(recording_prefixes(user), course.unit_path)


def can_enrol(user: User, course: TrainingCourse, candidate: Candidate) -> bool:
    """A person of the user's own area, on a course the user sees, by an editing role."""
    return can_enrol_on(user, course) and person_in(recording_prefixes(user), candidate)


def can_change_attendance(user: User, attendance: TrainingAttendance) -> bool:
    return can_enrol(user, attendance.course, attendance.candidate) or can_edit_course(user, attendance.course)


def sees_every_attendee(user: User, course: TrainingCourse) -> bool:
    """The organising area sees the whole list; others see the people of their own area."""
    return bool(scope_of(user).roles_at(course.unit_path))


def can_view_attendance(user: User, attendance: TrainingAttendance) -> bool:
    course = attendance.course
    return can_view_course(user, course) and (
        sees_every_attendee(user, course) or person_in(scope_of(user).prefixes, attendance.candidate))
