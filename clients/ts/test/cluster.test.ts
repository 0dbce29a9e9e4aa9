// The TypeScript client against a real cluster: `tally up --ws-port` on
// loopback (every process of it real: audit writer, router, balance actors,
// gateway), through the gateway's WebSocket endpoint with the WebSocket API
// Node 20 shares with browsers. The seed's scenario (createAccount 100, buy
// 25, an overdraft refused with "Insufficient balance"), an account from
// `tally account create --json` and a bad one refused, a balance followed
// with the worker's signature checked on every version, a forged update
// dropped (and the gap it leaves repaired by a resync), another user's
// balance refused, a batch over the rate limit, and a dropped connection:
// the watcher subscribes again and catches up, a send made while it was
// down goes out on the next connection. And the offline outbox: a buy
// sent whose answer is lost, the process restarted, the buy sent again
// under its ID from the outbox file and applied once. And the worker's
// credits and debits: the worker (DIR/worker.json) credits a user once per
// reference, the user sees it in the balance, the PurchaseLog and the
// AdjustmentRecord; a user's own credit, a debit past the balance and a
// credit past 2^53 - 1 are refused. And the catalog, the admins and
// refunds, the worker sending through an InboxSender on DIR/worker.json:
// its price charged to a buy without an amount, another amount
// PRICE_MISMATCH, the item off sale UNKNOWN_ITEM; a user's price
// PERMISSION_DENIED until the worker adds them as an admin and after it
// removes them; the Catalog read by a user, each price change its next
// version; a purchase refunded by the worker (the balance back up, the
// PurchaseRecord at version 2 naming the refund), a second refund
// ALREADY_REFUNDED, the user's own PERMISSION_DENIED.
//
// Environment: TALLY_BIN (build/client/tally), TALLY_TEST_PORT (the base
// port; the WebSocket endpoint is on BASE + 10). Run with
// node --experimental-websocket --test (Node 20).
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ClientReplySchema, PushKind } from "../src/gen/tally_pb.js";
import {
  addAdminMessage, adjustmentId, BALANCE_MAX, balanceId, buyMessage, catalogId, createAccount,
  creditMessage, debitMessage, InboxSender, loadAccount, OfflineClient, parseAccountId,
  purchasesId, refundMessage, removeAdminMessage, setPriceMessage, TallyClient, TallyError,
  verifyObject, type Account, type BalanceState, type TallyObject, type WebSocketConstructor,
  type WebSocketLike,
} from "../src/index.js";
import { FileOutboxStorage } from "../src/node.js";
import { mergeObject } from "../src/react.js";

const WAIT_MS = 15000;
const tallyBin = process.env.TALLY_BIN;
const basePort = Number(process.env.TALLY_TEST_PORT ?? "27000");
if (!tallyBin) throw new Error("TALLY_BIN is not set (the path of build/client/tally)");
if (typeof WebSocket === "undefined")
  throw new Error(`Node ${process.version} has no WebSocket API: run node with --experimental-websocket`);

let up: ChildProcess | null = null;
let dataDir = "";
let url = "";
let worker = "";
const clients: TallyClient[] = [];
const senders: InboxSender[] = [];

// Objects a subscription delivered, and waits for one that matches.
class Seen {
  readonly objects: TallyObject[] = [];
  ended: TallyError | null = null;
  private waiters: { match: (o: TallyObject) => boolean; resolve: (o: TallyObject) => void }[] = [];

