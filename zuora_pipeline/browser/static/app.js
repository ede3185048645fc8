// zuora-pipeline browse: the little the pages need beyond HTML. Every page works without it;
// nothing here builds markup from strings (text goes in through textContent only).
"use strict";

(function () {
  const MAX_HIGHLIGHT = 2000000; // characters; larger documents stay plain text
  const TOKENS = /("(?:\\.|[^"\\])*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b|([{}[\],:])/g;

  function span(cls, text) {
    const el = document.createElement("span");
    el.className = cls;
    el.textContent = text;
    return el;
  }

  // Colour a <pre data-highlight> holding JSON: keys, strings, numbers, literals, punctuation.
  function highlight(pre) {
    const text = pre.textContent;
    if (text.length > MAX_HIGHLIGHT) return;
    const out = document.createDocumentFragment();
    let last = 0;
    for (const m of text.matchAll(TOKENS)) {
      if (m.index > last) out.append(text.slice(last, m.index));
      if (m[1] !== undefined) {
        out.append(span(m[2] ? "j-key" : "j-str", m[1]));
        if (m[2]) out.append(span("j-punct", m[2]));
      } else if (m[3] !== undefined) {
        out.append(span("j-num", m[3]));
      } else if (m[4] !== undefined) {
        out.append(span("j-lit", m[4]));
      } else {
        out.append(span("j-punct", m[5]));
      }
      last = m.index + m[0].length;
    }
    if (last < text.length) out.append(text.slice(last));
    pre.replaceChildren(out);
  }

  function setupCopy(button) {
    button.addEventListener("click", async function () {
      const target = document.querySelector(button.dataset.copy);
      if (!target) return;
      const label = button.textContent;
      try {
        await navigator.clipboard.writeText(target.textContent);
        button.textContent = "Copied";
      } catch (err) {
        const range = document.createRange();
        range.selectNodeContents(target);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      }
      setTimeout(function () { button.textContent = label; }, 1600);
    });
  }

  // A task link (#task-123) opens that task's details and brings it into view.
  function openTarget() {
    if (!location.hash.startsWith("#task-")) return;
    const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tagName === "DETAILS") {
      target.open = true;
      target.scrollIntoView({ block: "start" });
    }
  }

  // Zoom (wheel, buttons, + - 0 keys), pan (drag) and fit of the diagram; a click on a task
  // shows its panel.
  function setupDiagram(viewport) {
    const svg = viewport.querySelector("svg");
    if (!svg || !svg.viewBox || !svg.viewBox.baseVal) return;
    const base = svg.viewBox.baseVal;
    const home = { x: base.x, y: base.y, w: base.width, h: base.height };
    let view = Object.assign({}, home);
    const apply = function () { svg.setAttribute("viewBox", view.x + " " + view.y + " " + view.w + " " + view.h); };
    const toSvg = function (clientX, clientY) {
      const ctm = svg.getScreenCTM();
      const p = new DOMPoint(clientX, clientY).matrixTransform(ctm.inverse());
      return { x: p.x, y: p.y };
    };
    const zoomAt = function (factor, clientX, clientY) {
      const p = toSvg(clientX, clientY);
      const w = Math.min(Math.max(view.w / factor, home.w / 40), home.w * 8);
      const scale = w / view.w;
      view = { x: p.x - (p.x - view.x) * scale, y: p.y - (p.y - view.y) * scale, w: w, h: view.h * scale };
      apply();
    };
    const centre = function () {
      const r = viewport.getBoundingClientRect();
      return [r.left + r.width / 2, r.top + r.height / 2];
    };
    const actions = {
      in: function () { zoomAt(1.25, ...centre()); },
      out: function () { zoomAt(1 / 1.25, ...centre()); },
      fit: function () { view = Object.assign({}, home); apply(); },
      actual: function () {
        const r = viewport.getBoundingClientRect();
        view = { x: home.x, y: home.y, w: r.width, h: r.height };
        apply();
      },
    };
    document.querySelectorAll("[data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () { actions[b.dataset.zoom](); });
    });
    viewport.addEventListener("wheel", function (e) {
      e.preventDefault();
      zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX, e.clientY);
    }, { passive: false });
    viewport.addEventListener("keydown", function (e) {
      const key = { "+": "in", "=": "in", "-": "out", "0": "fit" }[e.key];
      if (key) { e.preventDefault(); actions[key](); }
    });
    let drag = null;
    viewport.addEventListener("pointerdown", function (e) {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, view: Object.assign({}, view), moved: false, target: e.target };
      viewport.setPointerCapture(e.pointerId);
    });
    viewport.addEventListener("pointermove", function (e) {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < 4) return;
      drag.moved = true;
      viewport.classList.add("dragging");
      const scale = svg.getScreenCTM().a;
      view = { x: drag.view.x - dx / scale, y: drag.view.y - dy / scale, w: view.w, h: view.h };
      apply();
    });
    const end = function (e) {
      if (!drag) return;
      const clicked = !drag.moved ? drag.target : null;
      drag = null;
      viewport.classList.remove("dragging");
      if (viewport.hasPointerCapture(e.pointerId)) viewport.releasePointerCapture(e.pointerId);
      if (clicked) select(clicked.closest("g.node"));
    };
    viewport.addEventListener("pointerup", end);
    viewport.addEventListener("pointercancel", end);

    function select(node) {
      if (!node) return;
      const title = node.querySelector("title");
      const panel = title && document.getElementById("panel-" + title.textContent.trim());
      if (!panel) return;
      svg.querySelectorAll("g.node.selected").forEach(function (n) { n.classList.remove("selected"); });
      node.classList.add("selected");
      document.querySelectorAll(".task-panel").forEach(function (p) { p.hidden = p !== panel; });
      const hint = document.querySelector("[data-panel-hint]");
      if (hint) hint.hidden = true;
    }
  }

  function start() {
    document.querySelectorAll("pre[data-highlight]").forEach(highlight);
    document.querySelectorAll("button[data-copy]").forEach(setupCopy);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
    const viewport = document.getElementById("viewport");
    if (viewport) setupDiagram(viewport);
    openTarget();
    window.addEventListener("hashchange", openTarget);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
