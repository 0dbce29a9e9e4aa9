// The outbox's rules (src/outbox.ts, docs/protocol.md "Offline outbox")
// with the in-memory storage (and once with the file storage) and a
// scripted gateway: a message ID given at the first transmission and not
// before, kept by every resend (each a newly signed envelope with the
// current timestamp) and by a restart, and OUTCOME_UNKNOWN once the dedupe
// window is over, never a new ID. The outbox's clock is the real one plus
// a shift the tests move forward to jump over a window; every wait is on a
// condition with a deadline.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import {
  ClientReplySchema, ClientRequestSchema, EnvelopeSchema, ErrorCode, MessageResultSchema,
  type ClientReply, type Envelope,
} from "../src/gen/tally_pb.js";
import {
  createAccount, messageIdTime, MemoryOutboxStorage, Outbox, TallyError, toHex, verifyDomain,
  type Account, type OutboxStorage, type PurchaseRecord, type OutboxTransport, type Settled,
} from "../src/index.js";
import { FileOutboxStorage } from "../src/node.js";

// A deadline only: a loaded machine (the sanitizer build beside it) once
// took the 5 s this was, and a passing run is no slower for a longer one.
const WAIT_MS = 20000;
const worker = createAccount("worker");

// Waits until check () holds, polling on each turn of the event loop that
// something may have changed; fails after ms with what it waited for.
async function until(what: string, check: () => boolean, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface Transmission {
  requestId: bigint;
  envelope: Envelope;
  envelopeBytes: Uint8Array;
  messageId: string;
  verified: boolean;
}

// A gateway the test scripts: it takes requests while "connected", keeps
// them, and answers when told.
class ScriptedGateway implements OutboxTransport {
  readonly url = "ws://scripted.invalid/tally";
  connected = false;
  readonly sent: Transmission[] = [];
  private id = 0n;
  private readonly replyListeners = new Set<(reply: ClientReply) => void>();
  private readonly openListeners = new Set<() => void>();

  constructor(private readonly account: Account) {}

  requestId(): bigint {
    return ++this.id;
  }

  send(request: Uint8Array): boolean {
    if (!this.connected) return false;
    const decoded = fromBinary(ClientRequestSchema, request);
    assert.equal(decoded.body.case, "send");
    const signed = decoded.body.value!;
    const envelope = fromBinary(EnvelopeSchema, signed.envelope);
    assert.equal(envelope.messages.length, 1);
    this.sent.push({
      requestId: decoded.requestId, envelope, envelopeBytes: signed.envelope,
      messageId: toHex(envelope.messages[0].messageId),
      verified: verifyDomain("envelope", this.account.publicKey, signed.envelope, signed.signature),
    });
    return true;
  }

  onReply(listener: (reply: ClientReply) => void): () => void {
    this.replyListeners.add(listener);
    return () => this.replyListeners.delete(listener);
  }

  onOpen(listener: () => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  open(): void {
    this.connected = true;
    for (const listener of [...this.openListeners]) listener();
  }

  down(): void {
    this.connected = false;
  }

  private reply(reply: ClientReply): void {
    for (const listener of [...this.replyListeners]) listener(reply);
  }

  // A purchase for transmission `t`.
  purchase(t: Transmission, balanceAfter: number): void {
    const buy = t.envelope.messages[0].body;
    assert.equal(buy.case, "buy");
    this.reply(create(ClientReplySchema, {
      requestId: t.requestId,
      results: [create(MessageResultSchema, {
        messageId: t.envelope.messages[0].messageId,
        outcome: { case: "purchase", value: { id: "co_zpurchase", userId: this.account.id,
                                              itemId: buy.value!.itemId, amount: buy.value!.amount,
                                              timestamp: t.envelope.timestampMs,
                                              balanceAfter: BigInt(balanceAfter) } },
      })],
    }));
  }

  // The message's own refusal.
  refuse(t: Transmission, code: ErrorCode, message: string, retryAfterMs = 0): void {
    this.reply(create(ClientReplySchema, {
      requestId: t.requestId,
      results: [create(MessageResultSchema, {
        messageId: t.envelope.messages[0].messageId,
        outcome: { case: "error", value: { code, message, retryAfterMs: BigInt(retryAfterMs) } },
      })],
    }));
  }

  // The whole envelope's refusal.
  refuseEnvelope(t: Transmission, code: ErrorCode, message: string): void {
    this.reply(create(ClientReplySchema, { requestId: t.requestId, error: { code, message } }));
  }
}

class Clock {
  shift = 0;
  readonly now = () => Date.now() + this.shift;
}

async function rejection(promise: Promise<unknown>): Promise<TallyError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TallyError, `a TallyError, not ${error}`);
    return error;
  }
  assert.fail("expected a rejection");
}

