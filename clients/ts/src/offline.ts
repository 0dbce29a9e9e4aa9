// offline - a TallyClient with an outbox and an optimistic balance: what a
// web app's UI (and the React hooks, react.ts) reads.
//
// - every message goes through the outbox (outbox.ts): kept while the
//   gateway is unreachable, sent once it is back, each exactly once, in
//   order;
// - the account's UserBalance is followed (and followed again after any
//   refusal or end, while the account does not exist yet, and across
//   reconnects); the confirmed balance is the newest of the followed
//   balance and the results of this client's own messages (by the time
//   the cluster gave them), so a buy's answer settles at once even before
//   its update arrives;
// - the pending balance is the confirmed balance minus every buy still in
//   the outbox (queued or sent, not answered): it drops the moment a buy is
//   queued; a buy that fails leaves the outbox, so its amount comes back
//   (reverted), and its error becomes lastError.
import type { Account } from "./account.js";
import { TallyClient, type ClientOptions } from "./client.js";
import { TallyError } from "./errors.js";
import { purchasesId } from "./ids.js";
import type { BuyRequest, CreateAccountRequest, UserRequest } from "./messages.js";
import type { PurchaseRecord, TallyObject, UserBalance } from "./objects.js";
import {
  Outbox, type OutboxFailure, type OutboxStorage, type PendingMessage, type Settled,
} from "./outbox.js";
import type { SendResult } from "./sender.js";
import type { ObjectCallback, Unsubscribe } from "./watcher.js";

export const FOLLOW_RETRY_MS = 1000;

export interface BalanceState {
  account: string;                 // co_z...
  online: boolean;                 // a connection to the gateway is open
  balance: number | null;          // confirmed; null before anything is known
  balanceVersion: number;          // the followed balance's version (0: none yet)
  pendingBalance: number | null;   // balance minus the buys not answered yet
  pending: PendingMessage[];       // the outbox, in order
  lastError: TallyError | null;    // the latest failure (a message's, or following's)
  failures: OutboxFailure[];       // the latest failed messages
}

export interface OfflineClientOptions extends ClientOptions {
  storage: OutboxStorage;          // IndexedDbOutboxStorage, FileOutboxStorage, MemoryOutboxStorage
  dedupeWindowMs?: number;         // the actors' --dedupe-window-ms (default 60000)
  resendMs?: number;               // default 2000
  followRetryMs?: number;          // wait before following again (default 1000)
  subscribeTimeoutMs?: number;     // per attempt (default 10000)
}

// Follows one object for as long as it is wanted: subscribes, and after a
// refusal, a timeout or an end subscribes again (retryMs later; at once
// when a connection opens). onError hears each refusal.
export function follow(client: TallyClient, objectId: string, callback: (object: TallyObject) => void,
                       options: { retryMs?: number; timeoutMs?: number;
                                  onError?: (error: TallyError) => void } = {}): Unsubscribe {
  const retryMs = options.retryMs ?? FOLLOW_RETRY_MS;
  let stopped = false;
  let live = false;
  let attempting = false;
  let unsubscribe: Unsubscribe | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const retry = () => {
    if (stopped || timer || attempting || live) return;
    timer = setTimeout(attempt, retryMs);
  };
  const failed = (error: unknown) => {
    options.onError?.(error instanceof TallyError ? error
                      : new TallyError("INTERNAL", String((error as Error)?.message ?? error)));
  };
  const onObject: ObjectCallback = (object, ended) => {
    if (stopped) return;
    if (object) {
      callback(object);
      return;
    }
    live = false;
    unsubscribe = null;
    if (ended) failed(ended);
    retry();
  };
  const attempt = () => {
    timer = null;
    if (stopped || attempting || live) return;
    attempting = true;
    client.subscribe(objectId, onObject, { timeoutMs: options.timeoutMs }).then((stop) => {
      attempting = false;
      if (stopped) {
        stop();
        return;
      }
      live = true;
      unsubscribe = stop;
    }, (error) => {
      attempting = false;
      if (stopped) return;
      failed(error);
      retry();
    });
  };
  const stopOpen = client.connection.onOpen(() => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
      attempt();
    }
  });
  attempt();
  return () => {
    stopped = true;
    stopOpen();
    if (timer) clearTimeout(timer);
    unsubscribe?.();
  };
}

// Refusals of a subscription that are worth showing (NOT_FOUND before the
// account exists, TIMEOUT and UNAVAILABLE while offline are expected).
function shown(error: TallyError): boolean {
  return error.code === "PERMISSION_DENIED" || error.code === "BAD_SIGNATURE"
         || error.code === "TOO_MANY_SUBSCRIPTIONS";
}

export class OfflineClient {
  readonly client: TallyClient;
  readonly outbox: Outbox;
  private readonly listeners = new Set<() => void>();
  private readonly stops: (() => void)[] = [];
  private followed: UserBalance | null = null;
  private followedVersion = 0;
  private latest: { balance: number; at: number } | null = null;
  private error: TallyError | null = null;
  private state: BalanceState;
  private readonly followOptions: { retryMs?: number; timeoutMs?: number };

