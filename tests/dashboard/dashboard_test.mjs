// Dashboard end to end: build/spool serves the page, headless Debian Chromium (driven by
// playwright-core) loads it, and every button of every view is clicked, with its effect checked
// through the API; each confirmation is first dismissed (nothing may change), then accepted.
// A screenshot of each view is saved in SCREENSHOT_DIR (CI keeps it as an artifact).
//   node dashboard_test.mjs SPOOL_BINARY SCREENSHOT_DIR
// Without Chromium or playwright-core it fails under CI=true, and prints SKIPPED otherwise.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const [spoolBin, screenshotDir] = process.argv.slice(2);
const chromiumPath = "/usr/bin/chromium";
const started = Date.now();
const cleanups = [];

function log(msg) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(2)}s] ${msg}`);
}

async function cleanup() {
  while (cleanups.length) {
    try {
      await cleanups.pop()();
    } catch (e) {
      console.error(`cleanup: ${e.message}`);
    }
  }
}

async function fail(msg) {
  console.error(`FAILED: ${msg}`);
  await cleanup();
  process.exit(1);
}

async function skipOrFail(msg) {
  if (process.env.CI === "true") await fail(`${msg} (required under CI=true; scripts/test installs it)`);
  console.log(`SKIPPED: ${msg}`);
  process.exit(0);
}

// Polls `check` (async, returns a truthy value when done) every `everyMs` until `limitMs`.
async function until(what, check, limitMs = 10000, everyMs = 50) {
  const deadline = Date.now() + limitMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > deadline) await fail(`${what} (not within ${limitMs} ms; last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

if (!spoolBin || !screenshotDir) await fail("usage: node dashboard_test.mjs SPOOL_BINARY SCREENSHOT_DIR");
if (!existsSync(chromiumPath)) await skipOrFail(`${chromiumPath} not found (Debian package chromium)`);
let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch {
  await skipOrFail("npm package playwright-core is not installed in tests/dashboard (npm ci --prefix tests/dashboard)");
}

// The whole test is bounded: a hang anywhere ends it.
const watchdog = setTimeout(() => fail("the test did not finish within 150 s"), 150000);

// --- the server -------------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), "spool-dashboard-"));
cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SPOOL_")));
// A concurrency limit (never binding here), for the overview's limits table.
writeFileSync(join(dir, "spool.json"), JSON.stringify({ limits: [{ kind: "sleep", concurrency: 1000 }] }));
const server = spawn(
  spoolBin,
  ["--db", `sqlite:${join(dir, "spool.db")}`, "--config", join(dir, "spool.json"), "run", "--http", "127.0.0.1:0", "--diagnostic-kinds",
   "--log-format", "json", "--poll", "0.2", "--grace", "1"],
  { env, stdio: ["ignore", "ignore", "pipe"] },
);
let exited = null;
const exitedPromise = new Promise((resolve) => server.on("exit", (code, signal) => resolve((exited = { code, signal }))));
cleanups.push(async () => {
  if (exited) return;
  server.kill("SIGTERM");
  const timer = setTimeout(() => server.kill("SIGKILL"), 10000);
  await exitedPromise;
  clearTimeout(timer);
});
const stderrTail = [];
let port = null;
createInterface({ input: server.stderr }).on("line", (line) => {
  stderrTail.push(line);
  if (stderrTail.length > 50) stderrTail.shift();
  try {
    const ev = JSON.parse(line);
    if (ev.event === "http_listening") port = Number(ev.port);
  } catch {
    /* not JSON: ignore */
  }
});
await until("spool run logged http_listening", () => {
  if (exited) throw new Error(`spool exited: ${JSON.stringify(exited)}\n${stderrTail.join("\n")}`);
  return port;
});
const base = `http://127.0.0.1:${port}`;
log(`spool listens on ${base}`);

async function api(method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(data)}`);
  return data;
}

// --- the browser ------------------------------------------------------------------------------
const profile = mkdtempSync(join(tmpdir(), "spool-chromium-"));
cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: chromiumPath,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
cleanups.push(() => context.close());
const page = context.pages()[0] ?? (await context.newPage());
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(e.message));
// Failed requests are reported by URL below; the browser's own /favicon.ico probe is not the page's.
page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && pageErrors.push(m.text()));
page.on("response", (r) => {
  if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico") pageErrors.push(`${r.status()} for ${r.url()}`);
});
page.on("requestfailed", (r) => pageErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
page.on("dialog", (d) => {
  pageErrors.push(`dialog: ${d.message()}`);
  d.dismiss();
});

// A step that throws (a click that finds nothing) fails the test, with the server stopped.
process.on("uncaughtException", (e) => fail(e.stack ?? String(e)));
mkdirSync(screenshotDir, { recursive: true });
async function screenshot(name) {
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  log(`screenshot ${path}`);
}
const job = (id) => api("GET", `/api/v1/jobs/${id}`);
const stateOf = async (id) => (await job(id)).state;
async function gone(id) {
  const r = await fetch(`${base}/api/v1/jobs/${id}`);
  return r.status === 404;
}
async function nav(view) {
  await page.click(`nav a[data-view="${view}"]`);
  await until(`the ${view} view is shown`, () => page.locator(`#view-${view}`).isVisible());
}
async function openJob(id) {
  await page.fill("#job-id", String(id));
  await page.click("#show-job");
  await until(`the page of job ${id} is shown`, async () =>
    (await page.locator("#job-summary").textContent().catch(() => "")).startsWith(`Job ${id}:`));
}
// Clicks `selector`, waits for the in-page confirmation and answers it; returns its text.
async function confirmed(selector, accept, screenshotName) {
  await page.click(selector);
  await until(`${selector} asks for confirmation`, () => page.locator("#confirm[open]").count());
  const text = await page.locator("#confirm-text").textContent();
  if (screenshotName) await screenshot(screenshotName);
  await page.click(accept ? "#confirm-ok" : "#confirm-cancel");
  await until("the confirmation closed", async () => (await page.locator("#confirm[open]").count()) === 0);
  return text;
}
// A dismissed confirmation sends nothing: the job is as it was a moment later.
async function unchanged(id, state) {
  await new Promise((r) => setTimeout(r, 300));
  const now = await stateOf(id);
  if (now !== state) await fail(`job ${id} is ${now} after a dismissed confirmation, was ${state}`);
}
const rowIds = async () =>
  page.locator("#job-list tbody tr[data-job]").evaluateAll((rows) => rows.map((r) => Number(r.dataset.job)));
