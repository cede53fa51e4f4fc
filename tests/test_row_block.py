"""RowBlock: a SampleBlock holding Python floats until its arrays are first used (issue 10, live path)."""

from __future__ import annotations

import numpy as np

from motorlab.devices.base import RowBlock, SampleBlock, stack_blocks
from motorlab.devices.codecs.blocks import join_runs, new_block


def test_row_block_is_a_sample_block_with_the_same_arrays():
    blk = new_block([0.0, 0.01], [1.0, 2.0, 3.0, 4.0], 2, seq=7, dropped_before=1)
    assert isinstance(blk, SampleBlock) and isinstance(blk, RowBlock)
    assert (blk.n, blk.n_channels, blk.first_time, blk.last_time) == (2, 2, 0.0, 0.01)
    assert blk.rows is not None  # no arrays yet
    np.testing.assert_array_equal(blk.values, [[1.0, 2.0], [3.0, 4.0]])
    assert blk.device_time.dtype == np.float64 and blk.values.shape == (2, 2)
    assert blk.rows is None  # built once, then the arrays are the block
    blk.values[0, 0] = 9.0  # changed in place, as any block's arrays may be
    assert stack_blocks([blk])[1][0, 0] == 9.0
    blk.device_time = np.array([5.0, 6.0])
    assert blk.last_time == 6.0 and (blk.seq, blk.dropped_before) == (7, 1)


def test_stacking_and_joining_row_blocks_equals_stacking_arrays():
    rows = [new_block([k * 0.1], [float(k), -float(k)], 2, seq=k) for k in range(5)]
    arrays = [SampleBlock(np.array([k * 0.1]), np.array([[float(k), -float(k)]]), seq=k) for k in range(5)]
    t, v = stack_blocks(rows)
    t_ref, v_ref = stack_blocks(arrays)
    np.testing.assert_array_equal(t, t_ref)
    np.testing.assert_array_equal(v, v_ref)
    [joined] = join_runs(list(rows))  # consecutive sequence numbers: one block
    assert isinstance(joined, RowBlock) and joined.n == 5 and joined.seq == 0
    np.testing.assert_array_equal(joined.values, v_ref)
    mixed = stack_blocks([rows[0], arrays[1]])  # a RowBlock next to an array block
    np.testing.assert_array_equal(mixed[1], v_ref[:2])
    gap = new_block([0.9], [1.0, 1.0], 2, seq=9)
    assert len(join_runs([rows[4], gap])) == 2  # a sequence gap keeps blocks apart


def test_one_value_blocks_keep_their_floats_and_stack_like_arrays():
    import gc

    singles = [new_block([k * 0.5], [k * 2.0], 1, dropped_before=k % 2) for k in range(4)]
    assert singles[1].rows == ((0.5,), (2.0,)) and (singles[1].first_time, singles[1].last_time) == (0.5, 0.5)
    t, v = stack_blocks(singles)
    np.testing.assert_array_equal(t, [0.0, 0.5, 1.0, 1.5])
    np.testing.assert_array_equal(v, [[0.0], [2.0], [4.0], [6.0]])
    assert stack_blocks([*singles, new_block([2.0, 2.5], [8.0, 10.0], 1)])[1].shape == (6, 1)
    np.testing.assert_array_equal(singles[3].values, [[6.0]])  # arrays built on use
    assert singles[3].rows is None and singles[3].last_time == 1.5
    # a held stream of such blocks adds one object per block for the garbage collector, as two arrays do
    gc.disable()
    try:
        before = gc.get_count()[0]
        held = [new_block((k * 0.1,), (1.0,), 1) for k in range(1000)]
        assert gc.get_count()[0] - before <= len(held) + 5
    finally:
        gc.enable()
