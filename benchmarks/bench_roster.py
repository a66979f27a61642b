"""Roster (issue #4) and list (issue #8) benchmarks, on SQLite and PostgreSQL, written to RESULTS.md.

For each database: build (or reuse) the national dataset (:mod:`benchmarks.national`), then time,
after a warm-up and with the cases interleaved in every round (so a burst of load on this shared
machine hits all of them alike):

- baselines: ``GET /health`` through the same test client, and a primary-key lookup;
- the province roster page ``GET /collaborators/roster/<province id>`` (templates included) as that
  province's admin, for the province with the most collaborators, and ``roster_page`` alone;
- a national search by name typed without diacritics (``nguyen thi lan``) with the prefixes of a
  user who is province admin in all 34 provinces: the service call and the HTTP page;

and report the median and the 90th percentile, each as a ratio to the ``/health`` median too
(DESIGN.md §9: these machines are shared and noisy). Targets: province roster < 100 ms and national
name search < 200 ms at the median. A case that misses its target gets its slowest SQL statements
and their plans (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE) in the results.

Then, as a second group measured the same way with its own ``/health`` baseline, every list page
and API list of issue #8 for the province admin and the national user (:mod:`benchmarks.bench_lists`),
and as a third the coverage computation of issue #10 (:mod:`benchmarks.bench_coverage`). Last, the
coverage maps of issue #10 (:mod:`benchmarks.bench_maps`) as two more groups: ``maps_demo`` on a
database of its own holding the Đồng Nai demo (SQLite ``benchmarks/.data/demo-s7.db``; PostgreSQL
``danso_bench_demo`` on the same server, dropped afterwards unless ``--keep-pg``) with the
``GeoDataFrame.explore()`` baseline, and ``maps`` on the national dataset (whose communes get their
real boundaries first, once). ``--only maps`` runs both. Then the exports of issue #11
(:mod:`benchmarks.bench_exports`: XLSX of every collaborator against bare xlsxwriter, CSV, a
province PDF) and the yearly network report (:mod:`benchmarks.bench_reports`), each case timed
three times (they take seconds).

    python -m benchmarks.bench_roster [--seed 1] [--scale 1.0] [--reps 30] [--warmup 5] [--no-pg]
                                      [--only roster|lists|coverage|maps|exports|reports]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from danso_network.auth.models import User
from danso_network.auth.permissions import compute_scope
from danso_network.collaborators.models import Assignment
from danso_network.common.clock import today as vn_today
from danso_network.extensions import db
from danso_network.units.models import AdminUnit, Facility, FacilityKind, UnitLevel

from .bench_coverage import build_coverage_cases
from .bench_exports import build_export_cases
from .bench_imports import build_hamlet_cases
from .bench_lists import build_list_cases
from .bench_maps import DEMO_PG_DATABASE, build_demo_cases, build_map_cases, demo_sqlite_path, ensure_demo
from .bench_reports import build_report_cases
from .bench_roster_import import build_roster_import_cases
from .national import BENCH_PASSWORD, NATIONAL_USERNAME, ensure_dataset, make_bench_app

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / ".data"
RESULTS = HERE / "RESULTS.md"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SEARCH_Q = "nguyen thi lan"
ROSTER_TARGET_MS = 100.0
SEARCH_TARGET_MS = 200.0
_CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


class BenchError(RuntimeError):
    pass


@dataclass
class Case:
    key: str
    label: str
    run: Callable[[], object]
    target_ms: float | None = None
    url: str | None = None  # HTTP cases: profiled statement by statement when the target is missed
    user: str | None = None
    headers: dict | None = None  # API cases: the bearer token (else the user's logged-in session)
    samples: list[float] = field(default_factory=list)
    error: str | None = None  # not measured: the page is missing or answers an error
    size: str = ""  # what the first answer held (body size, or an API list's total)
    note: str = ""  # e.g. timed fewer times than the others because it is far too slow
    size_target: str = ""  # a limit on the answer's size too (maps, issue #10), e.g. "< 50 KB"
    size_passed: bool | None = None  # whether the first answer was within it (set by the case itself)
    finish: Callable[[], None] | None = None  # run once all rounds are timed (a verdict on final medians)

    @property
    def median(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p90(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(round(0.9 * len(ordered))) - 1)] * 1000

    @property
    def passed(self) -> bool | None:
        if self.error:
            return False if self.target_ms is not None or self.size_target else None
        if self.size_passed is False:
            return False
        if self.target_ms is None:
            return self.size_passed
        return self.median < self.target_ms


@dataclass
class Group:
    """Cases measured together (interleaved in the same rounds), with their own /health baseline."""

    key: str
    title: str
    cases: list[Case] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diagnosis: list[str] = field(default_factory=list)


@dataclass
class DbResult:
    name: str
    url: str
    version: str = ""
    meta: dict = field(default_factory=dict)
    reused: bool = False
    groups: list[Group] = field(default_factory=list)
    after_cases: list[Case] = field(default_factory=list)
    proposals: list = field(default_factory=list)
    error: str | None = None
    demo_url: str | None = None  # the Đồng Nai demo's database (maps group)
    demo_meta: dict = field(default_factory=dict)
    demo_reused: bool = False


# --- the cases ----------------------------------------------------------------------------------


def _roster_api():
    try:
        from danso_network.collaborators.services import RosterFilters, roster_page
    except ImportError as e:  # the service is part of issue #4
        raise BenchError(f"danso_network.collaborators.services.roster_page is missing ({e})") from e
    return RosterFilters, roster_page


def _login(app, username: str):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    match = _CSRF_RE.search(html)
    if not match:
        raise BenchError("no CSRF token on /login")
    response = client.post("/login", data={"username": username, "password": BENCH_PASSWORD,
                                           "csrf_token": match.group(1)})
    if response.status_code != 302:
        raise BenchError(f"login as {username} failed: HTTP {response.status_code}")
    return client


def _http(client, url: str, must_contain: str | None = None, *, headers: dict | None = None, api: bool = False):
    def run():
        response = client.get(url, headers=headers)
        body = response.get_data()
        if response.status_code != 200:
            raise BenchError(f"GET {url}: HTTP {response.status_code}")
        if must_contain and must_contain.encode() not in body:
            raise BenchError(f"GET {url}: the page does not show {must_contain!r}")
        return body
    return run


def _size(case: Case, answer) -> str:
    """What a case's answer held: an API list's total, or the size of the page."""
    if isinstance(answer, str):  # a service case saying what it read
        return answer
    if not isinstance(answer, bytes):
        return ""
    if case.headers is not None:
        try:
            total = json.loads(answer).get("total")
        except (ValueError, AttributeError):
            total = None
        if total is not None:
            return f"{total:,} rows"
    return f"{len(answer) / 1024:.0f} KB" if len(answer) >= 1024 else f"{len(answer)} B"


def _in_context(app, fn):
    def run():
        with app.app_context():
            return fn()
    return run


def _pick(app) -> dict:
    """The province with the most collaborators in force (the heaviest province roster), its admin,
    the national user's prefixes, and a name the search must find."""
    with app.app_context():
        today = vn_today()
        in_force = (Assignment.started_on <= today) & ((Assignment.ended_on.is_(None)) | (Assignment.ended_on > today))
        provinces = list(db.session.scalars(select(AdminUnit).where(AdminUnit.level == UnitLevel.PROVINCE.value)))
        counts = {p.id: db.session.scalar(select(func.count()).select_from(Assignment).where(
            in_force, Assignment.hamlet_path.startswith(p.path))) for p in provinces}
        province = max(provinces, key=lambda p: counts[p.id])
        centre = db.session.scalar(select(Facility).where(
            Facility.kind == FacilityKind.HEALTH_CENTRE.value, Facility.unit_id == province.id).order_by(Facility.code))
        national = db.session.scalar(select(User).where(User.username == NATIONAL_USERNAME))
        prefixes = compute_scope(national).prefixes
        return {"province_id": province.id, "province_path": province.path, "province_code": province.code,
                "province_name": province.full_name, "province_collaborators": counts[province.id],
                "centre_id": centre.id, "centre_name": centre.name, "national_prefixes": prefixes, "national_collaborators": sum(counts.values())}


