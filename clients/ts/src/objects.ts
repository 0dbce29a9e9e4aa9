// objects - the worker's signed objects: the signature checked, then the
// state decoded into plain values (client/sdk/src/tly_object.c).
import { fromBinary } from "@bufbuild/protobuf";
import { accountId } from "./account.js";
import { TallyError } from "./errors.js";
import {
  ObjectStateSchema, OrderStatus, Role,
  type AdjustmentRecord as WireAdjustment, type Order as WireOrder,
  type OrderSummary as WireOrderSummary, type PurchaseRecord as WirePurchase, type SignedObject,
} from "./gen/tally_pb.js";
import { ObjectKind, objectIdOfKey, parseObjectId, type ObjectKindName } from "./ids.js";
import { ORDER_ITEMS_MAX } from "./messages.js";
import { verifyDomain } from "./sign.js";

export const OBJECT_RECORDS_MAX = 1024;  // entries (purchases and adjustments) one PurchaseLog
                                         // version may carry
export const GROUP_MEMBERS_MAX = 1024;
export const CATALOG_MAX = 1024;         // items in the price catalog
export const ORDER_LIST_MAX = 32;        // orders an OrderList shows
export const ORDER_QUEUE_MAX = 256;      // orders an OrderQueue holds

export interface UserBalance {
  id: string;
  userId: string;
  balance: number;       // minor units: all the user's funds, held ones included
  lastUpdated: number;   // Unix ms
  held: number;          // held for the user's orders processing; available: balance - held
}

// Orders (docs/protocol.md, "Orders").
export type OrderStatusName = "draft" | "processing" | "completed" | "failed" | "none";

export interface OrderItem {
  itemId: string;
  amount: number;        // the amount the item is charged
}

// An order as it now is (an ORDER object, and the answer to every order
// message). completed: purchaseIds names the purchase of each item, in
// order; failed: error says why.
export interface Order {
  id: string;
  userId: string;
  status: OrderStatusName;
  items: OrderItem[];
  total: number;
  error: string;
  version: number;
  createdAt: number;     // Unix ms
  updatedAt: number;
  submittedAt: number;   // 0 until submitted
  finishedAt: number;    // 0 until completed or failed
  purchaseIds: string[];
}

// An order in a user's OrderList or a partition's OrderQueue.
export interface OrderSummary {
  id: string;
  userId: string;
  status: OrderStatusName;
  total: number;
  version: number;
  updatedAt: number;
  submittedAt: number;
}

// A user's orders (its ID: ordersId (account)): count created in all, the
// latest 32 created, oldest first. Each version is whole.
export interface OrderList {
  id: string;
  userId: string;
  count: number;
  orders: OrderSummary[];
}

// A partition's orders processing, oldest submitted first; the worker
// reads it (its ID: orderQueueId (worker, partition)). Each version is whole.
export interface OrderQueue {
  id: string;
  partition: number;
  orders: OrderSummary[];
}

// A purchase (also the records of a PurchaseLog). Version 1 of a
// PURCHASE object is the purchase; version 2, the only other, is the
// purchase refunded (docs/protocol.md, "Refunds"): refundId and refundedAt
// set.
export interface PurchaseRecord {
  id: string;
  userId: string;
  itemId: string;
  amount: number;
  timestamp: number;     // Unix ms
  balanceAfter: number;
  partitionSeq: number;  // the journal record that made it, in its partition
  refundId: string;      // once refunded: the refund's AdjustmentRecord ID ("" before)
  refundedAt: number;    // once refunded: Unix ms (0 before)
}

// A credit or debit by the worker or an admin (docs/protocol.md, "Credits
// and debits"), or a refund (a credit whose reference is "refund:" + the
// purchase's ID, its note the reason): in the user's PurchaseLog and an
// object of its own (kind ADJUSTMENT, its ID adjustmentId (user, reference)).
export interface AdjustmentRecord {
  id: string;
  userId: string;
  amount: number;        // signed: > 0 a credit, < 0 a debit
  reference: string;     // the payment's or event's ID: one record per user and reference
  note: string;          // shown to the user ("" for none)
  timestamp: number;     // Unix ms
  balanceAfter: number;
  by: string;            // the sender's account ID (the worker or an admin)
}

