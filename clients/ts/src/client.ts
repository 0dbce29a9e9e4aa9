// client - one connection shared by an InboxSender and a Watcher: what an
// app usually wants, in one object.
import type { Account } from "./account.js";
import { Connection, type ConnectionOptions } from "./connection.js";
import type { TallyError } from "./errors.js";
import { balanceId, PARTITIONS_DEFAULT } from "./ids.js";
import type {
  AdjustmentRequest, BuyRequest, ConfigRequest, CreateAccountRequest, InboxRequest,
  OrderRequest, RefundRequest,
} from "./messages.js";
import type { AdjustmentRecord, Order, PurchaseRecord, UserBalance } from "./objects.js";
import { InboxSender, type ConfigChange, type SendOptions, type SendResult } from "./sender.js";
import { Watcher, type ObjectCallback, type Unsubscribe } from "./watcher.js";

export interface ClientOptions extends ConnectionOptions {
  url: string;                // the gateway's ws://HOST:PORT/PATH
  worker: string;             // the worker account, co_z...
  account: Account;           // signs messages and subscribes
  partitionCount?: number;    // the cluster's partition count (default 256)
  pingMs?: number;
  pingTimeoutMs?: number;
}

export class TallyClient {
  readonly connection: Connection;
  readonly sender: InboxSender;
  readonly watcher: Watcher;
  readonly partitionCount: number;

  constructor(options: ClientOptions) {
    this.connection = new Connection(options.url, options);
    this.partitionCount = options.partitionCount ?? PARTITIONS_DEFAULT;
    try {
      this.sender = InboxSender.create(options.worker, options.account,
                                       { connection: this.connection });
      this.watcher = new Watcher(options.worker, options.account,
                                 { connection: this.connection, pingMs: options.pingMs,
                                   pingTimeoutMs: options.pingTimeoutMs });
    } catch (error) {
      this.connection.close();
      throw error;
    }
  }

  get account(): Account {
    return this.sender.account;
  }

  // The ID of this account's UserBalance.
  get balanceId(): string {
    return balanceId(this.account.publicKey, this.partitionCount);
  }

  sendMessage(message: CreateAccountRequest, options?: SendOptions): Promise<UserBalance>;
  sendMessage(message: BuyRequest, options?: SendOptions): Promise<PurchaseRecord>;
  sendMessage(message: AdjustmentRequest | RefundRequest,
              options?: SendOptions): Promise<AdjustmentRecord>;
  sendMessage(message: ConfigRequest, options?: SendOptions): Promise<ConfigChange>;
  sendMessage(message: OrderRequest, options?: SendOptions): Promise<Order>;
  sendMessage(message: InboxRequest, options?: SendOptions): Promise<SendResult>;
  sendMessage(messages: InboxRequest[], options?: SendOptions): Promise<(SendResult | TallyError)[]>;
  sendMessage(input: InboxRequest | InboxRequest[], options?: SendOptions): Promise<unknown> {
    return this.sender.sendMessage(input as InboxRequest, options);
  }

  subscribe(objectId: string, callback: ObjectCallback,
            options?: { timeoutMs?: number }): Promise<Unsubscribe> {
    return this.watcher.subscribe(objectId, callback, options);
  }

  close(): void {
    this.watcher.close();
    this.connection.close();
  }
}
