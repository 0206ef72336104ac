// The fieldkit workbench. Served by fieldkit itself; no build step, no third-party code.
//
// Positions: every run of text in a document is a <span data-u="N"> where N is its offset
// in the stored body counted in UTF-16 units (what the DOM counts). The page sends and
// receives UTF-16 positions only; the server converts them to the code points codings are
// stored in. Highlights use the CSS Custom Highlight API, so the text is never rewritten.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function payload() {
  const el = $("#payload");
  return el ? JSON.parse(el.textContent) : {};
}

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Fieldkit-Request": "1" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(data.error || response.statusText);
  for (const w of data.warnings || []) toast("Warning: " + w);
  return data;
}

let toastTimer = null;
function toast(message, isError) {
  const el = $("#toast");
  if (!el) return;
  el.textContent = message;
  el.className = isError ? "show error" : "show";
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = ""; }, 4000);
}

function fail(error) { toast("Error: " + error.message, true); }

function paintSwatches(root = document) {
  for (const el of $$("[data-colour]", root)) el.style.backgroundColor = el.dataset.colour;
}

// ---------------------------------------------------------------- positions in the text

class TextMap {
  constructor(root) {
    this.root = root;
    this.spans = $$("span[data-u]", root).map((el) => ({
      el, node: el.firstChild, u: Number(el.dataset.u), len: el.firstChild ? el.firstChild.length : 0,
    })).filter((s) => s.node);
  }

  // the UTF-16 position of a DOM boundary point; edge says which way to snap from markup
  toU16(node, offset, edge) {
    const span = node.nodeType === Node.TEXT_NODE ? node.parentElement : null;
    if (span && span.dataset && span.dataset.u !== undefined && span.parentElement && this.root.contains(span)) {
      return Number(span.dataset.u) + offset;
    }
    const probe = document.createRange();
    probe.setStart(node, offset);
    // first span that starts at or after the point
    let lo = 0, hi = this.spans.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (probe.comparePoint(this.spans[mid].node, 0) >= 0) hi = mid;
      else lo = mid + 1;
    }
    if (edge === "start") {
      if (lo < this.spans.length) return this.spans[lo].u;
      const last = this.spans[this.spans.length - 1];
      return last ? last.u + last.len : 0;
    }
    const before = this.spans[lo - 1];
    return before ? before.u + before.len : (this.spans[0] ? this.spans[0].u : 0);
  }

  selection() {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    if (!this.root.contains(range.commonAncestorContainer) && range.commonAncestorContainer !== this.root) return null;
    const start16 = this.toU16(range.startContainer, range.startOffset, "start");
    const end16 = this.toU16(range.endContainer, range.endOffset, "end");
    if (end16 <= start16) return null;
    return { start16, end16, text: range.toString() };
  }

  // a DOM point for a UTF-16 position
  point(u16, edge) {
    const spans = this.spans;
    let lo = 0, hi = spans.length - 1, found = -1;
    while (lo <= hi) {  // last span with u <= u16
      const mid = (lo + hi) >> 1;
      if (spans[mid].u <= u16) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (found >= 0) {
      const s = spans[found];
      if (u16 < s.u + s.len || (edge === "end" && u16 === s.u + s.len)) return [s.node, u16 - s.u];
      if (edge === "end") return [s.node, s.len];
    }
    const next = spans[found + 1];
    if (next) return [next.node, 0];
    const last = spans[spans.length - 1];
    return last ? [last.node, last.len] : null;
  }

  range(s16, e16) {
    const a = this.point(s16, "start"), b = this.point(e16, "end");
    if (!a || !b) return null;
    const range = document.createRange();
    range.setStart(a[0], a[1]);
    range.setEnd(b[0], b[1]);
    return range;
  }

  // the UTF-16 position under the mouse
  at(x, y) {
    let node = null, offset = 0;
    if (document.caretPositionFromPoint) {
      const pos = document.caretPositionFromPoint(x, y);
      if (pos) { node = pos.offsetNode; offset = pos.offset; }
    } else if (document.caretRangeFromPoint) {
      const r = document.caretRangeFromPoint(x, y);
      if (r) { node = r.startContainer; offset = r.startOffset; }
    }
    if (!node || !this.root.contains(node)) return null;
    return this.toU16(node, offset, "start");
  }
}

// ---------------------------------------------------------------- highlights

const sheet = new CSSStyleSheet();
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
const styled = new Set();

