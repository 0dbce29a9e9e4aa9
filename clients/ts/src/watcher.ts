// watcher - subscriptions: a snapshot, then every later version, each
// checked against the worker's signature and delivered in version order, as
// the seed's UserBalance.subscribe (id, callback) and the C SDK's
// tly_watcher (client/sdk/include/tally.h, docs/protocol.md "The read path").
//
// - every object's signature is checked (domain tally/object/v1) before
//   anything of it is used; one that fails is dropped and counted;
// - an UPDATE must be the last version + 1: an older one is a duplicate
//   (dropped), a newer one means a version was lost, and the object is
//   subscribed again (its fresh snapshot replaces the copy);
// - a SNAPSHOT push replaces the copy; ENDED ends the subscription;
// - while it has subscriptions it pings the gateway every 5 s; a ping
//   unanswered for 3 s makes it drop the connection for a new one, and on
//   every new connection (after a drop, a restarted gateway) it subscribes
//   everything again.
import type { Account } from "./account.js";
import { parseAccountId } from "./account.js";
import { Connection, type ConnectionOptions } from "./connection.js";
import { TallyError } from "./errors.js";
import { PushKind, type ClientReply } from "./gen/tally_pb.js";
import { objectIdOfKey, parseObjectId } from "./ids.js";
import { pingRequest, subscribeRequest, unsubscribeRequest } from "./messages.js";
import { verifyObject, type TallyObject } from "./objects.js";

export const WATCH_PING_MS = 5000;
export const WATCH_PING_TIMEOUT_MS = 3000;
export const SUBSCRIBE_TIMEOUT_MS = 10000;
export const WATCH_SUBSCRIPTIONS_MAX = 1024;

// What a callback gets: each verified version, or, once, the end of the
// subscription (the gateway ended it: code and message say why).
export type ObjectCallback = (object: TallyObject | null, ended?: TallyError) => void;
export type Unsubscribe = () => void;

export interface WatcherOptions extends ConnectionOptions {
  url?: string;
  connection?: Connection;
  pingMs?: number;          // default 5000 (the protocol wants <= 10000)
  pingTimeoutMs?: number;   // default 3000
}

export interface WatcherStats {
  rejected: number;      // bad signature or malformed: dropped
  duplicates: number;    // versions already delivered: dropped
  gaps: number;          // a version missing: that object subscribed again
  resubscribes: number;  // rounds of subscribing everything again
}

type State = "waiting" | "live" | "retry";

interface Subscription {
  objectId: string;
  callback: ObjectCallback;
  state: State;
  requestId: bigint;   // of the latest subscribe: its answer and pushes carry it
  sentAt: number;      // when that subscribe went out
  version: number;     // last delivered, 0 before the first snapshot
  first?: { resolve: (unsubscribe: Unsubscribe) => void; reject: (error: TallyError) => void;
            timer: ReturnType<typeof setTimeout> };
}

// Refusals a later subscribe may not meet: busy, or too long on the way.
function transient(code: string): boolean {
  return code === "UNAVAILABLE" || code === "TIMEOUT" || code === "STALE_TIMESTAMP"
         || code === "INTERNAL";
}

export class Watcher {
  readonly connection: Connection;
  readonly account: Account;
  private readonly worker: Uint8Array;
  private readonly ownsConnection: boolean;
  private readonly pingMs: number;
  private readonly pingTimeoutMs: number;
  private readonly subs = new Map<string, Subscription>();
  private pingId = 0n;
  private pingDeadline = 0;
  private pingTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly stopReply: () => void;
  private readonly stopOpen: () => void;
  readonly stats: WatcherStats = { rejected: 0, duplicates: 0, gaps: 0, resubscribes: 0 };

