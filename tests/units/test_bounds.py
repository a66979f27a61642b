"""Numbers have realistic bounds (issue #9, item 2): a hamlet saved with 9223372036854775807
households made SUM() overflow and every page above its commune answer 500. The bounds are
stated once (units/models.py FIGURE_LIMITS) and applied by forms, services and the importer."""

from __future__ import annotations

from datetime import date

import pytest

from danso_network.errors import ValidationFailed
from danso_network.extensions import db
from danso_network.units import services
from danso_network.units.models import FIGURE_LIMITS, AdminUnit, UnitLevel

from ..conftest import csrf_token

HUGE = "9223372036854775807"


def test_a_hamlet_form_refuses_an_absurd_household_count_and_keeps_the_input(world, login_as):
    client = login_as(world.users["admin"])
    url = f"/units/{world.commune_a.id}/hamlets/new"
    response = client.post(url, data={"name": "Khu phố lớn", "type": "khu_pho", "households": HUGE,
                                      "population": "100", "valid_from": "01/07/2025", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Khu phố lớn" in html and HUGE in html
    assert "Số hộ gia đình phải từ 0 đến" in html
    assert db.session.query(AdminUnit).filter_by(name="Khu phố lớn").count() == 0
    for page in ("/", "/units/", f"/units/{world.commune_a.id}", f"/units/{world.dong_nai.id}"):
        assert client.get(page).status_code in (200, 302), page


@pytest.mark.parametrize(("field", "value"), [("households", FIGURE_LIMITS[UnitLevel.HAMLET]["households"] + 1),
                                              ("population", FIGURE_LIMITS[UnitLevel.HAMLET]["population"] + 1),
                                              ("households", -1)])
def test_services_refuse_figures_out_of_bounds(world, field, value):
    with pytest.raises(ValidationFailed) as caught:
        services.create_hamlet(world.commune_a, name="Khu phố X", type="khu_pho", valid_from=date(2025, 7, 1),
                               **{field: value})
    assert caught.value.field == field
    hamlet = world.hamlets_a[0]
    with pytest.raises(ValidationFailed):
        services.update_hamlet(hamlet, name=hamlet.name, type=hamlet.type, **{field: value})


def test_bounds_allow_the_largest_real_units(world):
    hamlet = services.create_hamlet(world.commune_a, name="Khu phố đông", type="khu_pho", valid_from=date(2025, 7, 1),
                                    households=4_500, population=18_000)
    assert hamlet.households == 4_500
    services.update_unit(world.dong_nai, population=4_500_000, households=1_300_000)


@pytest.mark.parametrize("name", ["\x00\x00", "\x07\x1b", "\u200b\u200b", " - . "])
def test_a_hamlet_name_made_of_control_characters_is_refused(world, name):
    with pytest.raises(ValidationFailed, match="phải có chữ hoặc số"):
        services.create_hamlet(world.commune_a, name=name, type="khu_pho", valid_from=date(2025, 7, 1))


def test_control_characters_are_removed_from_a_typed_name(world):
    hamlet = services.create_hamlet(world.commune_a, name="Khu\x00 phố\u200b 9\x07", type="khu_pho",
                                    valid_from=date(2025, 7, 1))
    assert hamlet.name == "Khu phố 9"
