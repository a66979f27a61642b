"""One page of a list, counted and sliced by the database (DESIGN.md §4, "a list").

A list page never loads every row to slice it in Python: :func:`paginate` asks the database for
the total (``count(*)`` over the filtered statement) and for the page's rows (``LIMIT``/``OFFSET``).
:class:`Page` is what templates (``_macros/ui.html`` ``pagination``) and the API read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from ..extensions import db

PER_PAGE = 50
MAX_PER_PAGE = 500
PRINT_LIMIT = 10_000  # "show all for printing" still has a ceiling


@dataclass
class Page:
    """A page of rows with the names of Flask-SQLAlchemy's Pagination (the macro reads them)."""

    items: Sequence[Any]
    total: int
    page: int
    per_page: int

    @property
    def rows(self) -> Sequence[Any]:
        return self.items

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def first(self) -> int:
        """The 1-based number of the first row on this page (0 when empty)."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def map(self, fn: Callable[[Any], Any]) -> Page:
        """The same page with each row transformed (e.g. rows to API dictionaries)."""
        return Page([fn(item) for item in self.items], self.total, self.page, self.per_page)

    def iter_pages(self, *, left_edge: int = 2, left_current: int = 2, right_current: int = 4,
                   right_edge: int = 2) -> Iterator[int | None]:
        """Page numbers to link, ``None`` for a gap (as Flask-SQLAlchemy's Pagination)."""
        pages_end = self.pages + 1
        left_end = min(1 + left_edge, pages_end)
        yield from range(1, left_end)
        if left_end == pages_end:
            return
        mid_start = max(left_end, self.page - left_current)
        mid_end = min(self.page + right_current + 1, pages_end)
        if mid_start - left_end > 0:
            yield None
        yield from range(mid_start, mid_end)
        if mid_end == pages_end:
            return
        right_start = max(mid_end, pages_end - right_edge)
        if right_start - mid_end > 0:
            yield None
        yield from range(right_start, pages_end)


def clamp(page: int, per_page: int) -> tuple[int, int]:
    """A page number ≥ 1 and a page size within 1..PRINT_LIMIT."""
    return max(1, int(page)), max(1, min(int(per_page), PRINT_LIMIT))


def count(stmt: Select) -> int:
    """The number of rows ``stmt`` returns, counted by the database (its ORDER BY dropped)."""
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def paginate(stmt: Select, page: int = 1, per_page: int = PER_PAGE, *, scalars: bool = True,
             total: int | None = None) -> Page:
    """One page of ``stmt`` (which must have a deterministic ORDER BY): the total by a count
    query, the rows by LIMIT/OFFSET. A page past the end (a stale link) shows the last page.
    ``scalars`` returns the first column (ORM objects); otherwise rows. A known ``total`` skips
    the count."""
    page, per_page = clamp(page, per_page)
    if total is None:
        total = count(stmt)
    last = max(1, math.ceil(total / per_page))
    page = min(page, last)
    sliced = stmt.limit(per_page).offset((page - 1) * per_page)
    result = db.session.execute(sliced)
    items = list(result.scalars()) if scalars else list(result.all())
    return Page(items, total, page, per_page)
