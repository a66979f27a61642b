"""Load and fault benchmarks for issue #14 ("Load", "Faults"): the app under gunicorn on PostgreSQL
with the national dataset and Redis, driven by locust headless, then two faults.

1. **Load** — gunicorn with 1, 2 and 4 workers on 127.0.0.1 (a free port), each driven by
   ``benchmarks/locustfile.py`` (50 users signing in through the login form: station officers,
   centre officers, province administrators; roster pages and searches, map layers, coverage,
   exports started, applications screened, visits recorded) for ``--run-time`` seconds, at each
   pace of ``--think`` (seconds between one user's actions: 5–15, an official reading each page,
   the pace the targets are judged at; then 1–3, a stress pace that shows where the 2 CPUs
   saturate and how throughput grows with workers). Per class (page / map / write) p50 / p95 /
   max and errors; requests per second. Targets: no error, p95 < 300 ms for pages and < 500 ms
   for map layers.
2. **Worker killed** — 2 workers, ``VisitWriter`` users recording visits back to back, each with a
   unique marker in its findings; a worker is sent SIGKILL (by its process id) while writes are in
   flight, twice. Then every write a client saw acknowledged (302 to the new visit) must be in the
   database exactly once, with its audit row and under the id the client was given; none doubled.
3. **PostgreSQL restarted** — never the machine's shared server: a private cluster (``initdb`` /
   ``pg_ctl`` as the ``postgres`` OS user, in a temporary folder, on a free port) with the
   migrations and the Đồng Nai demo, gunicorn (2 workers) on it, light load (4 threads reading
   the roster and recording visits), ``pg_ctl restart -m fast`` in the middle. Every answer during
   the restart is a page (2xx/3xx) or the app's 503 with its message and ``Retry-After`` (no bare
   500, no traceback); requests succeed again after it; every visit is whole (visit, collaborator
   update and audit row together) or absent, and every acknowledged one is there once.

The national dataset is built once into ``danso_bench_load_<tag>`` (kept: ``--drop-dataset`` drops
it at the end) and each run works on a copy (``CREATE DATABASE … TEMPLATE``) dropped afterwards,
so runs start from the same data. Redis database ``--redis-db`` (default 14) holds the login
throttle (``DANSO_LOGIN_RATE_LIMIT`` raised for the bench: all simulated users come from
127.0.0.1) and the export jobs' queue; it is emptied before and after. No job worker runs: the
exports are queued, which is what the web tier does (their making is measured by the exports
group of ``make bench``).

    python -m benchmarks.bench_load                      # everything (≈ 10 min once the dataset exists)
    python -m benchmarks.bench_load --only load --workers 1 --users 10 --run-time 15
    python -m benchmarks.bench_load --only faults
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests
import sqlalchemy
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from danso_network.common.clock import today
from danso_network.config import Config

from . import national
from .bench_roster import PG_SERVER, RESULTS, pg_database, pg_drop

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
SECTION = "## Load and faults (issue #14)"
TARGET_P95_MS = {"page": 300.0, "map": 500.0}
LOAD_CLASSES = ("StationUser", "CentreUser", "ProvinceUser")
UNAVAILABLE = "Cơ sở dữ liệu tạm thời không sẵn sàng"
DEMO_PASSWORD = "demo-danso-2026"
LOGIN_LIMIT = "100000 per minute"  # all simulated users sign in from 127.0.0.1


def log(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- services ------------------------------------------------------------------------------------


def check_services(pg_server: str, redis_url: str) -> str:
    """PostgreSQL and Redis must answer (they run on these machines); stop with a clear message if
    not. Returns the PostgreSQL server version."""
    import redis

    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as e:
        raise SystemExit(f"Redis does not answer at {redis_url} ({e}). Start it (apt-get install redis-server; "
                         "service redis-server start) and run again.") from None
    engine = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SHOW server_version"))
    except sqlalchemy.exc.OperationalError as e:
        first = str(e.orig).strip().splitlines()[0] if e.orig else str(e)
        raise SystemExit(f"PostgreSQL does not answer at {make_url(pg_server).render_as_string()} ({first}). "
                         "Start it and run again.") from None
    finally:
        engine.dispose()


def flush_redis(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()


def copy_database(pg_server: str, template: str, name: str) -> str:
    """A fresh database ``name`` copied from ``template`` (nobody may be connected to it)."""
    engine = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for db_name in (template, name):
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                                  "AND pid <> pg_backend_pid()"), {"n": db_name})
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        engine.dispose()
    return make_url(pg_server).set(database=name).render_as_string(hide_password=False)


# --- the plan: who signs in, and what they work on -------------------------------------------------


def build_plan(url: str, path: Path, *, stations: int = 60, centres: int = 20, provinces: int = 8) -> dict:
    """Accounts and the units, collaborators and applications they work on, read from the
    dataset: the station officers of communes with an application to screen (dossier complete or
    screened) and collaborators serving today; centre officers of the centres serving the most
    communes; administrators of the provinces whose roster exceeds the inline export limit
    (their exports become jobs)."""
    day = today()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            serving = """
                SELECT a.collaborator_id, c.full_name FROM assignment a
                JOIN candidate c ON c.id = a.collaborator_id
                WHERE a.hamlet_path LIKE :p AND a.started_on <= :d AND (a.ended_on IS NULL OR a.ended_on > :d)
                  AND NOT EXISTS (SELECT 1 FROM suspension s WHERE s.collaborator_id = a.collaborator_id
                                  AND s.started_on <= :d AND (s.ended_on IS NULL OR s.ended_on > :d))
                ORDER BY a.collaborator_id LIMIT 40"""
            communes = conn.execute(text("""
                SELECT u.id, u.code, u.path, array_agg(ap.id ORDER BY ap.id) FROM admin_unit u
                JOIN application ap ON ap.hamlet_path LIKE u.path || '%'
                WHERE u.level = 'commune' AND ap.state IN ('dossier_complete', 'screened')
                GROUP BY u.id, u.code, u.path ORDER BY count(*) DESC, u.code LIMIT :n"""), {"n": stations}).all()
            station_plan = []
            for uid, code, upath, apps in communes:
                people = conn.execute(text(serving), {"p": upath + "%", "d": day}).all()
                hamlets = conn.scalars(text("SELECT name FROM admin_unit WHERE parent_id = :u LIMIT 10"),
                                       {"u": uid}).all()
                if not people:
                    continue
                station_plan.append({"username": f"bench_station_{code}", "unit_id": uid,
                                     "collaborators": [p[0] for p in people], "applications": list(apps),
                                     "terms": _terms(p[1] for p in people), "hamlet_terms": sorted(set(hamlets))})
            centre_rows = conn.execute(text("""
                SELECT f.id, f.code, array_agg(s.unit_id ORDER BY s.unit_id) FROM facility f
                JOIN service_area s ON s.facility_id = f.id AND s.valid_to IS NULL
                WHERE f.kind = 'health_centre' GROUP BY f.id, f.code ORDER BY count(*) DESC, f.code LIMIT :n"""),
                {"n": centres}).all()
            centre_plan = []
            for fid, code, units in centre_rows:
                first = conn.scalar(text("SELECT path FROM admin_unit WHERE id = :u"), {"u": units[0]})
                people = conn.execute(text(serving), {"p": first + "%", "d": day}).all()
                _, pcode, k = code.split("-")
                centre_plan.append({"username": f"bench_centre_{pcode}_{k}", "facility_id": fid, "communes": list(units),
                                    "collaborators": [p[0] for p in people], "terms": _terms(p[1] for p in people)})
            province_rows = conn.execute(text("""
                SELECT u.id, u.code, u.path, count(*) FROM admin_unit u
                JOIN assignment a ON a.hamlet_path LIKE u.path || '%' AND a.ended_on IS NULL
                WHERE u.level = 'province' GROUP BY u.id, u.code, u.path ORDER BY count(*) DESC LIMIT :n"""),
                {"n": provinces}).all()
            province_plan = []
            for pid, code, ppath, rows in province_rows:
                names = conn.scalars(text("SELECT c.full_name FROM assignment a JOIN candidate c "
                                          "ON c.id = a.collaborator_id WHERE a.hamlet_path LIKE :p LIMIT 200"),
                                     {"p": ppath + "%"}).all()
                if rows > Config.EXPORT_INLINE_ROWS:  # the export is a job, not a file made in the request
                    province_plan.append({"username": f"bench_admin_{code}", "unit_id": pid, "rows": rows,
                                          "terms": _terms(names)})
    finally:
        engine.dispose()
    plan = {"password": national.BENCH_PASSWORD, "station": station_plan, "centre": centre_plan,
            "province": province_plan}
    path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    return plan


def _terms(names) -> list[str]:
    """Search words a user would type: given names and family names seen in the roster."""
    words = set()
    for name in names:
        parts = name.split()
        words.update((parts[0], parts[-1]))
    return sorted(words)[:30] or ["Nguyễn"]


# --- gunicorn ------------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        try:
            return sorted(c.pid for c in psutil.Process(self.process.pid).children())
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def app_env(database_url: str, redis_url: str, work: Path) -> dict:
    """The production settings of README.md's gunicorn section, on the benchmark's database and
    Redis database; the login throttle's limit raised (every simulated user is 127.0.0.1), the
    per-user job limit raised (exports are queued, no worker takes them)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANSO_")}
    env.update({
        "DANSO_DATABASE_URL": database_url, "DANSO_SECRET_KEY": secrets.token_hex(32),
        "DANSO_SESSION_COOKIE_SECURE": "false", "DANSO_REMEMBER_COOKIE_SECURE": "false",
        "DANSO_RATELIMIT_STORAGE_URI": redis_url, "DANSO_LOGIN_RATE_LIMIT": LOGIN_LIMIT,
        "DANSO_REDIS_URL": redis_url, "DANSO_JOB_QUEUE": "danso_bench_load", "DANSO_JOB_MAX_ACTIVE": "100000",
        "DANSO_JOB_DIR": str(work / "jobs"), "DANSO_MAP_TILES": "none",
    })
    return env