function hexToRgba(hex, alpha) {
  const n = parseInt((hex || "#888888").slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function highlightName(prefix, colour) { return `${prefix}-${(colour || "#888888").slice(1)}`; }

function ensureStyle(name, colour) {
  if (styled.has(name)) return;
  styled.add(name);
  sheet.insertRule(`::highlight(${name}) { background-color: ${hexToRgba(colour, 0.28)}; }`);
}

function paintHighlights(map, codings, prefix) {
  if (!window.CSS || !CSS.highlights) return;
  for (const key of Array.from(CSS.highlights.keys())) if (key.startsWith(prefix + "-")) CSS.highlights.delete(key);
  const groups = new Map();
  for (const c of codings) {
    if (c.whole || c.s16 === null) continue;
    const range = map.range(c.s16, c.e16);
    if (!range) continue;
    const name = highlightName(prefix, c.colour);
    ensureStyle(name, c.colour);
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(range);
  }
  for (const [name, ranges] of groups) CSS.highlights.set(name, new Highlight(...ranges));
}

function paintMarks(map, spans, name) {
  if (!window.CSS || !CSS.highlights) return;
  const ranges = spans.map((d) => map.range(d.s16, d.e16)).filter(Boolean);
  if (ranges.length) CSS.highlights.set(name, new Highlight(...ranges)); else CSS.highlights.delete(name);
}

function paintMargin(map, codings, margin, container) {
  margin.textContent = "";
  const top0 = container.getBoundingClientRect().top;
  const lanes = [];  // bottom edge of the last bar in each lane
  const bars = [];
  for (const c of codings) {
    if (c.whole || c.s16 === null) continue;
    const range = map.range(c.s16, c.e16);
    if (!range) continue;
    const rects = range.getClientRects();
    if (!rects.length) continue;
    let top = Infinity, bottom = -Infinity;
    for (const r of rects) { top = Math.min(top, r.top); bottom = Math.max(bottom, r.bottom); }
    bars.push({ c, top: top - top0, bottom: bottom - top0 });
  }
  bars.sort((a, b) => a.top - b.top);
  for (const bar of bars) {
    let lane = lanes.findIndex((end) => end < bar.top);
    if (lane < 0) { lane = lanes.length; lanes.push(0); }
    lanes[lane] = bar.bottom;
    const el = document.createElement("div");
    el.className = "bar";
    el.dataset.coding = bar.c.id;
    el.title = `${bar.c.code} · ${bar.c.coder}${bar.c.note ? " · " + bar.c.note : ""}`;
    el.style.top = `${bar.top}px`;
    el.style.height = `${Math.max(4, bar.bottom - bar.top)}px`;
    el.style.right = `${lane * 6}px`;
    el.style.backgroundColor = bar.c.colour;
    margin.appendChild(el);
  }
}

function codingsAt(codings, u16) {
  return codings.filter((c) => !c.whole && c.s16 !== null && c.s16 <= u16 && u16 < c.e16)
    .sort((a, b) => (a.e16 - a.s16) - (b.e16 - b.s16));
}

function showTooltip(tooltip, items, x, y) {
  if (!items.length) { tooltip.hidden = true; return; }
  tooltip.textContent = "";
  for (const c of items) {
    const line = document.createElement("div");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.backgroundColor = c.colour;
    line.append(sw, ` ${c.code} · ${c.coder}${c.note ? " · " + c.note : ""}`);
    tooltip.appendChild(line);
  }
  tooltip.style.left = `${x + 12}px`;
  tooltip.style.top = `${y + 14}px`;
  tooltip.hidden = false;
}

// ---------------------------------------------------------------- the document page

function documentPage() {
  const data = payload();
  const body = $("#body");
  const map = new TextMap(body);
  const state = { codings: data.codings, codes: data.codes, recent: data.recent, active: null, lastSelection: null };
  const margin = $("#margin");
  const tooltip = $("#tooltip");

  function repaint() {
    paintHighlights(map, state.codings, "code");
    paintMargin(map, state.codings, margin, body);
    const active = state.codings.find((c) => c.id === state.active);
    paintMarks(map, active && !active.whole ? [active] : [], "active");
    placeHandles(active);
    renderList();
    renderRecent();
  }

  // drag handles on the two ends of the selected coding
  let dragging = null;
  const handles = {};
  for (const edge of ["start", "end"]) {
    const el = document.createElement("div");
    el.className = "handle";
    el.dataset.edge = edge;
    el.hidden = true;
    el.title = `drag to move the coding's ${edge}`;
    el.addEventListener("mousedown", (ev) => {
      const c = state.codings.find((x) => x.id === state.active);
      if (!c || c.whole) return;
      ev.preventDefault();  // no text selection while dragging
      dragging = { edge, s16: c.s16, e16: c.e16, from: [c.s16, c.e16] };
    });
    document.body.appendChild(el);
    handles[edge] = el;
  }

  function placeHandles(span) {
    const range = span && !span.whole ? map.range(span.s16, span.e16) : null;
    const rects = range ? range.getClientRects() : [];
    for (const edge of ["start", "end"]) {
      const el = handles[edge];
      el.hidden = !rects.length;
      if (!rects.length) continue;
      const r = edge === "start" ? rects[0] : rects[rects.length - 1];
      el.style.left = `${(edge === "start" ? r.left : r.right) + window.scrollX}px`;
      el.style.top = `${r.top + window.scrollY}px`;
      el.style.height = `${r.height}px`;
    }
  }

  // while text is being selected the handles let the mouse through to the text under them
  document.addEventListener("mousedown", (ev) => {
    if (!ev.target.closest(".handle")) document.body.classList.add("selecting");
  });
  document.addEventListener("mousemove", (ev) => {
    if (!dragging) return;
    const u = map.at(ev.clientX, ev.clientY);
    if (u === null) return;
    if (dragging.edge === "start" && u < dragging.e16) dragging.s16 = u;
    if (dragging.edge === "end" && u > dragging.s16) dragging.e16 = u;
    paintMarks(map, [dragging], "active");
    placeHandles(dragging);
  });
  document.addEventListener("mouseup", () => {
    document.body.classList.remove("selecting");
    if (!dragging) return;
    const { s16, e16, from } = dragging;
    dragging = null;
    if (s16 !== from[0] || e16 !== from[1]) rebound(s16, e16); else repaint();
  });

  function codeById(id) { return state.codes.find((c) => c.id === id); }

  function renderRecent() {
    const list = $("#recent");
    list.textContent = "";
    state.recent.forEach((id, i) => {
      const code = codeById(id);
      if (!code) return;
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.backgroundColor = code.colour;
      const key = document.createElement("kbd");
      key.textContent = String(i + 1);
      li.append(key, " ", sw, " " + code.path);
      list.appendChild(li);
    });
  }

  function renderList() {
    const list = $("#codings");
    list.textContent = "";
    $("#coding-count").textContent = `(${state.codings.length})`;
    for (const c of state.codings) {
      const li = document.createElement("li");
      li.dataset.coding = c.id;
      if (c.id === state.active) li.className = "active";
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.backgroundColor = c.colour;
      const quote = c.whole ? "(whole record)" : excerpt(c);
      li.append(sw, ` ${c.code} · ${c.coder}${c.status === "review" ? " · needs review" : ""}`);
      const q = document.createElement("div");
      q.className = "quote";
      q.textContent = quote;
      li.appendChild(q);
      li.addEventListener("click", () => select(c.id));
      list.appendChild(li);
    }
  }

  function excerpt(c) {
    const range = map.range(c.s16, c.e16);
    const t = range ? range.toString() : "";
    return t.length > 120 ? t.slice(0, 117) + "…" : t;
  }

  function select(id) {
    state.active = id;
    const c = state.codings.find((x) => x.id === id);
    const panel = $("#active-coding");
    panel.hidden = !c;
    if (c) {
      $("#active-swatch").style.backgroundColor = c.colour;
      $("#active-code").textContent = c.code;
      $("#active-coder").textContent = c.coder;
      $("#active-text").textContent = c.whole ? "(whole record)" : excerpt(c);
      $("#active-note").value = c.note || "";
    }
    repaint();
  }

  async function apply(payloadBody) {
    try {
      const result = await api("POST", "/api/codings", { record: data.record, ...payloadBody });
      state.codings.push(result.coding);
      state.codings.sort((a, b) => (a.s16 ?? -1) - (b.s16 ?? -1));
      state.recent = result.recent;
      state.codes = result.codes;
      window.getSelection().removeAllRanges();
      repaint();
      toast(`Coded “${result.coding.code}”`);
    } catch (e) { fail(e); }
  }

  function currentSelection() { return map.selection() || null; }

  // the code picker
  const picker = $("#picker"), input = $("#picker-input"), list = $("#picker-list");
  let pickerTarget = null, pickerIndex = 0, pickerItems = [];

  function openPicker(target) {
    pickerTarget = target;
    const rect = target.whole ? body.getBoundingClientRect() : (map.range(target.start16, target.end16) || body).getBoundingClientRect();
    picker.style.left = `${Math.max(8, rect.left + window.scrollX)}px`;
    picker.style.top = `${rect.bottom + window.scrollY + 6}px`;
    picker.hidden = false;
    input.value = "";
    filterPicker();
    input.focus();
  }

  function closePicker() { picker.hidden = true; pickerTarget = null; }

  function filterPicker() {
    const q = input.value.trim().toLowerCase();
    const matches = state.codes.filter((c) => !q || c.path.toLowerCase().includes(q)).slice(0, 12);
    pickerItems = matches.map((c) => ({ code: c.id, label: c.path, colour: c.colour, hint: c.definition }));
    const exact = state.codes.some((c) => c.path.toLowerCase() === q || c.path.toLowerCase().endsWith("/" + q));
    if (q && !exact) {
      const parts = input.value.trim().split("/");
      const name = parts.pop();
      const parent = parts.join("/");
      pickerItems.push({ newCode: name, parent, label: `+ new code “${input.value.trim()}”` });
    }
    pickerIndex = 0;
    list.textContent = "";
    pickerItems.forEach((item, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      if (i === pickerIndex) li.className = "chosen";
      if (item.colour) {
        const sw = document.createElement("span");
        sw.className = "swatch";
        sw.style.backgroundColor = item.colour;
        li.append(sw, " ");
      }
      li.append(item.label);
      if (item.hint) li.title = item.hint;
      li.addEventListener("mousedown", (ev) => { ev.preventDefault(); pickerIndex = i; choose(); });
      list.appendChild(li);
    });
  }

  function movePicker(step) {
    if (!pickerItems.length) return;
    pickerIndex = (pickerIndex + step + pickerItems.length) % pickerItems.length;
    $$("li", list).forEach((li, i) => { li.className = i === pickerIndex ? "chosen" : ""; });
  }

  function choose() {
    const item = pickerItems[pickerIndex];
    const target = pickerTarget;
    closePicker();
    if (!item || !target) return;
    const where = target.whole ? { whole: true } : { start16: target.start16, end16: target.end16 };
    if (item.newCode) apply({ ...where, new_code: item.newCode, parent: item.parent || null });
    else apply({ ...where, code: item.code });
  }

  input.addEventListener("input", filterPicker);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown") { ev.preventDefault(); movePicker(1); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); movePicker(-1); }
    else if (ev.key === "Enter") { ev.preventDefault(); choose(); }
    else if (ev.key === "Escape") { ev.preventDefault(); closePicker(); }
  });
  input.addEventListener("blur", () => setTimeout(closePicker, 150));

  // selecting codings, hovering
  body.addEventListener("mousemove", (ev) => {
    const u = map.at(ev.clientX, ev.clientY);
    showTooltip(tooltip, u === null ? [] : codingsAt(state.codings, u), ev.pageX, ev.pageY);
  });
  body.addEventListener("mouseleave", () => { tooltip.hidden = true; });
  body.addEventListener("click", (ev) => {
    const sel = window.getSelection();
    if (sel && !sel.isCollapsed) return;
    const u = map.at(ev.clientX, ev.clientY);
    const under = u === null ? [] : codingsAt(state.codings, u);
    if (under.length) select(under[0].id); else if (state.active) select(null);
  });
  margin.addEventListener("click", (ev) => { if (ev.target.dataset.coding) select(ev.target.dataset.coding); });
  document.addEventListener("selectionchange", () => {
    const s = map.selection();
    if (s) state.lastSelection = s;
  });

  async function removeActive() {
    const id = state.active;
    if (!id) return;
    try {
      await api("POST", `/api/codings/${id}/remove`, {});
      state.codings = state.codings.filter((c) => c.id !== id);
      select(null);
      toast("Coding removed (kept in the history)");
    } catch (e) { fail(e); }
  }

  async function rebound(start16, end16) {
    const id = state.active;
    if (!id) return;
    try {
      const result = await api("POST", `/api/codings/${id}/bounds`, { start16, end16 });
      state.codings = state.codings.map((c) => (c.id === id ? result.coding : c));
      window.getSelection().removeAllRanges();
      select(id);
      toast("Coding re-bounded");
    } catch (e) { fail(e); }
  }

  // move an edge of the active coding to the next or previous word boundary
  function nudge(edge, step) {
    const c = state.codings.find((x) => x.id === state.active);
    if (!c || c.whole) return;
    const full = fullText();
    let pos = edge === "start" ? c.s16 : c.e16;
    // a start lands on the first character of a word, an end just after the last one
    const space = (i) => /\s/.test(full[i]);
    const forward = (inSpace) => { while (pos < full.length && space(pos) === inSpace) pos++; };
    const back = (inSpace) => { while (pos > 0 && space(pos - 1) === inSpace) pos--; };
    if (step > 0 && edge === "start") { forward(false); forward(true); }
    else if (step > 0) { forward(true); forward(false); }
    else if (edge === "start") { back(true); back(false); }
    else { back(false); back(true); }
    const s = edge === "start" ? pos : c.s16, e = edge === "end" ? pos : c.e16;
    if (e <= s) return;
    rebound(s, e);
  }

  // the body as UTF-16 text, positions as in data-u (gaps, i.e. hidden markup, as spaces)
  function fullText() {
    const last = map.spans[map.spans.length - 1];
    const chars = new Array(last ? last.u + last.len : 0).fill(" ");
    for (const s of map.spans) for (let i = 0; i < s.len; i++) chars[s.u + i] = s.node.data[i];
    return chars.join("");
  }

  $("#save-note").addEventListener("click", async () => {
    const id = state.active;
    if (!id) return;
    try {
      const result = await api("POST", `/api/codings/${id}/note`, { note: $("#active-note").value });
      state.codings = state.codings.map((c) => (c.id === id ? result.coding : c));
      select(id);
      toast("Note saved");
    } catch (e) { fail(e); }
  });
  $("#remove-coding").addEventListener("click", removeActive);
  $("#rebound").addEventListener("click", () => {
    const s = map.selection() || state.lastSelection;
    if (s) rebound(s.start16, s.end16); else toast("Select the new extent first", true);
  });

  // memos
  $("#memo-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const link = $("#memo-link").value;
    const request = { title: $("#memo-title").value, body: $("#memo-body").value, kind: $("#memo-kind").value,
      private: $("#memo-private").checked, links: [] };
    if (link === "selection") {
      const s = state.lastSelection;
      if (s) request.quote = { record: data.record, start16: s.start16, end16: s.end16 };
      else request.links.push(data.record);
    } else if (link === "record") request.links.push(data.record);
    else if (link === "code") {
      const c = state.codings.find((x) => x.id === state.active);
      if (!c) { toast("Select a coding first", true); return; }
      request.links.push(c.code_id);
    }
    try {
      const result = await api("POST", "/api/memos", request);
      $("#memo-body").value = "";
      $("#memo-title").value = "";
      toast(`Memo saved (${result.memo.kind}${result.memo.tags.includes("private") ? ", private" : ""})`);
    } catch (e) { fail(e); }
  });

  document.addEventListener("keydown", (ev) => {
    if (ev.target.closest("input, textarea, select, dialog")) return;
    if (ev.ctrlKey || ev.metaKey) return;
    const sel = currentSelection();
    if ((ev.key === "c" || ev.key === "Enter") && sel) { ev.preventDefault(); openPicker(sel); }
    else if (/^[1-9]$/.test(ev.key) && sel) {
      const id = state.recent[Number(ev.key) - 1];
      if (id) { ev.preventDefault(); apply({ start16: sel.start16, end16: sel.end16, code: id }); }
    } else if (ev.key === "w") { ev.preventDefault(); openPicker({ whole: true }); }
    else if (ev.key === "m") {
      ev.preventDefault();
      $("#memo-link").value = sel ? "selection" : "record";
      $("#memo-body").focus();
    } else if (ev.key === "n" && state.active) { ev.preventDefault(); $("#active-note").focus(); }
    else if (ev.key === "b" && state.active && sel) { ev.preventDefault(); rebound(sel.start16, sel.end16); }
    else if ((ev.key === "Delete" || ev.key === "Backspace") && state.active) { ev.preventDefault(); removeActive(); }
    else if (ev.altKey && (ev.key === "ArrowLeft" || ev.key === "ArrowRight") && state.active) {
      ev.preventDefault();
      nudge(ev.shiftKey ? "end" : "start", ev.key === "ArrowRight" ? 1 : -1);
    } else if (ev.key === "Escape") { closePicker(); if (state.active) select(null); }
  });

  window.addEventListener("resize", () => {
    paintMargin(map, state.codings, margin, body);
    placeHandles(state.codings.find((c) => c.id === state.active));
  });
  repaint();
  document.body.dataset.ready = "1";
}

