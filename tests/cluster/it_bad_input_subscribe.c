//  it_bad_input_subscribe - the table's subscribe rows: signatures,
//  readers, timestamps, others' objects, object IDs of every malformed kind,
//  and the limit of subscriptions per client (1,024 on one client, the
//  next refused, one followed again at the limit). Apart from the envelope
//  rows: a subscribe is the read path's request, refused by the gateway
//  and its stream, not by an actor.
#include "it_bad_input.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_wire.h"

//  ---------------------------------------------------------------- subscribes

void
bad_run_subscribe (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got)
{
    const it_user_t *subject = &ctx->subject.user;
    char object_id [TLY_ID_MAX];
    tly_balance_id (subject->account.sign_pk, TLY_PARTITIONS_DEFAULT, object_id);
    char *long_id = calloc (1, 8192);
    CHECK (long_id);
    bad_sub_t sub;
    bad_sub_default (subject, object_id, &sub);
    uint8_t tail [TLY_OBJECT_TAIL_BYTES];
    randombytes_buf (tail, sizeof tail);
    uint32_t partition = tly_partition_of (subject->account.sign_pk, TLY_PARTITIONS_DEFAULT);
    switch (row->variant) {
        case SUB_OWN: break;
        case SUB_SERVICE: tly_service_id (ctx->cluster->worker.sign_pk, object_id); break;
        case SUB_FLIP: sub.flip = true; break;
        case SUB_OTHER_KEY: sub.signer = &ctx->stranger.account; break;
        case SUB_OTHER_DOMAIN: sub.domain = TLY_DOMAIN_ENVELOPE; break;
        case SUB_ZERO_SIGNATURE: sub.signer = NULL; break;
        case SUB_READER_31: sub.reader_len = TLY_KEY_BYTES - 1; break;
        case SUB_READER_33: sub.reader_len = TLY_KEY_BYTES + 1; break;
        case SUB_SIGNATURE_63: sub.signature_len = TLY_SIGNATURE_BYTES - 1; break;
        case SUB_GARBAGE: sub.garbage = true; break;
        case SUB_SKEW_PAST_EDGE: sub.timestamp_ms -= TLY_SKEW_MS_DEFAULT - BAD_EDGE_MS; break;
        case SUB_SKEW_PAST: sub.timestamp_ms -= TLY_SKEW_MS_DEFAULT + BAD_EDGE_MS; break;
        case SUB_SKEW_FUTURE_EDGE: sub.timestamp_ms += TLY_SKEW_MS_DEFAULT - BAD_EDGE_MS; break;
        case SUB_SKEW_FUTURE: sub.timestamp_ms += TLY_SKEW_MS_DEFAULT + BAD_EDGE_MS; break;
        case SUB_VICTIM_BALANCE:
            tly_balance_id (ctx->victim.user.account.sign_pk, TLY_PARTITIONS_DEFAULT, object_id);
            break;
        case SUB_VICTIM_ROOT:
            tly_root_id (ctx->victim.user.account.sign_pk, TLY_PARTITIONS_DEFAULT, object_id);
            break;
        case SUB_VICTIM_PURCHASE:
            snprintf (object_id, sizeof object_id, "%s", ctx->victim_purchase);
            break;
        case SUB_NEVER_CREATED:
            tly_balance_id (ctx->stranger.account.sign_pk, TLY_PARTITIONS_DEFAULT, object_id);
            break;
        case SUB_NO_PURCHASE: tly_object_id (TLY_OBJ_PURCHASE, partition, tail, object_id); break;
        case SUB_PARTITION_LAST:
            tly_object_id (TLY_OBJ_BALANCE, TLY_PARTITIONS_DEFAULT - 1, tail, object_id);
            break;
        case SUB_PARTITION_OVER:
            tly_object_id (TLY_OBJ_BALANCE, TLY_PARTITIONS_DEFAULT, tail, object_id);
            break;
        case SUB_PARTITION_MAX:
            tly_object_id (TLY_OBJ_BALANCE, TLY_PARTITIONS_MAX - 1, tail, object_id);
            break;
        case SUB_KIND_UNKNOWN: {  //  kind | partition | tail, by hand
            uint8_t key [TLY_OBJECT_KEY_BYTES] = { 9, (uint8_t) (partition >> 8),
                                                   (uint8_t) partition };
            memcpy (key + 3, tail, sizeof tail);
            memcpy (object_id, TLY_ID_PREFIX, strlen (TLY_ID_PREFIX));
            CHECK (tly_base58_encode (key, sizeof key, object_id + strlen (TLY_ID_PREFIX),
                                      sizeof object_id - strlen (TLY_ID_PREFIX))
                   >= 0);
            break;
        }
        case SUB_GROUP: {  //  the subject's purchases group: not an object one reads
            uint8_t key [TLY_OBJECT_KEY_BYTES];
            tly_user_object_key (TLY_OBJ_GROUP, subject->account.sign_pk, partition, key);
            tly_object_id_of_key (key, object_id);
            break;
        }
        case SUB_ID_MAX:  //  base58 text as long as TLY_ID_MAX: no object ID
            bad_item_of (long_id, 8192, 'z', TLY_ID_MAX - 4, "");
            memcpy (long_id, "co_z", 4);
            sub.object_id = long_id;
            break;
        case SUB_ID_HUGE:
            bad_item_of (long_id, 8192, 'z', 4096, "");
            memcpy (long_id, "co_z", 4);
            sub.object_id = long_id;
            break;
        case SUB_ID_UTF8: sub.object_id = "co_z\xff\xfe\xc0\xaf"; break;
        case SUB_ID_NUL:
            sub.object_id = "co_zabXcd";
            sub.nul = "co_zabXcd";
            break;
        case SUB_ID_EMPTY: sub.object_id = ""; break;
        default: th_fail (__FILE__, __LINE__, "no subscribe variant %d", row->variant);
    }
    uint64_t request_id = ++ctx->request_id;
    bad_subscribe (ctx->watch, &sub, request_id, got);
    if (got->code == TALLY__ERROR_CODE__OK)
        bad_unsubscribe (ctx->watch, sub.object_id, ++ctx->request_id);
    free (long_id);
}

