//  tly_codec - builds inbox messages, seals envelopes, decodes replies.
#include "tly_codec.h"

#include <assert.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_message_id.h"
#include "tly_sign.h"
#include "tly_wire.h"

//  A varint needs at most 10 bytes; two tags and two varints frame the payload.
#define S_WRAP_OVERHEAD (1 + 10 + 1 + 10)

//  Made now: the ID carries its time, and the actors take it for their
//  dedupe window from then on (tly_message_id.h).
static void
s_fresh_id (tly_msg_t *msg)
{
    tly_message_id_new (msg->id, tly_now_ms ());
}

int
tly_msg_create_account (tly_msg_t *msg, int64_t initial_balance)
{
    assert (msg);
    memset (msg, 0, sizeof *msg);
    s_fresh_id (msg);
    msg->kind = TLY_MSG_CREATE_ACCOUNT;
    msg->initial_balance = initial_balance;
    return 0;
}

int
tly_msg_buy (tly_msg_t *msg, const char *item_id, int64_t amount)
{
    assert (msg);
    assert (item_id);
    if (strlen (item_id) > TLY_MSG_ITEM_CAP)
        return -1;
    memset (msg, 0, sizeof *msg);
    s_fresh_id (msg);
    msg->kind = TLY_MSG_BUY;
    strcpy (msg->item_id, item_id);
    msg->amount = amount;
    return 0;
}

//  A credit or debit: the fields the SDK checks itself (see tally.h).
static int
s_msg_adjustment (tly_msg_t *msg, tly_msg_kind_t kind, const char *user_id, int64_t amount,
                  const char *reference, const char *note, tly_error_t *error)
{
    assert (msg && user_id && reference);
    tly_error_t ignored;
    if (!error)
        error = &ignored;
    if (!note)
        note = "";
    uint8_t user [TLY_KEY_BYTES];
    size_t size;
    if (tly_account_id_parse (user_id, user) == -1) {
        tly_codec_local_error (error, TALLY__ERROR_CODE__BAD_REQUEST,
                               "user '%.80s' is not an account ID (co_z...)", user_id);
        return -1;
    }
    if ((size = strlen (reference)) > TLY_REFERENCE_MAX) {
        tly_codec_local_error (error, TALLY__ERROR_CODE__INVALID_REFERENCE,
                               "reference of %zu bytes exceeds %d bytes", size, TLY_REFERENCE_MAX);
        return -1;
    }
    if ((size = strlen (note)) > TLY_NOTE_MAX) {
        tly_codec_local_error (error, TALLY__ERROR_CODE__INVALID_NOTE,
                               "note of %zu bytes exceeds %d bytes", size, TLY_NOTE_MAX);
        return -1;
    }
    memset (msg, 0, sizeof *msg);
    s_fresh_id (msg);
    msg->kind = kind;
    msg->amount = amount;
    memcpy (msg->user, user, TLY_KEY_BYTES);
    strcpy (msg->reference, reference);
    strcpy (msg->note, note);
    return 0;
}

int
tly_msg_credit (tly_msg_t *msg, const char *user_id, int64_t amount, const char *reference,
                const char *note, tly_error_t *error)
{
    return s_msg_adjustment (msg, TLY_MSG_CREDIT, user_id, amount, reference, note, error);
}

int
tly_msg_debit (tly_msg_t *msg, const char *user_id, int64_t amount, const char *reference,
               const char *note, tly_error_t *error)
{
    return s_msg_adjustment (msg, TLY_MSG_DEBIT, user_id, amount, reference, note, error);
}

//  An admin added or removed: the account's key, checked as for a credit.
static int
s_msg_admin (tly_msg_t *msg, tly_msg_kind_t kind, const char *account_id, tly_error_t *error)
{
    assert (msg && account_id);
    tly_error_t ignored;
    if (!error)
        error = &ignored;
    uint8_t account [TLY_KEY_BYTES];
    if (tly_account_id_parse (account_id, account) == -1) {
        tly_codec_local_error (error, TALLY__ERROR_CODE__BAD_REQUEST,
                               "account '%.80s' is not an account ID (co_z...)", account_id);
        return -1;
    }
    memset (msg, 0, sizeof *msg);
    s_fresh_id (msg);
    msg->kind = kind;
    memcpy (msg->user, account, TLY_KEY_BYTES);
    return 0;
}

