"""Derive the pre-2025 communes of Đồng Nai and Bình Phước, and the table of the 1 July 2025 reform,
from the lineage column of ``data/dong_nai_wards_2026.csv`` (issue #13 item 3).

Each of the 95 communes of today's Đồng Nai lists in ``pre2025_units`` (JSON) the communes it was
formed from on 1/7/2025: their code, full name, district and province (70 Bình Phước, 75 Đồng Nai)
and ``part`` (true where only a part of the old commune went into it). This script writes:

- ``data/dong_nai_pre2025_communes.csv``: the 270 old communes (code, name, full name, type,
  district, province), each valid until 1/7/2025 (``valid_to`` is the first day it no longer holds,
  half-open like every dated record of the application); they have no geometry;
- ``data/dong_nai_reform_2025.csv``: the reform as ``danso units reform`` reads it, one row per old
  commune and new commune it went into (old code → new code, ``part``, the new unit's name, type
  and parent, the effective date and the decision, NQ 1662/NQ-UBTVQH15 of 16/6/2025). The
  ``hamlets`` column is left empty: no public list says which hamlets of a divided commune went
  where (the demo fills it in for its synthetic hamlets).

Run from the repository root: ``python scripts/build_pre2025_units.py`` (standard library only;
the output is deterministic, in the order of the source file).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "data" / "dong_nai_wards_2026.csv"
COMMUNES = ROOT / "data" / "dong_nai_pre2025_communes.csv"
REFORM = ROOT / "data" / "dong_nai_reform_2025.csv"

EFFECTIVE_ON = "2025-07-01"  # two-tier local government (QĐ 19/2025/QĐ-TTg; Luật 72/2025/QH15)
# Nghị quyết số 1662/NQ-UBTVQH15 ngày 16/6/2025 của Ủy ban Thường vụ Quốc hội về việc sắp xếp các
# đơn vị hành chính cấp xã của tỉnh Đồng Nai năm 2025 (95 units from 1/7/2025).
DECISION_REF = "NQ 1662/NQ-UBTVQH15"
NEW_PROVINCE = "75"  # the merged province kept Đồng Nai's code (NQ 202/2025/QH15)
OLD_PROVINCES = {"70": "Tỉnh Bình Phước", "75": "Tỉnh Đồng Nai"}
COMMUNE_TYPES = ("Thị trấn", "Phường", "Xã")  # the words a full name starts with

COMMUNE_COLUMNS = ["code", "name", "full_name", "type", "district_code", "district", "province_code", "province",
                   "valid_to"]
REFORM_COLUMNS = ["old_code", "old_name", "new_code", "new_name", "new_full_name", "new_type", "new_parent_code",
                  "part", "effective_on", "decision_ref", "hamlets"]


def split_name(full_name: str) -> tuple[str, str]:
    """"Thị trấn Tân Phú" → ("Tân Phú", "thị trấn")."""
    for word in COMMUNE_TYPES:
        if full_name.startswith(word + " "):
            return full_name[len(word) + 1:], word.lower()
    raise ValueError(f"unknown commune type in {full_name!r}")


def build(source: Path = SOURCE) -> tuple[list[dict], list[dict]]:
    with open(source, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    communes: dict[str, dict] = {}
    reform: list[dict] = []
    for row in rows:
        for unit in json.loads(row["pre2025_units"] or "[]"):
            code = unit["ward_code"]
            name, unit_type = split_name(unit["ward"])
            record = dict(code=code, name=name, full_name=unit["ward"], type=unit_type,
                          district_code=unit["district_code"], district=unit["district"],
                          province_code=unit["province_code"], province=OLD_PROVINCES[unit["province_code"]],
                          valid_to=EFFECTIVE_ON)
            if communes.setdefault(code, record) != record:
                raise ValueError(f"old commune {code} is described twice, differently")
            reform.append(dict(old_code=code, old_name=unit["ward"], new_code=row["code"], new_name=row["name"],
                               new_full_name=row["full_name"], new_type=row["type"], new_parent_code=NEW_PROVINCE,
                               part="true" if unit["part"] else "false", effective_on=EFFECTIVE_ON,
                               decision_ref=DECISION_REF, hamlets=""))
    ordered = sorted(communes.values(), key=lambda c: (c["province_code"], c["district_code"], c["code"]))
    return ordered, reform


def write(path: Path, columns: list[str], rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> int:
    communes, reform = build()
    write(COMMUNES, COMMUNE_COLUMNS, communes)
    write(REFORM, REFORM_COLUMNS, reform)
    parts = sum(1 for r in reform if r["part"] == "true")
    print(f"{COMMUNES.relative_to(ROOT)}: {len(communes)} old communes; "
          f"{REFORM.relative_to(ROOT)}: {len(reform)} rows ({parts} for divided communes) into "
          f"{len({r['new_code'] for r in reform})} new communes.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
