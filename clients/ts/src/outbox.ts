// outbox - messages kept until the cluster has answered them, across a
// lost gateway, a page reload or a process restart (docs/protocol.md,
// "Offline outbox").
//
// The rule, per message:
// - queued while nothing has gone out, it has only a local ID (and a place
//   in the order); it gets its message ID, whose first 6 bytes are the
//   time, when it is first handed to an open socket, and keeps that ID for
//   good (the ID is stored before the first byte is sent);
// - every transmission is a newly signed envelope with the current
//   timestamp (the gateway's skew window, --max-skew-ms, is about the
//   envelope) and the same message ID (the dedupe window, about the ID):
//   a resend within the window is answered with the first result;
// - sent and unanswered for longer than the dedupe window, its outcome is
//   unknown: it is never given a new ID (that could apply it twice); it
//   fails with OUTCOME_UNKNOWN, saying to check the history or balance;
//   a STALE_MESSAGE_ID answer means the same.
// Messages go one at a time, in the order they were queued: the next one
// waits until the one before has its answer.
import type { Account } from "./account.js";
import { parseAccountId } from "./account.js";
import { equal, fromHex, randomBytes, toHex } from "./bytes.js";
import { TallyError } from "./errors.js";
import type { ClientReply } from "./gen/tally_pb.js";
import {
  ITEM_ID_MAX, messageId, messageIdTime, sealEnvelope, sendRequest, type BuyRequest,
  type CreateAccountRequest, type InboxMessage, type UserRequest,
} from "./messages.js";
import type { PurchaseRecord, UserBalance } from "./objects.js";
import { resultOf, type SendResult } from "./sender.js";

export const DEDUPE_WINDOW_MS = 60000;
export const OUTBOX_RESEND_MS = 2000;
export const OUTBOX_FAILURES_KEPT = 20;

// A message as the storage keeps it: plain JSON (amounts as decimal text,
// so that any int64 survives).
export type StoredMessage =
  | { type: "createAccount"; initialBalance: string }
  | { type: "buy"; itemId: string; amount: string };

// One stored entry. messageId and sentAt are set together, once, just
// before the first transmission, and never change after.
export interface OutboxEntry {
  localId: string;       // the entry's own key, before and after it has a message ID
  seq: number;           // the order the entries go in
  sender: string;        // the account that signs it (co_z...)
  message: StoredMessage;
  queuedAt: number;      // Unix ms
  messageId?: string;    // hex, 16 bytes: given at the first transmission
  sentAt?: number;       // Unix ms: the message ID's time
}

// Where the entries live: IndexedDB in a browser (IndexedDbOutboxStorage),
// a file in Node (FileOutboxStorage, "@tally/client/node"), memory in tests.
// put inserts or replaces by localId; load returns every entry, any order.
export interface OutboxStorage {
  load(): Promise<OutboxEntry[]>;
  put(entry: OutboxEntry): Promise<void>;
  remove(localId: string): Promise<void>;
}

// What the outbox needs of a Connection.
export interface OutboxTransport {
  readonly url: string;
  readonly connected: boolean;
  requestId(): bigint;
  send(request: Uint8Array): boolean;
  onReply(listener: (reply: ClientReply) => void): () => void;
  onOpen(listener: () => void): () => void;
}

// A message still in the outbox, as an app shows it.
export interface PendingMessage {
  localId: string;
  type: "createAccount" | "buy";
  itemId?: string;
  amount: number;            // a buy's amount; 0 for createAccount
  initialBalance?: number;
  queuedAt: number;
  // "queued": never transmitted, no message ID yet; "sent": transmitted
  // at least once under messageId, not answered yet.
  state: "queued" | "sent";
  messageId: string | null;  // hex
  sentAt: number | null;
  transmissions: number;     // in this process
  lastRefusal: TallyError | null;
}

export interface OutboxFailure {
  message: PendingMessage;
  error: TallyError;
  at: number;
}

export type Settled = { message: PendingMessage; result: SendResult; error?: undefined }
                    | { message: PendingMessage; result?: undefined; error: TallyError };

export interface OutboxOptions {
  storage: OutboxStorage;
  connection: OutboxTransport;
  worker: string;                 // co_z...: the inbox
  account: Account;               // signs every transmission
  dedupeWindowMs?: number;        // the actors' --dedupe-window-ms (default 60000)
  resendMs?: number;              // wait for an answer before sending again (default 2000)
  now?: () => number;             // the clock (Unix ms)
}