int
tly_msg_add_admin (tly_msg_t *msg, const char *account_id, tly_error_t *error)
{
    return s_msg_admin (msg, TLY_MSG_ADD_ADMIN, account_id, error);
}

int
tly_msg_remove_admin (tly_msg_t *msg, const char *account_id, tly_error_t *error)
{
    return s_msg_admin (msg, TLY_MSG_REMOVE_ADMIN, account_id, error);
}

int
tly_msg_set_price (tly_msg_t *msg, const char *item_id, int64_t price, bool active,
                   tly_error_t *error)
{
    assert (msg && item_id);
    tly_error_t ignored;
    if (!error)
        error = &ignored;
    size_t size = strlen (item_id);
    if (size > TLY_MSG_ITEM_CAP) {
        tly_codec_local_error (error, TALLY__ERROR_CODE__INVALID_ITEM,
                               "item ID of %zu bytes exceeds %d bytes", size, TLY_MSG_ITEM_CAP);
        return -1;
    }
    memset (msg, 0, sizeof *msg);
    s_fresh_id (msg);
    msg->kind = TLY_MSG_SET_PRICE;
    memcpy (msg->item_id, item_id, size + 1);
    msg->price = price;
    msg->active = active;
    return 0;
}

int
tly_msg_refund (tly_msg_t *msg, const char *purchase_id, const char *reason, tly_error_t *error)
{
    assert (msg && purchase_id);
    tly_error_t ignored;
    if (!error)
        error = &ignored;
    if (!reason)
        reason = "";
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    if (tly_object_key_parse (purchase_id, key) == -1 || key [0] != TLY_OBJ_PURCHASE) {
        tly_codec_local_error (error, TALLY__ERROR_CODE__BAD_REQUEST,
                               "purchase '%.80s' is not a purchase's ID (co_z...)", purchase_id);
        return -1;
    }
    size_t size = strlen (reason);
    if (size > TLY_NOTE_MAX) {
        tly_codec_local_error (error, TALLY__ERROR_CODE__INVALID_NOTE,
                               "reason of %zu bytes exceeds %d bytes", size, TLY_NOTE_MAX);
        return -1;
    }
    memset (msg, 0, sizeof *msg);
    s_fresh_id (msg);
    msg->kind = TLY_MSG_REFUND;
    tly_object_id_of_key (key, msg->purchase_id);
    memcpy (msg->note, reason, size + 1);
    return 0;
}

