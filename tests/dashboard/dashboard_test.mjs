// Dashboard end to end: build/spool serves the page, headless Debian Chromium (driven by
// playwright-core) loads it, sees an enqueued job finish, requeues a dead job by clicking, and
// saves a screenshot.
//   node dashboard_test.mjs SPOOL_BINARY SCREENSHOT_PATH
// Without Chromium or playwright-core it fails under CI=true, and prints SKIPPED otherwise.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const [spoolBin, screenshotPath] = process.argv.slice(2);
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

if (!spoolBin || !screenshotPath) await fail("usage: node dashboard_test.mjs SPOOL_BINARY SCREENSHOT_PATH");
if (!existsSync(chromiumPath)) await skipOrFail(`${chromiumPath} not found (Debian package chromium)`);
let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch {
  await skipOrFail("npm package playwright-core is not installed in tests/dashboard (npm ci --prefix tests/dashboard)");
}

// The whole test is bounded: a hang anywhere ends it.
const watchdog = setTimeout(() => fail("the test did not finish within 80 s"), 80000);

// --- the server -------------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), "spool-dashboard-"));
cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SPOOL_")));
const server = spawn(
  spoolBin,
  ["--db", `sqlite:${join(dir, "spool.db")}`, "run", "--http", "127.0.0.1:0", "--diagnostic-kinds",
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

await page.goto(base + "/");
log("page loaded");
await until("the queues table shows the default queue", () => page.locator('#queues tr[data-queue="default"]').count());
if ((await page.title()) !== "Spool") await fail(`page title is '${await page.title()}'`);

// Column of a state in the queues table: the name, then one column per state in this order.
const STATES = ["scheduled", "available", "running", "retrying", "completed", "cancelled", "dead"];
async function shownCount(state) {
  const cell = page.locator('#queues tr[data-queue="default"] td').nth(1 + STATES.indexOf(state));
  return Number(await cell.textContent());
}

// 1. An enqueued job is seen finishing.
const completedBefore = await shownCount("completed");
const done = await api("POST", "/api/v1/jobs", { kind: "noop" });
await until("the page shows the noop job completed", async () => (await shownCount("completed")) === completedBefore + 1);
log(`job ${done.id} shown completed`);

// 2. A dead job is requeued by clicking. The queue is paused first (by clicking too), so that the
//    requeued job waits instead of failing straight back into the dead-letter queue.
const dead = await api("POST", "/api/v1/jobs", { kind: "fail", payload: { times: 99 }, max_attempts: 1 });
await until("the failing job is dead", async () => (await api("GET", `/api/v1/jobs/${dead.id}`)).state === "dead");
await until("the DLQ table shows the dead job", () => page.locator(`#requeue-${dead.id}`).count());
await page.click("#pause-default");
await until("the queue is paused", async () => (await api("GET", "/api/v1/queues")).queues[0].paused);
await until("the page offers resume", () => page.locator("#resume-default").count());
await page.click(`#requeue-${dead.id}`);
await until("the job left the DLQ", async () => {
  const dlq = await api("GET", "/api/v1/dlq");
  const job = await api("GET", `/api/v1/jobs/${dead.id}`);
  return !dlq.jobs.some((j) => j.id === dead.id) && job.state === "available";
});
await until("the DLQ table no longer shows the job", async () => (await page.locator(`#requeue-${dead.id}`).count()) === 0);
log(`job ${dead.id} requeued by click`);

// 3. Resumed, the job runs again and fails again: its detail shows both attempts.
await page.click("#resume-default");
await until("the requeued job ran again", async () => (await api("GET", `/api/v1/jobs/${dead.id}`)).errors.length === 2);
await page.fill("#job-id", String(dead.id));
await page.click("#show-job");
await until("the job detail shows its error history", async () => (await page.locator("#job-errors tr").count()) === 2);
await until("the DLQ table shows the job again", () => page.locator(`#requeue-${dead.id}`).count());
const summary = await page.locator("#job-summary").textContent();
if (!summary.includes("dead")) await fail(`job summary is '${summary}'`);

await page.screenshot({ path: screenshotPath, fullPage: true });
log(`screenshot saved to ${screenshotPath}`);
if (pageErrors.length) await fail(`the page reported errors: ${pageErrors.join(" | ")}`);

clearTimeout(watchdog);
await cleanup();
if (exited && exited.code !== 0) await fail(`spool exited with ${JSON.stringify(exited)}`);
log("passed");
