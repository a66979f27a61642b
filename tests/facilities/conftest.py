"""The facility tests' fixtures."""

from __future__ import annotations

import pytest

from danso_network.extensions import db

from .. import factories


@pytest.fixture
def hanoi_communes(world):
    """Hà Nội (no facilities yet) with two more communes beside Ba Đình (00004)."""
    extra = [factories.commune(world.hanoi, "00007", "Phúc Xá", type="phuong"),
             factories.commune(world.hanoi, "00008", "Trúc Bạch", type="phuong")]
    db.session.commit()
    return [world.commune_c, *extra]
