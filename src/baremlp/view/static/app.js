// Play: the settings form (kept in the page's address), the controls, and one training's event stream.
"use strict";

const App = (() => {
  const $ = id => document.getElementById(id);
  const form = $("settings");
  const PAGE = Array.from(crypto.getRandomValues(new Uint8Array(12)), b => b.toString(16).padStart(2, "0")).join("");
  const FIELDS = ["dataset", "n", "noise", "standardize", "hidden", "init", "loss", "lr", "reg", "reg_epochs", "epochs",
                  "batch_size", "momentum", "schedule", "val_fraction", "engine", "seed"];
  const CHOICE = ["dataset", "engine", "init", "loss", "schedule"];
  let health = null, run = null, final = null, lossPlot = null, mapPlot = null, output = 0, lastFrame = null, lastGraph = null, drawPending = false, showTest = false;
  const edited = new Set(), said = []; // the fields the learner set (in the form or the address); the status lines shown
  const ABOUT = {
    linear: "the lab's rotation data: y = R x, R the rotation by +90°; a 2-3-2 network learns M W = R",
    folded: "the rotation with one fold, y = (−|x₂|, x₁): no linear map fits it, the ReLUs must bend",
    square: "two classes: inside or outside a square in [0, 4]²; decision regions",
    table: "the table the server was started with (--data)",
  };

  function settings() { // the form as Settings fields: numbers as numbers, hidden as a list, empty as null
    const out = {};
    for (const name of FIELDS) {
      const el = form.elements[name], raw = el.value.trim();
      if (name === "standardize") out.standardize = el.checked;
      else if (CHOICE.includes(name)) out[name] = raw;
      else if (name === "hidden") out.hidden = raw.split(/[,\s]+/).filter(Boolean).map(Number);
      else if (raw === "") { if (name === "n" || name === "reg_epochs") out[name] = null; }
      else out[name] = Number(raw);
    }
    return out;
  }

  function fill(values) {
    for (const name of FIELDS) {
      if (!(name in values)) continue;
      const v = values[name];
      if (name === "standardize") form.elements[name].checked = v === true || v === "true";
      else form.elements[name].value = v === null || v === undefined ? "" : Array.isArray(v) ? v.join(",") : v;
    }
  }

  const base = dataset => health.recipes[dataset] || health.defaults; // the data set's recipe, as the CLI's

  function fromURL() { // ?dataset=square&hidden=8,8&lr=0.1 …: the data set's recipe, then what the address changes
    const q = new URLSearchParams(location.search), values = {};
    for (const name of FIELDS) if (q.has(name)) values[name] = q.get(name);
    let unknown = null;
    if (values.dataset && !health.datasets.includes(values.dataset)) {
      unknown = `dataset '${values.dataset}' unknown: expected one of ${health.datasets.join(", ")} (the link names one this server does not offer)`;
      delete values.dataset;
    }
    Object.keys(values).forEach(name => name !== "dataset" && edited.add(name)); // the address's values are flags too
    fill({ ...base(values.dataset || "linear"), ...values });
    return unknown;
  }

  function chooseDataset() { // its recipe, as the CLI's flags go over it: only the fields left untouched change
    const dataset = form.elements.dataset.value, now = settings(), kept = {};
    edited.forEach(name => { kept[name] = now[name]; });
    fill({ ...base(dataset), ...kept, dataset });
    about();
  }

  function about() { $("dataset-about").textContent = ABOUT[form.elements.dataset.value] || ""; }

  function toURL() { // only what differs from the data set's recipe: a short link
    const q = new URLSearchParams(), s = settings(), d = base(s.dataset);
    q.set("dataset", s.dataset);
    for (const name of FIELDS) {
      const v = s[name], dv = d[name];
      if (JSON.stringify(v) !== JSON.stringify(dv) && !(v === undefined)) q.set(name, Array.isArray(v) ? v.join(",") : v ?? "");
    }
    history.replaceState(null, "", q.toString() ? `?${q}` : location.pathname);
  }

  function showError(message) {
    const el = $("error");
    el.hidden = !message;
    el.textContent = message || "";
  }

  async function post(path, body) {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json", "X-Baremlp-Page": PAGE },
                                  body: body === undefined ? "" : JSON.stringify(body) });
    const json = await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }));
    if (!r.ok) throw new Error(json.error || r.statusText);
    return json;
  }

  async function start(paused) {
    showError("");
    let created;
    try { created = await post(`/api/train${paused ? "?paused=1" : ""}`, settings()); }
    catch (e) { showError(e.message); return; }
    if (run) run.source.close();
    lastFrame = final = lastGraph = null;
    run = { id: created.id, settings: created.settings, plane: created.plane, requested: settings(), epochs: [], done: false,
            status: paused ? "paused" : "starting" };
    $("card-plane").hidden = !run.plane;
    $("plane-side").textContent = "";
    showTest = false;
    delete $("plane-side").dataset.classes;
    for (const a of ["config", "checkpoint"]) $(`dl-${a}`).classList.add("off");
    $("dl-config").href = `/api/train/${run.id}/config.json`;
    $("dl-checkpoint").href = `/api/train/${run.id}/checkpoint.safetensors`;
    $("dl-config").classList.remove("off");
    $("card-summary").hidden = true;
    notes([]);
    $("card-map").hidden = !["linear", "folded"].includes(created.settings.dataset) || !!created.settings.data;
    charts();
    const source = new EventSource(`/api/train/${run.id}/events`), mine = run;
    run.source = source;
    source.onmessage = e => { if (run === mine) handle(JSON.parse(e.data)); };
    source.onerror = () => { if (run === mine && !run.done) status("connection to the server lost"); };
    buttons();
  }

  function handle(ev) {
    if (ev.kind === "epoch") {
      run.epochs.push(ev);
      scheduleCharts();
    } else if (ev.kind === "frame") {
      run.status = ev.status;
      frame(ev);
    }
    if (ev.done) {
      final = ev;
      run.done = true;
      run.source.close();
      if (ev.frame) { // the graph drawn last stays, said to be the last: no step comes next
        if (lastGraph) ev.frame.graph = { ...lastGraph, ended: true };
        frame(ev.frame);
      }
      run.status = ev.diverged ? "diverged" : ev.error ? "failed" : ev.stopped ? "stopped" : "finished";
      const s = ev.summary;
      notes(ev.notes || []);
      if (ev.diverged || ev.error) showError(ev.diverged ? `Training diverged: ${ev.error.replace(/^training diverged: /, "")}` : `Training failed: ${ev.error}`);
      status(ev.diverged ? `diverged at step ${ev.summary.diverged_at_step} (epoch ${ev.summary.diverged_at_epoch})` : ev.error ? "failed" : `${run.status} after ${ev.epoch} epochs` +
        (s && s.final_loss !== undefined && s.final_loss !== null ? ` · final L ${Draw.fmt(s.final_loss)}` : "") +
        (s && s.effective_map_error !== undefined ? ` · max|MW−R| ${Draw.fmt(s.effective_map_error)}` : "") +
        (s && s.train_seconds ? ` · ${s.train_seconds.toFixed(1)} s` : "") +
        (ev.notes || []).map(n => ` · ${n.split(/[:,(]/)[0].trim()}`).join(""));
      if (s) { $("summary").textContent = JSON.stringify(s, null, 2); $("card-summary").hidden = false; }
      $("dl-checkpoint").classList.remove("off");
      scheduleCharts();
      buttons();
    }
  }

  function status(text) {
    $("status").textContent = text;
    if (said[said.length - 1] !== text) said.push(text);
    if (said.length > 200) said.shift();
  }

  function notes(list) { // the CLI's notes, in its words
    const ul = $("notes");
    ul.textContent = "";
    list.forEach(n => { const li = document.createElement("li"); li.textContent = n; ul.appendChild(li); });
    ul.hidden = !list.length;
  }

  function frame(f) {
    lastFrame = f;
    if (f.graph) lastGraph = f.graph;
    $("progress").value = f.progress || 0;
    const step = `epoch ${current(f)} of ${f.epochs}` + (f.position ? `, sample ${f.position} of ${f.samples}` : "");
    status(`${f.status} · ${step} · J ${Draw.fmt(f.objective)}` + (f.status === "compiling" ?
      " (torch.compile, once per server: from a few seconds up to a minute on a busy machine)" : ""));
    if (f.notes) notes(f.notes);
    $("dl-checkpoint").classList.remove("off");
    buttons(); // before the redraw is scheduled, or skipped: the buttons follow every frame
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => { drawPending = false; if (lastFrame && run) draw(lastFrame); });
  }

  // the epoch the status line names: the one in progress (its next step's), or the last one once the run is over
  const current = f => (run && run.done) || f.epoch >= f.epochs ? f.epoch : f.epoch + 1;

  function draw(f) {
    if (f.function && run.plane) planeCard(run.plane, f.function);
    Draw.reluMaps($("relu"), f.relu, run.plane);
    Draw.network($("net"), f.network);
    if (f.effective_map) mapCard(f.effective_map, f.effective_map_error);
    if (f.graph) Graph.render($("graph"), $("graph-caption"), f.graph, `epoch ${f.graph.epoch}`);
    const last = run.epochs[run.epochs.length - 1] || {};
    $("live").textContent = `live J (mean over the last steps): ${Draw.fmt(f.objective)}` +
      (last.accuracy !== undefined ? ` · accuracy ${Draw.fmt(last.accuracy, 4)} (epoch ${last.epoch}'s steps)` : "") +
      (last.test_loss !== undefined ? ` · test loss ${Draw.fmt(last.test_loss)}` : "") +
      (last.test_accuracy !== undefined ? ` · test accuracy ${Draw.fmt(last.test_accuracy, 4)}` : "");
  }

  function planeCard(plane, fn) {
    const side = $("plane-side");
    if (fn.kind === "values" && !side.querySelector("select")) {
      side.innerHTML = `<label>show output <select id="output"></select></label><div class="legend"><canvas class="legend-bar" width="1" height="100"></canvas><div class="ticks"><span id="lg-hi"></span><span>0</span><span id="lg-lo"></span></div></div><p>colour: the output v<sub>k</sub> over the plane; dots: the training targets y<sub>k</sub> on the same scale</p>`;
      fn.outputs.forEach((_, k) => side.querySelector("select").add(new Option(`v${k + 1}`, k)));
      side.querySelector("select").addEventListener("change", e => { output = +e.target.value; draw(lastFrame); });
      const bar = side.querySelector("canvas").getContext("2d");
      for (let i = 0; i < 100; i++) { const c = Draw.diverging(1 - i / 49.5); bar.fillStyle = `rgb(${c.join(",")})`; bar.fillRect(0, i, 1, 1); }
      $("plane-title").textContent = "Learned function over the input plane";
    } else if (fn.kind === "classes" && !side.dataset.classes) {
      side.dataset.classes = "1";
      side.innerHTML = `<p>decision regions: the predicted class, paler where the network is less sure; points: the training samples by class</p><ul class="classes"></ul>`;
      (plane.classes || []).forEach((name, i) => {
        const li = document.createElement("li"), c = Draw.PALETTE[i % Draw.PALETTE.length];
        li.innerHTML = `<span class="swatch" style="background: rgb(${c.join(",")})"></span>`;
        li.append(`class ${i}: ${name}`);
        side.querySelector(".classes").appendChild(li);
      });
      $("plane-title").textContent = "Decision regions over the input plane";
    }
    if (!side.querySelector(".axes")) {
      const [a, b] = plane.features || ["x₁", "x₂"], p = document.createElement("p");
      p.className = "axes";
      p.textContent = `axes: → ${a} (horizontal), ↑ ${b} (vertical)`;
      side.appendChild(p);
      if (plane.test) {
        const label = document.createElement("label");
        label.innerHTML = `<input type="checkbox" id="show-test"> show the test data (rings)`;
        label.querySelector("input").addEventListener("change", e => { showTest = e.target.checked; draw(lastFrame); });
        side.appendChild(label);
      }
    }
    const scale = Draw.plane($("plane"), plane, fn, Math.min(output, (fn.outputs || [0]).length - 1), showTest);
    if (fn.kind === "values") { $("lg-hi").textContent = Draw.fmt(scale); $("lg-lo").textContent = Draw.fmt(-scale); }
  }

  function mapCard(A, error) {
    const mw = $("mw");
    mw.textContent = "";
    const box = (m, cap, opts) => { const d = document.createElement("div"); d.className = "matbox"; d.appendChild(Draw.matrix(m, opts));
      const c = document.createElement("div"); c.className = "cap"; c.textContent = cap; d.appendChild(c); return d; };
    mw.append(box(A, "M W", { fixed: 4 }), box([[0, -1], [1, 0]], "R (rotation by +90°)", { fixed: 4 }));
    const e = document.createElement("div");
    e.className = `err${error < 1e-3 ? " ok" : ""}`;
    e.textContent = `max |M W − R| = ${Draw.fmt(error)}`;
    mw.appendChild(e);
  }

  function charts() {
    for (const p of [lossPlot, mapPlot]) if (p) p.destroy();
    const width = el => Math.max(280, $(el).clientWidth || 320);
    const val = run && run.settings.val_fraction > 0;
    lossPlot = new uPlot({ width: width("loss-chart"), height: 220, scales: { x: { time: false }, y: { distr: 3 } },
      axes: [{ label: "epoch" }, Draw.logAxis()], legend: { live: false },
      series: [{ label: "epoch" }, { label: "J", stroke: "#2f6fdf", width: 1.8 }, ...(val ? [{ label: "val L", stroke: "#e0712c", width: 1.5 }] : [])] },
      val ? [[], [], []] : [[], []], $("loss-chart"));
    mapPlot = new uPlot({ width: width("map-chart"), height: 150, scales: { x: { time: false }, y: { distr: 3 } },
      axes: [{ label: "epoch" }, Draw.logAxis()], legend: { show: false },
      series: [{ label: "epoch" }, { label: "max|MW−R|", stroke: "#1f9d55", width: 1.6 }] }, [[], []], $("map-chart"));
  }

  let chartsPending = false;
  function scheduleCharts() {
    if (chartsPending) return;
    chartsPending = true;
    requestAnimationFrame(() => {
      chartsPending = false;
      const e = run.epochs, x = e.map(r => r.epoch), pos = v => (v > 0 ? v : null);
      lossPlot.setData(lossPlot.series.length > 2 ? [x, e.map(r => pos(r.objective)), e.map(r => pos(r.val_loss))] : [x, e.map(r => pos(r.objective))]);
      mapPlot.setData([x, e.map(r => pos(r.effective_map_error))]);
    });
  }

  function buttons() {
    const live = run && !run.done, paused = live && run.status === "paused";
    const begun = live && (run.status !== "paused" || run.epochs.length > 0 || !!(lastFrame && lastFrame.position));
    $("pause").disabled = !live || paused;
    $("stop").disabled = !begun; // nothing to stop before a run has begun
    $("train").textContent = paused && run.epochs.length + (lastFrame && lastFrame.position || 0) > 0 ? "Resume" : "Train";
  }

  async function control(action) {
    try { await post(`/api/train/${run.id}/${action}`); } catch (e) { showError(e.message); }
  }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  async function init() {
    health = await (await fetch("/api/health")).json();
    const sel = form.elements.dataset;
    health.datasets.forEach(d => sel.add(new Option(d === "table" ? `table: ${(health.table.data || "").split("/").pop()}` : d, d)));
    fill(health.defaults);
    const unknown = fromURL();
    about();
    const L = health.limits;
    $("limits").textContent = `Live-page limits: ≤ ${L.n} samples, ≤ ${L.layers} hidden layers of ≤ ${L.width} units, ≤ ${L.epochs} epochs.`;
    form.addEventListener("input", e => { if (e.target.name !== "dataset") edited.add(e.target.name); toURL(); });
    form.addEventListener("change", e => { if (e.target.name !== "dataset") edited.add(e.target.name); });
    form.elements.dataset.addEventListener("change", chooseDataset);
    form.addEventListener("change", () => { toURL(); if (run && !run.done && run.status === "paused" && !run.epochs.length) start(true); });
    $("train").onclick = () => {
      const paused = run && !run.done && run.status === "paused";
      if (paused && same(run.requested, settings())) control("resume");
      else start(false);
    };
    $("pause").onclick = () => control("pause");
    $("step").onclick = async () => { if (!run || run.done) { await start(true); } control("step"); };
    $("reset").onclick = () => start(true);
    $("stop").onclick = () => control("stop");
    $("copy-link").onclick = () => { navigator.clipboard && navigator.clipboard.writeText(location.href); status("link copied: it sets up these settings"); };
    document.querySelectorAll("nav button").forEach(b => b.onclick = () => {
      document.querySelectorAll("nav button, .tab").forEach(e => e.classList.remove("on"));
      b.classList.add("on");
      $(b.dataset.tab).classList.add("on");
      b.dataset.tab === "watch" ? Watch.start() : Watch.stop();
    });
    await start(true);
    if (unknown) showError(unknown);
  }

  return { init, settings, watch: Watch, said, get run() { return run; }, get lastFrame() { return lastFrame; },
           get final() { return final; } };
})();

App.init().catch(e => { document.getElementById("error").hidden = false; document.getElementById("error").textContent = String(e); });
