"""InkML import (foreign files, the encodings of the W3C Recommendation) and export -> import."""

from __future__ import annotations

import numpy as np
import pytest

from motorlab import Channel, Metadata, Recording
from motorlab.errors import ParameterError, RecordingError
from motorlab.storage.importers import read_inkml, read_svc, write_inkml
from motorlab.storage.importers.channels import PEN_CHANNELS

FOREIGN = """<?xml version="1.0" encoding="UTF-8"?>
<ink xmlns="http://www.w3.org/2003/InkML">
 <definitions>
  <context xml:id="c1">
   <inkSource xml:id="s1" manufacturer="Acme" model="Pad 1">
    <traceFormat>
     <channel name="X" type="decimal" units="mm"/>
     <channel name="Y" type="decimal" units="mm"/>
     <channel name="F" type="integer" min="0" max="1023"/>
     <channel name="OTx" type="decimal" units="deg"/>
     <channel name="T" type="integer" units="ms"/>
    </traceFormat>
    <sampleRate uniform="true" value="200"/>
   </inkSource>
  </context>
 </definitions>
 <trace contextRef="#c1">10 20 512 5 1000, '1 '1 '88 '1 '5, "0"0"0"0"0</trace>
 <traceGroup>
  <trace contextRef="#c1" type="penUp">13 23 0 #A 1015, 14 24 ? 11 1020</trace>
 </traceGroup>
</ink>
"""


def test_foreign_inkml_units_differences_missing_values_and_pen_state(tmp_path):
    f = tmp_path / "sample.inkml"
    f.write_text(FOREIGN)
    rec = read_inkml(f, participant="P001")[0]
    assert rec.channel_names == ["pos_x", "pos_y", "pressure", "tilt_x", "pen_down"]
    # mm -> cm; first difference '1, then second difference "0 (constant velocity)
    np.testing.assert_allclose(rec.channel("pos_x"), [1.0, 1.1, 1.2, 1.3, 1.4])
    np.testing.assert_allclose(rec.channel("pos_y"), [2.0, 2.1, 2.2, 2.3, 2.4])
    np.testing.assert_allclose(rec.channel("pressure"), [512 / 1023, 600 / 1023, 688 / 1023, 0, np.nan])
    np.testing.assert_allclose(rec.channel("tilt_x"), [5, 6, 7, 10, 11])  # #A is hexadecimal 10
    np.testing.assert_array_equal(rec.channel("pen_down"), [1, 1, 1, 0, 0])
    np.testing.assert_allclose(rec.timestamps, [0, 0.005, 0.010, 0.015, 0.020])
    assert rec.sampling_rate == 200.0  # declared by <sampleRate>
    assert rec.metadata.manufacturer == "Acme" and rec.metadata.device_model == "Pad 1"
    assert rec.metadata.extra["import"]["options"]["X_units"] == "mm"


def test_export_then_import_gives_the_same_samples(tmp_path):
    fs = 240.0
    n = 500
    t = 0.25 + np.arange(n) / fs
    t[300:] += 0.8  # a pause
    ang = np.linspace(0, 4 * np.pi, n)
    pen = (np.arange(n) % 120 < 90).astype(float)
    pen[50] = np.nan
    data = np.column_stack(
        [
            5 + ang * np.cos(ang) / 3,
            5 + ang * np.sin(ang) / 3,
            np.where(pen == 1, 0.3 + 0.2 * np.sin(ang), 0.0),
            pen,
            40 + 5 * np.cos(ang),
            55 + 3 * np.sin(ang),
            np.sin(3 * ang),
        ]
    )
    data[77, 2] = np.nan
    chans = [
        PEN_CHANNELS["pos_x"],
        PEN_CHANNELS["pos_y"],
        PEN_CHANNELS["pressure"],
        PEN_CHANNELS["pen_down"],
        PEN_CHANNELS["tilt_x"],
        PEN_CHANNELS["altitude"],
        Channel("acc_z", "ACCEL", "m/s^2", "z", "pen"),
    ]
    md = Metadata("P001", task="handwriting", tracksys="tablet", manufacturer="Wacom", device_model="Intuos")
    rec = Recording(t, data, chans, fs, md)
    res = write_inkml(rec, tmp_path / "r.inkml")
    assert res.n_samples == n
    back = read_inkml(tmp_path / "r.inkml", participant="P001")[0]
    assert sorted(back.channel_names) == sorted(rec.channel_names)
    for ch in rec.channels:
        assert back.channels[back.channel_index(ch.name)] == ch
        np.testing.assert_array_equal(back.channel(ch.name), rec.channel(ch.name))
    np.testing.assert_array_equal(back.timestamps, rec.timestamps)
    assert back.sampling_rate == fs
    assert back.metadata.manufacturer == "Wacom" and back.metadata.device_model == "Intuos"
    text = (tmp_path / "r.inkml").read_text()
    assert text.count('type="penUp"') == 4 and text.count('type="indeterminate"') == 1
    assert '<channel name="OTx" type="decimal" units="deg" />' in text


