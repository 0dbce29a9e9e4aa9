//  it_bad_input_frames - the requests the table alters, made as a client
//  makes them: an envelope as the SDK seals it (tly_codec_seal) with each
//  thing a row may change, the ClientRequest that sends it (padded to a
//  size when asked), a ping, an unsubscribe, and a subscribe signed as the
//  SDK signs it, with its answer taken. Apart from the rows that use them
//  (envelope, raw, subscribe rows and the flood), which each change one
//  thing of these.
#include "it_bad_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_codec.h"
#include "tly_sign.h"
#include "tly_wire.h"

//  ---------------------------------------------------------------- envelopes

//  One order message's body as the SDK seals it (tly_codec_order_body), and
//  room for one line more than an order may hold, for the row past the limit.
#define S_ORDER_LINES (TLY_ORDER_ITEMS_MAX + 1)
typedef struct {
    tly_codec_order_t codec;
    Tally__OrderItem extra [S_ORDER_LINES];
    Tally__OrderItem *list [S_ORDER_LINES];
    char names [S_ORDER_LINES][16];
} s_order_t;

//  An order message's body as msg says, with the changes env makes to the
//  first message: its first line's item ID (env->item) and its number of
//  lines (env->order_lines, the added ones "line-N" at 1).
static void
s_order_body (const bad_env_t *env, size_t index, const tly_msg_t *msg,
              Tally__InboxMessage *message, s_order_t *room)
{
    CHECK (tly_codec_order_body (msg, message, &room->codec) == 0);
    size_t lines = index == 0 && env->order_lines ? env->order_lines : msg->item_count;
    CHECK (lines <= S_ORDER_LINES);
    for (size_t i = 0; i < lines; i++) {
        if (i < msg->item_count) {
            room->list [i] = &room->codec.items [i];
            continue;
        }
        tally__order_item__init (&room->extra [i]);
        snprintf (room->names [i], sizeof room->names [i], "line-%zu", i);
        room->extra [i].item_id = room->names [i];
        room->extra [i].amount = 1;
        room->list [i] = &room->extra [i];
    }
    if (index == 0 && env->item && lines > 0)
        room->list [0]->item_id = (char *) env->item;
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER) {
        room->codec.create.n_items = lines;
        room->codec.create.items = room->list;
    } else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER) {
        room->codec.edit.n_items = lines;
        room->codec.edit.items = room->list;
    }
}

void
bad_env_default (bad_ctx_t *ctx, bad_env_t *env, tly_msg_t *msg)
{
    memset (env, 0, sizeof *env);
    env->signer = &ctx->subject.user.account;
    env->domain = TLY_DOMAIN_ENVELOPE;
    memcpy (env->sender, ctx->subject.user.account.sign_pk, TLY_KEY_BYTES);
    env->sender_len = TLY_KEY_BYTES;
    memcpy (env->inbox, ctx->cluster->worker.sign_pk, TLY_KEY_BYTES);
    env->inbox_len = TLY_KEY_BYTES;
    env->timestamp_ms = tly_now_ms ();
    CHECK (tly_msg_buy (msg, "item-bad", 1) == 0);
    env->msgs = msg;
    env->count = 1;
    env->id_len = TLY_MESSAGE_ID_BYTES;
    env->signature_len = TLY_SIGNATURE_BYTES;
}