  readonly callback = (object: TallyObject | null, ended?: TallyError) => {
    if (!object) {
      this.ended = ended ?? null;
      return;
    }
    this.objects.push(object);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.match(object)) return true;
      waiter.resolve(object);
      return false;
    });
  };

  until(what: string, match: (o: TallyObject) => boolean, ms = WAIT_MS): Promise<TallyObject> {
    const found = this.objects.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not seen within ${ms} ms: ${what}; saw `
        + JSON.stringify(this.objects.map(summary)))), ms);
      this.waiters.push({ match, resolve: (object) => { clearTimeout(timer); resolve(object); } });
    });
  }
}

// What a failed wait prints of each object it saw.
function summary(o: TallyObject): unknown[] {
  const value = o.balance?.balance ?? o.catalog?.items.map((i) => [i.itemId, i.price, i.active])
                ?? (o.purchase && [o.purchase.amount, o.purchase.refundId]) ?? o.purchases?.count;
  return [o.version, value, o.snapshot];
}

// Node's WebSocket with a switch that alters the object of the next UPDATE
// push it receives (one byte of the signed state flipped), as a forger on
// the wire would; and that remembers its sockets, so a test can drop one.
let forgeNext = false;
let forged = 0;
const NativeWebSocket = (globalThis as unknown as { WebSocket: WebSocketConstructor }).WebSocket;
class TamperingWebSocket implements WebSocketLike {
  private readonly inner: WebSocketLike;
  private frames = 0;
  constructor(address: string, protocols: string | string[]) {
    this.inner = new NativeWebSocket(address, protocols);
  }
  get binaryType() { return this.inner.binaryType; }
  set binaryType(value: string) { this.inner.binaryType = value; }
  get readyState() { return this.inner.readyState; }
  get protocol() { return this.inner.protocol; }
  send(data: Uint8Array) { this.inner.send(data); }
  close() { this.inner.close(); }
  addEventListener(type: string, listener: (event: any) => void) {
    if (type !== "message") return this.inner.addEventListener(type, listener);
    this.inner.addEventListener("message", (event: { data: ArrayBuffer }) => {
      if (this.frames++ === 0 || !forgeNext) return listener(event);
      const bytes = new Uint8Array(event.data);
      const reply = fromBinary(ClientReplySchema, bytes.subarray(1));
      if (reply.push !== PushKind.UPDATE || !reply.object) return listener(event);
      forgeNext = false;
      forged++;
      const state = reply.object.state.slice();
      state[state.length - 1] ^= 0x01;
      reply.object = { ...reply.object, state };
      const body = toBinary(ClientReplySchema, create(ClientReplySchema, reply));
      const frame = new Uint8Array(body.length + 1);
      frame.set(body, 1);
      listener({ data: frame.buffer });
    });
  }
}

function client(account: Account, options: { tamper?: boolean } = {}): TallyClient {
  const made = new TallyClient({ url, worker, account, pingMs: 1000, pingTimeoutMs: 500,
                                 WebSocket: options.tamper ? TamperingWebSocket : undefined });
  clients.push(made);
  return made;
}

async function refused(promise: Promise<unknown>): Promise<TallyError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TallyError, `a TallyError, not ${error}`);
    return error;
  }
  assert.fail("expected a refusal");
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "tally-ts-"));
  up = spawn(tallyBin, ["up", "--data-dir", dataDir, "--base-port", String(basePort), "--open-prices",
                        "--ws-port", String(basePort + 10), "--rate-per-minute", "60",
                        "--rate-burst", "20", "--ready-timeout-ms", "30000"],
             { stdio: ["ignore", "pipe", "inherit"] });
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("tally up: not ready within 40 s")), 40000);
    let text = "";
    up!.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split("\n").find((l) => l.startsWith("tally up: ready"));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    up!.on("exit", (code) => reject(new Error(`tally up exited ${code} before it was ready`)));
  });
  console.log(`# ${ready}`);
  url = /ws=(\S+)/.exec(ready)![1];
  worker = /worker=(\S+)/.exec(ready)![1];
  const env = readFileSync(join(dataDir, "tally.env"), "utf8");
  assert.match(env, new RegExp(`TALLY_GATEWAY_WS=${url}`));
  assert.match(env, new RegExp(`TALLY_WORKER_ACCOUNT=${worker}`));
});

