// Cross-site request forgery in a real browser: build/spool runs with an admin token; headless
// Debian Chromium (driven by playwright-core) signs in to the dashboard once (session cookie) and
// sees its data; then a page served from another origin (a second port on 127.0.0.1, so the
// browser even sends the SameSite=Strict cookie) submits a form and calls fetch() against
// POST /api/v1/jobs. Both are refused with 403 and no job is created.
//   node csrf_test.mjs SPOOL_BINARY
// Without Chromium or playwright-core it fails under CI=true, and prints SKIPPED otherwise.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const [spoolBin] = process.argv.slice(2);
const chromiumPath = "/usr/bin/chromium";
const token = "s3cret-token";
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

if (!spoolBin) await fail("usage: node csrf_test.mjs SPOOL_BINARY");
if (!existsSync(chromiumPath)) await skipOrFail(`${chromiumPath} not found (Debian package chromium)`);
let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch {
  await skipOrFail("npm package playwright-core is not installed in tests/dashboard (npm ci --prefix tests/dashboard)");
}
const watchdog = setTimeout(() => fail("the test did not finish within 60 s"), 60000);

// --- spool, with a token -----------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), "spool-csrf-"));
cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SPOOL_")));
const server = spawn(
  spoolBin,
  ["--db", `sqlite:${join(dir, "spool.db")}`, "run", "--http", "127.0.0.1:0", "--diagnostic-kinds",
   "--admin-token", token, "--log-format", "json", "--poll", "0.2", "--grace", "1"],
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
    /* not JSON */
  }
});
await until("spool run logged http_listening", () => {
  if (exited) throw new Error(`spool exited: ${JSON.stringify(exited)}\n${stderrTail.join("\n")}`);
  return port;
});
const base = `http://127.0.0.1:${port}`;
log(`spool listens on ${base}`);

// As a script does it: bearer token, JSON, no Origin.
async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${token}` };
  if (method !== "GET") headers["Content-Type"] = "application/json";
  const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(data)}`);
  return data;
}
const jobCount = async () => (await api("GET", "/api/v1/jobs?limit=1000")).jobs.length;

// --- the other origin: a second port on the same host -----------------------------------------
const evilPages = {
  // A classic CSRF form: text/plain so that the body reads as JSON; submitted on load.
  "/form": `<!doctype html><title>form</title><body>
<form id="f" method="POST" action="${base}/api/v1/jobs" enctype="text/plain">
<input name='{"kind":"noop","payload":{"x":"' value='"}}'></form>
<script>document.getElementById("f").submit();</script></body>`,
  // fetch(): a "simple" no-cors POST (no preflight, cookies included), then one that says JSON.
  "/fetch": `<!doctype html><title>fetch</title><body><script>
window.results = {};
(async () => {
  try { const r = await fetch("${base}/api/v1/jobs", {method: "POST", mode: "no-cors", credentials: "include",
          headers: {"Content-Type": "text/plain"}, body: '{"kind":"noop"}'}); window.results.simple = r.type; }
  catch (e) { window.results.simple = "error: " + e.message; }
  try { const r = await fetch("${base}/api/v1/jobs", {method: "POST", credentials: "include",
          headers: {"Content-Type": "application/json"}, body: '{"kind":"noop"}'}); window.results.json = r.status; }
  catch (e) { window.results.json = "blocked: " + e.message; }
  window.results.done = true;
})();
</script></body>`,
};
const evil = createServer((req, res) => {
  const page = evilPages[req.url];
  res.writeHead(page ? 200 : 404, { "Content-Type": "text/html" });
  res.end(page ?? "");
});
await new Promise((resolve) => evil.listen(0, "127.0.0.1", resolve));
cleanups.push(() => new Promise((resolve) => evil.close(resolve)));
const evilBase = `http://127.0.0.1:${evil.address().port}`;
log(`the other origin is ${evilBase}`);

