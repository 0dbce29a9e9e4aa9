// The shared test vectors (tests/vectors/sdk.json, made by the C SDK):
// from the same inputs the TypeScript client must make byte-identical
// account IDs, secrets, object IDs (also a credit's or debit's, and the
// Catalog's), message IDs, envelopes (also the worker's credits and debits,
// its configuration messages, a buy without an amount and its refunds; a
// user's order messages and the worker's completion and failures),
// signatures and requests, and take the worker's objects the C side signed
// (a balance, a PurchaseLog with adjustments, an AdjustmentRecord, the
// Catalog, a refunded purchase) and refuse each with any byte changed. No
// network.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  accountFromKeys, accountSecret, addAdminMessage, adjustmentId, balanceId, buyMessage, catalogId,
  createAccountMessage, creditMessage, debitMessage, fromHex, loadAccount, messageId,
  messageIdTime, ObjectKind, parseObjectId, partitionOf, purchaseId, purchasesId, refundMessage,
  removeAdminMessage, rootId, sealEnvelope, sendRequest, serviceId, setPriceMessage,
  subscribeRequest, toHex, verifyObject, TallyError, type Account, type AdjustmentRecord,
  type ConfigChange, type InboxMessage, type InboxSender, type PurchaseRecord, type UserBalance,
} from "../src/index.js";
import { mergeObject } from "../src/react.js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  EnvelopeSchema, ObjectStateSchema, OrderStatus,
} from "../src/gen/tally_pb.js";
import {
  completeOrderMessage, createOrderMessage, editOrderMessage, failOrderMessage, objectId,
  orderQueueId, ordersId, signDomain, submitOrderMessage, type Order,
} from "../src/index.js";

const path = process.env.TALLY_VECTORS
             ?? new URL("../../../../tests/vectors/sdk.json", import.meta.url).pathname;
const vectors = JSON.parse(readFileSync(path, "utf8"));

const accounts = new Map<string, Account>();
for (const entry of vectors.accounts)
  accounts.set(entry.account, accountFromKeys(fromHex(entry.seed_hex),
                                              fromHex(entry.sealer_secret_hex), entry.name));

test("accounts: IDs, secrets and keys", () => {
  for (const entry of vectors.accounts) {
    const account = accounts.get(entry.account)!;
    assert.equal(account.id, entry.account);
    assert.equal(toHex(account.publicKey), entry.public_key_hex);
    assert.equal(toHex(account.sealerPublic), entry.sealer_public_hex);
    assert.equal(accountSecret(account), entry.secret);
    // and back from the JSON the CLI writes
    const loaded = loadAccount(JSON.stringify({ account: entry.account, secret: entry.secret,
                                                name: entry.name }));
    assert.equal(toHex(loaded.seed), entry.seed_hex);
    assert.equal(loaded.name, entry.name);
  }
});

test("object IDs and partitions", () => {
  for (const entry of vectors.accounts) {
    assert.equal(serviceId(entry.account), entry.service_id);
    assert.equal(catalogId(entry.account), entry.catalog_id);
    const catalog = parseObjectId(entry.catalog_id)!;
    assert.equal(catalog.kind, ObjectKind.CATALOG);
    assert.equal(catalog.partition, 0);
    for (const row of entry.by_partition_count) {
      assert.equal(partitionOf(entry.account, row.partition_count), row.partition);
      assert.equal(balanceId(entry.account, row.partition_count), row.balance_id);
      assert.equal(rootId(fromHex(entry.public_key_hex), row.partition_count), row.root_id);
      assert.equal(purchasesId(entry.account, row.partition_count), row.purchases_id);
      assert.equal(parseObjectId(row.balance_id)!.partition, row.partition);
    }
  }
  for (const row of vectors.purchase_ids)
    assert.equal(purchaseId(row.account, fromHex(row.message_id_hex), row.partition_count),
                 row.purchase_id);
});

