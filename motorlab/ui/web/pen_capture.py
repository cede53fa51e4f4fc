"""The browser as a digitiser: the pen page, its WebSocket and the screen calibration page.

Routes (registered by :func:`routes`; the app's security middleware guards them all: run
token or paired device, Host and Origin checks):

* ``GET /pen?participant=P001&task=spiral&variant=dynamic&age=8&lang=en&hand=right&session=01``
  — the writing surface (``static/pen.js``); ``age`` and ``hand`` default to the client's
  record (birth year, dominant hand) when the client is registered. Served from 127.0.0.1, the page is a secure
  context, so ``getCoalescedEvents()`` gives every pen sample between frames.
* ``WS /ws/pen`` — the page's channel: ``hello`` (screen and surface size) -> ``task``
  (template in CSS px, calibration); ``start`` -> ``started``; ``samples`` batches ->
  ``ack``; ``stop`` (with the number of samples sent) -> ``saved`` (samples stored, lost,
  quality flags). Each batch is written to disk before it is acknowledged.
* ``GET /pen/calibrate``, ``POST /pen/calibrate`` — fit a bank card (ID-1, 85.60 x 53.98 mm)
  or enter a measured line; stored per screen in the calibration store.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ...analysis.template_deviation import template_of
from ...clinic.clients import Client, ClientRegistry
from ...clinic.pen_history import compare_with_history
from ...devices.calibration import CalibrationStore
from ...devices.codecs.browser_pen import WIRE_FIELDS
from ...devices.screen_calibration import (
    ID1_HEIGHT_MM,
    ID1_WIDTH_MM,
    ScreenInfo,
    card_mm_per_px,
    latest_screen_calibration,
    line_mm_per_px,
    save_screen_calibration,
    screen_calibration,
)
from ...errors import MotorlabError, one_line
from ...recording import validate_label, validate_pseudonym
from ...report.ink import ink_png
from ...session.pen_capture import PenCapture, SurfaceInfo
from ...session.protocols_pen import LANGUAGES, TASKS, PenTask, pen_task
from ...storage.bids import read_header, read_recording
from . import pages

#: largest number of samples in one batch the page may send
MAX_BATCH_SAMPLES = 200


def _num(value: Any, what: str, lo: float = 0.0, hi: float = 1e6) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise MotorlabError(f"{what}: not a number ({value!r})") from None
    if not (math.isfinite(x) and lo < x <= hi):
        raise MotorlabError(f"{what}: {x:g} is outside {lo:g}-{hi:g}")
    return x


def _screen(d: Any) -> ScreenInfo:
    if not isinstance(d, dict):
        raise MotorlabError("screen: missing")
    return ScreenInfo(
        int(_num(d.get("width_px"), "screen width")),
        int(_num(d.get("height_px"), "screen height")),
        _num(d.get("device_pixel_ratio"), "device pixel ratio", 0.0, 16.0),
    )


def _task_px(task: PenTask, surface: SurfaceInfo) -> dict[str, Any]:
    """The template in CSS px of the surface (y down), for drawing."""
    k, h = 1.0 / surface.mm_per_px, surface.height_px

    def pt(p: list[float]) -> list[float]:
        return [round(p[0] * k, 2), round(h - p[1] * k, 2)]

    tpl = task.template
    return {
        "polylines": [[pt(p) for p in line] for line in tpl.get("polylines", [])],
        "dots": [pt(p) for p in tpl.get("dots", [])],
        "guides": [
            {"y": round(h - g["y_mm"] * k, 2), "x0": g["x0_mm"] * k, "x1": g["x1_mm"] * k, "role": g["role"]}
            for g in tpl.get("guides", [])
        ],
    }


class PenSocket:
    """One page's connection: its task, surface and the recording in progress."""

    def __init__(self, websocket: WebSocket, store: CalibrationStore | None = None):
        self.ws = websocket
        self.store = store
        self.task: PenTask | None = None
        self.surface: SurfaceInfo | None = None
        self.screen: ScreenInfo | None = None
        self.capture: PenCapture | None = None
        self.last: tuple[str, str, Path] | None = None

    async def send(self, **msg: Any) -> None:
        await self.ws.send_text(json.dumps(msg, allow_nan=False, default=str))

    def hello(self, msg: dict[str, Any]) -> dict[str, Any]:
        if self.capture is not None:
            raise MotorlabError("a recording is running on this page; stop it before changing the task")
        self.screen = _screen(msg.get("screen"))
        surf = msg.get("surface") or {}
        w = _num(surf.get("width_px"), "surface width")
        h = _num(surf.get("height_px"), "surface height")
        cal = latest_screen_calibration(self.screen, self.store)
        if cal is not None:
            self.surface = SurfaceInfo(w, h, cal.gain["pos_x"], cal.id, str(cal.extra.get("method", "")))
        else:
            self.surface = SurfaceInfo(w, h)
        kind = str(msg.get("task", "sentence"))
        age = msg.get("age")
        age_y = _num(age, "age", 0.0, 120.0) if age not in (None, "") else None
        self.task = pen_task(
            kind,
            self.surface.size_mm,
            age_y=age_y,
            language=str(msg.get("lang") or "en"),
            variant=str(msg.get("variant") or "static"),
        )
        return {
            "type": "task",
            "task": self.task.to_dict(),
            "template_px": _task_px(self.task, self.surface),
            "calibrated": self.surface.calibrated,
            "mm_per_px": self.surface.mm_per_px,
            "calibration_id": self.surface.calibration_id,
            "wire_fields": list(WIRE_FIELDS),
            "max_batch": MAX_BATCH_SAMPLES,
        }

    def start(self, msg: dict[str, Any], root: Any) -> dict[str, Any]:
        if self.task is None or self.surface is None or self.screen is None:
            raise MotorlabError("start before hello")
        if self.capture is not None:
            raise MotorlabError("a recording is already running on this page")
        if list(msg.get("wire_fields") or []) != list(WIRE_FIELDS):
            raise MotorlabError("the page sends another sample layout; reload the page")
        participant = validate_pseudonym(str(msg.get("participant", "")))
        session = validate_label(str(msg.get("session") or "01"), "session")
        hand = str(msg.get("hand") or "n/a")
        if hand not in ("right", "left", "n/a"):
            raise MotorlabError(f"hand {hand!r}: use right, left or n/a")
        age = msg.get("age")
        info = {"age": float(age)} if isinstance(age, (int, float)) and not isinstance(age, bool) else {}
        self.capture = PenCapture(
            root,
            participant,
            session,
            self.task,
            self.surface,
            self.screen,
            t0_ms=_num(msg.get("t0_ms"), "t0_ms", -1e15, 1e15),
            time_origin_ms=float(msg.get("time_origin_ms") or float("nan")),
            hand=hand,
            user_agent=str(msg.get("user_agent", "")),
            coalesced_events=msg.get("coalesced_events") is not False,
            participant_info=info,
        )
        return {"type": "started", "file": self.capture.path.name}

    def stop(self, msg: dict[str, Any]) -> dict[str, Any]:
        if self.capture is None:
            raise MotorlabError("no recording is running")
        n_sent = msg.get("n_sent")
        result = self.capture.close(int(n_sent) if isinstance(n_sent, int) else None)
        name = self.capture.path.name
        self.last = (self.capture.participant, self.capture.task.task, self.capture.path)
        self.capture = None
        return {
            "type": "saved",
            "file": name,
            "n_samples": result["n_samples"],
            "lost": result["lost"],
            "flags": [f["code"] for f in result["flags"]],
            "rate_hz": result["timing"].get("rate_in_range_hz"),
        }

    async def serve(self, root: Any) -> None:
        await self.ws.accept()
        try:
            while True:
                text = await self.ws.receive_text()
                try:
                    msg = json.loads(text)
                    if not isinstance(msg, dict):
                        raise MotorlabError("a message must be a JSON object")
                    kind = msg.get("type")
                    if kind == "samples":
                        if self.capture is None:
                            raise MotorlabError("samples before start")
                        rows = msg.get("samples")
                        if isinstance(rows, list) and len(rows) > MAX_BATCH_SAMPLES:
                            raise MotorlabError(f"a batch holds at most {MAX_BATCH_SAMPLES} samples")
                        self.capture.feed(msg)
                        await self.send(type="ack", seq=msg.get("seq"), stored=self.capture.n_samples)
                    elif kind == "hello":
                        await self.send(**self.hello(msg))
                    elif kind == "start":
                        await self.send(**self.start(msg, root))
                    elif kind == "mark" and self.capture is not None:
                        t = _num(msg.get("t_ms"), "t_ms", -1e15, 1e15)
                        self.capture.mark(
                            (t - self.capture.t0_ms) / 1000.0, str(msg.get("what", "mark"))[:40]
                        )
                    elif kind == "stop":
                        await self.send(**self.stop(msg))
                        if self.last is not None:
                            await self.send(**await run_in_threadpool(summary, root, *self.last))
                    else:
                        raise MotorlabError(f"unknown message type {kind!r}")
                except (MotorlabError, ValueError) as exc:
                    await self.send(type="error", text=one_line(exc))
                except OSError as exc:  # the disk is full or gone: stop, keep what is on disk
                    await self.send(type="error", text=self._write_failed(exc))
        except WebSocketDisconnect:
            pass
        finally:
            if self.capture is not None:  # the page went away mid-recording: keep what arrived
                try:
                    self.capture.close(None)
                except OSError:
                    pass  # already reported to the page; the samples before it are on disk
                self.capture = None

    def _write_failed(self, exc: OSError) -> str:
        """End the recording after a write error; the one-line message for the page."""
        cap, self.capture = self.capture, None
        where = cap.path if cap is not None else exc.filename or "recording"
        if cap is not None:
            try:
                cap.close(None)
            except OSError:
                pass
        return (
            f"{where}: writing stopped ({exc.strerror or exc}); the samples before it are on disk "
            "(motorlab recover finalises the file)"
        )


