//  it_bad_input_envelope - the table's rows that send an envelope: each one
//  thing of a valid buy changed (lengths, batch sizes, items, trailing
//  bytes, timestamps, message IDs, inboxes, signatures, amounts, initial
//  balances), or of a valid order message (lines, orderId, a failOrder's
//  error), an amount written as a varint of 11 bytes, and the same
//  message sent again (its first result, once). Apart from the frames
//  (it_bad_input_frames.c): these say what each row changes and what an
//  accepted one must have answered.
#include "it_bad_input.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "tly_message_id.h"
#include "tly_partition.h"
#include "tly_sign.h"
#include "tly_wire.h"

//  ---------------------------------------------------------------- envelope rows

void
bad_item_of (char *item, size_t size, char fill, size_t length, const char *end)
{
    CHECK (length + strlen (end) < size);
    memset (item, fill, length);
    strcpy (item + length, end);
}

//  Sends msg as the worker, from a sender of its own: what a row sets up.
static tly_result_t
s_worker_send (bad_ctx_t *ctx, const tly_msg_t *msg)
{
    it_user_t worker = { .account = ctx->cluster->worker };
    strcpy (worker.id, ctx->cluster->worker_id);
    tly_sender_t *sender = it_sender (ctx->cluster->gateway, ctx->cluster->worker_id, &worker);
    tly_result_t result = it_send (sender, msg);
    tly_sender_destroy (&sender);
    return result;
}

//  ---------------------------------------------------------------- orders

//  An order of one line, item at amount, as the SDK makes it.
static void
s_order_create (tly_msg_t *msg, const char *item, int64_t amount)
{
    tly_order_item_t line = { .amount = amount };
    snprintf (line.item_id, sizeof line.item_id, "%s", item);
    tly_error_t error;
    CHECK (tly_msg_create_order (msg, &line, 1, &error) == 0);
}

//  A draft of the victim's, made once.
static const char *
s_victim_order (bad_ctx_t *ctx)
{
    if (!ctx->victim_order [0]) {
        tly_msg_t msg;
        s_order_create (&msg, "bad-input-victim-order", 1);
        tly_result_t created = it_send (ctx->victim.sender, &msg);
        CHECK (created.ok && created.kind == TLY_RESULT_ORDER);
        snprintf (ctx->victim_order, sizeof ctx->victim_order, "%s", created.order.id);
    }
    return ctx->victim_order;
}

//  An order of the subject's in processing (1 held), for the worker to fail.
static void
s_processing_order (bad_ctx_t *ctx, char *order_id)
{
    tly_msg_t msg;
    s_order_create (&msg, "bad-input-order", 1);
    tly_result_t result = it_send (ctx->subject.sender, &msg);
    CHECK (result.ok && result.kind == TLY_RESULT_ORDER);
    snprintf (order_id, TLY_ID_MAX, "%s", result.order.id);
    tly_error_t error;
    CHECK (tly_msg_submit_order (&msg, order_id, &error) == 0);
    result = it_send (ctx->subject.sender, &msg);
    CHECK (result.ok && result.order.status == TALLY__ORDER_STATUS__ORDER_PROCESSING);
}

//  The worker fails the order, as the SDK sends it.
static void
s_fail_order (bad_ctx_t *ctx, const char *order_id)
{
    tly_msg_t msg;
    tly_error_t error;
    CHECK (tly_msg_fail_order (&msg, order_id, "", &error) == 0);
    tly_result_t failed = s_worker_send (ctx, &msg);
    CHECK (failed.ok && failed.order.status == TALLY__ORDER_STATUS__ORDER_FAILED);
}