after(async () => {
  for (const made of clients) made.close();
  for (const made of senders) made.close();
  if (up && up.exitCode === null) {
    const exited = new Promise((resolve) => up!.on("exit", resolve));
    up.kill("SIGTERM");
    const timer = setTimeout(() => up!.kill("SIGKILL"), 20000);
    await exited;
    clearTimeout(timer);
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

let alice: Account;
let aliceClient: TallyClient;
const aliceSeen = new Seen();

test("an account from `tally account create --json`; a bad account file is refused", () => {
  const json = execFileSync(tallyBin, ["account", "create", "--name", "alice", "--json"],
                            { encoding: "utf8" });
  alice = loadAccount(json);
  assert.equal(alice.id, JSON.parse(json).account);
  assert.equal(alice.name, "alice");
  const other = JSON.parse(execFileSync(tallyBin, ["account", "create", "--name", "x", "--json"],
                                        { encoding: "utf8" }));
  const mixed = JSON.stringify({ account: alice.id, secret: other.secret });
  assert.throws(() => loadAccount(mixed), (error: unknown) => error instanceof TallyError
    && error.code === "BAD_REQUEST"
    && error.message === `account file: secret does not belong to account ${alice.id}`);
  assert.throws(() => loadAccount(json.replace("signerSecret_z", "signerSecret_")),
                { code: "BAD_REQUEST", message: /signer part is not signerSecret_z/ });
  assert.throws(() => loadAccount("{}"), { code: "BAD_REQUEST", message: /expected \{"account"/ });
});

test("the seed's scenario: createAccount 100, follow the balance, buy 25, overdraft refused",
     async () => {
  aliceClient = client(alice, { tamper: true });
  const created = await aliceClient.sendMessage({ type: "createAccount", initialBalance: 100 });
  assert.equal(created.balance, 100);
  assert.equal(created.id, balanceId(alice.id));

  const unsubscribe = await aliceClient.subscribe(aliceClient.balanceId, aliceSeen.callback);
  assert.equal(typeof unsubscribe, "function");
  const first = aliceSeen.objects[0];
  assert.equal(first.snapshot, true);
  assert.equal(first.version, 1);
  assert.equal(first.balance!.balance, 100);
  assert.equal(first.balance!.userId, alice.id);
  assert.equal(first.group!.owner, worker);
  // the signature it was checked with is the worker's, over what came
  assert.equal(verifyObject(first.signed, parseAccountId(worker)!, first.id).version, 1);

  const purchase = await aliceClient.sendMessage({ type: "buy", itemId: "item-123", amount: 25 });
  assert.equal(purchase.balanceAfter, 75);
  const update = await aliceSeen.until("version 2, balance 75",
                                       (o) => o.version === 2 && o.balance!.balance === 75);
  assert.equal(update.snapshot, false);

  const overdraft = await refused(aliceClient.sendMessage({ type: "buy", itemId: "castle",
                                                            amount: 1000 }));
  assert.equal(overdraft.code, "INSUFFICIENT_BALANCE");
  assert.equal(overdraft.message, "Insufficient balance");
  assert.equal(overdraft.remote, true);
});

test("a buy from an account never created: No account found", async () => {
  const stranger = client(createAccount());
  const error = await refused(stranger.sendMessage({ type: "buy", itemId: "item-1", amount: 1 }));
  assert.equal(error.code, "NO_ACCOUNT");
  assert.equal(error.message, "No account found");
});

test("another user's balance: PERMISSION_DENIED", async () => {
  const bob = client(createAccount());
  await bob.sendMessage({ type: "createAccount", initialBalance: 10 });
  const error = await refused(bob.subscribe(aliceClient.balanceId, () => {}));
  assert.equal(error.code, "PERMISSION_DENIED");
  assert.equal(bob.watcher.subscriptions, 0);
});

test("a forged update is dropped; the gap it leaves is repaired by a resync", async () => {
  const rejectedBefore = aliceClient.watcher.stats.rejected;
  forgeNext = true;
  await aliceClient.sendMessage({ type: "buy", itemId: "item-2", amount: 5 });  // v3, forged
  await aliceClient.sendMessage({ type: "buy", itemId: "item-3", amount: 5 });  // v4: a gap
  const repaired = await aliceSeen.until("version 4, balance 65",
                                         (o) => o.version === 4 && o.balance!.balance === 65);
  assert.equal(forged, 1);
  assert.equal(aliceClient.watcher.stats.rejected, rejectedBefore + 1);
  assert.ok(aliceClient.watcher.stats.gaps >= 1, "the missing version 3 was seen as a gap");
  assert.equal(repaired.snapshot, true, "version 4 came as the resync's snapshot");
  assert.ok(!aliceSeen.objects.some((o) => o.version === 3), "the forged version 3 never came");
});

test("a dropped connection: the watcher subscribes again and catches up; a send goes out on "
     + "the next connection", async () => {
  const opened = aliceClient.connection.opened;
  const resubscribes = aliceClient.watcher.stats.resubscribes;
  const other = client(alice);  // the same user on another connection
  aliceClient.connection.drop();
  assert.equal(aliceClient.connection.connected, false);
  // while alice's first connection is down, her other one buys
  const bought = await other.sendMessage({ type: "buy", itemId: "item-4", amount: 5 });
  assert.equal(bought.balanceAfter, 60);
  const caught = await aliceSeen.until("version 5, balance 60",
                                       (o) => o.version === 5 && o.balance!.balance === 60);
  assert.ok(aliceClient.connection.opened > opened, "a new connection was made");
  assert.ok(aliceClient.watcher.stats.resubscribes > resubscribes, "everything subscribed again");
  // (version 5 comes as the new subscription's snapshot when the buy was
  // decided before it, else as its first update)
  console.log(`# version 5 came as ${caught.snapshot ? "a snapshot" : "an update"}`);

  // a send made while the connection is down goes out once it is back
  aliceClient.connection.drop();
  const late = await aliceClient.sendMessage({ type: "buy", itemId: "item-5", amount: 5 });
  assert.equal(late.balanceAfter, 55);
  await aliceSeen.until("version 6, balance 55", (o) => o.version === 6 && o.balance!.balance === 55);
  const versions = aliceSeen.objects.map((o) => o.version);
  for (let i = 1; i < versions.length; i++)
    assert.ok(versions[i] >= versions[i - 1], `delivered in version order: ${versions}`);
});

test("one envelope of many messages; buys over the rate limit refused with retryAfterMs",
     async () => {
  const carol = client(createAccount());
  const results = await carol.sendMessage([
    { type: "createAccount", initialBalance: 100 },
    ...Array.from({ length: 25 }, (_, i) => ({ type: "buy" as const, itemId: `bulk-${i}`, amount: 1 })),
  ]);
  assert.equal(results.length, 26);
  assert.ok(!(results[0] instanceof TallyError) && "balance" in results[0]);
  const limited = results.filter((r): r is TallyError => r instanceof TallyError);
  const taken = results.slice(1).filter((r) => !(r instanceof TallyError));
  assert.equal(taken.length, 20, "the burst of 20 taken");
  assert.equal(limited.length, 5);
  for (const error of limited) {
    assert.equal(error.code, "RATE_LIMITED");
    assert.equal(error.message, "Rate limited: too many buys, retry later");
    assert.ok(error.retryAfterMs > 0, `retryAfterMs ${error.retryAfterMs}`);
  }
});

// Node's WebSocket that, while `deaf` is set, hears nothing the gateway
// sends after its greeting: a request goes out and its answer is lost.
let deaf = false;
class DeafWebSocket implements WebSocketLike {
  private readonly inner: WebSocketLike;
  private frames = 0;
  constructor(address: string, protocols: string | string[]) {
    this.inner = new NativeWebSocket(address, protocols);
  }
  get binaryType() { return this.inner.binaryType; }
  set binaryType(value: string) { this.inner.binaryType = value; }
  get readyState() { return this.inner.readyState; }
  get protocol() { return this.inner.protocol; }
  send(data: Uint8Array) { this.inner.send(data); }
  close() { this.inner.close(); }
  addEventListener(type: string, listener: (event: any) => void) {
    if (type !== "message") return this.inner.addEventListener(type, listener);
    this.inner.addEventListener("message", (event: unknown) => {
      if (this.frames++ === 0 || !deaf) listener(event);
    });
  }
}

function stateUntil(app: OfflineClient, what: string, match: (state: BalanceState) => boolean,
                    ms = WAIT_MS): Promise<BalanceState> {
  if (match(app.getState())) return Promise.resolve(app.getState());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`not within ${ms} ms: ${what}; state ${JSON.stringify(app.getState())}`));
    }, ms);
    const stop = app.onChange(() => {
      if (!match(app.getState())) return;
      clearTimeout(timer);
      stop();
      resolve(app.getState());
    });
  });
}