//  ---------------------------------------------------------------- subscriptions per client

//  Users enough that the worker can follow TLY_SUBSCRIPTIONS_DEFAULT + 1
//  objects: each has a balance, a root, a purchase log and its purchases.
enum {
    S_FILLERS = 10,
    S_FILLER_BUYS = 100
};

static void
s_many_objects (bad_ctx_t *ctx)
{
    size_t capacity = S_FILLERS * (3 + S_FILLER_BUYS);
    CHECK (capacity > TLY_SUBSCRIPTIONS_DEFAULT);
    ctx->objects = calloc (capacity, sizeof *ctx->objects);
    CHECK (ctx->objects);
    tly_msg_t *buys = calloc (S_FILLER_BUYS, sizeof *buys);
    tly_result_t *results = calloc (S_FILLER_BUYS, sizeof *results);
    CHECK (buys && results);
    for (int filler = 0; filler < S_FILLERS; filler++) {
        bad_client_t client = { .sender = NULL };
        bad_client_new (ctx, &client);
        const uint8_t *key = client.user.account.sign_pk;
        tly_balance_id (key, TLY_PARTITIONS_DEFAULT, ctx->objects [ctx->object_count++]);
        tly_root_id (key, TLY_PARTITIONS_DEFAULT, ctx->objects [ctx->object_count++]);
        tly_purchases_id (key, TLY_PARTITIONS_DEFAULT, ctx->objects [ctx->object_count++]);
        for (int i = 0; i < S_FILLER_BUYS; i++)
            CHECK (tly_msg_buy (&buys [i], "item-filler", 1) == 0);
        CHECK (tly_sender_send (client.sender, buys, S_FILLER_BUYS, BAD_TIMEOUT_MS, results) == 0);
        for (int i = 0; i < S_FILLER_BUYS; i++) {
            CHECK (results [i].ok);
            snprintf (ctx->objects [ctx->object_count++], TLY_ID_MAX, "%s", results [i].id);
        }
        tly_sender_destroy (&client.sender);
    }
    free (buys);
    free (results);
}

void
bad_run_many (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got)
{
    it_user_t worker = { .account = ctx->cluster->worker };
    bad_sub_t sub;
    got->code = TALLY__ERROR_CODE__OK;
    if (row->variant == MANY_AT_LIMIT) {
        s_many_objects (ctx);
        ctx->many = bad_dealer (ctx->cluster->gateway);
        //  Pipelined, a window of them in flight.
        enum {
            WINDOW = 64
        };
        uint64_t first_id = ctx->request_id + 1;
        ctx->request_id += TLY_SUBSCRIPTIONS_DEFAULT;
        size_t sent = 0, answered = 0;
        while (answered < TLY_SUBSCRIPTIONS_DEFAULT) {
            while (sent < TLY_SUBSCRIPTIONS_DEFAULT && sent - answered < WINDOW) {
                bad_sub_default (&worker, ctx->objects [sent], &sub);
                bad_buf_t frame = bad_subscribe_frame (&sub, first_id + sent);
                bad_send (ctx->many, frame.data, frame.size);
                free (frame.data);
                sent++;
            }
            zframe_t *frame = zframe_recv (ctx->many);
            CHECK (frame);
            Tally__ClientReply *reply = tally__client_reply__unpack (NULL, zframe_size (frame),
                                                                     zframe_data (frame));
            zframe_destroy (&frame);
            CHECK (reply);
            if (reply->push == TALLY__PUSH_KIND__NOT_PUSHED) {
                CHECK (reply->request_id >= first_id
                       && reply->request_id < first_id + TLY_SUBSCRIPTIONS_DEFAULT);
                bad_got_t one;
                bad_got_reply (&one, reply);
                if (one.code != TALLY__ERROR_CODE__OK && got->code == TALLY__ERROR_CODE__OK)
                    *got = one;
                else
                    CHECK (reply->object);
                answered++;
            }
            tally__client_reply__free_unpacked (reply, NULL);
        }
        return;
    }
    CHECK (ctx->many && ctx->object_count > TLY_SUBSCRIPTIONS_DEFAULT);
    const char *object_id = row->variant == MANY_OVER ? ctx->objects [TLY_SUBSCRIPTIONS_DEFAULT]
                                                      : ctx->objects [0];
    bad_sub_default (&worker, object_id, &sub);
    bad_subscribe (ctx->many, &sub, ++ctx->request_id, got);
    if (row->variant == MANY_AGAIN) {  //  the last row of the limit: every one ended
        for (size_t i = 0; i < TLY_SUBSCRIPTIONS_DEFAULT; i++)
            bad_unsubscribe (ctx->many, ctx->objects [i], ++ctx->request_id);
        zsock_destroy (&ctx->many);
    }
}