// ---------------------------------------------------------------- compare two coders

function comparePage() {
  const data = payload();
  const tooltip = $("#tooltip");
  data.columns.forEach((column, i) => {
    const root = $(`#body-${i}`);
    if (!root) return;
    const map = new TextMap(root);
    paintHighlights(map, column.codings, `col${i}`);
    const mine = data.disagreements.filter((d) => d.applied_by.includes(column.coder));
    const theirs = data.disagreements.filter((d) => !d.applied_by.includes(column.coder));
    paintMarks(map, [...mine, ...theirs], `disagree${i}`);
    ensureDisagreeStyle(`disagree${i}`);
    root.addEventListener("mousemove", (ev) => {
      const u = map.at(ev.clientX, ev.clientY);
      showTooltip(tooltip, u === null ? [] : codingsAt(column.codings, u), ev.pageX, ev.pageY);
    });
    root.addEventListener("mouseleave", () => { tooltip.hidden = true; });
  });
  document.body.dataset.ready = "1";
}

function ensureDisagreeStyle(name) {
  if (styled.has(name)) return;
  styled.add(name);
  sheet.insertRule(`::highlight(${name}) { text-decoration: underline wavy #c0392b; text-decoration-thickness: 2px; }`);
}

// ---------------------------------------------------------------- codebook

