//  it_bad_input - the bad-input table of docs/protocol.md ("Errors") against
//  a real cluster (audit writer, router, two balance actors, one gateway).
//
//  Each row is a class of request a client may send, made as raw bytes on a
//  ZeroMQ socket or as an envelope (or subscribe) signed as the SDK signs
//  it and then altered, with the code the protocol documents for it. Every
//  row must get that code, nothing refused may take effect (the sending
//  user's balance is read after every row), and between rows a valid client
//  buys and must be served with the right balance.
//
//  Then one client (from its own loopback address, 127.0.0.2) sends 100,000
//  junk frames: every one is answered, the gateway's memory and its log stay
//  bounded, its `client.rejections` lines count every rejection of that
//  peer, and a valid client is still served.
//
//  It prints the table (class, request, expected, got, the answer's message)
//  once its rows have run, then the flood's figures (ctest -V shows them).
//  Usage: it_bad_input BASE_PORT
//
//  This file holds the table and main. The rows are run by
//  it_bad_input_envelope.c, it_bad_input_raw.c and it_bad_input_subscribe.c,
//  from the requests of it_bad_input_frames.c and the bytes and sockets of
//  it_bad_input_bytes.c; the flood is it_bad_input_flood.c.
//  it_bad_input.h is what they share.
#include "it_bad_input.h"

#include <czmq.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_wire.h"

//  A subject with less than this is replaced before the next row.
#define S_SUBJECT_LOW 4

//  ---------------------------------------------------------------- the table

#define ROW(class, request, expected, debit, run, variant) \
    {                                                      \
        class, request, expected, debit, run, variant      \
    }
#define E(code) TALLY__ERROR_CODE__##code

