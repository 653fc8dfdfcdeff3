"""`core.bulk.gc_paused`: the cycle collector is off through a bulk operation, and left as
it was found afterwards, whatever happens inside."""

from __future__ import annotations

import gc

import pytest

from carte.core.bulk import gc_paused


def test_it_pauses_the_collector_and_restores_it_after_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError), gc_paused():
        assert not gc.isenabled()
        raise ValueError("refused")
    assert gc.isenabled()


def test_a_nested_block_leaves_the_collector_to_the_outer_one() -> None:
    with gc_paused():
        with gc_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_leaves_a_collector_paused_by_someone_else_paused() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
