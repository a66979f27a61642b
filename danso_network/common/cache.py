"""Figures over several provinces, kept for a few minutes.

The supervision lists of a user whose area spans several provinces (the national user: 34
provinces, 135,000 collaborators in service) must test every collaborator of the area: about half a
second of database work whatever the indexes, on every page view. Such users look at trends, not at
a visit recorded a minute ago, so their figures and pages are computed once and kept for
``WIDE_SCOPE_CACHE_SECONDS`` (default 300; 0 turns this off), with the time they were computed
shown on the page and a link that computes them again at once (``?fresh=1``). An area inside one
province — every station, centre and province user — is always computed live.

The store is per process (cachetools' TTLCache behind a lock): each server process computes its
own copy, which is right for figures that are minutes old anyway. Only plain values (counts, pages
of frozen rows) are kept, never ORM objects bound to a session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import TypeVar

from cachetools import TTLCache
from flask import current_app, has_request_context, request

from ..units.services import province_id_of
from .clock import now

T = TypeVar("T")
MAX_ENTRIES = 512
_KEY = "danso_wide_scope_cache"


def spans_provinces(prefixes: Sequence[str]) -> bool:
    """Whether an area (unit path prefixes) lies in more than one province."""
    return len({province_id_of(p) for p in prefixes}) > 1


def _store(seconds: int) -> tuple[TTLCache, threading.Lock]:
    app = current_app._get_current_object()
    found = app.extensions.get(_KEY)
    if found is None or found[0].ttl != seconds:
        found = app.extensions[_KEY] = (TTLCache(maxsize=MAX_ENTRIES, ttl=seconds), threading.Lock())
    return found


def wide_scope(name: str, prefixes: Sequence[str], key: tuple[Hashable, ...], compute: Callable[[], T], *,
               fresh: bool | None = None) -> tuple[T, datetime | None]:
    """``(value, computed_at)``: ``compute()`` for an area within one province (``computed_at``
    None: live); for a wider area, the value kept under ``(name, area, *key)`` if computed less
    than ``WIDE_SCOPE_CACHE_SECONDS`` ago, unless ``fresh`` (default: the request asks
    ``?fresh=1``), else computed now and kept. ``key`` holds whatever else the value depends on
    (date, page…)."""
    seconds = int(current_app.config.get("WIDE_SCOPE_CACHE_SECONDS") or 0)
    if seconds <= 0 or not spans_provinces(prefixes):
        return compute(), None
    cache, lock = _store(seconds)
    entry = (name, tuple(sorted(prefixes)), *key)
    if fresh is None:
        fresh = has_request_context() and request.args.get("fresh") == "1"
    if not fresh:
        with lock:
            kept = cache.get(entry)
        if kept is not None:
            return kept
    value = (compute(), now())
    with lock:
        cache[entry] = value
    return value
