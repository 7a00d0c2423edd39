"""Ordered AMI header lists: parse a capture frame, format a frame to send. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Headers = list[tuple[str, str]]


def parse_headers(raw: bytes) -> Headers:
    """Split one frame into (key, value) pairs, keeping order and repeated keys."""
    headers: Headers = []
    for line in raw.decode("utf-8", errors="replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if not sep:
            continue
        headers.append((key, value[1:] if value.startswith(" ") else value))
    return headers


def header(headers: Sequence[tuple[str, str]], key: str, default: str = "") -> str:
    """First value of `key` (exact spelling), or `default`."""
    for name, value in headers:
        if name == key:
            return value
    return default


def format_frame(headers: Iterable[tuple[str, str]]) -> str:
    """`Key: Value` lines and the blank line that ends an AMI message."""
    return "".join(f"{key}: {_one_line(value)}\r\n" for key, value in headers) + "\r\n"


def _one_line(value: str) -> str:
    # A CR or LF inside a value would split the frame on the client side.
    if "\r" in value or "\n" in value:
        return value.replace("\r", " ").replace("\n", " ")
    return value


def event_classes(privilege: str) -> frozenset[str]:
    """`call,all` → {"call"}: the classes an EventMask is compared with."""
    return frozenset(part.strip().lower() for part in privilege.split(",") if part.strip() not in ("", "all"))
