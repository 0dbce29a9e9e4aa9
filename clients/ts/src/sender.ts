// sender - InboxSender: one account sending inbox messages to one worker,
// as the seed's InboxSender.load (workerId, account) and the C SDK's
// tly_sender (client/sdk/include/tally.h).
//
// A send signs one envelope for all its messages and sends it; when no
// answer comes it sends the very same bytes again (3 attempts spread over
// the timeout, and at once on each new connection while the timeout
// runs): message IDs make the cluster apply each message at most once and
// answer a repeat with the first result.
import type { Account } from "./account.js";
import { parseAccountId } from "./account.js";
import { equal } from "./bytes.js";
import { Connection, type ConnectionOptions } from "./connection.js";
import { TallyError } from "./errors.js";
import type { ClientReply, MessageResult } from "./gen/tally_pb.js";
import {
  BATCH_MAX, sealEnvelope, sendRequest, withId, type AdjustmentRequest, type BuyRequest,
  type ConfigRequest, type CreateAccountRequest, type InboxMessage, type InboxRequest,
  type OrderRequest, type RefundRequest,
} from "./messages.js";
import {
  adjustment, order, purchase, type AdjustmentRecord, type CatalogItem, type Order,
  type PurchaseRecord, type UserBalance,
} from "./objects.js";

export const SEND_TIMEOUT_MS = 10000;
export const SEND_ATTEMPTS = 3;

// What a configuration message did: the configuration's version it left
// (its envelope's new one when it or a message before it in the envelope
// changed something: one version per envelope; else the current one), and
// the admin it named (addAdmin, removeAdmin) or the item as it now is
// (setPrice).
export interface ConfigChange {
  version: number;
  adminId?: string;
  item?: CatalogItem;
}

// The answer to one message: a UserBalance for createAccount, a
// PurchaseRecord for buy, an AdjustmentRecord for credit, debit or refund,
// a ConfigChange for addAdmin, removeAdmin or setPrice, the Order for an
// order message.
export type SendResult = UserBalance | PurchaseRecord | AdjustmentRecord | ConfigChange | Order;

export interface SendOptions {
  timeoutMs?: number;  // default 10000
  attempts?: number;   // default 3 (1..16)
}

export interface SenderOptions extends ConnectionOptions {
  // The gateway's WebSocket URL (ws://HOST:PORT/PATH), when no connection
  // is given.
  url?: string;
  // A connection to share (with a Watcher); the sender does not close it.
  connection?: Connection;
}

// A MessageResult as the caller gets it: the result, or the refusal.
export function resultOf(wire: MessageResult): SendResult | TallyError {
  const outcome = wire.outcome;
  if (outcome.case === "balance")
    return { id: outcome.value.id, userId: outcome.value.userId,
             balance: Number(outcome.value.balance), lastUpdated: Number(outcome.value.lastUpdated),
             held: Number(outcome.value.held) };
  if (outcome.case === "purchase") return purchase(outcome.value);
  if (outcome.case === "adjustment") return adjustment(outcome.value);
  if (outcome.case === "config") {
    const change: ConfigChange = { version: Number(outcome.value.version) };
    if (outcome.value.adminId !== "") change.adminId = outcome.value.adminId;
    const item = outcome.value.item;
    if (item) change.item = { itemId: item.itemId, price: Number(item.price), active: item.active };
    return change;
  }
  if (outcome.case === "order") {
    try {
      return order(outcome.value, "reply");
    } catch (error) {
      return error as TallyError;
    }
  }
  if (outcome.case === "error") return TallyError.fromWire(outcome.value);
  return new TallyError("INTERNAL", "gateway sent a malformed reply: result without an outcome");
}

export class InboxSender {
  readonly worker: string;
  readonly account: Account;
  readonly connection: Connection;
  private readonly inbox: Uint8Array;
  private readonly ownsConnection: boolean;
  private inFlight = 0;

  private constructor(worker: string, inbox: Uint8Array, account: Account, connection: Connection,
                      ownsConnection: boolean) {
    this.worker = worker;
    this.inbox = inbox;
    this.account = account;
    this.connection = connection;
    this.ownsConnection = ownsConnection;
  }

  // A sender for account `me` to the inbox of worker `workerId` (co_z...),
  // through options.connection or a new connection to options.url.
  static async load(workerId: string, me: Account, options: SenderOptions): Promise<InboxSender> {
    return InboxSender.create(workerId, me, options);
  }

  static create(workerId: string, me: Account, options: SenderOptions): InboxSender {
    const inbox = parseAccountId(workerId);
    if (!inbox) throw new TallyError("BAD_REQUEST", `malformed worker ID, expected co_z...: ${workerId}`);
    if (!me || !(me.seed instanceof Uint8Array))
      throw new TallyError("BAD_REQUEST", "no account to send as (createAccount () or loadAccount (json))");
    if (options.connection) return new InboxSender(workerId, inbox, me, options.connection, false);
    if (!options.url) throw new TallyError("BAD_REQUEST", "give options.url or options.connection");
    return new InboxSender(workerId, inbox, me, new Connection(options.url, options), true);
  }