export interface UserPrivateRoot {
  id: string;
  userId: string;
  balanceId: string;
  purchasesId: string;
}

// The user's history: purchases and credits or debits. In a snapshot: the
// latest entries (at most 100 in all), each kind oldest first; in an
// update: only the entry that version added. count: entries (purchases and
// adjustments) recorded in all. Merge the two lists by timestamp to show
// one history.
export interface PurchaseLog {
  id: string;
  userId: string;
  count: number;
  records: PurchaseRecord[];
  adjustments: AdjustmentRecord[];
}

export interface ServiceInfo {
  id: string;
  workerId: string;
  maxInitialBalance: number;
  maxAmount: number;
  partitionCount: number;
  ratePerMinute: number;  // the per-user rate limit on buys (0: none)
  rateBurst: number;
  openPrices: boolean;    // a buy of an item not in the catalog may name its price
}

// One item of the price catalog.
export interface CatalogItem {
  itemId: string;
  price: number;          // minor units
  active: boolean;        // false: not for sale (its buys are refused UNKNOWN_ITEM)
}

// The price catalog (docs/protocol.md, "Admins and the catalog"), readable
// by everyone (its ID: catalogId (worker)): every item ever priced,
// ascending by item ID bytes. Each version is the whole catalog.
export interface Catalog {
  id: string;
  configVersion: number;  // the configuration it is part of
  items: CatalogItem[];
}

export interface GroupMember {
  account: string | null;  // co_z..., null for everyone (public access)
  role: "reader" | "writer" | "admin" | "none";
}

// Who may read the object: the owner, and every member with any role.
export interface Group {
  id: string;
  owner: string | null;
  members: GroupMember[];
}

// One verified version of one object.
export interface TallyObject {
  kind: ObjectKindName;
  id: string;
  version: number;        // 1, 2, 3, ... per object
  updatedMs: number;      // Unix ms
  // A whole state (the first, or after a resync): replaces the copy;
  // else an update.
  snapshot: boolean;
  // Set on a resync snapshot when the gateway says why (SLOW_CONSUMER).
  note?: TallyError;
  balance?: UserBalance;
  purchase?: PurchaseRecord;
  root?: UserPrivateRoot;
  purchases?: PurchaseLog;
  service?: ServiceInfo;
  adjustment?: AdjustmentRecord;
  catalog?: Catalog;
  order?: Order;
  orders?: OrderList;
  orderQueue?: OrderQueue;
  group?: Group;
  // The worker's signed bytes, as received: whoever holds them can check
  // them again (verifyObject).
  signed: { state: Uint8Array; signature: Uint8Array };
}

function malformed(what: string): TallyError {
  return new TallyError("INTERNAL", `malformed object: ${what}`);
}

export function purchase(wire: WirePurchase): PurchaseRecord {
  return { id: wire.id, userId: wire.userId, itemId: wire.itemId, amount: Number(wire.amount),
           timestamp: Number(wire.timestamp), balanceAfter: Number(wire.balanceAfter),
           partitionSeq: Number(wire.partitionSeq), refundId: wire.refundId,
           refundedAt: Number(wire.refundedAt) };
}

export function adjustment(wire: WireAdjustment): AdjustmentRecord {
  return { id: wire.id, userId: wire.userId, amount: Number(wire.amount),
           reference: wire.reference, note: wire.note, timestamp: Number(wire.timestamp),
           balanceAfter: Number(wire.balanceAfter), by: wire.by };
}

export function orderStatusName(status: OrderStatus): OrderStatusName {
  return status === OrderStatus.ORDER_DRAFT ? "draft"
         : status === OrderStatus.ORDER_PROCESSING ? "processing"
         : status === OrderStatus.ORDER_COMPLETED ? "completed"
         : status === OrderStatus.ORDER_FAILED ? "failed" : "none";
}