async function search(fields) {
  await page.click("#filter-clear");
  await until("the filters are cleared", async () => (await page.evaluate(() => location.hash)) === "#/jobs");
  // Lets the hashchange run before the form is filled.
  await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
  for (const [name, value] of Object.entries(fields)) {
    const input = page.locator(`#filters [name="${name}"]`);
    if ((await input.evaluate((e) => e.tagName)) === "SELECT") await input.selectOption(value);
    else await input.fill(value);
  }
  await page.click("#filter-apply");
}
async function listed(what, expected) {
  const want = [...expected].sort((a, b) => b - a);
  await until(what, async () => JSON.stringify(await rowIds()) === JSON.stringify(want));
}

// --- the jobs ---------------------------------------------------------------------------------
const testStart = new Date();
await page.goto(base + "/");
log("page loaded");
await until("the queues table shows the default queue", () => page.locator('#queues tr[data-queue="default"]').count());
if ((await page.title()) !== "Spool") await fail(`page title is '${await page.title()}'`);
await until("the limits table shows the sleep kind's limit", () => page.locator('#limits tr[data-limit="kind:sleep"]').count());
const nodeId = (await api("GET", "/api/v1/nodes")).nodes.find((n) => n.self).id;

// Retried with growing delays (1 s, 2 s, 4 s, 8 s): by its fourth failure it waits long enough
// to be caught retrying.
const retrying = await api("POST", "/api/v1/jobs", { kind: "fail", payload: { times: 99 }, max_attempts: 10 });
const sleeper = await api("POST", "/api/v1/jobs", { kind: "sleep", payload: { ms: 120000, steps: 1200 } });
const flaky = await api("POST", "/api/v1/jobs", { kind: "fail", payload: { times: 1 }, max_attempts: 3 });
const withResult = await api("POST", "/api/v1/jobs", { kind: "noop", payload: { result: { answer: 42 } } });
const batch = await api("POST", "/api/v1/jobs/batch", Array.from({ length: 10 }, () => ({ kind: "noop" })));
const dead = (await api("POST", "/api/v1/jobs/batch",
  Array.from({ length: 6 }, () => ({ kind: "fail", payload: { times: 99 }, max_attempts: 1 })))).jobs.map((j) => j.id);
