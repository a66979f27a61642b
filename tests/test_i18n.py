"""The English catalogue is complete and keeps every placeholder, so switching language never
shows a half-translated page or breaks a formatted message."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "danso_network" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _catalogue():
    with open(PO, "rb") as f:
        return read_po(f)


def test_every_entry_is_translated_with_the_same_placeholders():
    problems = []
    for message in _catalogue():
        if not message.id:
            continue
        if not message.string or message.fuzzy:
            problems.append(f"untranslated: {message.id!r}")
        elif sorted(PLACEHOLDER.findall(message.id)) != sorted(PLACEHOLDER.findall(message.string)):
            problems.append(f"placeholders differ: {message.id!r}")
    assert problems == []


def test_every_string_in_the_code_is_in_the_catalogue():
    known = {m.id for m in _catalogue() if m.id}
    missing = set()
    method_map = [("danso_network/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map=method_map, keywords=keywords,
            directory_filter=lambda d: not Path(d).name.startswith(".") and ".venv" not in d):
        if isinstance(message, str) and message not in known:
            missing.add(message)
    assert sorted(missing) == [], "run `make extract-translations` and translate the new entries"
