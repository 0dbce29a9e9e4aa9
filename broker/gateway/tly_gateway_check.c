//  tly_gateway_check - the gateway's admission checks for one client frame.
#include "tly_gateway_check.h"


#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tly_account.h"
#include "tly_config.h"
#include "tly_object_id.h"
#include "tly_partition.h"
#include "tly_sign.h"
#include "tly_validate.h"

#define OK          TALLY__ERROR_CODE__OK
#define BAD_REQUEST TALLY__ERROR_CODE__BAD_REQUEST

static int
s_compare_ids (const void *left, const void *right)
{
    return memcmp (left, right, TLY_MESSAGE_ID_BYTES);
}

//  A field whose length the protocol fixes: false, with the reason, when it
//  is not expected bytes long.
static bool
s_sized (const char *field, size_t size, int expected, char *reason)
{
    if (size == (size_t) expected)
        return true;
    snprintf (reason, TLY_GATEWAY_REASON_MAX, "%s is %zu bytes (expected %d)", field, size,
              expected);
    return false;
}

//  Step 2, the envelope's fields: every length the protocol fixes.
static Tally__ErrorCode
s_check_fields (const Tally__SignedEnvelope *signed_envelope, const Tally__Envelope *envelope,
                char *reason)
{
    if (!s_sized ("sender", envelope->sender.len, TLY_KEY_BYTES, reason)
        || !s_sized ("inbox", envelope->inbox.len, TLY_KEY_BYTES, reason)
        || !s_sized ("signature", signed_envelope->signature.len, TLY_SIGNATURE_BYTES, reason))
        return BAD_REQUEST;
    for (size_t index = 0; index < envelope->n_messages; index++) {
        const Tally__InboxMessage *message = envelope->messages [index];
        if (message->message_id.len != TLY_MESSAGE_ID_BYTES) {
            snprintf (reason, TLY_GATEWAY_REASON_MAX, "message %zu has a %zu-byte id (expected %d)",
                      index, message->message_id.len, TLY_MESSAGE_ID_BYTES);
            return BAD_REQUEST;
        }
        if (message->body_case == TALLY__INBOX_MESSAGE__BODY__NOT_SET) {
            snprintf (reason, TLY_GATEWAY_REASON_MAX,
                      "message %zu has no body (expected createAccount, buy, credit, debit,"
                      " addAdmin, removeAdmin, setPrice, refund, createOrder, editOrder,"
                      " submitOrder, completeOrder or failOrder)",
                      index);
            return BAD_REQUEST;
        }
        const Tally__Adjustment *adjustment = tly_gateway_check_adjustment (message);
        if (adjustment && adjustment->user.len != TLY_KEY_BYTES) {
            snprintf (reason, TLY_GATEWAY_REASON_MAX,
                      "message %zu: the user credited or debited is %zu bytes (expected %d)", index,
                      adjustment->user.len, TLY_KEY_BYTES);
            return BAD_REQUEST;
        }
    }
    return OK;
}

const Tally__Adjustment *
tly_gateway_check_adjustment (const Tally__InboxMessage *message)
{
    assert (message);
    return message->body_case == TALLY__INBOX_MESSAGE__BODY_CREDIT  ? message->credit
           : message->body_case == TALLY__INBOX_MESSAGE__BODY_DEBIT ? message->debit
                                                                    : NULL;
}

//  The partition every message of the envelope goes to: a credit's or
//  debit's user's, a refund's purchase's, an order message's order's
//  (createOrder: the sender's), a configuration message's 0, any other
//  message's sender's. Returns OK, or BAD_REQUEST when they differ.
static Tally__ErrorCode
s_check_partition (const tly_gateway_policy_t *policy, const Tally__Envelope *envelope,
                   uint32_t *partition, char *reason)
{
    assert (policy->partitions > 0);
    //  The sender's, hashed once per envelope rather than per message.
    uint32_t own = tly_partition_of (envelope->sender.data, policy->partitions);
    for (size_t index = 0; index < envelope->n_messages; index++) {
        uint32_t target = own;
        if (tly_message_named_partition (envelope->messages [index], policy->partitions, &target)
            == -1) {
            //  The credit's user is checked before (s_check_fields).
            snprintf (reason, TLY_GATEWAY_REASON_MAX,
                      tly_order_message_id (envelope->messages [index])
                          ? "message %zu: the orderId is not an order's ID"
                          : "message %zu: the refund's purchaseId is not a purchase's ID",
                      index);
            return BAD_REQUEST;
        }
        if (index == 0)
            *partition = target;
        else if (target != *partition) {
            snprintf (reason, TLY_GATEWAY_REASON_MAX,
                      "message %zu goes to partition %" PRIu32 " and message 0 to %" PRIu32
                      ": an envelope's messages go to one partition (a credit's is its user's,"
                      " a refund's its purchase's, an order message's its order's, a"
                      " configuration message's 0, others the sender's)",
                      index, target, *partition);
            return BAD_REQUEST;
        }
    }
    return OK;
}