test("adjustment IDs: kind 7, the user's partition, from the user and the reference", () => {
  assert.ok(vectors.adjustment_ids.length >= 8);
  for (const row of vectors.adjustment_ids) {
    const id = adjustmentId(row.account, row.reference, row.partition_count);
    assert.equal(id, row.adjustment_id, `${row.reference} / ${row.partition_count}`);
    const parsed = parseObjectId(id)!;
    assert.equal(parsed.kind, ObjectKind.ADJUSTMENT);
    assert.equal(parsed.partition, partitionOf(row.account, row.partition_count));
  }
});

test("message IDs", () => {
  for (const row of vectors.message_ids) {
    const id = messageId(row.time_ms, fromHex(row.random_hex));
    assert.equal(toHex(id), row.id_hex);
    assert.equal(messageIdTime(id), row.id_time_ms);
  }
});

// A credit or debit is made through creditMessage / debitMessage (their
// checks pass), with the amount as a number when it is one exactly (every
// one here is: at most 2^53 - 1), and an empty note as none; a
// configuration message or a refund through its constructor (a refund
// without a reason as none); a buy of amount 0 without an amount (the
// catalog price).
function message(row: any): InboxMessage {
  const id = fromHex(row.id_hex);
  switch (row.type) {
    case "createAccount":
      return { type: "createAccount", initialBalance: BigInt(row.initial_balance), id };
    case "buy":
      return row.amount === "0" ? { type: "buy", itemId: row.item_id, id }
                                : { type: "buy", itemId: row.item_id, amount: BigInt(row.amount), id };
    case "addAdmin":
      return addAdminMessage(row.account, id);
    case "removeAdmin":
      return removeAdminMessage(row.account, id);
    case "refund":
      return row.reason === "" ? refundMessage(row.purchase_id, undefined, id)
                               : refundMessage(row.purchase_id, row.reason, id);
    case "setPrice": {
      const price = Number(row.price);
      assert.ok(Number.isSafeInteger(price));
      return row.active ? setPriceMessage(row.item_id, price, undefined, id)
                        : setPriceMessage(row.item_id, price, false, id);
    }
    case "credit":
    case "debit": {
      const amount = Number(row.amount);
      assert.ok(Number.isSafeInteger(amount));
      const make = row.type === "credit" ? creditMessage : debitMessage;
      return row.note === "" ? make(row.user, amount, row.reference, undefined, id)
                             : make(row.user, amount, row.reference, row.note, id);
    }
    case "createOrder":
    case "editOrder": {
      // an amount of 0 as none (the catalog price), the largest as a number
      const items = row.items.map((item: any) => item.amount === "0" ? { itemId: item.item_id }
        : { itemId: item.item_id, amount: Number(item.amount) });
      return row.type === "createOrder" ? createOrderMessage(items, id)
                                        : editOrderMessage(row.order_id, items, id);
    }
    case "submitOrder":
      return submitOrderMessage(row.order_id, id);
    case "completeOrder":
      return completeOrderMessage(row.order_id, id);
    case "failOrder":
      return row.error === "" ? failOrderMessage(row.order_id, undefined, id)
                              : failOrderMessage(row.order_id, row.error, id);
    default:
      throw new Error(`unknown message type ${row.type}`);
  }
}

test("envelopes, signatures and send requests", () => {
  const types = new Set(vectors.envelopes.flatMap((row: any) => row.messages.map((m: any) => m.type)));
  assert.deepEqual([...types].sort(), ["addAdmin", "buy", "completeOrder", "createAccount",
                                       "createOrder", "credit", "debit", "editOrder", "failOrder",
                                       "refund", "removeAdmin", "setPrice", "submitOrder"]);
  for (const row of vectors.envelopes) {
    const sender = accounts.get(row.sender)!;
    const inbox = accounts.get(row.inbox)!.publicKey;
    const sealed = sealEnvelope(sender, inbox, row.messages.map(message), Number(row.timestamp_ms));
    assert.equal(toHex(sealed.envelope), row.envelope_hex, `${row.name}: envelope`);
    assert.equal(toHex(sealed.signature), row.signature_hex, `${row.name}: signature`);
    assert.equal(toHex(sealed.signedEnvelope), row.signed_envelope_hex, `${row.name}: sealed`);
    assert.equal(toHex(sendRequest(BigInt(row.request_id), sealed)), row.request_hex,
                 `${row.name}: request`);
  }
});

