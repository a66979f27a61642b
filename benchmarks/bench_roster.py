"""Roster benchmarks for issue #4 ("Targets"), on SQLite and PostgreSQL, written to RESULTS.md.

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

    python -m benchmarks.bench_roster [--seed 1] [--scale 1.0] [--reps 30] [--warmup 5] [--no-pg]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from danso_network.auth.models import User
from danso_network.auth.permissions import compute_scope
from danso_network.collaborators.models import Assignment
from danso_network.extensions import db
from danso_network.units.models import AdminUnit, Facility, FacilityKind, UnitLevel

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
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p90(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(round(0.9 * len(ordered))) - 1)] * 1000

    @property
    def passed(self) -> bool | None:
        return None if self.target_ms is None else self.median < self.target_ms


@dataclass
class DbResult:
    name: str
    url: str
    version: str = ""
    meta: dict = field(default_factory=dict)
    reused: bool = False
    cases: list[Case] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diagnosis: list[str] = field(default_factory=list)
    after_cases: list[Case] = field(default_factory=list)
    proposals: list = field(default_factory=list)
    error: str | None = None


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


def _http(client, url: str, must_contain: str | None = None):
    def run():
        response = client.get(url)
        body = response.get_data()
        if response.status_code != 200:
            raise BenchError(f"GET {url}: HTTP {response.status_code}")
        if must_contain and must_contain.encode() not in body:
            raise BenchError(f"GET {url}: the page does not show {must_contain!r}")
        return body
    return run


def _in_context(app, fn):
    def run():
        with app.app_context():
            return fn()
    return run


def _pick(app) -> dict:
    """The province with the most collaborators in force (the heaviest province roster), its admin,
    the national user's prefixes, and a name the search must find."""
    with app.app_context():
        today = date.today()
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
    today = date.today()

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


def measure(cases: list[Case], warmup: int, reps: int) -> None:
    for _ in range(warmup):
        for case in cases:
            case.run()
    for rep in range(reps):
        shift = rep % len(cases)  # rotate the order so no case always runs right after another
        for case in cases[shift:] + cases[:shift]:
            started = time.perf_counter()
            case.run()
            case.samples.append(time.perf_counter() - started)


# --- diagnosis ----------------------------------------------------------------------------------


def profile_request(app, case: Case) -> list[tuple[float, str, object]]:
    """Every SQL statement one request runs, with its time, slowest first."""
    client = _login(app, case.user)
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
        client.get(case.url)
        statements.clear()
        client.get(case.url)  # the second, warm request
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


def diagnose(app, case: Case) -> list[str]:
    statements = profile_request(app, case)
    total = sum(s[0] for s in statements) * 1000
    lines = [f"#### {case.label}", "",
             f"`GET {case.url}` ran {len(statements)} SQL statements, {total:.1f} ms in the database; the slowest:", ""]
    for elapsed, statement, parameters in statements[:2]:
        plan = explain(app, statement, parameters).splitlines()
        if len(plan) > 45:
            plan = plan[:45] + [f"… ({len(plan) - 45} more lines)"]
        lines += [f"**{elapsed * 1000:.1f} ms**", "", "```sql", _shorten(statement, 1500), "```", "",
                  "Parameters: `" + _shorten(repr(parameters), 300) + "`", "", "```", *plan, "```", ""]
    return lines


def _shorten(s: str, limit: int = 3000) -> str:
    s = re.sub(r"\s+", " ", s).strip()
    return s if len(s) <= limit else s[:limit] + " …"


# --- databases ----------------------------------------------------------------------------------


def run_database(result: DbResult, args) -> None:
    result.meta, result.reused = ensure_dataset(result.url, args.seed, args.scale, replace=args.replace)
    app = make_bench_app(result.url)
    with app.app_context():
        result.version = _db_version()
        dialect = db.engine.dialect.name
    try:
        result.cases, info, result.notes = build_cases(app)
        print(f"  measuring {len(result.cases)} cases × ({args.warmup} warm-up + {args.reps}) …", flush=True)
        measure(result.cases, args.warmup, args.reps)
        result.notes.insert(0, f"Province measured: {info['province_name']} (id {info['province_id']}, "
                               f"{info['province_collaborators']:,} assignments in force of "
                               f"{info['national_collaborators']:,} nationally); centre: {info['centre_name']}.")
        failed = [c for c in result.cases if c.passed is False]
        for case in failed:
            if case.url:
                result.diagnosis += diagnose(app, case)
        proposals = [p for p in PROPOSED_INDEXES.get(dialect, []) if not _already_there(app, p)]
        if proposals and (failed or args.proposals):
            print(f"  measuring again with {len(proposals)} proposed index(es) …", flush=True)
            result.after_cases = with_indexes(app, proposals, args)
            result.proposals = proposals
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


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
    import json

    c = json.loads(meta.get("counts", "{}"))
    if not c:
        return ""
    return (f"{c['provinces']} provinces, {c['communes']:,} communes, {c['hamlets']:,} hamlets "
            f"({c['hamlets_flagged']:,} difficult/ethnic), {c['facilities']:,} facilities, "
            f"{c['collaborators']:,} collaborators with {c['assignments']:,} assignments "
            f"({c['open_assignments']:,} open; {c['ended']:,} ended with a reason and replaced, "
            f"{c['transfers']:,} transfers), {c['suspensions']:,} suspensions ({c['open_suspensions']:,} open), "
            f"{c['users']} users")