int
tly_codec_seal (const tly_account_t *account, const uint8_t inbox [TLY_KEY_BYTES],
                const tly_msg_t *msgs, size_t n, int64_t timestamp_ms, uint8_t **bytes_p,
                size_t *size_p)
{
    assert (account && inbox && bytes_p && size_p);
    assert (msgs || n == 0);
    Tally__InboxMessage *bodies = calloc (n ? n : 1, sizeof *bodies);
    Tally__InboxMessage **list = calloc (n ? n : 1, sizeof *list);
    Tally__CreateAccount *creates = calloc (n ? n : 1, sizeof *creates);
    Tally__Buy *buys = calloc (n ? n : 1, sizeof *buys);
    Tally__Adjustment *adjustments = calloc (n ? n : 1, sizeof *adjustments);
    Tally__AdminChange *admins = calloc (n ? n : 1, sizeof *admins);
    Tally__CatalogItem *items = calloc (n ? n : 1, sizeof *items);
    Tally__Refund *refunds = calloc (n ? n : 1, sizeof *refunds);
    //  An order message's room is about 1 KB: made only for those there are
    //  (every kind from TLY_MSG_CREATE_ORDER on, or none known: refused below).
    size_t order_count = 0;
    for (size_t i = 0; i < n; i++)
        order_count += msgs [i].kind >= TLY_MSG_CREATE_ORDER
                       || msgs [i].kind < TLY_MSG_CREATE_ACCOUNT;
    tly_codec_order_t *orders = calloc (order_count ? order_count : 1, sizeof *orders);
    size_t order_next = 0;
    assert (bodies && list && creates && buys && adjustments && admins && items && refunds
            && orders);

    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        Tally__InboxMessage *body = &bodies [i];
        tally__inbox_message__init (body);
        body->message_id.data = (uint8_t *) msgs [i].id;
        body->message_id.len = TLY_MESSAGE_ID_BYTES;
        if (msgs [i].kind == TLY_MSG_CREATE_ACCOUNT) {
            tally__create_account__init (&creates [i]);
            creates [i].initial_balance = msgs [i].initial_balance;
            body->body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT;
            body->create_account = &creates [i];
        } else if (msgs [i].kind == TLY_MSG_BUY) {
            tally__buy__init (&buys [i]);
            buys [i].item_id = (char *) msgs [i].item_id;
            buys [i].amount = msgs [i].amount;
            body->body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
            body->buy = &buys [i];
        } else if (msgs [i].kind == TLY_MSG_CREDIT || msgs [i].kind == TLY_MSG_DEBIT) {
            Tally__Adjustment *adjustment = &adjustments [i];
            tally__adjustment__init (adjustment);
            adjustment->user.data = (uint8_t *) msgs [i].user;
            adjustment->user.len = TLY_KEY_BYTES;
            adjustment->amount = msgs [i].amount;
            adjustment->reference = (char *) msgs [i].reference;
            adjustment->note = (char *) msgs [i].note;
            if (msgs [i].kind == TLY_MSG_CREDIT) {
                body->body_case = TALLY__INBOX_MESSAGE__BODY_CREDIT;
                body->credit = adjustment;
            } else {
                body->body_case = TALLY__INBOX_MESSAGE__BODY_DEBIT;
                body->debit = adjustment;
            }
        } else if (msgs [i].kind == TLY_MSG_ADD_ADMIN || msgs [i].kind == TLY_MSG_REMOVE_ADMIN) {
            Tally__AdminChange *admin = &admins [i];
            tally__admin_change__init (admin);
            admin->account.data = (uint8_t *) msgs [i].user;
            admin->account.len = TLY_KEY_BYTES;
            if (msgs [i].kind == TLY_MSG_ADD_ADMIN) {
                body->body_case = TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN;
                body->add_admin = admin;
            } else {
                body->body_case = TALLY__INBOX_MESSAGE__BODY_REMOVE_ADMIN;
                body->remove_admin = admin;
            }
        } else if (msgs [i].kind == TLY_MSG_SET_PRICE) {
            tally__catalog_item__init (&items [i]);
            items [i].item_id = (char *) msgs [i].item_id;
            items [i].price = msgs [i].price;
            items [i].active = msgs [i].active;
            body->body_case = TALLY__INBOX_MESSAGE__BODY_SET_PRICE;
            body->set_price = &items [i];
        } else if (msgs [i].kind == TLY_MSG_REFUND) {
            tally__refund__init (&refunds [i]);
            refunds [i].purchase_id = (char *) msgs [i].purchase_id;
            refunds [i].reason = (char *) msgs [i].note;
            body->body_case = TALLY__INBOX_MESSAGE__BODY_REFUND;
            body->refund = &refunds [i];
        } else if (tly_codec_order_body (&msgs [i], body, &orders [order_next++]) == -1)
            rc = -1;
        list [i] = body;
    }
    if (rc == 0) {
        Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
        envelope.sender.data = (uint8_t *) account->sign_pk;
        envelope.sender.len = TLY_KEY_BYTES;
        envelope.inbox.data = (uint8_t *) inbox;
        envelope.inbox.len = TLY_KEY_BYTES;
        envelope.timestamp_ms = timestamp_ms;
        envelope.n_messages = n;
        envelope.messages = list;
        size_t envelope_size = tally__envelope__get_packed_size (&envelope);
        uint8_t *envelope_bytes = malloc (envelope_size ? envelope_size : 1);
        assert (envelope_bytes);
        size_t packed = tally__envelope__pack (&envelope, envelope_bytes);
        assert (packed == envelope_size);

        uint8_t signature [TLY_SIGNATURE_BYTES];
        tly_sign_envelope (account->sign_sk, envelope_bytes, envelope_size, signature);
        Tally__SignedEnvelope sealed = TALLY__SIGNED_ENVELOPE__INIT;
        sealed.envelope.data = envelope_bytes;
        sealed.envelope.len = envelope_size;
        sealed.signature.data = signature;
        sealed.signature.len = sizeof signature;
        *size_p = tally__signed_envelope__get_packed_size (&sealed);
        *bytes_p = malloc (*size_p);
        assert (*bytes_p);
        packed = tally__signed_envelope__pack (&sealed, *bytes_p);
        assert (packed == *size_p);
        free (envelope_bytes);
    }
    free (bodies);
    free (list);
    free (creates);
    free (buys);
    free (adjustments);
    free (admins);
    free (items);
    free (refunds);
    free (orders);
    return rc;
}

