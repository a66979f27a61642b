"""What fuzzing the imports (tests/fuzz/test_imports_fuzz.py, issue #14 item 4) found, each kept
as the failing example: a cell a user may type gives a problem on its row, never an error page."""

from __future__ import annotations

import pytest

from danso_network.imports.cells import CellError, integer


@pytest.mark.parametrize("typed", ["--0", "--5", "-", "-.-", "5-", "1-2"])
def test_a_number_cell_with_stray_minus_signs_is_a_problem_not_a_crash(typed):
    """Found: "--0" in a number column (households, population) raised ValueError out of the
    import (a 500 on the upload page) instead of saying the cell is not a whole number."""
    with pytest.raises(CellError, match="không phải số nguyên"):
        integer(typed)


@pytest.mark.parametrize(("typed", "value"), [("-0", 0), ("1.234", 1234), (" 250 ", 250)])
def test_whole_numbers_as_typed_still_read(typed, value):
    assert integer(typed, low=-10, high=10**6) == value