static const bad_row_t s_rows [] = {
    ROW ("valid", "a buy as the SDK signs it", E (OK), 1, bad_run_envelope, ENV_VALID),
    ROW ("valid", "ping", E (OK), 0, bad_run_raw, RAW_PING),
    ROW ("valid", "status", E (OK), 0, bad_run_raw, RAW_STATUS),

    ROW ("malformed", "empty frame", E (BAD_REQUEST), 0, bad_run_raw, RAW_EMPTY),
    ROW ("malformed", "not protobuf (0xff x 9)", E (BAD_REQUEST), 0, bad_run_raw, RAW_NOT_PROTOBUF),
    ROW ("malformed", "send frame cut by its last byte", E (BAD_REQUEST), 0, bad_run_raw,
         RAW_CUT_ONE),
    ROW ("malformed", "send frame cut in half", E (BAD_REQUEST), 0, bad_run_raw, RAW_CUT_HALF),
    ROW ("malformed", "field number 0", E (BAD_REQUEST), 0, bad_run_raw, RAW_FIELD_0),
    ROW ("malformed", "wire type 7", E (BAD_REQUEST), 0, bad_run_raw, RAW_WIRE_7),
    ROW ("malformed", "group wire type (3, 4)", E (BAD_REQUEST), 0, bad_run_raw, RAW_GROUP),
    ROW ("malformed", "field number over 2^29 - 1", E (BAD_REQUEST), 0, bad_run_raw,
         RAW_FIELD_HUGE),
    ROW ("malformed", "varint of 11 bytes (request_id)", E (BAD_REQUEST), 0, bad_run_raw,
         RAW_VARINT_11),
    ROW ("malformed", "length past the frame's end", E (BAD_REQUEST), 0, bad_run_raw, RAW_OVERRUN),
    ROW ("malformed", "known field, wrong wire type", E (BAD_REQUEST), 0, bad_run_raw,
         RAW_WRONG_TYPE),
    ROW ("malformed", "two data frames", E (BAD_REQUEST), 0, bad_run_raw, RAW_TWO_FRAMES),
    ROW ("malformed", "well-formed unknown field (ignored)", E (OK), 0, bad_run_raw,
         RAW_UNKNOWN_FIELD),
    ROW ("malformed", "envelope bytes that are no Envelope", E (BAD_REQUEST), 0, bad_run_raw,
         RAW_ENVELOPE_JUNK),
    ROW ("malformed", "signed envelope: field number 0", E (BAD_REQUEST), 0, bad_run_envelope,
         ENV_TAIL_FIELD_0),
    ROW ("malformed", "signed envelope: wire type 7", E (BAD_REQUEST), 0, bad_run_envelope,
         ENV_TAIL_WIRE_7),
    ROW ("malformed", "signed envelope: group wire type", E (BAD_REQUEST), 0, bad_run_envelope,
         ENV_TAIL_GROUP),
    ROW ("malformed", "signed envelope: field number over 2^29 - 1", E (BAD_REQUEST), 0,
         bad_run_envelope, ENV_TAIL_FIELD_HUGE),
    ROW ("malformed", "signed envelope: varint of 11 bytes", E (BAD_REQUEST), 0, bad_run_envelope,
         ENV_TAIL_VARINT_11),
    ROW ("malformed", "signed envelope: length past its end", E (BAD_REQUEST), 0, bad_run_envelope,
         ENV_TAIL_OVERRUN),
    ROW ("malformed", "signed envelope: sender as fixed32", E (BAD_REQUEST), 0, bad_run_envelope,
         ENV_TAIL_WRONG_TYPE),
    ROW ("malformed", "signed envelope: cut by its last byte", E (BAD_REQUEST), 0, bad_run_envelope,
         ENV_CUT),
    ROW ("malformed", "signed envelope: well-formed unknown field", E (OK), 1, bad_run_envelope,
         ENV_TAIL_UNKNOWN),

    ROW ("unknown type", "request body field 7", E (BAD_REQUEST), 0, bad_run_raw, RAW_UNKNOWN_BODY),
    ROW ("unknown type", "request with no body", E (BAD_REQUEST), 0, bad_run_raw, RAW_NO_BODY),
    ROW ("unknown type", "message body field 9", E (BAD_REQUEST), 0, bad_run_envelope,
         ENV_UNKNOWN_BODY),
    ROW ("unknown type", "message with no body", E (BAD_REQUEST), 0, bad_run_envelope, ENV_NO_BODY),

    ROW ("limits", "frame of 131072 bytes (--max-frame)", E (OK), 1, bad_run_envelope,
         ENV_FRAME_MAX),
    ROW ("limits", "frame of 131073 bytes", E (FRAME_TOO_LARGE), 0, bad_run_envelope,
         ENV_FRAME_OVER),
    ROW ("limits", "frame of 4 MiB less CURVE's 33 bytes (MAXMSGSIZE)", E (FRAME_TOO_LARGE), 0,
         bad_run_raw, RAW_HARD_MAX),
    ROW ("limits", "frame of 4 MiB less 32 bytes", BAD_CLOSED, 0, bad_run_closed,
         CLOSED_OVER_HARD_MAX),
    ROW ("limits", "not ZeroMQ: 0xff x 64 on the gateway's port", BAD_CLOSED, 0, bad_run_closed,
         CLOSED_NOT_ZMTP),
    ROW ("limits", "sender of 0 bytes", E (BAD_REQUEST), 0, bad_run_envelope, ENV_SENDER_0),
    ROW ("limits", "sender of 31 bytes", E (BAD_REQUEST), 0, bad_run_envelope, ENV_SENDER_31),
    ROW ("limits", "sender of 33 bytes", E (BAD_REQUEST), 0, bad_run_envelope, ENV_SENDER_33),
    ROW ("limits", "inbox of 31 bytes", E (BAD_REQUEST), 0, bad_run_envelope, ENV_INBOX_31),
    ROW ("limits", "inbox of 33 bytes", E (BAD_REQUEST), 0, bad_run_envelope, ENV_INBOX_33),
    ROW ("limits", "signature of 0 bytes", E (BAD_REQUEST), 0, bad_run_envelope, ENV_SIGNATURE_0),
    ROW ("limits", "signature of 63 bytes", E (BAD_REQUEST), 0, bad_run_envelope, ENV_SIGNATURE_63),
    ROW ("limits", "signature of 65 bytes", E (BAD_REQUEST), 0, bad_run_envelope, ENV_SIGNATURE_65),
    ROW ("limits", "message ID of 0 bytes", E (BAD_REQUEST), 0, bad_run_envelope, ENV_ID_0),
    ROW ("limits", "message ID of 15 bytes", E (BAD_REQUEST), 0, bad_run_envelope, ENV_ID_15),
    ROW ("limits", "message ID of 17 bytes", E (BAD_REQUEST), 0, bad_run_envelope, ENV_ID_17),
    ROW ("limits", "envelope of 0 messages", E (BAD_REQUEST), 0, bad_run_envelope, ENV_BATCH_0),
    ROW ("limits", "envelope of 256 messages", E (OK), 0, bad_run_envelope, ENV_BATCH_MAX),
    ROW ("limits", "envelope of 257 messages", E (BATCH_TOO_LARGE), 0, bad_run_envelope,
         ENV_BATCH_OVER),
    ROW ("limits", "one message ID twice in an envelope", E (DUPLICATE_MESSAGE_ID), 0,
         bad_run_envelope, ENV_DUPLICATE_ID),
    ROW ("limits", "item ID of 0 bytes", E (INVALID_ITEM), 0, bad_run_envelope, ENV_ITEM_EMPTY),
    ROW ("limits", "item ID of 128 bytes", E (OK), 1, bad_run_envelope, ENV_ITEM_MAX),
    ROW ("limits", "item ID of 129 bytes", E (INVALID_ITEM), 0, bad_run_envelope, ENV_ITEM_OVER),
    ROW ("limits", "item ID of 128 bytes ending in a 3-byte character", E (OK), 1, bad_run_envelope,
         ENV_ITEM_MAX_UTF8),
    ROW ("limits", "item ID of 129 bytes ending in a 3-byte character", E (INVALID_ITEM), 0,
         bad_run_envelope, ENV_ITEM_OVER_UTF8),
    ROW ("limits", "item ID of 4096 bytes", E (INVALID_ITEM), 0, bad_run_envelope, ENV_ITEM_HUGE),

    ROW ("NUL", "item ID \"ab\\0cd\"", E (BAD_REQUEST), 0, bad_run_envelope, ENV_ITEM_NUL),
    ROW ("NUL", "item ID of one NUL byte", E (BAD_REQUEST), 0, bad_run_envelope, ENV_ITEM_ONLY_NUL),
    ROW ("NUL", "subscribe: object ID with a NUL", E (BAD_REQUEST), 0, bad_run_subscribe,
         SUB_ID_NUL),
    ROW ("NUL", "unsubscribe: object ID with a NUL", E (BAD_REQUEST), 0, bad_run_raw,
         RAW_UNSUBSCRIBE_NUL),

    ROW ("UTF-8", "item ID: lone continuation byte", E (INVALID_ITEM), 0, bad_run_envelope,
         ENV_ITEM_CONTINUATION),
    ROW ("UTF-8", "item ID: overlong form", E (INVALID_ITEM), 0, bad_run_envelope,
         ENV_ITEM_OVERLONG),
    ROW ("UTF-8", "item ID: surrogate", E (INVALID_ITEM), 0, bad_run_envelope, ENV_ITEM_SURROGATE),
    ROW ("UTF-8", "item ID: above U+10FFFF", E (INVALID_ITEM), 0, bad_run_envelope,
         ENV_ITEM_ABOVE_MAX),
    ROW ("UTF-8", "item ID: truncated sequence", E (INVALID_ITEM), 0, bad_run_envelope,
         ENV_ITEM_TRUNCATED),
    ROW ("UTF-8", "item ID: 0xff 0xfe", E (INVALID_ITEM), 0, bad_run_envelope, ENV_ITEM_FF),
    ROW ("UTF-8", "subscribe: object ID not UTF-8", E (NOT_FOUND), 0, bad_run_subscribe,
         SUB_ID_UTF8),
    ROW ("UTF-8", "unsubscribe: object ID not UTF-8", E (NOT_FOUND), 0, bad_run_raw,
         RAW_UNSUBSCRIBE_UTF8),

    ROW ("replayed", "the same signed bytes 3 more times", E (OK), 1, bad_run_replay,
         REPLAY_SAME_BYTES),
    ROW ("replayed", "the same bytes after another buy", E (OK), 2, bad_run_replay,
         REPLAY_AFTER_OTHERS),
    ROW ("replayed", "the same message ID, newly signed", E (OK), 1, bad_run_replay,
         REPLAY_RESIGNED),

    ROW ("skewed", "timestamp 29 s behind", E (OK), 1, bad_run_envelope, ENV_SKEW_PAST_EDGE),
    ROW ("skewed", "timestamp 31 s behind", E (STALE_TIMESTAMP), 0, bad_run_envelope,
         ENV_SKEW_PAST),
    ROW ("skewed", "timestamp 29 s ahead", E (OK), 1, bad_run_envelope, ENV_SKEW_FUTURE_EDGE),
    ROW ("skewed", "timestamp 31 s ahead", E (STALE_TIMESTAMP), 0, bad_run_envelope,
         ENV_SKEW_FUTURE),
    ROW ("skewed", "timestamp 0", E (STALE_TIMESTAMP), 0, bad_run_envelope, ENV_SKEW_ZERO),
    ROW ("skewed", "timestamp INT64_MIN", E (STALE_TIMESTAMP), 0, bad_run_envelope, ENV_SKEW_MIN),
    ROW ("skewed", "timestamp INT64_MAX", E (STALE_TIMESTAMP), 0, bad_run_envelope, ENV_SKEW_MAX),

    ROW ("stale ID", "message ID made 59 s ago", E (OK), 1, bad_run_envelope, ENV_ID_OLD_EDGE),
    ROW ("stale ID", "message ID made 61 s ago", E (STALE_MESSAGE_ID), 0, bad_run_envelope,
         ENV_ID_OLD),
    ROW ("stale ID", "message ID made 59 s ahead", E (OK), 1, bad_run_envelope, ENV_ID_AHEAD_EDGE),
    ROW ("stale ID", "message ID made 61 s ahead", E (STALE_MESSAGE_ID), 0, bad_run_envelope,
         ENV_ID_AHEAD),

    ROW ("mis-addressed", "inbox of another worker", E (UNKNOWN_INBOX), 0, bad_run_envelope,
         ENV_INBOX_STRANGER),
    ROW ("mis-addressed", "inbox of the sender itself", E (UNKNOWN_INBOX), 0, bad_run_envelope,
         ENV_INBOX_SELF),
    ROW ("mis-addressed", "buy from an account never created", E (NO_ACCOUNT), 0, bad_run_envelope,
         ENV_NO_ACCOUNT),
    ROW ("mis-addressed", "subscribe: another user's balance", E (PERMISSION_DENIED), 0,
         bad_run_subscribe, SUB_VICTIM_BALANCE),
    ROW ("mis-addressed", "subscribe: another user's root", E (PERMISSION_DENIED), 0,
         bad_run_subscribe, SUB_VICTIM_ROOT),
    ROW ("mis-addressed", "subscribe: another user's purchase", E (PERMISSION_DENIED), 0,
         bad_run_subscribe, SUB_VICTIM_PURCHASE),
    ROW ("mis-addressed", "subscribe: a balance never created", E (NOT_FOUND), 0, bad_run_subscribe,
         SUB_NEVER_CREATED),
    ROW ("mis-addressed", "subscribe: a purchase never made", E (NOT_FOUND), 0, bad_run_subscribe,
         SUB_NO_PURCHASE),
    ROW ("mis-addressed", "subscribe: partition 255, no such object", E (NOT_FOUND), 0,
         bad_run_subscribe, SUB_PARTITION_LAST),
    ROW ("mis-addressed", "subscribe: partition 256 (of 256)", E (NOT_FOUND), 0, bad_run_subscribe,
         SUB_PARTITION_OVER),
    ROW ("mis-addressed", "subscribe: partition 65535", E (NOT_FOUND), 0, bad_run_subscribe,
         SUB_PARTITION_MAX),
    ROW ("mis-addressed", "subscribe: object kind 9", E (NOT_FOUND), 0, bad_run_subscribe,
         SUB_KIND_UNKNOWN),
    ROW ("mis-addressed", "subscribe: a group's ID", E (NOT_FOUND), 0, bad_run_subscribe,
         SUB_GROUP),
    ROW ("mis-addressed", "subscribe: base58 text of 64 bytes", E (NOT_FOUND), 0, bad_run_subscribe,
         SUB_ID_MAX),
    ROW ("mis-addressed", "subscribe: base58 text of 4096 bytes", E (NOT_FOUND), 0,
         bad_run_subscribe, SUB_ID_HUGE),
    ROW ("mis-addressed", "subscribe: empty object ID", E (NOT_FOUND), 0, bad_run_subscribe,
         SUB_ID_EMPTY),
    ROW ("mis-addressed", "unsubscribe: not an object ID", E (NOT_FOUND), 0, bad_run_raw,
         RAW_UNSUBSCRIBE_GARBAGE),
    ROW ("mis-addressed", "unsubscribe: an object not followed", E (OK), 0, bad_run_raw,
         RAW_UNSUBSCRIBE_UNFOLLOWED),

    ROW ("mis-signed", "one bit of the signature flipped", E (BAD_SIGNATURE), 0, bad_run_envelope,
         ENV_FLIP),
    ROW ("mis-signed", "signature of 64 zero bytes", E (BAD_SIGNATURE), 0, bad_run_envelope,
         ENV_ZERO_SIGNATURE),
    ROW ("mis-signed", "signed by another account's key", E (BAD_SIGNATURE), 0, bad_run_envelope,
         ENV_OTHER_KEY),
    ROW ("mis-signed", "sender another user, signer not the sender", E (BAD_SIGNATURE), 0,
         bad_run_envelope, ENV_VICTIM_SENDER),
    ROW ("mis-signed", "signed in the subscribe domain", E (BAD_SIGNATURE), 0, bad_run_envelope,
         ENV_OTHER_DOMAIN),
    ROW ("mis-signed", "item changed after signing", E (BAD_SIGNATURE), 0, bad_run_envelope,
         ENV_ALTERED),
    ROW ("mis-signed", "sender of 32 zero bytes", E (BAD_SIGNATURE), 0, bad_run_envelope,
         ENV_ZERO_SENDER),

    ROW ("amounts", "buy of 0", E (INVALID_AMOUNT), 0, bad_run_envelope, ENV_AMOUNT_ZERO),
    ROW ("amounts", "buy of -1", E (INVALID_AMOUNT), 0, bad_run_envelope, ENV_AMOUNT_MINUS),
    ROW ("amounts", "buy of INT64_MIN", E (INVALID_AMOUNT), 0, bad_run_envelope, ENV_AMOUNT_MIN),
    ROW ("amounts", "buy of 10^9 (the limit), more than the balance", E (INSUFFICIENT_BALANCE), 0,
         bad_run_envelope, ENV_AMOUNT_MAX),
    ROW ("amounts", "buy of 10^9 + 1", E (INVALID_AMOUNT), 0, bad_run_envelope, ENV_AMOUNT_OVER),
    ROW ("amounts", "buy of INT64_MAX", E (INVALID_AMOUNT), 0, bad_run_envelope,
         ENV_AMOUNT_INT64_MAX),
    ROW ("amounts", "buy of the balance + 1", E (INSUFFICIENT_BALANCE), 0, bad_run_envelope,
         ENV_AMOUNT_BALANCE_OVER),
    ROW ("amounts", "amount a varint of 11 bytes (overflow)", E (BAD_REQUEST), 0,
         bad_run_amount_varint, 0),
    ROW ("amounts", "createAccount 100 (the limit)", E (OK), 0, bad_run_envelope, ENV_INITIAL_MAX),
    ROW ("amounts", "createAccount 0", E (OK), 0, bad_run_envelope, ENV_INITIAL_ZERO),
    ROW ("amounts", "createAccount 101", E (INVALID_INITIAL_BALANCE), 0, bad_run_envelope,
         ENV_INITIAL_OVER),
    ROW ("amounts", "createAccount -1", E (INVALID_INITIAL_BALANCE), 0, bad_run_envelope,
         ENV_INITIAL_MINUS),
    ROW ("amounts", "createAccount INT64_MIN", E (INVALID_INITIAL_BALANCE), 0, bad_run_envelope,
         ENV_INITIAL_MIN),
    ROW ("amounts", "createAccount 100 again: no reset", E (OK), 0, bad_run_envelope,
         ENV_INITIAL_AGAIN),

    ROW ("credits", "a user's credit of its own balance", E (PERMISSION_DENIED), 0,
         bad_run_envelope, ENV_CREDIT_NOT_WORKER),
    ROW ("credits", "credit of a 31-byte user", E (BAD_REQUEST), 0, bad_run_envelope,
         ENV_CREDIT_USER_31),
    ROW ("credits", "credit of 0", E (INVALID_AMOUNT), 0, bad_run_envelope, ENV_CREDIT_ZERO),
    ROW ("credits", "credit with an empty reference", E (INVALID_REFERENCE), 0, bad_run_envelope,
         ENV_CREDIT_NO_REFERENCE),
    ROW ("credits", "credit with a reference of 129 bytes", E (INVALID_REFERENCE), 0,
         bad_run_envelope, ENV_CREDIT_REFERENCE_OVER),
    ROW ("credits", "credit with a note of 257 bytes", E (INVALID_NOTE), 0, bad_run_envelope,
         ENV_CREDIT_NOTE_OVER),
    ROW ("credits", "credit of a user without an account", E (NO_ACCOUNT), 0, bad_run_envelope,
         ENV_CREDIT_NO_ACCOUNT),
    ROW ("credits", "credit past the largest balance (2^53 - 1)", E (BALANCE_LIMIT), 0,
         bad_run_envelope, ENV_CREDIT_LIMIT),
    ROW ("credits", "debit of one more than the balance", E (INSUFFICIENT_BALANCE), 0,
         bad_run_envelope, ENV_DEBIT_OVER),

    ROW ("config", "a user's setPrice", E (PERMISSION_DENIED), 0, bad_run_envelope,
         ENV_PRICE_NOT_ADMIN),
    ROW ("config", "setPrice of 0", E (INVALID_PRICE), 0, bad_run_envelope, ENV_PRICE_ZERO),
    ROW ("config", "setPrice of 2^53", E (INVALID_PRICE), 0, bad_run_envelope, ENV_PRICE_OVER),
    ROW ("config", "addAdmin of the worker", E (INVALID_ADMIN), 0, bad_run_envelope,
         ENV_ADMIN_WORKER),
    ROW ("config", "a user's addAdmin of itself", E (PERMISSION_DENIED), 0, bad_run_envelope,
         ENV_ADMIN_NOT_WORKER),
    ROW ("config", "addAdmin and a createAccount in one envelope (two partitions)", E (BAD_REQUEST),
         0, bad_run_envelope, ENV_ADMIN_MIXED),
    ROW ("config", "buy of a catalog item at another price", E (PRICE_MISMATCH), 0,
         bad_run_envelope, ENV_BUY_MISMATCH),
    ROW ("config", "buy of an inactive catalog item", E (UNKNOWN_ITEM), 0, bad_run_envelope,
         ENV_BUY_INACTIVE),

    ROW ("refunds", "a user's refund of its own purchase (bought for 5)", E (PERMISSION_DENIED), 5,
         bad_run_envelope, ENV_REFUND_NOT_ADMIN),
    ROW ("refunds", "refund of a purchase refunded before", E (ALREADY_REFUNDED), 0,
         bad_run_envelope, ENV_REFUND_TWICE),
    ROW ("refunds", "refund of a purchase never made", E (NOT_FOUND), 0, bad_run_envelope,
         ENV_REFUND_UNKNOWN),
    ROW ("refunds", "refund naming an account, not a purchase", E (BAD_REQUEST), 0,
         bad_run_envelope, ENV_REFUND_NOT_PURCHASE),

    ROW ("orders", "createOrder of 0 lines", E (BAD_REQUEST), 0, bad_run_envelope,
         ENV_ORDER_LINES_0),
    ROW ("orders", "createOrder of 16 lines (the limit)", E (OK), 0, bad_run_envelope,
         ENV_ORDER_LINES_MAX),
    ROW ("orders", "createOrder of 17 lines", E (BAD_REQUEST), 0, bad_run_envelope,
         ENV_ORDER_LINES_OVER),
    ROW ("orders", "createOrder: a line's item ID of 129 bytes", E (INVALID_ITEM), 0,
         bad_run_envelope, ENV_ORDER_ITEM_OVER),
    ROW ("orders", "createOrder: a line's amount of -1", E (INVALID_AMOUNT), 0, bad_run_envelope,
         ENV_ORDER_AMOUNT_MINUS),
    ROW ("orders", "submitOrder naming a purchase's ID", E (BAD_REQUEST), 0, bad_run_envelope,
         ENV_ORDER_ID_PURCHASE),
    ROW ("orders", "the worker's failOrder, an error of 257 bytes", E (INVALID_NOTE), 0,
         bad_run_envelope, ENV_ORDER_ERROR_OVER),
    ROW ("orders", "the worker's failOrder, an error of 256 bytes", E (OK), 0, bad_run_envelope,
         ENV_ORDER_ERROR_MAX),
    ROW ("orders", "submitOrder of another user's order", E (NOT_FOUND), 0, bad_run_envelope,
         ENV_ORDER_OTHERS),
    ROW ("NUL", "submitOrder: an order's ID, then a NUL", E (BAD_REQUEST), 0, bad_run_envelope,
         ENV_ORDER_ID_NUL),

    ROW ("subscribe", "own balance", E (OK), 0, bad_run_subscribe, SUB_OWN),
    ROW ("subscribe", "the public ServiceInfo", E (OK), 0, bad_run_subscribe, SUB_SERVICE),
    ROW ("subscribe", "one bit of the signature flipped", E (BAD_SIGNATURE), 0, bad_run_subscribe,
         SUB_FLIP),
    ROW ("subscribe", "signed by another account's key", E (BAD_SIGNATURE), 0, bad_run_subscribe,
         SUB_OTHER_KEY),
    ROW ("subscribe", "signed in the envelope domain", E (BAD_SIGNATURE), 0, bad_run_subscribe,
         SUB_OTHER_DOMAIN),
    ROW ("subscribe", "signature of 64 zero bytes", E (BAD_SIGNATURE), 0, bad_run_subscribe,
         SUB_ZERO_SIGNATURE),
    ROW ("subscribe", "reader of 31 bytes", E (BAD_REQUEST), 0, bad_run_subscribe, SUB_READER_31),
    ROW ("subscribe", "reader of 33 bytes", E (BAD_REQUEST), 0, bad_run_subscribe, SUB_READER_33),
    ROW ("subscribe", "signature of 63 bytes", E (BAD_REQUEST), 0, bad_run_subscribe,
         SUB_SIGNATURE_63),
    ROW ("subscribe", "subscribe bytes that are no Subscribe", E (BAD_REQUEST), 0,
         bad_run_subscribe, SUB_GARBAGE),
    ROW ("subscribe", "timestamp 29 s behind", E (OK), 0, bad_run_subscribe, SUB_SKEW_PAST_EDGE),
    ROW ("subscribe", "timestamp 31 s behind", E (STALE_TIMESTAMP), 0, bad_run_subscribe,
         SUB_SKEW_PAST),
    ROW ("subscribe", "timestamp 29 s ahead", E (OK), 0, bad_run_subscribe, SUB_SKEW_FUTURE_EDGE),
    ROW ("subscribe", "timestamp 31 s ahead", E (STALE_TIMESTAMP), 0, bad_run_subscribe,
         SUB_SKEW_FUTURE),
    ROW ("subscribe", "1,024 subscriptions on one client (the limit)", E (OK), 0, bad_run_many,
         MANY_AT_LIMIT),
    ROW ("subscribe", "subscription 1,025", E (TOO_MANY_SUBSCRIPTIONS), 0, bad_run_many, MANY_OVER),
    ROW ("subscribe", "at the limit, an object followed again", E (OK), 0, bad_run_many,
         MANY_AGAIN),
    //  Opened when the table starts; closed by the gateway within 30 s.
    ROW ("limits", "not ZeroMQ: HTTP request on the gateway's port", BAD_CLOSED, 0, bad_run_closed,
         CLOSED_HTTP),
};