def build_cases(app) -> tuple[list[Case], dict, list[str]]:
    RosterFilters, roster_page = _roster_api()
    info = _pick(app)
    notes = []
    admin = f"bench_admin_{info['province_code']}"
    admin_client = _login(app, admin)
    national_client = _login(app, NATIONAL_USERNAME)
    province_url = f"/collaborators/roster/{info['province_id']}"
    centre_url = f"/collaborators/roster/centre/{info['centre_id']}"
    last_page = max(1, -(-info["province_collaborators"] // 50))
    with app.app_context():
        today = vn_today()

    def province_service():
        page = roster_page([info["province_path"]], RosterFilters(as_of=today))
        rows = list(page.rows)
        if not rows:
            raise BenchError("the province roster is empty")
        return page.total

    def national_search():
        page = roster_page(info["national_prefixes"], RosterFilters(as_of=today, q=SEARCH_Q))
        rows = list(page.rows)
        if not rows:
            raise BenchError(f"the national search for {SEARCH_Q!r} found nobody")
        return page.total

    def pk_lookup():
        return db.session.get(AdminUnit, info["province_id"]).name

    cases = [
        Case("health", "Baseline: GET /health (same client)", _http(admin_client, "/health")),
        Case("pk", "Baseline: primary-key lookup (fresh session)", _in_context(app, pk_lookup)),
        Case("roster_http", f"Province roster page, {info['province_name']} (HTTP, as its admin)",
             _http(admin_client, province_url), ROSTER_TARGET_MS, province_url, admin),
        Case("roster_service", "Province roster, roster_page() alone", _in_context(app, province_service),
             ROSTER_TARGET_MS),
        Case("roster_last_http", "Province roster, last page (HTTP; no target)",
             _http(admin_client, f"{province_url}?page={last_page}"), None, f"{province_url}?page={last_page}", admin),
        Case("centre_http", f"Centre roster, {info['centre_name']} (HTTP; no target)",
             _http(admin_client, centre_url), None, centre_url, admin),
        Case("search_service", f"National name search “{SEARCH_Q}”, roster_page() with 34 provinces' prefixes",
             _in_context(app, national_search), SEARCH_TARGET_MS),
    ]
    national_url = _national_page(app, national_client, info)
    if national_url:
        cases.append(Case("search_http", f"National name search “{SEARCH_Q}” (HTTP, national user)",
                          _http(national_client, national_url), SEARCH_TARGET_MS, national_url, NATIONAL_USERNAME))
    else:
        notes.append("The app has no roster page over a user's whole scope (`/collaborators/` lists the user's "
                     "areas to choose from), so the national search is measured as the service call; the search page "
                     "measured is the province roster with `?q=`, opened by the national user.")
        url = f"{province_url}?q={SEARCH_Q.replace(' ', '+')}"
        cases.append(Case("search_province_http", f"Name search “{SEARCH_Q}” in {info['province_name']} (HTTP, "
                          "national user)", _http(national_client, url), SEARCH_TARGET_MS, url, NATIONAL_USERNAME))
    return cases, info, notes


def _national_page(app, client, info) -> str | None:
    """A roster page over the user's whole scope, if the app has one (``/collaborators/roster``)."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("collaborators.") and rule.rule.rstrip("/") == "/collaborators/roster" \
                and "GET" in rule.methods:
            return f"/collaborators/roster?q={SEARCH_Q.replace(' ', '+')}"
    return None


def print_cases(cases: list[Case], notes) -> None:
    """A group's cases and notes on the terminal, for a benchmark module run alone (no RESULTS.md)."""
    for case in cases:
        if case.error:
            print(f"{case.key}: not measured ({case.error})")
            continue
        verdict = {True: "PASS", False: "MISS", None: "-"}[case.passed]
        print(f"{case.key:15} median {case.median:9.0f} ms  p90 {case.p90:9.0f} ms  {verdict:4}  {case.size}  "
              f"| {case.label}")
    for note in notes:
        print(str(note))


def measure(cases: list[Case], warmup: int, reps: int, slow_limit: float | None = None) -> None:
    """Probe every case once (a case that fails is set aside with its error, not timed), then
    ``warmup`` rounds untimed and ``reps`` timed rounds, every case once per round, in an order
    rotated each round. A case whose probe takes longer than ``slow_limit`` seconds (far beyond
    any target) is timed three times in a row instead and left out of the rounds, so one very slow
    page does not make the run last hours; the table says so."""
    slow = []
    for case in cases:
        if case.error:
            continue
        try:
            started = time.perf_counter()
            case.size = _size(case, case.run())
            took = time.perf_counter() - started
        except Exception as e:  # noqa: BLE001 - a page under rewrite may fail; the others still count
            case.error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:200]
            print(f"    {case.key}: not measured ({case.error})", file=sys.stderr, flush=True)
            continue
        if took > 1:
            print(f"    {case.key}: first run {took:.1f} s", flush=True)
        if slow_limit is not None and took > slow_limit:
            slow.append(case)
    for case in slow:
        print(f"    {case.key}: over {slow_limit:.0f} s, timed 3 times only", file=sys.stderr, flush=True)
        for _ in range(3):
            started = time.perf_counter()
            case.run()
            case.samples.append(time.perf_counter() - started)
        case.note = f"timed 3 times only (first run over {slow_limit:.0f} s)"
    cases = [c for c in cases if not c.error and c not in slow]
    for _ in range(warmup):
        for case in cases:
            case.run()
    for rep in range(reps):
        shift = rep % len(cases)  # rotate the order so no case always runs right after another
        for case in cases[shift:] + cases[:shift]:
            started = time.perf_counter()
            case.run()
            case.samples.append(time.perf_counter() - started)
    for case in [*cases, *slow]:
        if case.finish is not None:
            case.finish()


# --- diagnosis ----------------------------------------------------------------------------------


def profile_request(app, case: Case) -> list[tuple[float, str, object]]:
    """Every SQL statement one request runs, with its time, slowest first."""
    client = app.test_client() if case.headers is not None else _login(app, case.user)
    statements: list[tuple[float, str, object]] = []
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("_bench_t", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info["_bench_t"].pop()
        statements.append((time.perf_counter() - started, statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        client.get(case.url, headers=case.headers)
        statements.clear()
        client.get(case.url, headers=case.headers)  # the second, warm request
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return sorted(statements, key=lambda s: -s[0])


def explain(app, statement: str, parameters) -> str:
    with app.app_context():
        conn = db.session.connection()
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            lines = [f"{'  ' * _depth(rows, r)}{r[-1]}" for r in rows]
        else:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
            lines = [r[0] for r in rows]
        return "\n".join(_collapse(lines))


def _collapse(lines: list[str]) -> list[str]:
    """Fold the repeated branches of a MULTI-INDEX OR (one per prefix) into one line with a count."""
    out: list[tuple[str, int]] = []
    for line in lines:
        if re.fullmatch(r"\s*INDEX \d+", line):
            continue
        if out and out[-1][0] == line:
            out[-1] = (line, out[-1][1] + 1)
        else:
            out.append((line, 1))
    return [f"{line}  (×{n})" if n > 1 else line for line, n in out]


def _depth(rows, row) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


def diagnose(app, case: Case, *, statements_shown: int = 2, plan_lines: int = 45) -> list[str]:
    statements = profile_request(app, case)
    total = sum(s[0] for s in statements) * 1000
    lines = [f"#### {case.label}", "",
             f"`GET {case.url}` ran {len(statements)} SQL statements, {total:.1f} ms in the database (median of the "
             f"whole request {case.median:.1f} ms); the slowest:", ""]
    for elapsed, statement, parameters in statements[:statements_shown]:
        plan = explain(app, statement, parameters).splitlines()
        if len(plan) > plan_lines:
            plan = plan[:plan_lines] + [f"… ({len(plan) - plan_lines} more lines)"]
        lines += [f"**{elapsed * 1000:.1f} ms**", "", "```sql", _shorten(statement, 1500), "```", "",
                  "Parameters: `" + _shorten(repr(parameters), 300) + "`", "", "```", *plan, "```", ""]
    return lines


def _shorten(s: str, limit: int = 3000) -> str:
    s = re.sub(r"\s+", " ", s).strip()
    # One range per prefix of the user's scope (34 for the national user): shown once, with a count.
    s = re.sub(r"((\w+\.\w+) >= \? AND \2 < \?)( OR \2 >= \? AND \2 < \?)+",
               lambda m: f"{m.group(1)} OR … ({m.group(0).count(' OR ') + 1} ranges)", s)
    return s if len(s) <= limit else s[:limit] + " …"


# --- databases ----------------------------------------------------------------------------------


def run_database(result: DbResult, args) -> None:
    result.meta, result.reused = ensure_dataset(result.url, args.seed, args.scale, replace=args.replace)
    app = make_bench_app(result.url)
    with app.app_context():
        result.version = _db_version()
        dialect = db.engine.dialect.name
    demo_app = None
    try:
        roster_cases, info, roster_notes = build_cases(app)
        roster_notes.insert(0, f"Province measured: {info['province_name']} (id {info['province_id']}, "
                               f"{info['province_collaborators']:,} assignments in force of "
                               f"{info['national_collaborators']:,} nationally); centre: {info['centre_name']}.")
        if args.only in (None, "roster"):
            result.groups.append(Group("roster", "Rosters (issue #4)", roster_cases, roster_notes))
        if args.only in (None, "lists"):
            list_cases, list_notes = build_list_cases(app, info, Case=Case, http=_http, login=_login)
            result.groups.append(Group("lists", "Lists (issue #8)", list_cases, list_notes))
        if args.only in (None, "coverage"):
            coverage_cases, coverage_notes = build_coverage_cases(app, info, Case=Case, http=_http, login=_login)
            result.groups.append(Group("coverage", "Coverage (issue #10)", coverage_cases, coverage_notes))
        if args.only in (None, "maps"):
            if result.demo_url:
                result.demo_meta, result.demo_reused = ensure_demo(result.demo_url, replace=args.replace)
                demo_app = make_bench_app(result.demo_url)
                demo_cases, demo_notes = build_demo_cases(demo_app, result.demo_meta, Case=Case, http=_http,
                                                          login=_login)
                result.groups.append(Group("maps_demo", "Coverage maps, Đồng Nai demo (issue #10)", demo_cases,
                                           demo_notes))
            map_cases, map_notes = build_map_cases(app, info, Case=Case, http=_http, login=_login)
            result.groups.append(Group("maps", "Coverage maps, national dataset (issue #10)", map_cases, map_notes))
        if args.only in (None, "exports"):
            export_cases, export_notes = build_export_cases(app, info, Case=Case, http=_http, login=_login)
            result.groups.append(Group("exports", "Exports (issue #11)", export_cases, export_notes))
        if args.only in (None, "reports"):
            report_cases, report_notes = build_report_cases(app, info, Case=Case, http=_http, login=_login)
            result.groups.append(Group("reports", "Yearly network report (issue #11)", report_cases, report_notes))
        if args.only in (None, "imports"):
            # Every timed import is rolled back: the dataset is the same for every round and run.
            hamlet_cases, hamlet_notes = build_hamlet_cases(app, info, Case=Case, http=_http, login=_login)
            roster_import_cases, roster_import_notes = build_roster_import_cases(app, info, Case=Case, http=_http,
                                                                                 login=_login)
            result.groups.append(Group("imports", "Imports (issue #12)", hamlet_cases + roster_import_cases[1:],
                                       hamlet_notes + roster_import_notes))
        for group in result.groups:
            print(f"  {group.title}: measuring {len(group.cases)} cases × ({args.warmup} warm-up + {args.reps}) …",
                  flush=True)
            started = time.perf_counter()
            # Exports and reports take seconds each: a case over a second is timed three times only.
            limit = {"lists": args.slow_limit, "exports": 1.0, "reports": 1.0, "imports": 1.0}.get(group.key)
            measure(group.cases, args.warmup, args.reps, limit)
            print(f"  … {time.perf_counter() - started:.0f} s", flush=True)
        for group in result.groups:
            for case in group.cases:
                if case.passed is False and case.url and not case.error and group.key != "maps_demo":
                    print(f"  diagnosing {case.key} …", flush=True)
                    group.diagnosis += (diagnose(app, case) if group.key == "roster"
                                        else diagnose(app, case, statements_shown=1, plan_lines=25))
        failed = any(c.passed is False for g in result.groups if g.key == "roster" for c in g.cases)
        proposals = [p for p in PROPOSED_INDEXES.get(dialect, []) if not _already_there(app, p)]
        if proposals and (failed or args.proposals) and any(g.key == "roster" for g in result.groups):
            print(f"  measuring again with {len(proposals)} proposed index(es) …", flush=True)
            result.after_cases = with_indexes(app, proposals, args)
            result.proposals = proposals
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if demo_app is not None:
            with demo_app.app_context():
                db.session.remove()
                db.engine.dispose()  # the caller may drop the database next


@dataclass(frozen=True)
class Proposal:
    name: str
    table: str
    ddl: str
    model_change: str  # what to write in the model instead of creating it by hand
    signature: str  # a piece of an existing index definition that means it is already there


# Indexes proposed from the diagnosis, created by hand in the benchmark database (never in the app's
# schema) for the "after" figures, then dropped again.
PROPOSED_INDEXES: dict[str, list[Proposal]] = {
    "postgresql": [Proposal(
        "bench_proposed_assignment_path", "assignment",
        "CREATE INDEX bench_proposed_assignment_path ON assignment (hamlet_path text_pattern_ops, started_on, ended_on)",
        'Index("ix_assignment_path_dates", "hamlet_path", "started_on", "ended_on", '
        'postgresql_ops={"hamlet_path": "text_pattern_ops"})',
        "hamlet_path text_pattern_ops")],
}


def _already_there(app, proposal: Proposal) -> bool:
    with app.app_context():
        defs = db.session.scalars(text("SELECT indexdef FROM pg_indexes WHERE tablename = :t"),
                                  {"t": proposal.table}).all()
        return any(proposal.signature in d and not d.startswith(f"CREATE INDEX {proposal.name} ") for d in defs)


def with_indexes(app, proposals: list[Proposal], args) -> list[Case]:
    with app.app_context():
        for p in proposals:
            db.session.execute(text(f"DROP INDEX IF EXISTS {p.name}"))
            db.session.execute(text(p.ddl))
            db.session.execute(text(f"ANALYZE {p.table}"))
        db.session.commit()
    try:
        cases, _, _ = build_cases(app)
        measure(cases, args.warmup, args.reps)
        return cases
    finally:
        with app.app_context():
            for p in proposals:
                db.session.execute(text(f"DROP INDEX IF EXISTS {p.name}"))
            db.session.commit()


def _db_version() -> str:
    if db.engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    return "PostgreSQL " + db.session.scalar(text("SHOW server_version")).split()[0]


def pg_admin(server: str):
    return create_engine(server, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def pg_database(server: str, name: str, *, fresh: bool) -> str:
    engine = pg_admin(server)
    try:
        with engine.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if exists and fresh:
                _pg_drop(conn, name)
                exists = False
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def pg_drop(server: str, name: str) -> None:
    engine = pg_admin(server)
    try:
        with engine.connect() as conn:
            _pg_drop(conn, name)
    finally:
        engine.dispose()


def _pg_drop(conn, name: str) -> None:
    conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                      "AND pid <> pg_backend_pid()"), {"n": name})
    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')


# --- report -------------------------------------------------------------------------------------


def _fmt_counts(meta: dict) -> str:
    c = json.loads(meta.get("counts", "{}"))
    if not c:
        return ""
    text = (f"{c['provinces']} provinces, {c['communes']:,} communes, {c['hamlets']:,} hamlets "
            f"({c['hamlets_flagged']:,} difficult/ethnic), {c['facilities']:,} facilities, "
            f"{c['collaborators']:,} collaborators with {c['assignments']:,} assignments "
            f"({c['open_assignments']:,} open; {c['ended']:,} ended with a reason and replaced, "
            f"{c['transfers']:,} transfers), {c['suspensions']:,} suspensions ({c['open_suspensions']:,} open), "
            f"{c['users']:,} users")
    if "visits" in c:  # generator version 2 (issue #8)
        text += (f"; {c['visits']:,} supervision visits ({c['follow_ups']:,} with a follow-up, "
                 f"{c['open_follow_ups']:,} still open), {c['meetings']:,} monthly meetings with "
                 f"{c['meeting_rows']:,} attendance rows, {c['pending_applications']:,} applications in progress and "
                 f"{c['failed_applications']:,} rejected or withdrawn, {c['courses']:,} training courses with "
                 f"{c['course_rows']:,} attendance rows, {c['handovers']:,} register hand-overs "
                 f"({c['open_handovers']:,} not yet recorded), {c['allowance_rules']:,} allowance rules, "
                 f"{c['audit_events']:,} audit events")
    return text


def _verdict(c: Case) -> str:
    if c.error:
        return "missing" if c.error.startswith("missing") else "**ERROR**"
    return {True: "PASS", False: "**MISS**", None: "–"}[c.passed]


def write_results(path: Path, results: list[DbResult], args, command: str, load: tuple, elapsed: float) -> None:
    now = datetime.now(UTC).astimezone()
    lines = [
        "# Benchmark results: rosters (issue #4), lists (issue #8), coverage and coverage maps (issue #10) at "
        "national scale", "",
        f"Written by `{command}` on {now:%Y-%m-%d %H:%M %Z}; the whole run took {elapsed:.0f} s.", "",
        "## Summary", "",
    ]
    for r in results:
        if r.error:
            lines.append(f"- {r.name}: not measured ({r.error})")
        for g in r.groups:
            targeted = [c for c in g.cases if c.target_ms is not None or c.size_target]
            passed = [c for c in targeted if c.passed]
            missed = [c for c in targeted if not c.passed]
            lines.append(f"- {r.name}, {g.title}: {len(passed)} of {len(targeted)} cases within target"
                         + (": every one." if not missed else
                            "; not within target: " + "; ".join(f"{c.label} ({_short(c)})" for c in missed) + "."))
    lines += [
        "", "## Machine", "",
        f"- CPUs (`nproc`): {len(os.sched_getaffinity(0))}; load average {load[0]:.2f} at the start, "
        f"{load[1]:.2f} at the end (shared machine: other jobs run alongside)",
        f"- Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        + ", ".join(r.version for r in results if r.version), "",
        "## Dataset", "",
    ]
    meta = next((r.meta for r in results if r.meta), {})
    lines += [
        f"`python -m benchmarks.national --seed {args.seed} --scale {args.scale}` (generator version "
        f"{meta.get('generator_version', '?')}): {_fmt_counts(meta)}. Real communes (codes, names, types; geometry "
        "not loaded by the generator: the maps groups fill the communes' boundaries, once), synthetic hamlets, "
        "people and activity; history ends on 31/10/2026 while the app's \"today\" "
        "is the real date, so lists computed for today (overdue visits above all) grow as time passes.", "",
    ]
    for r in results:
        if r.meta:
            how = "reused from an earlier run (same seed, scale, generator and schema)" if r.reused else "generated"
            lines.append(f"- {r.name}: {how}; generation took {r.meta.get('generation_seconds', '?')} s"
                         + (f" (on {r.meta.get('generated_at')})" if r.reused else ""))
        if r.demo_meta:
            how = "reused from an earlier run (same schema and demo code)" if r.demo_reused else "loaded"
            lines.append(f"- {r.name}, the Đồng Nai demo of the maps group (`danso demo load` seed "
                         f"{r.demo_meta.get('seed', '?')}, with the network: {r.demo_meta.get('communes', '?')} "
                         f"communes, {r.demo_meta.get('hamlets', '?')} hamlets) in a database of its own: {how}; "
                         f"loading took {r.demo_meta.get('generation_seconds', '?')} s")
    lines += [
        "", "## Method", "",
        f"Per group of cases: every case is run once first (a case that fails is reported, not timed), then "
        f"{args.warmup} warm-up rounds, then {args.reps} rounds; each round runs every case of the group once, in "
        "a rotated order. HTTP cases go through the Flask test client with a logged-in session, API cases with "
        "the user's bearer token (real views and templates, no network); service cases call the function in a "
        "fresh app context (empty session). Times are wall clock in milliseconds; *× /health* is the median "
        "divided by the median of `GET /health` measured in the same rounds of the same group. Targets: province "
        f"roster < {ROSTER_TARGET_MS:.0f} ms, national name search < {SEARCH_TARGET_MS:.0f} ms (median); lists: "
        "see their group; maps: some targets are on the size of the first answer (raw, and gzipped), shown in the "
        "target column beside the time target and counted in the result.", "",
    ]
    for r in results:
        lines += [f"## {r.name}", ""]
        if r.error:
            lines += [f"Not measured: {r.error}", ""]
            continue
        for g in r.groups:
            lines += [f"### {g.title}", ""]
            lines += _table(g.cases, sizes=g.key != "roster")
            lines += [f"- {n}" for n in g.notes]
            lines += [f"- {c.label}: {c.error}" for c in g.cases if c.error]
            lines += [f"- {c.label}: {c.note}" for c in g.cases if c.note]
            lines.append("")
            if g.key == "roster" and r.after_cases:
                lines += ["#### With the proposed index, created by hand in the benchmark database", "",
                          "Created, analysed, measured in the same way, then dropped again:", ""]
                for p in r.proposals:
                    lines += ["```sql", p.ddl + ";", "```", "",
                              f"In the model (`{p.table}` table args) this is: `{p.model_change}`.", ""]
                lines += _table(r.after_cases)
            if g.diagnosis:
                lines += [f"#### Why targets are missed ({g.title})", "", *g.diagnosis]
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def _short(c: Case) -> str:
    if c.error:
        return c.error.split(":")[0]
    if c.size_passed is False:
        return f"{c.size}; {c.median:.0f} ms" if c.samples else c.size
    return f"{c.median:.0f} ms"


def _table(cases: list[Case], *, sizes: bool = False) -> list[str]:
    health = next((c.median for c in cases if c.key == "health" and c.samples), None)
    head = "| measurement | median ms | p90 ms | × /health | target | result |" + (" size |" if sizes else "")
    lines = [head, "|---|---:|---:|---:|---:|---|" + ("---:|" if sizes else "")]
    for c in cases:
        target = "; ".join(([f"< {c.target_ms:.0f} ms"] if c.target_ms else [])
                           + ([c.size_target] if c.size_target else [])) or "–"
        size = f" {c.size} |" if sizes else ""
        if not c.samples:
            lines.append(f"| {c.label} | – | – | – | {target} | {_verdict(c)} |{size}")
            continue
        ratio = f"{c.median / health:.1f}" if health else "–"
        lines.append(f"| {c.label} | {c.median:.1f} | {c.p90:.1f} | {ratio} | {target} | {_verdict(c)} |{size}")
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Roster (issue #4) and list (issue #8) benchmarks on SQLite "
                                                 "and PostgreSQL.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--sqlite", help="SQLite file (default benchmarks/.data/national-s<seed>-x<scale>.db)")
    parser.add_argument("--pg-server", default=PG_SERVER, help="PostgreSQL maintenance database URL")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    parser.add_argument("--pg-url", help="use this PostgreSQL database as it is (neither created nor dropped)")
    parser.add_argument("--keep-pg", action="store_true",
                        help="keep the PostgreSQL database afterwards (and reuse it next time)")
    parser.add_argument("--replace", action="store_true", help="rebuild the datasets even if present")
    parser.add_argument("--proposals", action="store_true",
                        help="also measure with the proposed indexes (done anyway when a target is missed)")
    parser.add_argument("--only", choices=("roster", "lists", "coverage", "maps", "exports", "reports", "imports"),
                        help="measure one group of cases only (maps: the demo's and the national map groups)")
    parser.add_argument("--slow-limit", type=float, default=10.0,
                        help="a list case whose first run takes longer (seconds) is timed 3 times only")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.reps < 20:
        parser.error("--reps must be at least 20")
    command = "python -m benchmarks.bench_roster" + ("" if argv is None and len(sys.argv) == 1
                                                     else " " + " ".join(argv if argv is not None else sys.argv[1:]))
    started, load_start = time.perf_counter(), os.getloadavg()[0]
    tag = f"s{args.seed}_x{args.scale:g}".replace(".", "_")
    results = []

    if not args.no_sqlite:
        sqlite_path = Path(args.sqlite) if args.sqlite else DATA_DIR / f"national-{tag}.db"
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        result = DbResult("SQLite", f"sqlite:///{sqlite_path.resolve()}")
        if args.only in (None, "maps"):
            result.demo_url = f"sqlite:///{demo_sqlite_path(DATA_DIR).resolve()}"
        print(f"SQLite: {sqlite_path}", flush=True)
        _guarded(result, lambda: run_database(result, args))
        results.append(result)

    if not args.no_pg:
        name = f"danso_bench_{tag}"
        result = DbResult("PostgreSQL", "")
        print(f"PostgreSQL: database {args.pg_url or name}", flush=True)
        try:
            result.url = args.pg_url or pg_database(args.pg_server, name, fresh=not args.keep_pg)
        except sqlalchemy.exc.OperationalError as e:
            result.error = (f"PostgreSQL unreachable at `{make_url(args.pg_server).render_as_string()}` "
                            f"({str(e.orig).strip().splitlines()[0] if e.orig else e}).")
            print(result.error, file=sys.stderr)
        else:
            try:
                if args.only in (None, "maps"):
                    result.demo_url = pg_database(args.pg_server, DEMO_PG_DATABASE, fresh=False)
                _guarded(result, lambda: run_database(result, args))
            finally:
                if not (args.keep_pg or args.pg_url):
                    pg_drop(args.pg_server, name)
                if result.demo_url and not args.keep_pg:
                    pg_drop(args.pg_server, DEMO_PG_DATABASE)
        results.append(result)

    write_results(Path(args.output), results, args, command, (load_start, os.getloadavg()[0]),
                  time.perf_counter() - started)
    print(Path(args.output).read_text(encoding="utf-8"))
    return 1 if any(r.error for r in results if r.name == "SQLite") else 0


def _guarded(result: DbResult, fn) -> None:
    try:
        fn()
    except BenchError as e:
        result.error = str(e)
        print(f"  not measured: {e}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