//  Step 4: sorts a copy of the ids; neighbours are equal exactly when an id repeats.
static Tally__ErrorCode
s_check_unique_ids (const Tally__Envelope *envelope, char *reason)
{
    assert (envelope->n_messages <= TLY_BATCH_MAX);
    uint8_t ids [TLY_BATCH_MAX][TLY_MESSAGE_ID_BYTES];
    for (size_t index = 0; index < envelope->n_messages; index++)
        memcpy (ids [index], envelope->messages [index]->message_id.data, TLY_MESSAGE_ID_BYTES);
    qsort (ids, envelope->n_messages, TLY_MESSAGE_ID_BYTES, s_compare_ids);
    for (size_t index = 1; index < envelope->n_messages; index++)
        if (memcmp (ids [index - 1], ids [index], TLY_MESSAGE_ID_BYTES) == 0) {
            char hex [2 * TLY_MESSAGE_ID_BYTES + 1];
            sodium_bin2hex (hex, sizeof hex, ids [index], TLY_MESSAGE_ID_BYTES);
            snprintf (reason, TLY_GATEWAY_REASON_MAX,
                      "message id %s appears more than once in the envelope", hex);
            return TALLY__ERROR_CODE__DUPLICATE_MESSAGE_ID;
        }
    return OK;
}

//  Step 6, with checked arithmetic: any timestamp, however absurd, is judged.
static Tally__ErrorCode
s_check_timestamp (const tly_gateway_policy_t *policy, int64_t timestamp_ms, int64_t now_ms,
                   char *reason)
{
    int64_t behind = 0;
    int64_t ahead = 0;
    if (__builtin_sub_overflow (now_ms, timestamp_ms, &behind)
        || __builtin_sub_overflow (timestamp_ms, now_ms, &ahead)) {
        snprintf (reason, TLY_GATEWAY_REASON_MAX,
                  "timestamp %" PRId64 " is out of range of the gateway clock (limit %" PRId64
                  " ms)",
                  timestamp_ms, policy->max_skew_ms);
        return TALLY__ERROR_CODE__STALE_TIMESTAMP;
    }
    if (behind > policy->max_skew_ms || ahead > policy->max_skew_ms) {
        snprintf (reason, TLY_GATEWAY_REASON_MAX,
                  "timestamp %" PRId64 " is %" PRId64 " ms %s the gateway clock (limit %" PRId64
                  ")",
                  timestamp_ms, behind > 0 ? behind : ahead, behind > 0 ? "behind" : "ahead of",
                  policy->max_skew_ms);
        return TALLY__ERROR_CODE__STALE_TIMESTAMP;
    }
    return OK;
}

