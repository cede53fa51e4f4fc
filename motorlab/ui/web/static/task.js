// motorlab task screen: draws the live-state messages of docs/app.md and sends the
// therapist's commands back (same keys as the terminal: Space, R, X, Q).
// Plain JavaScript, no libraries, nothing from the internet. All text goes in via
// textContent (never innerHTML).
"use strict";

(() => {
  const KEYS = { " ": "space", r: "repeat", x: "invalid", q: "quit" };
  const SAID = { space: "start", repeat: "repeat the trial", invalid: "mark the trial invalid", quit: "stop" };
  const VIEW_OF = { force_max: "view-force", force_hold: "view-force", pen: "view-pen", hold: "view-hold" };
  const $ = (id) => document.getElementById(id);
  const root = $("task");

  const st = {
    ws: null,
    nextId: 1,
    retry: 0,
    curveKey: null,
    curve: [],
    inkKey: null,
    ink: [],
    inkDrawn: 0,
    trialSpan: 5,
    lastCountdown: null,
    lastStepKind: null,
    sound: false,
    audio: null,
    pendingNote: null,
    last: null,
  };

  // ------------------------------------------------------------------ helpers
  const fmt = (v, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits));
  const clamp01 = (x) => Math.max(0, Math.min(1, x));

  function niceStep(max, ticks = 5) {
    const raw = max / ticks;
    const mag = 10 ** Math.floor(Math.log10(raw));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
    return 10 * mag;
  }

  function fitCanvas(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    const changed = canvas.width !== w || canvas.height !== h;
    if (changed) {
      canvas.width = w;
      canvas.height = h;
    }
    return { ctx: canvas.getContext("2d"), w, h, dpr, changed };
  }

  function beep(freq, ms) {
    if (!st.sound || !st.audio) return;
    const osc = st.audio.createOscillator();
    const gain = st.audio.createGain();
    osc.frequency.value = freq;
    gain.gain.value = 0.15;
    osc.connect(gain).connect(st.audio.destination);
    osc.start();
    osc.stop(st.audio.currentTime + ms / 1000);
  }

  // ---------------------------------------------------------------- connection
  function setConn(ok, text) {
    const c = $("conn");
    c.textContent = text;
    c.classList.toggle("down", !ok);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/live`);
    st.ws = ws;
    ws.onopen = () => {
      st.retry = 0;
      setConn(true, "Connected");
      renderAlerts();
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      handle(msg);
    };
    ws.onclose = () => {
      setConn(false, "Not connected");
      st.ws = null;
      renderAlerts();
      const delay = Math.min(5000, 500 * 2 ** st.retry++);
      setTimeout(connect, delay);
    };
  }

  function send(obj) {
    if (!st.ws || st.ws.readyState !== WebSocket.OPEN) {
      $("ack").textContent = "Not connected to motorlab – the command was not sent.";
      return null;
    }
    const id = st.nextId++;
    st.ws.send(JSON.stringify({ ...obj, id }));
    return id;
  }

  function command(name) {
    const id = send({ type: "command", command: name });
    if (id !== null) $("ack").textContent = `Asked to ${SAID[name]}…`;
  }

  // ------------------------------------------------------------------ messages
  function handle(msg) {
    if (msg.type === "idle") {
      st.last = null;
      root.dataset.state = "idle";
      $("idle").textContent = msg.text;
      $("idle").hidden = false;
      renderLinks(msg.links || []);
      for (const id of Object.values(VIEW_OF)) $(id).hidden = true;
      $("countdown").hidden = true;
      $("task-title").textContent = "Task screen";
      $("trial-info").textContent = "";
      $("step-text").textContent = "";
      $("emulated").hidden = true;
      renderAlerts();
    } else if (msg.type === "live") {
      render(msg);
    } else if (msg.type === "ack") {
      if (msg.note && msg.accepted) {
        $("note").value = "";
        $("ack").textContent = "Note saved.";
      } else if (msg.command) {
        $("ack").textContent = msg.accepted ? `Sent: ${SAID[msg.command]}.` : msg.text || "Not accepted.";
      } else {
        $("ack").textContent = msg.accepted ? "Done." : msg.text || "Not accepted.";
      }
      root.dataset.lastAck = `${msg.id}:${msg.accepted ? "ok" : "no"}`;
    } else if (msg.type === "error") {
      $("ack").textContent = `Refused: ${msg.text}`;
    }
  }

  function renderLinks(links) {
    const box = $("idle-links");
    // only this app's own pages (the server sends paths such as /clients/P001/report)
    const ok = links.filter((l) => typeof l.href === "string" && l.href.startsWith("/") && !l.href.startsWith("//"));
    box.replaceChildren(
      ...ok.map((l, i) => {
        const a = document.createElement("a");
        a.href = l.href;
        a.textContent = l.text;
        a.className = i ? "button secondary" : "button";
        return a;
      })
    );
    box.hidden = ok.length === 0;
  }

  function render(msg) {
    st.last = msg;
    root.dataset.state = "live";
    root.dataset.seq = String(msg.seq);
    root.dataset.view = msg.task.view;
    root.dataset.step = msg.step.kind;
    if (msg.device.latest_t_s !== null && msg.device.latest_t_s !== undefined) root.dataset.latestT = String(msg.device.latest_t_s);
    $("idle").hidden = true;
    $("idle-links").hidden = true;
    const t = msg.task;
    $("task-title").textContent = t.title;
    const hand = t.hand && t.hand !== "n/a" ? ` · ${t.hand} hand` : "";
    $("trial-info").textContent = t.trial > 0 ? `Trial ${t.trial} of ${t.n_trials}${hand}` : hand.slice(3);
    $("emulated").hidden = !msg.device.emulated;
    for (const id of new Set(Object.values(VIEW_OF))) $(id).hidden = id !== VIEW_OF[t.view];
    renderStep(msg.step);
    renderAlerts();
    if (msg.curve) takeChunk(msg.curve, "curve");
    if (msg.ink) takeChunk(msg.ink, "ink");
    if (msg.force && (t.view === "force_max" || t.view === "force_hold")) renderForce(msg.force, t.view);
    if (msg.pen && t.view === "pen") renderPen(msg.pen);
    if (msg.hold && t.view === "hold") renderHold(msg.hold);
  }

  function takeChunk(chunk, which) {
    const keyName = which === "curve" ? "curveKey" : "inkKey";
    if (chunk.trial_key !== st[keyName] || chunk.from === 0) {
      st[keyName] = chunk.trial_key;
      st[which] = [];
      if (which === "ink") st.inkDrawn = 0;
    }
    if (chunk.from === st[which].length) {
      for (const p of chunk.points) st[which].push(p);
    }
  }

  function renderStep(step) {
    $("step-text").textContent = step.text || "";
    if (step.kind === "trial" && step.duration_s > 0) st.trialSpan = step.duration_s;
    const cd = $("countdown");
    if (step.kind === "countdown" && step.countdown !== null) {
      cd.hidden = false;
      cd.textContent = String(step.countdown);
      if (st.lastCountdown !== step.countdown) beep(660, 120);
      st.lastCountdown = step.countdown;
    } else {
      cd.hidden = true;
      if (step.kind === "trial" && st.lastStepKind === "countdown") beep(990, 300);
      st.lastCountdown = null;
    }
    st.lastStepKind = step.kind;
  }

  function renderAlerts() {
    const box = $("alerts");
    const words = [];
    if (!st.ws) words.push("The connection to motorlab was lost – trying again…");
    const msg = st.last;
    if (msg) {
      const d = msg.device;
      if (d.link === "lost") words.push("The device is not connected. Check it is on and close by.");
      if (d.link === "reconnecting") words.push("Lost the device – reconnecting…");
      if (d.battery_low) {
        words.push(
          d.battery_pct !== null ? `Battery low (${Math.round(d.battery_pct)} %): charge the device soon.` : "Battery low: charge the device soon."
        );
      }
      if (d.write_error) words.push(`The recording cannot be saved: ${d.write_error}. Stop the task (Q) and check the disk.`);
      for (const a of msg.alerts) words.push(a);
    }
    const text = words.join("\n");
    if (box.dataset.text === text) return;
    box.dataset.text = text;
    box.replaceChildren(
      ...words.map((w) => {
        const p = document.createElement("p");
        p.textContent = w;
        return p;
      })
    );
  }

  // --------------------------------------------------------------------- force
  function renderForce(f, view) {
    const max = f.scale_max;
    const frac = (v) => (v === null ? 0 : clamp01(v / max));
    const bar = $("bar");
    const now = f.now;
    const fill = $("bar-fill");
    fill.style.height = `${(frac(now) * 100).toFixed(3)}%`;
    fill.classList.toggle("over", now !== null && now > max);
    bar.dataset.fraction = frac(now).toFixed(4);
    bar.setAttribute("aria-valuemax", String(max));
    bar.setAttribute("aria-valuenow", String(now === null ? 0 : Math.min(now, max)));
    bar.setAttribute("aria-valuetext", `${fmt(now)} ${f.unit}`);
    placeMark($("bar-best"), f.previous_best, frac);
    placeMark($("bar-target"), f.target, frac);
    const band = $("bar-band");
    if (f.band_lo !== null && f.band_hi !== null) {
      band.hidden = false;
      band.style.bottom = `${frac(f.band_lo) * 100}%`;
      band.style.height = `${(frac(f.band_hi) - frac(f.band_lo)) * 100}%`;
    } else {
      band.hidden = true;
    }
    renderScale(max, f.unit);
    $("force-now").textContent = fmt(now);
    $("force-unit").textContent = f.unit;
    $("force-peak").textContent = f.peak === null ? "–" : `${fmt(f.peak)} ${f.unit}`;
    $("force-best").textContent = f.previous_best === null ? "–" : `${fmt(f.previous_best)} ${f.unit}`;
    $("force-target").textContent = f.target === null ? "–" : `${fmt(f.target)} ${f.unit}`;
    const hint = $("band-hint");
    if (view === "force_hold" && f.band_lo !== null && f.band_hi !== null && now !== null) {
      hint.hidden = false;
      hint.textContent = now < f.band_lo ? "A bit harder!" : now > f.band_hi ? "A bit softer!" : "Great – hold it in the green band";
      hint.className = `band-hint ${now < f.band_lo || now > f.band_hi ? "out" : "in"}`;
    } else {
      hint.hidden = true;
    }
    drawCurve(f);
  }

  function placeMark(el, value, frac) {
    if (value === null) {
      el.hidden = true;
      return;
    }
    el.hidden = false;
    el.style.bottom = `${frac(value) * 100}%`;
  }

  function renderScale(max, unit) {
    const scale = $("bar-scale");
    const key = `${max}|${unit}`;
    if (scale.dataset.key === key) return;
    scale.dataset.key = key;
    const step = niceStep(max);
    const labels = [];
    for (let v = 0; v <= max + 1e-9; v += step) {
      const s = document.createElement("span");
      s.textContent = `${+v.toFixed(2)}`;
      s.style.bottom = `${(v / max) * 100}%`;
      labels.push(s);
    }
    const u = document.createElement("span");
    u.className = "scale-unit";
    u.textContent = unit;
    labels.push(u);
    scale.replaceChildren(...labels);
  }

  function drawCurve(f) {
    const { ctx, w, h, dpr } = fitCanvas($("curve"));
    const padL = 44 * dpr, padB = 24 * dpr, padT = 24 * dpr, padR = 8 * dpr;
    const pts = st.curve;
    const lastT = pts.length ? pts[pts.length - 1][0] : 0;
    const span = Math.max(st.trialSpan, lastT, 1);
    const X = (t) => padL + (t / span) * (w - padL - padR);
    const Y = (v) => h - padB - clamp01(v / f.scale_max) * (h - padB - padT);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, h);
    ctx.font = `${12 * dpr}px system-ui, sans-serif`;
    ctx.fillStyle = "#444";
    ctx.strokeStyle = "#ddd";
    ctx.lineWidth = 1 * dpr;
    const step = niceStep(f.scale_max);
    for (let v = 0; v <= f.scale_max + 1e-9; v += step) {
      ctx.beginPath();
      ctx.moveTo(padL, Y(v));
      ctx.lineTo(w - padR, Y(v));
      ctx.stroke();
      ctx.fillText(`${+v.toFixed(2)}`, 4 * dpr, Y(v) + 4 * dpr);
    }
    ctx.fillText(`${f.unit}`, 4 * dpr, 14 * dpr);
    ctx.fillText(`${span.toFixed(0)} s`, w - padR - 30 * dpr, h - 6 * dpr);
    if (f.band_lo !== null && f.band_hi !== null) {
      ctx.fillStyle = "rgba(46, 160, 67, 0.18)";
      ctx.fillRect(padL, Y(f.band_hi), w - padL - padR, Y(f.band_lo) - Y(f.band_hi));
    }
    const hline = (v, color, dash) => {
      if (v === null) return;
      ctx.save();
      ctx.strokeStyle = color;
      ctx.setLineDash(dash.map((d) => d * dpr));
      ctx.lineWidth = 2 * dpr;
      ctx.beginPath();
      ctx.moveTo(padL, Y(v));
      ctx.lineTo(w - padR, Y(v));
      ctx.stroke();
      ctx.restore();
    };
    hline(f.previous_best, "#1f5f8b", [8, 6]);
    hline(f.target, "#c25e00", [3, 4]);
    if (pts.length) {
      ctx.strokeStyle = "#102a43";
      ctx.lineWidth = 3 * dpr;
      ctx.lineJoin = "round";
      ctx.beginPath();
      pts.forEach(([t, v], i) => (i ? ctx.lineTo(X(t), Y(v)) : ctx.moveTo(X(t), Y(v))));
      ctx.stroke();
    }
    $("curve").dataset.points = String(pts.length);
  }

  // ----------------------------------------------------------------------- pen
  function renderPen(p) {
    const state = $("pen-state");
    state.textContent = p.down ? "Pen down" : "Pen up";
    state.className = `pen-state ${p.down ? "down" : "up"}`;
    const frac = p.force === null ? 0 : clamp01(p.force / p.force_max);
    $("tip-fill").style.width = `${frac * 100}%`;
    $("tip-meter").setAttribute("aria-valuenow", frac.toFixed(3));
    $("tip-force").textContent = p.force === null ? "not measured" : `${fmt(p.force, 2)} ${p.force_unit}`;
    $("strokes").textContent = String(p.strokes);
    $("no-position").hidden = p.has_position;
    $("ink").hidden = !p.has_position;
    if (p.has_position) drawInk(p);
  }

  function drawInk(p) {
    const canvas = $("ink");
    const { ctx, w, h, dpr, changed } = fitCanvas(canvas);
    const s = Math.min(w / p.area_w_mm, h / p.area_h_mm);
    const ox = (w - p.area_w_mm * s) / 2, oy = (h - p.area_h_mm * s) / 2;
    const key = `${st.inkKey}|${w}x${h}|${p.area_w_mm}x${p.area_h_mm}`;
    if (changed || canvas.dataset.key !== key || st.inkDrawn > st.ink.length) {
      canvas.dataset.key = key;
      st.inkDrawn = 0;
      ctx.fillStyle = "#fffdf6";
      ctx.fillRect(0, 0, w, h);
      ctx.strokeStyle = "#c9d3dd";
      ctx.lineWidth = 1 * dpr;
      ctx.strokeRect(ox, oy, p.area_w_mm * s, p.area_h_mm * s);
    }
    ctx.strokeStyle = "#0b3d91";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = 3 * dpr;
    const pts = st.ink;
    let i = st.inkDrawn;
    if (i < pts.length) {
      ctx.beginPath();
      if (i > 0 && !pts[i][3]) ctx.moveTo(ox + pts[i - 1][0] * s, oy + pts[i - 1][1] * s);
      for (; i < pts.length; i++) {
        const [x, y, , isNew] = pts[i];
        const X = ox + x * s, Y = oy + y * s;
        if (isNew || i === 0) {
          ctx.moveTo(X, Y);
          ctx.lineTo(X + 0.01, Y);
        } else ctx.lineTo(X, Y);
      }
      ctx.stroke();
      st.inkDrawn = pts.length;
    }
    canvas.dataset.points = String(pts.length);
  }

  // ---------------------------------------------------------------------- hold
  function renderHold(hd) {
    const { ctx, w, h, dpr } = fitCanvas($("hold"));
    const R = Math.min(w, h) / 2 - 10 * dpr, cx = w / 2, cy = h / 2;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, h);
    for (const [k, color] of [[1, "#fde2e1"], [2 / 3, "#fff3c4"], [1 / 3, "#d8f3dc"]]) {
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(cx, cy, R * k, 0, 2 * Math.PI);
      ctx.fill();
    }
    let dx = hd.dx / hd.scale, dy = hd.dy / hd.scale;
    const r = Math.hypot(dx, dy);
    if (r > 1) {
      dx /= r;
      dy /= r;
    }
    ctx.fillStyle = "#102a43";
    ctx.beginPath();
    ctx.arc(cx + dx * R, cy + dy * R, 14 * dpr, 0, 2 * Math.PI);
    ctx.fill();
    $("hold-rms").textContent = fmt(hd.rms, 2);
    $("hold-unit").textContent = hd.unit;
    const q = hd.rms / hd.scale;
    $("hold-words").textContent = q < 1 / 3 ? "Very steady" : q < 2 / 3 ? "A little wobbly" : "Wobbly";
    $("hold").dataset.dot = `${dx.toFixed(3)},${dy.toFixed(3)}`;
  }

  // -------------------------------------------------------------------- inputs
  document.addEventListener("keydown", (e) => {
    if (e.target.closest && e.target.closest("textarea, input, select")) return;
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
    const cmd = KEYS[e.key.length === 1 ? e.key.toLowerCase() : ""];
    if (!cmd) return;
    e.preventDefault();
    command(cmd);
  });
  document.addEventListener("keyup", (e) => {
    if (e.key === " " && e.target.tagName === "BUTTON") e.preventDefault();
  });
  for (const b of document.querySelectorAll("button[data-command]")) {
    b.addEventListener("click", () => {
      command(b.dataset.command);
      b.blur();
    });
  }
  $("sound").addEventListener("click", () => {
    st.sound = !st.sound;
    if (st.sound && !st.audio) st.audio = new AudioContext();
    $("sound").setAttribute("aria-pressed", String(st.sound));
    $("sound").textContent = `Sound cues: ${st.sound ? "on" : "off"}`;
    $("sound").blur();
    beep(880, 80);
  });
  $("note-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("note").value.trim();
    if (text) send({ type: "note", text });
  });
  window.addEventListener("resize", () => {
    if (st.last) render({ ...st.last, curve: null, ink: null });
  });

  connect();
})();