def write_results(path: Path, results: list[DbResult], args, command: str, load: tuple, elapsed: float) -> None:
    now = datetime.now(UTC).astimezone()
    lines = [
        "# Benchmark results: collaborator rosters at national scale (issue #4)", "",
        f"Written by `{command}` on {now:%Y-%m-%d %H:%M %Z}; the whole run took {elapsed:.0f} s.", "",
        "## Machine", "",
        f"- CPUs (`nproc`): {len(os.sched_getaffinity(0))}; load average {load[0]:.2f} at the start, "
        f"{load[1]:.2f} at the end (shared machine: other jobs run alongside)",
        f"- Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        + ", ".join(r.version for r in results if r.version), "",
        "## Dataset", "",
    ]
    meta = next((r.meta for r in results if r.meta), {})
    lines += [
        f"`python -m benchmarks.national --seed {args.seed} --scale {args.scale}`: {_fmt_counts(meta)}. "
        "Real communes (codes, names, types; geometry not loaded), synthetic hamlets and people.", "",
    ]
    for r in results:
        if r.meta:
            how = "reused from an earlier run (same seed, scale, generator and schema)" if r.reused else "generated"
            lines.append(f"- {r.name}: {how}; generation took {r.meta.get('generation_seconds', '?')} s"
                         + (f" (on {r.meta.get('generated_at')})" if r.reused else ""))
    lines += [
        "", "## Method", "",
        f"{args.warmup} warm-up rounds, then {args.reps} rounds; each round runs every case once, in a rotated "
        "order. HTTP cases go through the Flask test client with a logged-in session (real views and templates, "
        "no network); service cases call the function in a fresh app context (empty session). Times are wall "
        "clock in milliseconds; *× /health* is the median divided by the median of `GET /health` measured in "
        f"the same rounds. Targets: province roster < {ROSTER_TARGET_MS:.0f} ms, national name search "
        f"< {SEARCH_TARGET_MS:.0f} ms (median).", "",
    ]
    for r in results:
        lines += [f"## {r.name}", ""]
        if r.error:
            lines += [f"Not measured: {r.error}", ""]
            continue
        lines += _table(r.cases)
        lines += [f"- {n}" for n in r.notes]
        lines.append("")
        if r.after_cases:
            lines += ["### With the proposed index, created by hand in the benchmark database", "",
                      "Created, analysed, measured in the same way, then dropped again:", ""]
            for p in r.proposals:
                lines += ["```sql", p.ddl + ";", "```", "",
                          f"In the model (`{p.table}` table args) this is: `{p.model_change}`.", ""]
            lines += _table(r.after_cases)
        if r.diagnosis:
            lines += ["### Why the targets are missed (without the proposed index)", "", *r.diagnosis]
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def _table(cases: list[Case]) -> list[str]:
    health = next((c.median for c in cases if c.key == "health"), None)
    lines = ["| measurement | median ms | p90 ms | × /health | target | result |", "|---|---:|---:|---:|---:|---|"]
    for c in cases:
        ratio = f"{c.median / health:.1f}" if health else "–"
        target = f"< {c.target_ms:.0f} ms" if c.target_ms else "–"
        verdict = {True: "PASS", False: "**FAIL**", None: "–"}[c.passed]
        lines.append(f"| {c.label} | {c.median:.1f} | {c.p90:.1f} | {ratio} | {target} | {verdict} |")
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Roster benchmarks (issue #4) on SQLite and PostgreSQL.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--sqlite", help="SQLite file (default benchmarks/.data/national-s<seed>-x<scale>.db)")
    parser.add_argument("--pg-server", default=PG_SERVER, help="PostgreSQL maintenance database URL")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--pg-url", help="use this PostgreSQL database as it is (neither created nor dropped)")
    parser.add_argument("--keep-pg", action="store_true",
                        help="keep the PostgreSQL database afterwards (and reuse it next time)")
    parser.add_argument("--replace", action="store_true", help="rebuild the datasets even if present")
    parser.add_argument("--proposals", action="store_true",
                        help="also measure with the proposed indexes (done anyway when a target is missed)")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.reps < 20:
        parser.error("--reps must be at least 20")
    command = "python -m benchmarks.bench_roster" + ("" if argv is None and len(sys.argv) == 1
                                                     else " " + " ".join(argv if argv is not None else sys.argv[1:]))
    started, load_start = time.perf_counter(), os.getloadavg()[0]
    tag = f"s{args.seed}_x{args.scale:g}".replace(".", "_")
    results = []

    sqlite_path = Path(args.sqlite) if args.sqlite else DATA_DIR / f"national-{tag}.db"
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    result = DbResult("SQLite", f"sqlite:///{sqlite_path.resolve()}")
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
                _guarded(result, lambda: run_database(result, args))
            finally:
                if not (args.keep_pg or args.pg_url):
                    pg_drop(args.pg_server, name)
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