const scheduled = (await api("POST", "/api/v1/jobs/batch", [
  { kind: "noop", delay_s: 3600 }, { kind: "noop", delay_s: 3600 }, { kind: "noop", delay_s: 3600, unique_key: "report-42" },
])).jobs.map((j) => j.id);
const laterSleep = await api("POST", "/api/v1/jobs", { kind: "sleep", delay_s: 3600 });
for (const id of [withResult.id, ...batch.jobs.map((j) => j.id), flaky.id])
  await until(`job ${id} completed`, async () => (await stateOf(id)) === "completed", 15000);
for (const id of dead) await until(`job ${id} dead`, async () => (await stateOf(id)) === "dead");
await until("the sleep job runs", async () => (await stateOf(sleeper.id)) === "running");
await until("the failing job is retrying after its fourth attempt", async () => {
  const j = await job(retrying.id);
  return j.state === "retrying" && j.attempt >= 4;
}, 20000);
log("jobs enqueued: completed, dead, retrying, running and scheduled ones");

// --- queues: pause (so that what is retried or requeued stays put) ---------------------------
await nav("queues");
await page.click("#pause-default");
await until("the queue is paused", async () => (await api("GET", "/api/v1/queues")).queues.find((q) => q.name === "default").paused);
await until("the page offers resume", () => page.locator("#resume-default").count());
await screenshot("queues");

// --- overview: retry now, cancel a running job ------------------------------------------------
await nav("overview");
await page.click(`#retry-${retrying.id}`);
await until("the retrying job is due now", async () => (await stateOf(retrying.id)) === "available");
log(`overview: job ${retrying.id} retried now`);
await screenshot("overview");
// The nodes view while the sleep job runs: this node leads, beats, runs the kinds and the job.
await nav("nodes");
const nodeRow = page.locator(`#nodes tr[data-node="${nodeId}"]`);
await until("the nodes view shows this node running one job", async () => {
  const cells = await nodeRow.locator("td").allTextContents();
  return cells.length === 9 && cells[3] === "leader" && Number(cells[4]) < 10 && cells[6].includes("noop") && cells[7] === "1" && cells;
});
await screenshot("nodes");
await nav("overview");
// The running job's progress (a report every 100 ms, stored every 500 ms; the page polls every 2 s).
await until("the overview shows the running job's progress", async () => {
  const cells = await page.locator(`#running tr[data-job="${sleeper.id}"] td`).allTextContents();
  return cells.length === 7 && /^\d+% step \d+ of 1200$/.test(cells[5]) && cells;
});
const cancelText = await confirmed(`#cancel-${sleeper.id}`, false);
if (!cancelText.includes(String(sleeper.id))) await fail(`the cancel confirmation says '${cancelText}'`);
await unchanged(sleeper.id, "running");
await confirmed(`#cancel-${sleeper.id}`, true);
await until("the running job is cancelled", async () => (await stateOf(sleeper.id)) === "cancelled");
log(`overview: job ${sleeper.id} cancelled after a dismissed confirmation`);