function setup(options: { storage?: OutboxStorage; window?: number; resendMs?: number;
                          account?: Account; clock?: Clock } = {}) {
  const account = options.account ?? createAccount("user");
  const gateway = new ScriptedGateway(account);
  const storage = options.storage ?? new MemoryOutboxStorage();
  const clock = options.clock ?? new Clock();
  const open = () => Outbox.open({ storage, connection: gateway, worker: worker.id, account,
                                   dedupeWindowMs: options.window ?? 60000,
                                   resendMs: options.resendMs ?? 60000, now: clock.now });
  return { account, gateway, storage, clock, open };
}

test("queued offline a message has only its local ID; its message ID comes with its first "
     + "transmission, stored before it goes", async () => {
  const { gateway, storage, open } = setup();
  const outbox = await open();
  const result = outbox.send({ type: "buy", itemId: "item-1", amount: 25 });
  assert.equal(outbox.pending.length, 1, "pending at once");
  assert.equal(outbox.pending[0].state, "queued");
  assert.equal(outbox.pending[0].messageId, null);
  await until("stored", () => (storage as MemoryOutboxStorage).size === 1);
  const [stored] = await storage.load();
  assert.equal(stored.messageId, undefined);
  assert.equal(stored.message.type, "buy");

  const before = Date.now();
  gateway.open();
  await until("one transmission", () => gateway.sent.length === 1);
  const after = Date.now();
  const first = gateway.sent[0];
  assert.ok(first.verified, "signed by the account");
  const [withId] = await storage.load();
  assert.equal(withId.messageId, first.messageId, "the ID sent is the one stored");
  assert.equal(outbox.pending[0].messageId, first.messageId);
  assert.equal(outbox.pending[0].state, "sent");
  const idTime = messageIdTime(Buffer.from(first.messageId, "hex"));
  assert.ok(idTime >= before && idTime <= after, `the ID's time ${idTime} is the transmission's`);
  assert.equal(withId.sentAt, idTime);

  gateway.purchase(first, 75);
  const purchase = await result;
  assert.equal(purchase.balanceAfter, 75);
  assert.equal(outbox.pending.length, 0);
  assert.equal((storage as MemoryOutboxStorage).size, 0, "answered: gone from the storage");
  outbox.close();
});

test("every resend is a newly signed envelope with the current timestamp and the same ID; "
     + "the answer to any of them settles it", async () => {
  // A storage whose writes take a while, as IndexedDB's may: the first
  // envelope still carries its ID's own time.
  class SlowStorage extends MemoryOutboxStorage {
    override async put(entry: Parameters<MemoryOutboxStorage["put"]>[0]): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return super.put(entry);
    }
  }
  const { gateway, clock, open } = setup({ resendMs: 20, storage: new SlowStorage() });
  gateway.open();
  const outbox = await open();
  const result = outbox.send({ type: "buy", itemId: "item-2", amount: 5 });
  await until("a transmission", () => gateway.sent.length === 1);
  clock.shift += 7000;   // later envelopes carry the later time
  await until("three transmissions", () => gateway.sent.length >= 3);
  const [a, b, c] = gateway.sent;
  assert.ok(a.verified && b.verified && c.verified);
  assert.equal(b.messageId, a.messageId);
  assert.equal(c.messageId, a.messageId);
  assert.notEqual(b.requestId, a.requestId);
  assert.notDeepEqual(c.envelopeBytes, a.envelopeBytes, "a new envelope");
  assert.ok(c.envelope.timestampMs >= a.envelope.timestampMs + 7000n,
            `timestamps ${a.envelope.timestampMs} then ${c.envelope.timestampMs}`);
  assert.equal(messageIdTime(Buffer.from(c.messageId, "hex")), Number(a.envelope.timestampMs),
               "the ID keeps the first transmission's time");
  gateway.purchase(a, 95);   // the first transmission's answer, late
  assert.equal((await result).balanceAfter, 95);
  const count = gateway.sent.length;
  gateway.purchase(c, 95);   // a repeat's answer: nothing more
  assert.equal(outbox.pending.length, 0);
  assert.equal(gateway.sent.length, count, "no transmission after the answer");
  outbox.close();
});