// An Order from the wire, held to its limits (INTERNAL "malformed ..." past them).
export function order(wire: WireOrder, what: string = "object"): Order {
  // An order's purchases are one per line, so they share the bound.
  if (wire.items.length > ORDER_ITEMS_MAX)
    throw new TallyError("INTERNAL", `malformed ${what}: order of more than ${ORDER_ITEMS_MAX} items`);
  if (wire.purchaseIds.length > ORDER_ITEMS_MAX)
    throw new TallyError("INTERNAL",
                         `malformed ${what}: order of more than ${ORDER_ITEMS_MAX} purchases`);
  return { id: wire.id, userId: wire.userId, status: orderStatusName(wire.status),
           items: wire.items.map((item) => ({ itemId: item.itemId, amount: Number(item.amount) })),
           total: Number(wire.total), error: wire.error, version: Number(wire.version),
           createdAt: Number(wire.createdAt), updatedAt: Number(wire.updatedAt),
           submittedAt: Number(wire.submittedAt), finishedAt: Number(wire.finishedAt),
           purchaseIds: [...wire.purchaseIds] };
}

function orderSummary(wire: WireOrderSummary): OrderSummary {
  return { id: wire.id, userId: wire.userId, status: orderStatusName(wire.status),
           total: Number(wire.total), version: Number(wire.version),
           updatedAt: Number(wire.updatedAt), submittedAt: Number(wire.submittedAt) };
}

function roleName(role: Role): GroupMember["role"] {
  return role === Role.READER ? "reader" : role === Role.WRITER ? "writer"
         : role === Role.ADMIN ? "admin" : "none";
}

const KIND_NAMES = Object.fromEntries(
  Object.entries(ObjectKind).map(([name, value]) => [value, name])) as Record<number, ObjectKindName>;