interface Live {
  entry: OutboxEntry;
  persisted: Promise<void>;
  transmissions: number;
  lastRefusal: TallyError | null;
  retryAt: number;
  waiters: { resolve: (result: SendResult) => void; reject: (error: TallyError) => void }[];
}

const CLOSED = Symbol("closed");
type Outcome = { result: SendResult } | { error: TallyError } | typeof CLOSED;

// Refusals of a whole envelope that a later transmission may not meet.
const TRANSIENT = new Set(["UNAVAILABLE", "TIMEOUT", "INTERNAL"]);

function storedMessage(message: UserRequest): StoredMessage {
  const type = (message as { type?: unknown } | null)?.type;
  if (type === "credit" || type === "debit" || type === "addAdmin" || type === "removeAdmin"
      || type === "setPrice" || type === "refund" || type === "completeOrder"
      || type === "failOrder")
    throw new TallyError("BAD_REQUEST", `the outbox keeps a user's own messages: a ${type} is `
                                        + "the worker's or an admin's, sent from a server "
                                        + "(InboxSender or TallyClient.sendMessage as that "
                                        + "account)");
  if (!message || (message.type !== "createAccount" && message.type !== "buy"))
    throw new TallyError("BAD_REQUEST", 'a message is {type: "createAccount" | "buy", ...}');
  if (message.id !== undefined)
    throw new TallyError("BAD_REQUEST", "the outbox gives each message its ID when it first "
                                        + "sends it: queue messages without one");
  const int = (value: number | bigint, what: string): string => {
    if (typeof value === "bigint") return value.toString();
    if (!Number.isSafeInteger(value))
      throw new TallyError("BAD_REQUEST", `${what} is an integer (minor units), not ${value}`);
    return String(value);
  };
  if (message.type === "createAccount")
    return { type: "createAccount", initialBalance: int(message.initialBalance, "initialBalance") };
  if (typeof message.itemId !== "string" || message.itemId.length > ITEM_ID_MAX * 4)
    throw new TallyError("BAD_REQUEST", "itemId is a string");
  //  The pending balance takes a queued buy's amount off at once: the
  //  outbox needs it named (the catalog price: a buy naming it is charged it).
  if (message.amount === undefined || message.amount === 0 || message.amount === 0n)
    throw new TallyError("BAD_REQUEST", "the outbox needs a buy's amount, to take it off the "
                                        + "pending balance at once: name the item's catalog "
                                        + "price (a buy without one goes through InboxSender)");
  return { type: "buy", itemId: message.itemId, amount: int(message.amount, "amount") };
}

function inboxMessage(entry: OutboxEntry): InboxMessage {
  const id = fromHex(entry.messageId!);
  return entry.message.type === "createAccount"
    ? { type: "createAccount", initialBalance: BigInt(entry.message.initialBalance), id }
    : { type: "buy", itemId: entry.message.itemId, amount: BigInt(entry.message.amount), id };
}

function validEntry(entry: unknown): entry is OutboxEntry {
  const e = entry as OutboxEntry;
  return !!e && typeof e.localId === "string" && Number.isSafeInteger(e.seq)
         && typeof e.sender === "string" && !!e.message
         && (e.message.type === "buy" || e.message.type === "createAccount")
         && (e.messageId === undefined
             || (/^[0-9a-f]{32}$/.test(e.messageId) && Number.isSafeInteger(e.sentAt)));
}

function describe(entry: OutboxEntry): string {
  return entry.message.type === "buy"
    ? `buy ${JSON.stringify(entry.message.itemId)} for ${entry.message.amount}`
    : `createAccount with ${entry.message.initialBalance}`;
}

export class Outbox {
  readonly worker: string;
  readonly account: Account;
  readonly dedupeWindowMs: number;
  readonly resendMs: number;
  private readonly inbox: Uint8Array;
  private readonly storage: OutboxStorage;
  private readonly connection: OutboxTransport;
  private readonly now: () => number;
  private readonly entries: Live[] = [];
  private readonly failureList: OutboxFailure[] = [];
  private readonly changeListeners = new Set<() => void>();
  private readonly settleListeners = new Set<(settled: Settled) => void>();
  private nextSeq = 1;
  private pumping = false;
  private closed = false;
  private cancelCurrent: (() => void) | null = null;
  private pendingView: PendingMessage[] = [];
  private failureView: OutboxFailure[] = [];