test("a restart keeps a sent message's ID and sends it again under it", async () => {
  const { gateway, storage, account, clock } = setup();
  const first = setup({ storage, account, clock });
  first.gateway.open();
  const before = await first.open();
  void before.send({ type: "buy", itemId: "item-3", amount: 10 });
  await until("a transmission", () => first.gateway.sent.length === 1);
  const id = first.gateway.sent[0].messageId;
  before.close();   // as a process that stops with the message unanswered

  // the restarted one, on a gateway that is up
  gateway.open();
  const outbox = await Outbox.open({ storage, connection: gateway, worker: worker.id, account,
                                     now: clock.now });
  assert.equal(outbox.pending.length, 1);
  assert.equal(outbox.pending[0].state, "sent");
  assert.equal(outbox.pending[0].messageId, id, "loaded with its ID");
  const settled: Settled[] = [];
  outbox.onSettled((s) => settled.push(s));
  await until("sent again", () => gateway.sent.length === 1);
  assert.equal(gateway.sent[0].messageId, id, "the same ID");
  assert.ok(gateway.sent[0].verified);
  gateway.purchase(gateway.sent[0], 90);
  await until("settled", () => settled.length === 1);
  assert.equal((settled[0].result as PurchaseRecord).itemId, "item-3");
  assert.equal((await storage.load()).length, 0);
  outbox.close();
});

test("a restart before the first transmission: still no ID until it goes", async () => {
  const { storage, account, clock } = setup();
  const offline = setup({ storage, account, clock });
  const before = await offline.open();
  void before.send({ type: "createAccount", initialBalance: 100 });
  void before.send({ type: "buy", itemId: "item-4", amount: 30 });
  await until("stored", () => (storage as MemoryOutboxStorage).size === 2);
  before.close();
  const later = setup({ storage, account, clock });
  const outbox = await later.open();
  assert.deepEqual(outbox.pending.map((m) => [m.type, m.state, m.messageId]),
                   [["createAccount", "queued", null], ["buy", "queued", null]], "in order, no IDs");
  later.gateway.open();
  await until("the first sent", () => later.gateway.sent.length === 1);
  assert.equal(later.gateway.sent[0].envelope.messages[0].body.case, "createAccount");
  assert.equal(outbox.pending[1].messageId, null, "the second waits, without an ID, for the first");
  outbox.close();
});

test("sent and unanswered past the dedupe window: OUTCOME_UNKNOWN, never a new ID", async () => {
  const { gateway, clock, storage, open } = setup({ window: 1000, resendMs: 20 });
  gateway.open();
  const outbox = await open();
  const result = rejection(outbox.send({ type: "buy", itemId: "item-5", amount: 5 }));
  await until("two transmissions", () => gateway.sent.length >= 2);
  clock.shift += 1000;   // the window is over
  const error = await result;
  assert.equal(error.code, "OUTCOME_UNKNOWN");
  assert.match(error.message, /not answered within the 1 s dedupe window/);
  assert.match(error.message, /check the purchase history and the balance/);
  assert.equal(new Set(gateway.sent.map((t) => t.messageId)).size, 1, "one ID only");
  const count = gateway.sent.length;
  assert.equal(outbox.pending.length, 0);
  assert.equal(outbox.failures.length, 1);
  assert.equal(outbox.failures[0].error.code, "OUTCOME_UNKNOWN");
  assert.equal((storage as MemoryOutboxStorage).size, 0);
  // the next message is not held up, and has its own ID
  const next = outbox.send({ type: "buy", itemId: "item-6", amount: 5 });
  await until("the next one sent", () => gateway.sent.length === count + 1);
  assert.notEqual(gateway.sent[count].messageId, gateway.sent[0].messageId);
  gateway.purchase(gateway.sent[count], 1);
  await next;
  outbox.close();
});

