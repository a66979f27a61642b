"""List benchmarks for issue #8 ("Targets"): every list page and API list, for two users.

Run by :mod:`benchmarks.bench_roster` (``make bench``) on the same dataset and database, as a second
group of cases with its own ``GET /health`` baseline measured in the same rounds. Each page is
opened through the Flask test client as

- the admin of the province with the most collaborators (Hồ Chí Minh on the national dataset,
  ``bench_admin_<code>``): target median < 150 ms;
- the national user (``bench_national``, province admin in all 34 provinces): target < 500 ms.

HTML pages go through a logged-in session, API lists carry the user's bearer token (written by
:mod:`benchmarks.national`). Pages bound to one unit (quota, allowance sheets, meetings, the API's
unit lists) are opened on the heaviest province, its heaviest commune and its first area health
centre by both users; the other lists cover the user's whole scope. A page the app does not have
(the whole-scope roster ``/collaborators/roster`` before issue #8) is reported "missing", and a
page answering an error is reported with its status, instead of stopping the run.

    python -m benchmarks.bench_roster --only lists --scale 0.1 --reps 20 --no-pg
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from danso_network.collaborators.models import Assignment
from danso_network.common.clock import today
from danso_network.extensions import db
from danso_network.units.models import AdminUnit, UnitLevel

from .national import NATIONAL_USERNAME, api_token_of

ADMIN_TARGET_MS = 150.0
NATIONAL_TARGET_MS = 500.0
SCOPE_ROSTER = "/collaborators/roster"


def heaviest_commune(app, province_path: str) -> dict:
    """The commune of the province with the most assignments in force today (the heaviest
    commune sheet and meeting page)."""
    with app.app_context():
        day = today()
        hamlet = aliased(AdminUnit)
        in_force = (Assignment.started_on <= day) & (Assignment.ended_on.is_(None) | (Assignment.ended_on > day))
        commune_id, n = db.session.execute(
            select(hamlet.parent_id, func.count()).select_from(Assignment)
            .join(hamlet, hamlet.id == Assignment.hamlet_id)
            .where(in_force, Assignment.hamlet_path.startswith(province_path))
            .group_by(hamlet.parent_id).order_by(func.count().desc(), hamlet.parent_id).limit(1)).one()
        commune = db.session.get(AdminUnit, commune_id)
        assert commune.level == UnitLevel.COMMUNE
        return {"commune_id": commune.id, "commune_name": commune.full_name, "commune_collaborators": n}


def list_pages(info: dict) -> list[tuple[str, str, str, bool]]:
    """(key, label, URL, API?) of every list measured."""
    p, c, f = info["province_id"], info["commune_id"], info["centre_id"]
    return [
        ("supervision", "Supervision dashboard", "/supervision/", False),
        ("overdue", "Overdue visits", "/supervision/overdue", False),
        ("follow_ups", "Open follow-ups", "/supervision/follow-ups", False),
        ("under_review", "Under review", "/supervision/under-review", False),
        ("visits", "Supervision visits", "/supervision/visits", False),
        ("meetings", "Monthly meetings of the commune", f"/supervision/meetings/{c}", False),
        ("vacancies", "Vacancies", "/recruitment/vacancies", False),
        ("applications", "Applications", "/recruitment/applications", False),
        ("quota", "Quota of the province", f"/collaborators/quota/{p}", False),
        ("sheet_commune", "Allowance sheet, commune", f"/allowances/sheet/{c}", False),
        ("sheet_centre", "Allowance sheet, area health centre", f"/allowances/sheet/centre/{f}", False),
        ("sheet_province", "Allowance sheet, province", f"/allowances/sheet/{p}", False),
        ("training", "Training courses", "/training/", False),
        ("handovers", "Register hand-overs", "/collaborators/handovers", False),
        ("audit", "Audit log", "/audit/", False),
        ("users", "Users", "/admin/users", False),
        ("roster_scope", "Whole-scope roster", SCOPE_ROSTER, False),
        ("api_quota", "API quota of the province", f"/api/v1/units/{p}/quota", True),
        ("api_overdue", "API overdue visits, province", f"/api/v1/units/{p}/overdue-visits", True),
        ("api_follow_ups", "API follow-ups, province", f"/api/v1/units/{p}/follow-ups", True),
        ("api_under_review", "API under review, province", f"/api/v1/units/{p}/under-review", True),
        ("api_vacancies", "API vacancies", "/api/v1/vacancies", True),
        ("api_applications", "API applications", "/api/v1/applications", True),
    ]


def has_scope_roster(app) -> bool:
    """Whether the app has the roster page over a user's whole scope (issue #8)."""
    return any(rule.rule.rstrip("/") == SCOPE_ROSTER and "GET" in rule.methods for rule in app.url_map.iter_rules())


def build_list_cases(app, info: dict, *, Case, http, login) -> tuple[list, list[str]]:
    """The list cases of both users, after their own ``/health`` baseline. ``Case``, ``http`` and
    ``login`` come from :mod:`benchmarks.bench_roster` (one definition of a case and its timing)."""
    info.update(heaviest_commune(app, info["province_path"]))
    admin = f"bench_admin_{info['province_code']}"
    users = [("admin", admin, ADMIN_TARGET_MS, f"{info['province_name']} admin"),
             ("national", NATIONAL_USERNAME, NATIONAL_TARGET_MS, "national user")]
    scope_roster = has_scope_roster(app)
    clients = {name: login(app, username) for name, username, _, _ in users}
    cases = [Case("health", "Baseline: GET /health (same client)", http(clients["admin"], "/health"))]
    for name, username, target, who in users:
        headers = {"Authorization": f"Bearer {api_token_of(username)}"}
        for key, label, url, api in list_pages(info):
            case = Case(f"{name}:{key}", f"{label} `{url}` ({who})",
                        http(clients[name], url, headers=headers if api else None, api=api), target, url, username,
                        headers=headers if api else None)
            if key == "roster_scope" and not scope_roster:
                case.error = f"missing: the app has no `GET {SCOPE_ROSTER}`"
            cases.append(case)
    notes = [f"Unit-bound pages: province {info['province_name']} (id {info['province_id']}), its commune with the "
             f"most collaborators {info['commune_name']} (id {info['commune_id']}, {info['commune_collaborators']:,} "
             f"assignments in force), centre {info['centre_name']} (id {info['centre_id']}); the national user opens "
             "the same units.",
             f"Targets: median < {ADMIN_TARGET_MS:.0f} ms for the province admin, < {NATIONAL_TARGET_MS:.0f} ms for "
             "the national user. *size* is the response body (HTML) or the list's `total` (API)."]
    return cases, notes