function codebookPage() {
  paintSwatches();
  $("#add-code").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", "/api/codes", { name: $("#new-name").value, parent: $("#new-parent").value || null,
        definition: $("#new-definition").value });
      location.reload();
    } catch (e) { fail(e); }
  });
  for (const button of $$(".codebook button[data-op]")) {
    button.addEventListener("click", async () => {
      const row = button.closest("tr");
      const id = row.dataset.code, op = button.dataset.op;
      let body = {};
      if (op === "rename") { const name = prompt("New name", row.dataset.path.split("/").pop()); if (!name) return; body = { name }; }
      else if (op === "move") { const parent = prompt("New parent path (empty: top level)", ""); if (parent === null) return; body = { parent }; }
      else if (op === "merge") { const into = prompt(`Merge ${row.dataset.path} into which code (path)?`); if (!into) return; body = { into }; }
      else if (op === "edit") { const definition = prompt("Definition", row.querySelector(".texts p")?.textContent || ""); if (definition === null) return; body = { definition }; }
      try { await api("POST", `/api/codes/${id}/${op}`, body); location.reload(); } catch (e) { fail(e); }
    });
  }
}

// ---------------------------------------------------------------- search

function searchPage() {
  const data = payload();
  const form = $("#code-all");
  if (!form) return;
  const datalist = $("#all-codes");
  for (const c of data.codes) { const o = document.createElement("option"); o.value = c.path; datalist.appendChild(o); }
  let preview = null;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      preview = await api("POST", "/api/search/preview", { params: data.params, code: $("#code-all-code").value,
        extent: $("#code-all-extent").value });
      const list = $("#preview-list");
      list.textContent = "";
      preview.spans.forEach((s, i) => {
        const li = document.createElement("li");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.checked = !s.already;
        box.disabled = s.already;
        box.dataset.index = String(i);
        const label = document.createElement("label");
        label.append(box, ` ${s.label}: “${s.text}”${s.already ? " (already coded)" : ""}`);
        li.appendChild(label);
        list.appendChild(li);
      });
      $("#preview").hidden = false;
    } catch (e) { fail(e); }
  });
  $("#confirm-code-all").addEventListener("click", async () => {
    if (!preview) return;
    const spans = $$("#preview-list input:checked").map((b) => preview.spans[Number(b.dataset.index)])
      .map((s) => ({ record: s.record, start: s.start, end: s.end }));
    try {
      const result = await api("POST", "/api/search/code", { code: preview.code, spans });
      toast(`Coded ${result.coded} hit(s)${result.skipped ? `, ${result.skipped} already coded` : ""}`);
      $("#preview").hidden = true;
    } catch (e) { fail(e); }
  });
}

