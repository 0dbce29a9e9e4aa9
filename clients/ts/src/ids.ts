// ids - object IDs and partitions, derived as every tally process derives
// them (lib/include/tly_object_id.h, tly_partition.h):
//   Object ID:  "co_z" + base58(kind(1) | partition(2, big endian) | 16 bytes)
//   a user's object: the 16 bytes are the first 16 of BLAKE2b-256(label || key)
//   partition:  first 8 bytes of BLAKE2b-256(account ID text), little-endian,
//               modulo the partition count
import { blake2b } from "@noble/hashes/blake2.js";
import { accountId, ID_PREFIX, parseAccountId } from "./account.js";
import { base58DecodePrefixed, base58Encode } from "./base58.js";
import { concat, utf8 } from "./bytes.js";
import { TallyError } from "./errors.js";

export const PARTITIONS_DEFAULT = 256;
export const PARTITIONS_MAX = 65536;

export const ObjectKind = {
  BALANCE: 1,
  PURCHASE: 2,
  ROOT: 3,
  GROUP: 4,
  PURCHASE_LOG: 5,
  SERVICE: 6,
  ADJUSTMENT: 7,
  CATALOG: 8,
  ORDER: 9,
  ORDER_LIST: 10,
  ORDER_QUEUE: 11,
} as const;
export type ObjectKindName = keyof typeof ObjectKind;

const USER_LABELS: Partial<Record<number, string>> = {
  [ObjectKind.BALANCE]: "balance",
  [ObjectKind.ROOT]: "root",
  [ObjectKind.PURCHASE_LOG]: "purchases",
  [ObjectKind.GROUP]: "group",
  [ObjectKind.ORDER_LIST]: "orders",
};

function hash256(...parts: Uint8Array[]): Uint8Array {
  return blake2b(concat(...parts), { dkLen: 32 });
}

function checkCount(partitionCount: number): void {
  if (!Number.isInteger(partitionCount) || partitionCount < 1 || partitionCount > PARTITIONS_MAX)
    throw new TallyError("BAD_REQUEST", `a partition count is 1..${PARTITIONS_MAX}, not ${partitionCount}`);
}

// A public key from a key or an account ID.
function keyOf(account: Uint8Array | string): Uint8Array {
  const key = typeof account === "string" ? parseAccountId(account) : account;
  if (!key || key.length !== 32)
    throw new TallyError("BAD_REQUEST", `not an account: ${String(account).slice(0, 64)}`);
  return key;
}

// The partition of an account (its ID or its public key).
export function partitionOf(account: Uint8Array | string,
                            partitionCount: number = PARTITIONS_DEFAULT): number {
  checkCount(partitionCount);
  const id = typeof account === "string" ? account : accountId(account);
  const hash = hash256(utf8(id));
  let value = 0n;
  for (let i = 7; i >= 0; i--) value = (value << 8n) | BigInt(hash[i]);
  return Number(value % BigInt(partitionCount));
}

export function objectIdOfKey(key: Uint8Array): string {
  return ID_PREFIX + base58Encode(key);
}

export function objectId(kind: number, partition: number, tail: Uint8Array): string {
  if (tail.length !== 16) throw new TallyError("BAD_REQUEST", "an object ID's tail is 16 bytes");
  return objectIdOfKey(concat(new Uint8Array([kind, partition >> 8, partition & 0xff]), tail));
}

export interface ParsedObjectId {
  kind: number;       // ObjectKind
  partition: number;
  tail: Uint8Array;   // 16 bytes
  key: Uint8Array;    // the 19 raw bytes
}

// Parses an object ID; null when it is not one (as the C SDK: base58 of 19
// bytes whose kind is 1..11).
export function parseObjectId(text: string): ParsedObjectId | null {
  const key = typeof text === "string" ? base58DecodePrefixed(text, ID_PREFIX, 19) : null;
  if (!key || key[0] < ObjectKind.BALANCE || key[0] > ObjectKind.ORDER_QUEUE) return null;
  return { kind: key[0], partition: (key[1] << 8) | key[2], tail: key.slice(3), key };
}

