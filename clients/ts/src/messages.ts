// messages - inbox messages, their IDs, the signed envelope and the client
// requests around it, byte for byte as the C SDK makes them
// (client/sdk/src/tly_codec.c; tests/vectors/sdk.json proves it).
import { create, toBinary } from "@bufbuild/protobuf";
import { parseAccountId, type Account } from "./account.js";
import { randomBytes, utf8 } from "./bytes.js";
import { TallyError } from "./errors.js";
import {
  ClientRequestSchema, EnvelopeSchema, InboxMessageSchema, SignedEnvelopeSchema,
  SignedSubscribeSchema, SubscribeSchema,
} from "./gen/tally_pb.js";
import { ObjectKind, objectIdOfKey, parseObjectId } from "./ids.js";
import { signDomain } from "./sign.js";

export const MESSAGE_ID_BYTES = 16;
export const MESSAGE_ID_TIME_BYTES = 6;
export const MESSAGE_ID_TIME_MAX = 2 ** 48 - 1;
export const BATCH_MAX = 256;
export const ITEM_ID_MAX = 128;
export const ITEM_ID_CAP = 2 * ITEM_ID_MAX; // bytes of UTF-8 a setPrice's item may carry here (the
                                            // cluster's own check, INVALID_ITEM, is at 128)
export const REFERENCE_MAX = 128;          // bytes of UTF-8: a credit's or debit's reference
export const NOTE_MAX = 256;               // bytes of UTF-8: its note, or a refund's reason
export const BALANCE_MAX = 2 ** 53 - 1;    // the largest balance, credit or debit

// A message ID: the sender's clock when the message was made (Unix ms, 6
// bytes big-endian, clamped to 0..2^48-1) and 10 random bytes (or the
// given ones: for test vectors).
export function messageId(nowMs: number = Date.now(), random?: Uint8Array): Uint8Array {
  const tail = random ?? randomBytes(MESSAGE_ID_BYTES - MESSAGE_ID_TIME_BYTES);
  if (tail.length !== MESSAGE_ID_BYTES - MESSAGE_ID_TIME_BYTES)
    throw new TallyError("BAD_REQUEST", "a message ID's random part is 10 bytes");
  let time = Math.min(Math.max(Math.floor(nowMs), 0), MESSAGE_ID_TIME_MAX);
  const id = new Uint8Array(MESSAGE_ID_BYTES);
  for (let i = MESSAGE_ID_TIME_BYTES - 1; i >= 0; i--) {
    id[i] = time % 256;
    time = Math.floor(time / 256);
  }
  id.set(tail, MESSAGE_ID_TIME_BYTES);
  return id;
}

// The time a message ID was made at, Unix ms.
export function messageIdTime(id: Uint8Array): number {
  let time = 0;
  for (let i = 0; i < MESSAGE_ID_TIME_BYTES; i++) time = time * 256 + id[i];
  return time;
}

// The seed's two messages, a user's own. `id` is made when the message is
// sent unless given (a message built by createAccountMessage / buyMessage
// carries one). A buy's amount 0, or none, means "the catalog price": the
// cluster charges the item's price in the catalog (docs/protocol.md,
// "Admins and the catalog"); an amount > 0 must be that price
// (PRICE_MISMATCH), or names the price of an item not in the catalog where
// the cluster has open prices.
export type CreateAccountRequest = { type: "createAccount"; initialBalance: number | bigint;
                                     id?: Uint8Array };
export type BuyRequest = { type: "buy"; itemId: string; amount?: number | bigint; id?: Uint8Array };
export type UserRequest = CreateAccountRequest | BuyRequest;
// The worker's credit (top-up) or debit of a user's balance (docs/protocol.md,
// "Credits and debits"): only the worker account may send them. user: the
// account adjusted (co_z...); amount 1..2^53-1 minor units; reference (1..128
// bytes of UTF-8) names the payment or event: one adjustment per user and
// reference, the same reference again is answered with the first one's
// record; note (0..256 bytes, default none) is shown to the user.
export type CreditRequest = { type: "credit"; user: string; amount: number | bigint;
                              reference: string; note?: string; id?: Uint8Array };
export type DebitRequest = { type: "debit"; user: string; amount: number | bigint;
                             reference: string; note?: string; id?: Uint8Array };
