// Watch: the run folders under --runs, each ticked one followed live (its metrics.jsonl), overlaid, compared.
"use strict";

const Watch = (() => {
  const followed = new Map(); // name -> {source, epochs: [[epoch, J]], summary, status}
  let plot = null, timer = null, names = [];
  const COMPARED = ["status", "epochs", "final_loss", "final_objective", "effective_map_error", "test_loss",
                    "test_accuracy", "train_accuracy", "train_r2", "dead_units", "train_seconds"];

  async function refresh() {
    const r = await fetch("/api/runs");
    const body = await r.json();
    document.getElementById("runs-folder").textContent = body.folder ? `under ${body.folder}` : "(start baremlp view --runs DIR to list them)";
    const table = document.getElementById("runs");
    table.textContent = "";
    const head = table.insertRow();
    ["", "run", "status", "data", "hidden", "lr", "λ", "epochs", "final loss", "max|MW−R|"].forEach(h => {
      const th = document.createElement("th"); th.textContent = h; head.appendChild(th);
    });
    body.runs.forEach(run => {
      const tr = table.insertRow(), s = run.settings || {}, sum = run.summary || {};
      tr.dataset.run = run.name;
      const box = document.createElement("input");
      box.type = "checkbox"; box.checked = followed.has(run.name); box.style.width = "auto";
      box.addEventListener("change", () => box.checked ? follow(run.name) : unfollow(run.name));
      tr.insertCell().appendChild(box);
      const cells = [run.name, run.status, s.data ? s.data.split("/").pop() : s.dataset, (s.hidden || []).join(","), s.lr, s.reg,
                     `${run.epochs_done ?? 0} / ${s.epochs ?? "?"}`, Draw.fmt(sum.final_loss), Draw.fmt(sum.effective_map_error)];
      cells.forEach((c, i) => { const td = tr.insertCell(); td.textContent = c ?? "–"; if (i === 1) td.className = `st-${run.status}`; });
      if (followed.has(run.name)) followed.get(run.name).status = run.status;
    });
    if (!body.runs.length) {
      const td = table.insertRow().insertCell(); td.colSpan = 10;
      td.textContent = body.folder ? "no run folders yet: baremlp train --out DIR/NAME writes one" : "no runs folder";
    }
  }

  function follow(name) {
    const entry = { epochs: [], summary: null, status: "" };
    entry.source = new EventSource(`/api/runs/${name.split("/").map(encodeURIComponent).join("/")}/events`);
    entry.source.onmessage = e => {
      const ev = JSON.parse(e.data);
      if (ev.reset) entry.epochs = [];
      else if (ev.kind === "epoch") entry.epochs.push([ev.epoch, ev.objective]);
      if (ev.done) { entry.summary = ev.summary; entry.source.close(); }
      schedule();
    };
    followed.set(name, entry);
    schedule();
  }

  function unfollow(name) {
    const e = followed.get(name);
    if (e) e.source.close();
    followed.delete(name);
    schedule();
  }

  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  }

  function draw() {
    const el = document.getElementById("watch-chart"), keys = [...followed.keys()];
    const x = [...new Set(keys.flatMap(k => followed.get(k).epochs.map(e => e[0])))].sort((a, b) => a - b); // a long file starts late
    const data = [x, ...keys.map(k => { const m = new Map(followed.get(k).epochs); return x.map(e => m.get(e) ?? null); })];
    if (!plot || keys.join("|") !== names.join("|")) {
      if (plot) plot.destroy();
      names = keys;
      plot = new uPlot({ width: Math.max(300, el.clientWidth), height: 260, scales: { x: { time: false }, y: { distr: 3 } },
        axes: [{ label: "epoch" }, Draw.logAxis({ label: "J" })], legend: { live: false },
        series: [{ label: "epoch" }, ...keys.map((k, i) => ({ label: k, stroke: `rgb(${Draw.PALETTE[i % 10].join(",")})`, width: 1.6, spanGaps: true }))] },
        data, el);
    } else plot.setData(data);
    compare(keys);
  }

  function compare(keys) {
    const table = document.getElementById("compare");
    table.textContent = "";
    if (!keys.length) { table.insertRow().insertCell().textContent = "tick runs above to overlay their curves and compare their summaries"; return; }
    const head = table.insertRow();
    ["", ...keys].forEach(h => { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); });
    COMPARED.forEach(key => {
      const tr = table.insertRow();
      tr.insertCell().textContent = key;
      keys.forEach(k => {
        const e = followed.get(k), s = e.summary || {};
        const v = key === "status" ? (s.diverged ? "diverged" : e.summary ? "finished" : "running…") : key === "epochs" ? e.epochs.length : s[key];
        tr.insertCell().textContent = typeof v === "number" && !Number.isInteger(v) ? Draw.fmt(v, 4) : (v ?? "–");
      });
    });
  }

  function start() { refresh(); if (!timer) timer = setInterval(refresh, 2000); schedule(); }
  function stop() { clearInterval(timer); timer = null; }

  return { start, stop, refresh, followed };
})();
