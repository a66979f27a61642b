"""One part of a long PDF, printed in a process of its own (``exports/pdf.py``, :func:`write_pdf`):
the part's HTML page on standard input, its PDF on standard output. WeasyPrint only: no
application, no database, no URL fetched.

    python -m danso_network.exports.pdf_part < part.html > part.pdf
"""

from __future__ import annotations

import sys

from .pdf import pdf_of_html


def main() -> None:
    html = sys.stdin.buffer.read().decode("utf-8")
    sys.stdout.buffer.write(pdf_of_html(html))


if __name__ == "__main__":
    main()