//  Steps 2 to 7 for a decoded SignedEnvelope.
static Tally__ErrorCode
s_check_envelope (const tly_gateway_policy_t *policy, const Tally__SignedEnvelope *signed_envelope,
                  const Tally__Envelope *envelope, int64_t now_ms, char *reason)
{
    Tally__ErrorCode code = s_check_fields (signed_envelope, envelope, reason);
    if (code != OK)
        return code;
    if (envelope->n_messages == 0) {
        snprintf (reason, TLY_GATEWAY_REASON_MAX, "envelope holds no messages (expected 1..%d)",
                  TLY_BATCH_MAX);
        return BAD_REQUEST;
    }
    if (envelope->n_messages > TLY_BATCH_MAX) {
        snprintf (reason, TLY_GATEWAY_REASON_MAX, "envelope holds %zu messages (limit %d)",
                  envelope->n_messages, TLY_BATCH_MAX);
        return TALLY__ERROR_CODE__BATCH_TOO_LARGE;
    }
    code = s_check_unique_ids (envelope, reason);
    if (code != OK)
        return code;
    if (memcmp (envelope->inbox.data, policy->inbox, TLY_KEY_BYTES) != 0) {
        char inbox_id [TLY_ID_MAX];
        char served_id [TLY_ID_MAX];
        tly_account_id (envelope->inbox.data, inbox_id);
        tly_account_id (policy->inbox, served_id);
        snprintf (reason, TLY_GATEWAY_REASON_MAX,
                  "envelope addressed to inbox %s but this gateway serves %s", inbox_id, served_id);
        return TALLY__ERROR_CODE__UNKNOWN_INBOX;
    }
    code = s_check_timestamp (policy, envelope->timestamp_ms, now_ms, reason);
    if (code != OK)
        return code;
    if (!tly_verify_envelope (envelope->sender.data, signed_envelope->envelope.data,
                              signed_envelope->envelope.len, signed_envelope->signature.data,
                              signed_envelope->signature.len)) {
        char sender_id [TLY_ID_MAX];
        tly_account_id (envelope->sender.data, sender_id);
        snprintf (reason, TLY_GATEWAY_REASON_MAX, "signature does not verify for sender %s",
                  sender_id);
        return TALLY__ERROR_CODE__BAD_SIGNATURE;
    }
    return OK;
}

int
tly_gateway_check_object_id (const char *object_id, tly_gateway_admitted_t *admitted)
{
    assert (object_id && admitted);
    if (tly_object_key_parse (object_id, admitted->topic) == -1)
        return -1;
    //  Written back from the bytes, so that one object is one topic however
    //  its ID was spelled.
    tly_object_id_of_key (admitted->topic, admitted->object_id);
    admitted->partition = tly_object_key_partition (admitted->topic);
    return 0;
}

//  A subscribe, in the order of the send checks: shape, then the object ID
//  (NOT_FOUND: no such object can exist), freshness, and the reader's signature.
static Tally__ErrorCode
s_check_subscribe (const tly_gateway_policy_t *policy,
                   const Tally__SignedSubscribe *signed_subscribe,
                   const Tally__Subscribe *subscribe, int64_t now_ms,
                   tly_gateway_admitted_t *admitted, char *reason)
{
    if (!s_sized ("reader", subscribe->reader.len, TLY_KEY_BYTES, reason)
        || !s_sized ("signature", signed_subscribe->signature.len, TLY_SIGNATURE_BYTES, reason))
        return BAD_REQUEST;
    if (tly_gateway_check_object_id (subscribe->object_id, admitted) == -1) {
        snprintf (reason, TLY_GATEWAY_REASON_MAX,
                  "object ID of %zu bytes is not a tally object ID (co_z + base58 of kind,"
                  " partition and 16 bytes)",
                  strlen (subscribe->object_id));
        return TALLY__ERROR_CODE__NOT_FOUND;
    }
    Tally__ErrorCode code = s_check_timestamp (policy, subscribe->timestamp_ms, now_ms, reason);
    if (code != OK)
        return code;
    if (!tly_verify_domain (TLY_DOMAIN_SUBSCRIBE, subscribe->reader.data,
                            signed_subscribe->subscribe.data, signed_subscribe->subscribe.len,
                            signed_subscribe->signature.data, signed_subscribe->signature.len)) {
        char reader_id [TLY_ID_MAX];
        tly_account_id (subscribe->reader.data, reader_id);
        snprintf (reason, TLY_GATEWAY_REASON_MAX, "signature does not verify for reader %s",
                  reader_id);
        return TALLY__ERROR_CODE__BAD_SIGNATURE;
    }
    memcpy (admitted->account, subscribe->reader.data, TLY_KEY_BYTES);
    return OK;
}

//  Decodes the envelope of a send and checks it.
static Tally__ErrorCode
s_check_send (const tly_gateway_policy_t *policy, const Tally__SignedEnvelope *signed_envelope,
              int64_t now_ms, tly_gateway_admitted_t *admitted, char *reason)
{
    Tally__Envelope *envelope = tally__envelope__unpack (NULL, signed_envelope->envelope.len,
                                                         signed_envelope->envelope.data);
    if (!envelope) {
        snprintf (reason, TLY_GATEWAY_REASON_MAX,
                  "envelope of %zu bytes does not decode as an Envelope",
                  signed_envelope->envelope.len);
        return BAD_REQUEST;
    }
    //  The journal records the decoded strings: they must be all that was signed.
    if (tly_validate_wire_text (&tally__envelope__descriptor, signed_envelope->envelope.data,
                                signed_envelope->envelope.len, reason, TLY_GATEWAY_REASON_MAX)
        == -1) {
        tally__envelope__free_unpacked (envelope, NULL);
        return BAD_REQUEST;
    }
    Tally__ErrorCode code = s_check_envelope (policy, signed_envelope, envelope, now_ms, reason);
    if (code == OK)
        code = s_check_partition (policy, envelope, &admitted->partition, reason);
    if (code == OK)
        memcpy (admitted->account, envelope->sender.data, TLY_KEY_BYTES);
    tally__envelope__free_unpacked (envelope, NULL);
    return code;
}