export type AdjustmentRequest = CreditRequest | DebitRequest;
// Configuration messages (docs/protocol.md, "Admins and the catalog"),
// decided in partition 0: send them in an envelope of their own. The
// worker adds an account (co_z...) to the admin group or removes it; the
// worker or an admin sets an item's price (1..2^53-1 minor units) and
// whether it is for sale (active false: kept in the catalog, its buys
// refused UNKNOWN_ITEM). An admin may also credit and debit.
export type AddAdminRequest = { type: "addAdmin"; account: string; id?: Uint8Array };
export type RemoveAdminRequest = { type: "removeAdmin"; account: string; id?: Uint8Array };
export type SetPriceRequest = { type: "setPrice"; itemId: string; price: number | bigint;
                                active?: boolean; id?: Uint8Array };
export type ConfigRequest = AddAdminRequest | RemoveAdminRequest | SetPriceRequest;
// A refund (docs/protocol.md, "Refunds"): the worker or an admin gives a
// purchase's amount back to its user, once. purchaseId: the purchase's
// object ID (co_z..., a buy's result's id), whose partition the cluster
// sends it to; reason (0..256 bytes of UTF-8, default none) is shown to the
// user. Its result is the refund's AdjustmentRecord, a credit of the
// purchase's amount with reference "refund:" + purchaseId and the reason as
// its note; the purchase's record gets version 2, naming it (refundId,
// refundedAt). A second refund of the purchase is refused ALREADY_REFUNDED.
export type RefundRequest = { type: "refund"; purchaseId: string; reason?: string;
                              id?: Uint8Array };
// Orders (docs/protocol.md, "Orders"): a user creates an order in draft
// with 1..16 items (amount 0, or none: the catalog price), edits it (its
// items replaced) and submits it (its total held on the balance); the
// worker or an admin completes it (the hold captured, a purchase per item)
// or fails it (the hold released, error shown to the user, 0..256 bytes).
// Each answers the Order as it now is. createOrder goes to the sender's
// partition, the others to the order's.
export type OrderItemRequest = { itemId: string; amount?: number | bigint };
export type CreateOrderRequest = { type: "createOrder"; items: OrderItemRequest[];
                                   id?: Uint8Array };
export type EditOrderRequest = { type: "editOrder"; orderId: string; items: OrderItemRequest[];
                                 id?: Uint8Array };
export type SubmitOrderRequest = { type: "submitOrder"; orderId: string; id?: Uint8Array };
export type CompleteOrderRequest = { type: "completeOrder"; orderId: string; id?: Uint8Array };
export type FailOrderRequest = { type: "failOrder"; orderId: string; error?: string;
                                 id?: Uint8Array };
export type OrderRequest = CreateOrderRequest | EditOrderRequest | SubmitOrderRequest
                           | CompleteOrderRequest | FailOrderRequest;
export type InboxRequest = UserRequest | AdjustmentRequest | ConfigRequest | RefundRequest
                           | OrderRequest;
// A message with its ID.
export type InboxMessage = InboxRequest & { id: Uint8Array };
export type CreateAccountMessage = CreateAccountRequest & { id: Uint8Array };
export type BuyMessage = BuyRequest & { id: Uint8Array };
export type CreditMessage = CreditRequest & { id: Uint8Array };
export type DebitMessage = DebitRequest & { id: Uint8Array };
export type ConfigMessage = ConfigRequest & { id: Uint8Array };
export type RefundMessage = RefundRequest & { id: Uint8Array };
export type OrderMessage<T extends OrderRequest = OrderRequest> = T & { id: Uint8Array };

// Each message made ahead has its request's type, so sendMessage of it
// resolves to that message's result (a UserBalance, a PurchaseRecord, ...).
export function createAccountMessage(initialBalance: number | bigint,
                                     id: Uint8Array = messageId()): CreateAccountMessage {
  return { type: "createAccount", initialBalance, id };
}

// A buy of itemId; amount 0 (the default): at the catalog price.
export function buyMessage(itemId: string, amount: number | bigint = 0,
                           id: Uint8Array = messageId()): BuyMessage {
  return { type: "buy", itemId, amount, id };
}

// A text field of a credit, a debit, a setPrice or a refund: its UTF-8 bytes,
// refused (code) when longer than max bytes, or when it holds what UTF-8
// bytes of the C SDK's cannot carry: a NUL (the C string ends there) or a
// lone surrogate (it would go as U+FFFD, another text than the one given).
function adjustmentText(text: unknown, what: string, max: number,
                        code: "INVALID_REFERENCE" | "INVALID_NOTE" | "INVALID_ITEM"): Uint8Array {
  if (typeof text !== "string") throw new TallyError(code, `${what} is a string`);
  if (text.includes("\0")) throw new TallyError(code, `${what} holds a NUL character`);
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text))
    throw new TallyError(code, `${what} is not valid Unicode (a lone surrogate)`);
  const bytes = utf8(text);
  if (bytes.length > max)
    throw new TallyError(code, `${what} of ${bytes.length} bytes exceeds ${max} bytes`);
  return bytes;
}

