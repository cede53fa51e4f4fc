"""InkML (W3C Recommendation, 20 Sep 2011): the open exchange format for digital ink.

A ``<traceFormat>`` declares the channels (reserved names X, Y, Z, F tip force, S tip
switch, OTx/OTy tilt, OA/OE azimuth/elevation, OR rotation, T time) with their
``units``; each ``<trace>`` holds points separated by commas, one value per channel,
optionally as first (``'``) or second (``"``) differences, ``?`` for a missing value.
A trace's ``type`` says whether the pen was down (``penDown``, the default), in the
air (``penUp``) or unknown (``indeterminate``).

Reading (untrusted files are parsed with defusedxml: no entity expansion, no DTD, no
external resources): channels map onto motorlab's pen channels, converted to cm, deg,
s and N from the declared units; a channel without units needs an explicit option
(``scale_cm_per_unit`` for X/Y/Z, ``time_unit`` for T; F without a force unit is a
normalised ``pressure`` when the channel declares ``max`` or ``pressure_full_scale`` is
given, else ``pressure_raw``). Writing (:func:`write_inkml`, with :mod:`xml.etree`): one
trace per pen-down/pen-up run, the T channel in seconds, values written exactly (shortest
round-trip decimal), and a motorlab annotation mapping each InkML channel back to its
motorlab channel, so that export -> import gives the same samples.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import numpy as np
from defusedxml import DefusedXmlException

from ...atomic import atomic_write_text
from ...errors import ParameterError, RecordingError
from ...recording import Channel, Recording
from ...signal.timestamps import QualityFlag
from ._common import IMPORT_KEY, ExportResult, assemble, make_metadata, provenance, read_bytes
from .channels import PEN_CHANNELS, channel_for, safe_name, time_factor, unit_factor

INKML_NS = "http://www.w3.org/2003/InkML"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
#: namespace of the motorlab channel map inside ``<annotationXML type="motorlab">``
MOTORLAB_NS = "urn:motorlab:inkml:1"

#: reserved InkML channel name -> motorlab channel name (F is handled by its units)
_FROM_INKML = {
    "X": "pos_x",
    "Y": "pos_y",
    "Z": "pos_z",
    "S": "pen_down",
    "OTX": "tilt_x",
    "OTY": "tilt_y",
    "OA": "azimuth",
    "OE": "altitude",
    "OR": "twist",
}
_TO_INKML = {v: k if not k.startswith("OT") else "OT" + k[2:].lower() for k, v in _FROM_INKML.items()}
_TO_INKML.update({"pressure": "F", "tip_force": "F"})
_LENGTH = {"pos_x", "pos_y", "pos_z"}
_ANGLE = {"tilt_x", "tilt_y", "azimuth", "altitude", "twist"}
#: InkML length units (besides cm, mm, m, in): himetric = 0.01 mm
_INKML_LENGTH = {"himetric": "*0.001", "dev": None, "px": None}
_TRACE_TYPES = {"pendown": 1.0, "penup": 0.0, "indeterminate": float("nan")}

_TOKEN = re.compile(
    r"""\s*(?P<diff>[!'"])?\s*(?P<val>[+-]?\s*(?:\#[0-9A-Fa-f]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|[TF?*])"""
)
_PLAIN = re.compile(r"^[\s0-9eE.,+-]*$")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@dataclass
class _Format:
    """A trace format: channel names (regular, then intermittent) and their attributes."""

    names: list[str]
    n_regular: int
    attrs: dict[str, dict[str, str]] = field(default_factory=dict)


_DEFAULT_FORMAT = _Format(["X", "Y"], 2, {"X": {}, "Y": {}})


def _parse_format(el: ET.Element) -> _Format:
    names: list[str] = []
    attrs: dict[str, dict[str, str]] = {}
    n_regular = 0
    for child in el:
        tag = _local(child.tag)
        if tag == "channel":
            names.append(child.get("name", f"ch{len(names)}"))
            attrs[names[-1]] = dict(child.attrib)
            n_regular += 1
        elif tag in ("intermittentChannels", "regularChannels"):
            for ch in child:
                if _local(ch.tag) == "channel":
                    names.append(ch.get("name", f"ch{len(names)}"))
                    attrs[names[-1]] = dict(ch.attrib)
                    if tag == "regularChannels":
                        n_regular += 1
    return _Format(names, n_regular, attrs) if names else _DEFAULT_FORMAT


class _Doc:
    """Trace formats, contexts and sample rates of one InkML document, by id."""

    def __init__(self, root: ET.Element):
        self.formats: dict[str, _Format] = {}
        self.contexts: dict[str, _Format] = {}
        self.rates: dict[str, float] = {}
        self.model = ""
        self.manufacturer = ""
        for k, el in enumerate(root.iter()):
            if _local(el.tag) == "traceFormat" and (el.get(XML_ID) or len(el)):
                self.formats[el.get(XML_ID) or f"#anonymous{k}"] = _parse_format(el)
        for el in root.iter():
            if _local(el.tag) == "context":
                self.contexts[el.get(XML_ID, "")] = self._context_format(el)
                for sr in el.iter():
                    if _local(sr.tag) == "sampleRate" and sr.get("value"):
                        try:
                            self.rates[el.get(XML_ID, "")] = float(sr.get("value", ""))
                        except ValueError:
                            pass
                    if _local(sr.tag) == "inkSource":
                        self.model = self.model or sr.get("model", "")
                        self.manufacturer = self.manufacturer or sr.get("manufacturer", "")

    def _context_format(self, ctx: ET.Element) -> _Format:
        for el in ctx.iter():
            tag = _local(el.tag)
            if tag == "traceFormat":
                ref = el.get("href", "").lstrip("#")
                return self.formats[ref] if ref in self.formats else _parse_format(el)
        ref = ctx.get("traceFormatRef", "").lstrip("#")
        if ref in self.formats:
            return self.formats[ref]
        ref = ctx.get("contextRef", "").lstrip("#")
        return self.contexts.get(ref, _DEFAULT_FORMAT)


def _iter_traces(root: ET.Element, doc: _Doc) -> Iterator[tuple[ET.Element, _Format, str]]:
    """(trace element, its format, its context id) in document order."""
    current = doc.contexts.get("", _DEFAULT_FORMAT) if "" in doc.contexts else None
    current_id = ""

    def walk(el: ET.Element, fmt: _Format | None, ctx_id: str) -> Iterator[tuple[ET.Element, _Format, str]]:
        nonlocal current, current_id
        for child in el:
            tag = _local(child.tag)
            if tag == "context" and _local(el.tag) == "ink":
                current, current_id = doc.contexts.get(child.get(XML_ID, ""), current), child.get(XML_ID, "")
            elif tag == "trace":
                ref = child.get("contextRef", "").lstrip("#")
                if ref:
                    yield child, doc.contexts.get(ref, _DEFAULT_FORMAT), ref
                else:
                    yield child, fmt or current or _only_format(doc), ctx_id or current_id
            elif tag == "traceGroup":
                ref = child.get("contextRef", "").lstrip("#")
                yield from walk(child, doc.contexts.get(ref) if ref else fmt, ref or ctx_id)
            elif tag == "traceView" or tag == "definitions":
                continue

    yield from walk(root, None, "")


def _only_format(doc: _Doc) -> _Format:
    """Without any context: the single declared trace format, else X Y."""
    formats = list(doc.formats.values()) or list(doc.contexts.values())
    return formats[0] if len(formats) == 1 else _DEFAULT_FORMAT


def _number(text: str, where: str) -> float:
    s = text.replace(" ", "")
    if s in ("T", "F"):
        return 1.0 if s == "T" else 0.0
    if "#" in s:
        neg = s.startswith("-")
        v = float(int(s.lstrip("+-").lstrip("#"), 16))
        return -v if neg else v
    try:
        return float(s)
    except ValueError:
        raise RecordingError(f"{where}: {text!r} is not a number") from None


def _parse_trace(text: str, fmt: _Format, where: str) -> np.ndarray:
    """(n, len(fmt.names)) values of one trace (NaN = missing)."""
    n_ch = len(fmt.names)
    body = text.strip()
    if not body:
        return np.zeros((0, n_ch))
    if _PLAIN.match(body) and "'" not in body:
        # fast path: explicit decimals only
        rows = [p.split() for p in body.split(",")]
        if all(len(r) == n_ch for r in rows):
            try:
                return np.array(rows, dtype=np.float64).reshape(-1, n_ch)
            except ValueError:
                pass
    out = np.full((body.count(",") + 1, n_ch), np.nan)
    mode = [0] * n_ch  # 0 explicit, 1 first difference, 2 second difference
    last = [math.nan] * n_ch
    vel = [0.0] * n_ch
    for k, point in enumerate(body.split(",")):
        tokens = []
        pos = 0
        stripped = point.rstrip()
        while pos < len(stripped):
            m = _TOKEN.match(stripped, pos)
            if not m or m.end() == pos:
                raise RecordingError(f"{where}, point {k + 1}: cannot read {stripped[pos:][:30]!r}")
            tokens.append((m.group("diff"), m.group("val")))
            pos = m.end()
        if not tokens and k == body.count(","):
            out = out[:k]
            break
        if len(tokens) < fmt.n_regular or len(tokens) > n_ch:
            raise RecordingError(
                f"{where}, point {k + 1}: {len(tokens)} values but the trace format has "
                f"{fmt.n_regular} regular channels ({' '.join(fmt.names)})"
            )
        for j, (diff, val) in enumerate(tokens):
            if diff:
                mode[j] = "!'\"".index(diff)
            if val == "?":
                last[j], vel[j] = math.nan, 0.0
                continue
            if val == "*":
                out[k, j] = last[j]
                continue
            x = _number(val, f"{where}, point {k + 1}")
            if mode[j] == 0:
                v = x
                vel[j] = v - last[j] if math.isfinite(last[j]) else 0.0
            elif mode[j] == 1:
                v, vel[j] = last[j] + x, x
            else:
                vel[j] = vel[j] + x
                v = last[j] + vel[j]
            last[j] = v
            out[k, j] = v
    return out


def _pressure_scale(attrs: Mapping[str, str], full_scale: float | None) -> tuple[float, float] | None:
    """(offset, span) normalising F to 0..1, from the option or the channel's min/max."""
    if full_scale is not None:
        return 0.0, float(full_scale)
    if attrs.get("max") is not None:
        try:
            lo, hi = float(attrs.get("min", "0")), float(attrs["max"])
        except ValueError:
            return None
        return (lo, hi - lo) if hi > lo else None
    return None


def read_inkml(
    path: str | Path,
    *,
    participant: str,
    scale_cm_per_unit: float | None = None,
    time_unit: str | None = None,
    angle_unit: str | None = None,
    pressure_full_scale: float | None = None,
    sampling_rate: float | None = None,
    session: str = "01",
    task: str = "handwriting",
    tracksys: str = "tablet",
    hand: str = "n/a",
    extra: Mapping[str, Any] | None = None,
    drop_mixed_clock: bool = True,
    split_segments: bool = False,
) -> list[Recording]:
    """Read an InkML file into a recording (all traces in document order, one time base).

    Args:
        path: the ``.inkml`` file (untrusted input is fine: parsed with defusedxml).
        participant: pseudonymous ID.
        scale_cm_per_unit: cm per X/Y/Z unit; overrides the channels' ``units`` and is
            required when X/Y declare none.
        time_unit: unit of the T channel when it declares none (``ms``, ``s``…), or to override.
        angle_unit: unit of the angle channels when they declare none (``deg``/``rad``).
        pressure_full_scale: F value that is full pressure (otherwise the channel's ``max``).
        sampling_rate: nominal rate, Hz. Without a T channel it is required and the samples
            are taken as evenly spaced (flagged ``time_synthesized``).
        Other arguments: metadata; see :func:`motorlab.storage.importers.uci.read_uci_spiral`.
    """
    path = Path(path)
    raw = read_bytes(path)
    try:
        root = SafeET.fromstring(raw)
    except DefusedXmlException as exc:
        raise RecordingError(
            f"{path}: refused: {type(exc).__name__} (entities/DTDs are not allowed)"
        ) from None
    except ET.ParseError as exc:
        line, col = getattr(exc, "position", (0, 0))
        raise RecordingError(f"{path}:{line}: not well-formed XML (column {col}: {exc.msg})") from None
    if _local(root.tag) != "ink":
        raise RecordingError(f"{path}: not InkML (root element <{_local(root.tag)}>, expected <ink>)")
    doc = _Doc(root)
    mapping = _motorlab_map(root)
    traces = list(_iter_traces(root, doc))
    if not traces:
        raise RecordingError(f"{path}: no <trace> element")
    flags: list[QualityFlag] = []
    assumptions: list[str] = []
    # the union of channels over all traces, in first-seen order
    all_names: list[str] = []
    attrs: dict[str, dict[str, str]] = {}
    for _, fmt, _ in traces:
        for nm in fmt.names:
            if nm not in all_names:
                all_names.append(nm)
                attrs[nm] = fmt.attrs.get(nm, {})
    has_time = "T" in all_names
    typed = any(tr.get("type") for tr, _, _ in traces)
    blocks: list[np.ndarray] = []
    pen: list[np.ndarray] = []
    for k, (tr, fmt, _) in enumerate(traces):
        where = f"{path}: trace {k + 1}" + (f" ({tr.get(XML_ID)})" if tr.get(XML_ID) else "")
        vals = _parse_trace(tr.text or "", fmt, where)
        full = np.full((vals.shape[0], len(all_names)), np.nan)
        for j, nm in enumerate(fmt.names):
            full[:, all_names.index(nm)] = vals[:, j]
        blocks.append(full)
        ttype = (tr.get("type") or "penDown").strip().lower()
        if ttype not in _TRACE_TYPES:
            raise RecordingError(
                f"{where}: trace type {tr.get('type')!r} (expected penDown, penUp, indeterminate)"
            )
        pen.append(np.full(vals.shape[0], _TRACE_TYPES[ttype]))
    values = np.vstack(blocks)
    pen_state = np.concatenate(pen)
    if values.shape[0] == 0:
        raise RecordingError(f"{path}: the traces hold no points")
    columns: list[np.ndarray] = []
    channels: list[Channel] = []
    options: dict[str, Any] = {}
    for j, nm in enumerate(all_names):
        if nm == "T":
            continue
        a = attrs.get(nm, {})
        col = values[:, j]
        if mapping:
            if nm not in mapping:
                raise RecordingError(f"{path}: channel {nm} missing from the motorlab channel map")
            channels.append(mapping[nm])
            columns.append(col)
            continue
        ch, col = _convert_channel(
            path, nm, a, col, scale_cm_per_unit, angle_unit, pressure_full_scale, flags
        )
        if ch.name in (c.name for c in channels):
            raise RecordingError(f"{path}: channels {nm} and another both map to {ch.name}")
        channels.append(ch)
        columns.append(col)
        options[f"{nm}_units"] = ch.units if a.get("units") is None else a.get("units")
    if typed and "pen_down" not in (c.name for c in channels):
        channels.append(PEN_CHANNELS["pen_down"])
        columns.append(pen_state)
    if scale_cm_per_unit is not None:
        options["scale_cm_per_unit"] = scale_cm_per_unit
        assumptions.append(f"X/Y/Z scale {scale_cm_per_unit:g} cm per unit given by the user")
    if mapping:
        options["channel_map"] = "motorlab annotation (values in motorlab units)"
    if has_time:
        t_unit = time_unit or attrs["T"].get("units")
        if not t_unit:
            raise ParameterError(f"{path}: the T channel declares no units; give the time unit (ms or s)")
        if time_unit and attrs["T"].get("units") and time_unit != attrs["T"].get("units"):
            assumptions.append(f"T unit {time_unit} given by the user (file says {attrs['T'].get('units')})")
        options["time_unit"] = t_unit
        t_unit_s = time_factor(t_unit, f"{path}: T channel")
        t = values[:, all_names.index("T")]
    else:
        if sampling_rate is None:
            raise ParameterError(
                f"{path}: no time channel T in the trace format; give the sampling rate to space samples evenly"
            )
        t_unit_s = 1.0
        t = np.arange(values.shape[0]) / float(sampling_rate)
        flags.append(
            QualityFlag(
                "time_synthesized",
                "warning",
                f"{path.name}: no time channel; samples spaced evenly at {sampling_rate:g} Hz "
                "(pauses between traces are lost)",
                None,
                int(values.shape[0]),
            )
        )
    if sampling_rate is None and doc.rates:
        sampling_rate = next(iter(doc.rates.values()))
    time_zero, clock_origin = None, 0.0
    zero = next(root.iter(f"{{{MOTORLAB_NS}}}timeZero"), None)
    if mapping and zero is not None:
        # a motorlab file: T is the recording's own time; the clock origin is stated apart
        time_zero = 0.0
        try:
            clock_origin = float(zero.get("value", "0"))
        except ValueError:
            clock_origin = 0.0
    info = provenance("inkml", path, raw, options, assumptions, traces=len(traces))
    md = make_metadata(
        participant,
        session=session,
        task=task,
        tracksys=tracksys,
        hand=hand,
        device_model=doc.model or "n/a",
        manufacturer=doc.manufacturer or "n/a",
        extra=extra,
    )
    return assemble(
        path,
        t,
        np.column_stack(columns) if columns else np.zeros((t.size, 0)),
        channels,
        md,
        import_info=info,
        sampling_rate=sampling_rate,
        flags=flags,
        drop_mixed_clock=drop_mixed_clock,
        split_segments=split_segments,
        time_zero_s=time_zero,
        clock_origin_s=clock_origin,
        time_unit_s=t_unit_s,
    )


def _motorlab_map(root: ET.Element) -> dict[str, Channel]:
    """InkML channel -> motorlab channel, from a file this module wrote."""
    out: dict[str, Channel] = {}
    for ann in root.iter():
        if _local(ann.tag) == "annotationXML" and ann.get("type") == "motorlab":
            for el in ann.iter(f"{{{MOTORLAB_NS}}}channel"):
                try:
                    out[el.get("inkml", "")] = Channel(
                        el.get("name", ""),
                        el.get("type", "MISC"),
                        el.get("units", "n/a"),
                        el.get("component", "n/a"),
                        el.get("tracked_point", "n/a"),
                    )
                except (RecordingError, ValueError):
                    return {}
    return out


def _convert_channel(
    path: Path,
    name: str,
    attrs: Mapping[str, str],
    col: np.ndarray,
    scale: float | None,
    angle_unit: str | None,
    full_scale: float | None,
    flags: list[QualityFlag],
) -> tuple[Channel, np.ndarray]:
    """One InkML channel in motorlab terms (channel, values in its units)."""
    units = (attrs.get("units") or "").strip()
    key = name.upper()
    what = f"{path}: channel {name}"
    if key == "F":
        if units and units.lower() in {"n", "kn", "mn", "g", "gf", "kg", "kgf", "lb", "lbf", "oz", "ozf"}:
            return PEN_CHANNELS["tip_force"], col * unit_factor(units, "N", what)
        norm = _pressure_scale(attrs, full_scale)
        if norm is None:
            flags.append(
                QualityFlag(
                    "pressure_unscaled",
                    "info",
                    f"{path.name}: channel F has neither a force unit nor a max; kept raw as pressure_raw",
                    None,
                    int(col.size),
                )
            )
            return Channel("pressure_raw", "MISC", units or "n/a", tracked_point="pentip"), col
        return PEN_CHANNELS["pressure"], (col - norm[0]) / norm[1]
    target = _FROM_INKML.get(key)
    if target in _LENGTH:
        if scale is not None:
            return PEN_CHANNELS[target], col * scale
        u = _INKML_LENGTH.get(units.lower(), units) if units else None
        if not u:
            raise ParameterError(
                f"{what} declares no length unit ({units or 'none'}); give the scale in cm per unit"
            )
        return PEN_CHANNELS[target], col * unit_factor(u, "cm", what)
    if target in _ANGLE:
        u = angle_unit or units
        if not u:
            raise ParameterError(f"{what} declares no units; give the angle unit (deg or rad)")
        return PEN_CHANNELS[target], col * unit_factor(u, "deg", what)
    if target == "pen_down":
        return PEN_CHANNELS["pen_down"], (col > 0).astype(np.float64) + np.where(
            np.isfinite(col), 0.0, np.nan
        )
    ch = channel_for(safe_name(name))
    return Channel(ch.name, ch.type, units or ch.units, ch.component, ch.tracked_point), col


# ----------------------------------------------------------------------------- writer
def _fmt(v: float) -> str:
    return repr(float(v)) if math.isfinite(v) else "?"


def write_inkml(rec: Recording, path: str | Path, *, time_origin_s: float | None = None) -> ExportResult:
    """Write a recording as InkML: channels with units, a T channel in s, one trace per pen state run.

    Known pen channels use the reserved InkML names (X, Y, Z, F, OTx, OTy, OA, OE, OR), other
    channels their own name; ``pen_down`` becomes the traces' ``type`` (penDown/penUp/
    indeterminate). Values are written exactly (shortest round-trip decimal; ``?`` for
    missing). T is the recording's time (s from its start); the clock origin ``time_origin_s``
    (default: the origin the recording was imported with, else 0) and the channel map go into
    a motorlab annotation, so that :func:`read_inkml` restores the same samples.
    """
    path = Path(path)
    if time_origin_s is None:
        time_origin_s = float((rec.metadata.extra or {}).get(IMPORT_KEY, {}).get("time_origin_s", 0.0))
    names: list[str] = []
    chans: list[Channel] = []
    used: set[str] = set()
    for ch in rec.channels:
        if ch.name == "pen_down":
            continue
        ink = _TO_INKML.get(ch.name, ch.name)
        if ink in used or ink == "T":
            ink = ch.name if ch.name not in used else f"{ch.name}_{len(used)}"
        used.add(ink)
        names.append(ink)
        chans.append(ch)
    ET.register_namespace("", INKML_NS)
    ET.register_namespace("ml", MOTORLAB_NS)
    q = f"{{{INKML_NS}}}"
    ink_el = ET.Element(f"{q}ink")
    defs = ET.SubElement(ink_el, f"{q}definitions")
    ctx = ET.SubElement(defs, f"{q}context", {XML_ID: "ctx0"})
    md = rec.metadata
    src_attrs = {XML_ID: "src0"}
    if md.manufacturer != "n/a":
        src_attrs["manufacturer"] = md.manufacturer
    if md.device_model != "n/a":
        src_attrs["model"] = md.device_model
    src = ET.SubElement(ctx, f"{q}inkSource", src_attrs)
    fmt = ET.SubElement(src, f"{q}traceFormat")
    for ink, ch in zip(names, chans):
        attrs = {"name": ink, "type": "decimal"}
        if ch.units not in ("n/a", ""):
            attrs["units"] = ch.units
        if ch.name == "pressure":
            attrs.update({"min": "0", "max": "1"})
        ET.SubElement(fmt, f"{q}channel", attrs)
    ET.SubElement(fmt, f"{q}channel", {"name": "T", "type": "decimal", "units": "s"})
    ET.SubElement(src, f"{q}sampleRate", {"uniform": "false", "value": _fmt(rec.sampling_rate)})
    ann = ET.SubElement(ink_el, f"{q}annotationXML", {"type": "motorlab"})
    for ink, ch in zip(names, chans):
        ET.SubElement(
            ann,
            f"{{{MOTORLAB_NS}}}channel",
            {
                "inkml": ink,
                "name": ch.name,
                "type": ch.type,
                "units": ch.units,
                "component": ch.component,
                "tracked_point": ch.tracked_point,
            },
        )
    ET.SubElement(ann, f"{{{MOTORLAB_NS}}}timeZero", {"value": _fmt(time_origin_s), "units": "s"})
    ET.SubElement(
        ann,
        f"{{{MOTORLAB_NS}}}recording",
        {"task": md.task, "session": md.session, "tracksys": md.tracksys},
    )
    values = np.column_stack([rec.data[:, rec.channel_index(c.name)] for c in chans] + [rec.timestamps])
    state = rec.channel("pen_down") if "pen_down" in rec.channel_names else None
    for a, b, ttype in _runs(state, rec.n_samples):
        tr = ET.SubElement(ink_el, f"{q}trace", {"contextRef": "#ctx0"})
        if ttype:
            tr.set("type", ttype)
        tr.text = ", ".join(" ".join(_fmt(v) for v in row) for row in values[a:b].tolist())
    ET.indent(ink_el, space=" ")
    text = ET.tostring(ink_el, encoding="unicode", xml_declaration=False)
    try:
        atomic_write_text(path, '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n")
    except OSError as exc:
        raise RecordingError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return ExportResult(path, rec.n_samples)


def _runs(state: np.ndarray | None, n: int) -> list[tuple[int, int, str]]:
    """[start, stop) runs of equal pen state, with the InkML trace type ('' without a state)."""
    if n == 0:
        return []
    if state is None:
        return [(0, n, "")]
    code = np.where(np.isfinite(state), (state > 0).astype(np.int8), 2)
    edges = np.flatnonzero(np.diff(code)) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [n]))
    names = {0: "penUp", 1: "penDown", 2: "indeterminate"}
    return [(int(a), int(b), names[int(code[a])]) for a, b in zip(starts, stops)]