static size_t
s_put_varint (uint8_t *out, uint64_t value)
{
    size_t used = 0;
    while (value >= 0x80) {
        out [used++] = (uint8_t) (value | 0x80);
        value >>= 7;
    }
    out [used++] = (uint8_t) value;
    return used;
}

uint8_t *
tly_codec_wrap_send (uint64_t request_id, const uint8_t *signed_envelope, size_t size,
                     size_t *out_size)
{
    assert (signed_envelope || size == 0);
    assert (out_size);
    uint8_t *out = malloc (size + S_WRAP_OVERHEAD);
    assert (out);
    size_t used = 0;
    out [used++] = (1 << 3) | 0;  //  field 1 request_id, varint
    used += s_put_varint (out + used, request_id);
    out [used++] = (2 << 3) | 2;  //  field 2 send, length-delimited
    used += s_put_varint (out + used, size);
    if (size)
        memcpy (out + used, signed_envelope, size);
    used += size;
    assert (used <= size + S_WRAP_OVERHEAD);
    *out_size = used;
    return out;
}

uint8_t *
tly_codec_subscribe (const tly_account_t *account, uint64_t request_id, const char *object_id,
                     int64_t timestamp_ms, size_t *out_size)
{
    assert (account && object_id && out_size);
    Tally__Subscribe subscribe = TALLY__SUBSCRIBE__INIT;
    subscribe.reader.data = (uint8_t *) account->sign_pk;
    subscribe.reader.len = TLY_KEY_BYTES;
    subscribe.object_id = (char *) object_id;
    subscribe.timestamp_ms = timestamp_ms;
    size_t subscribe_size = tally__subscribe__get_packed_size (&subscribe);
    uint8_t *subscribe_bytes = malloc (subscribe_size);
    assert (subscribe_bytes);
    size_t packed = tally__subscribe__pack (&subscribe, subscribe_bytes);
    assert (packed == subscribe_size);

    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_domain (TLY_DOMAIN_SUBSCRIBE, account->sign_sk, subscribe_bytes, subscribe_size,
                     signature);
    Tally__SignedSubscribe sealed = TALLY__SIGNED_SUBSCRIBE__INIT;
    sealed.subscribe.data = subscribe_bytes;
    sealed.subscribe.len = subscribe_size;
    sealed.signature.data = signature;
    sealed.signature.len = sizeof signature;
    Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
    request.request_id = request_id;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_SUBSCRIBE;
    request.subscribe = &sealed;
    *out_size = tally__client_request__get_packed_size (&request);
    uint8_t *out = malloc (*out_size);
    assert (out);
    packed = tally__client_request__pack (&request, out);
    assert (packed == *out_size);
    free (subscribe_bytes);
    return out;
}

void
tly_codec_remote_error (const Tally__Error *wire, tly_error_t *error)
{
    assert (wire && error);
    error->code = wire->code;
    error->remote = true;
    const char *text = wire->message && *wire->message ? wire->message
                                                       : tly_error_default_message (wire->code);
    snprintf (error->message, sizeof error->message, "%s", text);
}

static void
s_malformed (tly_error_t *error, const char *what)
{
    error->code = TALLY__ERROR_CODE__INTERNAL;
    error->remote = false;
    snprintf (error->message, sizeof error->message, "gateway sent a malformed reply: %s", what);
}

