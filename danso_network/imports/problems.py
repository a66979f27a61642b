"""What an import found before writing anything (issue #12): every :class:`Problem` with its
sheet, row and column and a Vietnamese message, and the counts of what would be created,
updated and left unchanged (:class:`Summary`).

The rule every import follows — **validate everything first, then write all or nothing**:
``plan_…(table)`` reads every row and returns a plan holding a :class:`Problems` and the
planned changes, touching nothing; ``apply_…(plan)`` refuses a plan with problems
(:class:`ImportRefused`) and otherwise writes every change in the caller's transaction, which
commits once (the CLI's ``--dry-run`` and the pages' first step stop after the plan).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from ..errors import ValidationFailed
from .cells import CellError
from .reading import Row, Table


@dataclass(frozen=True)
class Problem:
    row: int | None  # the spreadsheet's row number; None for the file as a whole
    column: str | None  # the header as written in the file
    message: str
    sheet: str | None = None

    def where(self) -> str:
        parts = []
        if self.sheet:
            parts.append(str(_l("trang “%(s)s”", s=self.sheet)))
        if self.row is not None:
            parts.append(str(_l("dòng %(r)d", r=self.row)))
        if self.column:
            parts.append(str(_l("cột “%(c)s”", c=self.column)))
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where[:1].upper()}{where[1:]}: {self.message}" if where else self.message


class Problems:
    """The problems of one file, each placed by row and field (the field's header is the one
    the file uses)."""

    def __init__(self, table: Table | None = None):
        self.table = table
        self.items: list[Problem] = []

    def add(self, row: int | None, key: str | None, message: Any) -> None:
        column = self.table.header(key) if (self.table is not None and key) else key
        sheet = self.table.sheet if self.table is not None else None
        self.items.append(Problem(row, column, str(message), sheet))

    def cell(self, row: Row, key: str, convert: Callable[..., Any], *args, **kwargs) -> Any:
        """``convert(value, …)`` of the row's cell ``key`` (``imports.cells``); a
        :class:`CellError` becomes a problem of that row and column, and the result is None."""
        try:
            return convert(row.get(key), *args, **kwargs)
        except CellError as e:
            self.add(row.number, key, e.message)
            return None

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.items)


@dataclass
class Summary:
    """What an import would do (dry run) or did: counts per outcome, and the problems."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged


class ImportRefused(ValidationFailed):
    """An import with problems: nothing is written (422; exit 2 in the CLI)."""

    def __init__(self, problems: list[Problem]):
        message = (str(problems[0]) if len(problems) == 1 else
                   _l("Tệp có %(n)d lỗi; không ghi gì vào cơ sở dữ liệu. Hãy sửa rồi nhập lại.", n=len(problems)))
        super().__init__(message, problems=[str(p) for p in problems])
        self.items = problems
