// The example page (example/) in headless Chromium against a real cluster:
// `tally up --ws-port` on loopback and example/serve.mjs in front of the
// page, driven by playwright-core through Debian's /usr/bin/chromium.
//
// It creates an account (100), buys 25 (the purchase listed, 75 without a
// reload), sees an unaffordable buy drop the pending balance and revert
// with "Insufficient balance"; stops the cluster (the page shows offline),
// buys while it is down (pending balance drops at once, the buys queued
// without IDs), reloads the page (the outbox is in IndexedDB), starts the
// cluster again on the same data directory: the queued buy is applied
// once, the unaffordable one reverted with its error, and the journal
// (tally audit export) holds each purchase exactly once. Screenshots go to
// TALLY_ARTIFACTS.
//
// Environment: TALLY_BIN (build/client/tally), TALLY_TEST_PORT (gateway on
// BASE, its WebSocket on BASE + 10, the page on BASE + 20), TALLY_ARTIFACTS
// (a directory for the screenshots), TALLY_CHROMIUM (default
// /usr/bin/chromium).
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

const WAIT_MS = 20000;
const tallyBin = process.env.TALLY_BIN;
const basePort = Number(process.env.TALLY_TEST_PORT ?? "27200");
const artifacts = process.env.TALLY_ARTIFACTS ?? join(tmpdir(), "tally-browser-artifacts");
const chromiumPath = process.env.TALLY_CHROMIUM ?? "/usr/bin/chromium";
const example = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "example");
if (!tallyBin) throw new Error("TALLY_BIN is not set (the path of build/client/tally)");
if (!existsSync(chromiumPath))
  throw new Error(`no Chromium at ${chromiumPath}: install Debian's chromium and chromium-driver `
                  + "(scripts/install-deps.sh --test, or apt-get install chromium chromium-driver)");

let dataDir = "";
let up: ChildProcess | null = null;
let serve: ChildProcess | null = null;
let browser: Browser | null = null;
let page: Page;
let shots = 0;

// Starts a child and resolves with the first stdout line that matches.
function started(child: ChildProcess, what: string, match: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`${what}: not ready within ${ms} ms`)), ms);
    child.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split("\n").find((l) => match.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited ${code} before it was ready`));
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`${what}: ${error.message}`));
    });
  });
}

async function startCluster(): Promise<void> {
  up = spawn(tallyBin!, ["up", "--data-dir", dataDir, "--base-port", String(basePort), "--open-prices",
                         "--ws-port", String(basePort + 10), "--ready-timeout-ms", "30000"],
             { stdio: ["ignore", "pipe", "inherit"] });
  console.log(`# ${await started(up, "tally up", /^tally up: ready/, 40000)}`);
}

async function stop(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.on("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 20000);
  await exited;
  clearTimeout(timer);
}

async function screenshot(name: string): Promise<void> {
  shots++;
  const path = join(artifacts, `${String(shots).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`# screenshot ${path}`);
}

function text(testId: string): Promise<string> {
  return page.getByTestId(testId).first().innerText();
}

// Waits until the element's text is `value` (or matches it).
async function shows(testId: string, value: string | RegExp, ms = WAIT_MS): Promise<void> {
  try {
    await page.waitForFunction(([id, expected, isRegExp]) => {
      const element = document.querySelector(`[data-testid="${id}"]`);
      const got = element?.textContent ?? null;
      return got !== null && (isRegExp ? new RegExp(expected).test(got) : got === expected);
    }, [testId, value instanceof RegExp ? value.source : value, value instanceof RegExp] as const,
    { timeout: ms, polling: 50 });
  } catch {
    const now = await page.getByTestId(testId).first().textContent({ timeout: 100 }).catch(() => null);
    await screenshot(`failed-${testId}`);
    assert.fail(`[data-testid=${testId}] did not show ${value} within ${ms} ms (shows ${now})`);
  }
}

async function count(selector: string): Promise<number> {
  return page.locator(selector).count();
}

// Every text the pending balance shows from now on (a MutationObserver in
// the page), to see a value that lasts only until the cluster answers.
async function recordPendingBalance(): Promise<void> {
  await page.evaluate(() => {
    const element = document.querySelector('[data-testid="pending-balance"]')!;
    const seen: string[] = [element.textContent ?? ""];
    (window as unknown as { seen: string[] }).seen = seen;
    new MutationObserver(() => seen.push(element.textContent ?? ""))
      .observe(element, { subtree: true, childList: true, characterData: true });
  });
}

function pendingBalanceSeen(): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { seen: string[] }).seen);
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), "tally-browser-"));
  await startCluster();
  serve = spawn(process.execPath, [join(example, "serve.mjs"), "--data-dir", dataDir,
                                   "--port", String(basePort + 20)],
                { stdio: ["ignore", "pipe", "inherit"] });
  console.log(`# ${await started(serve, "serve.mjs", /^serve: http/, 60000)}`);
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
  page = await browser.newPage();
  page.on("console", (message) => console.log(`# page ${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => console.log(`# page error: ${error.message}`));
});