static int
s_result (const Tally__MessageResult *wire, tly_result_t *result, tly_error_t *error)
{
    memset (result, 0, sizeof *result);
    if (wire->message_id.len != TLY_MESSAGE_ID_BYTES) {
        s_malformed (error, "message ID is not 16 bytes");
        return -1;
    }
    memcpy (result->message_id, wire->message_id.data, TLY_MESSAGE_ID_BYTES);
    if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_BALANCE) {
        const Tally__UserBalance *balance = wire->balance;
        result->ok = true;
        result->kind = TLY_RESULT_BALANCE;
        result->code = TALLY__ERROR_CODE__OK;
        result->balance = balance->balance;
        result->last_updated = balance->last_updated;
        if (!tly_codec_copy (result->id, sizeof result->id, balance->id)
            || !tly_codec_copy (result->user_id, sizeof result->user_id, balance->user_id)) {
            s_malformed (error, "balance ID too long");
            return -1;
        }
    } else if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE) {
        const Tally__PurchaseRecord *purchase = wire->purchase;
        result->ok = true;
        result->kind = TLY_RESULT_PURCHASE;
        result->code = TALLY__ERROR_CODE__OK;
        result->amount = purchase->amount;
        result->timestamp = purchase->timestamp;
        result->balance_after = purchase->balance_after;
        result->partition_seq = purchase->partition_seq;
        result->refunded_at = purchase->refunded_at;
        if (!tly_codec_copy (result->id, sizeof result->id, purchase->id)
            || !tly_codec_copy (result->user_id, sizeof result->user_id, purchase->user_id)
            || !tly_codec_copy (result->item_id, sizeof result->item_id, purchase->item_id)
            || !tly_codec_copy (result->refund_id, sizeof result->refund_id, purchase->refund_id)) {
            s_malformed (error, "purchase field too long");
            return -1;
        }
    } else if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT) {
        const Tally__AdjustmentRecord *adjustment = wire->adjustment;
        result->ok = true;
        result->kind = TLY_RESULT_ADJUSTMENT;
        result->code = TALLY__ERROR_CODE__OK;
        result->amount = adjustment->amount;
        result->timestamp = adjustment->timestamp;
        result->balance_after = adjustment->balance_after;
        if (!tly_codec_copy (result->id, sizeof result->id, adjustment->id)
            || !tly_codec_copy (result->user_id, sizeof result->user_id, adjustment->user_id)
            || !tly_codec_copy (result->reference, sizeof result->reference, adjustment->reference)
            || !tly_codec_copy (result->note, sizeof result->note, adjustment->note)
            || !tly_codec_copy (result->by, sizeof result->by, adjustment->by)) {
            s_malformed (error, "adjustment field too long");
            return -1;
        }
    } else if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_CONFIG) {
        const Tally__ConfigChange *change = wire->config;
        result->ok = true;
        result->kind = TLY_RESULT_CONFIG;
        result->code = TALLY__ERROR_CODE__OK;
        result->config_version = change->version;
        if (!tly_codec_copy (result->admin_id, sizeof result->admin_id, change->admin_id)) {
            s_malformed (error, "configuration change's admin ID too long");
            return -1;
        }
        if (change->item) {
            result->has_item = true;
            result->price = change->item->price;
            result->active = change->item->active;
            if (!tly_codec_copy (result->item_id, sizeof result->item_id, change->item->item_id)) {
                s_malformed (error, "configuration change's item ID too long");
                return -1;
            }
        }
    } else if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ORDER) {
        result->ok = true;
        result->kind = TLY_RESULT_ORDER;
        result->code = TALLY__ERROR_CODE__OK;
        const char *what = tly_codec_order (wire->order, &result->order);
        if (what) {
            s_malformed (error, what);
            return -1;
        }
        memcpy (result->id, result->order.id, sizeof result->id);
        memcpy (result->user_id, result->order.user_id, sizeof result->user_id);
    } else if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR) {
        tly_error_t reason;
        tly_codec_remote_error (wire->error, &reason);
        result->ok = false;
        result->kind = TLY_RESULT_ERROR;
        result->code = reason.code;
        memcpy (result->message, reason.message, sizeof result->message);
        result->retry_after_ms = wire->error && wire->error->retry_after_ms > 0
                                     ? wire->error->retry_after_ms
                                     : 0;
    } else {
        s_malformed (error, "result without an outcome");
        return -1;
    }
    return 0;
}

int
tly_codec_results (const Tally__ClientReply *reply, tly_result_t *results, size_t results_max,
                   size_t *count, tly_error_t *error)
{
    assert (reply && count && error);
    assert (results || results_max == 0);
    if (reply->n_results > results_max) {
        s_malformed (error, "more results than messages");
        return -1;
    }
    for (size_t i = 0; i < reply->n_results; i++)
        if (s_result (reply->results [i], &results [i], error) == -1)
            return -1;
    *count = reply->n_results;
    return 0;
}

void
tly_codec_local_error (tly_error_t *error, Tally__ErrorCode code, const char *fmt, ...)
{
    assert (error && fmt);
    error->code = code;
    error->remote = false;
    va_list args;
    va_start (args, fmt);
    vsnprintf (error->message, sizeof error->message, fmt, args);
    va_end (args);
}

bool
tly_codec_copy (char *out, size_t out_size, const char *text)
{
    assert (out && out_size > 0);
    if (!text)
        text = "";
    size_t size = strlen (text);
    if (size >= out_size)
        return false;
    memcpy (out, text, size + 1);
    return true;
}