//  The SignedEnvelope bytes of env.
bad_buf_t
bad_env_sealed (const bad_env_t *env)
{
    size_t count = env->count;
    Tally__InboxMessage *messages = calloc (count + 1, sizeof *messages);
    Tally__InboxMessage **pointers = calloc (count + 1, sizeof *pointers);
    Tally__Buy *buys = calloc (count + 1, sizeof *buys);
    Tally__CreateAccount *creates = calloc (count + 1, sizeof *creates);
    Tally__Adjustment *adjustments = calloc (count + 1, sizeof *adjustments);
    Tally__AdminChange *admins = calloc (count + 1, sizeof *admins);
    Tally__CatalogItem *prices = calloc (count + 1, sizeof *prices);
    Tally__Refund *refunds = calloc (count + 1, sizeof *refunds);
    s_order_t *orders = calloc (count + 1, sizeof *orders);
    uint8_t (*ids) [2 * TLY_MESSAGE_ID_BYTES] = calloc (count + 1, sizeof *ids);
    CHECK (messages && pointers && buys && creates && adjustments && admins && prices && refunds
           && orders && ids);
    CHECK (env->id_len <= sizeof ids [0]);
    uint8_t unknown_data [2] = { 0x08, 0x01 };
    ProtobufCMessageUnknownField unknown = { 9, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
                                             sizeof unknown_data, unknown_data };
    for (size_t i = 0; i < count; i++) {
        const tly_msg_t *msg = &env->msgs [i];
        tally__inbox_message__init (&messages [i]);
        memcpy (ids [i], msg->id, TLY_MESSAGE_ID_BYTES);
        messages [i].message_id = (ProtobufCBinaryData) { env->id_len, ids [i] };
        if (i == 0 && (env->no_body || env->unknown_body)) {
            if (env->unknown_body) {
                messages [i].base.n_unknown_fields = 1;
                messages [i].base.unknown_fields = &unknown;
            }
        } else if (msg->kind == TLY_MSG_BUY) {
            tally__buy__init (&buys [i]);
            buys [i].item_id = (char *) (i == 0 && env->item ? env->item : msg->item_id);
            buys [i].amount = msg->amount;
            messages [i].body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
            messages [i].buy = &buys [i];
        } else if (msg->kind == TLY_MSG_CREDIT || msg->kind == TLY_MSG_DEBIT) {
            tally__adjustment__init (&adjustments [i]);
            adjustments [i].user = (ProtobufCBinaryData) { i == 0 && env->user_len ? env->user_len
                                                                                   : TLY_KEY_BYTES,
                                                           (uint8_t *) msg->user };
            adjustments [i].amount = msg->amount;
            adjustments [i].reference = (char *) msg->reference;
            adjustments [i].note = (char *) msg->note;
            if (msg->kind == TLY_MSG_CREDIT) {
                messages [i].body_case = TALLY__INBOX_MESSAGE__BODY_CREDIT;
                messages [i].credit = &adjustments [i];
            } else {
                messages [i].body_case = TALLY__INBOX_MESSAGE__BODY_DEBIT;
                messages [i].debit = &adjustments [i];
            }
        } else if (msg->kind == TLY_MSG_ADD_ADMIN || msg->kind == TLY_MSG_REMOVE_ADMIN) {
            tally__admin_change__init (&admins [i]);
            admins [i].account = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) msg->user };
            if (msg->kind == TLY_MSG_ADD_ADMIN) {
                messages [i].body_case = TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN;
                messages [i].add_admin = &admins [i];
            } else {
                messages [i].body_case = TALLY__INBOX_MESSAGE__BODY_REMOVE_ADMIN;
                messages [i].remove_admin = &admins [i];
            }
        } else if (msg->kind == TLY_MSG_REFUND) {
            tally__refund__init (&refunds [i]);
            refunds [i].purchase_id = (char *) msg->purchase_id;
            refunds [i].reason = (char *) msg->note;
            messages [i].body_case = TALLY__INBOX_MESSAGE__BODY_REFUND;
            messages [i].refund = &refunds [i];
        } else if (msg->kind >= TLY_MSG_CREATE_ORDER && msg->kind <= TLY_MSG_FAIL_ORDER) {
            s_order_body (env, i, msg, &messages [i], &orders [i]);
        } else if (msg->kind == TLY_MSG_SET_PRICE) {
            tally__catalog_item__init (&prices [i]);
            prices [i].item_id = (char *) msg->item_id;
            prices [i].price = msg->price;
            prices [i].active = msg->active;
            messages [i].body_case = TALLY__INBOX_MESSAGE__BODY_SET_PRICE;
            messages [i].set_price = &prices [i];
        } else {
            tally__create_account__init (&creates [i]);
            creates [i].initial_balance = msg->initial_balance;
            messages [i].body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT;
            messages [i].create_account = &creates [i];
        }
        pointers [i] = &messages [i];
    }
    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.sender = (ProtobufCBinaryData) { env->sender_len, (uint8_t *) env->sender };
    envelope.inbox = (ProtobufCBinaryData) { env->inbox_len, (uint8_t *) env->inbox };
    envelope.timestamp_ms = env->timestamp_ms;
    envelope.n_messages = count;
    envelope.messages = pointers;
    bad_buf_t bytes = bad_packed (&envelope.base);
    free (messages);
    free (pointers);
    free (admins);
    free (refunds);
    free (prices);
    free (buys);
    free (creates);
    free (adjustments);
    free (orders);
    free (ids);

    bad_put (&bytes, env->tail, env->tail_len);
    if (env->nul)
        bad_patch_nul (&bytes, env->nul);
    if (env->cut_envelope)
        bytes.size--;
    uint8_t signature [2 * TLY_SIGNATURE_BYTES] = { 0 };
    CHECK (env->signature_len <= sizeof signature);
    if (env->signer)
        tly_sign_domain (env->domain, env->signer->sign_sk, bytes.data, bytes.size, signature);
    if (env->flip)
        signature [7] ^= 0x10;
    if (env->after_signing) {
        char *at = memmem (bytes.data, bytes.size, env->after_signing, strlen (env->after_signing));
        CHECK (at);
        *at ^= 0x01;
    }
    Tally__SignedEnvelope signed_envelope = TALLY__SIGNED_ENVELOPE__INIT;
    signed_envelope.envelope = (ProtobufCBinaryData) { bytes.size, bytes.data };
    signed_envelope.signature = (ProtobufCBinaryData) { env->signature_len, signature };
    bad_buf_t sealed = bad_packed (&signed_envelope.base);
    free (bytes.data);
    return sealed;
}

static size_t
s_varint_size (uint64_t value)
{
    size_t size = 1;
    while (value >>= 7)
        size++;
    return size;
}

