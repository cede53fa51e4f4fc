"""The visit's pages: start it, follow it, stop it; after it the parent page and the CSV export.

The visit itself runs in :class:`~motorlab.ui.web.visit.VisitRun` (one at a time per
server); the task screen (``/task``) shows it live. The parent page and the export
read the same clinic data as the report (:func:`motorlab.report.collect`).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from ...errors import MotorlabError, one_line
from . import pages
from .visit import TASKS, TIMINGS, VisitRun, make_plan


def _app_state(request: Request) -> Any:
    return request.app.state.motorlab


async def start_visit(request: Request) -> Response:
    """POST /visit/start: validate the visit and start recording; the task screen follows it."""
    from ...clinic import ClientRegistry

    st = _app_state(request)
    form = await pages.read_form(request)
    current: VisitRun | None = st.visit
    if current is not None and current.active:
        return pages.error_page(
            request,
            f"A visit of {current.participant} is running: stop it on the visit page first.",
            409,
            "A visit is running",
        )
    try:
        client = ClientRegistry(pages._root(request)).get(form.get("client", "").strip() or "?")
        tasks = form.getlist("task")
        devices: dict[str, tuple[str, bool]] = {}
        for t in TASKS:
            if t.task in tasks and t.instrument not in devices:
                try:
                    devices[t.instrument] = pages.check_device_url(form.get(f"device_{t.instrument}", ""))
                except MotorlabError as exc:
                    raise MotorlabError(f"{pages.INSTRUMENTS[t.instrument][0]}: {one_line(exc)}") from None
        plan = make_plan(
            pages._root(request),
            client.participant,
            tasks,
            devices,
            form.get("trials", "3"),
            form.get("timing", "standard"),
        )
    except MotorlabError as exc:
        return pages.error_page(request, one_line(exc), 400, "The visit cannot start")
    st.visit = VisitRun(plan, st.hub, abandon_s=st.abandon_s).start()
    return RedirectResponse("/task", status_code=303)


async def visit_current(request: Request) -> Response:
    """GET /visit/current: the running (or last) visit, task by task, with its links."""
    run: VisitRun | None = _app_state(request).visit
    if run is None:
        return RedirectResponse("/visit", status_code=303)
    return pages.render(request, "visit_current.html", run=run)


async def stop_visit(request: Request) -> Response:
    """POST /visit/stop: quit the running task (trial kept as incomplete) and skip the rest."""
    run: VisitRun | None = _app_state(request).visit
    if run is not None and run.active:
        await run_in_threadpool(run.stop)
    return RedirectResponse("/visit/current", status_code=303)


async def parent_page(request: Request) -> Response:
    """GET /clients/ID/parent[?session=N]: the report's one-page summary for the family
    (:mod:`motorlab.report.parent`, written next to the report by ``build_report``)."""
    files, err = await pages._report_files(request)
    if err is not None:
        return err
    if files.parent_html is None:  # pragma: no cover - build_report always writes it
        return pages.error_page(request, "no parent page was written", 500)
    html = files.parent_html.read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"content-security-policy": pages.REPORT_CSP})


async def parent_pdf(request: Request) -> Response:
    """GET /clients/ID/parent.pdf[?session=N]: the same page as PDF, for printing."""
    files, err = await pages._report_files(request)
    if err is not None:
        return err
    if files.parent_pdf is None:  # pragma: no cover
        return pages.error_page(request, "no parent page was written", 500)
    return FileResponse(files.parent_pdf, media_type="application/pdf", filename=files.parent_pdf.name)


async def export_csv(request: Request) -> Response:
    """GET /clients/ID/export.csv: every session's headline measures, one CSV for the client's file
    (the same table as ``motorlab client export``: :mod:`motorlab.clinic.export`)."""
    from ...clinic.export import client_measures, csv_text

    client = pages._client_or_404(request)
    if client is None:
        return pages.error_page(
            request, f"There is no client {request.path_params['pid']!r}.", 404, "Unknown client"
        )
    try:
        rows = await run_in_threadpool(client_measures, pages._root(request), client.participant)
    except MotorlabError as exc:
        return pages.error_page(request, one_line(exc), 409, "No session yet")
    if not rows:
        return pages.error_page(
            request, f"{client.participant}: no session measured yet", 409, "No session yet"
        )
    name = f"motorlab_{client.participant}_measures.csv"
    return Response(
        csv_text(rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


__all__ = ["TIMINGS", "export_csv", "parent_page", "parent_pdf", "start_visit", "stop_visit", "visit_current"]