test("the outbox: a buy whose answer was lost, the process restarted: sent again from the file "
     + "under the same ID, applied once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-ts-outbox-"));
  const path = join(dir, "outbox.json");
  const dave = createAccount("dave");
  const open = () => OfflineClient.open({ url, worker, account: dave, WebSocket: DeafWebSocket,
                                          storage: new FileOutboxStorage(path), resendMs: 60000,
                                          pingMs: 1000, pingTimeoutMs: 500 });
  let first: OfflineClient | null = null;
  let second: OfflineClient | null = null;
  try {
    first = await open();
    await first.createAccount(100);
    await stateUntil(first, "balance 100", (s) => s.balance === 100 && s.balanceVersion === 1);

    deaf = true;
    void first.buy("item-lost-answer", 30).catch(() => {});
    assert.equal(first.getState().pendingBalance, 70, "the pending balance drops at once");
    const sent = await stateUntil(first, "the buy sent under its ID",
                                  (s) => s.pending[0]?.state === "sent" && s.pending[0].transmissions >= 1);
    const id = sent.pending[0].messageId!;
    assert.match(readFileSync(path, "utf8"), new RegExp(id), "the ID is in the file");
    first.close();   // the process ends with the buy unanswered
    first = null;
    deaf = false;

    second = await open();
    assert.equal(second.getState().pending.length, 1);
    assert.equal(second.getState().pending[0].messageId, id, "loaded with its ID");
    const settled = await stateUntil(second, "answered, balance 70",
                                     (s) => s.pending.length === 0 && s.balance === 70);
    assert.equal(settled.lastError, null);
    assert.equal(settled.pendingBalance, 70);
    // the history: that buy once
    const log = await new Promise<TallyObject>((resolve, reject) => {
      second!.subscribe(second!.purchasesId, (object) => { if (object) resolve(object); })
        .then((stop) => stop(), reject);
    });
    assert.equal(log.purchases!.count, 1);
    assert.deepEqual(log.purchases!.records.map((r) => [r.itemId, r.amount, r.balanceAfter]),
                     [["item-lost-answer", 30, 70]]);
    assert.deepEqual(JSON.parse(readFileSync(path, "utf8")).entries, [], "the outbox file empty");
  } finally {
    deaf = false;
    first?.close();
    second?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the worker's credits and debits: once per reference, seen by the user; a user's own "
     + "credit, a debit past the balance and a credit past 2^53 - 1 refused", async () => {
  const workerAccount = loadAccount(readFileSync(join(dataDir, "worker.json"), "utf8"));
  assert.equal(workerAccount.id, worker, "DIR/worker.json is the worker of the ready line");
  const workerClient = client(workerAccount);
  const erin = createAccount("erin");
  const erinClient = client(erin);
  await erinClient.sendMessage({ type: "createAccount", initialBalance: 100 });
  const balanceSeen = new Seen();
  await erinClient.subscribe(erinClient.balanceId, balanceSeen.callback);
  // her PurchaseLog, each update merged into the copy before (as useObject does)
  let log: TallyObject | null = null;
  const logSeen = new Seen();
  await erinClient.subscribe(purchasesId(erin.id), (object, ended) => {
    if (object) log = mergeObject(log, object);
    logSeen.callback(object, ended);
  });

  // a payment webhook's credit: the record, named by the user and reference
  const reference = `pay-${erin.id.slice(4, 16)}`;
  const credit = await workerClient.sendMessage({ type: "credit", user: erin.id, amount: 500,
                                                  reference, note: "Welcome bonus" });
  assert.deepEqual({ ...credit, timestamp: 0 },
                   { id: adjustmentId(erin.id, reference), userId: erin.id, amount: 500, reference,
                     note: "Welcome bonus", timestamp: 0, balanceAfter: 600, by: worker });
  assert.ok(credit.timestamp > 0);
  console.log(`# credit ${credit.id} amount ${credit.amount} balanceAfter ${credit.balanceAfter}`);

  // the webhook delivered again: a new message (a new ID), the same reference
  const again = creditMessage(erin.id, 500, reference, "Welcome bonus");
  const repeat = await workerClient.sendMessage(again);
  assert.deepEqual(repeat, credit, "the same reference again: the first record");

  const seen = await balanceSeen.until("balance 600", (o) => o.balance!.balance === 600);
  assert.equal(seen.balance!.lastUpdated, credit.timestamp);
  await logSeen.until("the credit in the PurchaseLog",
                      (o) => o.purchases!.adjustments.some((a) => a.id === credit.id));
  assert.equal(log!.purchases!.count, 1, "one entry: the credit once");
  assert.deepEqual(log!.purchases!.adjustments, [credit]);
  assert.deepEqual(log!.purchases!.records, []);

  // a user's own credit
  const own = await refused(erinClient.sendMessage({ type: "credit", user: erin.id, amount: 1000,
                                                     reference: "self-service" }));
  assert.equal(own.code, "PERMISSION_DENIED");
  assert.equal(own.message, "Only an admin may credit or debit a balance");
  assert.equal(own.remote, true);

  // a debit past the balance, then one within it
  const overdraft = await refused(workerClient.sendMessage(
    debitMessage(erin.id, 601, `refund-${reference}`)));
  assert.equal(overdraft.code, "INSUFFICIENT_BALANCE");
  assert.equal(overdraft.message, "Insufficient balance");
  const debit = await workerClient.sendMessage({ type: "debit", user: erin.id, amount: 100,
                                                 reference: `refund-${reference}` });
  assert.equal(debit.amount, -100);
  assert.equal(debit.balanceAfter, 500, "the credit counted once");
  assert.equal(debit.note, "");
  assert.equal(debit.id, adjustmentId(erin.id, `refund-${reference}`));

  // past the largest balance
  const limit = await refused(workerClient.sendMessage({ type: "credit", user: erin.id,
                                                         amount: BALANCE_MAX,
                                                         reference: `big-${reference}` }));
  assert.equal(limit.code, "BALANCE_LIMIT");

  await balanceSeen.until("balance 500", (o) => o.balance!.balance === 500);
  await logSeen.until("the debit in the PurchaseLog",
                      (o) => o.purchases!.adjustments.some((a) => a.id === debit.id));
  assert.equal(log!.purchases!.count, 2);
  assert.deepEqual(log!.purchases!.adjustments, [credit, debit]);
  // as a fresh snapshot shows it too (on another connection of hers)
  const erinAgain = client(erin);
  const snapshot = await new Promise<TallyObject>((resolve, reject) => {
    erinAgain.subscribe(purchasesId(erin.id), (object) => { if (object) resolve(object); })
      .then((stop) => stop(), reject);
  });
  assert.deepEqual(snapshot.purchases!.adjustments, [credit, debit]);

  // the AdjustmentRecord itself: its user may read it, another may not
  const recordSeen = new Seen();
  const stop = await erinClient.subscribe(credit.id, recordSeen.callback);
  const record = recordSeen.objects[0];
  assert.equal(record.kind, "ADJUSTMENT");
  assert.equal(record.version, 1);
  assert.equal(record.snapshot, true);
  assert.deepEqual(record.adjustment, credit);
  assert.equal(record.group!.owner, worker);
  stop();
  const stranger = client(createAccount());
  await stranger.sendMessage({ type: "createAccount", initialBalance: 1 });
  const denied = await refused(stranger.subscribe(credit.id, () => {}));
  assert.equal(denied.code, "PERMISSION_DENIED");
});