test("restarted after the window with a sent message: OUTCOME_UNKNOWN at once, nothing sent",
     async () => {
  const { storage, account, clock } = setup();
  const first = setup({ storage, account, clock, window: 1000 });
  first.gateway.open();
  const before = await first.open();
  void before.send({ type: "buy", itemId: "item-7", amount: 5 });
  await until("a transmission", () => first.gateway.sent.length === 1);
  before.close();
  clock.shift += 5000;
  const later = setup({ storage, account, clock, window: 1000 });
  later.gateway.open();
  const outbox = await later.open();
  await until("failed", () => outbox.failures.length === 1);
  assert.equal(outbox.failures[0].error.code, "OUTCOME_UNKNOWN");
  assert.equal(later.gateway.sent.length, 0, "not sent again");
  outbox.close();
});

test("offline past the window after the first transmission: OUTCOME_UNKNOWN", async () => {
  const { gateway, clock, open } = setup({ window: 300, resendMs: 20 });
  gateway.open();
  const outbox = await open();
  const result = rejection(outbox.send({ type: "buy", itemId: "item-8", amount: 5 }));
  await until("a transmission", () => gateway.sent.length === 1);
  gateway.down();
  clock.shift += 300;
  assert.equal((await result).code, "OUTCOME_UNKNOWN");
  assert.equal(gateway.sent.length, 1);
  outbox.close();
});

test("STALE_MESSAGE_ID from the cluster is an unknown outcome too", async () => {
  const { gateway, open } = setup();
  gateway.open();
  const outbox = await open();
  const result = rejection(outbox.send({ type: "buy", itemId: "item-9", amount: 5 }));
  await until("a transmission", () => gateway.sent.length === 1);
  gateway.refuse(gateway.sent[0], ErrorCode.STALE_MESSAGE_ID,
                 "Message ID outside the dedupe window; not applied");
  const error = await result;
  assert.equal(error.code, "OUTCOME_UNKNOWN");
  assert.match(error.message, /last answer: STALE_MESSAGE_ID/);
  outbox.close();
});

test("in order, one at a time; a refused message fails with its error and the next goes",
     async () => {
  const { gateway, open } = setup();
  gateway.open();
  const outbox = await open();
  const first = rejection(outbox.send({ type: "buy", itemId: "castle", amount: 1000 }));
  const second = outbox.send({ type: "buy", itemId: "item-10", amount: 5 });
  await until("the first sent", () => gateway.sent.length === 1);
  const body = gateway.sent[0].envelope.messages[0].body;
  assert.equal(body.case === "buy" && body.value.itemId, "castle");
  assert.equal(outbox.pending[1].state, "queued");
  gateway.refuse(gateway.sent[0], ErrorCode.INSUFFICIENT_BALANCE, "Insufficient balance");
  const error = await first;
  assert.equal(error.code, "INSUFFICIENT_BALANCE");
  assert.equal(error.message, "Insufficient balance");
  await until("the second sent", () => gateway.sent.length === 2);
  gateway.purchase(gateway.sent[1], 95);
  assert.equal((await second).itemId, "item-10");
  assert.equal(outbox.failures.length, 1);
  outbox.close();
});