test("subscribe requests", () => {
  for (const row of vectors.subscribes) {
    const { request } = subscribeRequest(accounts.get(row.reader)!, BigInt(row.request_id),
                                         row.object_id, Number(row.timestamp_ms));
    assert.equal(toHex(request), row.request_hex);
  }
});

// A purchase record of the file: the fields it names, the rest as the
// wire's defaults (0, "": never refunded).
function purchaseOf(r: any) {
  return { id: r.id, userId: r.user_id, itemId: r.item_id, amount: r.amount,
           timestamp: r.timestamp, balanceAfter: r.balance_after,
           partitionSeq: r.partition_seq ?? 0, refundId: r.refund_id ?? "",
           refundedAt: r.refunded_at ?? 0 };
}

function adjustmentOf(row: any) {
  return { id: row.id, userId: row.user_id, amount: row.amount, reference: row.reference,
           note: row.note, timestamp: row.timestamp, balanceAfter: row.balance_after, by: row.by };
}

test("the worker's objects: taken as signed, refused with any byte changed", () => {
  assert.deepEqual(vectors.objects.map((row: any) => row.kind),
                   ["BALANCE", "PURCHASE_LOG", "ADJUSTMENT", "CATALOG", "PURCHASE"]);
  for (const row of vectors.objects) {
    const worker = accounts.get(row.worker)!.publicKey;
    const signed = { state: fromHex(row.state_hex), signature: fromHex(row.signature_hex) };
    const object = verifyObject(signed, worker, row.object_id);
    assert.equal(object.kind, row.kind);
    assert.equal(object.version, row.version);
    assert.equal(object.updatedMs, row.updated_ms);
    if (row.balance)
      assert.deepEqual(object.balance, { id: row.balance.id, userId: row.balance.user_id,
                                         balance: row.balance.balance,
                                         lastUpdated: row.balance.last_updated,
                                         held: row.balance.held ?? 0 });
    if (row.purchases)
      assert.deepEqual(object.purchases, {
        id: row.purchases.id, userId: row.purchases.user_id, count: row.purchases.count,
        records: row.purchases.records.map(purchaseOf),
        adjustments: row.purchases.adjustments.map(adjustmentOf),
      });
    if (row.purchase) {
      // version 2: refunded, naming the refund's record, whose ID comes from
      // the user and the reference "refund:" + the purchase's ID
      assert.deepEqual(object.purchase, purchaseOf(row.purchase));
      assert.equal(row.purchase.id, row.object_id);
      assert.equal(adjustmentId(row.purchase.user_id, `refund:${row.object_id}`),
                   row.purchase.refund_id);
    }
    if (row.adjustment) {
      assert.deepEqual(object.adjustment, adjustmentOf(row.adjustment));
      assert.equal(adjustmentId(row.adjustment.user_id, row.adjustment.reference), row.object_id);
    }
    if (row.catalog) {
      assert.deepEqual(object.catalog, {
        id: row.catalog.id, configVersion: row.catalog.config_version,
        items: row.catalog.items.map((item: any) => ({ itemId: item.item_id, price: item.price,
                                                       active: item.active })),
      });
      assert.equal(catalogId(row.worker), row.object_id);
    }
    assert.deepEqual(object.group, row.group);
    // every byte of the state and of the signature matters
    for (const part of ["state", "signature"] as const)
      for (let i = 0; i < signed[part].length; i++) {
        const altered = { ...signed, [part]: signed[part].slice() };
        altered[part][i] ^= 0x01;
        assert.throws(() => verifyObject(altered, worker, row.object_id),
                      (error: unknown) => error instanceof TallyError
                                          && error.code === "BAD_SIGNATURE",
                      `${row.kind}: ${part} byte ${i}`);
      }
    // another worker's key, another object expected
    const other = accounts.get(vectors.accounts[0].account)!.publicKey;
    assert.throws(() => verifyObject(signed, other), { code: "BAD_SIGNATURE" });
    assert.throws(() => verifyObject(signed, worker, vectors.accounts[0].by_partition_count[0].root_id),
                  { code: "INTERNAL" });
  }
});

