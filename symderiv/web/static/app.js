// The checker page. Text from the student is only ever set as textContent; the server's
// MathML (built by an allowlist serialiser) is the only HTML inserted.
"use strict";

const DEBOUNCE_MS = 600;
const MAX_FILE_BYTES = 256 * 1024;
const $ = (id) => document.getElementById(id);

let problems = [];
let sent = null;          // the {problem, text} of the request in flight
let pending = false;      // the text changed while a request was in flight
let timer = null;
let retryTimer = null;
let gutterMarks = new Map();   // line number -> {mark, status} of the last check
let gutterLines = 0;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function mathNode(html) {
  // html is sanitised MathML from the server (or escaped LaTeX in <code>).
  const span = el("span", {class: "math-holder"});
  span.innerHTML = html;
  return span;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
  const response = await fetch(path, init);
  let data;
  try { data = await response.json(); } catch (e) { data = {error: `the server answered ${response.status}`}; }
  return {status: response.status, data, retryAfter: Number(response.headers.get("Retry-After") || 0)};
}

function setStatus(text, kind) {
  const s = $("status");
  s.textContent = text;
  s.className = "status" + (kind ? " status-" + kind : "");
}

function currentProblem() {
  return problems.find((p) => p.id === $("problem").value);
}

function draftKey() { return "symderiv-draft:" + $("problem").value; }

function goToLine(number) {
  const editor = $("editor");
  const lines = editor.value.split("\n");
  let start = 0;
  for (let i = 0; i < number - 1 && i < lines.length; i++) start += lines[i].length + 1;
  const end = start + (lines[number - 1] || "").length;
  editor.focus();
  editor.setSelectionRange(start, end);
  const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 20;
  editor.scrollTop = Math.max(0, (number - 3) * lineHeight);
}

function lineButton(number, label) {
  const b = el("button", {type: "button", class: "line-link", "aria-label": `go to line ${number} in the editor`},
               label || `line ${number}`);
  b.addEventListener("click", () => goToLine(number));
  return b;
}

function renderGutter() {
  const editor = $("editor");
  const count = editor.value.split("\n").length;
  if (count !== gutterLines) {
    if (gutterLines) gutterMarks = new Map();     // lines moved: the old marks no longer fit
    gutterLines = count;
  }
  const gutter = $("gutter");
  const rows = [];
  for (let n = 1; n <= count; n++) {
    const m = gutterMarks.get(n);
    rows.push(el("div", {class: m ? "g-line m-" + m.status : "g-line"},
                 el("span", {class: "g-num"}, String(n)), el("span", {class: "g-mark"}, m ? m.mark : "")));
  }
  gutter.replaceChildren(...rows);
  gutter.scrollTop = editor.scrollTop;
}

function renderParts(parts) {
  const body = $("parts").querySelector("tbody");
  body.replaceChildren();
  if (!parts.length) {
    body.append(el("tr", {}, el("td", {colspan: "5", class: "none"}, "No parts in this key.")));
    return;
  }
  for (const p of parts) {
    const label = p.name || p.quantity;
    const name = p.scored ? label : `${label} (optional)`;
    body.append(el("tr", {class: "part s-" + p.status, "data-quantity": p.quantity},
      el("th", {scope: "row"}, name),
      el("td", {}, el("span", {class: "verdict m-" + p.status}, `${p.mark} ${p.words}`)),
      el("td", {}, p.line ? lineButton(p.line, String(p.line)) : el("span", {class: "none"}, "—")),
      el("td", {}, p.verdict === "missing" ? "Not found in your text yet."
                   : p.feedback === undefined ? "Feedback after the deadline." : p.feedback_text),
      el("td", {}, p.first_wrong_line ? lineButton(p.first_wrong_line, String(p.first_wrong_line))
                                      : el("span", {class: "none"}, "—"))));
  }
}