//  The order rows' message into msg (and env): each one thing of a valid
//  createOrder, submitOrder or failOrder changed. The order a row put in
//  processing (for the worker's failOrder) into processing.
static void
s_order_row (bad_ctx_t *ctx, const bad_row_t *row, bad_env_t *env, tly_msg_t *msg, char *item,
             char *processing)
{
    tly_error_t error;
    switch (row->variant) {
        case ENV_ORDER_LINES_0:
            s_order_create (msg, "bad-input-line", 1);
            msg->item_count = 0;
            break;
        case ENV_ORDER_LINES_MAX:
            s_order_create (msg, "bad-input-line", 1);
            env->order_lines = TLY_ORDER_ITEMS_MAX;
            break;
        case ENV_ORDER_LINES_OVER:
            s_order_create (msg, "bad-input-line", 1);
            env->order_lines = TLY_ORDER_ITEMS_MAX + 1;
            break;
        case ENV_ORDER_ITEM_OVER:
            s_order_create (msg, "bad-input-line", 1);
            bad_item_of (item, 8192, 'i', TLY_ITEM_ID_MAX + 1, "");
            break;
        case ENV_ORDER_AMOUNT_MINUS:
            s_order_create (msg, "bad-input-line", 1);
            msg->items [0].amount = -1;
            break;
        case ENV_ORDER_ID_PURCHASE:  //  past the SDK's own check
        case ENV_ORDER_OTHERS:
        case ENV_ORDER_ID_NUL:
            CHECK (tly_msg_submit_order (msg, s_victim_order (ctx), &error) == 0);
            if (row->variant == ENV_ORDER_ID_PURCHASE)
                snprintf (msg->order_id, sizeof msg->order_id, "%s", ctx->victim_purchase);
            if (row->variant == ENV_ORDER_ID_NUL) {
                //  The order's ID, then a NUL: what a reader stopping at the
                //  NUL would take for the order.
                CHECK (strlen (msg->order_id) + 1 < sizeof msg->order_id);
                strcat (msg->order_id, "X");
                env->nul = msg->order_id;
            }
            break;
        case ENV_ORDER_ERROR_OVER:
        case ENV_ORDER_ERROR_MAX:
            s_processing_order (ctx, processing);
            CHECK (tly_msg_fail_order (msg, processing, "", &error) == 0);
            bad_item_of (msg->note, sizeof msg->note, 'e',
                         TLY_ORDER_ERROR_MAX + (row->variant == ENV_ORDER_ERROR_OVER), "");
            env->signer = &ctx->cluster->worker;
            memcpy (env->sender, ctx->cluster->worker.sign_pk, TLY_KEY_BYTES);
            break;
        default: th_fail (__FILE__, __LINE__, "no order variant %d", row->variant);
    }
}

//  Sends env from the probe: the answer into got; the reply (caller frees).
static Tally__ClientReply *
s_env_exchange (bad_ctx_t *ctx, const bad_env_t *env, bad_got_t *got)
{
    bad_buf_t sealed = bad_env_sealed (env);
    uint64_t request_id = ++ctx->request_id;
    bad_buf_t frame = bad_send_frame (&sealed, request_id, env->pad_to);
    Tally__ClientReply *reply = bad_exchange (ctx, &frame, request_id, got);
    if (!reply->error)  //  a result for every message
        CHECK (reply->n_results == env->count);
    free (sealed.data);
    free (frame.data);
    return reply;
}

