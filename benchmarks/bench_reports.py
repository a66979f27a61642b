"""Network report benchmarks for issue #11 ("Targets": the yearly report for the whole country in
under 10 s), on the national dataset.

Run by :mod:`benchmarks.bench_roster` (``make bench``) on the same dataset and database, as a group
of cases with its own ``GET /health`` baseline measured in the same rounds (figures are ratios to it:
the machines are shared and noisy), or alone with ``python -m benchmarks.bench_reports [options]``
(the options of ``bench_roster``; the same as ``bench_roster --only reports`` once wired there).
Service cases call the functions in a fresh app context (empty session):

- national: ``reports.services.network_report`` over the national user's scope (34 provinces, 3,321
  communes, ≈ 150,000 collaborators) for the current year: every figure per commune and per centre,
  with the allowance sheets of the months over: target median < 10 s;
- one province, the one with the most collaborators: the same report (no target);
- no target: the report page of that province (HTTP, as its admin) and its XLSX file.

    python -m benchmarks.bench_reports --scale 0.02 --reps 3 --no-pg --output /tmp/RESULTS.md
"""

from __future__ import annotations

import sys

from danso_network.common.clock import today
from danso_network.reports import services as reports

NATIONAL_TARGET_MS = 10_000.0


def build_report_cases(app, info: dict, *, Case, http, login) -> tuple[list, list[str]]:
    """The report cases after their own ``/health`` baseline. ``Case``, ``http`` and ``login``
    come from :mod:`benchmarks.bench_roster` (one definition of a case and its timing)."""
    with app.app_context():
        period = reports.Period.of(today().year)
    admin = f"bench_admin_{info['province_code']}"
    client = login(app, admin)
    national, province = info["national_prefixes"], [info["province_path"]]

    def report_of(prefixes):
        def run():
            with app.app_context():
                report = reports.network_report(prefixes, period)
                if not report.communes or not report.total.end:
                    raise RuntimeError("an empty report")
                return f"{len(report.communes):,} communes, {len(report.centres):,} centres"
        return run

    page = f"/reports/network?year={period.year}&area=unit-{info['province_id']}"
    cases = [
        Case("health", "Baseline: GET /health (same client)", http(client, "/health")),
        Case("national", f"National: network_report (34 provinces), {period.label}", report_of(national),
             NATIONAL_TARGET_MS),
        Case("province", f"Province {info['province_name']}: network_report, {period.label} (no target)",
             report_of(province)),
        Case("page", f"Report page of {info['province_name']} (HTTP, as its admin; no target)", http(client, page),
             None, page, admin),
        Case("xlsx", f"Report XLSX of {info['province_name']} (HTTP, as its admin; no target)",
             http(client, page + "&format=xlsx"), None, page + "&format=xlsx", admin),
    ]
    notes = [f"{period.label[:1].upper()}{period.label[1:]}, from {period.first_day:%d/%m/%Y} to {period.end:%d/%m/%Y} "
             f"(the app's today; the allowance sheets of {len(period.paid_months)} months over). Target (issue #11): "
             f"the national report median < {NATIONAL_TARGET_MS / 1000:.0f} s. Service cases run in a fresh app "
             "context (empty session): every figure per commune (≈ 15 grouped queries), the coverage frame, the "
             "allowance sheets and the centre rows."]
    return cases, notes


def main(argv: list[str] | None = None) -> int:
    from .bench_roster import main as bench_main

    args = list(sys.argv[1:] if argv is None else argv)
    return bench_main(["--only", "reports", *args])


if __name__ == "__main__":
    sys.exit(main())
