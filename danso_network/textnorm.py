"""Vietnamese text folding for diacritics-insensitive search ("dong xoai" finds "Đồng Xoài")."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str | None) -> str:
    """Lower-case, strip Vietnamese diacritics (đ → d) and collapse white space."""
    if not text:
        return ""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", stripped).strip().lower()


def slug(text: str | None, *, limit: int = 60, default: str = "") -> str:
    """An ASCII file-name piece: folded (``fold``), every run of other characters a "-", at
    most ``limit`` characters ("Xã Bom Bo" → "xa-bom-bo"); ``default`` when nothing is left."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:limit].strip("-") or default


def clean_text(text: str) -> str:
    """Text as typed, made safe to store: NFC (Vietnamese input methods may send decomposed
    accents), without control or invisible format characters (NUL, bell, zero-width…; line
    breaks are kept), trimmed. Normalised last: a control character removed between two accents
    leaves them side by side, to be put in their canonical order."""
    text = "".join(ch for ch in text.replace("\r\n", "\n")
                   if ch == "\n" or not unicodedata.category(ch).startswith("C"))
    return unicodedata.normalize("NFC", text.strip())


def has_meaning(text: str | None) -> bool:
    """Whether a name holds at least one letter or digit (not only punctuation or spaces)."""
    return bool(text) and any(ch.isalnum() for ch in text)


def is_ascii_digits(text: str | None) -> bool:
    """Only the digits 0–9. ``str.isdigit`` also accepts other scripts' digits (Arabic-Indic
    ``٠٧٠``, full-width ``０７０``…), which would let the same identity number be written twice."""
    return bool(text) and text.isascii() and text.isdigit()
