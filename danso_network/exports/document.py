"""What every export is made of: a :class:`Document` of one or more :class:`Sheet` of rows, with
the title block and, for printed files, the official heading and the signature block.

One document feeds every format (issue #11): ``exports.xlsx.write_xlsx`` (one worksheet per
sheet), ``exports.writer.csv_lines`` over :meth:`Sheet.csv_rows` (the first sheet), and
``exports.pdf.write_pdf`` (A4 landscape). A feature builds its document from its own queries
(the roster from ``collaborators.services.roster_rows``, the allowance sheet from its lines…)
and never formats a file itself; every cell then goes through the one formula-safe writer
(``exports.writer``).

Rows may be a generator: writers stream them once, in order (the national roster is 150,000
rows), and add up the columns marked ``total`` as they go.

Official heading (Nghị định 30/2020/NĐ-CP on administrative documents, Phụ lục I): top left the
superior body, then the issuing office in bold; top right "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" /
"Độc lập - Tự do - Hạnh phúc"; under it "<place>, ngày … tháng … năm …". The signature block
closes the document on the right: the signer's title, room to sign and the signer's name.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date


class Kind(enum.StrEnum):
    """How a column's values are written: text as text, numbers as numbers, dates as real dates
    (dd/mm/yyyy), ``pct`` a number shown with one decimal and "%" , ``money`` a whole number of
    đồng with thousands separators, ``ordinal`` a whole number that is not a quantity (a row
    number, a year) shown without separators."""

    TEXT = "text"
    INT = "int"
    ORDINAL = "ordinal"
    NUMBER = "number"
    DATE = "date"
    PCT = "pct"
    MONEY = "money"


@dataclass(frozen=True)
class Column:
    label: str  # the header, already translated (Vietnamese by default)
    kind: Kind = Kind.TEXT
    width: float | None = None  # in characters (XLSX); the PDF uses the widths as proportions
    total: bool = False  # summed into the totals row (numbers only)


@dataclass
class Sheet:
    """One table: its columns and its rows (tuples in column order; ``None`` is an empty cell)."""

    name: str  # the worksheet's name (at most 31 characters, no []:*?/\)
    columns: Sequence[Column]
    rows: Iterable[Sequence]
    title: str | None = None  # a line above the table (a second sheet's own title)
    empty_text: str = "Không có dòng nào."  # written under the header when there is no row
    totals_label: str | None = "Tổng cộng"  # None: no totals row even with total columns

    @property
    def has_totals(self) -> bool:
        return self.totals_label is not None and any(c.total for c in self.columns)

    def csv_rows(self) -> Iterator[Sequence]:
        """The header then the rows (no title block: a CSV is read by programs)."""
        yield [c.label for c in self.columns]
        yield from self.rows


@dataclass(frozen=True)
class Heading:
    """The official heading and signature block of a printed document."""

    issuer: str  # the issuing office, e.g. "Trạm Y tế xã Bom Bo" (printed in capitals)
    superior: str | None  # the body above it, e.g. "Trung tâm Y tế khu vực Bù Đăng"; None for none
    place: str  # the place in "<place>, ngày … tháng … năm …" (the province's short name)
    signer_title: str  # e.g. "Trạm trưởng", "Giám đốc" (printed in capitals)
    signer_name: str | None = None  # printed under the room to sign when known


@dataclass
class Document:
    title: str  # e.g. "Danh sách cộng tác viên dân số"
    lines: list[str]  # the title block under the title: unit, date, filters
    sheets: list[Sheet]
    filename: str  # the download name without extension, ASCII (e.g. "danh-sach-ctv-xa-bom-bo-2026-12-07")
    made_on: date  # the day the document is dated (Vietnam's today)
    heading: Heading | None = None
    notes: list[str] = field(default_factory=list)  # lines after the tables (sources, hidden data)