  // Sends one message and returns its result (a UserBalance for
  // createAccount, a PurchaseRecord for buy, an AdjustmentRecord for a
  // credit, debit or refund, a ConfigChange for addAdmin, removeAdmin,
  // setPrice),
  // or throws TallyError: the message's own refusal (INSUFFICIENT_BALANCE
  // "Insufficient balance", NO_ACCOUNT "No account found", RATE_LIMITED
  // with retryAfterMs, UNKNOWN_ITEM, PRICE_MISMATCH, PERMISSION_DENIED for a
  // credit, a refund or a price not sent by the worker or an admin,
  // ALREADY_REFUNDED, BALANCE_LIMIT,
  // ...), the
  // whole envelope's (BAD_SIGNATURE, STALE_TIMESTAMP, ...), or TIMEOUT when
  // no answer came in time. With an array it sends one envelope of them all
  // and returns one entry per message, in order: its result, or the
  // TallyError it was refused with (not thrown); it throws only when the
  // whole envelope was refused or not answered.
  sendMessage(message: CreateAccountRequest, options?: SendOptions): Promise<UserBalance>;
  sendMessage(message: BuyRequest, options?: SendOptions): Promise<PurchaseRecord>;
  sendMessage(message: AdjustmentRequest | RefundRequest,
              options?: SendOptions): Promise<AdjustmentRecord>;
  sendMessage(message: ConfigRequest, options?: SendOptions): Promise<ConfigChange>;
  sendMessage(message: OrderRequest, options?: SendOptions): Promise<Order>;
  sendMessage(message: InboxRequest, options?: SendOptions): Promise<SendResult>;
  sendMessage(messages: InboxRequest[], options?: SendOptions): Promise<(SendResult | TallyError)[]>;
  async sendMessage(input: InboxRequest | InboxRequest[], options: SendOptions = {})
      : Promise<SendResult | (SendResult | TallyError)[]> {
    const many = Array.isArray(input);
    const messages = (many ? input : [input]).map(withId);
    if (messages.length < 1 || messages.length > BATCH_MAX)
      throw new TallyError("BATCH_TOO_LARGE",
                           `a send carries 1..${BATCH_MAX} messages, not ${messages.length}`);
    const results = await this.sendSealed(messages, options);
    if (many) return results;
    if (results[0] instanceof TallyError) throw results[0];
    return results[0];
  }

  // Closes the connection when the sender made it.
  close(): void {
    if (this.ownsConnection) this.connection.close();
  }

  private sendSealed(messages: InboxMessage[], options: SendOptions)
      : Promise<(SendResult | TallyError)[]> {
    const timeoutMs = options.timeoutMs ?? SEND_TIMEOUT_MS;
    const attempts = options.attempts ?? SEND_ATTEMPTS;
    if (!(timeoutMs > 0) || !Number.isInteger(attempts) || attempts < 1 || attempts > 16)
      throw new TallyError("BAD_REQUEST", "timeoutMs > 0 and attempts 1..16");
    if (this.connection.isClosed)
      throw new TallyError("UNAVAILABLE", `the connection to ${this.connection.url} is closed`);
    const sealed = sealEnvelope(this.account, this.inbox, messages, Date.now());
    const requestId = this.connection.requestId();
    const request = sendRequest(requestId, sealed);
    const connection = this.connection;
    return new Promise((resolve, reject) => {
      const start = Date.now();
      let attempt = 0;
      let timer: ReturnType<typeof setTimeout> | null = null;
      const finish = () => {
        stopReply();
        stopOpen();
        if (timer) clearTimeout(timer);
        this.inFlight--;
      };
      const onReply = (reply: ClientReply) => {
        // A gateway that cannot decode a request answers request_id 0; with
        // one send in flight that answer is this one's.
        const undecodable = reply.requestId === 0n && reply.error !== undefined && this.inFlight === 1;
        if (reply.requestId !== requestId && !undecodable) return;
        finish();
        if (reply.error && reply.error.code !== 0) {
          reject(TallyError.fromWire(reply.error));
          return;
        }
        if (reply.results.length !== messages.length) {
          reject(new TallyError("INTERNAL", `gateway answered ${reply.results.length} results `
                                            + `for ${messages.length} messages`));
          return;
        }
        for (let i = 0; i < messages.length; i++)
          if (!equal(reply.results[i].messageId, messages[i].id)) {
            reject(new TallyError("INTERNAL", `result ${i} answers another message`));
            return;
          }
        resolve(reply.results.map(resultOf));
      };
      // Attempt k waits until start + timeout * k / attempts.
      const next = () => {
        timer = null;
        if (attempt >= attempts) {
          finish();
          reject(new TallyError("TIMEOUT",
            `no reply from ${connection.url} within ${timeoutMs} ms (${attempts} attempts): is `
            + "tally-gateway running there with --bind-ws, and the cluster ready (tally status)?"));
          return;
        }
        attempt++;
        connection.send(request);
        timer = setTimeout(next, Math.max(0, start + (timeoutMs * attempt) / attempts - Date.now()));
      };
      const stopReply = connection.onReply(onReply);
      // A new connection: the same bytes again at once (the old one may
      // have lost them), within the same deadline.
      const stopOpen = connection.onOpen(() => connection.send(request));
      this.inFlight++;
      next();
    });
  }
}