// Checks the worker's signature on a SignedObject (domain tally/object/v1)
// and decodes it. expectedId: the object it must be (canonical co_z text).
// Throws TallyError BAD_SIGNATURE for an object the worker did not sign,
// INTERNAL for one that is malformed; never returns an unchecked object.
export function verifyObject(signed: { state: Uint8Array; signature: Uint8Array } | SignedObject
                               | undefined,
                             worker: Uint8Array, expectedId?: string): TallyObject {
  if (!signed) throw malformed("no object");
  if (!verifyDomain("object", worker, signed.state, signed.signature))
    throw new TallyError("BAD_SIGNATURE",
                         `object of ${signed.state.length} bytes is not signed by the worker`);
  let state;
  try {
    state = fromBinary(ObjectStateSchema, signed.state);
  } catch {
    throw malformed("state does not decode as an ObjectState");
  }
  const parsed = parseObjectId(state.objectId);
  if (!parsed) throw malformed("object ID is not one");
  const id = objectIdOfKey(parsed.key);
  if (expectedId !== undefined && id !== expectedId)
    throw malformed(`object ${id} where ${expectedId} was expected`);
  if (state.version === 0n) throw malformed(`version 0 of ${id}`);
  const object: TallyObject = {
    kind: KIND_NAMES[parsed.kind], id, version: Number(state.version),
    updatedMs: Number(state.updatedMs), snapshot: false,
    signed: { state: signed.state, signature: signed.signature },
  };
  const value = state.value?.kind;
  const wrongKind = () => malformed(`value is not of the kind its ID ${id} says`);
  switch (parsed.kind) {
    case ObjectKind.BALANCE:
      if (value?.case !== "balance") throw wrongKind();
      object.balance = { id: value.value.id, userId: value.value.userId,
                         balance: Number(value.value.balance),
                         lastUpdated: Number(value.value.lastUpdated),
                         held: Number(value.value.held) };
      break;
    case ObjectKind.PURCHASE:
      if (value?.case !== "purchase") throw wrongKind();
      object.purchase = purchase(value.value);
      break;
    case ObjectKind.ROOT:
      if (value?.case !== "root") throw wrongKind();
      object.root = { id: value.value.id, userId: value.value.userId,
                      balanceId: value.value.balanceId, purchasesId: value.value.purchasesId };
      break;
    case ObjectKind.PURCHASE_LOG: {
      if (value?.case !== "purchases") throw wrongKind();
      const log = value.value;
      const entries = log.records.length + log.adjustments.length;
      if (entries > OBJECT_RECORDS_MAX)
        throw malformed(`${log.records.length} purchase records and ${log.adjustments.length} `
                        + `adjustments (limit ${OBJECT_RECORDS_MAX} in all)`);
      if (BigInt(entries) > log.count)
        throw malformed(`${entries} entries of ${log.count} in all`);
      object.purchases = { id: log.id, userId: log.userId, count: Number(log.count),
                           records: log.records.map(purchase),
                           adjustments: log.adjustments.map(adjustment) };
      break;
    }
    case ObjectKind.SERVICE:
      if (value?.case !== "service") throw wrongKind();
      object.service = { id: value.value.id, workerId: value.value.workerId,
                         maxInitialBalance: Number(value.value.maxInitialBalance),
                         maxAmount: Number(value.value.maxAmount),
                         partitionCount: value.value.partitionCount,
                         ratePerMinute: value.value.ratePerMinute,
                         rateBurst: value.value.rateBurst, openPrices: value.value.openPrices };
      break;
    case ObjectKind.ADJUSTMENT:
      if (value?.case !== "adjustment") throw wrongKind();
      object.adjustment = adjustment(value.value);
      break;
    case ObjectKind.CATALOG: {
      if (value?.case !== "catalog") throw wrongKind();
      const catalog = value.value;
      if (catalog.items.length > CATALOG_MAX)
        throw malformed(`${catalog.items.length} catalog items (limit ${CATALOG_MAX})`);
      object.catalog = { id: catalog.id, configVersion: Number(catalog.configVersion),
                         items: catalog.items.map((item) => ({ itemId: item.itemId,
                                                               price: Number(item.price),
                                                               active: item.active })) };
      break;
    }
    case ObjectKind.ORDER:
      if (value?.case !== "order") throw wrongKind();
      object.order = order(value.value);
      break;
    case ObjectKind.ORDER_LIST: {
      if (value?.case !== "orders") throw wrongKind();
      const list = value.value;
      if (list.orders.length > ORDER_LIST_MAX)
        throw malformed(`${list.orders.length} orders in a list (limit ${ORDER_LIST_MAX})`);
      if (BigInt(list.orders.length) > list.count)
        throw malformed(`${list.orders.length} orders listed of ${list.count} in all`);
      object.orders = { id: list.id, userId: list.userId, count: Number(list.count),
                        orders: list.orders.map(orderSummary) };
      break;
    }
    case ObjectKind.ORDER_QUEUE: {
      if (value?.case !== "orderQueue") throw wrongKind();
      const queue = value.value;
      if (queue.orders.length > ORDER_QUEUE_MAX)
        throw malformed(`${queue.orders.length} orders in a queue (limit ${ORDER_QUEUE_MAX})`);
      object.orderQueue = { id: queue.id, partition: queue.partition,
                            orders: queue.orders.map(orderSummary) };
      break;
    }
    default:
      throw wrongKind();
  }
  if (state.group) {
    const wire = state.group;
    if (wire.owner.length !== 0 && wire.owner.length !== 32)
      throw malformed(`group owner of ${wire.owner.length} bytes`);
    if (wire.members.length > GROUP_MEMBERS_MAX)
      throw malformed(`${wire.members.length} group members (limit ${GROUP_MEMBERS_MAX})`);
    object.group = {
      id: wire.id,
      owner: wire.owner.length === 32 ? accountId(wire.owner) : null,
      members: wire.members.map((member) => {
        if (member.account.length !== 0 && member.account.length !== 32)
          throw malformed(`group member of ${member.account.length} bytes`);
        return { account: member.account.length === 32 ? accountId(member.account) : null,
                 role: roleName(member.role) };
      }),
    };
  }
  return object;
}
