"""The therapist's pages: clients, a client, goals, the report, the visit, the task screen.

Server-rendered HTML (Jinja2, autoescaped) with plain forms: every page works
without JavaScript except the live task screen. All clinic data goes through the
public functions of :mod:`motorlab.clinic` and :mod:`motorlab.report`; the
validation is theirs (``make_client``, ``make_goal``), so the pages accept
exactly what ``motorlab client add`` and ``motorlab goals set`` accept.
"""

from __future__ import annotations

import datetime as _dt
import threading
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from ...errors import MotorlabError, one_line
from .visit import TASKS

#: largest form body accepted (bytes)
MAX_FORM_BYTES = 64 * 1024
#: the report is a self-contained file with inline CSS and data: images and no script
REPORT_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


#: the visit form's device fields: instrument -> (label, example URL)
INSTRUMENTS: dict[str, tuple[str, str]] = {
    "force": ("Force device (grip and pinch tasks)", "sim://grip"),
    "pen": ("Pen or IMU device (pen and tremor tasks)", "sim://pen"),
}

#: tasks of a visit (owned by :mod:`.visit`, which runs them)
VISIT_TASKS = TASKS

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("motorlab.ui.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_report_lock = threading.Lock()  # matplotlib's pyplot state is process-wide: one report at a time


def static_dir() -> Path:
    """Folder of the shipped CSS/JS (inside the installed package)."""
    return Path(str(resources.files("motorlab.ui.web") / "static"))


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    role = request.scope.get("state", {}).get("motorlab_role")
    ctx = {
        "role": role,
        "lan": request.app.state.motorlab.access.lan_host is not None,
        "path": request.url.path,
        **context,
    }
    return HTMLResponse(_env.get_template(name).render(ctx), status_code=status)


def error_page(
    request: Request, text: str, status: int = 400, title: str = "Something is not right"
) -> Response:
    return render(request, "error.html", status=status, title=title, text=text)


class Form:
    """Fields of a submitted form (all text; a field may repeat, e.g. checkboxes)."""

    def __init__(self, pairs: list[tuple[str, str]] | None = None) -> None:
        self.pairs = list(pairs or [])

    def get(self, key: str, default: str = "") -> str:
        for k, v in self.pairs:
            if k == key:
                return v
        return default

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self.pairs if k == key]