// The catalog, the admin group and refunds. The worker sends through an
// InboxSender of its own on DIR/worker.json, as a server holding the
// account would; frank is the user whose buys the catalog prices and who
// is made an admin for a while.
let workerSender: InboxSender;
let frank: Account;
let frankClient: TallyClient;

// The snapshot of objectId as reader sees it, the subscription ended at once.
async function readOnce(reader: TallyClient, objectId: string): Promise<TallyObject> {
  let snapshot: TallyObject | null = null;
  const stop = await reader.subscribe(objectId, (object) => { snapshot ??= object; });
  stop();
  assert.ok(snapshot, `a snapshot of ${objectId}`);
  return snapshot;
}

test("the catalog: the worker's price charged to a buy without an amount; another amount "
     + "PRICE_MISMATCH; the item off sale UNKNOWN_ITEM", async () => {
  const workerAccount = loadAccount(readFileSync(join(dataDir, "worker.json"), "utf8"));
  workerSender = await InboxSender.load(worker, workerAccount, { url });
  senders.push(workerSender);

  const set = await workerSender.sendMessage(setPriceMessage("ts-sword", 30));
  assert.deepEqual(set.item, { itemId: "ts-sword", price: 30, active: true });
  assert.equal(set.adminId, undefined);
  assert.ok(set.version >= 1, `configuration version ${set.version}`);
  console.log(`# setPrice ts-sword 30: configuration version ${set.version}`);

  frank = createAccount("frank");
  frankClient = client(frank);
  await frankClient.sendMessage({ type: "createAccount", initialBalance: 100 });
  // no amount: the catalog price, which the record names
  const bought = await frankClient.sendMessage({ type: "buy", itemId: "ts-sword" });
  assert.equal(bought.amount, 30);
  assert.equal(bought.balanceAfter, 70);
  assert.equal(bought.itemId, "ts-sword");
  assert.equal(bought.userId, frank.id);
  // naming the price is the same
  const named = await frankClient.sendMessage(buyMessage("ts-sword", 30));
  assert.equal(named.amount, 30);
  assert.equal(named.balanceAfter, 40);
  // naming another amount
  const mismatch = await refused(frankClient.sendMessage({ type: "buy", itemId: "ts-sword",
                                                           amount: 25 }));
  assert.equal(mismatch.code, "PRICE_MISMATCH");
  assert.equal(mismatch.message, "Price mismatch: the amount is not the catalog price");
  assert.equal(mismatch.remote, true);
  // an item not in the catalog (prices open) needs its amount
  const none = await refused(frankClient.sendMessage({ type: "buy", itemId: "ts-unpriced" }));
  assert.equal(none.code, "INVALID_AMOUNT");

  // off sale: kept in the catalog with its price, its buys refused
  const off = await workerSender.sendMessage({ type: "setPrice", itemId: "ts-sword", price: 30,
                                               active: false });
  assert.deepEqual(off.item, { itemId: "ts-sword", price: 30, active: false });
  assert.equal(off.version, set.version + 1);
  for (const amount of [undefined, 30]) {
    const unknown = await refused(frankClient.sendMessage({ type: "buy", itemId: "ts-sword",
                                                            amount }));
    assert.equal(unknown.code, "UNKNOWN_ITEM", `a buy naming ${amount}`);
    assert.equal(unknown.message, "Unknown item: not for sale");
    assert.equal(unknown.remote, true);
  }
  const balance = await readOnce(frankClient, frankClient.balanceId);
  assert.equal(balance.balance!.balance, 40, "the refused buys charged nothing");
});

