// The fleet dashboard. Plain DOM, no build step, no third-party code.
//
// Rules this file keeps: every value from the API reaches the page through textContent (el() below),
// never innerHTML, so a twin name or an ARM message containing markup is shown as text; the only
// credential it holds is the one typed into this tab (sessionStorage), sent only to this origin; on
// Azure it holds none (App Service Authentication's session cookie goes with same-origin requests).
"use strict";

const API = "/api/cp";
const CREDENTIAL_KEY = "twinstack.dashboard.credential";
const DEFAULT_REFRESH_SECONDS = 5;
const TERMINAL_ROLLOUTS = ["halted", "aborted", "completed"];
// Rollout controls, data-driven: a new control is one line here (the API route is POST /rollouts/{id}/{action}).
const ROLLOUT_CONTROLS = [
  { action: "pause", label: "Pause", shownWhen: (r) => r.status === "running" && r.control !== "pause" },
  { action: "resume", label: "Resume", shownWhen: (r) => r.status === "paused" || r.control === "pause" },
  { action: "approve", label: "Approve next wave", shownWhen: (r) => r.status === "awaiting_approval", confirm: true },
  { action: "abort", label: "Abort", shownWhen: (r) => !TERMINAL_ROLLOUTS.includes(r.status), confirm: true },
];
const STATUS_BARS = { active: "ok", errored: "bad", missing: "bad", stale: "warn", updating: "warn" };
const statusBar = (status) => STATUS_BARS[status] || "";
const WAVE_PARTS = ["succeeded", "failed", "rolled_back", "skipped"];
// The steps each kind of job goes through, in order (orchestrators/provision.py, update.py, teardown.py).
const JOB_STEPS = {
  provision: ["names", "resource_group", "storage_account", "function_app", "publish", "readiness", "activate", "active"],
  update: ["publish", "activate", "active"],
  teardown: ["wait_for_provisioning", "delete_resource_group", "verify_deleted", "record_deleted", "deleted"],
};

let refreshTimer = null;
let signedInAs = null; // "operator" | "owner"
const seenEvents = new Map(); // cloud_id -> [{at, text}] transitions this tab has watched happen

// --- the DOM, escaped by construction ------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function statusBadge(status) {
  return el("span", { class: `status status-${String(status).replace(/[^a-z_]/g, "")}` }, status);
}

function card(title, ...body) {
  return el("section", { class: "card" }, el("h2", {}, title), ...body);
}

function bars(counts, cssClass) {
  const entries = Object.entries(counts || {}).filter(([, n]) => n > 0);
  if (!entries.length) return el("p", { class: "muted" }, "none");
  const most = Math.max(...entries.map(([, n]) => n));
  const classOf = typeof cssClass === "function" ? cssClass : () => cssClass;
  return el("div", { class: "bars" }, entries.map(([label, n]) => barRow(label, n, most, classOf(label))));
}

function barRow(label, value, of, cssClass, shown) {
  const fill = el("div", { class: `bar-fill ${cssClass || ""}` });
  fill.style.width = `${of > 0 ? Math.min(100, (100 * value) / of) : 0}%`; // CSSOM, allowed by style-src 'self'
  return el("div", { class: "bar-row", "data-label": label },
    el("span", { class: "bar-label", title: label }, label), el("div", { class: "bar-track" }, fill),
    el("span", { class: "bar-value" }, shown === undefined ? value : shown));
}

// --- the API, with the caller's credential ---------------------------------------------------------

function credentialHeaders() {
  const credential = sessionStorage.getItem(CREDENTIAL_KEY);
  if (!credential) return {};
  // A JWT is three base64url parts; anything else is an operator API key.
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(credential) ? { Authorization: `Bearer ${credential}` } : { "x-api-key": credential };
}

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
  }
}

let lastRetryAfter = null;

async function api(path, options) {
  const response = await fetch(API + path, {
    ...options, credentials: "same-origin", cache: "no-store",
    headers: { Accept: "application/json", ...credentialHeaders(), ...((options && options.headers) || {}) },
  });
  const retryAfter = Number(response.headers.get("Retry-After"));
  if (retryAfter > 0) lastRetryAfter = Math.max(lastRetryAfter || 0, retryAfter);
  const body = response.headers.get("Content-Type")?.includes("json") ? await response.json() : null;
  if (response.status === 401) { showSignIn("Not signed in, or the key or token was refused."); throw new ApiError(401, body); }
  if (!response.ok) throw new ApiError(response.status, body);
  return { status: response.status, body };
}

