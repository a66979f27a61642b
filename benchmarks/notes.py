"""Notes of a benchmark group that can only be written after its rounds (ratios of medians)."""

from __future__ import annotations

from collections.abc import Callable


class Later:
    """A note written when the report is (after the rounds): ``str()`` calls ``fn``."""

    def __init__(self, fn: Callable[[], str]):
        self.fn = fn

    def __str__(self) -> str:
        try:
            return self.fn()
        except Exception as e:  # noqa: BLE001 - a case set aside leaves its figures missing
            return f"(not computed: {type(e).__name__}: {e})"