test("an envelope refused on its only transmission fails; UNAVAILABLE is sent again; "
     + "RATE_LIMITED waits and goes again under the same ID", async () => {
  const { gateway, open } = setup({ resendMs: 20 });
  gateway.open();
  const outbox = await open();
  const signature = rejection(outbox.send({ type: "buy", itemId: "item-11", amount: 5 }));
  await until("sent", () => gateway.sent.length === 1);
  gateway.refuseEnvelope(gateway.sent[0], ErrorCode.STALE_TIMESTAMP,
                         "Timestamp outside the accepted window");
  assert.equal((await signature).code, "STALE_TIMESTAMP");

  const busy = outbox.send({ type: "buy", itemId: "item-12", amount: 5 });
  await until("sent", () => gateway.sent.length === 2);
  gateway.refuseEnvelope(gateway.sent[1], ErrorCode.UNAVAILABLE, "Service unavailable, retry later");
  await until("sent again", () => gateway.sent.length === 3);
  assert.equal(gateway.sent[2].messageId, gateway.sent[1].messageId);
  gateway.refuse(gateway.sent[2], ErrorCode.RATE_LIMITED, "Rate limited: too many buys, retry later",
                 50);
  await until("after the wait", () => gateway.sent.length === 4);
  assert.equal(gateway.sent[3].messageId, gateway.sent[1].messageId);
  gateway.purchase(gateway.sent[3], 90);
  assert.equal((await busy).balanceAfter, 90);
  outbox.close();
});

test("the file storage: a restart of the process keeps the queue and the ID", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-outbox-"));
  try {
    const path = join(dir, "outbox.json");
    const account = createAccount("user");
    const clock = new Clock();
    const first = setup({ storage: new FileOutboxStorage(path), account, clock });
    first.gateway.open();
    const before = await first.open();
    void before.send({ type: "buy", itemId: "item-13", amount: 5 });
    void before.send({ type: "buy", itemId: "item-14", amount: 6 });
    await until("sent", () => first.gateway.sent.length === 1);
    const id = first.gateway.sent[0].messageId;
    await until("in the file with its ID", () => readFileSync(path, "utf8").includes(id));
    before.close();

    const later = setup({ storage: new FileOutboxStorage(path), account, clock });
    later.gateway.open();
    const outbox = await later.open();
    assert.deepEqual(outbox.pending.map((m) => [m.itemId, m.messageId]),
                     [["item-13", id], ["item-14", null]]);
    await until("sent again", () => later.gateway.sent.length === 1);
    assert.equal(later.gateway.sent[0].messageId, id);
    later.gateway.purchase(later.gateway.sent[0], 95);
    await until("the second sent", () => later.gateway.sent.length === 2);
    later.gateway.purchase(later.gateway.sent[1], 89);
    await until("empty", () => outbox.pending.length === 0);
    await until("the file empty", () =>
      JSON.parse(readFileSync(path, "utf8")).entries.length === 0);
    outbox.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a credit, debit, refund, order's completion or failure or configuration message is refused: the worker's or an admin's, sent from a server, not queued", async () => {
  const { gateway, storage, open } = setup();
  gateway.open();
  const outbox = await open();
  const messages = [
    { type: "credit", user: worker.id, amount: 5, reference: "pay-1" },
    { type: "debit", user: worker.id, amount: 5, reference: "pay-1" },
    { type: "addAdmin", account: worker.id },
    { type: "removeAdmin", account: worker.id },
    { type: "setPrice", itemId: "item-123", price: 25 },
    { type: "refund", purchaseId: "co_zP" },
    { type: "completeOrder", orderId: "co_zO" },
    { type: "failOrder", orderId: "co_zO", error: "card declined" },
  ];
  for (const message of messages) {
    // (the outbox's type takes a user's own messages only: from JavaScript,
    // or past the type, it is refused when it comes)
    const error = await rejection(outbox.send(message as never));
    assert.equal(error.code, "BAD_REQUEST");
    assert.equal(error.remote, false);
    assert.match(error.message,
                 new RegExp(`a ${message.type} is the worker's or an admin's, sent from a server`));
  }
  // a buy without an amount (the catalog price): the pending balance could
  // not take it off, so the outbox wants the price named
  for (const amount of [undefined, 0, 0n]) {
    const error = await rejection(outbox.send({ type: "buy", itemId: "item-123", amount }));
    assert.equal(error.code, "BAD_REQUEST");
    assert.match(error.message, /needs a buy's amount/);
  }
  assert.equal(outbox.pending.length, 0);
  assert.equal((storage as MemoryOutboxStorage).size, 0);
  assert.equal(gateway.sent.length, 0);
  outbox.close();
});
