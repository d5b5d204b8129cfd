// The exporter's desk: a transaction form (or YAML), evaluated by POST /v1/decisions, and the
// decision as a person reads it. No framework, no CDN: this file and app.css are the whole page.
"use strict";

const LISTS = ["usml", "eccn", "eu", "mtcr", "wassenaar", "cn"];
const LIST_NAMES = {usml: "USML", eccn: "ECCN (CCL)", eu: "EU Annex I", mtcr: "MTCR Annex",
  wassenaar: "Wassenaar", cn: "China control list"};
const OUTCOME_WORDS = {prohibited: "Prohibited", indeterminate: "Indeterminate: facts missing",
  license_required: "Licence required", authorized: "Authorised (exception or general authorisation)",
  no_license_required: "No licence required", not_applicable: "Not applicable"};
const ADVISORY_WORDS = {prohibited: "partners would presume denial", indeterminate: "unclear from the facts",
  license_required: "partners would review it", authorized: "partners would review it",
  no_license_required: "nothing to review", not_applicable: "not concerned"};

const state = {model: null, schema: null, token: sessionStorage.getItem("exportctl-token") || "",
  tab: "form", decision: null, endUses: [], kinds: [], lists: [], itemTypes: [], txKinds: []};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat(Infinity)) if (kid !== null && kid !== undefined && kid !== false)
    e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return e;
}

async function api(method, path, body, type) {
  const headers = {};
  if (type) headers["Content-Type"] = type;
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  const r = await fetch(path, {method, headers, body});
  if (r.status === 401) { $("token-box").hidden = false; }
  const ct = r.headers.get("content-type") || "";
  const data = ct.includes("json") ? await r.json() : await r.text();
  return {status: r.status, ok: r.ok, data};
}

// ---------------------------------------------------------------- the schema, for fields and answers

function resolve(s) {
  while (s && s.$ref) s = state.schema.$defs[s.$ref.split("/").pop()];
  return s || {};
}
function schemaAt(parts) {
  let s = resolve(state.schema);
  for (const p of parts) {
    s = resolve(s);
    if (typeof p === "number") s = resolve(s.items);
    else s = resolve((s.properties || {})[p]);
  }
  return resolve(s);
}
function enumOf(s) { s = resolve(s); return s.enum || (s.items && resolve(s.items).enum) || []; }