test("prices are the worker's and its admins': a user's setPrice PERMISSION_DENIED until the "
     + "worker adds them as an admin, and again once removed", async () => {
  const denied = await refused(frankClient.sendMessage(setPriceMessage("ts-shield", 20)));
  assert.equal(denied.code, "PERMISSION_DENIED");
  assert.equal(denied.message, "Only an admin may set a price");
  assert.equal(denied.remote, true);
  const self = await refused(frankClient.sendMessage(addAdminMessage(frank.id)));
  assert.equal(self.code, "PERMISSION_DENIED");
  assert.equal(self.message, "Only the worker may add or remove an admin");

  const added = await workerSender.sendMessage(addAdminMessage(frank.id));
  assert.equal(added.adminId, frank.id);
  assert.equal(added.item, undefined);
  // added twice: nothing changes, the current version
  const again = await workerSender.sendMessage({ type: "addAdmin", account: frank.id });
  assert.deepEqual(again, added);

  const priced = await frankClient.sendMessage(setPriceMessage("ts-shield", 20));
  assert.deepEqual(priced.item, { itemId: "ts-shield", price: 20, active: true });
  assert.equal(priced.version, added.version + 1);
  const shield = await frankClient.sendMessage({ type: "buy", itemId: "ts-shield" });
  assert.equal(shield.amount, 20, "the admin's price charged");
  assert.equal(shield.balanceAfter, 20);

  const removed = await workerSender.sendMessage(removeAdminMessage(frank.id));
  assert.equal(removed.adminId, frank.id);
  assert.equal(removed.version, priced.version + 1);
  const after = await refused(frankClient.sendMessage(setPriceMessage("ts-shield", 5)));
  assert.equal(after.code, "PERMISSION_DENIED");
  assert.equal(after.message, "Only an admin may set a price");
  const catalog = await readOnce(frankClient, catalogId(worker));
  assert.deepEqual(catalog.catalog!.items.find((i) => i.itemId === "ts-shield"),
                   { itemId: "ts-shield", price: 20, active: true }, "the refused price not set");
});