def start_gunicorn(workers: int, env: dict, work: Path) -> Server:
    port = free_port()
    log_path = work / f"gunicorn-{workers}-{port}.log"
    with open(log_path, "w") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(workers), "--timeout", "120", "-b", f"127.0.0.1:{port}",
             "danso_network:create_app()"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, port, log_path)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped at once:\n{log_path.read_text()[-2000:]}")
        try:
            if requests.get(f"{server.url}/health", timeout=2).status_code == 200 and len(server.workers()) == workers:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.5)
    server.stop()
    raise SystemExit(f"gunicorn did not answer within 90 s:\n{log_path.read_text()[-2000:]}")


# --- locust --------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    workers: int
    users: int
    seconds: float
    think: str = "1-3"  # seconds between a user's actions, "min-max"
    classes: dict = field(default_factory=dict)  # class -> {count, failures, p50, p95, max}
    names: dict = field(default_factory=dict)  # request name -> the same
    rps: float = 0.0
    errors: list = field(default_factory=list)
    failures: int = 0


THINK_NOTE = ("an official reads a page or fills a form between two clicks, so 5–15 s is the realistic pace, the one "
              "the targets are judged at; 1–3 s is a stress pace that shows where 2 CPUs saturate and how throughput "
              "grows with workers")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def _summary(times: list[float], failures: int) -> dict:
    return {"count": len(times), "failures": failures, "p50": percentile(times, 50), "p95": percentile(times, 95),
            "max": max(times) if times else float("nan")}


