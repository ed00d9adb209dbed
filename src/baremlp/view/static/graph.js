// The lab's computation graph: a card per variable (value, shape, ∂J/∂·), arrows from inputs to outputs.
"use strict";

const Graph = (() => {
  const EQ = { u: "= W x + b", h: "= ReLU(u)", v: "= M h + c", L: "= loss(v, y)", J: "= L + λ s" };

  function equation(name, order) {
    if (name === "s") { // every weight matrix: the hidden layers' W and the output layer's M
      const weights = order.filter(n => /^W\d*$/.test(n)).concat(["M"]);
      return "= " + (weights.length > 3 ? `‖${weights[0]}‖²_F + … + ‖M‖²_F` : weights.map(w => `‖${w}‖²_F`).join(" + "));
    }
    if (EQ[name]) return EQ[name];
    const m = /^([uh])(\d+)$/.exec(name);
    if (!m) return "";
    const k = +m[2];
    return m[1] === "u" ? `= W${k} ${k === 1 ? "x" : "h" + (k - 1)} + b${k}` : `= ReLU(u${k})`;
  }

  // grid cell (row, column) of each variable: the chain x → u → h → … → v → L → J in row 2,
  // each layer's parameters above its u (M, c above v), y above L, s below L; with more hidden layers
  // than `per`, the chain wraps: a band of three rows for each `per` layers
  function layout(order, per) {
    const place = {}, us = order.filter(n => /^u\d*$/.test(n));
    const at = (k, next) => { const band = Math.floor(k / per); return [3 * band + 2, 2 * (k - band * per) + 2 + next]; };
    place.x = [2, 1];
    us.forEach((u, k) => {
      const i = u.slice(1);
      place[u] = at(k, 0); place["h" + i] = at(k, 1);
      place["W" + i] = place["b" + i] = [place[u][0] - 1, place[u][1]];
    });
    const last = us.length ? place["h" + us[us.length - 1].slice(1)] : place.x, [r, c] = [last[0], last[1] + 1]; // v after the last h
    place.v = [r, c]; place.M = place.c = [r - 1, c];
    place.L = [r, c + 1]; place.y = [r - 1, c + 1]; place.s = [r + 1, c + 1]; place.J = [r, c + 2];
    return place;
  }

  function card(name, node, update, order) {
    const el = document.createElement("div");
    el.className = `g-node ${node.kind}`;
    el.dataset.name = name;
    const head = document.createElement("div");
    head.innerHTML = `<span class="nm"></span><span class="eq"></span><span class="sh"></span>`;
    head.querySelector(".nm").textContent = name;
    head.querySelector(".eq").textContent = equation(name, order);
    const cut = node.shape.some(d => d > 4);
    head.querySelector(".sh").textContent = (node.shape.length ? `(${node.shape.join(", ")})` : "scalar") + (cut ? ", first 4 shown" : "");
    el.appendChild(head);
    el.appendChild(Draw.matrix(node.value, { tint: true }));
    if (node.grad !== null && node.grad !== undefined) {
      const lbl = document.createElement("div");
      lbl.className = "lbl";
      lbl.textContent = `∂J/∂${name}`;
      const g = document.createElement("div");
      g.className = "gr";
      g.appendChild(Draw.matrix(node.grad, { tint: true }));
      el.append(lbl, g);
    }
    if (update && update.params[name]) {
      const u = update.params[name], box = document.createElement("div");
      box.className = "upd";
      const lbl = document.createElement("div");
      lbl.className = "lbl";
      lbl.textContent = `${name} ← ${name} − ${+update.lr.toPrecision(6)}·∂J/∂${name}${update.momentum ? " (with momentum)" : ""} =`;
      const delta = document.createElement("div"), diff = Draw.minus(u.after, u.before);
      delta.className = "lbl delta";
      delta.textContent = `Δ${name} = ${name}(after) − ${name}(before) =`; // a step of 1e-3 shows here, not in 3 digits of W
      box.append(lbl, Draw.matrix(u.after, { tint: true }), delta, Draw.matrix(diff, { tint: true, digits: 4 }));
      el.appendChild(box);
    }
    return el;
  }

  function grid(g, per) {
    const place = layout(g.order, per), cells = {};
    g.order.forEach(n => {
      const [r, c] = place[n], key = `${r},${c}`;
      (cells[key] = cells[key] || []).push(n);
    });
    const el = document.createElement("div");
    el.className = "g-grid";
    Object.entries(cells).forEach(([key, names]) => {
      const [r, c] = key.split(",").map(Number), stack = document.createElement("div");
      stack.className = "g-stack";
      stack.style.gridRow = r; stack.style.gridColumn = c;
      names.forEach(n => stack.appendChild(card(n, g.nodes[n], g.update, g.order)));
      el.appendChild(stack);
    });
    return el;
  }

  function render(container, caption, g, context) {
    const layers = g.order.filter(n => /^u\d*$/.test(n)).length;
    let el = grid(g, layers);
    container.textContent = "";
    container.appendChild(el);
    const room = container.clientWidth;
    if (room > 0 && el.scrollWidth > room && layers > 1) { // deeper networks wrap: fewer layers a band
      const per = Math.max(1, Math.floor(layers * room / el.scrollWidth));
      el.remove();
      container.appendChild(el = grid(g, per));
    }
    el.style.zoom = room > 0 && el.scrollWidth > room ? Math.max(0.5, room / el.scrollWidth).toFixed(3) : ""; // and scale
    const rows = g.rows ? (g.rows.length === 1 ? `sample #${g.rows[0]}` : `a batch of ${g.rows.length} samples (#${g.rows.slice(0, 4).join(", #")}${g.rows.length > 4 ? ", …" : ""}; values show the first rows)`) : "";
    const when = g.ended ? "The run has ended; the last step drawn was on" : g.update ? "Step taken on" : "Next step trains on";
    caption.textContent = `${when} ${rows}${context ? " · " + context : ""} · λ = ${Draw.fmt(g.lambda)} · ` +
      `∂J/∂p from the ops' own backwards (backprop.gradients); max |that − autograd| = ${Draw.fmt(g.autograd_max_diff)} · ` +
      "shapes as PyTorch holds them: batch first, x (B, inputs), W (out, in); the equations are per sample, x a column";
    requestAnimationFrame(() => arrows(container, el, g.edges));
  }

  function arrows(container, grid, edges) {
    const ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg");
    const box = grid.getBoundingClientRect();
    svg.setAttribute("width", box.width); svg.setAttribute("height", box.height);
    svg.innerHTML = `<defs><marker id="ah" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#8a94a6"/></marker></defs>`;
    const at = n => { const e = grid.querySelector(`[data-name="${n}"]`); return e && e.getBoundingClientRect(); };
    const drawn = new Set();
    edges.forEach(([a, b]) => {
      if (b === "s") return; // s = Σ‖W‖²_F: its equation says where it comes from
      let ra = at(a);
      const rb = at(b);
      if (!ra || !rb) return;
      let x1, y1, x2, y2;
      if (Math.abs(ra.left - rb.left) < 5) { // above or below: vertical, one arrow from the stack (W and b)
        const stack = grid.querySelector(`[data-name="${a}"]`).parentElement;
        if (drawn.has(stack)) return;
        drawn.add(stack);
        ra = stack.getBoundingClientRect();
        x1 = x2 = ra.left + ra.width / 2 - box.left;
        [y1, y2] = ra.top < rb.top ? [ra.bottom, rb.top] : [ra.top, rb.bottom];
        y1 -= box.top; y2 -= box.top;
      } else {
        x1 = ra.right - box.left; y1 = ra.top + ra.height / 2 - box.top;
        x2 = rb.left - box.left; y2 = rb.top + rb.height / 2 - box.top;
      }
      const p = document.createElementNS(ns, "path");
      const mx = (x1 + x2) / 2;
      p.setAttribute("d", Math.abs(x1 - x2) < 1 ? `M${x1},${y1}L${x2},${y2}` : `M${x1},${y1}C${mx},${y1} ${mx},${y2} ${x2},${y2}`);
      p.setAttribute("fill", "none"); p.setAttribute("stroke", "#8a94a6"); p.setAttribute("stroke-width", "1.3");
      p.setAttribute("marker-end", "url(#ah)");
      svg.appendChild(p);
    });
    const old = container.querySelector("svg");
    if (old) old.remove();
    container.appendChild(svg);
  }

  return { render };
})();