test("the catalog read by anyone: the snapshot has the items, a price change comes as the next "
     + "version", async () => {
  const reader = client(createAccount("reader"));  // an account never created: anyone reads it
  const seen = new Seen();
  const id = catalogId(worker);
  await reader.subscribe(id, seen.callback);
  const first = seen.objects[0];
  assert.equal(first.kind, "CATALOG");
  assert.equal(first.snapshot, true);
  assert.equal(first.id, id);
  assert.equal(first.catalog!.id, id);
  assert.equal(first.catalog!.configVersion, first.version - 1);
  assert.deepEqual(first.catalog!.items, [{ itemId: "ts-shield", price: 20, active: true },
                                          { itemId: "ts-sword", price: 30, active: false }]);
  assert.equal(first.group!.owner, worker);
  assert.ok(first.group!.members.some((m) => m.account === null && m.role === "reader"),
            "everyone reads it");
  assert.equal(verifyObject(first.signed, parseAccountId(worker)!, id).version, first.version);

  const sword = await workerSender.sendMessage(setPriceMessage("ts-sword", 35));
  const next = await seen.until(`version ${first.version + 1}`,
                                (o) => o.version === first.version + 1);
  assert.equal(next.snapshot, false);
  assert.equal(next.catalog!.configVersion, sword.version);
  assert.deepEqual(next.catalog!.items, [{ itemId: "ts-shield", price: 20, active: true },
                                         { itemId: "ts-sword", price: 35, active: true }]);
  const shield = await workerSender.sendMessage(setPriceMessage("ts-shield", 25, false));
  const last = await seen.until(`version ${first.version + 2}`,
                                (o) => o.version === first.version + 2);
  assert.equal(last.catalog!.configVersion, shield.version);
  assert.deepEqual(last.catalog!.items, [{ itemId: "ts-shield", price: 25, active: false },
                                         { itemId: "ts-sword", price: 35, active: true }]);
  assert.deepEqual(seen.objects.map((o) => o.version),
                   [first.version, first.version + 1, first.version + 2], "each version once, in order");
  assert.equal(reader.watcher.stats.rejected, 0);
});