  private constructor(options: OutboxOptions, inbox: Uint8Array) {
    this.worker = options.worker;
    this.account = options.account;
    this.inbox = inbox;
    this.storage = options.storage;
    this.connection = options.connection;
    this.dedupeWindowMs = options.dedupeWindowMs ?? DEDUPE_WINDOW_MS;
    this.resendMs = options.resendMs ?? OUTBOX_RESEND_MS;
    this.now = options.now ?? Date.now;
  }

  // Loads the account's entries from the storage (in their order) and
  // starts sending them.
  static async open(options: OutboxOptions): Promise<Outbox> {
    const inbox = parseAccountId(options.worker);
    if (!inbox)
      throw new TallyError("BAD_REQUEST", `malformed worker ID, expected co_z...: ${options.worker}`);
    if (!options.account || !(options.account.seed instanceof Uint8Array))
      throw new TallyError("BAD_REQUEST", "no account to send as (createAccount () or loadAccount (json))");
    if (!options.storage) throw new TallyError("BAD_REQUEST", "an outbox needs a storage");
    if (!((options.dedupeWindowMs ?? 1) > 0) || !((options.resendMs ?? 1) > 0))
      throw new TallyError("BAD_REQUEST", "dedupeWindowMs and resendMs are > 0");
    const outbox = new Outbox(options, inbox);
    const loaded = (await options.storage.load())
      .filter((entry) => validEntry(entry) && entry.sender === options.account.id)
      .sort((a, b) => a.seq - b.seq);
    for (const entry of loaded) {
      outbox.entries.push({ entry, persisted: Promise.resolve(), transmissions: 0, lastRefusal: null,
                            retryAt: 0, waiters: [] });
      outbox.nextSeq = Math.max(outbox.nextSeq, entry.seq + 1);
    }
    outbox.changed();
    outbox.pump();
    return outbox;
  }

  // Queues a message (without an ID: it gets one when first sent) and
  // resolves to its result once the cluster answers (a UserBalance for
  // createAccount, a PurchaseRecord for buy), or rejects with TallyError:
  // the message's refusal (INSUFFICIENT_BALANCE, ...), OUTCOME_UNKNOWN, or
  // the storage's failure. It is in `pending` at once. The user's own
  // messages only: a credit, debit, refund or configuration message is the
  // worker's or an admin's, sent from a server, and is refused here
  // (BAD_REQUEST).
  send(message: CreateAccountRequest): Promise<UserBalance>;
  send(message: BuyRequest): Promise<PurchaseRecord>;
  send(message: UserRequest): Promise<SendResult>;
  send(message: UserRequest): Promise<SendResult> {
    if (this.closed) return Promise.reject(new TallyError("UNAVAILABLE", "the outbox is closed"));
    let stored: StoredMessage;
    try {
      stored = storedMessage(message);
    } catch (error) {
      return Promise.reject(error);
    }
    const seq = this.nextSeq++;
    const entry: OutboxEntry = { localId: `${seq}-${toHex(randomBytes(6))}`, seq,
                                 sender: this.account.id, message: stored, queuedAt: this.now() };
    return new Promise((resolve, reject) => {
      const persisted = this.storage.put({ ...entry });
      persisted.catch(() => {});  // the pump awaits it and fails the message
      const live: Live = { entry, persisted, transmissions: 0, lastRefusal: null, retryAt: 0,
                           waiters: [{ resolve, reject }] };
      this.entries.push(live);
      this.changed();
      this.pump();
    });
  }

  // The messages not answered yet, in order (the same array until a change).
  get pending(): PendingMessage[] {
    return this.pendingView;
  }

  // The latest messages that failed (at most 20), oldest first.
  get failures(): OutboxFailure[] {
    return this.failureView;
  }

  // Any change of pending or failures; returns a function that stops it.
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  // Each message answered or failed, whoever queued it (a message loaded
  // from the storage has nobody waiting for it but these listeners).
  onSettled(listener: (settled: Settled) => void): () => void {
    this.settleListeners.add(listener);
    return () => this.settleListeners.delete(listener);
  }

  // Stops sending; what is not answered stays in the storage for the next
  // Outbox.open. Promises of send () still waiting never settle.
  close(): void {
    this.closed = true;
    this.cancelCurrent?.();
  }

