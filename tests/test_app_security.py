"""Security of the local server: token, Host, Origin, headers, loopback binding, LAN pairing.

Every request goes to a real uvicorn server on 127.0.0.1 over a real socket, with
hand-set headers (``http.client``) or a real WebSocket client (``websockets``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
import websockets

from motorlab.clinic import ClientRegistry
from motorlab.ui.web.pairing import MAX_ATTEMPTS, PairingCodes
from motorlab.ui.web.security import SECURITY_HEADERS, Access

from .app_fixtures import AppServer

PAGES = ["/clients", "/visit", "/task", "/static/app.css", "/static/task.js"]


def test_missing_or_wrong_token_is_403_everywhere(app_server):
    for path in PAGES:
        status, headers, body = app_server.request("GET", path)
        assert status == 403, path
        assert "secret key" in body
        assert headers["content-security-policy"].startswith("default-src 'self'")
    wrong = "x" + app_server.token[1:]
    assert app_server.request("GET", f"/clients?token={wrong}")[0] == 403
    assert (
        app_server.request("GET", "/clients", headers={"Cookie": f"motorlab_{app_server.port}={wrong}"})[0]
        == 403
    )
    # a cookie for another run (another port) is not this run's
    other = {"Cookie": f"motorlab_{app_server.port + 1}={app_server.token}"}
    assert app_server.request("GET", "/clients", headers=other)[0] == 403


def test_token_in_url_becomes_a_strict_httponly_cookie_and_leaves_the_url(app_server):
    status, headers, _ = app_server.request("GET", f"/clients?token={app_server.token}&x=1")
    assert status == 303
    assert headers["location"] == "/clients?x=1"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"motorlab_{app_server.port}={app_server.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    status, headers, _ = app_server.request("GET", f"//evil.example/x?token={app_server.token}")
    assert status == 303 and headers["location"] == "/evil.example/x"  # stays on this server
    status, headers, body = app_server.request("GET", "/clients", headers={"Cookie": app_server.cookie})
    assert status == 200 and "<h1>Clients</h1>" in body
    for name, value in SECURITY_HEADERS:
        assert headers[name] == value
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "server" not in headers


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1:{other}",
        "127.0.0.1",
        "localhost.evil.example:{port}",
        "",
    ],
)
def test_foreign_host_is_refused_even_with_the_token(app_server, host):
    h = host.format(port=app_server.port, other=app_server.port + 1)
    status, _, body = app_server.request("GET", "/clients", host=h, headers={"Cookie": app_server.cookie})
    assert status == 403
    assert "does not answer to host" in body
    # and the token in the URL does not help a rebinding page either
    status, headers, _ = app_server.request("GET", f"/?token={app_server.token}", host=h)
    assert status == 403 and "set-cookie" not in headers


def test_localhost_name_is_accepted(app_server):
    status, _, _ = app_server.request(
        "GET", "/clients", host=f"localhost:{app_server.port}", headers={"Cookie": app_server.cookie}
    )
    assert status == 200


def test_state_changing_request_needs_the_servers_own_origin(app_server, clinic_root):
    body = "participant=P101&birth_year=2015&sex=F&dominant_hand=right"
    auth = {"Cookie": app_server.cookie}
    for origin in ("http://evil.example", f"http://localhost:{app_server.port}", "null", None):
        hdrs = dict(auth) if origin is None else {**auth, "Origin": origin}
        status, _, text = app_server.request("POST", "/clients", headers=hdrs, body=body)
        assert status == 403, origin
        assert "cross-site" in text
    # a browser's own form post under no-referrer: Origin null, and only with Sec-Fetch-Site same-origin
    for site in ("cross-site", "same-site", "none"):
        hdrs = {**auth, "Origin": "null", "Sec-Fetch-Site": site}
        assert app_server.request("POST", "/clients", headers=hdrs, body=body)[0] == 403
    assert ClientRegistry(clinic_root).list() == []
    hdrs = {**auth, "Origin": "null", "Sec-Fetch-Site": "same-origin"}
    status, headers, _ = app_server.request("POST", "/clients", headers=hdrs, body=body)
    assert status == 303 and headers["location"] == "/clients/P101"
    body = body.replace("P101", "P102")
    status, headers, _ = app_server.request(
        "POST", "/clients", headers={**auth, "Origin": app_server.base}, body=body
    )
    assert status == 303 and headers["location"] == "/clients/P102"
    assert [c.participant for c in ClientRegistry(clinic_root).list()] == ["P101", "P102"]


def _ws(app_server: AppServer, headers: dict[str, str]) -> str:
    """Open the live socket with these headers; the first message, or 'refused <status>'."""

    async def go() -> str:
        try:
            async with websockets.connect(
                f"ws://127.0.0.1:{app_server.port}/ws/live", additional_headers=headers, open_timeout=10
            ) as ws:
                return str(await asyncio.wait_for(ws.recv(), 10))
        except websockets.InvalidStatus as exc:
            return f"refused {exc.response.status_code}"

    return asyncio.run(go())


def test_websocket_checks_token_and_origin(app_server):
    good_origin = {"Origin": app_server.base}
    assert _ws(app_server, {**good_origin, "Cookie": app_server.cookie}).startswith('{"type":"idle"')
    assert _ws(app_server, good_origin) == "refused 403"  # no token
    assert _ws(app_server, {**good_origin, "Cookie": app_server.cookie.replace("=", "=x")}) == "refused 403"
    assert _ws(app_server, {"Origin": "http://evil.example", "Cookie": app_server.cookie}) == "refused 403"
    assert _ws(app_server, {"Cookie": app_server.cookie}) == "refused 403"  # no Origin at all
    # the token in the query also works (for non-browser screens), still with the right Origin
    hello = _ws_path(app_server, f"/ws/live?token={quote(app_server.token)}", good_origin)
    assert json.loads(hello) == {"type": "idle", "schema": 1, "text": "No task is running."}


def _ws_path(app_server: AppServer, path: str, headers: dict[str, str]) -> str:
    async def go() -> str:
        async with websockets.connect(
            f"ws://127.0.0.1:{app_server.port}{path}", additional_headers=headers
        ) as ws:
            return str(await asyncio.wait_for(ws.recv(), 10))

    return asyncio.run(go())


def test_no_directory_listing_and_no_path_escape(app_server):
    auth = {"Cookie": app_server.cookie}
    status, headers, _ = app_server.request("GET", "/static", headers=auth)
    assert (status, headers.get("location")) in ((404, None), (307, f"{app_server.base}/static/"))
    for path in ("/static/", "/static/../pages.py", "/static/%2e%2e/pages.py", "/templates/base.html"):
        status, _, body = app_server.request("GET", path, headers=auth)
        assert status == 404, path
        assert "task.js" not in body and "import" not in body
    status, headers, body = app_server.request("GET", "/static/task.js", headers=auth)
    assert status == 200 and "WebSocket" in body
    assert headers["content-type"].startswith("text/javascript")


def test_run_token_is_refused_from_another_machine():
    acc = Access(8765, lan_host="192.168.1.20")
    assert acc.role_of(acc.token, "127.0.0.1") == "therapist"
    assert acc.role_of(acc.token, "192.168.1.31") is None
    dev = acc.add_device("tablet", "192.168.1.31")
    assert acc.role_of(dev.token, "192.168.1.31") == "device"
    assert acc.revoke("tablet") and acc.role_of(dev.token, "192.168.1.31") is None
    assert acc.allowed_hosts == {"127.0.0.1:8765", "localhost:8765", "192.168.1.20:8765"}


def test_pairing_code_is_single_use_expires_and_dies_after_wrong_tries():
    now = [0.0]
    codes = PairingCodes(clock=lambda: now[0])
    assert codes.redeem("123456") == (False, codes.redeem("123456")[1])
    code = codes.new()
    assert re.fullmatch(r"\d{6}", code)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    ok, why = codes.redeem(wrong)
    assert not ok and f"{MAX_ATTEMPTS - 1} tries left" in why
    assert codes.redeem(f"{code[:3]} {code[3:]}") == (True, "")  # spaces as shown on screen are fine
    assert codes.redeem(code)[0] is False  # used up
    code = codes.new()
    for _ in range(MAX_ATTEMPTS):
        ok, why = codes.redeem(wrong if wrong != code else "000000")
    assert not ok and "no longer works" in why
    assert codes.redeem(code)[0] is False  # even the right code, after too many wrong ones
    code = codes.new()
    now[0] += 301
    assert codes.current() is None and codes.redeem(code)[0] is False


# ----------------------------------------------------------------- the command itself
def _start_cli(
    tmp_path: Path, *extra: str, browser: bool = False
) -> tuple[subprocess.Popen, str, int, list[str]]:
    env = {**os.environ, "MOTORLAB_DATA": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    if browser:  # no desktop: the command must not start a text browser in this terminal
        env = {k: v for k, v in env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "motorlab", "app", *([] if browser else ["--no-browser"]), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "Ctrl-C" in line:
            break
    text = "\n".join(lines)
    m = re.search(r"open: (http://127\.0\.0\.1:(\d+)/\?token=([\w-]+))", text)
    assert m, text
    port = int(m.group(2))
    deadline = time.monotonic() + 20  # serving (uvicorn's Ctrl-C handler installed), not just printed
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(2)
            probe.connect(("127.0.0.1", port))
            probe.sendall(f"GET /x HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            if probe.recv(12).startswith(b"HTTP/1.1"):
                break
        time.sleep(0.05)
    return proc, m.group(3), port, lines


def _listening(pid: int, port: int) -> set[str]:
    return {
        c.laddr.ip
        for c in psutil.Process(pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }


def _non_loopback_address() -> str | None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 1))
        addr = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if addr.startswith("127.") or addr == "0.0.0.0" else addr


def test_cli_listens_on_loopback_only_prints_the_link_and_stops_on_ctrl_c(tmp_path):
    proc, token, port, lines = _start_cli(tmp_path)
    try:
        assert lines[0] == f"motorlab app: clinic data in {(tmp_path / 'data').resolve()}"
        assert "only this computer can connect" in lines[2]
        assert _listening(proc.pid, port) == {"127.0.0.1"}
        other = _non_loopback_address()
        if other is not None:  # the machine has a network address: nothing answers there
            with pytest.raises(OSError), socket.create_connection((other, port), timeout=3):
                pass
        srv_conn = socket.create_connection(("127.0.0.1", port), timeout=5)
        srv_conn.sendall(f"GET /?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        assert srv_conn.recv(200).startswith(b"HTTP/1.1 303")
        srv_conn.close()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert err.strip().splitlines() == ["motorlab app: stopped"]
    assert "Traceback" not in out + err


def test_cli_lan_says_what_it_exposes_and_binds_only_that_address(tmp_path):
    proc, _, port, lines = _start_cli(tmp_path, "--lan", "127.0.0.2")
    try:
        text = "\n".join(lines)
        assert f"LAN: also listening on 127.0.0.2:{port}" in text
        assert f"http://127.0.0.2:{port}/pair" in text
        assert "can see and change client data" in text and "NOT encrypted" in text
        assert _listening(proc.pid, port) == {"127.0.0.1", "127.0.0.2"}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_cli_without_a_desktop_prints_the_link_instead_of_opening_a_browser(tmp_path):
    proc, _, _, lines = _start_cli(tmp_path, browser=True)
    try:
        assert lines[2] == "(no graphical session here: open the link above in a browser on this computer)"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and err.strip() == "motorlab app: stopped"


def test_cli_refuses_a_bad_port(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "motorlab", "app", "--no-browser", "--port", "70000"],
        capture_output=True,
        text=True,
        env={**os.environ, "MOTORLAB_DATA": str(tmp_path)},
    )
    assert res.returncode == 2
    assert res.stderr.strip() == "motorlab: --port 70000 is not a TCP port (0-65535)"


# --------------------------------------------------------------------------- pairing
@pytest.fixture
def lan_server(clinic_root):
    srv = AppServer(clinic_root, lan_host="127.0.0.2").start()
    try:
        yield srv
    finally:
        srv.stop()


def test_lan_pairing_gives_a_device_its_own_token(lan_server):
    srv = lan_server
    lan_host = f"127.0.0.2:{srv.port}"
    lan = {"connect": "127.0.0.2"}
    # a device on the network sees nothing but the pairing form
    status, _, body = srv.request("GET", "/clients", **lan)
    assert status == 403 and "pairs at /pair" in body
    status, _, body = srv.request("GET", "/pair", **lan)
    assert status == 200 and 'name="code"' in body
    # the code is shown only on the therapist's own screen (loopback address), never through the LAN address
    assert srv.request("GET", "/pairing", headers={"Cookie": srv.cookie}, **lan)[0] == 404
    status, _, page = srv.request("GET", "/pairing", headers={"Cookie": srv.cookie})
    assert status == 200
    code = re.search(r'id="pair-code"[^>]*>(\d{3}) (\d{3})<', page)
    assert code, page
    digits = code.group(1) + code.group(2)
    assert f"http://{lan_host}/pair" in page
    status, headers, svg = srv.request("GET", "/pairing/qr.svg", headers={"Cookie": srv.cookie})
    assert status == 200 and headers["content-type"] == "image/svg+xml" and "<svg" in svg
    origin = {"Origin": f"http://{lan_host}"}
    # a wrong code, a cross-site form, then the right code
    wrong = f"{(int(digits) + 1) % 10**6:06d}"
    status, _, body = srv.request("POST", "/pair", headers=origin, body=f"code={wrong}", **lan)
    assert status == 403 and "tries left" in body
    status, _, _ = srv.request(
        "POST", "/pair", headers={"Origin": "http://evil.example"}, body=f"code={digits}", **lan
    )
    assert status == 403
    status, headers, _ = srv.request("POST", "/pair", headers=origin, body=f"code={digits}", **lan)
    assert status == 303 and headers["location"] == "/task"
    m = re.match(rf"motorlab_{srv.port}=([\w-]+); Path=/; HttpOnly; SameSite=Strict", headers["set-cookie"])
    assert m and m.group(1) != srv.token
    device_cookie = {"Cookie": f"motorlab_{srv.port}={m.group(1)}"}
    status, _, body = srv.request("GET", "/clients", headers=device_cookie, **lan)
    assert status == 200 and "<h1>Clients</h1>" in body and "Pair a tablet" not in body
    # the code worked once only
    assert srv.request("POST", "/pair", headers=origin, body=f"code={digits}", **lan)[0] == 403
    # the therapist sees the device and can remove it
    status, _, page = srv.request("GET", "/pairing", headers={"Cookie": srv.cookie})
    assert "device 1 (127.0.0." in page
    label = re.search(r'name="label" value="([^"]+)"', page).group(1)
    status, _, _ = srv.request(
        "POST",
        "/pairing/revoke",
        headers={"Cookie": srv.cookie, "Origin": srv.base},
        body=f"label={quote(label)}",
    )
    assert status == 303
    assert srv.request("GET", "/clients", headers=device_cookie, **lan)[0] == 403


def test_pair_form_does_not_exist_without_lan(app_server):
    status, _, _ = app_server.request("GET", "/pair")
    assert status == 403
    status, _, _ = app_server.request("GET", "/pair", headers={"Cookie": app_server.cookie})
    assert status == 404
    assert app_server.request("GET", "/pairing", headers={"Cookie": app_server.cookie})[0] == 404


def test_the_client_form_applies_the_clinics_pseudonym_rule(app_server, clinic_root):
    hdrs = {"Cookie": app_server.cookie, "Origin": app_server.base}
    body = "participant=Emma2017&birth_year=2017&sex=F&dominant_hand=right"
    status, _, text = app_server.request("POST", "/clients", headers=hdrs, body=body)
    assert status == 400 and "looks like a name" in text
    assert ClientRegistry(clinic_root).list() == []