test("a refund by the worker: the balance back up, the purchase's record at version 2 with its "
     + "refundId; a second refund ALREADY_REFUNDED, the user's own PERMISSION_DENIED", async () => {
  const gina = createAccount("gina");
  const ginaClient = client(gina);
  await ginaClient.sendMessage({ type: "createAccount", initialBalance: 100 });
  const balanceSeen = new Seen();
  await ginaClient.subscribe(ginaClient.balanceId, balanceSeen.callback);
  const bought = await ginaClient.sendMessage({ type: "buy", itemId: "ts-refunded", amount: 30 });
  assert.equal(bought.balanceAfter, 70);
  assert.ok(bought.partitionSeq > 0, `partitionSeq ${bought.partitionSeq}`);
  assert.equal(bought.refundId, "");
  assert.equal(bought.refundedAt, 0);
  const kept = await ginaClient.sendMessage({ type: "buy", itemId: "ts-kept", amount: 5 });
  assert.equal(kept.balanceAfter, 65);

  const recordSeen = new Seen();
  await ginaClient.subscribe(bought.id, recordSeen.callback);
  const first = recordSeen.objects[0];
  assert.equal(first.kind, "PURCHASE");
  assert.equal(first.version, 1);
  assert.equal(first.snapshot, true);
  assert.deepEqual(first.purchase, bought);

  const refund = await workerSender.sendMessage(refundMessage(bought.id, "Not delivered"));
  const reference = `refund:${bought.id}`;
  assert.deepEqual({ ...refund, timestamp: 0 },
                   { id: adjustmentId(gina.id, reference), userId: gina.id, amount: 30, reference,
                     note: "Not delivered", timestamp: 0, balanceAfter: 95, by: worker });
  assert.ok(refund.timestamp > 0);
  console.log(`# refund ${refund.id} of ${bought.id}: balanceAfter ${refund.balanceAfter}`);

  const back = await balanceSeen.until("balance 95", (o) => o.balance!.balance === 95);
  assert.equal(back.balance!.lastUpdated, refund.timestamp);
  const refunded = await recordSeen.until("version 2, refunded", (o) => o.version === 2);
  assert.equal(refunded.snapshot, false);
  assert.deepEqual(refunded.purchase, { ...bought, refundId: refund.id,
                                        refundedAt: refund.timestamp });

  const twice = await refused(workerSender.sendMessage(refundMessage(bought.id, "again")));
  assert.equal(twice.code, "ALREADY_REFUNDED");
  assert.equal(twice.message, "Purchase already refunded");
  assert.equal(twice.remote, true);
  const own = await refused(ginaClient.sendMessage({ type: "refund", purchaseId: kept.id }));
  assert.equal(own.code, "PERMISSION_DENIED");
  assert.equal(own.message, "Only an admin may refund a purchase");
  assert.equal(own.remote, true);

  // nothing more changed: the balance, the records, the history (as fresh
  // snapshots on another connection of hers show them)
  const ginaAgain = client(gina);
  assert.equal((await readOnce(ginaAgain, ginaAgain.balanceId)).balance!.balance, 95);
  assert.equal((await readOnce(ginaAgain, kept.id)).purchase!.refundId, "");
  const record = await readOnce(ginaAgain, bought.id);
  assert.equal(record.version, 2);
  assert.deepEqual(record.purchase, refunded.purchase);
  assert.deepEqual(recordSeen.objects.map((o) => o.version), [1, 2]);
  const log = await readOnce(ginaAgain, purchasesId(gina.id));
  assert.equal(log.purchases!.count, 3, "two purchases and the refund");
  assert.deepEqual(log.purchases!.adjustments, [refund]);
  assert.deepEqual(log.purchases!.records.map((r) => [r.id, r.refundId]),
                   [[bought.id, refund.id], [kept.id, ""]]);
});