  private view(live: Live): PendingMessage {
    const message = live.entry.message;
    return {
      localId: live.entry.localId,
      type: message.type,
      itemId: message.type === "buy" ? message.itemId : undefined,
      amount: message.type === "buy" ? Number(message.amount) : 0,
      initialBalance: message.type === "createAccount" ? Number(message.initialBalance) : undefined,
      queuedAt: live.entry.queuedAt,
      state: live.entry.messageId ? "sent" : "queued",
      messageId: live.entry.messageId ?? null,
      sentAt: live.entry.sentAt ?? null,
      transmissions: live.transmissions,
      lastRefusal: live.lastRefusal,
    };
  }

  private changed(): void {
    this.pendingView = this.entries.map((live) => this.view(live));
    this.failureView = [...this.failureList];
    for (const listener of [...this.changeListeners]) listener();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && this.entries.length > 0) {
        const head = this.entries[0];
        let outcome: Outcome;
        try {
          await head.persisted;
          outcome = await this.deliver(head);
        } catch (error) {
          outcome = { error: error instanceof TallyError ? error
                             : new TallyError("INTERNAL", `outbox storage: ${(error as Error).message}`) };
        }
        if (outcome === CLOSED || this.closed) return;
        try {
          await this.storage.remove(head.entry.localId);
        } catch {
          // It stays stored: the next open sends it again under the same ID
          // and is answered with the same result within the window.
        }
        this.entries.shift();
        const message = this.view(head);
        if ("error" in outcome) {
          this.failureList.push({ message, error: outcome.error, at: this.now() });
          if (this.failureList.length > OUTBOX_FAILURES_KEPT) this.failureList.shift();
        }
        this.changed();
        const settled: Settled = "error" in outcome ? { message, error: outcome.error }
                                                    : { message, result: outcome.result };
        for (const listener of [...this.settleListeners]) listener(settled);
        for (const waiter of head.waiters)
          if ("error" in outcome) waiter.reject(outcome.error);
          else waiter.resolve(outcome.result);
      }
    } finally {
      this.pumping = false;
    }
  }

  private unknown(live: Live): TallyError {
    const entry = live.entry;
    const refusal = live.lastRefusal ? ` (last answer: ${live.lastRefusal.code} ${live.lastRefusal.message})`
                                     : "";
    return new TallyError("OUTCOME_UNKNOWN",
      `${describe(entry)}: sent with message ID ${entry.messageId} at `
      + `${new Date(entry.sentAt!).toISOString()} and not answered within the `
      + `${this.dedupeWindowMs / 1000} s dedupe window${refusal}; it may or may not have been `
      + "applied: check the purchase history and the balance before sending it again");
  }

  // Sends the head until it has an answer or its window is over.
  private deliver(live: Live): Promise<Outcome> {
    const connection = this.connection;
    return new Promise<Outcome>((resolve) => {
      const requestIds = new Set<bigint>();
      let timer: ReturnType<typeof setTimeout> | null = null;
      let busy = false;
      let done = false;
      const finish = (outcome: Outcome) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        stopReply();
        stopOpen();
        this.cancelCurrent = null;
        resolve(outcome);
      };
      const arm = (ms: number) => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(step, Math.max(0, ms));
      };
      const deadline = () => live.entry.sentAt! + this.dedupeWindowMs;
      const step = async () => {
        timer = null;
        if (done || busy) return;
        let now = this.now();
        // The envelope's time: the first transmission's is its ID's own
        // time, whatever the storage write took.
        let stamp = now;
        if (live.entry.messageId && now >= deadline()) {
          finish({ error: this.unknown(live) });
          return;
        }
        if (live.retryAt > now) {
          arm(live.retryAt - now);
          return;
        }
        if (!connection.connected) {
          // Nothing to do until a connection opens (onOpen), but the window
          // of a message already sent runs on.
          if (live.entry.messageId) arm(deadline() - now);
          return;
        }
        if (!live.entry.messageId) {
          // Its ID, and the time in it, from now on and for good: stored
          // before anything of it goes out.
          const id = messageId(now);
          const entry = { ...live.entry, messageId: toHex(id), sentAt: messageIdTime(id) };
          busy = true;
          try {
            await this.storage.put({ ...entry });
          } catch (error) {
            busy = false;
            finish({ error: new TallyError("INTERNAL", `outbox storage: ${(error as Error).message}`) });
            return;
          }
          busy = false;
          live.entry = entry;
          this.changed();
          if (done) return;
          stamp = entry.sentAt;
          now = this.now();
          if (!connection.connected) {
            arm(deadline() - now);
            return;
          }
        }
        const sealed = sealEnvelope(this.account, this.inbox, [inboxMessage(live.entry)], stamp);
        const requestId = connection.requestId();
        requestIds.add(requestId);
        if (connection.send(sendRequest(requestId, sealed))) {
          live.transmissions++;
          this.changed();
        }
        arm(Math.min(this.resendMs, deadline() - now));
      };
      const onReply = (reply: ClientReply) => {
        if (done || !requestIds.has(reply.requestId)) return;
        if (reply.error && reply.error.code !== 0) {
          const error = TallyError.fromWire(reply.error);
          live.lastRefusal = error;
          this.changed();
          // The whole envelope refused, so nothing of this transmission was
          // applied; when it was the only one, the message was not.
          if (!TRANSIENT.has(error.code) && live.transmissions <= 1) finish({ error });
          return;  // else the next step sends it again
        }
        const wire = reply.results[0];
        if (reply.results.length !== 1 || !equal(wire.messageId, fromHex(live.entry.messageId!))) {
          live.lastRefusal = new TallyError("INTERNAL", "gateway answered another message");
          return;
        }
        const result = resultOf(wire);
        if (!(result instanceof TallyError)) {
          finish({ result });
        } else if (result.code === "STALE_MESSAGE_ID") {
          live.lastRefusal = result;
          finish({ error: this.unknown(live) });
        } else if (result.code === "RATE_LIMITED") {
          // Not remembered: the same ID again after the wait, within the window.
          live.lastRefusal = result;
          live.retryAt = this.now() + Math.max(result.retryAfterMs, 1);
          if (live.retryAt >= deadline()) finish({ error: result });
          else arm(live.retryAt - this.now());
          this.changed();
        } else {
          finish({ error: result });
        }
      };
      const stopReply = connection.onReply(onReply);
      const stopOpen = connection.onOpen(() => {
        if (!done) arm(0);
      });
      this.cancelCurrent = () => finish(CLOSED);
      step();
    });
  }
}