def test_svc_to_inkml_to_svc_keeps_the_samples(tmp_path):
    rows = ["5"] + [
        f"{4000 + 10 * k} {7000 - 5 * k} {1000 + 8 * k} {int(k < 3)} 1200 600 {900 * k}" for k in range(5)
    ]
    (tmp_path / "a.svc").write_text("\n".join(rows) + "\n")
    rec = read_svc(tmp_path / "a.svc", participant="P001")[0]
    write_inkml(rec, tmp_path / "a.inkml")
    back = read_inkml(tmp_path / "a.inkml", participant="P001")[0]
    for name in rec.channel_names:
        np.testing.assert_array_equal(back.channel(name), rec.channel(name))
    np.testing.assert_array_equal(back.timestamps, rec.timestamps)
    assert (
        back.metadata.extra["import"]["time_origin_s"] == rec.metadata.extra["import"]["time_origin_s"] == 1.0
    )


def test_units_must_be_explicit_when_the_file_has_none(tmp_path):
    f = tmp_path / "crohme.inkml"
    f.write_text(
        '<ink xmlns="http://www.w3.org/2003/InkML"><trace>10 0, 9 14, 8 28</trace><trace>20 5, 21 9</trace></ink>'
    )
    with pytest.raises(ParameterError, match="declares no length unit"):
        read_inkml(f, participant="P001")
    with pytest.raises(ParameterError, match="no time channel T"):
        read_inkml(f, participant="P001", scale_cm_per_unit=0.01)
    rec = read_inkml(f, participant="P001", scale_cm_per_unit=0.01, sampling_rate=100.0)[0]
    np.testing.assert_allclose(rec.channel("pos_y"), [0, 0.14, 0.28, 0.05, 0.09])
    np.testing.assert_allclose(rec.timestamps, np.arange(5) / 100)
    assert [fl.code for fl in rec.quality_flags] == ["time_synthesized"]
    assert "pen_down" not in rec.channel_names


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('<?xml version="1.0"?>\n<ink>\n<trace>1 2, 3</trace\n</ink>', "x.inkml:4: not well-formed XML"),
        ("<svg></svg>", "not InkML (root element <svg>"),
        ('<ink xmlns="http://www.w3.org/2003/InkML"></ink>', "no <trace> element"),
        (
            (
                '<ink><traceFormat><channel name="X" units="cm"/><channel name="Y" units="cm"/>'
                '<channel name="T" units="s"/></traceFormat><trace>1 2 0, 3 4</trace></ink>'
            ),
            "x.inkml: trace 1, point 2: 2 values but the trace format has 3 regular channels",
        ),
        (
            (
                '<?xml version="1.0"?><!DOCTYPE ink [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                "<ink><trace>&b;</trace></ink>"
            ),
            "refused: EntitiesForbidden",
        ),
    ],
)
def test_bad_inkml_gives_one_line(tmp_path, content, needle):
    f = tmp_path / "x.inkml"
    f.write_text(content)
    with pytest.raises(RecordingError) as err:
        read_inkml(f, participant="P001", sampling_rate=100.0)
    assert needle in str(err.value) and "\n" not in str(err.value)