void
bad_run_envelope (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got)
{
    bad_env_t env;
    tly_msg_t msg;
    bad_env_default (ctx, &env, &msg);
    tly_msg_t *many = NULL;
    char *item = calloc (1, 8192);
    CHECK (item);
    it_user_t fresh;  //  for the createAccount rows
    it_user_new (&fresh);
    int64_t victim_before = ctx->victim.balance;
    char processing [TLY_ID_MAX] = "";  //  an order a row left processing
    static const uint8_t field_0 [] = { 0x85, 0x00, 0x00, 0x00, 0x00, 0x00 };
    static const uint8_t wire_7 [] = { 0x7f };
    static const uint8_t group [] = { 0x7b, 0x7c };
    static const uint8_t field_huge [] = { 0x80, 0x80, 0x80, 0x80, 0x10, 0x00 };
    static const uint8_t varint_11 [] = { 0x18, 0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    static const uint8_t overrun [] = { 0x22, 0x7f, 0x00 };
    static const uint8_t wrong_type [] = { 0x0d, 0x00, 0x00, 0x00, 0x00 };
    static const uint8_t unknown [] = { 0x78, 0x01 };
    switch (row->variant) {
        case ENV_VALID: break;
        case ENV_SENDER_0: env.sender_len = 0; break;
        case ENV_SENDER_31: env.sender_len = TLY_KEY_BYTES - 1; break;
        case ENV_SENDER_33: env.sender_len = TLY_KEY_BYTES + 1; break;
        case ENV_INBOX_31: env.inbox_len = TLY_KEY_BYTES - 1; break;
        case ENV_INBOX_33: env.inbox_len = TLY_KEY_BYTES + 1; break;
        case ENV_SIGNATURE_0: env.signature_len = 0; break;
        case ENV_SIGNATURE_63: env.signature_len = TLY_SIGNATURE_BYTES - 1; break;
        case ENV_SIGNATURE_65: env.signature_len = TLY_SIGNATURE_BYTES + 1; break;
        case ENV_ID_0: env.id_len = 0; break;
        case ENV_ID_15: env.id_len = TLY_MESSAGE_ID_BYTES - 1; break;
        case ENV_ID_17: env.id_len = TLY_MESSAGE_ID_BYTES + 1; break;
        case ENV_BATCH_0: env.count = 0; break;
        case ENV_BATCH_MAX:
        case ENV_BATCH_OVER:
            env.count = TLY_BATCH_MAX + (row->variant == ENV_BATCH_OVER);
            many = calloc (env.count, sizeof *many);
            CHECK (many);
            //  createAccount of an existing account answers its balance: no effect
            for (size_t i = 0; i < env.count; i++)
                CHECK (tly_msg_create_account (&many [i], 0) == 0);
            env.msgs = many;
            break;
        case ENV_DUPLICATE_ID:
            many = calloc (2, sizeof *many);
            CHECK (many);
            many [0] = msg;
            many [1] = msg;
            env.msgs = many;
            env.count = 2;
            break;
        case ENV_NO_BODY: env.no_body = true; break;
        case ENV_UNKNOWN_BODY: env.unknown_body = true; break;
        case ENV_FRAME_MAX: env.pad_to = TLY_FRAME_MAX_DEFAULT; break;
        case ENV_FRAME_OVER: env.pad_to = TLY_FRAME_MAX_DEFAULT + 1; break;
        case ENV_ITEM_EMPTY: env.item = ""; break;
        case ENV_ITEM_MAX: bad_item_of (item, 8192, 'i', TLY_ITEM_ID_MAX, ""); break;
        case ENV_ITEM_OVER: bad_item_of (item, 8192, 'i', TLY_ITEM_ID_MAX + 1, ""); break;
        case ENV_ITEM_MAX_UTF8:  //  125 + a 3-byte character: 128 bytes
            bad_item_of (item, 8192, 'i', TLY_ITEM_ID_MAX - 3, "\xe2\x82\xac");
            break;
        case ENV_ITEM_OVER_UTF8:
            bad_item_of (item, 8192, 'i', TLY_ITEM_ID_MAX - 2, "\xe2\x82\xac");
            break;
        case ENV_ITEM_HUGE: bad_item_of (item, 8192, 'i', 4096, ""); break;
        case ENV_ITEM_NUL:
            env.item = "abXcd";
            env.nul = "abXcd";
            break;
        case ENV_ITEM_ONLY_NUL:
            env.item = "X";
            env.nul = "\x1a\x05\x0a\x01X";  //  Buy { item_id = "X" }: its field bytes
            break;
        case ENV_ITEM_CONTINUATION: env.item = "ab\x80"; break;
        case ENV_ITEM_OVERLONG: env.item = "ab\xc0\xaf"; break;
        case ENV_ITEM_SURROGATE: env.item = "ab\xed\xa0\x80"; break;
        case ENV_ITEM_ABOVE_MAX: env.item = "ab\xf4\x90\x80\x80"; break;
        case ENV_ITEM_TRUNCATED: env.item = "ab\xe2\x82"; break;
        case ENV_ITEM_FF: env.item = "\xff\xfe"; break;
        case ENV_TAIL_FIELD_0: env.tail = field_0, env.tail_len = sizeof field_0; break;
        case ENV_TAIL_WIRE_7: env.tail = wire_7, env.tail_len = sizeof wire_7; break;
        case ENV_TAIL_GROUP: env.tail = group, env.tail_len = sizeof group; break;
        case ENV_TAIL_FIELD_HUGE: env.tail = field_huge, env.tail_len = sizeof field_huge; break;
        case ENV_TAIL_VARINT_11: env.tail = varint_11, env.tail_len = sizeof varint_11; break;
        case ENV_TAIL_OVERRUN: env.tail = overrun, env.tail_len = sizeof overrun; break;
        case ENV_TAIL_WRONG_TYPE: env.tail = wrong_type, env.tail_len = sizeof wrong_type; break;
        case ENV_TAIL_UNKNOWN: env.tail = unknown, env.tail_len = sizeof unknown; break;
        case ENV_CUT: env.cut_envelope = true; break;
        case ENV_SKEW_PAST_EDGE: env.timestamp_ms -= TLY_SKEW_MS_DEFAULT - BAD_EDGE_MS; break;
        case ENV_SKEW_PAST: env.timestamp_ms -= TLY_SKEW_MS_DEFAULT + BAD_EDGE_MS; break;
        case ENV_SKEW_FUTURE_EDGE: env.timestamp_ms += TLY_SKEW_MS_DEFAULT - BAD_EDGE_MS; break;
        case ENV_SKEW_FUTURE: env.timestamp_ms += TLY_SKEW_MS_DEFAULT + BAD_EDGE_MS; break;
        case ENV_SKEW_ZERO: env.timestamp_ms = 0; break;
        case ENV_SKEW_MIN: env.timestamp_ms = INT64_MIN; break;
        case ENV_SKEW_MAX: env.timestamp_ms = INT64_MAX; break;
        case ENV_ID_OLD_EDGE:
            tly_message_id_stamp (msg.id,
                                  tly_now_ms () - TLY_DEDUPE_WINDOW_MS_DEFAULT + BAD_EDGE_MS);
            break;
        case ENV_ID_OLD:
            tly_message_id_stamp (msg.id,
                                  tly_now_ms () - TLY_DEDUPE_WINDOW_MS_DEFAULT - BAD_EDGE_MS);
            break;
        case ENV_ID_AHEAD_EDGE:
            tly_message_id_stamp (msg.id,
                                  tly_now_ms () + TLY_DEDUPE_WINDOW_MS_DEFAULT - BAD_EDGE_MS);
            break;
        case ENV_ID_AHEAD:
            tly_message_id_stamp (msg.id,
                                  tly_now_ms () + TLY_DEDUPE_WINDOW_MS_DEFAULT + BAD_EDGE_MS);
            break;
        case ENV_INBOX_STRANGER:
            memcpy (env.inbox, ctx->stranger.account.sign_pk, TLY_KEY_BYTES);
            break;
        case ENV_INBOX_SELF: memcpy (env.inbox, env.sender, TLY_KEY_BYTES); break;
        case ENV_NO_ACCOUNT:
            env.signer = &fresh.account;
            memcpy (env.sender, fresh.account.sign_pk, TLY_KEY_BYTES);
            break;
        case ENV_FLIP: env.flip = true; break;
        case ENV_ZERO_SIGNATURE: env.signer = NULL; break;
        case ENV_OTHER_KEY: env.signer = &ctx->stranger.account; break;
        case ENV_VICTIM_SENDER:  //  the victim's money, the subject's signature
            memcpy (env.sender, ctx->victim.user.account.sign_pk, TLY_KEY_BYTES);
            break;
        case ENV_OTHER_DOMAIN: env.domain = TLY_DOMAIN_SUBSCRIBE; break;
        case ENV_ALTERED: env.after_signing = "item-bad"; break;
        case ENV_ZERO_SENDER: memset (env.sender, 0, TLY_KEY_BYTES); break;
        case ENV_AMOUNT_ZERO: msg.amount = 0; break;
        case ENV_AMOUNT_MINUS: msg.amount = -1; break;
        case ENV_AMOUNT_MIN: msg.amount = INT64_MIN; break;
        case ENV_AMOUNT_MAX: msg.amount = TLY_AMOUNT_MAX_DEFAULT; break;
        case ENV_AMOUNT_OVER: msg.amount = TLY_AMOUNT_MAX_DEFAULT + 1; break;
        case ENV_AMOUNT_INT64_MAX: msg.amount = INT64_MAX; break;
        case ENV_AMOUNT_BALANCE_OVER: msg.amount = ctx->subject.balance + 1; break;
        case ENV_INITIAL_MAX:
        case ENV_INITIAL_ZERO:
        case ENV_INITIAL_OVER:
        case ENV_INITIAL_MINUS:
        case ENV_INITIAL_MIN:
        case ENV_INITIAL_AGAIN: {
            int64_t initial = row->variant == ENV_INITIAL_MAX     ? TLY_INITIAL_MAX_DEFAULT
                              : row->variant == ENV_INITIAL_ZERO  ? 0
                              : row->variant == ENV_INITIAL_OVER  ? TLY_INITIAL_MAX_DEFAULT + 1
                              : row->variant == ENV_INITIAL_MINUS ? -1
                              : row->variant == ENV_INITIAL_AGAIN ? TLY_INITIAL_MAX_DEFAULT
                                                                  : INT64_MIN;
            CHECK (tly_msg_create_account (&msg, initial) == 0);
            if (row->variant != ENV_INITIAL_AGAIN) {
                env.signer = &fresh.account;
                memcpy (env.sender, fresh.account.sign_pk, TLY_KEY_BYTES);
            }
            break;
        }
        case ENV_CREDIT_NOT_WORKER:  //  the subject credits itself
        case ENV_CREDIT_USER_31:
        case ENV_CREDIT_ZERO:
        case ENV_CREDIT_NO_REFERENCE:
        case ENV_CREDIT_REFERENCE_OVER:
        case ENV_CREDIT_NOTE_OVER:
        case ENV_CREDIT_NO_ACCOUNT:
        case ENV_CREDIT_LIMIT:
        case ENV_DEBIT_OVER: {
            //  The worker's credits and debits of the subject (of a fresh
            //  user without an account for NO_ACCOUNT), each refused.
            const it_user_t *user = row->variant == ENV_CREDIT_NO_ACCOUNT ? &fresh
                                                                          : &ctx->subject.user;
            int64_t amount = row->variant == ENV_CREDIT_ZERO    ? 0
                             : row->variant == ENV_CREDIT_LIMIT ? TLY_BALANCE_MAX
                             : row->variant == ENV_DEBIT_OVER   ? ctx->subject.balance + 1
                                                                : 5;
            char reference [TLY_REFERENCE_MAX + 2] = "bad-input";
            char note [TLY_NOTE_MAX + 2] = "";
            if (row->variant == ENV_CREDIT_NO_REFERENCE)
                reference [0] = 0;
            if (row->variant == ENV_CREDIT_REFERENCE_OVER)
                bad_item_of (reference, sizeof reference, 'r', TLY_REFERENCE_MAX + 1, "");
            if (row->variant == ENV_CREDIT_NOTE_OVER)
                bad_item_of (note, sizeof note, 'n', TLY_NOTE_MAX + 1, "");
            tly_error_t error;
            CHECK ((row->variant == ENV_DEBIT_OVER ? tly_msg_debit : tly_msg_credit) (
                       &msg, user->id, amount, "r", NULL, &error)
                   == 0);
            //  Past the SDK's own checks: the cluster's are what the row tests.
            strcpy (msg.reference, reference);
            strcpy (msg.note, note);
            if (row->variant != ENV_CREDIT_NOT_WORKER) {
                env.signer = &ctx->cluster->worker;
                memcpy (env.sender, ctx->cluster->worker.sign_pk, TLY_KEY_BYTES);
            }
            if (row->variant == ENV_CREDIT_USER_31)
                env.user_len = TLY_KEY_BYTES - 1;
            break;
        }
        case ENV_PRICE_NOT_ADMIN:
        case ENV_PRICE_ZERO:
        case ENV_PRICE_OVER: {
            tly_error_t error;
            CHECK (tly_msg_set_price (&msg, "bad-input-priced", 1, true, &error) == 0);
            msg.price = row->variant == ENV_PRICE_ZERO   ? 0
                        : row->variant == ENV_PRICE_OVER ? TLY_BALANCE_MAX + 1
                                                         : 1;
            if (row->variant != ENV_PRICE_NOT_ADMIN) {
                env.signer = &ctx->cluster->worker;
                memcpy (env.sender, ctx->cluster->worker.sign_pk, TLY_KEY_BYTES);
            }
            break;
        }
        case ENV_ADMIN_WORKER:
        case ENV_ADMIN_NOT_WORKER:
        case ENV_ADMIN_MIXED: {
            tly_error_t error;
            CHECK (tly_msg_add_admin (&msg,
                                      row->variant == ENV_ADMIN_WORKER ? ctx->cluster->worker_id
                                                                       : ctx->subject.user.id,
                                      &error)
                   == 0);
            if (row->variant == ENV_ADMIN_MIXED) {
                //  Partition 0's, and a credit of a user of another partition.
                it_user_t other;
                do
                    it_user_new (&other);
                while (tly_partition_of (other.account.sign_pk, TLY_PARTITIONS_DEFAULT) == 0);
                static tly_msg_t two [2];
                two [0] = msg;
                CHECK (tly_msg_credit (&two [1], other.id, 5, "mixed", NULL, &error) == 0);
                env.msgs = two;
                env.count = 2;
            }
            if (row->variant != ENV_ADMIN_NOT_WORKER) {
                env.signer = &ctx->cluster->worker;
                memcpy (env.sender, ctx->cluster->worker.sign_pk, TLY_KEY_BYTES);
            }
            break;
        }
        case ENV_BUY_MISMATCH:
        case ENV_BUY_INACTIVE: {
            //  The worker prices the item first; the subject's buy is refused.
            const char *priced = row->variant == ENV_BUY_MISMATCH ? "bad-input-priced-7"
                                                                  : "bad-input-inactive";
            tly_msg_t set;
            tly_error_t error;
            CHECK (tly_msg_set_price (&set, priced, 7, row->variant == ENV_BUY_MISMATCH, &error)
                   == 0);
            CHECK (s_worker_send (ctx, &set).ok);
            CHECK (tly_msg_buy (&msg, priced, row->variant == ENV_BUY_MISMATCH ? 8 : 7) == 0);
            break;
        }
        case ENV_REFUND_NOT_ADMIN:
        case ENV_REFUND_TWICE:
        case ENV_REFUND_UNKNOWN:
        case ENV_REFUND_NOT_PURCHASE: {
            //  A purchase of the subject's to refund (refunded once by the
            //  worker first for TWICE); the refund the worker's but NOT_ADMIN.
            char purchase [TLY_ID_MAX] = "";
            tly_error_t error;
            if (row->variant == ENV_REFUND_NOT_ADMIN || row->variant == ENV_REFUND_TWICE) {
                tly_result_t bought = it_buy (ctx->subject.sender, "bad-input-refunded", 5);
                CHECK (bought.ok);
                snprintf (purchase, sizeof purchase, "%s", bought.id);
            } else {
                uint8_t message_id [TLY_MESSAGE_ID_BYTES], key [TLY_OBJECT_KEY_BYTES];
                randombytes_buf (message_id, sizeof message_id);
                tly_purchase_key (
                    tly_partition_of (ctx->subject.user.account.sign_pk, TLY_PARTITIONS_DEFAULT),
                    ctx->subject.user.account.sign_pk, message_id, key);
                tly_object_id_of_key (key, purchase);
            }
            if (row->variant == ENV_REFUND_TWICE) {
                tly_msg_t first;
                CHECK (tly_msg_refund (&first, purchase, "", &error) == 0);
                CHECK (s_worker_send (ctx, &first).ok);
            }
            CHECK (tly_msg_refund (&msg, purchase, "", &error) == 0);
            if (row->variant == ENV_REFUND_NOT_PURCHASE)  //  past the SDK's own check
                snprintf (msg.purchase_id, sizeof msg.purchase_id, "%s", ctx->subject.user.id);
            if (row->variant != ENV_REFUND_NOT_ADMIN) {
                env.signer = &ctx->cluster->worker;
                memcpy (env.sender, ctx->cluster->worker.sign_pk, TLY_KEY_BYTES);
            }
            break;
        }
        default: s_order_row (ctx, row, &env, &msg, item, processing);
    }
    if (item [0])
        env.item = item;
    Tally__ClientReply *reply = s_env_exchange (ctx, &env, got);
    //  What an accepted row must have answered beyond its code.
    if (got->code == TALLY__ERROR_CODE__OK && reply->n_results >= 1) {
        const Tally__MessageResult *first = reply->results [0];
        if (row->variant == ENV_INITIAL_AGAIN)  //  no reset: the balance as it is
            CHECK (first->balance && first->balance->balance == ctx->subject.balance);
        else if (row->variant == ENV_INITIAL_MAX || row->variant == ENV_INITIAL_ZERO)
            CHECK (first->balance
                   && first->balance->balance
                          == (row->variant == ENV_INITIAL_MAX ? TLY_INITIAL_MAX_DEFAULT : 0));
        else if (env.msgs == &msg && msg.kind == TLY_MSG_BUY)
            CHECK (first->purchase
                   && first->purchase->balance_after == ctx->subject.balance - msg.amount
                   && streq (first->purchase->item_id, env.item ? env.item : msg.item_id));
    }
    if (row->variant == ENV_VICTIM_SENDER) {  //  the victim's money is untouched
        CHECK (it_balance (ctx->victim.sender) == victim_before);
    }
    if (got->code == TALLY__ERROR_CODE__OK && row->variant == ENV_ORDER_ERROR_MAX)
        CHECK (reply->results [0]->order
               && reply->results [0]->order->status == TALLY__ORDER_STATUS__ORDER_FAILED
               && strlen (reply->results [0]->order->error) == TLY_ORDER_ERROR_MAX);
    else if (got->code == TALLY__ERROR_CODE__OK && row->variant == ENV_ORDER_LINES_MAX)
        CHECK (reply->results [0]->order
               && reply->results [0]->order->n_items == TLY_ORDER_ITEMS_MAX);
    else if (processing [0])  //  refused: its hold released as the worker fails it
        s_fail_order (ctx, processing);
    if (row->variant == ENV_ORDER_ID_PURCHASE && got->code == TALLY__ERROR_CODE__BAD_REQUEST)
        CHECK (strstr (got->message, "orderId"));  //  the gateway's refusal names the field
    tally__client_reply__free_unpacked (reply, NULL);
    free (many);
    free (item);
}

//  An Envelope written byte by byte: a buy whose amount is a varint of 11
//  bytes (more than 64 bits), signed by the subject.
void
bad_run_amount_varint (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got)
{
    (void) row;
    tly_msg_t msg;
    CHECK (tly_msg_buy (&msg, "item-bad", 1) == 0);
    bad_buf_t buy = { NULL, 0, 0 };
    bad_put_field (&buy, 1, "item-bad", 8);
    static const uint8_t amount [] = { 0x10, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    bad_put (&buy, amount, sizeof amount);
    bad_buf_t message = { NULL, 0, 0 };
    bad_put_field (&message, 1, msg.id, TLY_MESSAGE_ID_BYTES);
    bad_put_field (&message, 3, buy.data, buy.size);
    bad_buf_t envelope = { NULL, 0, 0 };
    bad_put_field (&envelope, 1, ctx->subject.user.account.sign_pk, TLY_KEY_BYTES);
    bad_put_field (&envelope, 2, ctx->cluster->worker.sign_pk, TLY_KEY_BYTES);
    bad_put_varint (&envelope, 3 << 3);
    bad_put_varint (&envelope, (uint64_t) tly_now_ms ());
    bad_put_field (&envelope, 4, message.data, message.size);
    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_envelope (ctx->subject.user.account.sign_sk, envelope.data, envelope.size, signature);
    bad_buf_t sealed = { NULL, 0, 0 };
    bad_put_field (&sealed, 1, envelope.data, envelope.size);
    bad_put_field (&sealed, 2, signature, sizeof signature);
    uint64_t request_id = ++ctx->request_id;
    bad_buf_t frame = bad_send_frame (&sealed, request_id, 0);
    tally__client_reply__free_unpacked (bad_exchange (ctx, &frame, request_id, got), NULL);
    free (buy.data);
    free (message.data);
    free (envelope.data);
    free (sealed.data);
    free (frame.data);
}

//  ---------------------------------------------------------------- replays

//  The same message sent again: its first result, once.
void
bad_run_replay (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got)
{
    tly_msg_t msg;
    CHECK (tly_msg_buy (&msg, "item-replay", 1) == 0);
    uint8_t *bytes;
    size_t size;
    CHECK (tly_sender_seal (ctx->subject.sender, &msg, 1, tly_now_ms (), &bytes, &size) == 0);
    bad_buf_t sealed = { bytes, size, size };
    uint64_t request_id = ++ctx->request_id;
    bad_buf_t frame = bad_send_frame (&sealed, request_id, 0);
    bad_got_t first_got;
    Tally__ClientReply *first = bad_exchange (ctx, &frame, request_id, &first_got);
    CHECK (first_got.code == TALLY__ERROR_CODE__OK && first->n_results == 1);
    const Tally__PurchaseRecord *bought = first->results [0]->purchase;
    CHECK (bought && bought->balance_after == ctx->subject.balance - 1);
    if (row->variant == REPLAY_AFTER_OTHERS) {  //  one more buy in between
        CHECK (it_buy (ctx->subject.sender, "item-between", 1).balance_after
               == bought->balance_after - 1);
    }
    Tally__ClientReply *again = NULL;
    for (int resend = 0; resend < 3; resend++) {
        if (again)
            tally__client_reply__free_unpacked (again, NULL);
        if (row->variant == REPLAY_RESIGNED) {  //  the same ID in a new envelope
            free (sealed.data);
            CHECK (tly_sender_seal (ctx->subject.sender, &msg, 1, tly_now_ms () + resend + 1,
                                    &bytes, &size)
                   == 0);
            sealed = (bad_buf_t) { bytes, size, size };
        }
        free (frame.data);
        request_id = ++ctx->request_id;
        frame = bad_send_frame (&sealed, request_id, 0);
        again = bad_exchange (ctx, &frame, request_id, got);
        if (got->code != TALLY__ERROR_CODE__OK)
            break;
        CHECK (again->n_results == 1 && again->results [0]->purchase);
        const Tally__PurchaseRecord *resent = again->results [0]->purchase;
        CHECK (streq (resent->id, bought->id) && resent->balance_after == bought->balance_after
               && resent->timestamp == bought->timestamp);
    }
    tally__client_reply__free_unpacked (first, NULL);
    tally__client_reply__free_unpacked (again, NULL);
    free (frame.data);
    free (sealed.data);
}
