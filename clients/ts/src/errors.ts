// errors - TallyError: what a request or a message was refused for, with
// the ErrorCode's name and the text the gateway sent (or the protocol's
// default text for the code, as the C SDK and the seed say it).
import { ErrorCode } from "./gen/tally_pb.js";

export type ErrorCodeName = keyof typeof ErrorCode;
// The client's own codes, never on the wire: UNKNOWN_ERROR for a code this
// client does not know, OUTCOME_UNKNOWN for an outbox message sent but not
// answered within the dedupe window (outbox.ts).
export type ClientCodeName = "UNKNOWN_ERROR" | "OUTCOME_UNKNOWN";

// The default text of each code (lib/src/tly_validate.c).
const DEFAULT_MESSAGES: Record<ErrorCodeName, string> = {
  OK: "ok",
  BAD_REQUEST: "Malformed request",
  BAD_SIGNATURE: "Signature does not verify",
  UNKNOWN_INBOX: "Unknown inbox",
  STALE_TIMESTAMP: "Timestamp outside the accepted window",
  FRAME_TOO_LARGE: "Frame too large",
  BATCH_TOO_LARGE: "Too many messages in one envelope",
  INVALID_AMOUNT: "Invalid amount",
  INVALID_ITEM: "Invalid itemId",
  INVALID_INITIAL_BALANCE: "Invalid initialBalance",
  INSUFFICIENT_BALANCE: "Insufficient balance",
  NO_ACCOUNT: "No account found",
  UNAVAILABLE: "Service unavailable, retry later",
  TIMEOUT: "No reply within the deadline",
  NOT_OWNER: "Partition not owned by this actor",
  STALE_EPOCH: "Partition epoch is stale",
  SEQUENCE_GAP: "Partition sequence is not contiguous",
  INTERNAL: "Internal error",
  DUPLICATE_MESSAGE_ID: "Message ID repeated in one envelope",
  PERMISSION_DENIED: "Permission denied",
  NOT_FOUND: "No such object",
  TOO_MANY_SUBSCRIPTIONS: "Too many subscriptions",
  SLOW_CONSUMER: "Client did not keep up; resynced",
  STALE_MESSAGE_ID: "Message ID outside the dedupe window; not applied",
  RATE_LIMITED: "Rate limited: too many buys, retry later",
  INVALID_REFERENCE: "Invalid reference",
  INVALID_NOTE: "Invalid note",
  BALANCE_LIMIT: "Balance limit exceeded",
  STALE_CONFIG: "Configuration changed; decide again",
  UNKNOWN_ITEM: "Unknown item",
  PRICE_MISMATCH: "Price mismatch",
  INVALID_PRICE: "Invalid price",
  INVALID_ADMIN: "Invalid admin",
  CONFIG_LIMIT: "Configuration limit reached",
  ALREADY_REFUNDED: "Purchase already refunded",
  INVALID_TRANSITION: "The order's status does not allow that",
  ORDER_LIMIT: "Order limit reached",
};

export function errorCodeName(code: number): ErrorCodeName | "UNKNOWN_ERROR" {
  const name = ErrorCode[code];
  return typeof name === "string" ? (name as ErrorCodeName) : "UNKNOWN_ERROR";
}

export function defaultMessage(code: ErrorCodeName | ClientCodeName): string {
  if (code === "UNKNOWN_ERROR") return "Unknown error";
  if (code === "OUTCOME_UNKNOWN")
    return "Sent but not answered within the dedupe window: it may or may not have been applied";
  return DEFAULT_MESSAGES[code];
}

export class TallyError extends Error {
  // The ErrorCode's name: "INSUFFICIENT_BALANCE", "NO_ACCOUNT", ...
  readonly code: ErrorCodeName | ClientCodeName;
  // true when the gateway or the cluster said it; false when the client
  // decided by itself (TIMEOUT: no reply in time; UNAVAILABLE: no
  // connection; BAD_SIGNATURE: an object the worker did not sign;
  // BAD_REQUEST: the call's arguments).
  readonly remote: boolean;
  // RATE_LIMITED: the wait, in ms, until the same message may go through.
  readonly retryAfterMs: number;

  constructor(code: ErrorCodeName | ClientCodeName, message?: string,
              options: { remote?: boolean; retryAfterMs?: number } = {}) {
    super(message && message.length > 0 ? message : defaultMessage(code));
    this.name = "TallyError";
    this.code = code;
    this.remote = options.remote ?? false;
    this.retryAfterMs = options.retryAfterMs ?? 0;
  }

  // From a wire Error (remote).
  static fromWire(wire: { code: number; message: string; retryAfterMs: bigint } | undefined)
      : TallyError {
    if (!wire) return new TallyError("INTERNAL", "refused without a reason", { remote: true });
    const retry = wire.retryAfterMs > 0n ? Number(wire.retryAfterMs) : 0;
    return new TallyError(errorCodeName(wire.code), wire.message,
                          { remote: true, retryAfterMs: retry });
  }
}
