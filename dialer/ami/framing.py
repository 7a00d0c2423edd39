"""AMI wire framing: split a byte stream into frames, with a size guard. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

FRAME_END = b"\r\n\r\n"
LINE_END = b"\r\n"
BANNER_PREFIX = b"Asterisk Call Manager/"
DEFAULT_MAX_FRAME_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class OversizedFrame:
    """Marker for a frame that exceeded the size limit and was discarded."""

    size: int


class FrameSplitter:
    """Buffers the partial tail of an AMI stream and yields complete frames.

    The first line of a live stream is the banner (`Asterisk Call Manager/x.y.z`), which
    ends with a single CRLF, not a blank line; it is returned as its own frame. A frame
    larger than `max_frame_bytes` is dropped (an `OversizedFrame` marker is returned in its
    place) so that a misbehaving peer cannot make us buffer without bound.
    """

    __slots__ = ("_buf", "_max", "_banner_pending", "_discarding", "_discarded")

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES, expect_banner: bool = True) -> None:
        self._buf = b""
        self._max = max_frame_bytes
        self._banner_pending = expect_banner
        self._discarding = False
        self._discarded = 0

    def feed(self, data: bytes) -> list[bytes | OversizedFrame]:
        buf = self._buf + data if self._buf else data
        out: list[bytes | OversizedFrame] = []
        if self._banner_pending:
            buf = self._take_banner(buf, out)
            if self._banner_pending:
                self._buf = buf
                return out
        if self._discarding:
            buf = self._skip_oversized(buf, out)
            if self._discarding:
                self._buf = b""
                return out
        frames = buf.split(FRAME_END)
        tail = frames.pop()
        for frame in frames:
            if len(frame) > self._max:
                out.append(OversizedFrame(len(frame)))
            elif frame:
                out.append(frame)
        if len(tail) > self._max:
            self._discarding = True
            self._discarded = len(tail)
            tail = b""
        self._buf = tail
        return out

    def _take_banner(self, buf: bytes, out: list[bytes | OversizedFrame]) -> bytes:
        if not buf.startswith(BANNER_PREFIX[: len(buf)]):
            self._banner_pending = False  # no banner (e.g. a capture without one): frames only
            return buf
        end = buf.find(LINE_END)
        if end < 0:
            return buf
        out.append(buf[:end])
        self._banner_pending = False
        return buf[end + 2 :]

    def _skip_oversized(self, buf: bytes, out: list[bytes | OversizedFrame]) -> bytes:
        end = buf.find(FRAME_END)
        if end < 0:
            self._discarded += len(buf)
            return b""
        self._discarded += end
        out.append(OversizedFrame(self._discarded))
        self._discarding = False
        self._discarded = 0
        return buf[end + 4 :]

    @property
    def pending_bytes(self) -> int:
        return len(self._buf)


def is_banner(frame: bytes) -> bool:
    return frame.startswith(BANNER_PREFIX)