async function optional(path) {
  try { return (await api(path)).body; } catch (error) { if (error.status === 401) throw error; return { unavailable: error.message }; }
}

// --- views -------------------------------------------------------------------------------------------

async function fleetView() {
  const parts = [];
  if (signedInAs === "operator") {
    const [health, capacity, errored, missing, stale] = await Promise.all([
      optional("/health"), optional("/fleet/capacity"), optional("/brainstems?status=errored&limit=50"),
      optional("/brainstems?status=missing&limit=50"), optional("/brainstems?stale=true&limit=50"),
    ]);
    const byStatus = {};
    for (const key of ["provisioning", "active", "updating", "errored", "deleting", "missing"]) byStatus[key] = health[key] || 0;
    parts.push(el("div", { class: "grid" },
      card(`Twins by status (${health.total ?? "?"} in all)`, el("div", { id: "by-status" }, bars(byStatus, statusBar))),
      card("By runtime target", el("div", { id: "by-runtime-target" }, bars(health.by_runtime_target))),
      card("By deploy_ref", el("div", { id: "by-deploy-ref" }, bars(health.by_deploy_ref)))));
    parts.push(card("Errored, missing and stale twins", troubleTable([
      ...(errored.items || []), ...(missing.items || []), ...(stale.items || []).map((r) => ({ ...r, status: "stale" })),
    ])));
    parts.push(capacityCards(capacity));
  }
  const mine = await api("/brainstems?limit=100");
  const rows = mine.body.items;
  if (signedInAs === "owner") {
    const counted = (field) => rows.reduce((acc, r) => ({ ...acc, [r[field]]: (acc[r[field]] || 0) + 1 }), {});
    parts.push(el("div", { class: "grid" }, card(`Your twins by status (${rows.length})`, bars(counted("status"), statusBar)),
      card("By deploy_ref", bars(counted("deploy_ref")))));
    parts.push(card("Errored and missing", troubleTable(rows.filter((r) => ["errored", "missing"].includes(r.status)))));
  }
  parts.push(card(signedInAs === "owner" ? "Your twins" : "Twins (first 100)", twinsTable(rows, mine.body.next)));
  return parts;
}

function twinLink(cloudId) {
  return el("a", { href: `#twin/${encodeURIComponent(cloudId)}`, class: "twin-link" }, cloudId);
}

