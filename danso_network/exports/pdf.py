"""A :class:`~.document.Document` as a printable PDF (issue #11), with WeasyPrint.

The page is ``templates/exports/document.html``, rendered with Flask's ``render_template``, so
:func:`write_pdf` needs an application context (a request, a CLI command or a background job
inside ``app.app_context()``); the labels it prints ("Trang", the national motto…) are in the
active locale (Vietnamese outside a request).

What the PDF shows (Nghị định 30/2020/NĐ-CP, Phụ lục I, for the heading and the signature):

- A4 landscape, margins of 15 mm, DejaVu Sans (a local font: the page loads nothing, every URL
  is refused, so no remote font or image can be fetched and no cell can make it fetch one);
- when the document has a :class:`~.document.Heading`: top left the superior body and, in bold,
  the issuing office, both in capitals; top right "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" / "Độc lập -
  Tự do - Hạnh phúc" and "<place>, ngày dd tháng mm năm yyyy" from ``made_on`` (the day with two
  digits, the month with two digits for January and February only, as the decree writes it);
- the title in capitals and ``document.lines``, centred;
- each sheet's table with its header repeated at the top of every page, its "no rows" line or
  its totals row (sums computed as the rows are read), values written the Vietnamese way: dates
  dd/mm/yyyy, thousands separated by ".", one decimal after "," (``1.234,5``), percentages
  ``45,3%``; every cell escaped (Jinja autoescape);
- "Trang X/Y" centred in every page's footer;
- ``document.notes``, then the signature block (the signer's title in capitals, "(Ký, ghi rõ họ
  tên, đóng dấu)", room to sign, the signer's name) kept whole on the last page.

Speed (issue #11: a province roster of 7,000 rows in under 60 s): the table is laid out with
``table-layout: fixed`` from the column widths (proportions of :attr:`Column.width`), in DejaVu
Sans Condensed so that fewer cells wrap (fewer lines, fewer pages); cells carry no class
(numeric columns are right-aligned, dates centred, by one ``nth-child`` rule per column);
values are formatted once in Python and the template only prints them; and Python's cyclic
garbage collector is paused while WeasyPrint works (:func:`_without_cyclic_gc`). Measured on
the 2-CPU machine: 7,000 rows × 12 columns (207 pages) in about 48 s, of which layout 36 s.

Memory: WeasyPrint keeps every laid-out page until the file is written, about 250 KB per row
(1.8 GB for 7,000 rows), so PDF is for a commune, a centre or a province, not the country: a
caller offering PDF for a larger scope should cap the rows it sends here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup

from ..common.memory import collector_paused
from .document import Column, Document, Kind, Sheet
from .xlsx import NUMERIC_KINDS, add_to_total, column_width

TEMPLATE = "exports/document.html"


# --- Vietnamese number and date formats ---------------------------------------------------------

_SWAP = str.maketrans({",": ".", ".": ","})


def vn_int(value: Any) -> str:
    """``1234567`` → ``1.234.567`` (rounded to a whole number)."""
    return f"{round(value):,}".translate(_SWAP)


def vn_decimal(value: Any, places: int = 1) -> str:
    """``1234.56`` → ``1.234,6``."""
    return f"{float(value):,.{places}f}".translate(_SWAP)


def vn_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def format_cell(value: Any, kind: Kind) -> str:
    """A cell as printed: numbers and dates the Vietnamese way by the column's kind; text (and
    whatever a column holds that is not of its kind, e.g. the hidden-data mark) as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if isinstance(value, int | float | Decimal):
        if kind is Kind.INT or kind is Kind.MONEY:
            return vn_int(value)
        if kind is Kind.PCT:
            return vn_decimal(value) + "%"
        if kind is Kind.NUMBER:
            return vn_decimal(value)
        return str(value)
    if isinstance(value, datetime):
        return vn_date(value) if kind is Kind.DATE else value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return vn_date(value)
    return str(value)


