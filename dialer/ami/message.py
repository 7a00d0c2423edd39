"""Parse one AMI frame into a Message: decoding, repeated headers, case-insensitive lookup. Pure."""

from __future__ import annotations

import math
from typing import Literal

Encoding = Literal["utf-8", "cp1251"]


class FrameError(ValueError):
    """A frame that cannot be parsed as AMI at all (no `Key: Value` lines)."""


class Message(dict[str, str]):
    """An AMI event or response: header name → value.

    Header names keep Asterisk's spelling; a lookup with `[]` that misses falls back to a
    case-insensitive match (CEL says `UniqueID`, channel events `Uniqueid`). A header that
    repeats (`ChanVariable`, `Variable`, `Output`) keeps its first value under its name and
    all values in `multi`.
    """

    __slots__ = ("multi", "encoding")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.multi: dict[str, list[str]] = {}
        self.encoding: Encoding = "utf-8"

    def __missing__(self, key: str) -> str:
        lowered = key.lower()
        for name, value in self.items():
            if name.lower() == lowered:
                return value
        raise KeyError(key)

    def header(self, key: str, default: str | None = None) -> str | None:
        """Case-insensitive get."""
        try:
            return self[key]
        except KeyError:
            return default

    def values_of(self, key: str) -> list[str]:
        """Every value of a header that may repeat."""
        if key in self.multi:
            return self.multi[key]
        value = self.header(key)
        return [] if value is None else [value]

    @property
    def name(self) -> str | None:
        """The event name, or None for a response."""
        return self.get("Event")

    def timestamp(self) -> float | None:
        """The `Timestamp` header as epoch seconds; None when missing or not a finite number
        (a peer's garbage must neither raise where the event is handled nor poison a clock)."""
        try:
            value = float(self.get("Timestamp") or "nan")
        except ValueError:
            return None
        return value if math.isfinite(value) else None

    @property
    def is_response(self) -> bool:
        return "Response" in self


def decode_frame(raw: bytes) -> tuple[str, Encoding]:
    """UTF-8 first; a caller name from a trunk may be Windows-1251 (which decodes any byte)."""
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1251", errors="replace"), "cp1251"


def parse_frame(raw: bytes) -> Message:
    """Parse a complete frame (without its terminating blank line)."""
    text, encoding = decode_frame(raw)
    lines = text.split("\r\n")
    try:
        msg = Message(line.split(": ", 1) for line in lines)
    except ValueError:
        msg = _parse_lenient(lines)
    else:
        if len(msg) != len(lines):
            msg = _parse_lenient(lines)
    if not msg:
        raise FrameError(f"no AMI headers in frame of {len(raw)} bytes: {raw[:80]!r}")
    msg.encoding = encoding
    return msg


def _parse_lenient(lines: list[str]) -> Message:
    """Slow path: repeated headers, `Key:` with an empty value, bare LF, stray lines."""
    msg = Message()
    for line in lines:
        for part in line.split("\n"):
            key, sep, value = part.partition(":")
            if not sep or not key or " " in key.strip():
                continue  # not a header line (e.g. legacy `Response: Follows` body); skip it
            key = key.strip()
            value = value[1:] if value.startswith(" ") else value
            value = value.rstrip("\r")
            if key in msg:
                msg.multi.setdefault(key, [msg[key]]).append(value)
            else:
                dict.__setitem__(msg, key, value)
    return msg
