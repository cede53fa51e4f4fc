"""The ASGI application: routes, the live WebSocket, static files and the security middleware."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from ...errors import MotorlabError, one_line
from . import pages, pen_capture, visit_pages
from .hub import LiveHub
from .pairing import PairingCodes, qr_svg
from .security import ROLE_PAIRING, ROLE_THERAPIST, Access, SecurityMiddleware, is_loopback
from .visit import VisitRun


@dataclass
class AppState:
    """What every route needs: the clinic dataset, who may connect, the live hub, pairing."""

    root: Path
    access: Access
    hub: LiveHub
    pairing: PairingCodes = field(default_factory=PairingCodes)
    #: the running or last visit (one at a time)
    visit: VisitRun | None = None
    #: a running visit stops when no task screen has been open for this long (s; None: never)
    abandon_s: float | None = 30.0


def _state(request: Request | WebSocket) -> AppState:
    return request.app.state.motorlab


def _therapist_here(request: Request) -> bool:
    """The run token, from this machine, on the loopback address (not through the LAN address)."""
    st = _state(request)
    client = request.client.host if request.client else None
    return (
        request.scope.get("state", {}).get("motorlab_role") == ROLE_THERAPIST
        and is_loopback(client)
        and request.headers.get("host", "").split(":")[0] in ("127.0.0.1", "localhost")
        and st.access.lan_host is not None
    )


# ---------------------------------------------------------------------- pairing
async def pairing_page(request: Request) -> Response:
    if not _therapist_here(request):
        return pages.error_page(request, "Pairing is shown only on the therapist's machine with --lan.", 404)
    st = _state(request)
    current = st.pairing.current()
    if current is None:
        st.pairing.new()
        current = st.pairing.current()
    assert current is not None
    code, left = current
    return pages.render(
        request,
        "pairing.html",
        code=f"{code[:3]} {code[3:]}",
        minutes_left=max(1, round(left / 60)),
        pair_url=f"http://{st.access.lan_host}:{st.access.port}/pair",
        devices=list(st.access.devices.values()),
    )


async def pairing_new(request: Request) -> Response:
    if not _therapist_here(request):
        return pages.error_page(request, "Pairing is shown only on the therapist's machine with --lan.", 404)
    _state(request).pairing.new()
    return RedirectResponse("/pairing", status_code=303)


async def pairing_revoke(request: Request) -> Response:
    if not _therapist_here(request):
        return pages.error_page(request, "Pairing is shown only on the therapist's machine with --lan.", 404)
    form = await pages.read_form(request)
    _state(request).access.revoke(form.get("label", ""))
    return RedirectResponse("/pairing", status_code=303)


async def pairing_qr(request: Request) -> Response:
    if not _therapist_here(request):
        return pages.error_page(request, "Pairing is shown only on the therapist's machine with --lan.", 404)
    st = _state(request)
    return Response(qr_svg(f"http://{st.access.lan_host}:{st.access.port}/pair"), media_type="image/svg+xml")


async def pair_form(request: Request) -> Response:
    if _state(request).access.lan_host is None:
        return pages.error_page(request, "This server was started without --lan.", 404)
    return pages.render(request, "pair.html", error=None)


async def pair_submit(request: Request) -> Response:
    st = _state(request)
    if st.access.lan_host is None:
        return pages.error_page(request, "This server was started without --lan.", 404)
    form = await pages.read_form(request)
    ok, why = st.pairing.redeem(form.get("code", ""))
    if not ok:
        return pages.render(request, "pair.html", status=403, error=why)
    address = request.client.host if request.client else "?"
    device = st.access.add_device(f"device {len(st.access.devices) + 1} ({address})", address)
    response = RedirectResponse("/task", status_code=303)
    response.headers["set-cookie"] = st.access.cookie_header(device.token)
    return response


# ------------------------------------------------------------------------- live
async def live_socket(websocket: WebSocket) -> None:
    await _state(websocket).hub.serve(websocket)


async def motorlab_error(request: Request, exc: Exception) -> Response:
    return pages.error_page(request, one_line(exc), 400)


def create_app(root: str | Path, access: Access, hub: LiveHub | None = None) -> Starlette:
    """The motorlab web app for the clinic dataset at ``root``.

    Args:
        root: the clinic's BIDS dataset folder (clients, sessions, goals, reports).
        access: bound port, tokens and the LAN address (:class:`~motorlab.ui.web.security.Access`).
        hub: the live hub screens connect to (a new idle one if None); attach a
            :class:`~motorlab.ui.web.live.LiveSource` to it to drive the task screen.
    """
    state = AppState(Path(root), access, hub or LiveHub())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ticker = asyncio.ensure_future(state.hub.run())
        try:
            yield
        finally:
            if state.visit is not None and state.visit.active:  # shutdown mid-task: quit it safely
                await asyncio.to_thread(state.visit.stop, "the app was stopped")
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    routes = [
        Route("/", pages.home),
        Route("/clients", pages.clients, methods=["GET"]),
        Route("/clients", pages.add_client, methods=["POST"]),
        Route("/clients/{pid:str}", pages.client_page),
        Route("/clients/{pid:str}/goals", pages.goals_page, methods=["GET"]),
        Route("/clients/{pid:str}/goals", pages.set_goal, methods=["POST"]),
        Route("/clients/{pid:str}/goals/{gid:str}/remove", pages.remove_goal, methods=["POST"]),
        Route("/clients/{pid:str}/report", pages.report_html),
        Route("/clients/{pid:str}/report.pdf", pages.report_pdf),
        Route("/visit", pages.visit_page, methods=["GET"]),
        Route("/visit", pages.start_visit, methods=["POST"]),
        Route("/visit/start", visit_pages.start_visit, methods=["POST"]),
        Route("/visit/current", visit_pages.visit_current),
        Route("/visit/stop", visit_pages.stop_visit, methods=["POST"]),
        Route("/clients/{pid:str}/parent", visit_pages.parent_page),
        Route("/clients/{pid:str}/parent.pdf", visit_pages.parent_pdf),
        Route("/clients/{pid:str}/export.csv", visit_pages.export_csv),
        Route("/task", pages.task_screen),
        WebSocketRoute("/ws/live", live_socket),
        Route("/pairing", pairing_page),
        Route("/pairing/new", pairing_new, methods=["POST"]),
        Route("/pairing/revoke", pairing_revoke, methods=["POST"]),
        Route("/pairing/qr.svg", pairing_qr),
        Route("/pair", pair_form, methods=["GET"]),
        Route("/pair", pair_submit, methods=["POST"]),
        *pen_capture.routes(),
        Mount("/static", StaticFiles(directory=pages.static_dir(), html=False), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityMiddleware, access=access, pairing_open=lambda: access.lan_host is not None)
        ],
        exception_handlers={MotorlabError: motorlab_error},
        lifespan=lifespan,
    )
    app.state.motorlab = state
    return app


__all__ = ["ROLE_PAIRING", "AppState", "create_app"]