#: features shown to the therapist after a pen task, with their units
SUMMARY_FEATURES: tuple[tuple[str, str, str], ...] = (
    ("n_strokes", "Strokes", ""),
    ("speed_mm_s", "Writing speed", "mm/s"),
    ("letter_height_mm", "Letter height", "mm"),
    ("letter_height_cv_pct", "Letter height variability", "%"),
    ("niv_per_stroke", "Velocity peaks per stroke (NIV)", ""),
    ("in_air_ratio", "In-air / on-surface time", ""),
    ("n_writing_stops", "Writing stops", ""),
    ("pressure_mean", "Pressure (0-1)", ""),
    ("altitude_mean_deg", "Pen altitude", "deg"),
    ("tremor_band_power_mm2_s2", "Tremor-band power", "mm²/s²"),
)


def summary(root: Path, participant: str, task: str, path: Path) -> dict[str, Any]:
    """Key features of the recording just saved, beside the child's earlier recordings of the task."""
    try:
        _, changes, n_earlier = compare_with_history(root, participant, task, path)
    except MotorlabError as exc:
        return {"type": "summary", "error": one_line(exc), "rows": [], "n_earlier": 0}
    by_name = {c.name: c for c in changes}

    def num(x: float) -> float | None:
        return round(float(x), 3) if math.isfinite(x) else None

    rows = [
        {
            "name": name,
            "label": label,
            "unit": unit,
            "value": num(by_name[name].current),
            "earlier_mean": num(by_name[name].earlier_mean),
            "change": num(by_name[name].change),
        }
        for name, label, unit in SUMMARY_FEATURES
    ]
    return {"type": "summary", "rows": rows, "n_earlier": n_earlier, "ink_png": _ink_data_url(path)}


