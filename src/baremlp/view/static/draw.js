// Drawing what a frame holds: the function over the plane, ReLU maps, the network, matrices.
"use strict";

const Draw = (() => {
  const PALETTE = [[47, 111, 223], [224, 113, 44], [31, 157, 85], [155, 89, 182], [200, 60, 60], [23, 162, 184],
                   [140, 110, 60], [230, 180, 30], [90, 90, 90], [210, 90, 160]];

  function bytes(b64) {
    const s = atob(b64), out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  function fmt(x, digits = 3) {
    if (x === null || x === undefined) return "–";
    if (typeof x !== "number") return String(x);
    if (x === 0) return "0";
    const a = Math.abs(x);
    if (a >= 1e4 || a < 1e-3) return x.toExponential(digits - 1).replace("e+", "e");
    return x.toFixed(Math.max(0, digits - 1 - Math.floor(Math.log10(a))));
  }

  // t in [-1, 1] -> orange (negative), white (0), blue (positive)
  function diverging(t) {
    t = Math.max(-1, Math.min(1, t));
    const [r, g, b] = t >= 0 ? PALETTE[0] : PALETTE[1], a = Math.pow(Math.abs(t), 0.6); // paler only near 0
    return [255 + (r - 255) * a, 255 + (g - 255) * a, 255 + (b - 255) * a];
  }

  function toCanvas(plane, point) { // data coordinates -> [0, 1]² of the picture (x₂ up)
    const [x0, x1, y0, y1] = plane.bounds;
    return [(point[0] - x0) / (x1 - x0), 1 - (point[1] - y0) / (y1 - y0)];
  }

  function image(ctx, n, colour, w, h) { // an n×n picture of colour(cell) scaled to w×h, smoothed
    const off = document.createElement("canvas");
    off.width = off.height = n;
    const octx = off.getContext("2d"), img = octx.createImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const [r, g, b, a] = colour(i);
      img.data.set([r, g, b, a === undefined ? 255 : a], 4 * i);
    }
    octx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, w, h);
  }

  // the network over the plane: decision regions (classes) or output k (values), training points on top
  function plane(canvas, plane, fn, k, showTest = false) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height, n = plane.grid;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, h);
    let scale = 1, pointColour;
    if (fn.kind === "classes") {
      const cls = bytes(fn.class), conf = bytes(fn.confidence);
      image(ctx, n, i => { const c = PALETTE[cls[i] % PALETTE.length], a = 0.25 + 0.45 * (conf[i] / 255);
        return [255 + (c[0] - 255) * a, 255 + (c[1] - 255) * a, 255 + (c[2] - 255) * a]; }, w, h);
      pointColour = y => PALETTE[y % PALETTE.length];
    } else {
      const out = fn.outputs[k], v = bytes(out.bytes);
      if (!plane.typical) { // the 95th percentile of |target| per output: a scale that outliers do not set
        plane.typical = (plane.samples.y[0] || []).map((_, j) => {
          const a = plane.samples.y.map(t => Math.abs(t[j])).sort((p, q) => p - q);
          return a[Math.floor(0.95 * (a.length - 1))];
        });
      }
      scale = plane.typical[k] || Math.max(Math.abs(out.low), Math.abs(out.high), 1e-12); // colours saturate past it
      image(ctx, n, i => diverging((out.low + (out.high - out.low) * v[i] / 255) / scale), w, h);
      pointColour = y => diverging(y[k] / scale).map(c => c * 0.85);
    }
    const points = (set, ring) => {
      const { x, y } = set;
      for (let i = 0; i < x.length; i++) {
        const [px, py] = toCanvas(plane, x[i]), c = `rgb(${pointColour(y[i]).join(",")})`;
        ctx.beginPath();
        ctx.arc(px * w, py * h, ring ? 3.2 : 2.6, 0, 2 * Math.PI);
        ctx.fillStyle = ring ? "rgba(255,255,255,0.85)" : c;
        ctx.fill();
        ctx.lineWidth = ring ? 1.6 : 0.7;
        ctx.strokeStyle = ring ? c : "rgba(0,0,0,0.55)";
        ctx.stroke();
      }
    };
    points(plane.samples, false);
    if (showTest && plane.test) points(plane.test, true); // the test data: rings in its class's (or value's) colour
    return scale;
  }

  function reluMaps(container, relu, plane) {
    container.textContent = "";
    const n = plane ? plane.grid : 0, per = n * n / 8, compact = relu.active.flat().length > 8;
    container.classList.toggle("compact", compact);
    relu.active.forEach((active, layer) => {
      const row = document.createElement("div");
      row.className = "relu-layer";
      if (relu.active.length > 1) {
        const name = document.createElement("div");
        name.className = "relu-name";
        name.textContent = `hidden layer ${layer + 1}`;
        row.appendChild(name);
      }
      const bits = plane && relu.maps[layer] ? bytes(relu.maps[layer]) : null;
      active.forEach((fraction, unit) => {
        const cell = document.createElement("div");
        cell.className = "relu-unit";
        if (bits) {
          const c = document.createElement("canvas");
          c.width = c.height = n;
          image(c.getContext("2d"), n, i => {
            const on = (bits[unit * per + (i >> 3)] >> (7 - (i & 7))) & 1;
            return on ? [255, 196, 64] : [52, 61, 80];
          }, n, n);
          cell.appendChild(c);
        }
        const label = document.createElement("div");
        label.textContent = compact ? `${(100 * fraction).toFixed(0)}%` : `unit ${unit + 1}: on ${(100 * fraction).toFixed(1)}%`;
        cell.title = `layer ${layer + 1}, unit ${unit + 1}: on for ${(100 * fraction).toFixed(1)}% of the training samples`;
        if (fraction === 0) label.style.color = "#c62828";
        cell.appendChild(label);
        row.appendChild(cell);
      });
      container.appendChild(row);
    });
  }

  function network(canvas, net) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    const cols = net.sizes.map((s, i) => Math.min(s, i === 0 || i === net.sizes.length - 1 ? s : 16));
    const shown = cols.map(c => Math.min(c, 16));
    const pos = (layer, unit) => [30 + layer * (w - 60) / (cols.length - 1),
                                  h / 2 + (unit - (shown[layer] - 1) / 2) * Math.min(36, (h - 30) / shown[layer])];
    let max = 1e-12;
    net.layers.forEach(l => l.W.forEach(r => r.forEach(v => { max = Math.max(max, Math.abs(v)); })));
    net.layers.forEach((l, i) => l.W.forEach((row, j) => row.forEach((v, k) => {
      const [ax, ay] = pos(i, k), [bx, by] = pos(i + 1, j), c = v >= 0 ? PALETTE[0] : PALETTE[1];
      ctx.strokeStyle = `rgba(${c[0]},${c[1]},${c[2]},${0.25 + 0.75 * Math.abs(v) / max})`;
      ctx.lineWidth = 0.5 + 5 * Math.abs(v) / max;
      ctx.beginPath(); ctx.moveTo(ax, ay); ctx.lineTo(bx, by); ctx.stroke();
    })));
    ctx.font = "11px system-ui, sans-serif";
    shown.forEach((n, i) => {
      for (let j = 0; j < n; j++) {
        const [x, y] = pos(i, j);
        ctx.beginPath(); ctx.arc(x, y, 8, 0, 2 * Math.PI);
        ctx.fillStyle = i === 0 ? "#eef0f3" : i === shown.length - 1 ? "#e8f0ff" : "#fff6df";
        ctx.fill(); ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.stroke();
      }
      const label = i === 0 ? "x" : i === shown.length - 1 ? "v" : (shown.length > 3 ? `h${i}` : "h");
      ctx.fillStyle = "#667085";
      ctx.fillText(`${label} (${net.sizes[i]})`, pos(i, 0)[0] - 14, 12);
    });
    ctx.fillText(`largest |weight| ${fmt(max)}`, 6, h - 4);
  }

  function matrix(values, opts = {}) {
    const table = document.createElement("table");
    table.className = "mat";
    const rows = Array.isArray(values) ? (Array.isArray(values[0]) ? values : [values]) : [[values]];
    let max = 1e-300;
    rows.forEach(r => r.forEach(v => { if (typeof v === "number") max = Math.max(max, Math.abs(v)); }));
    rows.forEach(r => {
      const tr = table.insertRow();
      r.forEach(v => {
        const td = tr.insertCell();
        td.textContent = opts.fixed !== undefined ? (v >= 0 ? "+" : "") + v.toFixed(opts.fixed) : fmt(v, opts.digits);
        if (opts.tint && typeof v === "number") {
          const c = diverging(v / max).map(x => Math.round(255 - (255 - x) * 0.35));
          td.style.background = `rgb(${c[0]},${c[1]},${c[2]})`;
        }
      });
    });
    return table;
  }

  // uPlot axis labels for a log scale: 1e-6, 0.01, 1 (its default prints 0 for small numbers)
  const logAxis = extra => ({ size: 64, values: (u, vals) => vals.map(v => (v === null ? "" : fmt(v, 2))), ...extra });

  const minus = (a, b) => Array.isArray(a) ? a.map((v, i) => minus(v, b[i])) : a - b; // a − b, entry by entry

  return { bytes, fmt, minus, logAxis, plane, reluMaps, network, matrix, diverging, PALETTE };
})();
