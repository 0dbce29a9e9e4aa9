// messages - inbox messages, their IDs, the signed envelope and the client
// requests around it, byte for byte as the C SDK makes them
// (client/sdk/src/tly_codec.c; tests/vectors/sdk.json proves it).
import { create, toBinary } from "@bufbuild/protobuf";
import type { Account } from "./account.js";
import { randomBytes } from "./bytes.js";
import { TallyError } from "./errors.js";
import {
  ClientRequestSchema, EnvelopeSchema, InboxMessageSchema, SignedEnvelopeSchema,
  SignedSubscribeSchema, SubscribeSchema,
} from "./gen/tally_pb.js";
import { signDomain } from "./sign.js";

export const MESSAGE_ID_BYTES = 16;
export const MESSAGE_ID_TIME_BYTES = 6;
export const MESSAGE_ID_TIME_MAX = 2 ** 48 - 1;
export const BATCH_MAX = 256;
export const ITEM_ID_MAX = 128;

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

// The seed's two messages. `id` is made when the message is sent unless
// given (a message built by createAccountMessage / buyMessage carries one).
export type CreateAccountRequest = { type: "createAccount"; initialBalance: number | bigint;
                                     id?: Uint8Array };
export type BuyRequest = { type: "buy"; itemId: string; amount: number | bigint; id?: Uint8Array };
export type InboxRequest = CreateAccountRequest | BuyRequest;
// A message with its ID.
export type InboxMessage = InboxRequest & { id: Uint8Array };

export function createAccountMessage(initialBalance: number | bigint,
                                     id: Uint8Array = messageId()): InboxMessage {
  return { type: "createAccount", initialBalance, id };
}

export function buyMessage(itemId: string, amount: number | bigint,
                           id: Uint8Array = messageId()): InboxMessage {
  return { type: "buy", itemId, amount, id };
}

// The message with an ID: its own, or a fresh one made now.
export function withId(message: InboxRequest): InboxMessage {
  if (!message || (message.type !== "createAccount" && message.type !== "buy"))
    throw new TallyError("BAD_REQUEST", 'a message is {type: "createAccount" | "buy", ...}');
  if (message.id !== undefined && message.id.length !== MESSAGE_ID_BYTES)
    throw new TallyError("BAD_REQUEST", "a message ID is 16 bytes");
  return message.id ? (message as InboxMessage) : { ...message, id: messageId() };
}

function int64(value: number | bigint, what: string): bigint {
  if (typeof value === "bigint") return value;
  if (!Number.isSafeInteger(value))
    throw new TallyError("BAD_REQUEST", `${what} is an integer (minor units), not ${value}`);
  return BigInt(value);
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
      body: message.type === "createAccount"
        ? { case: "createAccount",
            value: { initialBalance: int64(message.initialBalance, "initialBalance") } }
        : { case: "buy", value: { itemId: message.itemId, amount: int64(message.amount, "amount") } },
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