#define S_ROWS (sizeof s_rows / sizeof s_rows [0])

static const char *
s_code_name (int code)
{
    if (code == BAD_CLOSED)
        return "closed, no answer";
    return tly_error_name ((Tally__ErrorCode) code);
}

//  A valid client buys 1 and must get the balance it should have.
void
bad_canary (bad_ctx_t *ctx)
{
    if (ctx->canary.balance == 0)
        bad_client_new (ctx, &ctx->canary);
    tly_result_t bought = it_buy (ctx->canary.sender, "item-canary", 1);
    if (!bought.ok || bought.balance_after != ctx->canary.balance - 1)
        fprintf (stderr, "canary: ok=%d %s balance_after %" PRId64 ", expected %" PRId64 "\n",
                 bought.ok, tly_error_name (bought.code), bought.balance_after,
                 ctx->canary.balance - 1);
    CHECK (bought.ok && bought.balance_after == ctx->canary.balance - 1);
    ctx->canary.balance--;
    ctx->canary_buys++;
}

//  Runs every row; returns how many got something else than expected.
static int
s_table (bad_ctx_t *ctx, bad_got_t *gots)
{
    int wrong = 0;
    for (size_t at = 0; at < S_ROWS; at++) {
        const bad_row_t *row = &s_rows [at];
        if (ctx->subject.balance < S_SUBJECT_LOW) {
            bad_client_new (ctx, &ctx->subject);
            ctx->subjects++;
        }
        int64_t before = ctx->subject.balance;
        bad_got_t *got = &gots [at];
        memset (got, 0, sizeof *got);
        row->run (ctx, row, got);
        bool right = got->code == row->expected;
        int64_t balance = it_balance (ctx->subject.sender);
        if (right && balance != before - row->debit) {
            fprintf (stderr,
                     "row %zu (%s): the subject's balance is %" PRId64 ", expected %" PRId64 "\n",
                     at + 1, row->request, balance, before - row->debit);
            right = false;
        }
        ctx->subject.balance = balance;
        if (!right) {
            wrong++;
            fprintf (stderr, "row %zu (%s: %s): expected %s, got %s: %s\n", at + 1, row->class,
                     row->request, s_code_name (row->expected), s_code_name (got->code),
                     got->message);
        }
        bad_canary (ctx);
    }
    return wrong;
}

