"""What a file's first bytes say it is: an encoding by its byte order mark, or no table at all. Pure.

A CSV is text: UTF-8, Windows-1251, or UTF-16 with its BOM (Excel's «Юникод-текст»). Anything
else that reaches the CSV reader (a PDF, an archive, a database, a web page saved as «Excel»)
would otherwise be read as Windows-1251 gibberish, which fits any bytes, and then fail as «no
such column»; these checks say instead what the file looks like.
"""

from __future__ import annotations

import codecs

UTF16 = "utf-16"  # Python's codec reads the BOM and takes the byte order from it
UTF8 = "utf-8-sig"  # with or without the BOM

_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)  # checked first: the LE one starts like UTF-16 LE's
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SIGNATURES = (
    (b"%PDF", "документ PDF"),
    (b"{\\rtf", "документ RTF (Word, WordPad)"),
    (b"\x89PNG", "картинка PNG"),
    (b"\xff\xd8\xff", "картинка JPEG"),
    (b"GIF8", "картинка GIF"),
    (b"\x1f\x8b", "архив gzip"),
    (b"Rar!", "архив RAR"),
    (b"7z\xbc\xaf\x27\x1c", "архив 7-Zip"),
    (b"SQLite format 3\x00", "база данных SQLite"),
)
_MARKUP = (
    (b"<!doctype html", "страница HTML (так иные программы выгружают «Excel»)"),
    (b"<html", "страница HTML (так иные программы выгружают «Excel»)"),
    (b"<?xml", "файл XML (например, «Таблица XML 2003»)"),
)
_CONTROLS = frozenset((*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))  # never in text; tab, LF, CR are
_BINARY_SHARE = 0.1  # of the first bytes being controls: random bytes have 13 %, a text file none
_WIDE_HIGH = frozenset({0x00, 0x04})  # UTF-16's other byte of Latin (0x00xx) and Cyrillic (0x04xx) letters
_WIDE_SHARE = 0.9
_PROBE = 4096
SAVE_AS = "сохраните таблицу как «CSV UTF-8» или книгу Excel (.xlsx)"


def bom_encoding(head: bytes) -> str | None:
    """UTF16 or UTF8 when the file starts with that BOM; None without one."""
    if head.startswith(_UTF16_BOMS) and not head.startswith(_UTF32_BOMS):
        return UTF16
    return UTF8 if head.startswith(codecs.BOM_UTF8) else None


def not_a_table(head: bytes) -> str | None:
    """Why a file that is not a workbook cannot be a CSV either (Russian), or None when it may be one."""
    if head.startswith(_UTF32_BOMS):
        return f"файл в кодировке UTF-32: такой CSV не читается — {SAVE_AS}"
    if bom_encoding(head) == UTF16:
        return None
    head = head.removeprefix(codecs.BOM_UTF8)
    found = _signature(head)
    if found:
        return f"это не таблица, а {found}: {SAVE_AS}"
    probe = head[:_PROBE]
    order = _wide_order(probe)
    if order:
        return (f"файл в кодировке UTF-16 ({order}) без метки порядка байтов (BOM): такой не прочесть наверняка — "
                f"{SAVE_AS}")
    controls = sum(byte in _CONTROLS for byte in probe)
    if probe and controls >= _BINARY_SHARE * len(probe):
        return (f"это не текст, а двоичные данные ({round(100 * controls / len(probe))} % первых байтов — "
                f"управляющие; первые байты: {probe[:8].hex(' ').upper()}): так выглядят архивы, программы, "
                f"базы данных — {SAVE_AS}")
    return None


def _signature(head: bytes) -> str | None:
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return what
    start = head[:64].lstrip(b" \t\r\n").lower()
    return next((what for magic, what in _MARKUP if start.startswith(magic)), None)


def _wide_order(probe: bytes) -> str | None:
    """«LE» or «BE» when every other byte is the high byte of a Latin or Cyrillic letter, as in UTF-16."""
    odd, even = probe[1::2], probe[0::2]
    for bytes_, order in ((odd, "LE"), (even, "BE")):
        if len(bytes_) >= 4 and 0 in bytes_ and sum(b in _WIDE_HIGH for b in bytes_) >= _WIDE_SHARE * len(bytes_):
            return order
    return None
