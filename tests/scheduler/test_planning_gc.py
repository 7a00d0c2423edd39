"""The shell pauses cyclic garbage collection while it builds, and always resumes it."""

from __future__ import annotations

import gc

import pytest

from scheduler.planning import cyclic_gc_paused


def test_paused_inside_and_resumed_after() -> None:
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resumed_when_the_build_fails() -> None:
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError("the database went away")
    assert gc.isenabled()


def test_left_alone_when_someone_else_paused_it() -> None:
    gc.disable()
    try:
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # theirs to resume, not ours
    finally:
        gc.enable()