  // Reads as `me`, trusting objects signed by worker `workerId` (co_z...).
  constructor(workerId: string, me: Account, options: WatcherOptions) {
    const worker = parseAccountId(workerId);
    if (!worker) throw new TallyError("BAD_REQUEST", `malformed worker ID, expected co_z...: ${workerId}`);
    if (!me || !(me.seed instanceof Uint8Array))
      throw new TallyError("BAD_REQUEST", "no account to read as (createAccount () or loadAccount (json))");
    this.worker = worker;
    this.account = me;
    this.pingMs = options.pingMs ?? WATCH_PING_MS;
    this.pingTimeoutMs = Math.min(options.pingTimeoutMs ?? WATCH_PING_TIMEOUT_MS, this.pingMs);
    if (options.connection) {
      this.connection = options.connection;
      this.ownsConnection = false;
    } else {
      if (!options.url) throw new TallyError("BAD_REQUEST", "give options.url or options.connection");
      this.connection = new Connection(options.url, options);
      this.ownsConnection = true;
    }
    this.stopReply = this.connection.onReply((reply) => this.onReply(reply));
    this.stopOpen = this.connection.onOpen(() => this.resubscribeAll());
  }

  get subscriptions(): number {
    return this.subs.size;
  }

  // Subscribes to objectId. Resolves, once the verified snapshot went to
  // callback, to a function that unsubscribes; callback then gets each
  // update in order, a fresh snapshot after any resync, and (null, error)
  // once if the gateway ends the subscription. Rejects with TallyError when
  // refused (PERMISSION_DENIED, NOT_FOUND, ...), on no answer in time
  // (TIMEOUT), a snapshot the worker did not sign (BAD_SIGNATURE), or an
  // objectId that is no object ID or is already followed (BAD_REQUEST).
  subscribe(objectId: string, callback: ObjectCallback,
            options: { timeoutMs?: number } = {}): Promise<Unsubscribe> {
    const parsed = parseObjectId(objectId);
    if (!parsed) return Promise.reject(new TallyError("BAD_REQUEST", `not an object ID: ${objectId}`));
    const id = objectIdOfKey(parsed.key);
    if (this.subs.has(id)) return Promise.reject(new TallyError("BAD_REQUEST", `already followed: ${id}`));
    if (this.subs.size >= WATCH_SUBSCRIPTIONS_MAX)
      return Promise.reject(new TallyError("TOO_MANY_SUBSCRIPTIONS",
                                           `a watcher follows at most ${WATCH_SUBSCRIPTIONS_MAX} objects`));
    const timeoutMs = options.timeoutMs ?? SUBSCRIBE_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const sub: Subscription = { objectId: id, callback, state: "retry", requestId: 0n, sentAt: 0,
                                  version: 0 };
      sub.first = {
        resolve, reject,
        timer: setTimeout(() => {
          this.remove(sub);
          reject(new TallyError("TIMEOUT", `no snapshot of ${id} from ${this.connection.url} `
                                           + `within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.subs.set(id, sub);
      this.resubscribe(sub);
      this.armPing();
    });
  }

  // Stops following objectId at once and tells the gateway.
  unsubscribe(objectId: string): void {
    const parsed = parseObjectId(objectId);
    const sub = parsed ? this.subs.get(objectIdOfKey(parsed.key)) : undefined;
    if (!sub) return;
    this.remove(sub);
    this.connection.send(unsubscribeRequest(this.connection.requestId(), sub.objectId));
  }

  // Every subscription ended, timers stopped; closes the connection when
  // the watcher made it.
  close(): void {
    for (const sub of [...this.subs.values()]) this.remove(sub);
    this.stopReply();
    this.stopOpen();
    if (this.ownsConnection) this.connection.close();
  }

  private remove(sub: Subscription): void {
    if (sub.first) clearTimeout(sub.first.timer);
    sub.first = undefined;
    if (this.subs.get(sub.objectId) === sub) this.subs.delete(sub.objectId);
    if (this.subs.size === 0 && this.pingTimer) {
      clearTimeout(this.pingTimer);
      this.pingTimer = null;
      this.pingId = 0n;
    }
  }

  // Signs and sends a fresh subscribe; when it cannot go now, the next
  // connection or ping sends it.
  private resubscribe(sub: Subscription): void {
    sub.requestId = this.connection.requestId();
    sub.sentAt = Date.now();
    const { request } = subscribeRequest(this.account, sub.requestId, sub.objectId, sub.sentAt);
    sub.state = this.connection.send(request) ? "waiting" : "retry";
  }

  private resubscribeAll(): void {
    if (this.subs.size === 0) return;
    // The first connection sends what was waiting for it; a round counts
    // when something had been delivered before.
    if ([...this.subs.values()].some((sub) => sub.version > 0)) this.stats.resubscribes++;
    this.pingId = 0n;
    for (const sub of this.subs.values()) this.resubscribe(sub);
  }

  // The ping timer runs while there are subscriptions: a ping out and
  // unanswered past its deadline means the gateway may have lost them.
  private armPing(): void {
    if (this.pingTimer || this.subs.size === 0) return;
    this.pingTimer = setTimeout(() => this.onPingTimer(), this.pingId ? this.pingTimeoutMs : this.pingMs);
  }

  private onPingTimer(): void {
    this.pingTimer = null;
    if (this.subs.size === 0) return;
    const now = Date.now();
    if (this.pingId !== 0n && now >= this.pingDeadline) {
      // The connection is open but nothing comes back: a new one, on which
      // everything is subscribed again (onOpen).
      this.pingId = 0n;
      this.connection.drop();
    } else {
      for (const sub of this.subs.values())
        if (sub.state === "retry"
            || (sub.state === "waiting" && now - sub.sentAt >= SUBSCRIBE_TIMEOUT_MS))
          this.resubscribe(sub);
      this.pingId = this.connection.requestId();
      this.pingDeadline = now + this.pingTimeoutMs;
      if (!this.connection.send(pingRequest(this.pingId))) this.pingId = 0n;
    }
    this.armPing();
  }

  private subByRequest(requestId: bigint): Subscription | undefined {
    if (requestId === 0n) return undefined;
    for (const sub of this.subs.values()) if (sub.requestId === requestId) return sub;
    return undefined;
  }

  private onReply(reply: ClientReply): void {
    if (reply.requestId !== 0n && reply.requestId === this.pingId) {
      this.pingId = 0n;
      return;
    }
    const sub = this.subByRequest(reply.requestId);
    if (!sub) return;
    if (reply.push === PushKind.NOT_PUSHED) {
      if (sub.state !== "waiting") return;
      if (reply.error && reply.error.code !== 0) this.refused(sub, TallyError.fromWire(reply.error));
      else this.onSnapshot(sub, reply);
    } else if (reply.push === PushKind.UPDATE) {
      this.onUpdate(sub, reply);
    } else if (reply.push === PushKind.SNAPSHOT && sub.state === "live") {
      this.onSnapshot(sub, reply);
    } else if (reply.push === PushKind.ENDED && sub.state === "live") {
      this.refused(sub, TallyError.fromWire(reply.error));
    } else {
      this.stats.rejected++;
    }
  }

  private refused(sub: Subscription, why: TallyError): void {
    if (sub.first) {
      const first = sub.first;
      this.remove(sub);
      first.reject(why);
    } else if (transient(why.code)) {
      sub.state = "retry";
    } else {
      this.remove(sub);
      sub.callback(null, why);
    }
  }

  private verified(sub: Subscription, reply: ClientReply): TallyObject | null {
    try {
      return verifyObject(reply.object, this.worker, sub.objectId);
    } catch (error) {
      this.stats.rejected++;
      if (sub.first && sub.state === "waiting") {
        const first = sub.first;
        this.remove(sub);
        first.reject(error as TallyError);
      }
      return null;
    }
  }

  private onSnapshot(sub: Subscription, reply: ClientReply): void {
    const object = this.verified(sub, reply);
    if (!object) {
      if (this.subs.get(sub.objectId) === sub) sub.state = "retry";
      return;
    }
    sub.state = "live";
    sub.version = object.version;
    object.snapshot = true;
    if (reply.error && reply.error.code !== 0) object.note = TallyError.fromWire(reply.error);
    const first = sub.first;
    if (first) {
      clearTimeout(first.timer);
      sub.first = undefined;
    }
    sub.callback(object);
    first?.resolve(() => this.unsubscribe(sub.objectId));
  }

  private onUpdate(sub: Subscription, reply: ClientReply): void {
    if (sub.state !== "live") return;  // an update before the snapshot it follows
    const object = this.verified(sub, reply);
    if (!object) return;
    if (object.version <= sub.version) {
      this.stats.duplicates++;
    } else if (object.version !== sub.version + 1) {
      this.stats.gaps++;
      this.resubscribe(sub);
    } else {
      sub.version = object.version;
      sub.callback(object);
    }
  }
}
