#!/usr/bin/env python3
"""Fuzz the JSON API against its own OpenAPI document with schemathesis (issue #14 item 4).

What it does, on a throwaway database that nothing else sees:

1. a temporary folder with an SQLite database; ``danso db upgrade`` (the migrations, as in
   production);
2. a small world written through the services (``tests/factories.build_world``: Đồng Nai with two
   communes, their hamlets and facilities, one user per role; Hà Nội with one commune), the
   province's recruitment criteria, a few nominated applications and active collaborators, so
   every list has something to return; their ids are offered to schemathesis for the path
   parameters of the same name (a ``schemathesis.toml`` dictionary, drawn 80 % of the time), so
   the id-taking operations get past "not found" to their checks;
3. an API token for the province admin ``admin75`` (``api.auth.issue_token``, the service behind
   ``POST /api/v1/auth/token``);
4. the app served by gunicorn on 127.0.0.1 on a free port (never another address);
5. ``schemathesis run`` on ``/api/v1/openapi.json`` with ``Authorization: Bearer <token>``,
   bounded (``--max-examples`` per operation, ``--max-time`` overall), with the checks
   ``not_a_server_error`` (no 500), ``status_code_conformance`` (every status documented),
   ``response_schema_conformance`` (every body as described), ``content_type_conformance`` and
   ``response_headers_conformance``. State-changing operations are included (the database is
   thrown away), except ``DELETE /api/v1/auth/token``, which would revoke the token the run uses.

The server is stopped and the folder removed whatever happens. Exit status: schemathesis's (0 when
no check failed), or 1 when the set-up failed.

Usage: .venv/bin/python scripts/api_fuzz.py [--max-examples N] [--max-time SECONDS] [--seed N]
       [--keep] (keep the temporary folder: database, server log, schemathesis reports)
Under CI=true the seed is fixed (CI_SEED) unless --seed is given; elsewhere each run draws anew.
Environment: API_FUZZ_MAX_EXAMPLES (25), API_FUZZ_MAX_TIME (90 s, schemathesis's own budget).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
CI_SEED = 20261207
CHECKS = ("not_a_server_error,status_code_conformance,response_schema_conformance,"
          "content_type_conformance,response_headers_conformance")

# Runs inside the app (``danso shell`` would read stdin; this is plain Python with create_app):
# the world, criteria, applications and collaborators, then prints the token and the world's ids
# as JSON on the last line.
SEED = r"""
import json
import sys
sys.path.insert(0, sys.argv[1])
from danso_network import create_app
from danso_network.extensions import db

app = create_app()
with app.app_context():
    from tests import factories
    from danso_network.api.auth import issue_token
    from danso_network.recruitment import services as rs

    world = factories.build_world()
    factories.criteria(world.dong_nai)
    admin = world.users["admin"]
    serial = 0
    for hamlet in [*world.hamlets_a, *world.hamlets_b]:
        for _ in range(2):
            serial += 1
            factories.appoint(hamlet, serial)
        serial += 1
        fields = factories.candidate_fields(hamlet, serial)
        rs.create_application(**fields, actor=admin)
    _token, raw = issue_token(admin, name="api_fuzz")
    db.session.commit()
    from danso_network.collaborators.models import Assignment, Collaborator
    from danso_network.recruitment.models import Application
    from danso_network.units.models import AdminUnit

    def ids(model):
        return [i for (i,) in db.session.query(model.id).order_by(model.id)]

    communes = [world.commune_a.id, world.commune_b.id, world.commune_c.id]
    print(json.dumps({"token": raw, "ids": {
        "application_id": ids(Application), "collaborator_id": ids(Collaborator),
        "assignment_id": ids(Assignment), "commune_id": communes, "unit_id": ids(AdminUnit),
        "province_id": [world.dong_nai.id, world.hanoi.id], "facility_id": [world.centre.id],
        "month": ["2025-10", "2026-01"]}}))
"""

# The ids the world holds, offered to schemathesis for the path parameters of the same name (a
# dictionary drawn from most of the time, random values otherwise): without them almost every
# generated id is unknown and the operations stop at 404 before reaching their checks.
CONFIG = """
[dictionaries]
{dictionaries}