def run_locust(server: Server, *, users: int, spawn_rate: float, run_time: int, classes, work: Path,
               tag: str, env_extra: dict | None = None) -> tuple[dict, Path]:
    """Run locust headless against ``server``; returns (times file content, stats CSV prefix)."""
    prefix = work / f"locust-{tag}"
    times = work / f"times-{tag}.json"
    env = {**os.environ, "DANSO_LOAD_PLAN": str(work / "plan.json"), "DANSO_LOAD_TIMES": str(times),
           "DANSO_LOAD_RUN": f"bench-load {tag}", "DANSO_LOAD_TODAY": today().strftime("%d/%m/%Y"),
           **(env_extra or {})}
    command = [str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--host", server.url,
               "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{run_time}s",
               "--stop-timeout", "10", "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
               "--exit-code-on-error", "0", *classes]
    with open(work / f"locust-{tag}.log", "w") as out:
        subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False,
                       timeout=run_time + 120)
    if not times.exists():
        raise SystemExit(f"locust wrote no figures; see {work / f'locust-{tag}.log'}:\n"
                         + (work / f"locust-{tag}.log").read_text()[-2000:])
    return json.loads(times.read_text()), prefix


def warm_up(server: Server, workers: int, args, work: Path, think: str) -> None:
    """``--warmup`` seconds of the same mix at the stress pace, not counted: a freshly started
    worker pays for its first pages (imports, compiled queries, PostgreSQL's caches), which a
    server in service has long paid."""
    if args.warmup:
        run_locust(server, users=min(args.users, 10), spawn_rate=10, run_time=args.warmup, classes=LOAD_CLASSES,
                   work=work, tag=f"warm-w{workers}-t{think}", env_extra={"DANSO_LOAD_THINK": "1-3"})


def measure_load(server: Server, workers: int, args, work: Path, think: str) -> LoadResult:
    started = time.monotonic()
    data, prefix = run_locust(server, users=args.users, spawn_rate=args.spawn_rate, run_time=args.run_time,
                              classes=LOAD_CLASSES, work=work, tag=f"load-w{workers}-t{think}",
                              env_extra={"DANSO_LOAD_THINK": think})
    elapsed = time.monotonic() - started
    result = LoadResult(workers, args.users, args.run_time, think)
    by_class: dict[str, list[float]] = {}
    failures_by_class: dict[str, int] = {}
    for name, times in data["times"].items():
        cls = name.split(":", 1)[0]
        fails = data["failures"].get(name, 0)
        result.names[name] = _summary(times, fails)
        by_class.setdefault(cls, []).extend(times)
        failures_by_class[cls] = failures_by_class.get(cls, 0) + fails
    result.classes = {cls: _summary(t, failures_by_class.get(cls, 0)) for cls, t in sorted(by_class.items())}
    result.failures = sum(data["failures"].values())
    counted = sum(s["count"] for c, s in result.classes.items() if c != "auth")
    # requests per second over the steady window (locustfile: from a few seconds after the last
    # user was spawned to the end), the one the counted requests fall in
    window = data.get("window") or args.run_time
    result.rps = counted / window
    failures_csv = Path(f"{prefix}_failures.csv")
    if failures_csv.exists():
        import csv

        with open(failures_csv, encoding="utf-8") as f:
            result.errors = [(r["Name"], r["Error"][:160], r["Occurrences"]) for r in csv.DictReader(f)]
    log(f"  {workers} worker(s), {think} s between actions: {counted} requests in {args.run_time} s ({result.rps:.1f}/s), "
        f"{result.failures} failed; " + ", ".join(f"{c} p95 {s['p95']:.0f} ms" for c, s in result.classes.items())
        + f" (locust ran {elapsed:.0f} s)")
    return result


# --- fault 1: a worker killed under load ---------------------------------------------------------


