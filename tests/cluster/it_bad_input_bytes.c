//  it_bad_input_bytes - what the bad-input table's requests are made with:
//  raw client sockets (CURVE when the cluster runs with it), clients with
//  accounts, a growing byte buffer with protobuf's varints and fields
//  written by hand, and sending a frame and taking its direct answer. Apart
//  from the frames (it_bad_input_frames.c) and the rows: nothing here knows
//  a request, only bytes and sockets.
#include "it_bad_input.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_curve.h"
#include "tly_wire.h"

//  Subjects and canaries start with the largest initial balance.
#define S_INITIAL TLY_INITIAL_MAX_DEFAULT

//  A raw client socket, the gateway's CURVE client when the cluster runs
//  with CURVE (as deployed), not yet connected.
zsock_t *
bad_client_socket (void)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    CHECK (sock);
    zsock_set_linger (sock, 0);
    zsock_set_maxmsgsize (sock, -1);
    char error [512];
    if (it_gateway_key && tly_curve_client_of (sock, it_gateway_key, error, sizeof error) == -1)
        th_fail (__FILE__, __LINE__, "curve: %s", error);
    return sock;
}

zsock_t *
bad_dealer (const char *endpoint)
{
    zsock_t *sock = bad_client_socket ();
    CHECK (zsock_connect (sock, "%s", endpoint) == 0);
    return sock;
}

void
bad_client_new (bad_ctx_t *ctx, bad_client_t *client)
{
    if (client->sender)
        tly_sender_destroy (&client->sender);
    it_user_new (&client->user);
    client->sender = it_sender (ctx->cluster->gateway, ctx->cluster->worker_id, &client->user);
    tly_result_t created = it_create (client->sender, S_INITIAL);
    CHECK (created.ok && created.balance == S_INITIAL);
    client->balance = S_INITIAL;
}

//  ---------------------------------------------------------------- bytes

void
bad_put (bad_buf_t *buf, const void *bytes, size_t size)
{
    if (buf->size + size > buf->capacity) {
        buf->capacity = 2 * (buf->size + size) + 64;
        buf->data = realloc (buf->data, buf->capacity);
        CHECK (buf->data);
    }
    if (size)
        memcpy (buf->data + buf->size, bytes, size);
    buf->size += size;
}

void
bad_put_varint (bad_buf_t *buf, uint64_t value)
{
    do {
        uint8_t byte = (uint8_t) (value & 0x7f);
        value >>= 7;
        if (value)
            byte |= 0x80;
        bad_put (buf, &byte, 1);
    } while (value);
}

//  A length-delimited field.
void
bad_put_field (bad_buf_t *buf, uint32_t field, const void *bytes, size_t size)
{
    bad_put_varint (buf, (uint64_t) field << 3 | 2);
    bad_put_varint (buf, size);
    bad_put (buf, bytes, size);
}

bad_buf_t
bad_packed (const ProtobufCMessage *message)
{
    bad_buf_t buf = { NULL, 0, 0 };
    size_t size = protobuf_c_message_get_packed_size (message);
    buf.data = malloc (size + 1);
    CHECK (buf.data);
    buf.capacity = size + 1;
    buf.size = protobuf_c_message_pack (message, buf.data);
    CHECK (buf.size == size);
    return buf;
}

//  Replaces the last 'X' of the first occurrence of text (which holds one)
//  in buf: an ID may hold an 'X' of its own before it.
void
bad_patch_nul (bad_buf_t *buf, const char *text)
{
    size_t length = strlen (text);
    for (size_t at = 0; at + length <= buf->size; at++)
        if (memcmp (buf->data + at, text, length) == 0) {
            const char *x = strrchr (text, 'X');
            CHECK (x);
            buf->data [at + (size_t) (x - text)] = 0;
            return;
        }
    th_fail (__FILE__, __LINE__, "no %s in the bytes to patch", text);
}

//  ---------------------------------------------------------------- answers

void
bad_send (zsock_t *sock, const void *bytes, size_t size)
{
    zframe_t *frame = zframe_new (bytes, size);
    CHECK (frame);
    CHECK (zframe_send (&frame, sock, 0) == 0);
}

//  Waits for the direct answer (not a push) to request_id, or to request_id
//  0 (a frame the gateway did not decode).
Tally__ClientReply *
bad_await (zsock_t *sock, uint64_t request_id)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    CHECK (poller);
    int64_t deadline = tly_mono_ms () + BAD_TIMEOUT_MS;
    Tally__ClientReply *reply = NULL;
    while (!reply) {
        int64_t left = deadline - tly_mono_ms ();
        if (left <= 0)
            th_fail (__FILE__, __LINE__, "no answer to request %" PRIu64 " within %d ms",
                     request_id, BAD_TIMEOUT_MS);
        if (!zpoller_wait (poller, (int) left))
            continue;
        zframe_t *frame = zframe_recv (sock);
        CHECK (frame);
        reply = tally__client_reply__unpack (NULL, zframe_size (frame), zframe_data (frame));
        zframe_destroy (&frame);
        CHECK (reply);
        if (reply->push != TALLY__PUSH_KIND__NOT_PUSHED
            || (reply->request_id != request_id && reply->request_id != 0)) {
            tally__client_reply__free_unpacked (reply, NULL);
            reply = NULL;
        }
    }
    zpoller_destroy (&poller);
    return reply;
}

//  The reply's code: the whole request's error, else the first message's
//  error, else OK.
void
bad_got_reply (bad_got_t *got, const Tally__ClientReply *reply)
{
    got->code = TALLY__ERROR_CODE__OK;
    got->message [0] = 0;
    const Tally__Error *error = reply->error;
    for (size_t i = 0; !error && i < reply->n_results; i++)
        if (reply->results [i]->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR)
            error = reply->results [i]->error;
    if (error) {
        got->code = error->code;
        snprintf (got->message, sizeof got->message, "%s", error->message ? error->message : "");
    }
}

//  Sends bytes as one frame on the probe and takes the answer.
Tally__ClientReply *
bad_exchange (bad_ctx_t *ctx, const bad_buf_t *frame, uint64_t request_id, bad_got_t *got)
{
    bad_send (ctx->probe, frame->data, frame->size);
    Tally__ClientReply *reply = bad_await (ctx->probe, request_id);
    bad_got_reply (got, reply);
    return reply;
}