[parameters]
{parameters}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {server.returncode}) before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own 127.0.0.1)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def stop(server: subprocess.Popen | None) -> None:
    """Stop gunicorn and its workers (its own process group), waiting for them to end."""
    if server is None or server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    except ProcessLookupError:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("API_FUZZ_MAX_EXAMPLES", 25)))
    parser.add_argument("--max-time", type=int, default=int(os.environ.get("API_FUZZ_MAX_TIME", 90)))
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="danso_api_fuzz_"))
    env = {**os.environ, "DANSO_DATABASE_URL": f"sqlite:///{work / 'fuzz.db'}", "DANSO_SECRET_KEY": "api-fuzz-only",
           "DANSO_SESSION_COOKIE_SECURE": "false", "DANSO_REMEMBER_COOKIE_SECURE": "false",
           "DANSO_JOB_ENGINE": "thread", "DANSO_UPLOAD_DIR": str(work / "uploads"),
           "DANSO_RATELIMIT_STORAGE_URI": "memory://", "PYTHONHASHSEED": "0"}
    env.pop("DANSO_REDIS_URL", None)
    server = None
    status = 1
    try:
        print("=== migrations", flush=True)
        subprocess.run([str(BIN / "danso"), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True,
                       text=True)
        print("=== data and token", flush=True)
        seeded = subprocess.run([str(BIN / "python"), "-c", SEED, str(ROOT)], cwd=ROOT, env=env, check=True,
                                capture_output=True, text=True)
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        token = seed["token"]
        known = {name: values for name, values in seed["ids"].items() if values}
        (work / "schemathesis.toml").write_text(CONFIG.format(
            dictionaries="\n".join(f"{name} = {{ values = {json.dumps(values)} }}" for name, values in known.items()),
            parameters="\n".join(f'"path.{name}" = {{ dictionary = "{name}", probability = 0.8 }}' for name in known)))
        port = free_port()
        base = f"http://{HOST}:{port}"
        print(f"=== serving on {base}", flush=True)
        log = open(work / "server.log", "wb")  # noqa: SIM115 (closed with the folder)
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"{HOST}:{port}", "--workers", "1", "--threads", "4",
             "--timeout", "60",
             # No limit on the request line: the fuzzer sends URLs of several KB, which gunicorn
             # would refuse with its own 400 page before the app sees them (the app is under test).
             "--limit-request-line", "0", "danso_network:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until_up(f"{base}/api/v1/openapi.json", server)
        print(f"=== schemathesis (≤ {args.max_examples} examples an operation, ≤ {args.max_time} s)", flush=True)
        command = [str(BIN / "schemathesis"), "--config-file", str(work / "schemathesis.toml"), "run",
                   f"{base}/api/v1/openapi.json", "--url", base,
                   "--header", f"Authorization: Bearer {token}",
                   "--checks", CHECKS,
                   "--exclude-operation-id", "revokeToken",
                   "--max-examples", str(args.max_examples), "--max-time", str(args.max_time),
                   # One worker: hypothesis parses lambdas' source with ast.parse, which is not
                   # thread-safe on CPython 3.11 ("AST constructor recursion depth mismatch").
                   "--workers", "1", "--request-timeout", "30",
                   "--generation-database", "none", "--report-dir", str(work / "reports"),
                   "--no-color"]
        if args.seed is None and os.environ.get("CI") == "true":
            args.seed = CI_SEED  # CI judges the change, not a new draw (the run is still bounded by time)
        if args.seed is not None:
            command += ["--seed", str(args.seed)]
        result = subprocess.run(command, cwd=work, env=env)
        status = result.returncode
    except (subprocess.CalledProcessError, RuntimeError, OSError) as e:
        print(f"api fuzz set-up FAILED: {e}", file=sys.stderr)
        if isinstance(e, subprocess.CalledProcessError) and e.stderr:
            print(e.stderr[-4000:], file=sys.stderr)
        status = 1
    finally:
        stop(server)
        if server is not None and (status != 0 or args.keep):
            tail = (work / "server.log").read_text(errors="replace")[-6000:]
            print("--- server log (tail) ---\n" + tail, file=sys.stderr)
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"=== api fuzz {'passed' if status == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