@dataclass
class KillResult:
    kills: list = field(default_factory=list)  # (seconds after start, pid, busy)
    attempted: int = 0
    acknowledged: int = 0
    no_answer: int = 0
    other: dict = field(default_factory=dict)
    present: int = 0
    missing: list = field(default_factory=list)
    doubled: list = field(default_factory=list)
    wrong_id: list = field(default_factory=list)
    without_audit: list = field(default_factory=list)
    unacknowledged_present: int = 0
    workers_after: int = 0

    @property
    def passed(self) -> bool:
        return bool(self.kills) and not (self.missing or self.doubled or self.wrong_id or self.without_audit)


def busy_worker(server: Server) -> tuple[int, bool]:
    """A worker with a request in hand (an open connection from a client: CPU time moving), else
    any worker."""
    workers = server.workers()
    for pid in workers:
        try:
            connections = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.Error:
            continue
        if any(c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == server.port for c in connections):
            return pid, True
    return workers[0], False


def fault_worker_kill(run_url: str, env: dict, args, work: Path) -> KillResult:
    """2 workers, ``VisitWriter`` users; SIGKILL a worker holding a request at 1/3 and 2/3 of the
    run; compare the acknowledged writes with the database."""
    result = KillResult()
    ack_log = work / "acks-kill.tsv"
    server = start_gunicorn(2, env, work)
    try:
        tag = f"kill-{uuid.uuid4().hex[:8]}"
        started = time.monotonic()

        def killer():
            for at in (args.fault_time / 3, 2 * args.fault_time / 3):
                time.sleep(max(0.0, started + at + 3 - time.monotonic()))  # + 3 s: users signing in
                for _ in range(50):  # wait (≤ 1 s) for a worker with a connection in hand
                    pid, busy = busy_worker(server)
                    if busy:
                        break
                    time.sleep(0.02)
                os.kill(pid, signal.SIGKILL)
                result.kills.append((round(time.monotonic() - started, 1), pid, busy))
                log(f"  SIGKILL worker {pid} at {time.monotonic() - started:.1f} s ({'busy' if busy else 'idle'})")

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        run_locust(server, users=args.fault_users, spawn_rate=args.fault_users, run_time=args.fault_time,
                   classes=("VisitWriter",), work=work, tag=tag, env_extra={"DANSO_LOAD_ACK_LOG": str(ack_log)})
        thread.join()
        time.sleep(1)
        result.workers_after = len(server.workers())
    finally:
        server.stop()
    marker_prefix = f"bench-load {tag}"
    attempts = []
    for line in ack_log.read_text(encoding="utf-8").splitlines() if ack_log.exists() else []:
        kind, marker, status, location = (line.split("\t") + [""])[:4]
        attempts.append((marker, int(status), location))
    result.attempted = len(attempts)
    engine = create_engine(run_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT v.findings, v.id, (SELECT count(*) FROM audit_event e WHERE e.action = 'visit.record' "
                "AND e.object_type = 'SupervisionVisit' AND e.object_id = CAST(v.id AS VARCHAR)) "
                "FROM supervision_visit v WHERE v.findings LIKE :p"), {"p": marker_prefix + " %"}).all()
    finally:
        engine.dispose()
    in_db: dict[str, list[tuple[int, int]]] = {}
    for marker, vid, audits in rows:
        in_db.setdefault(marker, []).append((vid, audits))
    acked = set()
    for marker, status, location in attempts:
        match = re.search(r"/supervision/visits/(\d+)$", location)
        if status == 302 and match:
            result.acknowledged += 1
            acked.add(marker)
            found = in_db.get(marker, [])
            if not found:
                result.missing.append(marker)
            elif len(found) > 1:
                result.doubled.append(marker)
            elif found[0][0] != int(match.group(1)):
                result.wrong_id.append(marker)
        elif status == 0:
            result.no_answer += 1
        else:
            result.other[status] = result.other.get(status, 0) + 1
    for marker, found in in_db.items():
        result.present += len(found)
        if len(found) > 1 and marker not in result.doubled:
            result.doubled.append(marker)
        result.without_audit += [marker for vid, audits in found if audits != 1]
        if marker not in acked:
            result.unacknowledged_present += 1
    log(f"  worker kill: {result.attempted} visits posted, {result.acknowledged} acknowledged, {result.no_answer} "
        f"without answer, {result.present} in the database; missing {len(result.missing)}, doubled "
        f"{len(result.doubled)}, without audit {len(result.without_audit)}")
    return result


# --- fault 2: PostgreSQL restarted under load ----------------------------------------------------


@dataclass
class RestartResult:
    restart_seconds: float = 0.0
    restart_window: tuple = (0.0, 0.0)
    statuses_during: dict = field(default_factory=dict)
    statuses_before: dict = field(default_factory=dict)
    statuses_after: dict = field(default_factory=dict)
    bad_answers: list = field(default_factory=list)  # 5xx that is not the app's 503 with its message
    first_success_after: float | None = None
    failing_after: int = 0
    attempted: int = 0
    acknowledged: int = 0
    missing: list = field(default_factory=list)
    doubled: list = field(default_factory=list)
    partial: list = field(default_factory=list)
    unacknowledged_present: int = 0
    sample_503: str = ""
    error: str = ""

    @property
    def passed(self) -> bool:
        return (not self.error and not self.bad_answers and self.first_success_after is not None
                and not (self.missing or self.doubled or self.partial) and self.failing_after == 0)


