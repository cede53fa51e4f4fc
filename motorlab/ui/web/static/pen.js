// motorlab pen page: the browser as a digitiser (see motorlab/ui/web/pen_capture.py).
// Every pen sample (all coalesced pointermove entries; never predicted ones) is kept in
// memory and streamed over /ws/pen in batches; the server writes each batch to disk.
"use strict";
(function () {
  const root = document.getElementById("pen");
  const ink = document.getElementById("pen-ink");
  const tpl = document.getElementById("pen-template");
  const startBtn = document.getElementById("pen-start");
  const stopBtn = document.getElementById("pen-stop");
  const conn = document.getElementById("pen-conn");
  const countEl = document.getElementById("pen-count");
  const warn = document.getElementById("pen-warn");
  const TYPES = { pen: 0, mouse: 1, touch: 2 };
  const KIND = { pointermove: 0, pointerdown: 1, pointerup: 2, pointercancel: 3, pointerover: 4, pointerout: 5 };
  const FLUSH_MS = 50;
  let ws = null, task = null, maxBatch = 200, wireFields = null;
  let recording = false, seq = 0, nSent = 0, buffer = [], all = [], rect = null, last = null;
  let blinkTimer = null, nMoveEvents = 0;
  const st = (s) => { root.dataset.state = s; };

  function sizeCanvases() {
    rect = ink.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    for (const c of [ink, tpl]) {
      c.width = Math.round(rect.width * dpr);
      c.height = Math.round(rect.height * dpr);
      c.getContext("2d").setTransform(dpr, 0, 0, dpr, 0, 0);
    }
  }

  function drawTemplate(t) {
    const g = tpl.getContext("2d");
    g.clearRect(0, 0, rect.width, rect.height);
    g.lineWidth = 2;
    g.strokeStyle = "#9ab";
    for (const line of t.polylines) {
      g.beginPath();
      line.forEach((p, i) => (i ? g.lineTo(p[0], p[1]) : g.moveTo(p[0], p[1])));
      g.stroke();
    }
    for (const gd of t.guides) {
      g.setLineDash(gd.role === "baseline" ? [] : [6, 6]);
      g.beginPath(); g.moveTo(gd.x0, gd.y); g.lineTo(gd.x1, gd.y); g.stroke();
    }
    g.setLineDash([]);
    g.fillStyle = "#c33";
    for (const d of t.dots) { g.beginPath(); g.arc(d[0], d[1], 6, 0, 2 * Math.PI); g.fill(); }
  }

  function row(e, kind, parentStamp) {
    // order = WIRE_FIELDS of motorlab/devices/codecs/browser_pen.py; a coalesced entry stamped 0
    // (an old Firefox bug, bugzilla 1753724) takes its parent event's time stamp
    const stamp = e.timeStamp || parentStamp || 0;
    const alt = typeof e.altitudeAngle === "number" ? e.altitudeAngle : null;
    const az = typeof e.azimuthAngle === "number" ? e.azimuthAngle : null;
    const type = e.pointerType in TYPES ? TYPES[e.pointerType] : 3;
    return [stamp, e.clientX - rect.left, e.clientY - rect.top, e.pressure, e.tiltX || 0, e.tiltY || 0,
      alt, az, e.twist || 0, e.tangentialPressure || 0, e.buttons, type, e.pointerId, kind];
  }

  function drawInk(r) {
    if (r[11] !== 0) return;
    const down = (r[10] & 1) === 1;
    if (down && last) {
      const g = ink.getContext("2d");
      g.strokeStyle = "#123";
      g.lineWidth = 1 + 3 * r[3];
      g.lineCap = "round";
      g.beginPath(); g.moveTo(last[1], last[2]); g.lineTo(r[1], r[2]); g.stroke();
    }
    last = down ? r : null;
  }

  function push(r) {
    buffer.push(r);
    all.push(r);
    drawInk(r);
    if (r[11] !== 0 && r[13] === 1) {  // a finger or mouse pressed on the surface
      warn.textContent = "Please use the pen: finger and mouse do not draw.";
    }
    if (buffer.length >= maxBatch) flush();
  }

  function flush() {
    if (!buffer.length || !ws || ws.readyState !== WebSocket.OPEN) return;
    while (buffer.length) {
      const part = buffer.splice(0, maxBatch);
      nSent += part.length;
      ws.send(JSON.stringify({ type: "samples", seq: seq++, samples: part }));
    }
    countEl.textContent = all.filter((r) => r[11] === 0 && r[13] <= 2).length + " pen samples";
  }

  function onPointer(e) {
    if (!recording) return;
    rect = ink.getBoundingClientRect();  // where the surface is now (the page may have moved)
    const kind = KIND[e.type];
    if (e.type === "pointermove") {
      root.dataset.moveEvents = String(++nMoveEvents);
      const list = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
      if (list.length) { for (const c of list) push(row(c, 0, e.timeStamp)); } else { push(row(e, 0)); }
    } else {
      push(row(e, kind));
    }
    if (e.pointerType === "pen" || e.pointerType === "touch") e.preventDefault();
  }

  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/pen");
    ws.onopen = () => {
      conn.textContent = "Connected";
      hello();
    };
    ws.onclose = () => { conn.textContent = "Disconnected"; st("closed"); };
    ws.onmessage = onMessage;
  }

  function hello() {
      // (re)lay the task out for the surface's current size: the server answers with the template
      sizeCanvases();
      ws.send(JSON.stringify({
        type: "hello", task: root.dataset.task, variant: root.dataset.variant, age: root.dataset.age,
        lang: root.dataset.lang,
        screen: { width_px: screen.width, height_px: screen.height, device_pixel_ratio: window.devicePixelRatio || 1 },
        surface: { width_px: rect.width, height_px: rect.height },
      }));
  }

  function onMessage(m) {
      const msg = JSON.parse(m.data);
      if (msg.type === "task") {
        task = msg.task; maxBatch = msg.max_batch; wireFields = msg.wire_fields;
        document.getElementById("pen-title").textContent = task.title;
        document.getElementById("pen-prompt").textContent = task.prompt || task.instructions;
        document.getElementById("pen-calib").hidden = msg.calibrated;
        drawTemplate(msg.template_px);
        if (blinkTimer) { clearInterval(blinkTimer); blinkTimer = null; tpl.style.visibility = "visible"; }
        if (task.blink_period_s > 0) {
          let on = true;
          blinkTimer = setInterval(() => {
            on = !on;
            tpl.style.visibility = on ? "visible" : "hidden";
            if (recording) {  // an event row: when the child could see the template
              ws.send(JSON.stringify({ type: "mark", t_ms: performance.now(), what: on ? "template_shown" : "template_hidden" }));
            }
          }, task.blink_period_s * 500);
        }
        if (!(typeof PointerEvent === "function" && typeof PointerEvent.prototype.getCoalescedEvents === "function")) {
          warn.textContent = "This page is not a secure context here: pen samples between screen frames are lost. " +
            "Open motorlab on the computer the pen is connected to (127.0.0.1).";
        }
        startBtn.disabled = false;
        st("ready");
      } else if (msg.type === "started") {
        recording = true; stopBtn.disabled = false; startBtn.disabled = true; st("recording");
      } else if (msg.type === "ack") {
        root.dataset.stored = String(msg.stored);
      } else if (msg.type === "saved") {
        if (blinkTimer) clearInterval(blinkTimer);
        root.dataset.result = JSON.stringify(msg);
        document.getElementById("pen-result").textContent =
          "Saved " + msg.n_samples + " samples" + (msg.lost ? ", " + msg.lost + " LOST" : "");
        st("saved");
      } else if (msg.type === "summary") {
        showSummary(msg);
      } else if (msg.type === "error") {
        warn.textContent = msg.text; root.dataset.error = msg.text;
      }
  }

  function showSummary(msg) {
    const table = document.getElementById("pen-summary");
    const body = table.querySelector("tbody");
    body.textContent = "";
    const fmt = (v, unit) => (v === null ? "–" : (Math.round(v * 100) / 100) + (unit ? " " + unit : ""));
    for (const r of msg.rows) {
      const tr = document.createElement("tr");
      for (const text of [r.label, fmt(r.value, r.unit), msg.n_earlier ? fmt(r.earlier_mean, r.unit) : "–",
        msg.n_earlier && r.change !== null ? (r.change > 0 ? "+" : "") + fmt(r.change, r.unit) : "–"]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    document.getElementById("pen-summary-note").textContent = msg.n_earlier
      ? "Compared with this child's " + msg.n_earlier + " earlier recording(s) of this task (no grade norms are available)."
      : "First recording of this task: later sessions will be compared with it.";
    table.hidden = false;
    const img = document.getElementById("pen-ink-png");
    if (msg.ink_png) { img.src = msg.ink_png; img.hidden = false; }
    root.dataset.summary = JSON.stringify({ ...msg, ink_png: msg.ink_png ? msg.ink_png.length : 0 });
  }

  startBtn.addEventListener("click", () => {
    ink.getContext("2d").clearRect(0, 0, rect.width, rect.height);
    const t0 = performance.now();
    ws.send(JSON.stringify({
      type: "start", participant: root.dataset.participant, session: root.dataset.session,
      hand: root.dataset.hand, age: root.dataset.age ? parseFloat(root.dataset.age) : null,
      t0_ms: t0, time_origin_ms: performance.timeOrigin, user_agent: navigator.userAgent, wire_fields: wireFields,
      coalesced_events: typeof PointerEvent === "function" && typeof PointerEvent.prototype.getCoalescedEvents === "function",
    }));
  });
  stopBtn.addEventListener("click", () => {
    recording = false;
    flush();
    stopBtn.disabled = true;
    ws.send(JSON.stringify({ type: "stop", n_sent: nSent }));
  });
  for (const t of Object.keys(KIND)) ink.addEventListener(t, onPointer, { passive: false });
  setInterval(flush, FLUSH_MS);
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    if (recording || !ws || ws.readyState !== WebSocket.OPEN || root.dataset.state === "saved") return;
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(hello, 300);  // a new size: lay the template out again
  });
  connect();
})();