function parsePath(path) {       // "items[0].classification.eccn" -> ["items", 0, "classification", "eccn"]
  const out = [];
  for (const m of path.matchAll(/([^.\[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}
function pointerOf(parts) { return parts.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join(""); }
function setAt(obj, parts, value) {
  let o = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    if (o[parts[i]] === undefined || o[parts[i]] === null) o[parts[i]] = typeof parts[i + 1] === "number" ? [] : {};
    o = o[parts[i]];
  }
  o[parts[parts.length - 1]] = value;
}

// ---------------------------------------------------------------- YAML out (the page reads YAML on the server)

const PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_ .,()\/+-]*$/;
const RESERVED = /^(true|false|null|yes|no|on|off|y|n|~|-?\d[\d_.eE+-]*)$/i;
function yamlScalar(v) {
  if (v === null) return "null";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  const s = String(v);
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return s;
  if (PLAIN.test(s) && !RESERVED.test(s) && !s.endsWith(" ") && !s.includes(": ") && !s.includes(" #")) return s;
  return JSON.stringify(s);
}
function toYaml(v, indent = "") {
  if (Array.isArray(v)) {
    if (!v.length) return "[]";
    return v.map((x) => {
      if (x && typeof x === "object" && !Array.isArray(x) && Object.keys(x).length) {
        const body = toYaml(x, indent + "  ");
        return "\n" + indent + "- " + body.replace(/^\n\s*/, "");
      }
      return "\n" + indent + "- " + toYaml(x, indent + "  ");
    }).join("");
  }
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (!keys.length) return "{}";
    return keys.map((k) => {
      const x = v[k];
      const inner = toYaml(x, indent + "  ");
      return "\n" + indent + k + ":" + (inner.startsWith("\n") ? inner : " " + inner);
    }).join("");
  }
  return yamlScalar(v);
}
function yamlText(model) { return toYaml(model).replace(/^\n/, "") + "\n"; }

// ---------------------------------------------------------------- the form

let fieldSeq = 0;
function field(label, pointer, input, hint) {
  const id = "f" + (++fieldSeq);
  input.id = id;
  input.dataset.pointer = pointer;
  const errId = id + "-err";
  const hintId = hint ? id + "-hint" : null;
  input.setAttribute("aria-describedby", [hintId, errId].filter(Boolean).join(" "));
  return el("div", {class: "field", "data-field": pointer},
    el("label", {for: id}, label), input,
    hint ? el("p", {class: "hint", id: hintId}, hint) : null,
    el("p", {class: "field-error", id: errId, "data-error-for": pointer, hidden: true}));
}
function text(value, onchange, attrs) {
  return el("input", {type: "text", value: value ?? "", oninput: (e) => onchange(e.target.value), ...attrs});
}
function select(options, value, onchange, labels) {
  const s = el("select", {onchange: (e) => onchange(e.target.value)});
  for (const o of options) s.append(el("option", {value: o, selected: o === value}, labels ? labels[o] ?? o : o));
  return s;
}
function orDelete(obj, key, v) { if (v === "" || v === undefined) delete obj[key]; else obj[key] = v; }

// {get, obj}: read a sub-object without creating it; obj() creates it when a value is typed
function lazy(parent, key) {
  return {get: () => parent[key] || {}, obj: () => (parent[key] = parent[key] || {})};
}
function countryInput(obj, key) {
  const holder = obj.obj ? obj : {get: () => obj, obj: () => obj};
  return text(holder.get()[key], (v) => orDelete(holder.obj(), key, v.trim().toUpperCase()),
    {maxlength: 6, autocomplete: "off", class: "short", spellcheck: "false"});
}

function renderForm() {
  fieldSeq = 0;
  const m = state.model;
  const root = $("form-fields");
  root.replaceChildren();
  const general = el("fieldset", {"data-field": ""}, el("legend", {}, "The transaction"),
    el("div", {class: "grid"},
      field("Reference (id)", "/id", text(m.id, (v) => orDelete(m, "id", v))),
      field("Date of export", "/date", el("input", {type: "date", value: m.date || "", oninput: (e) => orDelete(m, "date", e.target.value)})),
      field("Kind", "/kind", select(state.txKinds, m.kind || "export", (v) => { m.kind = v; })),
      field("Ships from (country)", "/ship_from", countryInput(m, "ship_from"), "ISO code, e.g. US, FR"),
      field("Destination (country)", "/destination", countryInput(m, "destination"), "ultimate destination, e.g. JP"),
    ),
    field("Description", "/description", text(m.description, (v) => orDelete(m, "description", v))));
  root.append(general);

  // parties
  // a party exists in the facts only once something is typed for it: the form never invents facts
  const exporter = lazy(m, "exporter");
  const parties = el("fieldset", {"data-field": "/end_user"}, el("legend", {}, "Parties"),
    el("div", {class: "grid"},
      field("Exporter", "/exporter/name", text(exporter.get().name, (v) => orDelete(exporter.obj(), "name", v))),
      field("Exporter's country", "/exporter/country", countryInput(exporter, "country"))));
  const eup = lazy(m, "end_user");
  const eu = eup.get();
  parties.append(el("div", {class: "grid"},
    field("End user", "/end_user/name", text(eu.name, (v) => orDelete(eup.obj(), "name", v))),
    field("End user's country", "/end_user/country", countryInput(eup, "country")),
    field("End user is", "/end_user/kind", select(["", ...state.kinds], eu.kind || "", (v) => orDelete(eup.obj(), "kind", v),
      {"": "(not stated)"}))));
  const screened = el("input", {type: "checkbox", id: "screened", checked: Array.isArray(eu.lists),
    onchange: (e) => { const o = eup.obj(); if (e.target.checked) o.lists = o.lists || []; else delete o.lists; renderForm(); }});
  const lists = el("fieldset", {class: "checks", "data-field": "/end_user/lists"},
    el("legend", {}, "Restricted-party screening"),
    el("div", {class: "check"}, screened, el("label", {for: "screened"}, "The end user was screened (else: unknown)")));
  if (Array.isArray(eu.lists)) {
    state.lists.forEach((l, i) => {
      const id = "list-" + i;
      lists.append(el("div", {class: "check"},
        el("input", {type: "checkbox", id, checked: eu.lists.includes(l), "data-pointer": "/end_user/lists",
          onchange: (e) => { eu.lists = e.target.checked ? [...eu.lists, l] : eu.lists.filter((x) => x !== l); }}),
        el("label", {for: id}, "on " + l)));
    });
  }
  lists.append(el("p", {class: "field-error", "data-error-for": "/end_user/lists", hidden: true}));
  parties.append(lists);
  root.append(parties);

  // end use
  const known = Array.isArray(m.end_use);
  const uses = el("fieldset", {class: "checks cols", "data-field": "/end_use"}, el("legend", {}, "End use"),
    el("div", {class: "check wide"}, el("input", {type: "checkbox", id: "end-use-known", checked: known,
      onchange: (e) => { if (e.target.checked) m.end_use = m.end_use || []; else delete m.end_use; renderForm(); }}),
    el("label", {for: "end-use-known"}, "The end use is declared (none ticked: none of these)")));
  if (known) state.endUses.forEach((u, i) => {
    const id = "use-" + i;
    uses.append(el("div", {class: "check"},
      el("input", {type: "checkbox", id, checked: m.end_use.includes(u), "data-pointer": "/end_use",
        onchange: (e) => { m.end_use = e.target.checked ? [...m.end_use, u] : m.end_use.filter((x) => x !== u); }}),
      el("label", {for: id}, u.replace(/_/g, " "))));
  });
  uses.append(el("p", {class: "field-error", "data-error-for": "/end_use", hidden: true}));
  root.append(uses);

  // items
  m.items = m.items || [];
  const items = el("div", {class: "items", "data-field": "/items"}, el("h3", {}, "Items"),
    el("p", {class: "field-error", "data-error-for": "/items", hidden: true}));
  m.items.forEach((it, i) => items.append(itemFieldset(it, ["items", i], m.items, 0)));
  items.append(el("button", {type: "button", class: "add", onclick: () => { m.items.push(blankItem(m.items.length)); renderForm(); }}, "Add an item"));
  root.append(items);

  const other = Object.keys(m).filter((k) => !["id", "date", "kind", "ship_from", "destination", "description",
    "exporter", "end_user", "end_use", "items", "currency"].includes(k));
  if (other.length) root.append(el("p", {class: "hint"}, "Also in this transaction, kept as they are (edit them in the YAML tab): " + other.join(", ") + "."));
}

function blankItem(n) {
  return {id: "item-" + (n + 1), type: "commodity"};
}

function itemFieldset(it, parts, siblings, depth) {
  const ptr = pointerOf(parts);
  const name = depth ? "Component" : "Item";
  const fs = el("fieldset", {class: "item depth" + Math.min(depth, 3), "data-field": ptr},
    el("legend", {}, `${name} ${it.id || ""}`.trim()));
  fs.append(el("div", {class: "grid"},
    field("Id", ptr + "/id", text(it.id, (v) => orDelete(it, "id", v))),
    field("Description", ptr + "/description", text(it.description, (v) => orDelete(it, "description", v))),
    field("Type", ptr + "/type", select(state.itemTypes, it.type || "commodity", (v) => { it.type = v; })),
    field("Made in (origin)", ptr + "/origin", countryInput(it, "origin")),
    field("Value", ptr + "/value", el("input", {type: "text", inputmode: "decimal", value: it.value ?? "",
      oninput: (e) => { const v = e.target.value.trim(); if (v === "") delete it.value; else it.value = isNaN(Number(v)) ? v : Number(v); }}))));
  const clsp = lazy(it, "classification");
  const cls = clsp.get();
  const grid = el("div", {class: "grid cls"});
  for (const l of LISTS) {
    const has = Object.prototype.hasOwnProperty.call(cls, l);
    const mode = !has ? "unknown" : cls[l] === null ? "none" : "entry";
    const entry = el("input", {type: "text", value: mode === "entry" ? cls[l] : "", class: "short",
      disabled: mode !== "entry", spellcheck: "false", "aria-label": LIST_NAMES[l] + " entry",
      oninput: (e) => { clsp.obj()[l] = e.target.value.trim(); }});
    const sel = select(["unknown", "none", "entry"], mode, (v) => {
      const c = clsp.obj();
      if (v === "unknown") delete c[l]; else if (v === "none") c[l] = null; else c[l] = entry.value.trim();
      entry.disabled = v !== "entry"; if (v === "entry") entry.focus();
    }, {unknown: "not known yet", none: "checked: not listed", entry: "listed as:"});
    const f = field(LIST_NAMES[l], ptr + "/classification/" + l, sel);
    entry.dataset.pointer = ptr + "/classification/" + l;
    f.insertBefore(entry, f.querySelector(".field-error"));
    grid.append(f);
  }
  fs.append(el("details", {open: depth === 0 || Object.keys(cls).length ? true : null},
    el("summary", {}, "Classification on each list"), grid));
  // absent components = bill of materials not known (a regime may be indeterminate); [] = none
  const bomId = "bom-" + ptr.replace(/\//g, "-");
  const comps = el("div", {class: "components", "data-field": ptr + "/components"},
    el("div", {class: "check"}, el("input", {type: "checkbox", id: bomId, "data-pointer": ptr + "/components",
      checked: Array.isArray(it.components),
      onchange: (e) => { if (e.target.checked) it.components = it.components || []; else delete it.components; renderForm(); }}),
    el("label", {for: bomId}, `The bill of materials of ${it.id || name.toLowerCase()} is known (none added: it has no components)`)),
    el("p", {class: "field-error", "data-error-for": ptr + "/components", hidden: true}));
  (it.components || []).forEach((c, j) => comps.append(itemFieldset(c, [...parts, "components", j], it.components, depth + 1)));
  fs.append(comps);
  fs.append(el("div", {class: "row"},
    el("button", {type: "button", class: "add", onclick: () => { it.components = it.components || []; it.components.push(blankItem(it.components.length)); renderForm(); }},
      `Add a component to ${it.id || name.toLowerCase()}`),
    el("button", {type: "button", class: "remove", onclick: () => { siblings.splice(siblings.indexOf(it), 1); renderForm(); }},
      `Remove ${it.id || name.toLowerCase()}`)));
  return fs;
}

// ---------------------------------------------------------------- problems beside their fields

function clearErrors() {
  document.querySelectorAll(".field-error").forEach((p) => { p.hidden = true; p.textContent = ""; });
  document.querySelectorAll("[aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
  $("form-errors").hidden = true; $("form-errors").replaceChildren();
  $("yaml-errors").replaceChildren();
}

function showProblems(problems) {
  clearErrors();
  const general = [];
  let first = null;
  for (const p of problems) {
    const msg = p.message.replace(/^[^:]*: /, "");
    if (state.tab === "yaml") {
      $("yaml-errors").append(el("li", {}, p.line ? `line ${p.line}, column ${p.col}: ${p.message}` : p.message));
      continue;
    }
    let ptr = p.pointer;
    let slot = null;
    while (ptr !== undefined && ptr !== null) {
      slot = document.querySelector(`[data-error-for="${CSS.escape(ptr)}"]`);
      if (slot) break;
      if (ptr === "") break;
      ptr = ptr.slice(0, ptr.lastIndexOf("/"));
    }
    if (!slot) { general.push(p.message); continue; }
    slot.hidden = false;
    slot.textContent = (slot.textContent ? slot.textContent + " " : "") + (ptr === p.pointer ? msg : p.message);
    const input = document.querySelector(`[data-pointer="${CSS.escape(ptr)}"]`);
    if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
  }
  if (general.length) {
    const box = $("form-errors");
    box.hidden = false;
    box.append(el("p", {}, "The transaction has problems; nothing was evaluated:"), el("ul", {}, general.map((g) => el("li", {}, g))));
  }
  if (first) first.focus();
}

// ---------------------------------------------------------------- evaluating

async function currentModel() {
  if (state.tab === "form") return state.model;
  const r = await api("POST", "/v1/transactions:validate", $("yaml").value, "application/yaml");
  if (!r.ok) { showProblems(r.data.problems || [{message: r.data.message}]); return null; }
  state.model = r.data.transaction;
  return state.model;
}

async function evaluate() {
  clearErrors();
  const asOf = $("as-of").value;
  const q = asOf ? "?as_of=" + encodeURIComponent(asOf) : "";
  const body = state.tab === "yaml" ? $("yaml").value : JSON.stringify(state.model);
  const type = state.tab === "yaml" ? "application/yaml" : "application/json";
  $("evaluate").disabled = true;
  try {
    const r = await api("POST", "/v1/decisions" + q, body, type);
    if (!r.ok) {   // never leave an older decision beside a transaction that was not evaluated
      $("result").replaceChildren(el("p", {class: "hint"}, "Not evaluated: fix the problems marked in the transaction, then evaluate again."));
      $("print").disabled = true;
      showProblems(r.data.problems && r.data.problems.length ? r.data.problems : [{message: r.data.message || String(r.data)}]);
      return;
    }
    state.decision = r.data;
    renderDecision(r.data);
    $("decision").focus();
  } finally { $("evaluate").disabled = false; }
}

// ---------------------------------------------------------------- the decision, for people

function outcomeBadge(o, advisory) {
  return el("span", {class: `badge ${advisory ? "advisory" : "o-" + o}`},
    advisory ? "advisory: " + ADVISORY_WORDS[o] : OUTCOME_WORDS[o] || o);
}

function factsTable(facts) {
  const keys = Object.keys(facts || {});
  if (!keys.length) return null;
  return el("dl", {class: "facts"}, keys.map((k) => [el("dt", {}, k), el("dd", {}, JSON.stringify(facts[k]))]));
}

function obligations(list) {
  if (!Array.isArray(list) || !list.length) return null;
  return el("div", {class: "obligations"}, el("h4", {}, "Obligations"),
    el("ul", {class: "checklist"}, list.map((o, i) => {
      const id = "ob-" + Math.random().toString(36).slice(2);
      const words = typeof o === "string" ? o : (o.message || o.title || o.obligation || JSON.stringify(o));
      return el("li", {}, el("input", {type: "checkbox", id}), el("label", {for: id}, words,
        o && o.cite ? el("span", {class: "cite"}, " " + o.cite) : null));
    })));
}

function regimeSection(r) {
  const advisory = !r.binding;
  const sec = el("section", {class: "regime" + (advisory ? " is-advisory" : ""), "aria-label": r.regime},
    el("h3", {}, el("span", {class: "rid"}, r.regime), " ", outcomeBadge(r.outcome, advisory),
      r.denial_kind ? el("span", {class: "denial"}, r.denial_kind.replace(/_/g, " ")) : null),
    el("p", {class: "rtitle"}, r.title || "", r.version ? ` (version ${r.version})` : ""));
  if (r.at_least || r.at_most) sec.append(el("p", {class: "bounds"},
    `At least: ${OUTCOME_WORDS[r.at_least] || "?"}; at most: ${OUTCOME_WORDS[r.at_most] || "?"}.`));
  if (r.note) sec.append(el("p", {class: "note"}, r.note));
  if (r.findings.length) {
    sec.append(el("ul", {class: "findings"}, r.findings.map((f) => el("li", {},
      el("p", {class: "fmsg"}, outcomeBadge(f.outcome, advisory), " ", f.message,
        f.authorization ? el("strong", {}, ` (${f.authorization})`) : null),
      el("p", {class: "cite"}, el("span", {class: "label"}, "Law: "), f.cite,
        el("span", {class: "rule"}, ` · rule ${f.rule}`), f.item ? ` · item ${f.item}` : ""),
      f.unverified ? el("p", {class: "unverified"}, "Unverified: " + f.unverified) : null,
      factsTable(f.because)))));
  }
  if (r.checked && r.checked.length) {
    sec.append(el("details", {class: "checked"}, el("summary", {}, `Why not: ${r.checked.length} check(s) behind this answer`),
      el("ul", {}, r.checked.map((c) => el("li", {},
        el("p", {}, c.message, c.exception_to ? ` (exception to ${c.exception_to})` : ""),
        el("p", {class: "cite"}, el("span", {class: "label"}, "Law: "), c.cite, el("span", {class: "rule"}, ` · rule ${c.rule}`),
          c.item ? ` · item ${c.item}` : ""),
        el("p", {class: "failed"}, "Did not hold: ", el("code", {}, c.failed)), factsTable(c.facts))))));
  }
  const ob = obligations(r.obligations);
  if (ob) sec.append(ob);
  return sec;
}

function answerInput(q, i) {
  const parts = parsePath(q.fact);
  const id = "answer-" + i;
  if (/ in /.test(q.fact) || !parts.length) return el("p", {class: "hint"}, "Answer this by checking the list named.");
  const s = schemaAt(parts);
  const options = enumOf(s);
  let input;
  let hint = "";
  if (s.type === "boolean") input = select(["", "true", "false"], "", () => {}, {"": "choose", "true": "yes", "false": "no"});
  else if (s.type === "array" && options.length) { input = el("input", {type: "text"}); hint = "comma-separated, any of: " + options.join(", ") + " (empty: none)"; }
  else if (s.type === "array") { input = el("input", {type: "text", value: "[]"}); hint = "JSON, e.g. [] for none"; }
  else if (options.length) input = select(["", ...options], "", () => {}, {"": "choose"});
  else if (parts[parts.length - 2] === "classification") { input = el("input", {type: "text"}); hint = "the entry, or leave empty for: checked, not on this list"; }
  else input = el("input", {type: "text"});
  input.id = id;
  input.dataset.pointer = pointerOf(parts);
  input.dataset.fact = q.fact;
  input.dataset.kind = s.type === "array" ? (options.length ? "list" : "json") :
    s.type === "boolean" ? "bool" : (s.type === "number" || s.type === "integer") ? "number" :
    parts[parts.length - 2] === "classification" ? "classification" : "text";
  return el("div", {class: "field"}, el("label", {for: id}, q.ask), input,
    hint ? el("p", {class: "hint"}, hint) : null,
    el("p", {class: "hint"}, "Needed by: ", q.rules.map((r) => r.rule).join(", "), q.settles ? "" : " (other answers are needed too)"),
    el("p", {class: "field-error", "data-error-for": pointerOf(parts), hidden: true}));
}

function answerValue(input) {
  const v = input.value.trim();
  switch (input.dataset.kind) {
    case "list": return v ? v.split(",").map((x) => x.trim()).filter(Boolean) : [];
    case "json": try { return JSON.parse(v || "[]"); } catch { return v; }
    case "bool": return v === "" ? undefined : v === "true";
    case "number": return v === "" ? undefined : Number(v);
    case "classification": return v === "" ? null : v;
    default: return v === "" ? undefined : v;
  }
}

async function answerQuestions(form) {
  const model = await currentModel();
  if (!model) return;
  for (const input of form.querySelectorAll("[data-fact]")) {
    const v = answerValue(input);
    if (v === undefined) continue;
    setAt(model, parsePath(input.dataset.fact), v);
  }
  if (state.tab === "yaml") $("yaml").value = yamlText(model); else renderForm();
  await evaluate();
}

function renderDecision(d) {
  const out = $("result");
  out.replaceChildren();
  const binding = d.regimes.filter((r) => r.binding);
  const advisory = d.regimes.filter((r) => !r.binding);
  out.append(el("div", {class: "outcome o-" + d.outcome, id: "outcome"},
    el("p", {class: "o-label"}, "Outcome"),
    el("p", {class: "o-word"}, OUTCOME_WORDS[d.outcome] || d.outcome),
    el("p", {class: "o-meta"}, `Transaction ${d.transaction}, law in force on ${d.as_of}`,
      d.driven_by && d.driven_by.length ? `; set by ${d.driven_by.join(", ")}` : ""),
    d.at_least || d.at_most ? el("p", {class: "o-meta"},
      `Whatever the answers: at least ${OUTCOME_WORDS[d.at_least] || "?"}, at most ${OUTCOME_WORDS[d.at_most] || "?"}.`) : null));
  for (const w of d.warnings || []) out.append(el("p", {class: "warning", role: "note"}, "Warning: ", w.message));
  if (d.questions && d.questions.length) {
    const form = el("form", {class: "questions", id: "questions", onsubmit: (e) => { e.preventDefault(); answerQuestions(e.target); }},
      el("h3", {}, "Open questions"),
      el("p", {class: "hint"}, "The facts that would settle it. Answer here and re-evaluate."),
      d.questions.map((q, i) => answerInput(q, i)),
      el("button", {type: "submit", class: "primary"}, "Answer and re-evaluate"));
    out.append(form);
  }
  const ob = obligations(d.obligations);
  if (ob) out.append(ob);
  out.append(el("h3", {class: "group"}, "Binding regimes"));
  binding.forEach((r) => out.append(regimeSection(r)));
  for (const c of d.conflicts || []) out.append(el("section", {class: "conflict"},
    el("h3", {}, "Conflict of laws: ", c.title), el("p", {}, c.message), el("p", {class: "cite"}, el("span", {class: "label"}, "Law: "), c.cite)));
  if (advisory.length) {
    const adv = el("section", {class: "advisory-group"}, el("h3", {class: "group"}, "Advisory regimes (not binding)"),
      el("p", {class: "hint"}, "How partner governments review such transfers. They never set the outcome and require nothing by themselves."));
    advisory.forEach((r) => adv.append(regimeSection(r)));
    if (d.advisory_questions && d.advisory_questions.length)
      adv.append(el("ul", {class: "hint"}, d.advisory_questions.map((q) => el("li", {}, q.ask))));
    out.append(adv);
  }
  out.append(el("p", {class: "digest"}, `Policies ${d.policy_digest} · ${d.engine || ""}`));
  $("print").disabled = false;
}

// ---------------------------------------------------------------- tabs, examples, start

async function setTab(tab) {
  if (tab === state.tab) return;
  if (tab === "form") {            // YAML -> form: the server reads the YAML
    const model = await currentModel();
    if (!model) return;
  } else {
    $("yaml").value = yamlText(state.model);
  }
  clearErrors();
  state.tab = tab;
  for (const t of ["form", "yaml"]) {
    const on = t === tab;
    $("tab-" + t).setAttribute("aria-selected", on ? "true" : "false");
    $("tab-" + t).tabIndex = on ? 0 : -1;
    $("panel-" + t).hidden = !on;
  }
  if (tab === "form") renderForm();
  $("tab-" + tab).focus();
}

async function loadExample(name) {
  const r = await api("GET", "/v1/examples/" + encodeURIComponent(name));
  if (!r.ok) return;
  $("yaml").value = r.data;
  const v = await api("POST", "/v1/transactions:validate", r.data, "application/yaml");
  if (v.ok) { state.model = v.data.transaction; }
  if (state.tab === "form") renderForm();
  const opt = $("example").selectedOptions[0];
  $("example-title").textContent = opt ? opt.title : "";
}

async function start() {
  const [schema, pol, ex] = await Promise.all([api("GET", "/v1/schema/transaction"), api("GET", "/v1/policies"), api("GET", "/v1/examples")]);
  if (!schema.ok) { $("policy-meta").textContent = "The server refused: " + (schema.data.message || schema.status); return; }
  state.schema = schema.data;
  state.endUses = enumOf(resolve(state.schema.properties.end_use).items);
  state.kinds = enumOf(schemaAt(["end_user", "kind"]));
  state.lists = enumOf(schemaAt(["end_user", "lists"]));
  state.itemTypes = enumOf(schemaAt(["items", 0, "type"]));
  state.txKinds = enumOf(schemaAt(["kind"]));
  if (pol.ok) {
    const ids = (b) => pol.data.regimes.filter((r) => r.binding === b).map((r) => r.regime).join(", ");
    $("policy-meta").textContent = `Binding: ${ids(true)} · advisory: ${ids(false)} · policies ${pol.data.policy_digest.slice(0, 19)}…`;
    $("policy-meta").title = pol.data.regimes.map((r) => `${r.regime}: ${r.version || ""}`).join("\n");
  }
  $("example").replaceChildren();
  for (const e of (ex.ok ? ex.data.examples : [])) $("example").append(el("option", {value: e.name, title: e.title}, e.name));
  const wanted = new URLSearchParams(location.search).get("example");
  const names = ex.ok ? ex.data.examples.map((e) => e.name) : [];
  const first = names.includes(wanted) ? wanted : names.includes("fr-sat-unknown-bom-to-cn-2026") ? "fr-sat-unknown-bom-to-cn-2026" : names[0];
  state.model = {id: "TX-1", date: new Date().toISOString().slice(0, 10), destination: "", items: [blankItem(0)]};
  if (first) { $("example").value = first; await loadExample(first); } else renderForm();
}

document.addEventListener("DOMContentLoaded", () => {
  $("tx-form").addEventListener("submit", (e) => { e.preventDefault(); evaluate(); });
  $("tab-form").addEventListener("click", () => setTab("form"));
  $("tab-yaml").addEventListener("click", () => setTab("yaml"));
  document.querySelector(".tabs").addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") { e.preventDefault(); setTab(state.tab === "form" ? "yaml" : "form"); }
  });
  $("load-example").addEventListener("click", () => loadExample($("example").value));
  $("blank").addEventListener("click", () => {
    state.model = {id: "TX-1", date: new Date().toISOString().slice(0, 10), destination: "", items: [blankItem(0)]};
    $("yaml").value = yamlText(state.model);
    renderForm();
  });
  $("print").addEventListener("click", () => window.print());
  $("token-box").addEventListener("submit", (e) => {
    e.preventDefault();
    state.token = $("token").value; sessionStorage.setItem("exportctl-token", state.token);
    $("token-box").hidden = true; start();
  });
  start();
});
