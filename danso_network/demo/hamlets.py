"""Synthetic hamlets for the demo.

There is no public hamlet boundary set and hamlets have no official code (shared data NOTICE;
DOMAIN.md §5), so the demo generates them: 5–25 hamlets per commune, cells of a Voronoi diagram
of well-spread points inside the real commune polygon, clipped to it. Everything generated is
flagged ``is_synthetic`` and the UI labels it as such.

Deterministic: each commune draws from its own generator seeded with ``(seed, commune code)``,
so the result depends only on the seed and the commune, not on the order of loading.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import shapely
from shapely.geometry import MultiPoint, Point
from shapely.geometry.base import BaseGeometry

from ..units.models import UnitType
from ..units.spatial import repair

# Pre-2025 districts with large ethnic-minority communities (S'tiêng, M'nông, Chơro, Mạ…), where
# the demo flags more hamlets as ethnic-minority / difficult. Illustrative, not official lists.
ETHNIC_DISTRICTS = frozenset({"691", "692", "693", "696", "734", "736"})

MIN_HAMLETS, MAX_HAMLETS = 5, 25
MIN_HOUSEHOLDS, MAX_HOUSEHOLDS = 80, 600


@dataclass(frozen=True)
class HamletSpec:
    local_id: str
    name: str
    type: UnitType
    households: int
    population: int
    is_difficult: bool
    is_ethnic_minority: bool
    geometry: BaseGeometry


def hamlet_type_for(commune_type: str) -> tuple[UnitType, str]:
    """Southern naming (Đồng Nai): "Ấp" under a xã, "Khu phố" under a phường (TT 04/2012/TT-BNV)."""
    if commune_type in (UnitType.PHUONG, UnitType.THI_TRAN):
        return UnitType.KHU_PHO, "Khu phố"
    return UnitType.AP, "Ấp"


def _spread_points(geom: BaseGeometry, n: int, rng: random.Random, candidates: int = 12) -> list[Point]:
    """Best-candidate sampling: each new point is the candidate farthest from those chosen, which
    gives evenly sized cells without a heavy dependency."""
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)  # in place: fast repeated contains()
    chosen: list[Point] = []
    attempts = 0
    while len(chosen) < n and attempts < n * 200:
        best, best_dist = None, -1.0
        for _ in range(candidates):
            attempts += 1
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if not geom.contains(p):
                continue
            d = min((p.distance(q) for q in chosen), default=float("inf"))
            if d > best_dist:
                best, best_dist = p, d
        if best is not None:
            chosen.append(best)
    return chosen


def generate_hamlets(commune_geom: BaseGeometry, *, commune_code: str, commune_type: str,
                     district_code: str | None, seed: int) -> list[HamletSpec]:
    rng = random.Random(f"{seed}:{commune_code}")  # nosec B311 # seeded, reproducible synthetic demo data; no secret is drawn from it
    n = rng.randint(MIN_HAMLETS, MAX_HAMLETS)
    points = _spread_points(commune_geom, n, rng)
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=commune_geom.envelope, ordered=True)
    pieces = []
    for point, cell in zip(points, cells.geoms, strict=True):
        clipped = repair(cell.intersection(commune_geom))
        if clipped is not None:
            pieces.append((point, clipped))
    # Number hamlets from north-west to south-east, as a reader of the map would.
    pieces.sort(key=lambda pc: (-round(pc[0].y, 3), pc[0].x))
    hamlet_type, word = hamlet_type_for(commune_type)
    ethnic_area = district_code in ETHNIC_DISTRICTS
    specs = []
    for i, (_, geom) in enumerate(pieces, start=1):
        households = rng.randint(MIN_HOUSEHOLDS, MAX_HOUSEHOLDS)
        ethnic = rng.random() < (0.30 if ethnic_area else 0.03)
        difficult = rng.random() < (0.5 if ethnic else (0.08 if hamlet_type == UnitType.AP else 0.0))
        specs.append(HamletSpec(
            local_id=f"{i:03d}", name=f"{word} {i}", type=hamlet_type, households=households,
            population=round(households * rng.uniform(3.3, 4.2)), is_difficult=difficult,
            is_ethnic_minority=ethnic, geometry=geom,
        ))
    return specs
