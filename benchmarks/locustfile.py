"""Load mix for issue #14 ("Load"): the people who use the app, signing in through the login form
and working as they do, driven headless by ``benchmarks.bench_load`` (never against anything but
the gunicorn it started on 127.0.0.1).

Who (the national dataset's accounts, password ``matkhau-bench-1``; each simulated user takes an
account of its own from the plan, so no two share a session or an application):

- ``StationUser`` (weight 6) — a commune station's population officer (``bench_station_<code>``):
  the commune's roster and searches in it, the unit search, the hamlet map layer, the coverage
  dashboard and the quota page; records supervision visits (form read, then posted) and moves an
  application of the commune one step (re-)screening it (``screen``: dossier complete → screened,
  or screened again);
- ``CentreUser`` (weight 2) — an area health centre's officer (``bench_centre_<province>_<n>``):
  the centre's roster and searches, the centre's map layer, the dashboard, a commune's quota;
  records a visit now and then;
- ``ProvinceUser`` (weight 1) — the province's administrator (``bench_admin_<code>``): the
  province roster and searches, the province's commune layer, the dashboard, the quota, and
  starts a roster export (over ``EXPORT_INLINE_ROWS`` rows: a background job is queued, its page
  is not waited for);
- ``VisitWriter`` (run alone, named on the command line) — the worker-kill fault: a
  station officer recording visits back to back.

Every request's name starts with its class: ``page:`` (HTML pages; target p95 < 300 ms), ``map:``
(GeoJSON layers; p95 < 500 ms), ``write:`` (a form posted, an export started), ``auth:`` (the
sign-in, once per user; not judged). Each write carries a unique marker (a visit's findings) and
is logged with its answer to ``DANSO_LOAD_ACK_LOG`` so the fault check can compare what clients
saw acknowledged with the database. Response times per request are written to
``DANSO_LOAD_TIMES`` when the run stops.

Environment: ``DANSO_LOAD_PLAN`` (JSON written by bench_load: accounts, units, collaborators,
applications), ``DANSO_LOAD_RUN`` (marker prefix), ``DANSO_LOAD_TODAY`` (dd/mm/yyyy, Vietnam's).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
import time
import uuid
from pathlib import Path

from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["DANSO_LOAD_PLAN"]).read_text(encoding="utf-8")) \
    if os.environ.get("DANSO_LOAD_PLAN") else {"password": "", "station": [], "centre": [], "province": []}
RUN = os.environ.get("DANSO_LOAD_RUN", "bench-load")
TODAY = os.environ.get("DANSO_LOAD_TODAY", "")
ACK_LOG = os.environ.get("DANSO_LOAD_ACK_LOG")
TIMES_FILE = os.environ.get("DANSO_LOAD_TIMES")
THINK = tuple(float(x) for x in os.environ.get("DANSO_LOAD_THINK", "1-3").split("-"))

CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')
CHECKLIST = re.compile(r'name="(item_[a-z_]+)"')
VERSION = re.compile(r'name="version" type="hidden" value="(\d+)"|name="version" value="(\d+)"')
VISIT_DONE = re.compile(r"/supervision/visits/(\d+)$")

_accounts = {kind: itertools.cycle(PLAN.get(kind) or [None]) for kind in ("station", "centre", "province")}
_accounts_lock = threading.Lock()
_ack_lock = threading.Lock()
_times: dict[str, list[float]] = {}
_failures: dict[str, int] = {}


def next_account(kind: str) -> dict:
    """The next account of ``kind`` from the plan, round robin (the plan holds at least as many
    as the run has users of that kind, so none is shared)."""
    with _accounts_lock:
        account = next(_accounts[kind])
    if account is None:
        raise RuntimeError(f"the load plan has no {kind} accounts")
    return account


def log_write(kind: str, marker: str, status: int, location: str) -> None:
    """One line per write attempted: kind, marker, HTTP status (0: no answer), Location."""
    if not ACK_LOG:
        return
    with _ack_lock, open(ACK_LOG, "a", encoding="utf-8") as f:
        f.write(f"{kind}\t{marker}\t{status}\t{location}\n")


# Steady state: the users all sign in while they are spawned (a password hash each), which no office
# does at one second; requests other than the sign-in are counted from SETTLE seconds after the
# last user is spawned. The sign-ins ("auth: ...") are all counted.
SETTLE = float(os.environ.get("DANSO_LOAD_SETTLE", "5"))
_steady = {"from": None}


@events.spawning_complete.add_listener
def _spawned(**_kw):
    _steady["from"] = time.time() + SETTLE


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **_kw):
    if not name.startswith("auth:") and (_steady["from"] is None or time.time() < _steady["from"]):
        return
    _times.setdefault(name, []).append(response_time)
    if exception is not None:
        _failures[name] = _failures.get(name, 0) + 1


@events.test_stop.add_listener
def _dump(**_kw):
    if TIMES_FILE:
        window = time.time() - _steady["from"] if _steady["from"] else None
        with open(TIMES_FILE, "w", encoding="utf-8") as f:
            json.dump({"times": _times, "failures": _failures, "window": window}, f)


def csrf_from(html: str) -> str | None:
    match = CSRF_META.search(html)
    return match.group(1) if match else None


class _Signed(HttpUser):
    """A user of one account: signs in through the login form (its CSRF token), then works."""

    abstract = True
    kind = "station"
    # Seconds between two actions of one user (bench_load --think): reading a page, filling a form.
    wait_time = between(*THINK)

    def on_start(self):
        self.account = next_account(self.kind)
        self.csrf = None
        with self.client.get("/login", name="auth: login form", catch_response=True) as r:
            token = csrf_from(r.text)
            if r.status_code != 200 or not token:
                r.failure(f"no login form ({r.status_code})")
                return
        with self.client.post("/login", name="auth: login", allow_redirects=False, catch_response=True,
                              data={"csrf_token": token, "username": self.account["username"],
                                    "password": PLAN["password"]}) as r:
            if r.status_code != 302:
                r.failure(f"login of {self.account['username']} answered {r.status_code}")

    # -- helpers --

    def page(self, url: str, name: str):
        """GET an HTML page (class ``page``); keeps the session's CSRF token for later posts."""
        with self.client.get(url, name=f"page: {name}", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")
            elif r.url.rstrip("/").endswith("/login"):
                r.failure("sent to the login page")
            else:
                self.csrf = csrf_from(r.text) or self.csrf
            return r

    def layer(self, url: str, name: str):
        with self.client.get(url, name=f"map: {name}", catch_response=True,
                             headers={"Accept-Encoding": "gzip"}) as r:
            if r.status_code != 200 or not r.text.startswith("{"):
                r.failure(f"{r.status_code}")

    def search_term(self) -> str:
        return random.choice(self.account.get("terms") or ["Nguyễn"])

    def record_visit(self, collaborator_id: int, name: str = "visit recorded"):
        """Open the visit form, then post it with a unique marker in the findings. Acknowledged:
        302 to the new visit's page."""
        form = self.client.get(f"/supervision/visits/new/{collaborator_id}", name="page: visit form")
        if form.status_code != 200:
            return
        token = csrf_from(form.text)
        data = {item: "yes" for item in set(CHECKLIST.findall(form.text))}
        marker = f"{RUN} {uuid.uuid4().hex}"
        data.update(csrf_token=token, visited_on=TODAY, findings=marker)
        status, location = 0, ""
        try:
            with self.client.post(f"/supervision/visits/new/{collaborator_id}", data=data, allow_redirects=False,
                                  name=f"write: {name}", catch_response=True) as r:
                status, location = r.status_code, r.headers.get("Location", "")
                if status != 302 or not VISIT_DONE.search(location):
                    r.failure(f"{status} {r.text[:200]!r}" if status else f"no answer: {r.error}")
        finally:
            log_write("visit", marker, status, location)

    def screen_application(self, application_id: int):
        """Open an application, post its ``screen`` action with the version shown (one step:
        dossier complete → screened, or screened again). Acknowledged: 302 to the application."""
        show = self.page(f"/recruitment/applications/{application_id}", "application")
        section = show.text.split('id="action-screen"', 1)
        if show.status_code != 200 or len(section) < 2:
            return  # nothing to screen any more (moved on by someone else)
        version = VERSION.search(section[1])
        token = csrf_from(show.text)
        if not version or not token:
            return
        with self.client.post(f"/recruitment/applications/{application_id}/transitions", allow_redirects=False,
                              name="write: application screened", catch_response=True,
                              data={"csrf_token": token, "action": "screen",
                                    "version": version.group(1) or version.group(2), "comment": RUN}) as r:
            if r.status_code != 302:
                r.failure(f"{r.status_code}")

    def start_export(self, unit_id: int):
        """A roster export over the inline limit: answered by a redirect to the job's page (the
        job is queued; its page is not waited for)."""
        with self.client.get(f"/exports/roster/{unit_id}?format=xlsx", name="write: export started",
                             allow_redirects=False, catch_response=True) as r:
            if r.status_code != 302 or "/jobs/" not in r.headers.get("Location", ""):
                r.failure(f"{r.status_code} {r.headers.get('Location', '')}")


class StationUser(_Signed):
    weight = 6
    kind = "station"

    @task(10)
    def roster(self):
        self.page(f"/collaborators/roster/{self.account['unit_id']}", "roster (commune)")

    @task(4)
    def roster_search(self):
        self.page(f"/collaborators/roster/{self.account['unit_id']}?q={self.search_term()}", "roster search (commune)")

    @task(3)
    def unit_search(self):
        self.page(f"/units/search?q={random.choice(self.account['hamlet_terms'])}", "unit search")

    @task(4)
    def hamlet_layer(self):
        self.layer(f"/maps/layers/hamlets/{self.account['unit_id']}.geojson", "hamlet layer (commune)")

    @task(3)
    def dashboard(self):
        self.page("/", "coverage dashboard")

    @task(2)
    def quota(self):
        self.page(f"/collaborators/quota/{self.account['unit_id']}", "quota and coverage (commune)")

    @task(3)
    def visit(self):
        self.record_visit(random.choice(self.account["collaborators"]))

    @task(1)
    def transition(self):
        if self.account.get("applications"):
            self.screen_application(random.choice(self.account["applications"]))


class CentreUser(_Signed):
    weight = 2
    kind = "centre"

    @task(6)
    def roster(self):
        self.page(f"/collaborators/roster/centre/{self.account['facility_id']}", "roster (centre)")

    @task(3)
    def roster_search(self):
        self.page(f"/collaborators/roster/centre/{self.account['facility_id']}?q={self.search_term()}",
                  "roster search (centre)")

    @task(4)
    def centre_layer(self):
        self.layer(f"/maps/layers/centre/{self.account['facility_id']}.geojson", "commune layer (centre)")

    @task(3)
    def dashboard(self):
        self.page("/", "coverage dashboard")

    @task(2)
    def quota(self):
        self.page(f"/collaborators/quota/{random.choice(self.account['communes'])}", "quota and coverage (commune)")

    @task(1)
    def visit(self):
        self.record_visit(random.choice(self.account["collaborators"]))


class ProvinceUser(_Signed):
    weight = 1
    kind = "province"

    @task(5)
    def roster(self):
        self.page(f"/collaborators/roster/{self.account['unit_id']}", "roster (province)")

    @task(3)
    def roster_search(self):
        self.page(f"/collaborators/roster/{self.account['unit_id']}?q={self.search_term()}", "roster search (province)")

    @task(3)
    def province_layer(self):
        self.layer(f"/maps/layers/communes/{self.account['unit_id']}.geojson", "commune layer (province)")

    @task(3)
    def dashboard(self):
        self.page("/", "coverage dashboard")

    @task(2)
    def quota(self):
        self.page(f"/collaborators/quota/{self.account['unit_id']}", "quota and coverage (province)")

    @task(1)
    def export(self):
        self.start_export(self.account["unit_id"])


class VisitWriter(_Signed):
    """The worker-kill fault: visits recorded back to back. bench_load names the classes it runs
    on the command line, so this one never joins the load mix."""

    weight = 1
    kind = "station"
    wait_time = between(0.05, 0.2)

    @task
    def visit(self):
        self.record_visit(random.choice(self.account["collaborators"]), "visit recorded (fault)")