def _ink_data_url(path: Path) -> str | None:
    """The writing as drawn over its template, ink coloured by pressure, as a ``data:`` PNG URL."""
    rec = read_recording(path)
    if rec.n_samples < 2 or "pressure" not in rec.channel_names:
        return None
    pos_mm = rec.select(["pos_x", "pos_y"]) * 10.0
    with pages._report_lock:  # matplotlib's rc state is process-wide: one figure at a time
        png = ink_png(
            pos_mm,
            rec.channel("pen_down") > 0,
            rec.channel("pressure"),
            "pen pressure (0-1)",
            template_mm=template_of(read_header(path).sidecar),
            vmax=1.0,
        )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


async def pen_socket(websocket: WebSocket) -> None:
    await PenSocket(websocket).serve(websocket.app.state.motorlab.root)


async def pen_page(request: Request) -> Response:
    q = request.query_params
    try:
        participant = validate_pseudonym(q.get("participant", ""))
        session = validate_label(q.get("session") or "01", "session")
    except MotorlabError as exc:
        return pages.error_page(request, f"{one_line(exc)} (open the pen page with ?participant=ID)")
    task = q.get("task", "sentence")
    if task not in TASKS:
        return pages.error_page(request, f"pen task {task!r}: known are {', '.join(TASKS)}")
    lang = q.get("lang", "en")
    if lang not in LANGUAGES:
        return pages.error_page(request, f"language {lang!r}: known are {', '.join(LANGUAGES)}")
    age, hand = q.get("age", ""), q.get("hand", "")
    client = _client(request, participant)
    if client is not None:  # the clinic's record fills what the link leaves out
        age = age or str(client.age_in(_dt.date.today().year))
        hand = hand or client.dominant_hand
    return pages.render(
        request,
        "pen.html",
        participant=participant,
        session=session,
        task=task,
        variant=q.get("variant", "static"),
        age=age,
        lang=lang,
        hand=hand or "n/a",
    )