function renderLines(lines) {
  const list = $("lines");
  list.replaceChildren();
  gutterMarks = new Map(lines.map((l) => [l.line, l]));
  gutterLines = $("editor").value.split("\n").length;
  renderGutter();
  if (!lines.length) {
    list.append(el("li", {class: "none"}, "No math found yet: put formulas between $$ and $$."));
    return;
  }
  for (const line of lines) {
    const item = el("li", {class: "line s-" + line.status, "data-line": String(line.line),
                           "data-status": line.status});
    const head = el("div", {class: "line-head"},
      el("span", {class: "mark m-" + line.status, "aria-hidden": "true"}, line.mark),
      el("span", {class: "words m-" + line.status}, line.words),
      lineButton(line.line));
    if (line.first_wrong_of.length) {
      head.append(el("span", {class: "first-wrong"}, "first wrong line of " + line.first_wrong_of.join(", ")));
    }
    item.append(head);
    if (line.preface) item.append(el("div", {class: "preface"}, line.preface));
    for (const m of line.math) item.append(mathNode(m));
    // a right line's feedback ("Correct (samples as columns).") is in the parts table already
    for (const msg of line.status === "right" ? [] : line.messages) {
      const p = el("p", {class: "message"}, msg.text);
      if (msg.math) p.append(" ", mathNode(msg.math));
      item.append(p);
    }
    list.append(item);
  }
}

function summarise(report) {
  if (report.hidden) {
    const wrong = new Set(report.steps.filter((s) => !s.ok).map((s) => s.line)).size;
    return (wrong ? `${wrong} line${wrong > 1 ? "s" : ""} with a wrong step. ` : "No wrong step found. ") + report.note;
  }
  const scored = report.parts.filter((p) => p.max_points > 0);
  const right = scored.filter((p) => p.verdict === "correct").length;
  const layout = scored.filter((p) => p.verdict === "correct-up-to-layout").length;
  const wrong = new Set(report.steps.filter((s) => !s.ok).map((s) => s.line)).size;
  let text = `${right} of ${scored.length} parts right`;
  if (layout) text += `, ${layout} right up to layout`;
  text += wrong ? `; ${wrong} line${wrong > 1 ? "s" : ""} with a wrong step` : "";
  return text + ` (score ${report.score}/${report.max_score}).`;
}

async function check() {
  clearTimeout(timer);
  const body = {problem: $("problem").value, text: $("editor").value};
  if (!body.problem) return;
  if (sent) { pending = true; return; }
  sent = body;
  setStatus("Checking…", "busy");
  let result;
  try {
    result = await api("/api/view", body);
  } catch (e) {
    result = {status: 0, data: {error: "the server cannot be reached"}};
  }
  sent = null;
  const stale = pending || body.text !== $("editor").value || body.problem !== $("problem").value;
  pending = false;
  if (result.status === 200) {
    renderParts(result.data.parts);
    renderLines(result.data.lines);
    const empty = !body.text.trim();
    setStatus(stale ? "Checking…" : empty ? "Start writing: the parts of this problem are listed below."
                                          : summarise(result.data.report), stale ? "busy" : "done");
  } else if (result.status === 429) {
    const wait = Math.max(1, result.retryAfter || 5);
    setStatus(`Too many checks at once: checking again in ${wait} s.`, "error");
    clearTimeout(retryTimer);
    retryTimer = setTimeout(check, wait * 1000);
    return;
  } else {
    setStatus("Could not check: " + (result.data.error || `error ${result.status}`), "error");
  }
  if (stale) check();
}

function followCursor() {
  // the verdict of the line the cursor is on, brought into view beside the editor
  const editor = $("editor");
  const number = editor.value.slice(0, editor.selectionStart).split("\n").length;
  for (const li of document.querySelectorAll("#lines li.current")) li.classList.remove("current");
  const item = document.querySelector(`#lines li[data-line="${number}"]`);
  if (item) {
    item.classList.add("current");
    const pane = document.querySelector(".result-pane");     // scroll the pane, never the page
    if (pane.scrollHeight > pane.clientHeight && item.offsetParent === pane) {
      const margin = $("status").offsetHeight + 8;
      const top = item.offsetTop, bottom = top + item.offsetHeight;
      if (top < pane.scrollTop + margin) pane.scrollTop = top - margin;
      else if (bottom > pane.scrollTop + pane.clientHeight) pane.scrollTop = bottom - pane.clientHeight + 8;
    }
  }
}

function schedule() {
  renderGutter();
  // the verdicts shown are now for an older text: say so (once, not at every key)
  if (!$("status").classList.contains("status-busy")) setStatus("Checking when you pause…", "busy");
  try { localStorage.setItem(draftKey(), $("editor").value); } catch (e) { /* private mode */ }
  clearTimeout(timer);
  timer = setTimeout(check, DEBOUNCE_MS);
}

