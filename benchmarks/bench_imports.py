"""Import benchmarks for issue #12 ("Targets"): a national hamlet file.

Meant to be run as a group of cases by :mod:`benchmarks.bench_roster` (``make bench``), like
:mod:`benchmarks.bench_exports` (``build_hamlet_cases(app, info, Case=…, http=…, login=…)``); or
alone on a national dataset already built (``benchmarks.national``) with
``python -m benchmarks.bench_imports --url URL [--reps 3]`` (a short run; it writes nothing to
RESULTS.md). The dataset is left as it was: each run imports inside a transaction that is rolled
back once the import has flushed every statement (the commit itself is not timed).

- ``hamlets_new``: a CSV of 60,000 hamlets new to the dataset (≈ 18 per commune, over every
  commune of the 34 provinces, with type, households, population and the two flags), read
  (``imports.reading.read_table``), planned (every rule checked, the communes and their hamlets
  loaded set-based) and applied (``units.hamlets_import.apply_hamlets``: 60,000 units and 60,000
  audit events written in batches), as ``danso units import-hamlets`` does. Target: < 60 s, and
  peak memory < 300 MB — measured once in a subprocess of its own (``--memory``): its peak
  resident size (``VmHWM``, :mod:`benchmarks.memory`), and what the import adds to the process (Python, the app and its
  libraries loaded beforehand, as in a worker or the CLI);
- ``hamlets_again``: the national file of the dataset's own hamlets (≈ 63,000, from the
  template's columns), a third of them with new figures: every row matched, a third updated.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from danso_network.extensions import db

from .memory import high_water_mark, in_child, rss_now
from .notes import Later

TARGET_MS = 60_000.0
MEMORY_TARGET_MB = 300.0
NEW_HAMLETS = 60_000
HERE = Path(__file__).resolve().parent
HEADER = ["Mã xã/phường", "Tên xã/phường", "Tên thôn/tổ dân phố", "Loại", "Số hộ", "Dân số", "Thôn khó khăn",
          "Thôn dân tộc thiểu số"]


def _mb(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def write_new_hamlets(path: Path, n: int = NEW_HAMLETS, seed: int = 12) -> int:
    """A CSV of ``n`` hamlets that the dataset does not have, spread over its current communes
    (names "Thôn mới N" / "Tổ dân phố mới N", typed for the commune). Needs an app context."""
    from sqlalchemy import select

    from danso_network.common.clock import today
    from danso_network.units.models import AdminUnit, UnitLevel
    from danso_network.units.services import valid_on

    rng = random.Random(seed)
    communes = db.session.execute(select(AdminUnit.code, AdminUnit.full_name, AdminUnit.type).where(
        AdminUnit.level == UnitLevel.COMMUNE.value, valid_on(AdminUnit, today())).order_by(AdminUnit.code)).all()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for i in range(n):
            code, full_name, unit_type = communes[i % len(communes)]
            urban = unit_type in ("phuong", "thi_tran")
            word = "Tổ dân phố" if urban else "Thôn"
            households = rng.randint(60, 600)
            out.writerow([code, full_name, f"{word} mới {i // len(communes) + 1}", word, households,
                          households * rng.randint(3, 5), "x" if rng.random() < 0.1 else "",
                          "Có" if rng.random() < 0.1 else "Không"])
    return n


def write_existing_hamlets(path: Path, seed: int = 12) -> int:
    """A CSV of every current hamlet of the dataset, as the template lists them, a third with new
    household and population figures (the rest exactly as stored). Needs an app context."""
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from danso_network.units.hamlets_import import TYPE_WORD_OF
    from danso_network.units.models import AdminUnit, UnitLevel

    rng = random.Random(seed)
    commune = aliased(AdminUnit)
    rows = db.session.execute(
        select(commune.code, commune.full_name, AdminUnit.name, AdminUnit.type, AdminUnit.households,
               AdminUnit.population, AdminUnit.is_difficult, AdminUnit.is_ethnic_minority, AdminUnit.local_id)
        .join(commune, commune.id == AdminUnit.parent_id)
        .where(AdminUnit.level == UnitLevel.HAMLET.value, AdminUnit.valid_to.is_(None))
        .order_by(commune.code, AdminUnit.local_id))
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([*HEADER, "Mã thôn"])
        for code, full_name, name, unit_type, households, population, difficult, minority, local_id in rows:
            if rng.random() < 1 / 3:
                households = (households or 100) + rng.randint(1, 30)
                population = households * 4
            out.writerow([code, full_name, name, TYPE_WORD_OF.get(unit_type, unit_type), households, population,
                          "Có" if difficult else "Không", "Có" if minority else "Không", local_id])
            count += 1
    return count


def import_and_roll_back(path: Path) -> dict:
    """Read, plan and apply a hamlet file as the CLI's administrator, flush, then roll back.
    Needs an app context. Returns the counts, the wall time of each step and the CPU time of
    the whole (seconds: on a shared machine the wall time also counts the others' load)."""
    from danso_network.imports.reading import read_table
    from danso_network.units.hamlets_import import FIELDS, apply_hamlets, plan_hamlets

    steps = {}
    started, cpu = time.perf_counter(), time.process_time()
    try:
        table = read_table(path, FIELDS, filename=path.name)
        steps["read"] = time.perf_counter() - started
        plan = plan_hamlets(table)
        steps["plan"] = time.perf_counter() - started - steps["read"]
        if plan.problems:
            raise RuntimeError(f"{len(plan.problems)} problems, first: {list(plan.problems)[0]}")
        summary = apply_hamlets(plan, filename=path.name)
        db.session.flush()
        steps["apply"] = time.perf_counter() - started - steps["read"] - steps["plan"]
        steps["cpu"] = time.process_time() - cpu
    finally:
        db.session.rollback()
    return {"rows": len(table.rows), "created": summary.created, "updated": summary.updated,
            "unchanged": summary.unchanged, **steps}


def measure_memory(url: str, which: str = "new") -> dict:
    """Import the national file in a process of its own; its peak resident size and the size
    it had before the import (app and libraries loaded), in bytes."""
    return in_child("benchmarks.bench_imports", "--url", url, "--which", which)


def _memory_main(url: str, which: str) -> int:
    from danso_network.units import hamlets_import  # noqa: F401 - what the import loads, loaded first

    from .national import make_bench_app

    app = make_bench_app(url)
    with app.app_context(), tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "thon.csv"
        (write_new_hamlets if which == "new" else write_existing_hamlets)(path)
        db.session.rollback()
        before = rss_now()
        started = time.perf_counter()
        result = import_and_roll_back(path)
        seconds = time.perf_counter() - started
    peak = high_water_mark()
    print(json.dumps({"before": before, "peak": peak, "seconds": seconds, **result}))
    return 0


def build_hamlet_cases(app, info: dict, *, Case, http, login) -> tuple[list, list[str]]:
    """The hamlet import cases after their own ``/health`` baseline. ``Case``, ``http`` and
    ``login`` come from :mod:`benchmarks.bench_roster` (one definition of a case and its timing)."""
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    folder = Path(tempfile.mkdtemp(prefix="danso-bench-imports-"))
    client = login(app, f"bench_admin_{info['province_code']}")
    new_file, again_file = folder / "thon-moi.csv", folder / "thon-ca-nuoc.csv"
    with app.app_context():
        write_new_hamlets(new_file)
        again = write_existing_hamlets(again_file)
        db.session.rollback()
    memory: dict = {}
    last: dict = {}

    def importing(path: Path, key: str, case_of):
        def run():
            with app.app_context():
                result = import_and_roll_back(path)
            last[key] = result
            case = case_of()
            size = (f"{result['rows']:,} rows: {result['created']:,} new, {result['updated']:,} updated, "
                    f"{result['unchanged']:,} unchanged (read {result['read']:.1f} s, plan {result['plan']:.1f} s, "
                    f"apply {result['apply']:.1f} s; {result['cpu']:.1f} s of CPU)")
            if key == "new":
                if not memory:
                    memory.update(measure_memory(url))
                case.size_passed = memory["peak"] / 1024 / 1024 < MEMORY_TARGET_MB
                size += f", peak {_mb(memory['peak'])}"
            case.size = size
            return size
        return run

    new_case = Case("hamlets_new", f"Import {NEW_HAMLETS:,} new hamlets (national CSV, administrator): < 60 s, "
                    f"peak < {MEMORY_TARGET_MB:.0f} MB", None, TARGET_MS,
                    size_target=f"peak < {MEMORY_TARGET_MB:.0f} MB")
    again_case = Case("hamlets_again", f"Re-import the {again:,} hamlets of the dataset, a third with new figures",
                      None, TARGET_MS)
    new_case.run = importing(new_file, "new", lambda: new_case)
    again_case.run = importing(again_file, "again", lambda: again_case)
    cases = [Case("health", "Baseline: GET /health (same client)", http(client, "/health")), new_case, again_case]

    def memory_note() -> str:
        if not memory:
            return "Peak memory of the hamlet import: not measured."
        added = memory["peak"] - memory["before"]
        verdict = "PASS" if memory["peak"] / 1024 / 1024 < MEMORY_TARGET_MB else "**MISS**"
        return (f"Memory of the {NEW_HAMLETS:,}-hamlet import, in a process of its own: peak resident size "
                f"{_mb(memory['peak'])}, of which {_mb(added)} added by the import to the {_mb(memory['before'])} the "
                f"process held before it (Python, the app and its libraries); {memory['seconds']:.1f} s there — "
                f"target < {MEMORY_TARGET_MB:.0f} MB: {verdict}.")

    notes = [
        f"Files generated from the dataset's communes: {NEW_HAMLETS:,} new hamlets; {again:,} existing hamlets "
        "(a third with new figures). Each run reads, plans and applies the CSV as `danso units import-hamlets` "
        "does, flushes every statement, then rolls back (the dataset is left unchanged; the commit is not timed).",
        Later(memory_note),
    ]
    return cases, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a national dataset (benchmarks.national)")
    parser.add_argument("--memory", action="store_true", help="(internal) one import, its peak memory as JSON")
    parser.add_argument("--which", default="new", choices=("new", "again"))
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=0)
    args = parser.parse_args(argv)
    if args.memory:
        return _memory_main(args.url, args.which)
    from .bench_roster import Case, _http, _login, _pick, measure, print_cases
    from .national import make_bench_app

    app = make_bench_app(args.url)
    cases, notes = build_hamlet_cases(app, _pick(app), Case=Case, http=_http, login=_login)
    measure(cases, args.warmup, args.reps)
    print_cases(cases, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