//  The ClientRequest frame of a send of sealed bytes; padded to pad_to bytes
//  with an unknown field (15) when pad_to is not 0.
bad_buf_t
bad_send_frame (const bad_buf_t *sealed, uint64_t request_id, size_t pad_to)
{
    bad_buf_t frame = { NULL, 0, 0 };
    bad_put_varint (&frame, 1 << 3);
    bad_put_varint (&frame, request_id);
    bad_put_field (&frame, 2, sealed->data, sealed->size);
    if (pad_to) {
        //  key (1 byte) + the length's varint + the padding = what is missing
        CHECK (pad_to > frame.size + 8);
        size_t missing = pad_to - frame.size;
        size_t length = missing - 2;
        while (length > 0 && 1 + s_varint_size (length) + length > missing)
            length--;
        uint8_t *padding = calloc (1, length + 1);
        CHECK (padding);
        bad_put_field (&frame, 15, padding, length);
        free (padding);
        CHECK (frame.size == pad_to);
    }
    return frame;
}

//  ---------------------------------------------------------------- other requests

//  A ping's ClientRequest, request_id first.
bad_buf_t
bad_ping_frame (uint64_t request_id)
{
    bad_buf_t frame = { NULL, 0, 0 };
    bad_put_varint (&frame, 1 << 3);
    bad_put_varint (&frame, request_id);
    bad_put_field (&frame, 6, NULL, 0);
    return frame;
}

bad_buf_t
bad_unsubscribe_frame (uint64_t request_id, const char *object_id)
{
    Tally__Unsubscribe unsubscribe = TALLY__UNSUBSCRIBE__INIT;
    unsubscribe.object_id = (char *) object_id;
    Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
    request.request_id = request_id;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_UNSUBSCRIBE;
    request.unsubscribe = &unsubscribe;
    return bad_packed (&request.base);
}

bad_buf_t
bad_subscribe_frame (const bad_sub_t *sub, uint64_t request_id)
{
    Tally__Subscribe subscribe = TALLY__SUBSCRIBE__INIT;
    subscribe.reader = (ProtobufCBinaryData) { sub->reader_len, (uint8_t *) sub->reader };
    subscribe.object_id = (char *) sub->object_id;
    subscribe.timestamp_ms = sub->timestamp_ms;
    bad_buf_t bytes = bad_packed (&subscribe.base);
    if (sub->nul)
        bad_patch_nul (&bytes, sub->nul);
    if (sub->garbage) {
        bytes.size = 0;
        bad_put (&bytes, "\xff\xff\xff", 3);
    }
    uint8_t signature [2 * TLY_SIGNATURE_BYTES] = { 0 };
    if (sub->signer)
        tly_sign_domain (sub->domain, sub->signer->sign_sk, bytes.data, bytes.size, signature);
    if (sub->flip)
        signature [7] ^= 0x10;
    Tally__SignedSubscribe signed_subscribe = TALLY__SIGNED_SUBSCRIBE__INIT;
    signed_subscribe.subscribe = (ProtobufCBinaryData) { bytes.size, bytes.data };
    signed_subscribe.signature = (ProtobufCBinaryData) { sub->signature_len, signature };
    Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
    request.request_id = request_id;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_SUBSCRIBE;
    request.subscribe = &signed_subscribe;
    bad_buf_t frame = bad_packed (&request.base);
    free (bytes.data);
    return frame;
}

void
bad_sub_default (const it_user_t *reader, const char *object_id, bad_sub_t *sub)
{
    memset (sub, 0, sizeof *sub);
    sub->signer = &reader->account;
    sub->domain = TLY_DOMAIN_SUBSCRIBE;
    memcpy (sub->reader, reader->account.sign_pk, TLY_KEY_BYTES);
    sub->reader_len = TLY_KEY_BYTES;
    sub->object_id = object_id;
    sub->timestamp_ms = tly_now_ms ();
    sub->signature_len = TLY_SIGNATURE_BYTES;
}

//  Subscribes on sock and takes the answer; an accepted subscription must
//  have brought the object's snapshot.
void
bad_subscribe (zsock_t *sock, const bad_sub_t *sub, uint64_t request_id, bad_got_t *got)
{
    bad_buf_t frame = bad_subscribe_frame (sub, request_id);
    bad_send (sock, frame.data, frame.size);
    free (frame.data);
    Tally__ClientReply *reply = bad_await (sock, request_id);
    bad_got_reply (got, reply);
    if (got->code == TALLY__ERROR_CODE__OK)
        CHECK (reply->object && reply->object->state.len > 0);
    tally__client_reply__free_unpacked (reply, NULL);
}

void
bad_unsubscribe (zsock_t *sock, const char *object_id, uint64_t request_id)
{
    bad_buf_t frame = bad_unsubscribe_frame (request_id, object_id);
    bad_send (sock, frame.data, frame.size);
    free (frame.data);
    Tally__ClientReply *reply = bad_await (sock, request_id);
    CHECK (reply->request_id == request_id && !reply->error);
    tally__client_reply__free_unpacked (reply, NULL);
}