test("a PurchaseLog update's entry joins the ones before, adjustments too (mergeObject)", () => {
  const row = vectors.objects.find((r: any) => r.kind === "PURCHASE_LOG");
  const worker = accounts.get(row.worker)!.publicKey;
  const snapshot = { ...verifyObject({ state: fromHex(row.state_hex),
                                       signature: fromHex(row.signature_hex) }, worker),
                     snapshot: true };
  const log = snapshot.purchases!;
  const credit = { ...log.adjustments[0], id: "co_zcredit", amount: 7, balanceAfter: 552 };
  const update = { ...snapshot, snapshot: false, version: 5,
                   purchases: { ...log, count: 4, records: [], adjustments: [credit] } };
  const merged = mergeObject(snapshot, update);
  assert.equal(merged.version, 5);
  assert.equal(merged.purchases!.count, 4);
  assert.deepEqual(merged.purchases!.records, log.records);
  assert.deepEqual(merged.purchases!.adjustments, [...log.adjustments, credit]);
  // the same entry again (a resent update) is not doubled
  assert.deepEqual(mergeObject(merged, update).purchases!.adjustments, merged.purchases!.adjustments);
  // a snapshot replaces
  assert.equal(mergeObject(merged, snapshot), snapshot);
});

test("a credit or debit is checked as the C SDK checks it, before anything is sent", () => {
  const user = vectors.accounts[0].account;
  const refused = (make: () => unknown, code: string, reason: RegExp) =>
    assert.throws(make, (error: unknown) => error instanceof TallyError && error.code === code
                                            && !error.remote && reason.test(error.message));
  refused(() => creditMessage("co_zxyz", 1, "r"), "BAD_REQUEST", /not an account ID/);
  refused(() => debitMessage(vectors.accounts[0].service_id, 1, "r"), "BAD_REQUEST",
          /not an account ID/);
  refused(() => creditMessage(user, 1, "r".repeat(129)), "INVALID_REFERENCE",
          /reference of 129 bytes exceeds 128 bytes/);
  refused(() => creditMessage(user, 1, "é".repeat(65)), "INVALID_REFERENCE",
          /reference of 130 bytes exceeds 128 bytes/);
  refused(() => debitMessage(user, 1, "r", "n".repeat(257)), "INVALID_NOTE",
          /note of 257 bytes exceeds 256 bytes/);
  refused(() => creditMessage(user, 1, "pay\u0000-1"), "INVALID_REFERENCE", /NUL/);
  refused(() => creditMessage(user, 1, "pay-1", "\ud800"), "INVALID_NOTE", /lone surrogate/);
  refused(() => creditMessage(user, 1.5, "r"), "BAD_REQUEST", /integer/);
  // the limits themselves pass; amount, an empty reference and the balance
  // are the cluster's to refuse
  assert.equal(creditMessage(user, 1, "r".repeat(128), "n".repeat(256)).type, "credit");
  assert.equal(debitMessage(user, 0, "").amount, 0);
  assert.equal(creditMessage(user, -5, "r").amount, -5);
  // sealing checks a message given as a plain object the same way
  const worker = accounts.get(vectors.accounts[2].account)!;
  assert.throws(() => sealEnvelope(worker, worker.publicKey,
                                   [{ type: "credit", user, amount: 1, reference: "r".repeat(129),
                                      id: messageId() }], 0),
                { code: "INVALID_REFERENCE" });
});

