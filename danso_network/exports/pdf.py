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

Speed and memory (issue #11: a province roster of 7,000 rows in under 60 s): the table is laid
out with ``table-layout: fixed`` from the column widths (proportions of :attr:`Column.width`), in
DejaVu Sans Condensed so that fewer cells wrap (fewer lines, fewer pages); cells carry no class
(numeric columns are right-aligned, dates centred, by one ``nth-child`` rule per column); values
are formatted once in Python and the template only prints them; and Python's cyclic garbage
collector is paused while WeasyPrint works (:func:`collector_paused`). WeasyPrint keeps every
laid-out page until the file is written (about 250 KB per row) and lays pages out on one CPU, so
a document of more than :data:`PART_ROWS` rows is printed in *parts* (:func:`parts_of`) of at
most that many rows, each part its own WeasyPrint document, laid out by ``PDF_PROCESSES``
processes at once (None: one per CPU this process may use; 1: one after the other in the
caller's process), then joined with pypdf; "Trang X/Y" is stamped on the joined pages from a
document of empty pages holding only the footer (:func:`stamp_page_numbers`), since no part
knows the others' page counts. A part ends its page: the table goes on, under its header, at
the top of the next. Memory is then about one part per process, whatever the document's size.
"""

from __future__ import annotations

import io
import os
import subprocess  # nosec B404 # parts of a long PDF are printed by our own module in other processes
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from flask import current_app, render_template
from flask_babel import gettext as _
from markupsafe import Markup

from ..common.memory import collector_paused
from .document import Column, Document, Kind, Sheet
from .xlsx import NUMERIC_KINDS, add_to_total, column_width

TEMPLATE = "exports/document.html"
PAGE_NUMBERS_TEMPLATE = "exports/page_numbers.html"
PART_ROWS = 1000  # rows of a part printed on its own (a few hundred MB of laid-out pages at most)


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
    opens: bool = True  # this piece holds the sheet's first rows: its title above the table
    closes: bool = True  # this piece holds its last rows: the totals row (or the "no rows" line)


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


@dataclass
class Part:
    """What one part of a printed document holds: the heading and title block (the first part),
    pieces of the sheets, the notes and signature (the last part)."""

    sheets: list[SheetView]
    first: bool = True
    last: bool = True


def parts_of(sheets: Sequence[SheetView], size: int = PART_ROWS) -> list[Part]:
    """The sheets cut into parts of at most ``size`` rows, in order: a sheet longer than that is
    cut into pieces (its title on the first, its totals on the last); small sheets share a part."""
    pieces: list[SheetView] = []
    for sheet in sheets:
        starts = range(0, len(sheet.rows), size) or [0]
        for start in starts:
            pieces.append(replace(sheet, rows=sheet.rows[start:start + size], opens=start == 0,
                                  closes=start + size >= len(sheet.rows)))
    parts: list[Part] = []
    rows = 0
    for piece in pieces:
        if not parts or rows + len(piece.rows) > size:
            parts.append(Part(sheets=[], first=not parts, last=False))
            rows = 0
        parts[-1].sheets.append(piece)
        rows += len(piece.rows)
    parts[-1].last = True
    return parts


def render_html(document: Document, part: Part | None = None, *, page_numbers: bool = True) -> str:
    """The document's HTML page, or one part of it (needs an application context)."""
    heading = document.heading
    if part is None:
        part = Part(sheets=[sheet_view(sheet) for sheet in document.sheets])
    return render_template(
        TEMPLATE, document=document, heading=heading, part=part,
        date_line=date_line(heading.place, document.made_on) if heading else None,
        sheets=part.sheets, page_counter=page_counter_css() if page_numbers else None)


def refusing_fetcher():
    """A WeasyPrint URL fetcher that fetches nothing (every URL is refused with a warning)."""
    try:
        from weasyprint.urls import URLFetcher
    except ImportError:  # older WeasyPrint: a fetcher is a plain function
        def refuse(url, *args, **kwargs):
            raise ValueError(f"an export fetches no URL: {url}")
        return refuse
    return URLFetcher(allowed_protocols=())


def render(document: Document):
    """The document laid out at once by WeasyPrint, whatever its size (its pages can be inspected
    before writing; :func:`write_pdf` prints a long one in parts)."""
    html = render_html(document)
    with collector_paused():
        return _laid_out(html)


def write_pdf(document: Document, target: str | os.PathLike | BinaryIO) -> None:
    """Write ``document`` as a PDF to ``target`` (a path or a binary file object): at once, or in
    parts when it has more than :data:`PART_ROWS` rows (see the module's notes). Needs an
    application context (the page is a Flask template)."""
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    sheets = [sheet_view(sheet) for sheet in document.sheets]
    parts = parts_of(sheets, PART_ROWS)
    if len(parts) == 1:
        with collector_paused():
            _laid_out(render_html(document, parts[0])).write_pdf(target)
        return
    pages = [render_html(document, part, page_numbers=False) for part in parts]
    processes = min(len(pages), _processes())
    if processes > 1:
        with ThreadPoolExecutor(processes) as pool:
            printed = list(pool.map(_pdf_in_process, pages))
    else:
        printed = [pdf_of_html(page) for page in pages]
    joined = join_pdfs(printed)
    stamp_page_numbers(joined, document)
    joined.add_metadata({"/Title": document.title})
    if isinstance(target, str):
        with open(target, "wb") as out:
            joined.write(out)
    else:
        joined.write(target)


def _processes() -> int:
    """``PDF_PROCESSES``, or the CPUs this process may use."""
    wanted = current_app.config.get("PDF_PROCESSES")  # 1 to 64, checked at start-up (config.finalise)
    if wanted:
        return wanted
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _laid_out(html: str):
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=refusing_fetcher()).render()


def _pdf_in_process(html: str) -> bytes:
    """One part printed by ``python -m danso_network.exports.pdf_part`` (a fresh interpreter: no
    fork of a process whose other threads may hold locks, nothing of the caller's state)."""
    done = subprocess.run([sys.executable, "-m", "danso_network.exports.pdf_part"],  # nosec B603 # our own module, no shell, no user text in the command
                          input=html.encode("utf-8"), capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"printing a part of the PDF failed ({done.returncode}): "
                           f"{done.stderr.decode('utf-8', 'replace')[-2000:]}")
    return done.stdout


def pdf_of_html(html: str) -> bytes:
    """One part's PDF (in a worker process: WeasyPrint only, no application context)."""
    with collector_paused():
        return _laid_out(html).write_pdf()


def join_pdfs(printed: Sequence[bytes]):
    """The parts' pages, in order, in one pypdf writer."""
    from pypdf import PdfReader, PdfWriter

    joined = PdfWriter()
    for data in printed:
        joined.append(PdfReader(io.BytesIO(data)))
    return joined


def stamp_page_numbers(joined, document: Document) -> None:
    """Put "Trang X/Y" on every joined page, from a WeasyPrint document of as many empty pages
    holding the same footer as a document printed at once."""
    from pypdf import PdfReader

    count = len(joined.pages)
    footer = pdf_of_html(render_template(PAGE_NUMBERS_TEMPLATE, document=document, count=count,
                                         page_counter=page_counter_css()))
    for page, stamp in zip(joined.pages, PdfReader(io.BytesIO(footer)).pages, strict=True):
        page.merge_page(stamp)
        page.compress_content_streams()  # merging leaves the page's content uncompressed
