"""FrameSplitter: every way the reads can cut a stream gives the same frames. Pure, no I/O."""

from __future__ import annotations

import random
import time

import pytest

from dialer.ami.framing import FRAME_END, FrameSplitter, OversizedFrame

MAX = 64  # small, so an oversized frame and every cut through it stay cheap to enumerate
BANNER = b"Asterisk Call Manager/11.0.0"

Out = list[bytes | OversizedFrame]


def frame(*lines: str) -> bytes:
    return "\r\n".join(lines).encode() + FRAME_END


# Lines that end in CR or CRLF inside a frame look like the start of a terminator; they are not one.
HUGE = "Event: Huge\r\nData: " + "x\r\n\rx" * 20 + "\r\nMore: " + "y" * 30
HUGE_SIZE = len(HUGE.encode())


def stream() -> tuple[bytes, Out]:
    """A normal frame, an oversized one, normal frames, two oversized in a row, a last normal one."""
    first = frame("Event: Newchannel", "Uniqueid: 1.1")
    after = [frame("Event: Newstate", "Uniqueid: 1.1"), frame("Response: Success", "ActionID: a1", "Ping: Pong")]
    last = frame("Event: Hangup", "Uniqueid: 1.1", "Cause: 16")
    huge = HUGE.encode() + FRAME_END
    data = first + huge + b"".join(after) + huge + huge + last
    expected: Out = [first[:-4], OversizedFrame(HUGE_SIZE), *(f[:-4] for f in after),
                     OversizedFrame(HUGE_SIZE), OversizedFrame(HUGE_SIZE), last[:-4]]
    assert HUGE_SIZE > MAX and all(len(f) <= MAX for f in expected if isinstance(f, bytes))
    return data, expected


def feed_all(chunks: list[bytes], expect_banner: bool = False) -> Out:
    splitter = FrameSplitter(MAX, expect_banner=expect_banner)
    out: Out = []
    for chunk in chunks:
        out.extend(splitter.feed(chunk))
    assert splitter.pending_bytes == 0
    return out


def cut(data: bytes, positions: list[int]) -> list[bytes]:
    edges = [0, *sorted(positions), len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def test_one_read_gives_every_frame_in_order() -> None:
    data, expected = stream()
    assert feed_all([data]) == expected


def test_every_single_cut_gives_the_same_frames() -> None:
    data, expected = stream()
    for p in range(len(data) + 1):
        assert feed_all(cut(data, [p])) == expected, f"cut at {p}: {data[max(0, p - 6):p]!r} | {data[p:p + 6]!r}"


def test_every_pair_of_cuts_around_the_oversized_frames_terminators() -> None:
    """The reported defect: `\\r\\n` + `\\r\\n` (or `\\r\\n\\r` + `\\n`, …) after an oversized frame
    ate the next one."""
    data, expected = stream()
    ends = [i for i in range(len(data)) if data.startswith(FRAME_END, i)]
    near = sorted({p for e in ends for p in range(e - 2, e + 7) if 0 <= p <= len(data)})
    for a in near:
        for b in near:
            if a < b:
                assert feed_all(cut(data, [a, b])) == expected, f"cuts at {a} and {b}"


def test_one_byte_at_a_time() -> None:
    data, expected = stream()
    assert feed_all([data[i:i + 1] for i in range(len(data))]) == expected


def test_random_chunkings() -> None:
    data, expected = stream()
    rng = random.Random(20261128)
    for _ in range(500):
        positions = rng.sample(range(1, len(data)), rng.randint(1, 40))
        assert feed_all(cut(data, positions)) == expected, f"cuts at {sorted(positions)}"


def test_a_banner_cut_anywhere_is_still_the_first_frame() -> None:
    data, expected = stream()
    data = BANNER + b"\r\n" + data
    for p in range(len(BANNER) + 8):
        assert feed_all(cut(data, [p]), expect_banner=True) == [BANNER, *expected], f"cut at {p}"


def test_a_banner_line_without_end_is_bounded_like_any_frame() -> None:
    splitter = FrameSplitter(MAX, expect_banner=True)
    out: Out = []
    for _ in range(100):
        out.extend(splitter.feed(BANNER + b"x" * 50))  # a peer that never ends its first line
    assert splitter.pending_bytes <= MAX
    out.extend(splitter.feed(FRAME_END + frame("Event: Hangup", "Uniqueid: 1.1")))
    assert out == [OversizedFrame(100 * (len(BANNER) + 50)), b"Event: Hangup\r\nUniqueid: 1.1"]


@pytest.mark.timeout(30)
def test_a_frame_in_tiny_reads_costs_linear_time() -> None:
    """Each read used to copy and rescan the whole partial frame: quadratic in its size."""
    big = b"Event: Newexten\r\nAppData: " + b"x" * 200_000 + FRAME_END
    splitter = FrameSplitter(expect_banner=False)
    started = time.perf_counter()
    out: Out = []
    for i in range(0, len(big), 4):
        out.extend(splitter.feed(big[i:i + 4]))
    elapsed = time.perf_counter() - started
    assert out == [big[:-4]]
    assert elapsed < 2.0, f"{elapsed:.1f} s for 50,000 reads of a 200 KB frame"
