"""LSL markers from another program land in ``_events.tsv`` at the time they were sent (loopback)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid

import pytest

from motorlab.errors import MotorlabError
from motorlab.session import RecordingTarget, grip_protocol, record_task
from motorlab.storage.bids import read_recording


@pytest.fixture(scope="module")
def pylsl(tmp_path_factory):
    from motorlab.streaming.lsl import write_local_config

    cfg = write_local_config(tmp_path_factory.mktemp("lsl") / "lsl_api.cfg", log_level=-3)
    old = os.environ.get("LSLAPICFG")
    os.environ["LSLAPICFG"] = str(cfg)
    yield pytest.importorskip("pylsl")
    if old is None:
        os.environ.pop("LSLAPICFG", None)
    else:
        os.environ["LSLAPICFG"] = old


async def test_markers_sent_during_a_recording_are_stored_at_their_send_time(pylsl, tmp_path):
    from motorlab.streaming.markers import LslMarkerInlet

    name = f"motorlab-test-{uuid.uuid4().hex[:8]}"
    outlet = pylsl.StreamOutlet(pylsl.StreamInfo(name, "Markers", 1, 0, "string", name))
    inlet = LslMarkerInlet(name)
    sent: list[tuple[str, float]] = []  # (marker, host monotonic time it was pushed)

    async def send_markers():
        await asyncio.sleep(0.8)
        for text in ("trial_start", "stimulus", "trial_end"):
            t_mono = time.monotonic()
            outlet.push_sample([text], pylsl.local_clock())
            sent.append((text, t_mono))
            await asyncio.sleep(0.4)

    protocol = grip_protocol(trials=1, countdown_s=0.3, squeeze_s=2.0)
    sender = asyncio.create_task(send_markers())
    result = await record_task(
        "sim://grip?seed=5", protocol, RecordingTarget(tmp_path, "P088"), event_sources=[inlet]
    )
    await sender
    rec = read_recording(result.path)
    t0 = float(json.loads(result.path.with_suffix(".json").read_text())["MotorlabHostMonotonicT0"])
    markers = rec.events_of("marker")
    assert [m.extra["value"] for m in markers] == [text for text, _ in sent]
    for marker, (_, t_mono) in zip(markers, sent):
        assert marker.onset == pytest.approx(t_mono - t0, abs=0.01)
        assert marker.extra["source"] == name
    # on the samples' time axis: inside the recording, in the order sent
    assert rec.timestamps[0] < markers[0].onset < markers[-1].onset < rec.timestamps[-1]
    # the marker text is in the value column of _events.tsv
    events_tsv = next(result.path.parent.glob("*_events.tsv")).read_text().splitlines()
    header = events_tsv[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in events_tsv[1:]]
    assert [r["value"] for r in rows if r["trial_type"] == "marker"] == [
        "trial_start",
        "stimulus",
        "trial_end",
    ]


async def test_a_missing_marker_stream_is_a_one_line_error(pylsl, tmp_path):
    from motorlab.streaming.markers import LslMarkerInlet

    inlet = LslMarkerInlet("no-such-marker-stream", resolve_timeout_s=0.5)
    protocol = grip_protocol(trials=1, countdown_s=0.1, squeeze_s=0.3)
    with pytest.raises(
        MotorlabError, match=r"^LSL marker stream 'no-such-marker-stream' \(type Markers\) not found"
    ):
        await record_task("sim://grip", protocol, RecordingTarget(tmp_path, "P089"), event_sources=[inlet])