// The checks the C SDK makes of a credit or debit (tly_msg_credit): the
// user is an account ID (BAD_REQUEST), the reference at most 128 bytes
// (INVALID_REFERENCE), the note at most 256 (INVALID_NOTE). The amount, an
// empty reference and the balance are left to the cluster (INVALID_AMOUNT,
// INVALID_REFERENCE, BALANCE_LIMIT, INSUFFICIENT_BALANCE). Returns the
// user's key.
function checkAdjustment(message: AdjustmentRequest): Uint8Array {
  const user = typeof message.user === "string" ? parseAccountId(message.user) : null;
  if (!user)
    throw new TallyError("BAD_REQUEST",
                         `user '${String(message.user).slice(0, 80)}' is not an account ID (co_z...)`);
  adjustmentText(message.reference, "reference", REFERENCE_MAX, "INVALID_REFERENCE");
  adjustmentText(message.note ?? "", "note", NOTE_MAX, "INVALID_NOTE");
  return user;
}

// The message, checked (creditMessage, debitMessage).
function checked<T extends AdjustmentRequest>(message: T): T {
  checkAdjustment(message);
  int64(message.amount, "amount");
  return message;
}

// A credit of user's balance (co_z...) by amount, named by reference, with a
// note for the user (none by default), as the worker sends it; checked as
// the C SDK checks it (checkAdjustment), throwing TallyError.
export function creditMessage(user: string, amount: number | bigint, reference: string,
                              note: string = "", id: Uint8Array = messageId()): CreditMessage {
  return checked({ type: "credit", user, amount, reference, note, id });
}

// A debit: the same, taking amount from the balance (never below 0).
export function debitMessage(user: string, amount: number | bigint, reference: string,
                             note: string = "", id: Uint8Array = messageId()): DebitMessage {
  return checked({ type: "debit", user, amount, reference, note, id });
}

// The admin of an addAdmin or removeAdmin: an account ID (BAD_REQUEST), as
// the C SDK checks it (tly_msg_add_admin). The worker itself (INVALID_ADMIN),
// the group's limit (CONFIG_LIMIT) and the sender (PERMISSION_DENIED) are
// the cluster's to refuse. Returns the account's key.
function checkAdmin(message: AddAdminRequest | RemoveAdminRequest): Uint8Array {
  const key = typeof message.account === "string" ? parseAccountId(message.account) : null;
  if (!key)
    throw new TallyError("BAD_REQUEST", `account '${String(message.account).slice(0, 80)}' is `
                                        + "not an account ID (co_z...)");
  return key;
}

// A setPrice's item as the C SDK checks it (tly_msg_set_price): a string of
// at most ITEM_ID_CAP bytes of UTF-8 that C can carry (INVALID_ITEM). Its
// own rules and the price (INVALID_ITEM at 128 bytes, INVALID_PRICE) are
// the cluster's.
function checkPrice(message: SetPriceRequest): void {
  if (typeof message.itemId !== "string")
    throw new TallyError("INVALID_ITEM", "item ID is a string");
  adjustmentText(message.itemId, "item ID", ITEM_ID_CAP, "INVALID_ITEM");
  if (message.active !== undefined && typeof message.active !== "boolean")
    throw new TallyError("BAD_REQUEST", "active is true or false");
}

// An account (co_z...) added to the admin group, as the worker sends it;
// checked as the C SDK checks it (checkAdmin), throwing TallyError.
export function addAdminMessage(account: string, id: Uint8Array = messageId()): ConfigMessage {
  const message: AddAdminRequest = { type: "addAdmin", account, id };
  checkAdmin(message);
  return message as ConfigMessage;
}

// An account removed from the admin group, as the worker sends it.
export function removeAdminMessage(account: string, id: Uint8Array = messageId()): ConfigMessage {
  const message: RemoveAdminRequest = { type: "removeAdmin", account, id };
  checkAdmin(message);
  return message as ConfigMessage;
}