def date_line(place: str, day: date) -> str:
    """"Đồng Nai, ngày 07 tháng 12 năm 2026" (NĐ 30/2020/NĐ-CP: a day under 10 and the months
    1 and 2 are written with a leading zero)."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return _("%(place)s, ngày %(day)s tháng %(month)s năm %(year)s",
             place=place, day=f"{day.day:02d}", month=month, year=day.year)


def page_counter_css() -> Markup:
    """The CSS ``content`` of the page footer, "Trang X/Y" in the active locale, built from the
    one translated pattern the XLSX footer uses too."""
    text = _("Trang %(page)s/%(pages)s", page="\0page\0", pages="\0pages\0")
    parts = []
    for index, part in enumerate(text.split("\0")):
        if index % 2:
            parts.append(f"counter({part})")
        elif part:
            parts.append(css_string(part))
    return Markup(" ".join(parts))  # nosec B704 # counter() names and css_string() literals: nothing to escape


def css_string(text: str) -> str:
    """A CSS string literal that cannot end the string or the ``<style>`` element."""
    escaped = "".join(c if c.isalnum() or c in " ,.-/()%:" else f"\\{ord(c):x} " for c in text)
    return f'"{escaped}"'


# --- the page -------------------------------------------------------------------------------


@dataclass
class SheetView:
    """A sheet ready to print: its cells already formatted."""

    title: str | None
    labels: list[str]
    widths: list[float]  # percent of the table's width
    align: dict[int, str]  # 1-based column number → "right" (numbers) or "center" (dates)
    rows: list[list[str]]
    totals: list[str] | None  # the cells after the label
    totals_label: str
    label_span: int  # the columns the totals label spans (0: no label, the first column is a total)
    empty_text: str


def sheet_view(sheet: Sheet) -> SheetView:
    columns: Sequence[Column] = sheet.columns
    kinds = [Kind(c.kind) for c in columns]
    widths = [column_width(c) for c in columns]
    whole = sum(widths) or 1
    total_cols = [i for i, c in enumerate(columns) if c.total] if sheet.has_totals else []
    totals: dict[int, Any] = dict.fromkeys(total_cols, 0)
    pairs = list(enumerate(kinds))
    rows = []
    for values in sheet.rows:
        rows.append([format_cell(values[i], kind) if i < len(values) else "" for i, kind in pairs])
        for i in total_cols:
            totals[i] = add_to_total(totals[i], values[i] if i < len(values) else None)
    totals_row, label_span = None, 0
    if sheet.has_totals:
        # The label spans the columns before the first total column, so it is never cut.
        label_span = next(i for i, c in enumerate(columns) if c.total)
        totals_row = [format_cell(totals[i], kind) if i in totals else "" for i, kind in pairs[label_span:]]
    return SheetView(
        title=sheet.title, labels=[c.label for c in columns],
        widths=[round(100 * w / whole, 3) for w in widths],
        align={i + 1: "right" if kind in NUMERIC_KINDS else "center" for i, kind in pairs if kind is not Kind.TEXT},
        rows=rows, totals=totals_row, totals_label=sheet.totals_label or "", label_span=label_span,
        empty_text=sheet.empty_text)


def render_html(document: Document) -> str:
    """The document's HTML page (needs an application context)."""
    heading = document.heading
    return render_template(
        TEMPLATE, document=document, heading=heading,
        date_line=date_line(heading.place, document.made_on) if heading else None,
        sheets=[sheet_view(sheet) for sheet in document.sheets],
        page_counter=page_counter_css())


def _refusing_fetcher():
    """A WeasyPrint URL fetcher that fetches nothing (every URL is refused with a warning)."""
    try:
        from weasyprint.urls import URLFetcher
    except ImportError:  # older WeasyPrint: a fetcher is a plain function
        def refuse(url, *args, **kwargs):
            raise ValueError(f"an export fetches no URL: {url}")
        return refuse
    return URLFetcher(allowed_protocols=())


def render(document: Document):
    """The laid-out WeasyPrint document (its pages can be inspected before writing)."""
    from weasyprint import HTML

    html = render_html(document)
    with collector_paused():
        return HTML(string=html, url_fetcher=_refusing_fetcher()).render()


def write_pdf(document: Document, target: str | os.PathLike | BinaryIO) -> None:
    """Write ``document`` as a PDF to ``target`` (a path or a binary file object). Needs an
    application context (the page is a Flask template)."""
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    laid_out = render(document)
    with collector_paused():
        laid_out.write_pdf(target)