def _client(request: Request, participant: str) -> Client | None:
    registry = ClientRegistry(request.app.state.motorlab.root)
    try:
        return registry.get(participant) if registry.exists(participant) else None
    except MotorlabError:
        return None


async def calibrate_page(request: Request) -> Response:
    return pages.render(request, "pen_calibrate.html", card_w=ID1_WIDTH_MM, card_h=ID1_HEIGHT_MM, saved=None)


async def calibrate_submit(request: Request) -> Response:
    form = await pages.read_form(request)
    try:
        screen = ScreenInfo(
            int(_num(form.get("screen_w"), "screen width")),
            int(_num(form.get("screen_h"), "screen height")),
            _num(form.get("dpr"), "device pixel ratio", 0.0, 16.0),
        )
        if form.get("method") == "line":
            length_mm = _num(form.get("length_mm"), "line length (mm)")
            length_px = _num(form.get("length_px"), "line length (px)")
            mm = line_mm_per_px(length_mm, length_px)
            cal = screen_calibration(screen, mm, "line", [{"length_mm": length_mm, "length_px": length_px}])
        else:
            w_px = _num(form.get("box_w"), "box width")
            h_px = _num(form.get("box_h"), "box height")
            mm, dis = card_mm_per_px(w_px, h_px)
            cal = screen_calibration(
                screen, mm, "card", [{"box_w_px": w_px, "box_h_px": h_px, "width_height_disagreement": dis}]
            )
        cal = save_screen_calibration(cal)
    except MotorlabError as exc:
        return pages.error_page(request, one_line(exc))
    return RedirectResponse(f"/pen/calibrate?saved={cal.id}", status_code=303)


def routes() -> list[BaseRoute]:
    """The pen routes, for :func:`motorlab.ui.web.app.create_app`."""
    return [
        Route("/pen", pen_page),
        Route("/pen/calibrate", calibrate_page, methods=["GET"]),
        Route("/pen/calibrate", calibrate_submit, methods=["POST"]),
        WebSocketRoute("/ws/pen", pen_socket),
    ]


__all__ = ["MAX_BATCH_SAMPLES", "PenSocket", "routes"]