async def read_form(request: Request) -> Form:
    """An ``application/x-www-form-urlencoded`` body (≤ :data:`MAX_FORM_BYTES`).

    Parsed with the standard library (Starlette's own form parser needs the extra
    ``python-multipart`` package, and these forms never upload files).
    """
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise MotorlabError("the form is too large")
    return Form(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def _root(request: Request) -> Path:
    return request.app.state.motorlab.root


def _client_or_404(request: Request):
    from ...clinic import ClientRegistry

    pid = request.path_params["pid"]
    reg = ClientRegistry(_root(request))
    if not reg.exists(pid):
        return None
    return reg.get(pid)


# ---------------------------------------------------------------------- clients
async def home(request: Request) -> Response:
    return RedirectResponse("/clients", status_code=303)


def _client_rows(root: Path) -> list[dict[str, Any]]:
    from ...clinic import ClientRegistry, client_sessions

    year = _dt.date.today().year
    rows = []
    for c in ClientRegistry(root).list():
        sessions = client_sessions(root, c.participant)
        last = sessions[-1] if sessions else None
        rows.append(
            {
                "client": c,
                "age": c.age_in(year),
                "sessions": len(sessions),
                "last": (last.label, last.date.isoformat() if last.date else "date unknown")
                if last
                else None,
            }
        )
    return rows


async def clients(request: Request) -> Response:
    rows = await run_in_threadpool(_client_rows, _root(request))
    return render(request, "clients.html", rows=rows, form=Form(), error=None, root=str(_root(request)))


async def add_client(request: Request) -> Response:
    from ...clinic import ClientRegistry, make_client
    from ...clinic.pseudonyms import check_new_pseudonym

    form = await read_form(request)
    try:
        check_new_pseudonym(form.get("participant", "").strip(), _root(request))  # as `client add`
        client = make_client(
            form.get("participant", "").strip(),
            form.get("birth_year", ""),
            form.get("sex", ""),
            form.get("dominant_hand", ""),
        )
        ClientRegistry(_root(request)).add(client)
    except MotorlabError as exc:
        rows = await run_in_threadpool(_client_rows, _root(request))
        return render(
            request,
            "clients.html",
            status=400,
            rows=rows,
            form=form,
            error=one_line(exc),
            root=str(_root(request)),
        )
    return RedirectResponse(f"/clients/{client.participant}", status_code=303)


async def client_page(request: Request) -> Response:
    from ...clinic import GoalStore, client_sessions

    client = _client_or_404(request)
    if client is None:
        return error_page(
            request, f"There is no client {request.path_params['pid']!r}.", 404, "Unknown client"
        )
    root = _root(request)
    sessions = await run_in_threadpool(client_sessions, root, client.participant)
    goals = GoalStore(root, client.participant).load()
    rows = []
    for s in sessions:
        devices = sorted({f"{r.device_model} {r.device_serial}".strip() for r in s.recordings})
        rows.append(
            {
                "label": s.label,
                "date": s.date.isoformat() if s.date else "date unknown",
                "age": client.age_in(s.date.year) if s.date else None,
                "tasks": s.tasks,
                "devices": devices,
                "emulated": any(r.emulated for r in s.recordings),
                "problems": [r.error for r in s.recordings if r.error],
            }
        )
    return render(request, "client.html", client=client, sessions=rows, goals=_goal_views(goals))


# ------------------------------------------------------------------------ goals
def _goal_views(goals) -> list[dict[str, Any]]:
    from ...clinic import goal_metric

    out = []
    for g in goals:
        m = goal_metric(g.metric)
        fmt = f"{{:.{m.decimals}f}}"
        out.append(
            {
                "goal": g,
                "metric": m,
                "baseline": fmt.format(g.baseline),
                "levels": [(f"{lv.level:+d}", lv.description, fmt.format(lv.threshold)) for lv in g.levels],
            }
        )
    return out


def _goals_context(request: Request, client, form: Any, error: str | None) -> dict[str, Any]:
    from ...clinic import GOAL_METRICS, GoalStore
    from ...clinic.goals import LEVEL_NAMES, LEVELS

    goals = GoalStore(_root(request), client.participant).load()
    return {
        "client": client,
        "goals": _goal_views(goals),
        "metrics": list(GOAL_METRICS.values()),
        "levels": [(k, f"{k:+d}", LEVEL_NAMES[k]) for k in LEVELS],
        "form": form,
        "error": error,
    }


async def goals_page(request: Request) -> Response:
    client = _client_or_404(request)
    if client is None:
        return error_page(
            request, f"There is no client {request.path_params['pid']!r}.", 404, "Unknown client"
        )
    return render(request, "goals.html", **_goals_context(request, client, Form(), None))


async def set_goal(request: Request) -> Response:
    from ...clinic import GoalStore, client_sessions, make_goal

    client = _client_or_404(request)
    if client is None:
        return error_page(
            request, f"There is no client {request.path_params['pid']!r}.", 404, "Unknown client"
        )
    form = await read_form(request)
    store = GoalStore(_root(request), client.participant)
    try:
        levels: list[tuple[str, float | str]] = [
            (form.get(f"desc{k}", ""), form.get(f"thr{k}", "")) for k in (-2, -1, 0, 1, 2)
        ]
        if not form.get("baseline", "").strip():
            raise MotorlabError("give the baseline: the value measured at the start (in the metric's unit)")
        goal = make_goal(
            form.get("goal_id", "").strip() or store.next_id(),
            form.get("title", ""),
            form.get("metric", ""),
            form.get("hand", "") or "n/a",
            form.get("baseline", ""),
            levels,
            form.get("weight", "") or "1",
            form.get("target_date", ""),
            baseline_session=next(
                (s.label for s in reversed(client_sessions(_root(request), client.participant))), ""
            ),
        )
        store.put(goal)
    except MotorlabError as exc:
        return render(
            request, "goals.html", status=400, **_goals_context(request, client, form, one_line(exc))
        )
    return RedirectResponse(f"/clients/{client.participant}/goals", status_code=303)


async def remove_goal(request: Request) -> Response:
    from ...clinic import GoalStore

    client = _client_or_404(request)
    if client is None:
        return error_page(
            request, f"There is no client {request.path_params['pid']!r}.", 404, "Unknown client"
        )
    try:
        GoalStore(_root(request), client.participant).remove(request.path_params["gid"])
    except MotorlabError as exc:
        return error_page(request, one_line(exc), 404)
    return RedirectResponse(f"/clients/{client.participant}/goals", status_code=303)


# ----------------------------------------------------------------------- report
def _build_report(root: Path, pid: str, session: str | None):
    from ...report import build_report

    with _report_lock:
        return build_report(root, pid, session)


async def _report_files(request: Request):
    client = _client_or_404(request)
    if client is None:
        return None, error_page(
            request, f"There is no client {request.path_params['pid']!r}.", 404, "Unknown client"
        )
    session = request.query_params.get("session") or None
    try:
        files = await run_in_threadpool(_build_report, _root(request), client.participant, session)
    except MotorlabError as exc:
        return None, error_page(request, one_line(exc), 409, "No report yet")
    return files, None


async def report_html(request: Request) -> Response:
    files, err = await _report_files(request)
    if err is not None:
        return err
    html = files.html.read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"content-security-policy": REPORT_CSP})