//  Decodes the Subscribe of a subscribe and checks it.
static Tally__ErrorCode
s_check_signed_subscribe (const tly_gateway_policy_t *policy,
                          const Tally__SignedSubscribe *signed_subscribe, int64_t now_ms,
                          tly_gateway_admitted_t *admitted, char *reason)
{
    Tally__Subscribe *subscribe = tally__subscribe__unpack (NULL, signed_subscribe->subscribe.len,
                                                            signed_subscribe->subscribe.data);
    if (!subscribe) {
        snprintf (reason, TLY_GATEWAY_REASON_MAX,
                  "subscribe of %zu bytes does not decode as a Subscribe",
                  signed_subscribe->subscribe.len);
        return BAD_REQUEST;
    }
    if (tly_validate_wire_text (&tally__subscribe__descriptor, signed_subscribe->subscribe.data,
                                signed_subscribe->subscribe.len, reason, TLY_GATEWAY_REASON_MAX)
        == -1) {
        tally__subscribe__free_unpacked (subscribe, NULL);
        return BAD_REQUEST;
    }
    Tally__ErrorCode code = s_check_subscribe (policy, signed_subscribe, subscribe, now_ms,
                                               admitted, reason);
    tally__subscribe__free_unpacked (subscribe, NULL);
    return code;
}

Tally__ErrorCode
tly_gateway_check (const tly_gateway_policy_t *policy, const uint8_t *frame, size_t size,
                   int64_t now_ms, Tally__ClientRequest **request_p, uint64_t *request_id,
                   tly_gateway_admitted_t *admitted, char *reason)
{
    assert (policy && frame && request_p && request_id && admitted && reason);
    *request_p = NULL;
    *request_id = 0;
    *admitted = (tly_gateway_admitted_t) { .partition = 0 };
    reason [0] = 0;

    //  1. size, before spending anything on decoding
    if (size > policy->max_frame) {
        snprintf (reason, TLY_GATEWAY_REASON_MAX, "frame of %zu bytes exceeds limit %zu", size,
                  policy->max_frame);
        return TALLY__ERROR_CODE__FRAME_TOO_LARGE;
    }
    //  2. decoding (fields are checked by each body's own checks)
    Tally__ClientRequest *request = tally__client_request__unpack (NULL, size, frame);
    if (!request) {
        snprintf (reason, TLY_GATEWAY_REASON_MAX,
                  "frame of %zu bytes does not decode as a ClientRequest", size);
        return BAD_REQUEST;
    }
    *request_id = request->request_id;

    Tally__ErrorCode code = OK;
    if (tly_validate_wire_text (&tally__client_request__descriptor, frame, size, reason,
                                TLY_GATEWAY_REASON_MAX)
        == -1)
        code = BAD_REQUEST;
    else
        switch (request->body_case) {
            case TALLY__CLIENT_REQUEST__BODY_SEND:
                code = s_check_send (policy, request->send, now_ms, admitted, reason);
                break;
            case TALLY__CLIENT_REQUEST__BODY_SUBSCRIBE:
                code = s_check_signed_subscribe (policy, request->subscribe, now_ms, admitted,
                                                 reason);
                break;
            case TALLY__CLIENT_REQUEST__BODY_STATUS:
            case TALLY__CLIENT_REQUEST__BODY_UNSUBSCRIBE:
            case TALLY__CLIENT_REQUEST__BODY_PING: break;
            default:
                snprintf (reason, TLY_GATEWAY_REASON_MAX,
                          "request has no body (expected send, status, subscribe, unsubscribe"
                          " or ping)");
                code = BAD_REQUEST;
        }
    if (code != OK) {
        tally__client_request__free_unpacked (request, NULL);
        return code;
    }
    *request_p = request;
    return OK;
}