// --- the browser ------------------------------------------------------------------------------
const profile = mkdtempSync(join(tmpdir(), "spool-chromium-"));
cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: chromiumPath,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
cleanups.push(() => context.close());
const page = context.pages()[0] ?? (await context.newPage());
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(e.message));
// Every POST to the job endpoint the browser makes, with the answer's status and what it carried.
const jobPosts = [];
page.on("response", async (r) => {
  const req = r.request();
  if (req.method() === "POST" && r.url() === `${base}/api/v1/jobs`)
    jobPosts.push({ status: r.status(), headers: await req.allHeaders(), body: await r.text().catch(() => "") });
});

// 1. The dashboard: the page loads, asks for the token once, and then shows its data.
await page.goto(base + "/");
await until("the page asks to sign in", () => page.locator("#signin").isVisible());
await page.fill("#token", token);
await page.click("#signin-button");
await until("the signed-in page shows the default queue", () => page.locator('#queues tr[data-queue="default"]').count());
await until("the page says it updated", async () => (await page.locator("#status").textContent()).startsWith("updated"));
const cookies = await context.cookies(base);
const session = cookies.find((c) => c.name === "spool_session");
if (!session) await fail(`no spool_session cookie: ${JSON.stringify(cookies)}`);
if (!session.httpOnly || session.sameSite !== "Strict" || session.path !== "/" || session.expires <= Date.now() / 1000)
  await fail(`the session cookie is not HttpOnly, SameSite=Strict, Path=/ and expiring: ${JSON.stringify(session)}`);
// Its data: a job enqueued by a script shows up completed.
const done = await api("POST", "/api/v1/jobs", { kind: "noop" });
// The "completed" column, found by its header (the columns follow the states the page knows).
await until("the page shows the job completed", async () => {
  const column = (await page.locator("#queues thead th").allTextContents()).indexOf("completed");
  if (column < 0) return false;
  return Number(await page.locator('#queues tr[data-queue="default"] td').nth(column).textContent()) >= 1;
});
log(`signed in; the dashboard shows job ${done.id} completed`);
// /metrics is not opened by the session: the bearer token is still needed.
const metrics = await page.evaluate(async () => (await fetch("/metrics")).status);
if (metrics !== 401) await fail(`/metrics answered ${metrics} to the signed-in browser, expected 401`);

const before = await jobCount();

// 2. The form from the other origin: the browser navigates to the endpoint's answer, a 403.
await page.goto(evilBase + "/form");
await until("the cross-site form POST was answered", () => jobPosts.length >= 1);
const form = jobPosts[0];
if (form.status !== 403 || !form.body.includes("cross_site_request") && !form.body.includes("cross_origin_request"))
  await fail(`the cross-site form POST answered ${form.status}: ${form.body}`);
log(`form POST from ${evilBase}: ${form.status} ${form.body}; it carried the session cookie: ${/spool_session=/.test(form.headers.cookie ?? "")}`);

// 3. fetch() from the other origin.
await page.goto(evilBase + "/fetch");
const results = await until("the cross-site fetches finished", () => page.evaluate(() => window.results?.done && window.results));
// The response handler above records a POST only after reading its headers and body: wait for it.
const simple = await until("the no-cors fetch POST was recorded", () =>
  jobPosts.slice(1).find((p) => p.headers["content-type"] === "text/plain"));
if (simple.status !== 403) await fail(`the no-cors fetch POST was not refused: ${JSON.stringify(simple)}`);
// The JSON one needs a CORS preflight, which the endpoint never grants: the browser does not send it.
if (!String(results.json).startsWith("blocked")) await fail(`the JSON fetch POST was not blocked: ${JSON.stringify(results)}`);
log(`fetch POSTs from ${evilBase}: simple answered ${simple.status}, JSON ${results.json}`);

const after = await jobCount();
if (after !== before) await fail(`the other origin created jobs: ${before} before, ${after} after`);
log(`no job created (${after} jobs)`);
if (pageErrors.length) await fail(`the pages reported errors: ${pageErrors.join(" | ")}`);

clearTimeout(watchdog);
await cleanup();
if (exited && exited.code !== 0) await fail(`spool exited with ${JSON.stringify(exited)}`);
log("passed");