after(async () => {
  await browser?.close();
  await stop(serve);
  await stop(up);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

let account = "";

test("create an account: the balance shows 100, live", async () => {
  await page.goto(`http://127.0.0.1:${basePort + 20}/`);
  await page.getByTestId("create-account").click();
  await shows("status", "online");
  await shows("balance", "100");
  await shows("pending-balance", "100");
  await shows("purchase-count", "0");
  account = await text("account");
  assert.match(account, /^co_z/);
  await screenshot("created");
});

test("buy 25: the purchase is listed and the balance shows 75 without a reload", async () => {
  await page.getByTestId("buy-coffee").click();
  await shows("balance", "75");
  await shows("pending-count", "0");
  await shows("purchase-count", "1");
  assert.equal(await count('[data-testid="purchase"][data-item="coffee"]'), 1);
  await screenshot("bought");
});

test("an unaffordable buy: the pending balance drops at once, then reverts with "
     + "\"Insufficient balance\"", async () => {
  await recordPendingBalance();
  await page.getByTestId("buy-castle").click();
  await shows("error", /^Insufficient balance/);
  assert.equal(await page.getByTestId("error").getAttribute("data-code"), "INSUFFICIENT_BALANCE");
  await shows("pending-balance", "75");
  await shows("balance", "75");
  const seen = await pendingBalanceSeen();
  assert.ok(seen.includes("-925"), `the optimistic -925 was shown: ${JSON.stringify(seen)}`);
  assert.equal(await count('[data-testid="purchase"][data-item="castle"]'), 0);
  await screenshot("refused");
  await page.getByRole("button", { name: "dismiss" }).click();
});

test("the cluster stopped: offline; buys queue with no message ID, the pending balance drops "
     + "at once, and they survive a reload", async () => {
  await stop(up);
  await shows("status", "offline");
  await page.getByTestId("buy-coffee").click();
  await shows("pending-balance", "50");
  await shows("balance", "75");
  await page.getByTestId("buy-castle").click();
  await shows("pending-balance", "-950");
  await shows("pending-count", "2");
  assert.equal(await count('[data-testid="pending-message"][data-state="queued"]'), 2);
  await screenshot("offline-queued");

  await page.reload();
  await shows("status", "offline");
  await shows("pending-count", "2");
  assert.equal(await count('[data-testid="pending-message"][data-state="queued"]'), 2,
               "still queued, still without IDs, after the reload");
  assert.equal(await text("account"), account, "the same account after the reload");
  await screenshot("offline-reloaded");
});

test("the cluster back on the same data: the queued buy is applied once, the unaffordable one "
     + "reverted with its error", async () => {
  await startCluster();
  await shows("status", "online");
  await shows("pending-count", "0");
  await shows("balance", "50");
  await shows("pending-balance", "50");
  await shows("error", /^Insufficient balance/);
  await shows("purchase-count", "2");
  assert.equal(await count('[data-testid="purchase"][data-item="coffee"]'), 2);
  assert.equal(await count('[data-testid="purchase"][data-item="castle"]'), 0);
  await screenshot("back-online");
});

test("a user cannot read another user's balance from the browser", async () => {
  await page.getByTestId("forget").click();
  await page.getByTestId("create-account").click();
  await shows("balance", "100");
  const other = await text("account");
  assert.notEqual(other, account);
  await page.getByTestId("other-account").fill(account);
  await page.getByTestId("other-watch").click();
  await shows("other-result", /^PERMISSION_DENIED/);
  await screenshot("other-denied");
});

test("the journal holds each purchase exactly once", async () => {
  await stop(up);   // the journal as the cluster left it
  const lines = execFileSync(tallyBin!, ["audit", "export", "--format", "jsonl", "--data-dir", dataDir],
                             { encoding: "utf8", maxBuffer: 64 << 20 }).trim().split("\n");
  const records = lines.map((line) => JSON.parse(line) as {
    sender: string;
    messages: { messageId: string; type: string; itemId?: string }[];
    events: { type: string; user?: string; itemId?: string; amount?: number }[];
    results: { messageId: string; ok: boolean; error?: { code: string } }[];
  });
  const mine = records.filter((record) => record.sender === account);
  const purchases = mine.flatMap((record) => record.events)
    .filter((event) => event.type === "PurchaseRecorded" && event.user === account);
  assert.deepEqual(purchases.map((event) => [event.itemId, event.amount]),
                   [["coffee", 25], ["coffee", 25]], "the online buy and the queued one, once each");
  const buys = mine.flatMap((record) => record.messages).filter((message) => message.type === "buy");
  const ids = buys.map((message) => message.messageId);
  console.log(`# journal: ${mine.length} records of ${account}, buys ${JSON.stringify(
    buys.map((message) => [message.itemId, message.messageId.slice(0, 12)]))}`);
  // each buy was decided under one message ID, once (a resend answered
  // from the dedupe table makes no record)
  assert.equal(new Set(ids).size, ids.length, "no message ID decided twice");
  const castle = mine.flatMap((record) => record.results)
    .filter((result) => !result.ok && result.error?.code === "INSUFFICIENT_BALANCE");
  assert.equal(castle.length, 2, "both castles refused, each once");
});