// ---------------------------------------------------------------- review queues

function reviewPage() {
  paintSwatches();
  let current = 0;
  const items = () => $$(".queue > li[tabindex]");
  function focus(i) {
    const all = items();
    if (!all.length) return;
    current = Math.max(0, Math.min(i, all.length - 1));
    all.forEach((el, k) => el.classList.toggle("current", k === current));
    all[current].focus();
  }
  async function act(li, op) {
    try {
      if (li.classList.contains("proposal")) {
        await api("POST", `/api/proposals/${li.dataset.id}/${op}`, {});
        li.remove();
        focus(current);
        toast(op === "reject" ? "Rejected" : "Done");
        return;
      }
      const input = $(".pseudonym-input", li);
      if (op === "register" && !input.value.trim()) { input.focus(); toast("Type the pseudonym, then Enter"); return; }
      const done = await api("POST", "/api/anonymise/decide", {
        record: li.dataset.record, start: Number(li.dataset.start), end: Number(li.dataset.end),
        digest: li.dataset.digest, action: op, pseudonym: op === "register" ? input.value.trim() : null,
        kind: op === "accept" ? ($(".kind-input", li)?.value.trim() || null) : null });
      li.className = `candidate status-${done.status} current`;
      $(".status", li).textContent = op === "register" ? "registered" : done.status;
      for (const b of $$("button, input", li)) b.disabled = true;
      focus(current + 1);
      toast({ accept: "Accepted", reject: "Rejected", register: "Added to the key store" }[op]);
    } catch (e) { fail(e); }
  }
  for (const li of items()) {
    for (const b of $$("button[data-op]", li)) b.addEventListener("click", () => act(li, b.dataset.op));
    li.addEventListener("click", (ev) => { if (!ev.target.closest("button, input, a")) focus(items().indexOf(li)); });
    for (const [cls, op] of [[".pseudonym-input", "register"], [".kind-input", "accept"]]) {
      $(cls, li)?.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") { ev.preventDefault(); act(li, op); }
        else if (ev.key === "Escape") { ev.target.blur(); li.focus(); }
      });
    }
  }
  document.addEventListener("keydown", (ev) => {
    if (ev.target.closest("input, textarea, select")) return;
    const li = items()[current];
    if (ev.key === "j") focus(current + 1);
    else if (ev.key === "k") focus(current - 1);
    else if (!li) return;
    else if (li.classList.contains("proposal")) {
      const keys = { a: "accept", r: "reject", s: "sentence", p: "paragraph" };
      if (keys[ev.key]) { ev.preventDefault(); act(li, keys[ev.key]); }
    } else {
      const keys = { a: "accept", r: "reject", n: "register" };
      if (keys[ev.key]) { ev.preventDefault(); act(li, keys[ev.key]); }
    }
  });
  focus(0);
  document.body.dataset.ready = "1";
}

