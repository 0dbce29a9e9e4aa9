// The shared test vectors (tests/vectors/sdk.json, made by the C SDK):
// from the same inputs the TypeScript client must make byte-identical
// account IDs, secrets, object IDs, message IDs, envelopes, signatures and
// requests, and take the worker's object the C side signed (and refuse it
// with any byte changed). No network.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  accountFromKeys, accountSecret, balanceId, fromHex, loadAccount, messageId, messageIdTime,
  parseObjectId, partitionOf, purchaseId, purchasesId, rootId, sealEnvelope, sendRequest,
  serviceId, subscribeRequest, toHex, verifyObject, TallyError, type Account, type InboxMessage,
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

test("message IDs", () => {
  for (const row of vectors.message_ids) {
    const id = messageId(row.time_ms, fromHex(row.random_hex));
    assert.equal(toHex(id), row.id_hex);
    assert.equal(messageIdTime(id), row.id_time_ms);
  }
});

function message(row: any): InboxMessage {
  return row.type === "createAccount"
    ? { type: "createAccount", initialBalance: BigInt(row.initial_balance), id: fromHex(row.id_hex) }
    : { type: "buy", itemId: row.item_id, amount: BigInt(row.amount), id: fromHex(row.id_hex) };
}

test("envelopes, signatures and send requests", () => {
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

test("the worker's object: taken as signed, refused with any byte changed", () => {
  for (const row of vectors.objects) {
    const worker = accounts.get(row.worker)!.publicKey;
    const signed = { state: fromHex(row.state_hex), signature: fromHex(row.signature_hex) };
    const object = verifyObject(signed, worker, row.object_id);
    assert.equal(object.kind, row.kind);
    assert.equal(object.version, row.version);
    assert.equal(object.updatedMs, row.updated_ms);
    assert.deepEqual(object.balance, { id: row.balance.id, userId: row.balance.user_id,
                                       balance: row.balance.balance,
                                       lastUpdated: row.balance.last_updated });
    assert.deepEqual(object.group, row.group);
    // every byte of the state and of the signature matters
    for (const part of ["state", "signature"] as const)
      for (let i = 0; i < signed[part].length; i++) {
        const altered = { ...signed, [part]: signed[part].slice() };
        altered[part][i] ^= 0x01;
        assert.throws(() => verifyObject(altered, worker, row.object_id),
                      (error: unknown) => error instanceof TallyError
                                          && error.code === "BAD_SIGNATURE",
                      `${part} byte ${i}`);
      }
    // another worker's key, another object expected
    const other = accounts.get(vectors.accounts[0].account)!.publicKey;
    assert.throws(() => verifyObject(signed, other), { code: "BAD_SIGNATURE" });
    assert.throws(() => verifyObject(signed, worker, vectors.accounts[0].by_partition_count[0].root_id),
                  { code: "INTERNAL" });
  }
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