function twinsTable(rows, next) {
  if (!rows.length) return el("p", { class: "muted" }, "no twins yet");
  return el("div", {}, el("table", { id: "twins" },
    el("thead", {}, el("tr", {}, ["cloud_id", "owner", "status", "region", "runtime target", "deploy_ref"].map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((r) => el("tr", { "data-cloud-id": r.cloud_id },
      el("td", {}, twinLink(r.cloud_id)), el("td", {}, r.owner), el("td", {}, statusBadge(r.status)),
      el("td", {}, r.region), el("td", {}, r.runtime_target), el("td", {}, r.deploy_ref))))),
    next ? el("p", { class: "muted" }, "more twins than shown: use twinctl list or the API's next token") : null);
}

function troubleTable(rows) {
  if (!rows.length) return el("p", { class: "muted", id: "trouble-none" }, "none: every twin is healthy");
  return el("table", { id: "trouble" },
    el("thead", {}, el("tr", {}, ["cloud_id", "status", "step", "error", "noticed_at / last seen"].map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((r) => el("tr", { "data-cloud-id": r.cloud_id },
      el("td", {}, twinLink(r.cloud_id)), el("td", {}, statusBadge(r.status)), el("td", {}, r.error?.step ?? ""),
      el("td", { class: "message" }, r.error ? `${r.error.code}: ${r.error.message}` : ""),
      el("td", {}, r.error?.noticed_at ?? r.last_seen)))));
}

function capacityCards(capacity) {
  if (!capacity.subscriptions) return card("Capacity", el("p", { class: "muted" }, capacity.unavailable || "unavailable"));
  return el("div", { class: "grid" }, capacity.subscriptions.map((s) => card(`Subscription ${s.subscription_id}`,
    el("h3", {}, "ARM budget backlog"),
    Object.entries(s.arm_budget).map(([bucket, b]) => barRow(`${bucket} in use`, b.burst - b.available, b.burst,
      b.queued_requests > 0 ? "warn" : "", `${Math.round(b.burst - b.available)}/${b.burst}`)),
    Object.entries(s.arm_budget).map(([bucket, b]) => el("p", { class: "muted" },
      `${bucket}: ${b.queued_requests} requests booked ahead, next free in ${b.wait_seconds}s (${b.rate_per_second}/s)`)),
    el("h3", {}, "Placement"),
    barRow("resource groups", s.resource_groups, s.resource_group_limit, "", `${s.resource_groups}/${s.resource_group_limit}`),
    s.regions.filter((r) => r.twins > 0).map((r) => barRow(r.region, r.twins, r.limit,
      r.twins >= r.limit ? "bad" : "", `${r.twins}/${r.limit}`)),
    el("p", { class: "muted" }, `${s.regions.filter((r) => r.twins === 0).length} more regions hold no twins`))));
}

async function rolloutsView() {
  if (signedInAs !== "operator") return [card("Rollouts", el("p", { class: "muted" }, "rollouts are for operators"))];
  const { body } = await api("/rollouts");
  if (!body.items.length) return [card("Rollouts", el("p", { class: "muted" }, "no rollouts yet"))];
  return body.items.map(rolloutCard);
}

function rolloutCard(r) {
  const controls = ROLLOUT_CONTROLS.filter((c) => c.shownWhen(r)).map((c) => el("button", {
    type: "button", "data-action": c.action, onclick: () => controlRollout(r.rollout_id, c),
  }, c.label));
  return el("section", { class: "card rollout", "data-rollout-id": r.rollout_id },
    el("h2", {}, `Rollout to ${r.spec?.deploy_ref ?? "?"} `, statusBadge(r.status)),
    el("p", { class: "muted" }, `${r.rollout_id} · by ${r.created_by ?? "?"} · wave ${r.wave} · updated ${r.updated_at ?? ""}`),
    r.message ? el("p", { class: "message" }, r.message) : null,
    el("div", { class: "waves" }, r.waves.map(waveRow)),
    el("div", { class: "controls" }, controls));
}

function waveRow(w) {
  const total = Math.max(1, w.selected + w.skipped);
  const track = el("div", { class: "bar-track" }, WAVE_PARTS.map((part) => {
    const seg = el("div", { class: `bar-fill seg-${part}`, title: `${part}: ${w[part]}` });
    seg.style.width = `${(100 * w[part]) / total}%`;
    return seg;
  }));
  const inFlight = w.selected - w.succeeded - w.failed;
  return el("div", { class: "wave", "data-wave": w.wave },
    el("div", { class: "bar-row" }, el("span", { class: "bar-label" }, `wave ${w.wave}`), track,
      el("span", { class: "bar-value wave-counts" }, `${w.succeeded}/${w.selected}` + (inFlight > 0 ? " …" : ""))),
    el("p", { class: "muted wave-detail" },
      `selected ${w.selected} · succeeded ${w.succeeded} · failed ${w.failed} · rolled back ${w.rolled_back} · skipped ${w.skipped}`));
}

async function controlRollout(rolloutId, control) {
  if (control.confirm && !window.confirm(`${control.label} rollout ${rolloutId}?`)) return;
  try { await api(`/rollouts/${encodeURIComponent(rolloutId)}/${encodeURIComponent(control.action)}`, { method: "POST" }); }
  catch (error) { setStatusLine(`${control.action} refused: ${error.message}`); }
  render();
}

async function twinView(cloudId) {
  const { body: row } = await api(`/brainstems/${encodeURIComponent(cloudId)}`);
  const job = row.job_id ? await optional(`/brainstems/${encodeURIComponent(row.job_id)}`) : null;
  noteEvent(row, job);
  const fields = ["cloud_id", "name", "owner", "status", "region", "subscription_id", "runtime_target", "deploy_ref",
    "previous_deploy_ref", "target_deploy_ref", "url", "created_at", "last_seen", "job_id"];
  const rowList = el("dl", { class: "row", id: "twin-row" }, fields.filter((f) => row[f]).map((f) => [el("dt", {}, f), el("dd", {}, row[f])]));
  const parts = [card(`Twin ${row.cloud_id} `, statusBadge(row.status), rowList)];
  if (row.error) parts.push(card("Error", el("p", { class: "message", id: "twin-error" }, `${row.error.step}: ${row.error.code}: ${row.error.message}`)));
  parts.push(card(`Job ${job?.kind ?? ""} · ${job?.runtime_status ?? "unknown"}`, timeline(job, row)));
  const events = seenEvents.get(row.cloud_id) || [];
  parts.push(card("Events this page has seen", el("ol", { id: "twin-events" }, events.map((e) => el("li", {}, `${e.at} ${e.text}`)))));
  return parts;
}

function timeline(job, row) {
  if (!job || job.unavailable) return el("p", { class: "muted" }, "the job is no longer known to Durable (purged)");
  const steps = JOB_STEPS[job.kind] || [];
  const failedStep = row.error?.step;
  const current = job.done && job.runtime_status === "Completed" ? steps[steps.length - 1] : job.step || failedStep;
  const at = steps.indexOf(failedStep && row.status === "errored" ? failedStep : current);
  return el("ol", { class: "timeline", id: "job-steps" }, steps.map((step, i) => {
    let state = i < at || (job.done && job.runtime_status === "Completed") ? "done" : i === at ? "current" : "pending";
    if (i === at && row.status === "errored") state = "failed";
    return el("li", { class: state, "data-step": step }, step);
  }));
}

function noteEvent(row, job) {
  const events = seenEvents.get(row.cloud_id) || [];
  const text = `${row.status}${job?.step ? ` · step ${job.step}` : ""}`;
  if (!events.length || events[events.length - 1].text !== text) events.push({ at: new Date().toISOString(), text });
  seenEvents.set(row.cloud_id, events.slice(-50));
}

// --- routing, sign-in and refresh --------------------------------------------------------------------

function setStatusLine(text) { document.getElementById("status-line").textContent = text; }

function showSignIn(message) {
  sessionStorage.removeItem(CREDENTIAL_KEY);
  signedInAs = null;
  clearTimeout(refreshTimer);
  document.getElementById("sign-in").hidden = false;
  document.getElementById("sign-in-error").textContent = message || "";
  document.getElementById("view").replaceChildren();
  document.getElementById("sign-out").hidden = true;
}

async function whoAmI() {
  try { await api("/health"); return "operator"; } catch (error) { if (error.status === 403) return "owner"; throw error; }
}

async function render() {
  clearTimeout(refreshTimer);
  lastRetryAfter = null;
  const [view, arg] = (location.hash.replace(/^#/, "") || "fleet").split("/");
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("current", link.id === `nav-${view}`);
  try {
    signedInAs = signedInAs || (await whoAmI());
    document.getElementById("sign-in").hidden = true;
    document.getElementById("sign-out").hidden = !sessionStorage.getItem(CREDENTIAL_KEY);
    document.getElementById("who").textContent = signedInAs === "operator" ? "operator: the whole fleet" : "owner: your twins only";
    const parts = view === "rollouts" ? await rolloutsView() : view === "twin" && arg ? await twinView(decodeURIComponent(arg)) : await fleetView();
    document.getElementById("view").replaceChildren(...parts);
    document.body.dataset.view = view;
    document.body.dataset.rendered = String(Date.now());
    setStatusLine(`updated ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    if (error.status === 401) return;
    setStatusLine(`could not refresh: ${error.message}`);
    // A refusal (404, 403, 400) is an answer about this view: show it instead of the last view's data.
    // A transient failure (5xx, no network) keeps what was shown, and the next poll tries again.
    if (error.status >= 400 && error.status < 500) {
      document.getElementById("view").replaceChildren(card("Not available", el("p", { class: "error", id: "view-error" }, error.message)));
    }
  }
  // Poll: as often as the API's Retry-After asks (a running job's 202, a 429 or 503), else every few seconds.
  refreshTimer = setTimeout(render, 1000 * (lastRetryAfter || DEFAULT_REFRESH_SECONDS));
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("credential");
    sessionStorage.setItem(CREDENTIAL_KEY, input.value.trim());
    input.value = "";
    signedInAs = null;
    render();
  });
  document.getElementById("sign-out").addEventListener("click", () => showSignIn("Signed out."));
  window.addEventListener("hashchange", render);
  render();
});