async def report_pdf(request: Request) -> Response:
    files, err = await _report_files(request)
    if err is not None:
        return err
    return FileResponse(files.pdf, media_type="application/pdf", filename=files.pdf.name)


# ------------------------------------------------------------------------ visit
def check_device_url(text: str) -> tuple[str, bool]:
    """Validate a device URL without opening it: ``(url, emulated)``; MotorlabError says what is wrong."""
    from ...devices import PROTOCOLS, parse_device_url
    from ...devices.spec import simulators

    text = text.strip()
    if not text:
        raise MotorlabError("give a device URL, e.g. serial:///dev/ttyUSB0?protocol=motorlab or sim://grip")
    u = parse_device_url(text)
    if u.scheme == "sim":
        if u.target not in simulators():
            raise MotorlabError(f"{text}: unknown emulator; known: {', '.join(sorted(simulators()))}")
        return text, True
    if u.protocol is None:
        raise MotorlabError(f"{text}: add ?protocol=NAME ({', '.join(sorted(PROTOCOLS))})")
    if u.protocol not in PROTOCOLS:
        raise MotorlabError(f"{text}: unknown protocol {u.protocol!r}; known: {', '.join(sorted(PROTOCOLS))}")
    return text, False


def _emulators() -> list[str]:
    from ...devices.spec import simulators

    return [f"sim://{name}" for name in sorted(simulators())]


#: seconds the visit page's "Find connected devices" listens for BLE advertisers
BLE_SCAN_S = 3.0


async def discover_devices() -> tuple[list[dict[str, str]], list[str]]:
    """Serial ports and BLE advertisers that look like measurement devices (``motorlab devices``'
    discovery): ``(found, problems)``, each found one with its URL when the protocol is known."""
    from ...devices.discovery import discover_ble, discover_serial

    found: list[dict[str, str]] = []
    problems: list[str] = []
    candidates = []
    try:
        candidates += await run_in_threadpool(discover_serial)
    except (MotorlabError, OSError) as exc:
        problems.append(f"serial ports: {one_line(exc)}")
    try:
        candidates += await discover_ble(timeout=BLE_SCAN_S, only_known=True)
    except (MotorlabError, OSError) as exc:
        problems.append(one_line(exc))
    for c in candidates:
        url = c.url()
        found.append(
            {
                "url": url or "",
                "where": f"{c.transport} {c.address}",
                "name": c.name,
                "why": c.reason if url else f"{c.reason}; protocol unknown: try `motorlab devices --probe`",
            }
        )
    return found, problems


def _visit_context(
    request: Request,
    form: Any,
    error: str | None,
    discovered: tuple[list[dict[str, str]], list[str]] | None = None,
) -> dict[str, Any]:
    from ...clinic import ClientRegistry

    return {
        "clients": ClientRegistry(_root(request)).list(),
        "tasks": VISIT_TASKS,
        "instruments": INSTRUMENTS,
        "emulators": _emulators(),
        "form": form,
        "error": error,
        "discovered": discovered,
    }


async def visit_page(request: Request) -> Response:
    form = Form([("client", request.query_params.get("client", ""))])
    discovered = await discover_devices() if request.query_params.get("find") else None
    return render(request, "visit.html", **_visit_context(request, form, None, discovered))


async def start_visit(request: Request) -> Response:
    from ...clinic import ClientRegistry

    form = await read_form(request)
    try:
        client = ClientRegistry(_root(request)).get(form.get("client", "").strip() or "?")
        chosen = [t for t in VISIT_TASKS if t.task in form.getlist("task")]
        if not chosen:
            raise MotorlabError("pick at least one task")
        devices: dict[str, tuple[str, bool]] = {}
        for kind in dict.fromkeys(t.instrument for t in chosen):
            try:
                devices[kind] = check_device_url(form.get(f"device_{kind}", ""))
            except MotorlabError as exc:
                raise MotorlabError(f"{INSTRUMENTS[kind][0]}: {one_line(exc)}") from None
        from .visit import make_plan

        make_plan(
            _root(request),
            client.participant,
            [t.task for t in chosen],
            devices,
            form.get("trials", "3"),
            form.get("timing", "standard"),
        )
    except MotorlabError as exc:
        return render(request, "visit.html", status=400, **_visit_context(request, form, one_line(exc)))
    rows = [(t, *devices[t.instrument]) for t in chosen]
    return render(request, "visit_ready.html", client=client, rows=rows, form=form)


# ------------------------------------------------------------------ task screen
async def task_screen(request: Request) -> Response:
    return render(request, "task.html")