class PrivateCluster:
    """A PostgreSQL cluster of this run only: ``initdb`` in a temporary folder as the ``postgres``
    OS user, listening on 127.0.0.1:<free port>, trust authentication; removed at the end."""

    def __init__(self, work: Path):
        self.dir = Path(tempfile.mkdtemp(prefix="danso-pg-", dir=work))
        self.data = self.dir / "data"
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/danso"

    def _run(self, *command, check=True):
        return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=check, capture_output=True,
                              text=True, cwd=self.dir, timeout=120)

    def ctl(self, *action):
        return self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "server.log"),
                         "-w", "-t", "60", *action)

    def start(self):
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale", "C.UTF-8", "--no-sync")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c max_connections=50"
        self.ctl("-o", options, "start")
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "danso")

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self.ctl("stop", "-m", "fast")
        shutil.rmtree(self.dir, ignore_errors=True)


def _client_session(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    r = session.post(f"{base}/login", data={"csrf_token": token, "username": username, "password": password},
                     allow_redirects=False, timeout=10)
    if r.status_code != 302:
        raise RuntimeError(f"login of {username} answered {r.status_code}")
    return session


def fault_pg_restart(args, work: Path, redis_url: str) -> RestartResult:
    result = RestartResult()
    cluster = PrivateCluster(work)
    server = None
    try:
        log(f"  private PostgreSQL cluster on 127.0.0.1:{cluster.port} ({cluster.dir})")
        cluster.start()
        env = app_env(cluster.url, redis_url, work)
        for command in (["db", "upgrade"], ["demo", "load", "--password", DEMO_PASSWORD]):
            done = subprocess.run([str(BIN / "danso"), *command], cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=600)
            if done.returncode:
                raise RuntimeError(f"danso {' '.join(command)} failed: {(done.stderr or done.stdout)[-800:]}")
        engine = create_engine(cluster.url)
        with engine.connect() as conn:
            province = conn.scalar(text("SELECT id FROM admin_unit WHERE level = 'province' ORDER BY id LIMIT 1"))
            people = conn.scalars(text("""
                SELECT a.collaborator_id FROM assignment a WHERE a.started_on <= :d AND a.ended_on IS NULL
                  AND NOT EXISTS (SELECT 1 FROM suspension s WHERE s.collaborator_id = a.collaborator_id
                                  AND s.started_on <= :d AND (s.ended_on IS NULL OR s.ended_on > :d))
                ORDER BY a.collaborator_id LIMIT 40"""), {"d": today()}).all()
        engine.dispose()
        server = start_gunicorn(2, env, work)
        base = server.url
        tag = f"bench-load restart-{uuid.uuid4().hex[:8]}"
        events: list[tuple] = []  # (start, end, kind, status, 5xx body, marker, Location, Retry-After)
        lock = threading.Lock()
        stop = threading.Event()
        started = time.monotonic()
        day = today().strftime("%d/%m/%Y")

        def client(n: int):
            session = _client_session(base, "soyte", DEMO_PASSWORD)
            checklist = None
            k = 0
            while not stop.is_set():
                k += 1
                t = time.monotonic() - started
                marker = ""
                try:
                    if k % 2:
                        r = session.get(f"{base}/collaborators/roster/{province}", timeout=15)
                        kind = "page"
                    else:
                        person = people[(n * 7 + k) % len(people)]
                        form = session.get(f"{base}/supervision/visits/new/{person}", timeout=15)
                        if form.status_code != 200:
                            r, kind = form, "page"
                        else:
                            checklist = checklist or sorted(set(re.findall(r'name="(item_[a-z_]+)"', form.text)))
                            token = re.search(r'name="csrf-token" content="([^"]+)"', form.text).group(1)
                            marker = f"{tag} {uuid.uuid4().hex}"
                            r = session.post(f"{base}/supervision/visits/new/{person}", timeout=15,
                                             allow_redirects=False,
                                             data={"csrf_token": token, "visited_on": day, "findings": marker,
                                                   **{c: "yes" for c in checklist}})
                            kind = "write"
                    status, body, headers = r.status_code, r.text, r.headers
                except requests.RequestException as e:
                    status, body, headers, kind = 0, f"{type(e).__name__}", {}, "error"
                with lock:
                    events.append((t, time.monotonic() - started, kind, status, body[:50000] if status >= 500 else "",
                                   marker, headers.get("Location", ""), headers.get("Retry-After")))
                time.sleep(0.1)

        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(4)]
        for th in threads:
            th.start()
        time.sleep(5)
        t0 = time.monotonic() - started
        done = cluster.ctl("restart", "-m", "fast")
        t1 = time.monotonic() - started
        result.restart_seconds = round(t1 - t0, 2)
        result.restart_window = (round(t0, 2), round(t1, 2))
        log(f"  pg_ctl restart -m fast: {t1 - t0:.2f} s ({done.returncode})")
        time.sleep(8)
        stop.set()
        for th in threads:
            th.join(timeout=20)
        for t, te, _kind, status, body, _marker, _location, retry in events:
            bucket = (result.statuses_before if te < t0 else result.statuses_during if t <= t1
                      else result.statuses_after)  # answered before it began / overlapping it / begun after
            bucket[status] = bucket.get(status, 0) + 1
            if status >= 500:
                good = status == 503 and UNAVAILABLE in body and retry and "Traceback" not in body
                if good and not result.sample_503:
                    result.sample_503 = re.sub(r"\s+", " ", re.search(r"<p class=\"lead\">(.*?)</p>", body, re.S)
                                               .group(1)).strip() if "lead" in body else body[:200]
                if not good:
                    lead = re.search(r'<p class="lead">(.*?)</p>', body, re.S)
                    result.bad_answers.append((round(t, 2), status, f"Retry-After {retry}",
                                               re.sub(r"\s+", " ", lead.group(1) if lead else body)[:300]))
            if t > t1 and 200 <= status < 400 and result.first_success_after is None:
                result.first_success_after = round(t - t1, 2)
            if t > t1 + 2 and not 200 <= status < 400:
                result.failing_after += 1
        writes = [(marker, status, location) for _t, _te, _k, status, _b, marker, location, _r in events if marker]
        result.attempted = len(writes)
        engine = create_engine(cluster.url)
        with engine.connect() as conn:
            rows = conn.execute(text("""
                SELECT v.findings, v.id, v.visited_on, c.last_visited_on,
                       (SELECT count(*) FROM audit_event e WHERE e.action = 'visit.record'
                         AND e.object_type = 'SupervisionVisit' AND e.object_id = CAST(v.id AS VARCHAR))
                FROM supervision_visit v JOIN collaborator c ON c.id = v.collaborator_id
                WHERE v.findings LIKE :p"""), {"p": tag + " %"}).all()
        engine.dispose()
        in_db: dict[str, list] = {}
        for marker, vid, visited, last, audits in rows:
            in_db.setdefault(marker, []).append(vid)
            if audits != 1 or last is None or last < visited:
                result.partial.append(marker)
        acked = set()
        for marker, status, location in writes:
            if status == 302 and "/supervision/visits/" in location:
                result.acknowledged += 1
                acked.add(marker)
                if marker not in in_db:
                    result.missing.append(marker)
        result.doubled = [m for m, ids in in_db.items() if len(ids) > 1]
        result.unacknowledged_present = sum(1 for m in in_db if m not in acked)
        log(f"  restart: before {result.statuses_before}, during {result.statuses_during}, after "
            f"{result.statuses_after}; bad answers {len(result.bad_answers)}; first success "
            f"{result.first_success_after} s after; {result.acknowledged}/{result.attempted} visits acknowledged, "
            f"partial {len(result.partial)}, missing {len(result.missing)}")
    except (RuntimeError, subprocess.SubprocessError, OSError) as e:
        result.error = f"{type(e).__name__}: {str(e)[:500]}"
        log(f"  PostgreSQL restart check not done: {result.error}")
    finally:
        if server:
            server.stop()
        cluster.stop()
    return result


