"use strict";
// winnow label front-end. Page text is hostile: it only ever reaches the DOM via
// textContent / attributes, never as HTML. Styling is done with CSS classes only
// (the server's CSP forbids inline styles and scripts).

const TOKEN = document.querySelector('meta[name="winnow-token"]').content;
const $ = (id) => document.getElementById(id);
const KEY_LABELS = { 1: "content", c: "content", 2: "comment", m: "comment", 3: "chrome", x: "chrome" };
const UNSURE_BELOW = 0.6;

const state = {
  pages: [],        // [{number, name, kind, blocks, saved}]
  page: null,       // the open page as returned by GET /api/pages/{n}
  labels: [],       // current label per block of the open page
  els: [],          // block elements, by index
  anchor: 0,        // fixed end of the selection range
  focus: 0,         // moving end of the selection range (keys move this)
};

// ---------- API ----------

async function api(method, path, body) {
  const opts = { method, headers: { "X-Winnow-Token": TOKEN } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch("/api/" + path, opts);
  let data = {};
  try { data = await res.json(); } catch (_) { /* empty or non-JSON body */ }
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

// ---------- saving ----------
// A change snapshots {number, labels} into `pending`; after a 250 ms debounce it
// is sent. Saves are chained so they reach the server in order, and the snapshot
// keeps its page number even if the user switches pages meanwhile.

let pending = null;
let saveTimer = null;
let saveChain = Promise.resolve(true);

function scheduleSave() {
  pending = { number: state.page.number, labels: state.labels.slice() };
  clearTimeout(saveTimer);
  saveTimer = setTimeout(flushSave, 250);
}

// Resolves to true when everything changed so far is saved.
function flushSave() {
  clearTimeout(saveTimer);
  if (pending) {
    const job = pending;
    pending = null;
    saveChain = saveChain.then(() => doSave(job));
  }
  return saveChain;
}

async function doSave(job) {
  setStatus("saving…");
  try {
    await api("PUT", `pages/${job.number}/labels`, { labels: job.labels });
    markSaved(job.number);
    if (!pending) setStatus("saved");
    return true;
  } catch (e) {
    if (!pending) pending = job; // retry on the next flush (e.g. when changing page)
    setStatus(`error: ${e.message}`, true);
    return false;
  }
}

function markSaved(number) {
  const p = state.pages.find((q) => q.number === number);
  if (p) p.saved = true;
  const item = document.querySelector(`.page-item[data-number="${number}"]`);
  if (item) {
    item.classList.add("saved");
    item.querySelector(".mark").textContent = "✓";
  }
  updateHeader();
}

// Warn before closing the tab with unsaved labels.
window.addEventListener("beforeunload", (e) => {
  if (pending) e.preventDefault();
});

// ---------- sidebar & header ----------

function buildSidebar() {
  const nav = $("pages");
  nav.replaceChildren();
  for (const p of state.pages) {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "page-item";
    item.dataset.number = p.number;
    item.title = p.name;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = p.name;
    const mark = document.createElement("span");
    mark.className = "mark";
    mark.textContent = p.saved ? "✓" : "";
    item.append(name, mark);
    item.classList.toggle("saved", p.saved);
    item.addEventListener("click", () => openPage(p.number));
    nav.append(item);
  }
}

function pagePos() {
  return state.page ? state.pages.findIndex((p) => p.number === state.page.number) : -1;
}

function updateHeader() {
  const n = state.pages.length;
  $("progress").textContent = `${state.pages.filter((p) => p.saved).length} of ${n} pages saved`;
  if (!state.page) return;
  $("page-name").textContent = state.page.name;
  $("page-pos").textContent = `page ${pagePos() + 1} of ${n}`;
  document.title = `${state.page.name} – winnow label`;
}

// ---------- blocks ----------

function span(cls, text) {
  const s = document.createElement("span");
  s.className = cls;
  s.textContent = text;
  return s;
}

function renderBlock(b) {
  const el = document.createElement("div");
  el.className = "block";
  el.tabIndex = -1;
  el.setAttribute("role", "option");
  el.setAttribute("aria-selected", "false");
  el.dataset.index = b.index;
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.append(span("badge", ""));
  const unsure = typeof b.confidence === "number" && b.confidence < UNSURE_BELOW;
  if (unsure) {
    el.classList.add("unsure");
    meta.append(span("unsure-badge", "unsure"));
  }
  if (b.tag) meta.append(span("tag", b.tag));
  if (typeof b.confidence === "number") {
    const conf = span("conf", `${Math.round(b.confidence * 100)}%`);
    conf.title = `model predicted ${b.predicted}`;
    meta.append(conf);
  }
  const text = document.createElement("div");
  text.className = "text";
  text.textContent = b.text;
  el.append(meta, text);
  return el;
}

function setBlockLabel(i, label) {
  const el = state.els[i];
  const predicted = state.page.blocks[i].predicted;
  state.labels[i] = label;
  el.classList.remove("label-content", "label-comment", "label-chrome");
  el.classList.add(`label-${label}`);
  el.classList.toggle("changed", label !== predicted);
  el.dataset.label = label;
  const badge = el.querySelector(".badge");
  badge.textContent = label;
  badge.title = label !== predicted ? `changed (model said ${predicted})` : "";
}

function renderPage(page) {
  state.page = page;
  state.labels = page.blocks.map((b) => b.label);
  state.els = page.blocks.map(renderBlock);
  state.els.forEach((_, i) => setBlockLabel(i, state.labels[i]));
  $("blocks").replaceChildren(...state.els);
  $("page-title").textContent = page.title || page.name;
  if (!page.blocks.length) $("blocks").append(span("empty", "This page has no text blocks."));
  for (const item of document.querySelectorAll(".page-item")) {
    const cur = Number(item.dataset.number) === page.number;
    item.classList.toggle("current", cur);
    if (cur) item.scrollIntoView({ block: "nearest" });
  }
  if (page.saved) markSaved(page.number);
  updateHeader();
  setStatus(page.saved ? "saved" : "not saved yet");
  $("blocks").parentElement.scrollTop = 0;
  select(0, false);
}

// ---------- selection & labelling ----------

function selRange() {
  return [Math.min(state.anchor, state.focus), Math.max(state.anchor, state.focus)];
}

function select(i, extend) {
  const n = state.els.length;
  if (!n) return;
  state.focus = Math.max(0, Math.min(n - 1, i));
  if (!extend) state.anchor = state.focus;
  const [lo, hi] = selRange();
  state.els.forEach((el, j) => {
    const on = j >= lo && j <= hi;
    el.classList.toggle("selected", on);
    el.setAttribute("aria-selected", String(on));
  });
  const el = state.els[state.focus];
  el.focus({ preventScroll: true });
  el.scrollIntoView({ block: "nearest" });
}

function applyLabel(label) {
  if (!state.page || !state.els.length) return;
  const [lo, hi] = selRange();
  let changed = false;
  for (let i = lo; i <= hi; i++) {
    if (state.labels[i] !== label) changed = true;
    setBlockLabel(i, label);
  }
  if (changed) scheduleSave();
}

function nextUnsure() {
  const n = state.els.length;
  for (let d = 1; d <= n; d++) {
    const i = (state.focus + d) % n; // wraps around to the top
    if (state.els[i].classList.contains("unsure")) return select(i, false);
  }
}

// ---------- navigation ----------

let loadSeq = 0; // ignore responses of page loads that were superseded by a later one

async function openPage(number) {
  // Do not leave a page whose labels could not be saved; the error stays visible.
  if (!(await flushSave())) return;
  const seq = ++loadSeq;
  let page;
  try {
    page = await api("GET", `pages/${number}`);
  } catch (e) {
    setStatus(`error: ${e.message}`, true);
    return;
  }
  // Labels changed while the page was loading belong to the old page: save them first.
  if (seq !== loadSeq || !(await flushSave()) || seq !== loadSeq) return;
  renderPage(page);
  api("PUT", "current", { number }).catch((e) => setStatus(`error: ${e.message}`, true));
}

function stepPage(delta) {
  const next = state.pages[pagePos() + delta];
  if (next) openPage(next.number);
}

// ---------- events ----------

$("blocks").addEventListener("mousedown", (e) => {
  if (e.shiftKey) e.preventDefault(); // stop shift-click from selecting text
});

$("blocks").addEventListener("click", (e) => {
  const el = e.target.closest(".block");
  if (el) select(Number(el.dataset.index), e.shiftKey);
});

for (const btn of document.querySelectorAll(".label-btn")) {
  btn.addEventListener("click", () => {
    applyLabel(btn.dataset.label);
    if (state.els.length) state.els[state.focus].focus({ preventScroll: true });
  });
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || !state.page) return;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key; // shift+j arrives as "J"
  const sh = e.shiftKey;
  if (KEY_LABELS[key]) applyLabel(KEY_LABELS[key]);
  else if (key === "j" || key === "ArrowDown") select(state.focus + 1, sh);
  else if (key === "k" || key === "ArrowUp") select(state.focus - 1, sh);
  else if (key === "u") nextUnsure();
  else if (key === "n" || key === "ArrowRight") stepPage(1);
  else if (key === "p" || key === "ArrowLeft") stepPage(-1);
  else return;
  e.preventDefault(); // e.g. arrows would otherwise also scroll the page
});

// ---------- startup ----------

async function start() {
  try {
    const data = await api("GET", "pages");
    state.pages = data.pages;
    buildSidebar();
    updateHeader();
    if (!state.pages.length) return setStatus("no pages");
    const cur = state.pages.some((p) => p.number === data.current) ? data.current : state.pages[0].number;
    await openPage(cur);
  } catch (e) {
    setStatus(`error: ${e.message}`, true);
  }
}

start();