  private constructor(client: TallyClient, outbox: Outbox, options: OfflineClientOptions) {
    this.client = client;
    this.outbox = outbox;
    this.followOptions = { retryMs: options.followRetryMs, timeoutMs: options.subscribeTimeoutMs };
    this.state = this.compute();
  }

  // A client for options.account: its outbox loaded from options.storage
  // (and started), its balance followed.
  static async open(options: OfflineClientOptions): Promise<OfflineClient> {
    const client = new TallyClient(options);
    let outbox: Outbox;
    try {
      outbox = await Outbox.open({ storage: options.storage, connection: client.connection,
                                   worker: options.worker, account: options.account,
                                   dedupeWindowMs: options.dedupeWindowMs,
                                   resendMs: options.resendMs });
    } catch (error) {
      client.close();
      throw error;
    }
    const made = new OfflineClient(client, outbox, options);
    made.start();
    return made;
  }

  private start(): void {
    this.stops.push(this.outbox.onChange(() => this.changed()));
    this.stops.push(this.outbox.onSettled((settled) => this.onSettled(settled)));
    this.stops.push(this.client.connection.onOpen(() => this.changed()));
    this.stops.push(this.client.connection.onClose(() => this.changed()));
    this.stops.push(follow(this.client, this.client.balanceId, (object) => {
      if (!object.balance) return;
      this.followed = object.balance;
      this.followedVersion = object.version;
      this.changed();
    }, { ...this.followOptions, onError: (error) => {
      if (!shown(error)) return;
      this.error = error;
      this.changed();
    } }));
  }

  get account(): Account {
    return this.client.account;
  }

  get balanceId(): string {
    return this.client.balanceId;
  }

  // The ID of this account's PurchaseLog.
  get purchasesId(): string {
    return purchasesId(this.account.publicKey, this.client.partitionCount);
  }

  // Queues a message in the outbox; resolves to its result or rejects with
  // its TallyError (also lastError) once answered. The user's own messages
  // only: a credit, debit, refund or configuration message (the worker's or
  // an admin's) is refused with BAD_REQUEST.
  send(message: CreateAccountRequest): Promise<UserBalance>;
  send(message: BuyRequest): Promise<PurchaseRecord>;
  send(message: UserRequest): Promise<SendResult>;
  send(message: UserRequest): Promise<SendResult> {
    return this.outbox.send(message);
  }

  buy(itemId: string, amount: number | bigint): Promise<PurchaseRecord> {
    return this.outbox.send({ type: "buy", itemId, amount });
  }

  createAccount(initialBalance: number | bigint): Promise<UserBalance> {
    return this.outbox.send({ type: "createAccount", initialBalance });
  }

  subscribe(objectId: string, callback: ObjectCallback,
            options?: { timeoutMs?: number }): Promise<Unsubscribe> {
    return this.client.subscribe(objectId, callback, options);
  }

  // Follows objectId until the returned function is called, subscribing
  // again after refusals, ends and reconnects (follow above).
  follow(objectId: string, callback: (object: TallyObject) => void,
         onError?: (error: TallyError) => void): Unsubscribe {
    return follow(this.client, objectId, callback, { ...this.followOptions, onError });
  }

  // The present state: the same object until something changes.
  getState(): BalanceState {
    return this.state;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // Forgets lastError (a UI's "dismiss").
  clearError(): void {
    this.error = null;
    this.changed();
  }

  // Stops everything; the outbox keeps what is unanswered for next time.
  close(): void {
    for (const stop of this.stops.splice(0)) stop();
    this.outbox.close();
    this.client.close();
  }

  private onSettled(settled: Settled): void {
    if (settled.error) {
      this.error = settled.error;
    } else if ("balanceAfter" in settled.result) {
      this.noteResult(settled.result.balanceAfter, settled.result.timestamp);
    } else if ("balance" in settled.result) {
      this.noteResult(settled.result.balance, settled.result.lastUpdated);
    }
    this.changed();
  }

  private noteResult(balance: number, at: number): void {
    if (!this.latest || at >= this.latest.at) this.latest = { balance, at };
  }

  private compute(): BalanceState {
    const pending = this.outbox.pending;
    let confirmed: number | null = this.followed ? this.followed.balance : null;
    // A result newer than the followed version: its update is on the way.
    if (this.latest && (!this.followed || this.latest.at > this.followed.lastUpdated))
      confirmed = this.latest.balance;
    let base = confirmed;
    if (base === null) {
      const create = pending.find((message) => message.type === "createAccount");
      if (create) base = create.initialBalance ?? 0;
    }
    const buys = pending.reduce((sum, message) => sum + message.amount, 0);
    return {
      account: this.account.id,
      online: this.client.connection.connected,
      balance: confirmed,
      balanceVersion: this.followedVersion,
      pendingBalance: base === null ? null : base - buys,
      pending,
      lastError: this.error,
      failures: this.outbox.failures,
    };
  }

  private changed(): void {
    this.state = this.compute();
    for (const listener of [...this.listeners]) listener();
  }
}