test("a configuration message is checked as the C SDK checks it, before anything is sent", () => {
  const refused = (make: () => unknown, code: string, reason: RegExp) =>
    assert.throws(make, (error: unknown) => error instanceof TallyError && error.code === code
                                            && !error.remote && reason.test(error.message));
  refused(() => addAdminMessage("co_zxyz"), "BAD_REQUEST", /not an account ID/);
  refused(() => removeAdminMessage(vectors.accounts[0].catalog_id), "BAD_REQUEST",
          /not an account ID/);
  refused(() => setPriceMessage("i".repeat(257), 1), "INVALID_ITEM",
          /item ID of 257 bytes exceeds 256 bytes/);
  refused(() => setPriceMessage("é".repeat(129), 1), "INVALID_ITEM",
          /item ID of 258 bytes exceeds 256 bytes/);
  refused(() => setPriceMessage("item\u0000", 1), "INVALID_ITEM", /NUL/);
  refused(() => setPriceMessage("item", 2.5), "BAD_REQUEST", /integer/);
  // the cap itself passes; the item's own rules and the price are the cluster's
  assert.equal(setPriceMessage("i".repeat(256), 0, false).type, "setPrice");
  assert.equal(setPriceMessage("item", -1).type, "setPrice");
  // sealing checks a message given as a plain object the same way
  const worker = accounts.get(vectors.accounts[2].account)!;
  assert.throws(() => sealEnvelope(worker, worker.publicKey,
                                   [{ type: "addAdmin", account: "nope", id: messageId() }], 0),
                { code: "BAD_REQUEST" });
  // a setPrice without active puts the item on sale, as setPriceMessage does
  const row = vectors.envelopes.find((r: any) => r.name === "admins and prices");
  const plain = row.messages.map((m: any) => m.type === "setPrice" && m.active
    ? { type: "setPrice", itemId: m.item_id, price: Number(m.price), id: fromHex(m.id_hex) }
    : message(m));
  assert.equal(toHex(sealEnvelope(worker, worker.publicKey, plain,
                                  Number(row.timestamp_ms)).envelope), row.envelope_hex);
});