# --- report --------------------------------------------------------------------------------------


def _ms(v: float) -> str:
    return "–" if v != v else f"{v:.0f}"


def report(args, command: str, loads: list[LoadResult], kill: KillResult | None, restart: RestartResult | None,
           meta: dict, versions: str, load_avg: tuple, elapsed: float) -> str:
    now = datetime.now(UTC).astimezone()
    lines = [SECTION, "",
             f"Written by `{command}` on {now:%Y-%m-%d %H:%M %Z}; the whole run took {elapsed:.0f} s.", "",
             f"- Machine: {len(os.sched_getaffinity(0))} CPUs, load average {load_avg[0]:.2f} at the start and "
             f"{load_avg[1]:.2f} at the end"
             + (" — **shared**: other jobs ran alongside, so the figures are noisy and low"
                if load_avg[0] > 1.0 else " (quiet before the run)")
             + "; locust itself runs on the same CPUs as the app and PostgreSQL. "
             f"Python {platform.python_version()}, {versions}.",
             f"- Dataset: the national one (`benchmarks.national`, seed {args.seed}, scale {args.scale}, generator "
             f"version {meta.get('generator_version', '?')}, communes' boundaries filled), copied afresh for the run.",
             "- Server: `gunicorn -w N --timeout 120 'danso_network:create_app()'` on 127.0.0.1 with the production "
             "settings of README.md (PostgreSQL, Redis for the login throttle and the job queue), "
             f"`DANSO_LOGIN_RATE_LIMIT=\"{LOGIN_LIMIT}\"` for the bench (every simulated user signs in from "
             "127.0.0.1; the limiter stays on, in Redis). No job worker: exports are queued.",
             *([f"- Load: `locust --headless --users {args.users} --spawn-rate {args.spawn_rate:g} --run-time "
                f"{args.run_time}s --stop-timeout 10` with `benchmarks/locustfile.py` (StationUser 6 : CentreUser 2 : "
                "ProvinceUser 1, each user its own account signed in through the login form; requests other than "
                "the sign-in counted from 5 s after the last user was spawned: steady state, not the sign-in storm "
                "of 50 password hashes in 5 s), after "
                f"{args.warmup} s of the same mix not counted (10 users, 1–3 s), at each pace of "
                f"`--think {args.think}` (seconds between one user's actions, uniformly drawn): "
                f"{THINK_NOTE}."] if loads else []),
             ""]
    if loads:
        lines += [f"### Load: {args.users} users, by pace and number of gunicorn workers", "",
                  "| s between actions | workers | class | requests | failed | p50 ms | p95 ms | max ms | target p95 | result |",
                  "|---|---:|---|---:|---:|---:|---:|---:|---:|---|"]
        for r in loads:
            for cls, s in r.classes.items():
                target = TARGET_P95_MS.get(cls)
                verdict = "–" if target is None else ("PASS" if s["p95"] < target and not s["failures"] else "**MISS**")
                lines.append(f"| {r.think} | {r.workers} | {cls} | {s['count']:,} | {s['failures']} | {_ms(s['p50'])} | "
                             f"{_ms(s['p95'])} | {_ms(s['max'])} | {f'< {target:.0f} ms' if target else '–'} | {verdict} |")
        lines += ["", "| s between actions | workers | requests/s (excl. sign-in) | × 1 worker | errors | target | result |",
                  "|---|---:|---:|---:|---:|---|---|"]
        for r in loads:
            base = next((b.rps for b in loads if b.think == r.think), 0) or 1
            lines.append(f"| {r.think} | {r.workers} | {r.rps:.1f} | {r.rps / base:.2f} | {r.failures} | no error | "
                         f"{'PASS' if not r.failures else '**MISS**'} |")
        last = loads[-1]
        lines += ["", f"Per request, with {last.workers} worker(s) at {last.think} s between actions:", "",
                  "| request | count | failed | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|---:|"]
        for name, s in sorted(last.names.items()):
            lines.append(f"| {name} | {s['count']:,} | {s['failures']} | {_ms(s['p50'])} | {_ms(s['p95'])} | "
                         f"{_ms(s['max'])} |")
        errors = [(r.workers, *e) for r in loads for e in r.errors]
        if errors:
            lines += ["", "Errors:", ""] + [f"- {w} worker(s), {n}: {e} (×{k})" for w, n, e, k in errors[:20]]
        lines.append("")
    if kill:
        lines += ["### Fault: a gunicorn worker killed under load", "",
                  f"2 workers, {args.fault_users} `VisitWriter` users recording visits back to back for "
                  f"{args.fault_time} s, each visit with a unique marker in its findings; SIGKILL of a worker "
                  "holding a connection at " + ", ".join(f"{t} s (pid {pid}, {'busy' if b else 'idle'})"
                                                          for t, pid, b in kill.kills) + ".", "",
                  "| visits posted | acknowledged (302) | no answer | other answers | in the database | "
                  "acknowledged but missing | doubled | wrong id | without its audit row | present, not acknowledged "
                  "| workers after |", "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
                  f"| {kill.attempted} | {kill.acknowledged} | {kill.no_answer} | {kill.other or '–'} | {kill.present} | "
                  f"{len(kill.missing)} | {len(kill.doubled)} | {len(kill.wrong_id)} | {len(kill.without_audit)} | "
                  f"{kill.unacknowledged_present} | {kill.workers_after} |", "",
                  f"Verdict: **{'PASS' if kill.passed else 'FAIL'}** — every acknowledged write is in the database "
                  "once, under the id the client was given, with its audit row; none doubled. A request cut by the "
                  "kill gets no answer (the client sees the connection closed); its visit may or may not have been "
                  "committed (\"present, not acknowledged\"), never half. gunicorn replaced the killed workers.", ""]
    if restart:
        if restart.error:
            lines += ["### Fault: PostgreSQL restarted under load", "", f"Not measured: {restart.error}", ""]
        else:
            lines += ["### Fault: PostgreSQL restarted under load", "",
                      "A private cluster (`initdb` + `pg_ctl` as the `postgres` OS user in a temporary folder, on a free "
                      "port; the machine's shared server is not touched), `danso db upgrade` + `danso demo load`, "
                      "gunicorn with 2 workers, 4 clients signed in as `soyte` alternating the province roster and a "
                      f"visit recorded (0.1 s apart); `pg_ctl restart -m fast` at {restart.restart_window[0]} s took "
                      f"{restart.restart_seconds} s.", "",
                      "| phase | answers (status: count) |", "|---|---|",
                      f"| answered before the restart began | {restart.statuses_before} |",
                      f"| overlapping the restart | {restart.statuses_during} |",
                      f"| begun after the restart | {restart.statuses_after} |", "",
                      f"- 503 page shown during the restart: “{restart.sample_503 or '–'}” with `Retry-After`; "
                      f"answers that were not a page nor that 503 (bare 500, traceback): {len(restart.bad_answers)}"
                      + (f" — {restart.bad_answers[:3]}" if restart.bad_answers else "") + ".",
                      f"- First success {restart.first_success_after} s after the restart ended; failures later "
                      f"than 2 s after it: {restart.failing_after} (`pool_pre_ping`: stale connections are replaced).",
                      f"- Visits: {restart.attempted} posted, {restart.acknowledged} acknowledged; acknowledged but "
                      f"missing {len(restart.missing)}, doubled {len(restart.doubled)}, half-written (visit without "
                      f"its audit row or the collaborator's last visit) {len(restart.partial)}; present but not "
                      f"acknowledged {restart.unacknowledged_present}.", "",
                      f"Verdict: **{'PASS' if restart.passed else 'FAIL'}**.", ""]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section of RESULTS.md (from its heading to the next ``## ``
    heading), or append it."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    start = old.find(SECTION)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    else:
        nxt = old.find("\n## ", start + len(SECTION))
        new = old[:start] + section.rstrip("\n") + "\n" + (old[nxt:] if nxt >= 0 else "")
    path.write_text(new, encoding="utf-8")