// An item's catalog price (minor units) and whether it is for sale (true
// by default), as the worker or an admin sends it; checked as the C SDK
// checks it (checkPrice), throwing TallyError.
export function setPriceMessage(itemId: string, price: number | bigint, active: boolean = true,
                                id: Uint8Array = messageId()): ConfigMessage {
  const message: SetPriceRequest = { type: "setPrice", itemId, price, active, id };
  checkPrice(message);
  int64(price, "price");
  return message as ConfigMessage;
}

// A refund as the C SDK checks it (tly_msg_refund): purchaseId a
// purchase's object ID (BAD_REQUEST), the reason at most 256 bytes of UTF-8
// that C can carry (INVALID_NOTE). The sender, the purchase and the balance
// are the cluster's (PERMISSION_DENIED, NOT_FOUND, ALREADY_REFUNDED,
// BALANCE_LIMIT). Returns the purchase's ID in its canonical text.
function checkRefund(message: RefundRequest): string {
  const parsed = typeof message.purchaseId === "string" ? parseObjectId(message.purchaseId) : null;
  if (!parsed || parsed.kind !== ObjectKind.PURCHASE)
    throw new TallyError("BAD_REQUEST", `purchase '${String(message.purchaseId).slice(0, 80)}' is `
                                        + "not a purchase's ID (co_z...)");
  adjustmentText(message.reason ?? "", "reason", NOTE_MAX, "INVALID_NOTE");
  return objectIdOfKey(parsed.key);
}

// A refund of purchaseId (co_z...) with a reason for the user (none by
// default), as the worker or an admin sends it; checked as the C SDK checks
// it (checkRefund), throwing TallyError.
export function refundMessage(purchaseId: string, reason: string = "",
                              id: Uint8Array = messageId()): RefundMessage {
  const message: RefundRequest = { type: "refund", purchaseId, reason, id };
  checkRefund(message);
  return message as RefundMessage;
}

export const ORDER_ITEMS_MAX = 16;  // items of one order
export const ORDER_ERROR_MAX = 256; // bytes of UTF-8: a failed order's error

// An order's items as the C SDK checks them (tly_msg_create_order): 1..16
// of them (BAD_REQUEST), each item ID 1..128 bytes of UTF-8 that C can
// carry (INVALID_ITEM), each amount 0 or 1..2^53-1 (INVALID_AMOUNT), a
// refusal naming its item from 1. Returns them as the wire has them.
function checkItems(items: unknown): { itemId: string; amount: bigint }[] {
  const count = Array.isArray(items) ? items.length : 0;
  if (!Array.isArray(items) || count < 1 || count > ORDER_ITEMS_MAX)
    throw new TallyError("BAD_REQUEST", `an order holds 1 to ${ORDER_ITEMS_MAX} items `
                                        + `(${count} given)`);
  return items.map((item: OrderItemRequest, i) => {
    const what = `item ${i + 1}: itemId`;
    const bytes = adjustmentText(item?.itemId, what, ITEM_ID_MAX, "INVALID_ITEM");
    if (bytes.length === 0) throw new TallyError("INVALID_ITEM", `${what} must not be empty`);
    const amount = item.amount ?? 0;
    // A whole number past 2^53 - 1 is refused below as too large, as C refuses it.
    if (typeof amount !== "bigint" && !Number.isInteger(amount))
      throw new TallyError("INVALID_AMOUNT",
                           `item ${i + 1}: amount must be a whole number of minor units`);
    const value = BigInt(amount);
    if (value < 0n)
      throw new TallyError("INVALID_AMOUNT", `item ${i + 1}: amount must be 0 (the catalog price) `
                                             + "or a positive whole number of minor units");
    if (value > BigInt(BALANCE_MAX))
      throw new TallyError("INVALID_AMOUNT",
                           `item ${i + 1}: amount exceeds the largest balance (2^53 - 1)`);
    return { itemId: item.itemId, amount: value };
  });
}

// An order message as the C SDK checks it: the order's ID first (an
// Order's object ID, BAD_REQUEST), then the items, then a failure's error
// (INVALID_NOTE). Returns the order's ID in its canonical text ("" for
// createOrder) and the items as sent (none for the other messages).
function checkOrder(message: OrderRequest):
    { orderId: string; items: { itemId: string; amount: bigint }[] } {
  let orderId = "";
  if (message.type !== "createOrder") {
    const parsed = typeof message.orderId === "string" ? parseObjectId(message.orderId) : null;
    if (!parsed || parsed.kind !== ObjectKind.ORDER)
      throw new TallyError("BAD_REQUEST", `order '${String(message.orderId).slice(0, 80)}' is `
                                          + "not an order's ID (co_z...)");
    orderId = objectIdOfKey(parsed.key);
  }
  const items = message.type === "createOrder" || message.type === "editOrder"
    ? checkItems(message.items) : [];
  if (message.type === "failOrder")
    adjustmentText(message.error ?? "", "error", ORDER_ERROR_MAX, "INVALID_NOTE");
  return { orderId, items };
}