test("a refund is checked as the C SDK checks it, before anything is sent", () => {
  const refused = (make: () => unknown, code: string, reason: RegExp) =>
    assert.throws(make, (error: unknown) => error instanceof TallyError && error.code === code
                                            && !error.remote && reason.test(error.message));
  const row = vectors.envelopes.find((r: any) => r.name === "refunds");
  const purchase = row.messages[0].purchase_id;
  assert.equal(parseObjectId(purchase)!.kind, ObjectKind.PURCHASE);
  refused(() => refundMessage("co_zxyz"), "BAD_REQUEST", /purchase 'co_zxyz' is not a purchase's ID/);
  refused(() => refundMessage(vectors.accounts[0].account), "BAD_REQUEST",
          /not a purchase's ID/);
  refused(() => refundMessage(vectors.accounts[0].by_partition_count[0].balance_id),
          "BAD_REQUEST", /not a purchase's ID/);
  refused(() => refundMessage(vectors.adjustment_ids[0].adjustment_id), "BAD_REQUEST",
          /not a purchase's ID/);
  refused(() => refundMessage(purchase, "n".repeat(257)), "INVALID_NOTE",
          /reason of 257 bytes exceeds 256 bytes/);
  refused(() => refundMessage(purchase, "é".repeat(129)), "INVALID_NOTE",
          /reason of 258 bytes exceeds 256 bytes/);
  refused(() => refundMessage(purchase, "late\u0000"), "INVALID_NOTE", /NUL/);
  refused(() => refundMessage(purchase, "\udc00"), "INVALID_NOTE", /lone surrogate/);
  // the limit itself passes; the sender, the purchase and the balance are
  // the cluster's
  assert.equal(refundMessage(purchase, "n".repeat(256)).type, "refund");
  assert.equal(refundMessage(purchase).reason, "");
  // sealing checks a message given as a plain object the same way, and a
  // plain refund without a reason seals as refundMessage's does
  const worker = accounts.get(row.sender)!;
  assert.throws(() => sealEnvelope(worker, worker.publicKey,
                                   [{ type: "refund", purchaseId: "nope", id: messageId() }], 0),
                { code: "BAD_REQUEST" });
  const plain = row.messages.map((m: any) => m.reason === ""
    ? { type: "refund", purchaseId: m.purchase_id, id: fromHex(m.id_hex) }
    : message(m));
  assert.equal(toHex(sealEnvelope(worker, worker.publicKey, plain,
                                  Number(row.timestamp_ms)).envelope), row.envelope_hex);
});

test("a message made ahead keeps its kind: sendMessage of it resolves to that kind's result",
     () => {
  // Checked by tsc when this file is built (ts_build): each made message
  // takes the sendMessage overload of its kind, not the SendResult union.
  const results = (sender: InboxSender, purchase: string) => ({
    balance: sender.sendMessage(createAccountMessage(100)) satisfies Promise<UserBalance>,
    purchase: sender.sendMessage(buyMessage("item")) satisfies Promise<PurchaseRecord>,
    credit: sender.sendMessage(creditMessage(purchase, 1, "ref")) satisfies Promise<AdjustmentRecord>,
    refund: sender.sendMessage(refundMessage(purchase)) satisfies Promise<AdjustmentRecord>,
    price: sender.sendMessage(setPriceMessage("item", 1)) satisfies Promise<ConfigChange>,
  });
  assert.equal(typeof results, "function");
  const buy = buyMessage("item");
  assert.deepEqual([buy.type, buy.itemId, buy.amount, buy.id.length], ["buy", "item", 0, 16]);
  const created = createAccountMessage(100);
  assert.deepEqual([created.type, created.initialBalance, created.id.length],
                   ["createAccount", 100, 16]);
});

test("orders: messages checked as the C SDK checks them, sealed as the proto says", () => {
  const refused = (make: () => unknown, code: string, reason: RegExp) =>
    assert.throws(make, (error: unknown) => error instanceof TallyError && error.code === code
                                            && !error.remote && reason.test(error.message));
  const user = accounts.get(vectors.accounts[0].account)!;
  const worker = accounts.get(vectors.accounts[1].account)!;
  // an order's ID: kind 9 in the user's partition
  const orderId = objectId(ObjectKind.ORDER, partitionOf(user.publicKey), new Uint8Array(16).fill(7));
  const items = [{ itemId: "item-1" }, { itemId: "café", amount: 25 }];
  const created = createOrderMessage(items);
  assert.equal(created.type, "createOrder");
  assert.equal(editOrderMessage(orderId, items).orderId, orderId);
  assert.equal(failOrderMessage(orderId).error, "");
  refused(() => createOrderMessage([]), "BAD_REQUEST", /an order holds 1 to 16 items \(0 given\)/);
  refused(() => createOrderMessage(new Array(17).fill({ itemId: "a" })), "BAD_REQUEST",
          /\(17 given\)/);
  refused(() => createOrderMessage([{ itemId: "a" }, { itemId: "" }]), "INVALID_ITEM",
          /item 2: itemId must not be empty/);
  refused(() => createOrderMessage([{ itemId: "i".repeat(129) }]), "INVALID_ITEM",
          /item 1: itemId of 129 bytes exceeds 128 bytes/);
  refused(() => createOrderMessage([{ itemId: "a", amount: -1 }]), "INVALID_AMOUNT",
          /item 1: amount must be 0/);
  refused(() => createOrderMessage([{ itemId: "a", amount: 2n ** 53n }]), "INVALID_AMOUNT",
          /exceeds the largest balance/);
  refused(() => createOrderMessage([{ itemId: "a" }, { itemId: "b", amount: 2 ** 53 }]),
          "INVALID_AMOUNT", /item 2: amount exceeds the largest balance \(2\^53 - 1\)/);
  refused(() => createOrderMessage([{ itemId: "a", amount: 1.5 }]), "INVALID_AMOUNT",
          /item 1: amount must be a whole number of minor units/);
  // at the limits: 16 items, an item ID of 128 bytes, amounts 0 and 2^53 - 1
  const most = Array.from({ length: 16 }, (_, i) => ({ itemId: "i".repeat(128),
                                                      amount: i === 0 ? 0 : 2 ** 53 - 1 }));
  assert.equal(createOrderMessage(most).items.length, 16);
  assert.equal(editOrderMessage(orderId, most).items.length, 16);
  for (const bad of ["nope", vectors.accounts[0].account, ordersId(user.publicKey)]) {
    refused(() => editOrderMessage(bad, items), "BAD_REQUEST", /is not an order's ID \(co_z...\)/);
    refused(() => submitOrderMessage(bad), "BAD_REQUEST", /is not an order's ID/);
    refused(() => completeOrderMessage(bad), "BAD_REQUEST", /is not an order's ID/);
  }
  refused(() => editOrderMessage("nope", []), "BAD_REQUEST", /order 'nope' is not an order's ID/);
  refused(() => failOrderMessage(orderId, "e".repeat(257)), "INVALID_NOTE",
          /error of 257 bytes exceeds 256 bytes/);
  assert.equal(failOrderMessage(orderId, "e".repeat(256)).type, "failOrder");
  // each body as the server reads it
  const messages = [created, editOrderMessage(orderId, items.slice(1)), submitOrderMessage(orderId),
                    completeOrderMessage(orderId), failOrderMessage(orderId, "card declined")];
  const sealed = sealEnvelope(worker, worker.publicKey, messages, 11);
  const envelope = fromBinary(EnvelopeSchema, sealed.envelope);
  const bodies = envelope.messages.map((m) => m.body);
  assert.deepEqual(bodies.map((b) => b.case),
                   ["createOrder", "editOrder", "submitOrder", "completeOrder", "failOrder"]);
  const made = bodies[0].case === "createOrder" ? bodies[0].value : null;
  assert.deepEqual(made?.items.map((item) => [item.itemId, item.amount]),
                   [["item-1", 0n], ["café", 25n]]);
  const edit = bodies[1].case === "editOrder" ? bodies[1].value : null;
  assert.equal(edit?.orderId, orderId);
  assert.equal(edit?.items[0].amount, 25n);
  assert.equal(bodies[4].case === "failOrder" ? bodies[4].value.error : "", "card declined");
  // the user's OrderList and a partition's OrderQueue
  const list = parseObjectId(ordersId(user.publicKey, 4))!;
  assert.deepEqual([list.kind, list.partition], [ObjectKind.ORDER_LIST, partitionOf(user.publicKey, 4)]);
  const queue = parseObjectId(orderQueueId(worker.publicKey, 3))!;
  assert.deepEqual([queue.kind, queue.partition], [ObjectKind.ORDER_QUEUE, 3]);
  refused(() => orderQueueId(worker.publicKey, 65536), "BAD_REQUEST", /a partition is/);
});

test("orders: Order, OrderList, OrderQueue objects and a balance's held, held to their limits",
     () => {
  const worker = accounts.get(vectors.accounts[1].account)!;
  const user = accounts.get(vectors.accounts[0].account)!;
  const orderId = objectId(ObjectKind.ORDER, partitionOf(user.publicKey), new Uint8Array(16).fill(7));
  const sign = (objectId: string, value: unknown) => {
    const state = toBinary(ObjectStateSchema, create(ObjectStateSchema, {
      objectId, version: 3n, updatedMs: 5n, value: value as never }));
    return { state, signature: signDomain("object", worker.seed, state) };
  };
  const wireOrder = (n: number, purchases: number) => ({
    id: orderId, userId: user.id, status: OrderStatus.ORDER_COMPLETED,
    items: Array.from({ length: n }, (_, i) => ({ itemId: `item-${i + 1}`, amount: BigInt(10 * (i + 1)) })),
    total: 30n, version: 3n, createdAt: 1n, updatedAt: 3n, submittedAt: 2n, finishedAt: 3n,
    purchaseIds: Array.from({ length: purchases }, (_, i) => `co_zP${i}`),
  });
  const order = verifyObject(sign(orderId, { kind: { case: "order", value: wireOrder(2, 2) } }),
                             worker.publicKey, orderId);
  assert.equal(order.kind, "ORDER");
  assert.deepEqual(order.order, {
    id: orderId, userId: user.id, status: "completed",
    items: [{ itemId: "item-1", amount: 10 }, { itemId: "item-2", amount: 20 }], total: 30,
    error: "", version: 3, createdAt: 1, updatedAt: 3, submittedAt: 2, finishedAt: 3,
    purchaseIds: ["co_zP0", "co_zP1"] } satisfies Order);
  assert.throws(() => verifyObject(sign(orderId, { kind: { case: "order", value: wireOrder(17, 0) } }),
                                   worker.publicKey), { code: "INTERNAL" });
  assert.throws(() => verifyObject(sign(orderId, { kind: { case: "order", value: wireOrder(1, 17) } }),
                                   worker.publicKey), { code: "INTERNAL" });
  // an Order's value under another kind's ID
  const listId = ordersId(user.publicKey);
  assert.throws(() => verifyObject(sign(listId, { kind: { case: "order", value: wireOrder(1, 0) } }),
                                   worker.publicKey), { code: "INTERNAL" });
  const summary = { id: orderId, userId: user.id, status: OrderStatus.ORDER_PROCESSING, total: 30n,
                    version: 2n, updatedAt: 2n, submittedAt: 2n };
  const list = verifyObject(sign(listId, { kind: { case: "orders", value: {
    id: listId, userId: user.id, count: 40n, orders: [summary] } } }), worker.publicKey, listId);
  assert.deepEqual(list.orders, { id: listId, userId: user.id, count: 40, orders: [{
    id: orderId, userId: user.id, status: "processing", total: 30, version: 2, updatedAt: 2,
    submittedAt: 2 }] });
  assert.throws(() => verifyObject(sign(listId, { kind: { case: "orders", value: {
    id: listId, count: 40n, orders: new Array(33).fill(summary) } } }), worker.publicKey),
                /33 orders in a list \(limit 32\)/);
  assert.throws(() => verifyObject(sign(listId, { kind: { case: "orders", value: {
    id: listId, count: 1n, orders: [summary, summary] } } }), worker.publicKey),
                /2 orders listed of 1 in all/);
  const queueId = orderQueueId(worker.publicKey, 5);
  const queue = verifyObject(sign(queueId, { kind: { case: "orderQueue", value: {
    id: queueId, partition: 5, orders: new Array(256).fill(summary) } } }), worker.publicKey);
  assert.equal(queue.orderQueue!.orders.length, 256);
  assert.equal(queue.orderQueue!.partition, 5);
  assert.throws(() => verifyObject(sign(queueId, { kind: { case: "orderQueue", value: {
    id: queueId, partition: 5, orders: new Array(257).fill(summary) } } }), worker.publicKey),
                /257 orders in a queue \(limit 256\)/);
  const balanceOf = balanceId(user.publicKey);
  const balance = verifyObject(sign(balanceOf, { kind: { case: "balance", value: {
    id: balanceOf, userId: user.id, balance: 100n, held: 60n } } }), worker.publicKey);
  assert.equal(balance.balance!.held, 60);
});

test("bad account JSON is refused, saying why", () => {
  const good = vectors.accounts[0];
  const cases: [unknown, RegExp][] = [
    ["not json", /not JSON/],
    [JSON.stringify({ account: good.account }), /expected \{"account"/],
    [JSON.stringify({ account: good.account, secret: "nonsense" }), /sealerSecret_z/],
    [JSON.stringify({ account: good.account, secret: vectors.accounts[1].secret }),
     /does not belong/],
    [JSON.stringify({ account: "co_zxyz", secret: good.secret }), /account ID is not/],
    ["x".repeat(5000), /larger than/],
  ];
  for (const [json, reason] of cases)
    assert.throws(() => loadAccount(json as string),
                  (error: unknown) => error instanceof TallyError && error.code === "BAD_REQUEST"
                                      && reason.test(error.message),
                  String(json).slice(0, 40));
});