// --- the job browser: filters, pages, bulk actions --------------------------------------------
await nav("jobs");
await search({ limit: "5" });
await until("the first page has five jobs", async () => (await rowIds()).length === 5);
const first = await rowIds();
await page.click("#page-next");
await until("the second page shows older jobs", async () => {
  const ids = await rowIds();
  return ids.length === 5 && Math.max(...ids) < Math.min(...first);
});
await page.click("#page-prev");
await until("back on the first page", async () => JSON.stringify(await rowIds()) === JSON.stringify(first));
log("jobs: pages forth and back");
await search({ state: "scheduled" });
await listed("state=scheduled lists the scheduled jobs", [...scheduled, laterSleep.id]);
await search({ state: "scheduled", kind: "noop" });
await listed("kind=noop narrows them", scheduled);
await search({ unique_key: "report-42" });
await listed("unique_key finds its job", [scheduled[2]]);
await search({ queue: "nowhere" });
await until("an unknown queue lists nothing", async () => (await page.locator("#job-list tbody").textContent()) === "no jobs match");
await search({ error: "failure 1 of 1" });
await listed("error text finds the job that failed once", [flaky.id]);
await search({ state: "dead", error: "DIAGNOSTIC FAILURE" });
await listed("error text (any case) with state finds the dead jobs", dead);
// datetime-local input: the browser's time zone, to the minute (Chromium drops ":00" seconds).
const local = (d) => new Date(d - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
await search({ kind: "noop", created_after: local(new Date(Date.now() + 120000)) });
await until("created after a minute from now lists nothing", async () => (await rowIds()).length === 0);
await search({ kind: "noop", state: "completed", finished_after: local(new Date(testStart - 1000)), finished_before: local(new Date(Date.now() + 60000)) });
await listed("finished within the test lists the completed noop jobs", [withResult.id, ...batch.jobs.map((j) => j.id)]);
await search({ state: "scheduled", kind: "noop", created_before: local(new Date(Date.now() + 60000)) });
await listed("created before a minute from now keeps the scheduled noop jobs", scheduled);
await screenshot("jobs");
log("jobs: every filter narrows the list");
// Bulk retry of the scheduled noop jobs: the dialog counts them (dry run); dismissed, nothing moves.
const retryText = await confirmed("#bulk-retry", false);
if (!retryText.includes("3 job(s)")) await fail(`the bulk retry confirmation says '${retryText}'`);
for (const id of scheduled) await unchanged(id, "scheduled");
await confirmed("#bulk-retry", true);
for (const id of scheduled) await until(`job ${id} due now`, async () => (await stateOf(id)) === "available");
await search({ state: "available", kind: "noop" });
await listed("the retried jobs are available", scheduled);
const cancelAllText = await confirmed("#bulk-cancel", false);
if (!cancelAllText.includes("3 job(s)")) await fail(`the bulk cancel confirmation says '${cancelAllText}'`);
for (const id of scheduled) await unchanged(id, "available");
await confirmed("#bulk-cancel", true);
for (const id of scheduled) await until(`job ${id} cancelled`, async () => (await stateOf(id)) === "cancelled");
log("jobs: bulk retry and cancel, each after a dismissed confirmation");
// The row's cancel button: the retried failing job waits in the paused queue.
await search({ state: "available", kind: "fail" });
await listed("the available failing job is listed", [retrying.id]);
await confirmed(`#list-cancel-${retrying.id}`, false);
await unchanged(retrying.id, "available");
await confirmed(`#list-cancel-${retrying.id}`, true);
await until("the listed job is cancelled", async () => (await stateOf(retrying.id)) === "cancelled");

// --- a job's page: timeline, result, retry, cancel, requeue, purge ----------------------------
await openJob(flaky.id);
const attemptRows = page.locator("#job-attempts tbody tr");
await until("the timeline shows both attempts", async () => (await attemptRows.count()) === 2);
const failed = await attemptRows.nth(0).locator("td").allTextContents();
const succeeded = await attemptRows.nth(1).locator("td").allTextContents();
if (failed[0] !== "1" || failed[1] !== nodeId || failed[2] === "-" || failed[3] === "-" || failed[4] !== "failed" ||
    failed[5] !== "diagnostic failure 1 of 1")
  await fail(`the failed attempt shows ${JSON.stringify(failed)}`);
if (succeeded[0] !== "2" || succeeded[1] !== nodeId || succeeded[2] === "-" || succeeded[3] === "-" ||
    succeeded[4] !== "completed")
  await fail(`the successful attempt shows ${JSON.stringify(succeeded)}`);
await screenshot("job");
await openJob(withResult.id);
await until("the job page shows the result", async () =>
  JSON.parse(await page.locator("#job-result").textContent()).answer === 42);
await openJob(laterSleep.id);
await page.click("#job-retry");
await until("the scheduled job is due now", async () => (await stateOf(laterSleep.id)) === "available");
await until("the page shows it available", async () => (await page.locator("#job-summary").textContent()).endsWith("available"));
await confirmed("#job-cancel", false);
await unchanged(laterSleep.id, "available");
await confirmed("#job-cancel", true);
await until("the job is cancelled", async () => (await stateOf(laterSleep.id)) === "cancelled");
await openJob(dead[0]);
await until("the dead job's page shows its last error", async () =>
  (await page.locator("#job-last-error").textContent()).includes("diagnostic failure"));
await page.click("#job-requeue");
await until("the requeued job is available", async () => (await stateOf(dead[0])) === "available");
await openJob(dead[1]);
await confirmed("#job-purge", false);
await unchanged(dead[1], "dead");
await confirmed("#job-purge", true);
await until("the purged job is gone", () => gone(dead[1]));
log("job page: timeline, result, retry, cancel, requeue and purge");

// --- dead letters: requeue and purge one, requeue all, purge all ------------------------------
await nav("dlq");
await until("the DLQ lists its jobs", async () => (await page.locator("#dlq tbody tr").count()) === 4);
await screenshot("dlq");
await page.click(`#requeue-${dead[2]}`);
await until("the requeued job is available", async () => (await stateOf(dead[2])) === "available");
await confirmed(`#purge-${dead[3]}`, false);
await unchanged(dead[3], "dead");
await confirmed(`#purge-${dead[3]}`, true);
await until("the purged job is gone", () => gone(dead[3]));
const requeueAllText = await confirmed("#dlq-requeue-all", false);
if (!requeueAllText.includes("all 2 dead")) await fail(`the requeue-all confirmation says '${requeueAllText}'`);
for (const id of dead.slice(4)) await unchanged(id, "dead");
await confirmed("#dlq-requeue-all", true);
for (const id of dead.slice(4)) await until(`job ${id} requeued`, async () => (await stateOf(id)) === "available");
await until("the DLQ is empty", async () => (await api("GET", "/api/v1/dlq")).jobs.length === 0);
// Resumed, the requeued jobs fail again into the DLQ, to be purged all at once.
await nav("queues");
await page.click("#resume-default");
await until("the queue runs again", async () => !(await api("GET", "/api/v1/queues")).queues.find((q) => q.name === "default").paused);
const back = [dead[0], dead[2], dead[4], dead[5]];
for (const id of back) await until(`job ${id} dead again`, async () => (await stateOf(id)) === "dead", 15000);
await nav("dlq");
const purgeAllText = await confirmed("#dlq-purge-all", false, "confirmation");
if (!purgeAllText.includes("all 4 dead")) await fail(`the purge-all confirmation says '${purgeAllText}'`);
for (const id of back) await unchanged(id, "dead");
await confirmed("#dlq-purge-all", true);
await until("the DLQ is empty after purge all", async () => (await api("GET", "/api/v1/dlq")).jobs.length === 0);
for (const id of back) await until(`job ${id} purged`, () => gone(id));
await until("the page shows the DLQ empty", async () => (await page.locator("#dlq tbody tr").count()) === 0);
log("dead letters: requeue, purge, requeue all and purge all");

if (pageErrors.length) await fail(`the page reported errors: ${pageErrors.join(" | ")}`);

clearTimeout(watchdog);
await cleanup();
if (exited && exited.code !== 0) await fail(`spool exited with ${JSON.stringify(exited)}`);
log("passed");