// A new order of items, as its user sends it; checked as the C SDK checks
// it (checkOrder), throwing TallyError. Its result is the Order, in draft.
export function createOrderMessage(items: OrderItemRequest[], id: Uint8Array = messageId())
    : OrderMessage<CreateOrderRequest> {
  const message: CreateOrderRequest = { type: "createOrder", items, id };
  checkOrder(message);
  return message as OrderMessage<CreateOrderRequest>;
}

// A draft's items replaced, as its user sends it.
export function editOrderMessage(orderId: string, items: OrderItemRequest[],
                                 id: Uint8Array = messageId()): OrderMessage<EditOrderRequest> {
  const message: EditOrderRequest = { type: "editOrder", orderId, items, id };
  checkOrder(message);
  return message as OrderMessage<EditOrderRequest>;
}

// A draft submitted: its total held on the balance (INSUFFICIENT_BALANCE
// when not available), the order processor's to complete or fail.
export function submitOrderMessage(orderId: string, id: Uint8Array = messageId())
    : OrderMessage<SubmitOrderRequest> {
  const message: SubmitOrderRequest = { type: "submitOrder", orderId, id };
  checkOrder(message);
  return message as OrderMessage<SubmitOrderRequest>;
}

// The worker's (or an admin's): an order processing completed.
export function completeOrderMessage(orderId: string, id: Uint8Array = messageId())
    : OrderMessage<CompleteOrderRequest> {
  const message: CompleteOrderRequest = { type: "completeOrder", orderId, id };
  checkOrder(message);
  return message as OrderMessage<CompleteOrderRequest>;
}

// The worker's (or an admin's): an order processing failed, error saying why.
export function failOrderMessage(orderId: string, error: string = "",
                                 id: Uint8Array = messageId()): OrderMessage<FailOrderRequest> {
  const message: FailOrderRequest = { type: "failOrder", orderId, error, id };
  checkOrder(message);
  return message as OrderMessage<FailOrderRequest>;
}

const ORDER_TYPES = new Set(["createOrder", "editOrder", "submitOrder", "completeOrder",
                             "failOrder"]);
const TYPES = new Set(["createAccount", "buy", "credit", "debit", "addAdmin", "removeAdmin",
                       "setPrice", "refund", ...ORDER_TYPES]);

// The message with an ID: its own, or a fresh one made now; a credit,
// debit, configuration message or refund checked as its constructor checks it.
export function withId(message: InboxRequest): InboxMessage {
  if (!message || !TYPES.has(message.type))
    throw new TallyError("BAD_REQUEST",
                         'a message is {type: "createAccount" | "buy" | "credit" | "debit" | '
                         + '"addAdmin" | "removeAdmin" | "setPrice" | "refund" | "createOrder" | '
                         + '"editOrder" | "submitOrder" | "completeOrder" | "failOrder", ...}');
  if (message.id !== undefined && message.id.length !== MESSAGE_ID_BYTES)
    throw new TallyError("BAD_REQUEST", "a message ID is 16 bytes");
  if (message.type === "credit" || message.type === "debit") checkAdjustment(message);
  if (message.type === "addAdmin" || message.type === "removeAdmin") checkAdmin(message);
  if (message.type === "setPrice") checkPrice(message);
  if (message.type === "refund") checkRefund(message);
  if (ORDER_TYPES.has(message.type)) checkOrder(message as OrderRequest);
  return message.id ? (message as InboxMessage) : { ...message, id: messageId() };
}

function int64(value: number | bigint, what: string): bigint {
  if (typeof value === "bigint") return value;
  if (!Number.isSafeInteger(value))
    throw new TallyError("BAD_REQUEST", `${what} is an integer (minor units), not ${value}`);
  return BigInt(value);
}