static void
s_print_table (const bad_got_t *gots)
{
    printf ("\nbad-input table (docs/protocol.md, \"Errors\"): %zu rows\n", S_ROWS);
    printf ("%-14s %-52s %-23s %-23s %s\n", "class", "request", "expected", "got", "message");
    for (size_t at = 0; at < S_ROWS; at++) {
        const bad_row_t *row = &s_rows [at];
        bool right = gots [at].code == row->expected;
        printf ("%-14s %-52s %-23s %-23s %.70s%s\n", row->class, row->request,
                s_code_name (row->expected), s_code_name (gots [at].code), gots [at].message,
                right ? "" : "   <-- WRONG");
    }
    printf ("\n");
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: it_bad_input BASE_PORT\n");
        return 2;
    }
    int base_port = atoi (argv [1]);
    zsys_init ();
    zsys_set_linger (0);
    CHECK (sodium_init () >= 0);
#if BAD_ASAN
    //  AddressSanitizer keeps freed memory in quarantine (256 MiB by
    //  default) to catch its use: the servers' memory then grows with the
    //  churn of allocations up to that, whatever they hold. A smaller
    //  quarantine keeps the flood's memory bound meaningful.
    char asan_options [512];
    const char *options = getenv ("ASAN_OPTIONS");
    snprintf (asan_options, sizeof asan_options, "%s%squarantine_size_mb=%d",
              options ? options : "", options && *options ? ":" : "", BAD_ASAN_QUARANTINE_MB);
    CHECK (setenv ("ASAN_OPTIONS", asan_options, 1) == 0);