# --- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load (locust, gunicorn 1/2/4 workers) and fault benchmarks "
                                                 "(issue #14) on PostgreSQL with the national dataset.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--pg-server", default=PG_SERVER, help="PostgreSQL maintenance database URL")
    parser.add_argument("--redis-db", type=int, default=14, help="Redis database (127.0.0.1:6379), emptied")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--run-time", type=int, default=60, help="seconds of load per worker count")
    parser.add_argument("--workers", default="1,2,4", help="gunicorn worker counts, comma-separated")
    parser.add_argument("--warmup", type=int, default=15,
                        help="seconds of load before each measured run, not counted (0: none)")
    parser.add_argument("--think", default="5-15,1-3",
                        help="seconds between a user's actions, min-max; several comma-separated paces are run one "
                             "after the other (default: an official reading each page, then a stress pace)")
    parser.add_argument("--fault-users", type=int, default=20)
    parser.add_argument("--fault-time", type=int, default=20, help="seconds of the worker-kill run")
    parser.add_argument("--only", choices=("load", "faults", "kill", "restart"))
    parser.add_argument("--replace", action="store_true", help="rebuild the dataset")
    parser.add_argument("--drop-dataset", action="store_true", help="drop the kept dataset at the end")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.users < 1 or args.run_time < 5 or not 0 < args.scale <= 1:
        parser.error("--users ≥ 1, --run-time ≥ 5, 0 < --scale ≤ 1")
    if not re.fullmatch(r"\d+(\.\d+)?-\d+(\.\d+)?(,\d+(\.\d+)?-\d+(\.\d+)?)*", args.think):
        parser.error("--think: min-max seconds, e.g. 5-15 or 5-15,1-3")
    command = "python -m benchmarks.bench_load" + ("" if argv is None and len(sys.argv) == 1
                                                   else " " + " ".join(argv if argv is not None else sys.argv[1:]))
    started, load_start = time.perf_counter(), os.getloadavg()[0]
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    pg_version = check_services(args.pg_server, redis_url)
    flush_redis(redis_url)
    tag = f"s{args.seed}_x{args.scale:g}".replace(".", "_")
    work = Path(tempfile.mkdtemp(prefix="danso-load-"))
    os.chmod(work, 0o755)  # the private cluster's folder inside is the postgres user's
    loads, kill, restart, meta = [], None, None, {}
    dataset = f"danso_bench_load_{tag}"
    run_db = f"danso_bench_loadrun_{tag}"
    try:
        if args.only in (None, "load", "faults", "kill"):
            log(f"Dataset: database {dataset} (kept for the next run)")
            url = pg_database(args.pg_server, dataset, fresh=args.replace)
            meta, _ = national.ensure_dataset(url, args.seed, args.scale, log=log)
            app = national.make_bench_app(url)
            with app.app_context():
                national.fill_commune_geometry(log=log)
                national.db.session.remove()
                national.db.engine.dispose()
            run_url = copy_database(args.pg_server, dataset, run_db)
            plan = build_plan(run_url, work / "plan.json")
            log(f"Plan: {len(plan['station'])} station, {len(plan['centre'])} centre, {len(plan['province'])} "
                "province accounts")
            env = app_env(run_url, redis_url, work)
            if args.only in (None, "load"):
                for think in args.think.split(","):
                    for workers in (int(w) for w in args.workers.split(",")):
                        server = start_gunicorn(workers, env, work)
                        try:
                            warm_up(server, workers, args, work, think)
                            loads.append(measure_load(server, workers, args, work, think))
                        finally:
                            server.stop()
            if args.only in (None, "faults", "kill"):
                log("Fault: a worker killed under load")
                kill = fault_worker_kill(run_url, env, args, work)
        if args.only in (None, "faults", "restart"):
            log("Fault: PostgreSQL restarted under load")
            restart = fault_pg_restart(args, work, redis_url)
    finally:
        try:
            pg_drop(args.pg_server, run_db)
            if args.drop_dataset:
                pg_drop(args.pg_server, dataset)
        finally:
            flush_redis(redis_url)
            shutil.rmtree(work, ignore_errors=True)
    from importlib.metadata import version  # not ``import locust`` here: it monkey-patches this process

    versions = f"PostgreSQL {pg_version}, gunicorn {version('gunicorn')}, locust {version('locust')}"
    section = report(args, command, loads, kill, restart, meta, versions, (load_start, os.getloadavg()[0]),
                     time.perf_counter() - started)
    write_section(Path(args.output), section)
    log(section)
    failed = any(r.failures for r in loads) or (kill and not kill.passed) or (restart and not restart.passed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
