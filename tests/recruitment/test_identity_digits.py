"""Identity numbers and phones take ASCII digits only (issue #9, item 5): ``٠٧٠190٠٦٦٠٠١``
(Arabic-Indic digits) was accepted although the same number in ASCII was a duplicate, so four
candidates shared one CCCD written in four scripts."""

from __future__ import annotations

from datetime import date

import pytest

from danso_network.errors import ValidationFailed
from danso_network.recruitment import services as rs
from danso_network.recruitment.models import Sex

from .. import factories

BORN = date(1990, 5, 17)
ASCII = factories.national_id(BORN, "female", 1)
OTHER_SCRIPTS = [
    ASCII.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),  # Arabic-Indic
    ASCII.translate(str.maketrans("0123456789", "０１２３４５６７８９")),  # full-width
    ASCII.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")),  # Persian
    ASCII.translate(str.maketrans("0", "٠")),  # one digit is enough
]


@pytest.mark.parametrize("number", OTHER_SCRIPTS)
def test_a_cccd_in_other_digits_is_refused(number):
    with pytest.raises(ValidationFailed, match="12 chữ số"):
        rs.check_national_id(number, born=BORN, sex=Sex.FEMALE)


def test_the_same_cccd_in_other_digits_cannot_make_a_second_candidate(world):
    factories.criteria(world.dong_nai)
    hamlet = world.hamlets_a[0]
    rs.create_application(**factories.candidate_fields(hamlet, 1))
    for number in OTHER_SCRIPTS:
        with pytest.raises(ValidationFailed):
            rs.create_application(**factories.candidate_fields(world.hamlets_a[1], 1, national_id=number,
                                                               full_name="Người Khác",
                                                               residence_hamlet=world.hamlets_a[1]))


@pytest.mark.parametrize(("typed", "stored"), [("0912 345 678", "0912345678"), ("0912.345.678", "0912345678"),
                                               ("+84 912 345 678", "+84912345678"), ("02513 822 111", "02513822111"),
                                               ("", None)])
def test_phones_are_stored_as_digits(typed, stored):
    assert rs.check_phone(typed) == stored


@pytest.mark.parametrize("typed", ["٠٩١٢٣٤٥٦٧٨", "０９１２３４５６７８", "912345678", "09123", "0912-abc-678",
                                   "+1 212 555 0100"])
def test_phones_in_other_digits_or_shapes_are_refused(typed):
    with pytest.raises(ValidationFailed, match="Số điện thoại"):
        rs.check_phone(typed)