function notebookText(raw) {
  // Markdown cells as they are; LaTeX or Markdown outputs of code cells too.
  const nb = JSON.parse(raw);
  const chunks = [];
  for (const cell of nb.cells || []) {
    const src = Array.isArray(cell.source) ? cell.source.join("") : String(cell.source || "");
    if (cell.cell_type === "markdown" || cell.cell_type === "raw") chunks.push(src);
    for (const out of cell.outputs || []) {
      const data = out.data || {};
      for (const kind of ["text/latex", "text/markdown"]) {
        if (data[kind]) chunks.push(Array.isArray(data[kind]) ? data[kind].join("") : String(data[kind]));
      }
    }
  }
  return chunks.join("\n\n");
}

function openFile(file) {
  if (!file) return;
  if (file.size > MAX_FILE_BYTES) {
    $("file-note").textContent = `${file.name} is too large (${Math.round(file.size / 1024)} KB; the limit is 256 KB).`;
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    let text = String(reader.result);
    if (/\.ipynb$/i.test(file.name)) {
      try { text = notebookText(text); } catch (e) {
        $("file-note").textContent = `${file.name} is not a readable notebook (${e.message}).`;
        return;
      }
    }
    $("editor").value = text.replace(/\r\n?/g, "\n");
    $("file-note").textContent = `Opened ${file.name}.`;
    schedule();
    check();
  };
  reader.onerror = () => { $("file-note").textContent = `${file.name} cannot be read.`; };
  reader.readAsText(file);
}

function fillQuantities() {
  const p = currentProblem();
  const select = $("quantity");
  select.replaceChildren();
  for (const q of (p ? p.quantities : [])) select.append(el("option", {value: q.id}, q.name || q.id));
  $("statement-text").innerHTML = p ? p.statement_html : "";   // the key's prose, escaped, with MathML
  $("statement").hidden = !(p && p.statement_html);
}

function problemChanged() {
  fillQuantities();
  let draft = null;
  try { draft = localStorage.getItem(draftKey()); } catch (e) { /* private mode */ }
  if (draft !== null) $("editor").value = draft;
  renderGutter();
  try { localStorage.setItem("symderiv-problem", $("problem").value); } catch (e) { /* private mode */ }
  check();
}

async function checkOne(event) {
  event.preventDefault();
  const out = $("check-result");
  out.replaceChildren(el("p", {class: "sub"}, "Checking…"));
  const body = {problem: $("problem").value, quantity: $("quantity").value, claim: $("claim").value};
  let result;
  try { result = await api("/api/check", body); } catch (e) {
    result = {status: 0, data: {error: "the server cannot be reached"}};
  }
  if (result.status !== 200) {
    out.replaceChildren(el("p", {class: "m-wrong"}, "Could not check: " + result.data.error));
    return;
  }
  const v = result.data;
  const status = {"correct": "right", "correct-up-to-layout": "layout", "incorrect": "wrong",
                  "unparseable": "unreadable"}[v.verdict] || "unchecked";
  const mark = {"right": "✓", "layout": "~", "wrong": "✗", "unreadable": "?"}[status] || "·";
  out.replaceChildren(el("p", {class: "verdict m-" + status}, `${mark} ${v.verdict}`),
                      el("p", {}, v.hidden ? v.note : v.feedback_text));
}

async function start() {
  const editor = $("editor");
  editor.addEventListener("input", schedule);
  editor.addEventListener("scroll", () => { $("gutter").scrollTop = editor.scrollTop; });
  editor.addEventListener("keyup", followCursor);
  editor.addEventListener("click", followCursor);
  editor.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); check(); }
  });
  for (const target of [editor, document.querySelector(".editor-pane")]) {
    target.addEventListener("dragover", (e) => { e.preventDefault(); editor.classList.add("dropping"); });
    target.addEventListener("dragleave", () => editor.classList.remove("dropping"));
    target.addEventListener("drop", (e) => {
      e.preventDefault();
      editor.classList.remove("dropping");
      openFile(e.dataTransfer.files[0]);
    });
  }
  $("file").addEventListener("change", (e) => openFile(e.target.files[0]));
  $("check-now").addEventListener("click", check);
  $("problem").addEventListener("change", problemChanged);
  $("check-form").addEventListener("submit", checkOne);

  const result = await api("/api/problems");
  if (result.status !== 200) { setStatus("Could not load the problems: " + result.data.error, "error"); return; }
  problems = result.data.problems;
  for (const p of problems) $("problem").append(el("option", {value: p.id}, p.title || p.id));
  let saved = null;
  try { saved = localStorage.getItem("symderiv-problem"); } catch (e) { /* private mode */ }
  if (saved && problems.some((p) => p.id === saved)) $("problem").value = saved;
  problemChanged();
}

document.addEventListener("DOMContentLoaded", start);
