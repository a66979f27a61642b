"""Roster import benchmarks for issue #12 ("Targets"): a 10,000-row collaborator file on the national
dataset — the dry run in under 10 s, the import in under 20 s, peak memory under 300 MB.

Meant to be run as a group of cases by the benchmark runner (``build_roster_import_cases``, like
:mod:`benchmarks.bench_exports`), or alone on a **copy** of a national dataset already built::

    python -m benchmarks.bench_roster_import [--dataset benchmarks/.data/national-s1_x1.db] [--reps 3]

(a short run that writes nothing to RESULTS.md; the dataset file is copied first and the copy
deleted at the end, so it is never changed). ``--url URL`` runs on a database as it is instead
(PostgreSQL): every timed import is rolled back, so it too is left unchanged.

The file: :data:`ROWS` people new to the database, each with a primary hamlet of the province with
the most collaborators (drawn from its hamlets in force; start dates after the hamlets' ``valid_from``),
a date of birth, sex, a CCCD consistent with both, education, a phone, a decision number, and the
combined duty for most — an XLSX written as the template's header (``roster_template``), as an
office would send it. It is imported by that province's admin (``bench_admin_<code>``), the scope a
province's file has:

- ``import_dry_run``: read the file (calamine) and plan it (``roster_import.plan_roster_import``):
  every row checked, the hamlets and the people looked up a few hundred per query; nothing written.
  Target < 10 s.
- ``import``: read, plan and write it (``apply_roster_import``: candidates, applications, their
  timeline, collaborators, assignments, duties and one audit event per person, as multi-row
  INSERTs), up to the last flush; then rolled back so that every round starts from the same
  database (the commit itself is timed in the memory run below, on a copy). Target < 20 s.
- Memory, measured once in a subprocess of its own (``--memory``): the dry run then the import
  of the same file, committed when the database is a throwaway copy; its peak resident size
  (``VmHWM``, :mod:`benchmarks.memory`) and what the import added to the process it runs in (the size just before,
  Python, the app and its libraries loaded, as in a web worker or the CLI). Target: < 300 MB
  added (the convention of the export benchmark). When committed, the same file is planned again
  and must come back all "unchanged".
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from danso_network.common.clock import today
from danso_network.extensions import db

from .memory import high_water_mark, in_child, rss_now
from .notes import Later

ROWS = 10_000
DRY_RUN_TARGET_MS = 10_000.0
IMPORT_TARGET_MS = 20_000.0
MEMORY_TARGET_MB = 300.0
HERE = Path(__file__).resolve().parent
DATASET = HERE / ".data" / "national-s1_x1.db"
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MIDDLE = {"female": ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Hồng"], "male": ["Văn", "Đức", "Minh", "Quốc", "Hữu"]}
GIVEN = {"female": ["Lan", "Hoa", "Hương", "Mai", "Hạnh", "Nga", "Thảo", "Trang", "Yến", "Linh"],
         "male": ["Hùng", "Dũng", "Minh", "Tuấn", "Nam", "Hải", "Long", "Sơn", "Bình", "Phúc"]}
HEADERS = ["STT", "Mã thôn", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Điện thoại", "Dân tộc",
           "Trình độ học vấn", "Loại phân công", "Phụ trách từ", "Số quyết định", "Số hợp đồng", "Kiêm YTTB",
           "Kiêm GĐ&TE"]


def _mb(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def admin_of(info: dict) -> str:
    return f"bench_admin_{info['province_code']}"


def make_file(app, info: dict, path: Path, rows: int = ROWS, seed: int = 12) -> int:
    """Write the benchmark's XLSX of ``rows`` new collaborators in the province of ``info``;
    the number of hamlets they are spread over."""
    from sqlalchemy import select
    from sqlalchemy.orm import aliased
    from xlsxwriter import Workbook

    from danso_network.recruitment.models import Candidate
    from danso_network.units.models import AdminUnit, UnitLevel
    from danso_network.units.services import valid_on

    rng = random.Random(seed)
    on = today()
    with app.app_context():
        commune = aliased(AdminUnit)
        hamlets = db.session.execute(
            select(commune.code, AdminUnit.local_id, AdminUnit.valid_from)
            .join(commune, commune.id == AdminUnit.parent_id)
            .where(AdminUnit.level == UnitLevel.HAMLET.value, valid_on(AdminUnit, on),
                   AdminUnit.path.startswith(info["province_path"])).order_by(AdminUnit.id)).all()
        people = []
        serial = 900_000
        while len(people) < rows:
            batch = []
            for _ in range(rows - len(people)):
                sex = rng.choice(["female", "female", "male"])
                born = date(rng.randint(1965, 2000), rng.randint(1, 12), rng.randint(1, 28))
                century = born.year // 100 - 19
                serial += 1
                cccd = f"0{rng.randint(1, 96):02d}{century * 2 + (sex == 'female')}{born.year % 100:02d}{serial:06d}"
                batch.append((sex, born, cccd))
            taken = set()
            for start in range(0, len(batch), 500):
                chunk = [cccd for _s, _b, cccd in batch[start:start + 500]]
                taken.update(db.session.scalars(select(Candidate.national_id).where(Candidate.national_id.in_(chunk))))
            people += [p for p in batch if p[2] not in taken]
        db.session.rollback()
    book = Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    ws = book.add_worksheet("Danh sách CTV")
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_string(0, 0, "DANH SÁCH CỘNG TÁC VIÊN DÂN SỐ (MẪU NHẬP)")
    ws.write_string(1, 0, f"Địa bàn: {info['province_name']}")
    for col, header in enumerate(HEADERS):
        ws.write_string(3, col, header)
    educations = ["Tốt nghiệp THCS", "Tốt nghiệp THPT", "Trung cấp", "Cao đẳng, đại học trở lên"]
    for n, (sex, born, cccd) in enumerate(people, 1):
        code, local, since = rng.choice(hamlets)
        started = since + timedelta(days=rng.randint(0, max(0, (on - since).days)))
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}"
        row = 3 + n
        ws.write_number(row, 0, n)
        ws.write_string(row, 1, f"{code}-{local}")
        ws.write_string(row, 2, name)
        ws.write_datetime(row, 3, born, dates)
        ws.write_string(row, 4, "Nữ" if sex == "female" else "Nam")
        ws.write_string(row, 5, cccd)
        ws.write_string(row, 6, f"09{rng.randint(10_000_000, 99_999_999)}")
        ws.write_string(row, 7, "Kinh")
        ws.write_string(row, 8, rng.choice(educations))
        ws.write_string(row, 9, "Thôn chính")
        ws.write_datetime(row, 10, started, dates)
        ws.write_string(row, 11, f"{rng.randint(1, 400)}/QĐ-TTYT")
        ws.write_string(row, 12, f"{n:05d}/HĐTN")
        if rng.random() < 0.2:
            ws.write_string(row, 13, "Có")
        if rng.random() < 0.85:
            ws.write_string(row, 14, "Có")
    book.close()
    return len({h[:2] for h in hamlets})


def _user(username: str):
    from sqlalchemy import select

    from danso_network.auth.models import User

    return db.session.scalar(select(User).where(User.username == username))


def dry_run(app, path: Path, username: str) -> str:
    """Read and plan the file as ``username``; nothing written."""
    from danso_network.collaborators.roster_import import FIELDS, plan_roster_import
    from danso_network.imports.reading import read_table

    with app.app_context():
        plan = plan_roster_import(read_table(path, FIELDS), user=_user(username))
        db.session.rollback()
    if plan.problems:
        raise RuntimeError(f"{len(plan.problems)} problems, first: {plan.problems[0]}")
    return f"{plan.rows:,} rows: {plan.summary.created:,} new, {len(plan.warnings):,} quota warnings"


def import_file(app, path: Path, username: str, *, commit: bool = False) -> str:
    """Read, plan and write the file as ``username``, up to the last flush; committed only when
    asked (a throwaway copy), else rolled back."""
    from danso_network.collaborators.roster_import import FIELDS, apply_roster_import, plan_roster_import
    from danso_network.imports.reading import read_table

    with app.app_context():
        user = _user(username)
        plan = plan_roster_import(read_table(path, FIELDS), user=user)
        if plan.problems:
            db.session.rollback()
            raise RuntimeError(f"{len(plan.problems)} problems, first: {plan.problems[0]}")
        summary = apply_roster_import(plan, actor=user, filename=path.name)
        if commit:
            db.session.commit()
        else:
            db.session.rollback()
    return f"{summary.created:,} people written" + ("" if commit else " (rolled back)")


def measure_memory(url: str, path: Path, username: str, *, commit: bool) -> dict:
    """The dry run and the import in a process of their own: its peak resident size and the size
    before, in bytes, and the seconds each took."""
    return in_child("benchmarks.bench_roster_import", "--url", url, "--file", str(path), "--user", username,
                           *(["--commit"] if commit else []))


def _memory_main(url: str, path: Path, username: str, commit: bool) -> int:
    from danso_network.collaborators import roster_import  # noqa: F401 - everything the import loads, first
    from danso_network.imports import reading  # noqa: F401

    from .national import make_bench_app

    app = make_bench_app(url)
    with app.app_context():
        db.session.execute(db.select(1))
        db.session.rollback()
    before = rss_now()
    started = time.perf_counter()
    dry_run(app, path, username)
    dry = time.perf_counter() - started
    started = time.perf_counter()
    import_file(app, path, username, commit=commit)
    seconds = time.perf_counter() - started
    result = {"before": before, "peak": high_water_mark(),
              "dry_seconds": dry, "import_seconds": seconds, "committed": commit}
    if commit:
        from danso_network.collaborators.roster_import import FIELDS, plan_roster_import
        from danso_network.imports.reading import read_table

        started = time.perf_counter()
        with app.app_context():
            again = plan_roster_import(read_table(path, FIELDS), user=_user(username))
            db.session.rollback()
        result |= {"again_seconds": time.perf_counter() - started, "again_unchanged": again.summary.unchanged,
                   "again_changed": again.summary.created + again.summary.updated, "again_problems": len(again.problems)}
    print(json.dumps(result))
    return 0


def build_roster_import_cases(app, info: dict, *, Case, http, login, commit_memory: bool = False) -> tuple[list, list]:
    """The import cases after their own ``/health`` baseline (``Case``, ``http`` and ``login``
    from :mod:`benchmarks.bench_roster`). ``commit_memory``: the database is a throwaway copy, so
    the memory run commits its import and plans the file again."""
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    folder = Path(tempfile.mkdtemp(prefix="danso-bench-import-"))
    path = folder / "danh-sach-ctv-10000.xlsx"
    started = time.perf_counter()
    hamlets = make_file(app, info, path)
    made_in = time.perf_counter() - started
    username = admin_of(info)
    client = login(app, username)
    memory: dict = {}

    def dry():
        return dry_run(app, path, username)

    def write():
        return import_file(app, path, username)

    cases = [
        Case("health", "Baseline: GET /health (same client)", http(client, "/health")),
        Case("import_dry_run", f"Dry run of a {ROWS:,}-row collaborator file ({info['province_name']}, its admin)",
             dry, DRY_RUN_TARGET_MS),
        Case("import", f"Import of the same {ROWS:,} rows (read, plan, write; to the last flush, rolled back)",
             write, IMPORT_TARGET_MS),
    ]

    def memory_note() -> str:
        if not memory:
            try:
                memory.update(measure_memory(url, path, username, commit=commit_memory))
            except RuntimeError as e:
                return f"Peak memory: not measured ({e})."
        added = memory["peak"] - memory["before"]
        verdict = "PASS" if added / 1024 / 1024 < MEMORY_TARGET_MB else "**MISS**"
        line = (f"Memory of the dry run and the import of {ROWS:,} rows in a process of their own: they add "
                f"{_mb(added)} at their peak to the {_mb(memory['before'])} the process held before (Python, the app "
                f"and its libraries); peak resident size {_mb(memory['peak'])} — target < {MEMORY_TARGET_MB:.0f} MB "
                f"added: {verdict}. There: dry run {memory['dry_seconds']:.1f} s, import "
                f"{memory['import_seconds']:.1f} s ({'committed' if memory['committed'] else 'rolled back'}).")
        if memory.get("committed"):
            line += (f" The same file planned again after the commit: {memory['again_unchanged']:,} rows unchanged, "
                     f"{memory['again_changed']:,} changed, {memory['again_problems']:,} problems "
                     f"({memory['again_seconds']:.1f} s).")
        return line

    notes = [
        f"As of {today():%d/%m/%Y}. File: {ROWS:,} new collaborators over {hamlets:,} hamlets of "
        f"{info['province_name']} ({info['province_collaborators']:,} collaborators in force), written as the "
        f"template's header (made in {made_in:.1f} s), imported by `{username}`.",
        Later(memory_note),
    ]
    return cases, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASET, help="a national SQLite dataset, copied first")
    parser.add_argument("--url", help="a database used as it is (every timed import is rolled back)")
    parser.add_argument("--memory", action="store_true", help="(internal) one dry run and import, memory as JSON")
    parser.add_argument("--file", type=Path)
    parser.add_argument("--user")
    parser.add_argument("--commit", action="store_true")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=0)
    args = parser.parse_args(argv)
    if args.memory:
        return _memory_main(args.url, args.file, args.user, args.commit)
    from .bench_roster import Case, _http, _login, _pick, measure, print_cases
    from .national import make_bench_app

    copy = None
    url = args.url
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="danso-bench-import-db-"))
        copy = folder / args.dataset.name
        shutil.copyfile(args.dataset, copy)
        url = f"sqlite:///{copy}"
    try:
        app = make_bench_app(url)
        cases, notes = build_roster_import_cases(app, _pick(app), Case=Case, http=_http, login=_login,
                                                 commit_memory=copy is not None)
        measure(cases, args.warmup, args.reps)
        print_cases(cases, notes)
    finally:
        if copy is not None:
            shutil.rmtree(copy.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
