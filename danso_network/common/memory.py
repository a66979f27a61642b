"""Python's cyclic garbage collector, paused while a large batch of objects is made."""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def collector_paused():
    """Pause the cyclic garbage collector for the block: making tens of thousands of objects that
    hold no reference cycles (the rows of a national coverage frame, the boxes of a long PDF
    table) triggers full collections that walk all of them again, as long as making them
    (measured for issues #10 and #11). Reference counting still frees what is not in a cycle;
    the collector runs again afterwards if it was on, and a pause nested in another leaves it as
    it was. The pause is process-wide: another thread's cyclic garbage waits too, for the block."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
