"""Coverage benchmarks for issue #10 ("Targets"): the coverage computation on the national dataset.

Run by :mod:`benchmarks.bench_roster` (``make bench``) on the same dataset and database, as a group
of cases with its own ``GET /health`` baseline measured in the same rounds (figures are ratios to it:
the machines are shared and noisy), or alone with ``python -m benchmarks.bench_coverage [options]``
(the options of ``bench_roster``; the same as ``bench_roster --only coverage``). Service cases call
the functions in a fresh app context (empty session):

- national: ``hamlet_frame`` over the national user's scope (34 provinces, ≈ 63,000 hamlets) +
  ``aggregate(…, "province")``: target median < 1 s;
- one province, the one with the most collaborators (Hồ Chí Minh): ``hamlet_frame`` +
  ``aggregate(…, "commune")``: target < 100 ms;
- the Đồng Nai-size case: Đồng Nai (code 75, 95 communes) the same way: target < 100 ms;
- no target: an area health centre (its served communes, ``aggregate(…, "centre")``), the trend of
  the last 12 months nationally and for the province, and the API ``GET /api/v1/coverage/<province>``
  as the province's admin.

    python -m benchmarks.bench_coverage --scale 0.02 --reps 20 --no-pg --output /tmp/RESULTS.md
"""

from __future__ import annotations

import sys

from sqlalchemy import select

from danso_network.common.clock import today
from danso_network.coverage import services as coverage
from danso_network.extensions import db
from danso_network.units.models import AdminUnit, Facility, UnitLevel

from .national import api_token_of

NATIONAL_TARGET_MS = 1000.0
PROVINCE_TARGET_MS = 100.0
DONG_NAI_CODE = "75"


def _dong_nai(app) -> dict:
    with app.app_context():
        unit = db.session.scalar(select(AdminUnit).where(AdminUnit.level == UnitLevel.PROVINCE.value,
                                                         AdminUnit.code == DONG_NAI_CODE))
        if unit is None:  # a small --scale keeps every province, but be safe
            return {}
        return {"dong_nai_path": unit.path, "dong_nai_name": unit.full_name, "dong_nai_id": unit.id}


def build_coverage_cases(app, info: dict, *, Case, http, login) -> tuple[list, list[str]]:
    """The coverage cases after their own ``/health`` baseline. ``Case``, ``http`` and ``login``
    come from :mod:`benchmarks.bench_roster` (one definition of a case and its timing)."""
    info.update(_dong_nai(app))
    with app.app_context():
        day = today()
        centre = db.session.get(Facility, info["centre_id"])
        centre_paths = coverage.centre_prefixes(centre, day)
    admin = f"bench_admin_{info['province_code']}"
    client = login(app, admin)
    national, province = info["national_prefixes"], [info["province_path"]]

    def frame_and(prefixes, by):
        def run():
            with app.app_context():
                frame = coverage.hamlet_frame(prefixes, day)
                rows = coverage.aggregate(frame, by)
                if frame.empty or rows.empty:
                    raise RuntimeError("no hamlets")
                return f"{len(frame):,} hamlets"
        return run

    def trend(prefixes):
        def run():
            with app.app_context():
                points = coverage.trend(prefixes, months=12, on=day)
                if len(points) != 12 or points[-1][1] is None:
                    raise RuntimeError("no trend")
                return "12 months"
        return run

    url = f"/api/v1/coverage/{info['province_id']}"
    headers = {"Authorization": f"Bearer {api_token_of(admin)}"}
    cases = [
        Case("health", "Baseline: GET /health (same client)", http(client, "/health")),
        Case("national", "National: hamlet_frame (34 provinces) + aggregate by province",
             frame_and(national, "province"), NATIONAL_TARGET_MS),
        Case("province", f"Province {info['province_name']}: hamlet_frame + aggregate by commune",
             frame_and(province, "commune"), PROVINCE_TARGET_MS),
    ]
    if info.get("dong_nai_path"):
        cases.append(Case("dong_nai", f"Đồng Nai-size: {info['dong_nai_name']}, hamlet_frame + aggregate by commune",
                          frame_and([info["dong_nai_path"]], "commune"), PROVINCE_TARGET_MS))
    cases += [
        Case("centre", f"Centre {info['centre_name']}: hamlet_frame + aggregate by centre (no target)",
             frame_and(centre_paths, "centre")),
        Case("trend_national", "Trend of the last 12 months, national (no target)", trend(national)),
        Case("trend_province", f"Trend of the last 12 months, {info['province_name']} (no target)", trend(province)),
        Case("api", f"API `GET {url}` (province admin; no target)",
             http(client, url, headers=headers, api=True), None, url, admin, headers=headers),
    ]
    notes = [f"As of {day:%d/%m/%Y} (the app's today). Targets (issue #10): national aggregate median "
             f"< {NATIONAL_TARGET_MS:.0f} ms, one province < {PROVINCE_TARGET_MS:.0f} ms; *size* is the number of "
             "hamlets in the frame. Service cases run in a fresh app context (empty session): the SQL, reading the "
             "rows into pandas, the statuses and the aggregate."]
    return cases, notes


def main(argv: list[str] | None = None) -> int:
    from .bench_roster import main as bench_main

    args = list(sys.argv[1:] if argv is None else argv)
    return bench_main(["--only", "coverage", *args])


if __name__ == "__main__":
    sys.exit(main())
