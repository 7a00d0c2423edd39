"""AMI wire framing: split a byte stream into frames, with a size guard. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

FRAME_END = b"\r\n\r\n"
LINE_END = b"\r\n"
BANNER_PREFIX = b"Asterisk Call Manager/"
DEFAULT_MAX_FRAME_BYTES = 256 * 1024
_EDGE = len(FRAME_END) - 1  # a terminator cut by a read leaves at most this many of its bytes behind


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

    Reads may cut the stream anywhere, the `\\r\\n\\r\\n` terminator included: the last
    bytes of what came before are always searched together with the next read. The partial
    tail is kept as a list of reads and searched only where it is new, so a frame that
    arrives in many tiny reads costs time linear in its size.
    """

    __slots__ = ("_parts", "_pending", "_edge", "_max", "_banner_pending", "_discarding")

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES, expect_banner: bool = True) -> None:
        self._parts: list[bytes] = []  # the unterminated tail, one item per read
        self._pending = 0  # its length (while discarding: the oversized frame's length so far)
        self._edge = b""  # the tail's last bytes, where a terminator cut by a read begins
        self._max = max_frame_bytes
        self._banner_pending = expect_banner
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes | OversizedFrame]:
        out: list[bytes | OversizedFrame] = []
        if self._banner_pending:
            data = self._take_banner(data, out)
        if self._discarding and data:
            data = self._skip_oversized(data, out)
        if data:
            self._split(data, out)
        return out

    def _split(self, data: bytes, out: list[bytes | OversizedFrame]) -> None:
        if self._parts and FRAME_END not in data and FRAME_END not in self._edge + data[:_EDGE]:
            self._keep(data)  # still no terminator: only the new bytes were searched
            return
        buf = b"".join((*self._parts, data)) if self._parts else data
        self._parts, self._pending, self._edge = [], 0, b""
        frames = buf.split(FRAME_END)
        tail = frames.pop()
        for frame in frames:
            if len(frame) > self._max:
                out.append(OversizedFrame(len(frame)))
            elif frame:
                out.append(frame)
        if tail:
            self._keep(tail)

    def _keep(self, data: bytes) -> None:
        self._pending += len(data)
        self._edge = data[-_EDGE:] if len(data) >= _EDGE else (self._edge + data)[-_EDGE:]
        if self._pending > self._max:
            self._parts, self._discarding = [], True  # forget the bytes; keep the count and the edge
        else:
            self._parts.append(data)

    def _skip_oversized(self, data: bytes, out: list[bytes | OversizedFrame]) -> bytes:
        probe = self._edge + data
        end = probe.find(FRAME_END)
        if end < 0:
            self._pending += len(data)
            self._edge = probe[-_EDGE:]
            return b""
        out.append(OversizedFrame(self._pending - len(self._edge) + end))
        self._discarding, self._pending, self._edge = False, 0, b""
        return probe[end + len(FRAME_END) :]

    def _take_banner(self, data: bytes, out: list[bytes | OversizedFrame]) -> bytes:
        buf = b"".join((*self._parts, data)) if self._parts else data
        self._parts, self._pending = [], 0
        if not buf.startswith(BANNER_PREFIX[: len(buf)]):
            self._banner_pending = False  # no banner (e.g. a capture without one): frames only
            return buf
        end = buf.find(LINE_END)
        if end < 0:
            if len(buf) > self._max:
                self._banner_pending = False  # an endless first line: the frame size guard takes it
                return buf
            self._parts, self._pending = [buf], len(buf)  # the banner is small: rejoining it is cheap
            return b""
        out.append(buf[:end])
        self._banner_pending = False
        return buf[end + len(LINE_END) :]

    @property
    def pending_bytes(self) -> int:
        """Bytes held back for the next read (never more than the frame size limit)."""
        return 0 if self._discarding else self._pending

    @property
    def unfinished_bytes(self) -> int:
        """Length so far of a frame not yet terminated, an oversized one being skipped included."""
        return self._pending


def is_banner(frame: bytes) -> bool:
    return frame.startswith(BANNER_PREFIX)