#endif
    bad_ctx_t ctx = { .cluster = it_cluster_start (base_port, 2, 1) };
    ctx.probe = bad_dealer (ctx.cluster->gateway);
    ctx.watch = bad_dealer (ctx.cluster->gateway);
    bad_client_new (&ctx, &ctx.subject);
    ctx.subjects = 1;
    bad_client_new (&ctx, &ctx.canary);
    bad_client_new (&ctx, &ctx.victim);
    tly_result_t bought = it_buy (ctx.victim.sender, "item-victim", 1);
    CHECK (bought.ok);
    ctx.victim.balance--;
    snprintf (ctx.victim_purchase, sizeof ctx.victim_purchase, "%s", bought.id);
    it_user_new (&ctx.stranger);

    //  The table's envelopes are the SDK's, byte for byte, until altered.
    tly_msg_t msg;
    bad_env_t env;
    bad_env_default (&ctx, &env, &msg);
    bad_buf_t ours = bad_env_sealed (&env);
    uint8_t *sdk;
    size_t sdk_size;
    CHECK (tly_sender_seal (ctx.subject.sender, &msg, 1, env.timestamp_ms, &sdk, &sdk_size) == 0);
    CHECK (ours.size == sdk_size && memcmp (ours.data, sdk, sdk_size) == 0);
    free (ours.data);
    free (sdk);

    const char *http = "GET / HTTP/1.1\r\nHost: tally\r\n\r\n";
    ctx.http_fd = bad_tcp_connect (&ctx, http, strlen (http));
    ctx.http_opened_ms = tly_mono_ms ();

    bad_got_t gots [S_ROWS];
    int wrong = s_table (&ctx, gots);
    s_print_table (gots);
    printf ("%zu rows, %d as expected, %d not; sending users: %d; the canary served %d buys"
            " between them\n",
            S_ROWS, (int) S_ROWS - wrong, wrong, ctx.subjects, ctx.canary_buys);
    CHECK (wrong == 0);
    CHECK (it_balance (ctx.canary.sender) == ctx.canary.balance);
    CHECK (it_balance (ctx.victim.sender) == ctx.victim.balance);
    bad_flood (&ctx);

    zsock_destroy (&ctx.probe);
    zsock_destroy (&ctx.watch);
    tly_sender_destroy (&ctx.subject.sender);
    tly_sender_destroy (&ctx.canary.sender);
    tly_sender_destroy (&ctx.victim.sender);
    free (ctx.objects);
    it_cluster_stop (&ctx.cluster);
    printf ("it_bad_input: OK\n");
    return 0;
}
