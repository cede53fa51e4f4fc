"""Arbitrary input never escapes as anything but a one-line MotorlabError; random pen
recordings survive InkML and .svc export -> import."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motorlab import Metadata, Recording
from motorlab.errors import MotorlabError
from motorlab.storage.importers import (
    read_inkml,
    read_svc,
    read_table,
    read_uci_spiral,
    write_inkml,
    write_svc,
)
from motorlab.storage.importers.channels import PEN_CHANNELS

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_lines = st.lists(
    st.text(alphabet="0123456789;-. ,\t'\"#?*TFabc<>/=", min_size=0, max_size=40), min_size=0, max_size=12
)


def _expect_clean(fn, path) -> None:
    try:
        fn(path)
    except MotorlabError as exc:
        assert "\n" not in str(exc) and str(exc)


@SETTINGS
@given(lines=_lines)
def test_text_readers_never_raise_anything_else(tmp_path, lines):
    f = tmp_path / "fuzz.txt"
    f.write_text("\n".join(lines))
    _expect_clean(lambda p: read_uci_spiral(p, participant="P001"), f)
    _expect_clean(lambda p: read_svc(p, participant="P001"), f)
    _expect_clean(
        lambda p: read_table(
            p, participant="P001", columns={"a": "force"}, units={"force": "N"}, time_column="t"
        ),
        f,
    )


@SETTINGS
@given(
    points=st.text(alphabet="0123456789 ,.-'\"#?*TFe", max_size=80), typ=st.sampled_from(["", "penUp", "x"])
)
def test_inkml_reader_never_raises_anything_else(tmp_path, points, typ):
    f = tmp_path / "fuzz.inkml"
    attr = f' type="{typ}"' if typ else ""
    f.write_text(
        '<ink xmlns="http://www.w3.org/2003/InkML"><traceFormat><channel name="X" units="mm"/>'
        f'<channel name="Y" units="mm"/><channel name="T" units="ms"/></traceFormat><trace{attr}>{points}</trace></ink>'
    )
    _expect_clean(lambda p: read_inkml(p, participant="P001"), f)


@SETTINGS
@given(
    n=st.integers(3, 60),
    seed=st.integers(0, 2**32 - 1),
    nan_rate=st.sampled_from([0.0, 0.1]),
)
def test_random_pen_recordings_round_trip(tmp_path, n, seed, nan_rate):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.001, 0.02, n)) - 0.001
    pen = rng.integers(0, 2, n).astype(float)
    data = np.column_stack(
        [rng.normal(5, 3, n), rng.normal(5, 3, n), rng.uniform(0, 1, n) * pen, pen, rng.uniform(0, 90, n)]
    )
    data[:, 2:][rng.uniform(size=(n, 3)) < nan_rate] = np.nan
    chans = [PEN_CHANNELS[k] for k in ("pos_x", "pos_y", "pressure", "pen_down", "altitude")]
    rec = Recording(t, data, chans, 100.0, Metadata("P001", task="handwriting"))
    write_inkml(rec, tmp_path / "r.inkml")
    back = read_inkml(tmp_path / "r.inkml", participant="P001")[0]
    for name in rec.channel_names:
        np.testing.assert_array_equal(back.channel(name), rec.channel(name))
    np.testing.assert_array_equal(back.timestamps, rec.timestamps)
    # .svc: integers in raw units, so equal after quantising to them
    write_svc(rec, tmp_path / "r.svc")
    svc = read_svc(tmp_path / "r.svc", participant="P001")[0]
    np.testing.assert_allclose(svc.channel("pos_x"), np.round(data[:, 0] / 0.0005) * 0.0005, atol=1e-12)
    raw_ms = np.rint(t * 1000)
    np.testing.assert_array_equal(svc.timestamps, (raw_ms - raw_ms[0]) / 1000)
    np.testing.assert_array_equal(
        svc.channel("pen_down"), np.nan_to_num(data[:, 3])
    )  # unknown -> 0, reported