// ---------------------------------------------------------------- home

function homePage() {
  const button = $("#show-names");
  if (!button) return;
  const pass = $("#keys-passphrase");
  button.addEventListener("click", async () => {
    if (button.dataset.on) {
      for (const el of $$(".pseudonym")) el.textContent = el.dataset.code;
      delete button.dataset.on;
      button.textContent = "Show real names";
      return;
    }
    try {
      const result = await api("POST", "/api/names", { passphrase: pass.value || null });
      for (const el of $$(".pseudonym")) {
        const name = result.names[el.dataset.code];
        if (name) el.textContent = `${el.dataset.code} (${name})`;
      }
      button.dataset.on = "1";
      button.textContent = "Hide real names";
      pass.value = "";
      pass.hidden = true;
    } catch (e) {
      pass.hidden = false;
      fail(e);
    }
  });
}

// ---------------------------------------------------------------- every page

function common() {
  const form = $("#coder-form");
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try { await api("POST", "/api/coder", { coder: $("#coder").value }); location.reload(); } catch (e) { fail(e); }
    });
  }
  const help = $("#help");
  $("#help-button")?.addEventListener("click", () => help.showModal());
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "?" && !ev.target.closest("input, textarea, select")) help.showModal();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  common();
  const page = document.body.dataset.page;
  ({ document: documentPage, compare: comparePage, codebook: codebookPage, search: searchPage,
    review: reviewPage, home: homePage }[page] || (() => {}))();
  if (!document.body.dataset.ready) document.body.dataset.ready = "1";
});