function derivedKey(kind: number, partition: number, label: string, keyOf32: Uint8Array,
                    extra?: Uint8Array): Uint8Array {
  const hash = extra ? hash256(utf8(label), keyOf32, extra) : hash256(utf8(label), keyOf32);
  return concat(new Uint8Array([kind, partition >> 8, partition & 0xff]), hash.subarray(0, 16));
}

function userObjectId(kind: number, account: Uint8Array | string, partitionCount: number): string {
  const key = keyOf(account);
  return objectIdOfKey(derivedKey(kind, partitionOf(key, partitionCount), USER_LABELS[kind]!, key));
}

// The IDs of an account's own objects (the user's UserBalance, private root,
// purchase log and purchases group), in a cluster of partitionCount partitions.
export function balanceId(account: Uint8Array | string,
                          partitionCount: number = PARTITIONS_DEFAULT): string {
  return userObjectId(ObjectKind.BALANCE, account, partitionCount);
}
export function rootId(account: Uint8Array | string, partitionCount: number = PARTITIONS_DEFAULT): string {
  return userObjectId(ObjectKind.ROOT, account, partitionCount);
}
export function purchasesId(account: Uint8Array | string,
                            partitionCount: number = PARTITIONS_DEFAULT): string {
  return userObjectId(ObjectKind.PURCHASE_LOG, account, partitionCount);
}

// A purchase's ID: PURCHASE | partition | the message ID's 6 time bytes |
// the first 10 bytes of BLAKE2b-256("purchase" || user key || message ID).
export function purchaseId(account: Uint8Array | string, messageId: Uint8Array,
                           partitionCount: number = PARTITIONS_DEFAULT): string {
  if (messageId.length !== 16) throw new TallyError("BAD_REQUEST", "a message ID is 16 bytes");
  const key = keyOf(account);
  const derived = derivedKey(ObjectKind.PURCHASE, partitionOf(key, partitionCount), "purchase", key,
                             messageId);
  return objectIdOfKey(concat(derived.subarray(0, 3), messageId.subarray(0, 6),
                              derived.subarray(3, 13)));
}

// A credit's or debit's AdjustmentRecord: ADJUSTMENT | the user's partition
// | the first 16 bytes of BLAKE2b-256("adjustment" || user key || reference
// as UTF-8) (lib/src/tly_object_id.c, tly_adjustment_key). One per user and
// reference: the same reference again is answered with this record.
export function adjustmentId(account: Uint8Array | string, reference: string,
                             partitionCount: number = PARTITIONS_DEFAULT): string {
  if (typeof reference !== "string")
    throw new TallyError("BAD_REQUEST", "a reference is a string");
  const key = keyOf(account);
  return objectIdOfKey(derivedKey(ObjectKind.ADJUSTMENT, partitionOf(key, partitionCount),
                                  "adjustment", key, utf8(reference)));
}

// The account's OrderList (docs/protocol.md, "Orders"): its orders, the
// latest 32 created.
export function ordersId(account: Uint8Array | string,
                         partitionCount: number = PARTITIONS_DEFAULT): string {
  return userObjectId(ObjectKind.ORDER_LIST, account, partitionCount);
}

// A partition's OrderQueue, its orders processing (the worker reads it):
// "order-queue" over the worker key.
export function orderQueueId(worker: Uint8Array | string, partition: number): string {
  if (!Number.isInteger(partition) || partition < 0 || partition >= PARTITIONS_MAX)
    throw new TallyError("BAD_REQUEST", `a partition is 0..${PARTITIONS_MAX - 1}, not ${partition}`);
  return objectIdOfKey(derivedKey(ObjectKind.ORDER_QUEUE, partition, "order-queue", keyOf(worker)));
}

// The worker's public ServiceInfo: partition 0, "service" over the worker key.
export function serviceId(worker: Uint8Array | string): string {
  return objectIdOfKey(derivedKey(ObjectKind.SERVICE, 0, "service", keyOf(worker)));
}

// The worker's public price Catalog: partition 0, "catalog" over the worker key.
export function catalogId(worker: Uint8Array | string): string {
  return objectIdOfKey(derivedKey(ObjectKind.CATALOG, 0, "catalog", keyOf(worker)));
}