// Entries in memory, copied in and out as a storage would: for tests, and
// for an app that wants no persistence.
export class MemoryOutboxStorage implements OutboxStorage {
  private readonly entries = new Map<string, string>();

  async load(): Promise<OutboxEntry[]> {
    return [...this.entries.values()].map((text) => JSON.parse(text) as OutboxEntry);
  }

  async put(entry: OutboxEntry): Promise<void> {
    this.entries.set(entry.localId, JSON.stringify(entry));
  }

  async remove(localId: string): Promise<void> {
    this.entries.delete(localId);
  }

  get size(): number {
    return this.entries.size;
  }
}

// Entries in the browser's IndexedDB: database `name` (one per account is
// the simple choice: `tally-outbox/${account.id}`), object store "entries".
export class IndexedDbOutboxStorage implements OutboxStorage {
  readonly name: string;
  private db: Promise<IDBDatabase> | null = null;

  constructor(name: string) {
    this.name = name;
  }

  private open(): Promise<IDBDatabase> {
    if (this.db) return this.db;
    const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory)
      return Promise.reject(new TallyError("BAD_REQUEST", "no IndexedDB here: in Node, use "
                                                          + "FileOutboxStorage (@tally/client/node)"));
    this.db = new Promise((resolve, reject) => {
      const request = factory.open(this.name, 1);
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains("entries"))
          request.result.createObjectStore("entries", { keyPath: "localId" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error(`cannot open IndexedDB ${this.name}`));
      request.onblocked = () => reject(new Error(`IndexedDB ${this.name} is blocked by another tab`));
    });
    this.db.catch(() => { this.db = null; });
    return this.db;
  }

  private async run<T>(mode: IDBTransactionMode,
                       work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.open();
    return new Promise<T>((resolve, reject) => {
      const transaction = db.transaction("entries", mode, { durability: "strict" });
      const request = work(transaction.objectStore("entries"));
      // Done when the transaction is committed, not when the request is.
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error ?? new Error("IndexedDB transaction failed"));
      transaction.onabort = () => reject(transaction.error ?? new Error("IndexedDB transaction aborted"));
    });
  }

  async load(): Promise<OutboxEntry[]> {
    return (await this.run("readonly", (store) => store.getAll())) as OutboxEntry[];
  }

  async put(entry: OutboxEntry): Promise<void> {
    await this.run("readwrite", (store) => store.put({ ...entry }));
  }

  async remove(localId: string): Promise<void> {
    await this.run("readwrite", (store) => store.delete(localId));
  }

  close(): void {
    this.db?.then((db) => db.close()).catch(() => {});
    this.db = null;
  }
}
