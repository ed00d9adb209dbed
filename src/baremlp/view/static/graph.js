// The lab's computation graph: a card per variable (value, shape, ∂J/∂·), arrows from inputs to outputs.
"use strict";

const Graph = (() => {
  const EQ = { u: "= W x + b", h: "= ReLU(u)", v: "= M h + c", L: "= loss(v, y)", s: "= Σ‖W‖²_F", J: "= L + λ s" };

  function equation(name) {
    if (EQ[name]) return EQ[name];
    const m = /^([uh])(\d+)$/.exec(name);
    if (!m) return "";
    const k = +m[2];
    return m[1] === "u" ? `= W${k} ${k === 1 ? "x" : "h" + (k - 1)} + b${k}` : `= ReLU(u${k})`;
  }

  // grid cell (row, column) of each variable: the chain x → u → h → … → v → L → J in row 2,
  // each layer's parameters above its u (M, c above v), y above L, s below L
  function layout(order) {
    const place = {}, hidden = order.filter(n => /^u\d*$/.test(n)).length;
    let col = 1;
    place.x = [2, col];
    order.forEach(n => {
      if (/^u\d*$/.test(n)) { col += 1; place[n] = [2, col]; }
      else if (/^h\d*$/.test(n)) { col += 1; place[n] = [2, col]; }
    });
    order.forEach(n => {
      const m = /^([Wb])(\d*)$/.exec(n);
      if (m) place[n] = [1, place["u" + m[2]][1]];
    });
    place.v = [2, 2 + 2 * hidden]; place.M = [1, place.v[1]]; place.c = [1, place.v[1]];
    place.L = [2, place.v[1] + 1]; place.y = [1, place.L[1]]; place.s = [3, place.L[1]];
    place.J = [2, place.L[1] + 1];
    return place;
  }

  function card(name, node, update) {
    const el = document.createElement("div");
    el.className = `g-node ${node.kind}`;
    el.dataset.name = name;
    const head = document.createElement("div");
    head.innerHTML = `<span class="nm"></span><span class="eq"></span><span class="sh"></span>`;
    head.querySelector(".nm").textContent = name;
    head.querySelector(".eq").textContent = equation(name);
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
      box.append(lbl, Draw.matrix(u.after, { tint: true }));
      el.appendChild(box);
    }
    return el;
  }

  function render(container, caption, g, context) {
    const place = layout(g.order), cells = {};
    g.order.forEach(n => {
      const [r, c] = place[n], key = `${r},${c}`;
      (cells[key] = cells[key] || []).push(n);
    });
    const grid = document.createElement("div");
    grid.className = "g-grid";
    Object.entries(cells).forEach(([key, names]) => {
      const [r, c] = key.split(",").map(Number), stack = document.createElement("div");
      stack.className = "g-stack";
      stack.style.gridRow = r; stack.style.gridColumn = c;
      names.forEach(n => stack.appendChild(card(n, g.nodes[n], g.update)));
      grid.appendChild(stack);
    });
    container.textContent = "";
    container.appendChild(grid);
    const rows = g.rows ? (g.rows.length === 1 ? `sample #${g.rows[0]}` : `a batch of ${g.rows.length} samples (#${g.rows.slice(0, 4).join(", #")}${g.rows.length > 4 ? ", …" : ""}; values show the first rows)`) : "";
    caption.textContent = `${g.update ? "Step taken on" : "Next step trains on"} ${rows}${context ? " · " + context : ""} · λ = ${Draw.fmt(g.lambda)} · ` +
      `∂J/∂p from the ops' own backwards (backprop.gradients); max |that − autograd| = ${Draw.fmt(g.autograd_max_diff)}`;
    requestAnimationFrame(() => arrows(container, grid, g.edges));
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