function body(message: InboxMessage) {
  switch (message.type) {
    case "createAccount":
      return { case: "createAccount" as const,
               value: { initialBalance: int64(message.initialBalance, "initialBalance") } };
    case "buy":
      return { case: "buy" as const,
               value: { itemId: message.itemId, amount: int64(message.amount ?? 0, "amount") } };
    case "credit":
    case "debit":
      return { case: message.type,
               value: { user: checkAdjustment(message), amount: int64(message.amount, "amount"),
                        reference: message.reference, note: message.note ?? "" } };
    case "addAdmin":
    case "removeAdmin":
      return { case: message.type, value: { account: checkAdmin(message) } };
    case "setPrice":
      checkPrice(message);
      return { case: "setPrice" as const,
               value: { itemId: message.itemId, price: int64(message.price, "price"),
                        active: message.active ?? true } };
    case "refund":
      return { case: "refund" as const,
               value: { purchaseId: checkRefund(message), reason: message.reason ?? "" } };
    case "createOrder":
      return { case: "createOrder" as const, value: { items: checkOrder(message).items } };
    case "editOrder":
      return { case: "editOrder" as const, value: checkOrder(message) };
    case "submitOrder":
    case "completeOrder":
      return { case: message.type, value: { orderId: checkOrder(message).orderId } };
    case "failOrder":
      return { case: "failOrder" as const,
               value: { orderId: checkOrder(message).orderId, error: message.error ?? "" } };
    default:
      throw new TallyError("BAD_REQUEST",
                           `not a message type: ${String((message as { type: unknown }).type)}`);
  }
}

export interface Sealed {
  envelope: Uint8Array;        // the serialized Envelope: exactly what was signed
  signature: Uint8Array;       // Ed25519 over "tally/envelope/v1\0" || envelope
  signedEnvelope: Uint8Array;  // the serialized SignedEnvelope
}

// Serializes Envelope {sender, inbox, timestamp_ms, messages} and signs it.
// No limit is enforced here on the count: the gateway is the authority.
export function sealEnvelope(account: Account, inbox: Uint8Array, messages: InboxMessage[],
                             timestampMs: number): Sealed {
  const envelope = toBinary(EnvelopeSchema, create(EnvelopeSchema, {
    sender: account.publicKey,
    inbox,
    timestampMs: int64(timestampMs, "a timestamp"),
    messages: messages.map((message) => create(InboxMessageSchema, {
      messageId: message.id,
      body: body(message),
    })),
  }));
  const signature = signDomain("envelope", account.seed, envelope);
  const signedEnvelope = toBinary(SignedEnvelopeSchema,
                                  create(SignedEnvelopeSchema, { envelope, signature }));
  return { envelope, signature, signedEnvelope };
}

// ClientRequest {request_id, send = SignedEnvelope}.
export function sendRequest(requestId: bigint, sealed: Sealed): Uint8Array {
  return toBinary(ClientRequestSchema, create(ClientRequestSchema, {
    requestId,
    body: { case: "send",
            value: create(SignedEnvelopeSchema, { envelope: sealed.envelope,
                                                  signature: sealed.signature }) },
  }));
}

// ClientRequest {request_id, subscribe = SignedSubscribe} for Subscribe
// {reader = account, object_id, timestamp_ms}, signed in the subscribe domain.
export function subscribeRequest(account: Account, requestId: bigint, objectId: string,
                                 timestampMs: number): { subscribe: Uint8Array;
                                                         signature: Uint8Array;
                                                         request: Uint8Array } {
  const subscribe = toBinary(SubscribeSchema, create(SubscribeSchema, {
    reader: account.publicKey, objectId, timestampMs: int64(timestampMs, "a timestamp"),
  }));
  const signature = signDomain("subscribe", account.seed, subscribe);
  const request = toBinary(ClientRequestSchema, create(ClientRequestSchema, {
    requestId,
    body: { case: "subscribe", value: create(SignedSubscribeSchema, { subscribe, signature }) },
  }));
  return { subscribe, signature, request };
}

export function unsubscribeRequest(requestId: bigint, objectId: string): Uint8Array {
  return toBinary(ClientRequestSchema, create(ClientRequestSchema, {
    requestId, body: { case: "unsubscribe", value: { objectId } },
  }));
}

export function pingRequest(requestId: bigint): Uint8Array {
  return toBinary(ClientRequestSchema, create(ClientRequestSchema, {
    requestId, body: { case: "ping", value: {} },
  }));
}

export function statusRequest(requestId: bigint): Uint8Array {
  return toBinary(ClientRequestSchema, create(ClientRequestSchema, {
    requestId, body: { case: "status", value: {} },
  }));
}
