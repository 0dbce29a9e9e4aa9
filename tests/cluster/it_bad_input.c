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
#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "it_client.h"
#include "it_cluster.h"
#include "tally.h"
#include "tly_curve.h"
#include "tly_message_id.h"
#include "tly_sign.h"
#include "tly_wire.h"

#define S_TIMEOUT_MS  10000
//  Expected: no answer; the gateway's side closes the connection.
#define S_CLOSED      (-1)
//  How far inside, or past, a time limit the rows at its edge are: the
//  request's own trip to the gateway or actor must fit in it.
#define S_EDGE_MS     1000
//  Subjects and canaries start with the largest initial balance.
#define S_INITIAL     TLY_INITIAL_MAX_DEFAULT
//  A subject with less than this is replaced before the next row.
#define S_SUBJECT_LOW 4

//  ---------------------------------------------------------------- context

typedef struct {
    it_user_t user;
    tly_sender_t *sender;
    int64_t balance;  //  what it must be
} s_client_t;

typedef struct {
    it_cluster_t *cluster;
    zsock_t *probe;  //  raw DEALER to the gateway: the table's requests
    zsock_t *watch;  //  raw DEALER for subscribes
    uint64_t request_id;
    s_client_t subject;  //  sends the rows' requests
    s_client_t canary;   //  a valid client, served between rows
    s_client_t victim;   //  another user: its objects, its money
    char victim_purchase [TLY_ID_MAX];
    it_user_t stranger;  //  never has an account
    int subjects;        //  subjects used
    int canary_buys;
    //  The limit of subscriptions per client, as the worker reading others'
    //  objects (the worker may read everything).
    zsock_t *many;
    char (*objects) [TLY_ID_MAX];
    size_t object_count;
    int http_fd;  //  an HTTP client's connection to the gateway's port
    int64_t http_opened_ms;
} s_ctx_t;

//  What a row got.
typedef struct {
    int code;  //  Tally__ErrorCode, or S_CLOSED
    char message [TLY_ERROR_TEXT_MAX];
} s_got_t;

typedef struct _s_row_t s_row_t;
typedef void (s_run_fn) (s_ctx_t *ctx, const s_row_t *row, s_got_t *got);

struct _s_row_t {
    const char *class;
    const char *request;
    int expected;
    int64_t debit;  //  what the row takes from the subject's balance
    s_run_fn *run;
    int variant;
};

//  A raw client socket, the gateway's CURVE client when the cluster runs
//  with CURVE (as deployed), not yet connected.
static zsock_t *
s_client_socket (void)
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

static zsock_t *
s_dealer (const char *endpoint)
{
    zsock_t *sock = s_client_socket ();
    CHECK (zsock_connect (sock, "%s", endpoint) == 0);
    return sock;
}

static void
s_client_new (s_ctx_t *ctx, s_client_t *client)
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

typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
} s_buf_t;

static void
s_put (s_buf_t *buf, const void *bytes, size_t size)
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

static void
s_put_varint (s_buf_t *buf, uint64_t value)
{
    do {
        uint8_t byte = (uint8_t) (value & 0x7f);
        value >>= 7;
        if (value)
            byte |= 0x80;
        s_put (buf, &byte, 1);
    } while (value);
}

static size_t
s_varint_size (uint64_t value)
{
    size_t size = 1;
    while (value >>= 7)
        size++;
    return size;
}

//  A length-delimited field.
static void
s_put_field (s_buf_t *buf, uint32_t field, const void *bytes, size_t size)
{
    s_put_varint (buf, (uint64_t) field << 3 | 2);
    s_put_varint (buf, size);
    s_put (buf, bytes, size);
}

static s_buf_t
s_packed (const ProtobufCMessage *message)
{
    s_buf_t buf = { NULL, 0, 0 };
    size_t size = protobuf_c_message_get_packed_size (message);
    buf.data = malloc (size + 1);
    CHECK (buf.data);
    buf.capacity = size + 1;
    buf.size = protobuf_c_message_pack (message, buf.data);
    CHECK (buf.size == size);
    return buf;
}

//  Replaces the 'X' of the first occurrence of text (which holds one) in buf.
static void
s_patch_nul (s_buf_t *buf, const char *text)
{
    size_t length = strlen (text);
    for (size_t at = 0; at + length <= buf->size; at++)
        if (memcmp (buf->data + at, text, length) == 0) {
            const char *x = strchr (text, 'X');
            CHECK (x);
            buf->data [at + (size_t) (x - text)] = 0;
            return;
        }
    th_fail (__FILE__, __LINE__, "no %s in the bytes to patch", text);
}

//  ---------------------------------------------------------------- answers

static void
s_send (zsock_t *sock, const void *bytes, size_t size)
{
    zframe_t *frame = zframe_new (bytes, size);
    CHECK (frame);
    CHECK (zframe_send (&frame, sock, 0) == 0);
}

//  Waits for the direct answer (not a push) to request_id, or to request_id
//  0 (a frame the gateway did not decode).
static Tally__ClientReply *
s_await (zsock_t *sock, uint64_t request_id)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    CHECK (poller);
    int64_t deadline = tly_mono_ms () + S_TIMEOUT_MS;
    Tally__ClientReply *reply = NULL;
    while (!reply) {
        int64_t left = deadline - tly_mono_ms ();
        if (left <= 0)
            th_fail (__FILE__, __LINE__, "no answer to request %" PRIu64 " within %d ms",
                     request_id, S_TIMEOUT_MS);
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
static void
s_got_reply (s_got_t *got, const Tally__ClientReply *reply)
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
static Tally__ClientReply *
s_exchange (s_ctx_t *ctx, const s_buf_t *frame, uint64_t request_id, s_got_t *got)
{
    s_send (ctx->probe, frame->data, frame->size);
    Tally__ClientReply *reply = s_await (ctx->probe, request_id);
    s_got_reply (got, reply);
    return reply;
}

//  ---------------------------------------------------------------- envelopes

//  An envelope as the SDK makes it (tly_codec_seal), and what to alter.
typedef struct {
    const tly_account_t *signer;  //  signs; NULL: 64 zero bytes
    tly_domain_t domain;
    uint8_t sender [48];
    size_t sender_len;
    uint8_t inbox [48];
    size_t inbox_len;
    int64_t timestamp_ms;
    tly_msg_t *msgs;
    size_t count;
    const char *item;           //  the first buy's item ID instead of its own (any length)
    size_t id_len;              //  bytes of each message ID as sent
    bool no_body;               //  the first message has no body
    bool unknown_body;          //  ... but an unknown field (9) where the body goes
    const uint8_t *tail;        //  bytes appended to the Envelope before signing
    size_t tail_len;            //
    const char *nul;            //  text of the envelope whose 'X' becomes NUL (signed)
    const char *after_signing;  //  text of the envelope changed after signing
    bool cut_envelope;          //  the Envelope's last byte cut off before signing
    size_t signature_len;
    bool flip;      //  one bit of the signature flipped
    size_t pad_to;  //  the ClientRequest padded to this many bytes
} s_env_t;

static void
s_env_default (s_ctx_t *ctx, s_env_t *env, tly_msg_t *msg)
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
static s_buf_t
s_env_sealed (const s_env_t *env)
{
    size_t count = env->count;
    Tally__InboxMessage *messages = calloc (count + 1, sizeof *messages);
    Tally__InboxMessage **pointers = calloc (count + 1, sizeof *pointers);
    Tally__Buy *buys = calloc (count + 1, sizeof *buys);
    Tally__CreateAccount *creates = calloc (count + 1, sizeof *creates);
    uint8_t (*ids) [2 * TLY_MESSAGE_ID_BYTES] = calloc (count + 1, sizeof *ids);
    CHECK (messages && pointers && buys && creates && ids);
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
    s_buf_t bytes = s_packed (&envelope.base);
    free (messages);
    free (pointers);
    free (buys);
    free (creates);
    free (ids);

    s_put (&bytes, env->tail, env->tail_len);
    if (env->nul)
        s_patch_nul (&bytes, env->nul);
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
    s_buf_t sealed = s_packed (&signed_envelope.base);
    free (bytes.data);
    return sealed;
}

//  The ClientRequest frame of a send of sealed bytes; padded to pad_to bytes
//  with an unknown field (15) when pad_to is not 0.
static s_buf_t
s_send_frame (const s_buf_t *sealed, uint64_t request_id, size_t pad_to)
{
    s_buf_t frame = { NULL, 0, 0 };
    s_put_varint (&frame, 1 << 3);
    s_put_varint (&frame, request_id);
    s_put_field (&frame, 2, sealed->data, sealed->size);
    if (pad_to) {
        //  key (1 byte) + the length's varint + the padding = what is missing
        CHECK (pad_to > frame.size + 8);
        size_t missing = pad_to - frame.size;
        size_t length = missing - 2;
        while (length > 0 && 1 + s_varint_size (length) + length > missing)
            length--;
        uint8_t *padding = calloc (1, length + 1);
        CHECK (padding);
        s_put_field (&frame, 15, padding, length);
        free (padding);
        CHECK (frame.size == pad_to);
    }
    return frame;
}

//  Sends env from the probe: the answer into got; the reply (caller frees).
static Tally__ClientReply *
s_env_exchange (s_ctx_t *ctx, const s_env_t *env, s_got_t *got)
{
    s_buf_t sealed = s_env_sealed (env);
    uint64_t request_id = ++ctx->request_id;
    s_buf_t frame = s_send_frame (&sealed, request_id, env->pad_to);
    Tally__ClientReply *reply = s_exchange (ctx, &frame, request_id, got);
    if (!reply->error)  //  a result for every message
        CHECK (reply->n_results == env->count);
    free (sealed.data);
    free (frame.data);
    return reply;
}

//  ---------------------------------------------------------------- envelope rows

enum {
    ENV_VALID,
    ENV_SENDER_0,
    ENV_SENDER_31,
    ENV_SENDER_33,
    ENV_INBOX_31,
    ENV_INBOX_33,
    ENV_SIGNATURE_0,
    ENV_SIGNATURE_63,
    ENV_SIGNATURE_65,
    ENV_ID_0,
    ENV_ID_15,
    ENV_ID_17,
    ENV_BATCH_0,
    ENV_BATCH_MAX,
    ENV_BATCH_OVER,
    ENV_DUPLICATE_ID,
    ENV_NO_BODY,
    ENV_UNKNOWN_BODY,
    ENV_FRAME_MAX,
    ENV_FRAME_OVER,
    ENV_ITEM_EMPTY,
    ENV_ITEM_MAX,
    ENV_ITEM_OVER,
    ENV_ITEM_MAX_UTF8,
    ENV_ITEM_OVER_UTF8,
    ENV_ITEM_HUGE,
    ENV_ITEM_NUL,
    ENV_ITEM_ONLY_NUL,
    ENV_ITEM_CONTINUATION,
    ENV_ITEM_OVERLONG,
    ENV_ITEM_SURROGATE,
    ENV_ITEM_ABOVE_MAX,
    ENV_ITEM_TRUNCATED,
    ENV_ITEM_FF,
    ENV_TAIL_FIELD_0,
    ENV_TAIL_WIRE_7,
    ENV_TAIL_GROUP,
    ENV_TAIL_FIELD_HUGE,
    ENV_TAIL_VARINT_11,
    ENV_TAIL_OVERRUN,
    ENV_TAIL_WRONG_TYPE,
    ENV_TAIL_UNKNOWN,
    ENV_CUT,
    ENV_SKEW_PAST_EDGE,
    ENV_SKEW_PAST,
    ENV_SKEW_FUTURE_EDGE,
    ENV_SKEW_FUTURE,
    ENV_SKEW_ZERO,
    ENV_SKEW_MIN,
    ENV_SKEW_MAX,
    ENV_ID_OLD_EDGE,
    ENV_ID_OLD,
    ENV_ID_AHEAD_EDGE,
    ENV_ID_AHEAD,
    ENV_INBOX_STRANGER,
    ENV_INBOX_SELF,
    ENV_NO_ACCOUNT,
    ENV_FLIP,
    ENV_ZERO_SIGNATURE,
    ENV_OTHER_KEY,
    ENV_VICTIM_SENDER,
    ENV_OTHER_DOMAIN,
    ENV_ALTERED,
    ENV_ZERO_SENDER,
    ENV_AMOUNT_ZERO,
    ENV_AMOUNT_MINUS,
    ENV_AMOUNT_MIN,
    ENV_AMOUNT_MAX,
    ENV_AMOUNT_OVER,
    ENV_AMOUNT_INT64_MAX,
    ENV_AMOUNT_BALANCE_OVER,
    ENV_INITIAL_MAX,
    ENV_INITIAL_ZERO,
    ENV_INITIAL_OVER,
    ENV_INITIAL_MINUS,
    ENV_INITIAL_MIN,
    ENV_INITIAL_AGAIN
};

static void
s_item_of (char *item, size_t size, char fill, size_t length, const char *end)
{
    CHECK (length + strlen (end) < size);
    memset (item, fill, length);
    strcpy (item + length, end);
}

static void
s_run_envelope (s_ctx_t *ctx, const s_row_t *row, s_got_t *got)
{
    s_env_t env;
    tly_msg_t msg;
    s_env_default (ctx, &env, &msg);
    tly_msg_t *many = NULL;
    char *item = calloc (1, 8192);
    CHECK (item);
    it_user_t fresh;  //  for the createAccount rows
    it_user_new (&fresh);
    int64_t victim_before = ctx->victim.balance;
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
        case ENV_ITEM_MAX: s_item_of (item, 8192, 'i', TLY_ITEM_ID_MAX, ""); break;
        case ENV_ITEM_OVER: s_item_of (item, 8192, 'i', TLY_ITEM_ID_MAX + 1, ""); break;
        case ENV_ITEM_MAX_UTF8:  //  125 + a 3-byte character: 128 bytes
            s_item_of (item, 8192, 'i', TLY_ITEM_ID_MAX - 3, "\xe2\x82\xac");
            break;
        case ENV_ITEM_OVER_UTF8:
            s_item_of (item, 8192, 'i', TLY_ITEM_ID_MAX - 2, "\xe2\x82\xac");
            break;
        case ENV_ITEM_HUGE: s_item_of (item, 8192, 'i', 4096, ""); break;
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
        case ENV_SKEW_PAST_EDGE: env.timestamp_ms -= TLY_SKEW_MS_DEFAULT - S_EDGE_MS; break;
        case ENV_SKEW_PAST: env.timestamp_ms -= TLY_SKEW_MS_DEFAULT + S_EDGE_MS; break;
        case ENV_SKEW_FUTURE_EDGE: env.timestamp_ms += TLY_SKEW_MS_DEFAULT - S_EDGE_MS; break;
        case ENV_SKEW_FUTURE: env.timestamp_ms += TLY_SKEW_MS_DEFAULT + S_EDGE_MS; break;
        case ENV_SKEW_ZERO: env.timestamp_ms = 0; break;
        case ENV_SKEW_MIN: env.timestamp_ms = INT64_MIN; break;
        case ENV_SKEW_MAX: env.timestamp_ms = INT64_MAX; break;
        case ENV_ID_OLD_EDGE:
            tly_message_id_stamp (msg.id, tly_now_ms () - TLY_DEDUPE_WINDOW_MS_DEFAULT + S_EDGE_MS);
            break;
        case ENV_ID_OLD:
            tly_message_id_stamp (msg.id, tly_now_ms () - TLY_DEDUPE_WINDOW_MS_DEFAULT - S_EDGE_MS);
            break;
        case ENV_ID_AHEAD_EDGE:
            tly_message_id_stamp (msg.id, tly_now_ms () + TLY_DEDUPE_WINDOW_MS_DEFAULT - S_EDGE_MS);
            break;
        case ENV_ID_AHEAD:
            tly_message_id_stamp (msg.id, tly_now_ms () + TLY_DEDUPE_WINDOW_MS_DEFAULT + S_EDGE_MS);
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
        default: th_fail (__FILE__, __LINE__, "no envelope variant %d", row->variant);
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
    tally__client_reply__free_unpacked (reply, NULL);
    free (many);
    free (item);
}

//  An Envelope written byte by byte: a buy whose amount is a varint of 11
//  bytes (more than 64 bits), signed by the subject.
static void
s_run_amount_varint (s_ctx_t *ctx, const s_row_t *row, s_got_t *got)
{
    (void) row;
    tly_msg_t msg;
    CHECK (tly_msg_buy (&msg, "item-bad", 1) == 0);
    s_buf_t buy = { NULL, 0, 0 };
    s_put_field (&buy, 1, "item-bad", 8);
    static const uint8_t amount [] = { 0x10, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    s_put (&buy, amount, sizeof amount);
    s_buf_t message = { NULL, 0, 0 };
    s_put_field (&message, 1, msg.id, TLY_MESSAGE_ID_BYTES);
    s_put_field (&message, 3, buy.data, buy.size);
    s_buf_t envelope = { NULL, 0, 0 };
    s_put_field (&envelope, 1, ctx->subject.user.account.sign_pk, TLY_KEY_BYTES);
    s_put_field (&envelope, 2, ctx->cluster->worker.sign_pk, TLY_KEY_BYTES);
    s_put_varint (&envelope, 3 << 3);
    s_put_varint (&envelope, (uint64_t) tly_now_ms ());
    s_put_field (&envelope, 4, message.data, message.size);
    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_envelope (ctx->subject.user.account.sign_sk, envelope.data, envelope.size, signature);
    s_buf_t sealed = { NULL, 0, 0 };
    s_put_field (&sealed, 1, envelope.data, envelope.size);
    s_put_field (&sealed, 2, signature, sizeof signature);
    uint64_t request_id = ++ctx->request_id;
    s_buf_t frame = s_send_frame (&sealed, request_id, 0);
    tally__client_reply__free_unpacked (s_exchange (ctx, &frame, request_id, got), NULL);
    free (buy.data);
    free (message.data);
    free (envelope.data);
    free (sealed.data);
    free (frame.data);
}

//  ---------------------------------------------------------------- raw frames

//  The largest frame a client can send the gateway: ZMQ_MAXMSGSIZE
//  (TLY_FRAME_HARD_MAX) applies to what arrives on the wire, which under
//  CURVE is the frame inside a MESSAGE command: the command's name (8
//  bytes), a nonce (8), the box's MAC (16) and a flags byte.
#define S_CURVE_OVERHEAD 33

static size_t
s_hard_max (void)
{
    return TLY_FRAME_HARD_MAX - (it_gateway_key ? S_CURVE_OVERHEAD : 0);
}

enum {
    RAW_EMPTY,
    RAW_NOT_PROTOBUF,
    RAW_CUT_ONE,
    RAW_CUT_HALF,
    RAW_FIELD_0,
    RAW_WIRE_7,
    RAW_GROUP,
    RAW_FIELD_HUGE,
    RAW_VARINT_11,
    RAW_OVERRUN,
    RAW_WRONG_TYPE,
    RAW_NO_BODY,
    RAW_UNKNOWN_BODY,
    RAW_ENVELOPE_JUNK,
    RAW_UNKNOWN_FIELD,
    RAW_PING,
    RAW_STATUS,
    RAW_TWO_FRAMES,
    RAW_HARD_MAX,
    RAW_UNSUBSCRIBE_NUL,
    RAW_UNSUBSCRIBE_UTF8,
    RAW_UNSUBSCRIBE_GARBAGE,
    RAW_UNSUBSCRIBE_UNFOLLOWED
};

//  A ping's ClientRequest, request_id first.
static s_buf_t
s_ping_frame (uint64_t request_id)
{
    s_buf_t frame = { NULL, 0, 0 };
    s_put_varint (&frame, 1 << 3);
    s_put_varint (&frame, request_id);
    s_put_field (&frame, 6, NULL, 0);
    return frame;
}

static s_buf_t
s_unsubscribe_frame (uint64_t request_id, const char *object_id)
{
    Tally__Unsubscribe unsubscribe = TALLY__UNSUBSCRIBE__INIT;
    unsubscribe.object_id = (char *) object_id;
    Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
    request.request_id = request_id;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_UNSUBSCRIBE;
    request.unsubscribe = &unsubscribe;
    return s_packed (&request.base);
}

static void
s_run_raw (s_ctx_t *ctx, const s_row_t *row, s_got_t *got)
{
    uint64_t request_id = ++ctx->request_id;
    s_buf_t frame = { NULL, 0, 0 };
    static const uint8_t field_0 [] = { 0x85, 0x00, 0x00, 0x00, 0x00, 0x00 };
    static const uint8_t wire_7 [] = { 0x7f };
    static const uint8_t group [] = { 0x7b, 0x7c };
    static const uint8_t field_huge [] = { 0x80, 0x80, 0x80, 0x80, 0x10, 0x00 };
    static const uint8_t overrun [] = { 0x12, 0x64, 0x01, 0x02, 0x03 };
    static const uint8_t wrong_type [] = { 0x10, 0x01 };
    static const uint8_t unknown [] = { 0x78, 0x2a };
    switch (row->variant) {
        case RAW_EMPTY: break;
        case RAW_NOT_PROTOBUF: {
            static const uint8_t junk [] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
            s_put (&frame, junk, sizeof junk);
            break;
        }
        case RAW_CUT_ONE:
        case RAW_CUT_HALF: {
            s_env_t env;
            tly_msg_t msg;
            s_env_default (ctx, &env, &msg);
            s_buf_t sealed = s_env_sealed (&env);
            frame = s_send_frame (&sealed, request_id, 0);
            free (sealed.data);
            frame.size = row->variant == RAW_CUT_ONE ? frame.size - 1 : frame.size / 2;
            break;
        }
        case RAW_FIELD_0:
        case RAW_WIRE_7:
        case RAW_GROUP:
        case RAW_FIELD_HUGE:
        case RAW_UNKNOWN_FIELD:
            frame = s_ping_frame (request_id);
            if (row->variant == RAW_FIELD_0)
                s_put (&frame, field_0, sizeof field_0);
            else if (row->variant == RAW_WIRE_7)
                s_put (&frame, wire_7, sizeof wire_7);
            else if (row->variant == RAW_GROUP)
                s_put (&frame, group, sizeof group);
            else if (row->variant == RAW_FIELD_HUGE)
                s_put (&frame, field_huge, sizeof field_huge);
            else
                s_put (&frame, unknown, sizeof unknown);
            break;
        case RAW_VARINT_11: {
            static const uint8_t varint_11 [] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                  0xff, 0xff, 0xff, 0xff, 0x01, 0x32, 0x00 };
            s_put (&frame, varint_11, sizeof varint_11);
            break;
        }
        case RAW_OVERRUN:
            s_put_varint (&frame, 1 << 3);
            s_put_varint (&frame, request_id);
            s_put (&frame, overrun, sizeof overrun);
            break;
        case RAW_WRONG_TYPE:
            s_put_varint (&frame, 1 << 3);
            s_put_varint (&frame, request_id);
            s_put (&frame, wrong_type, sizeof wrong_type);
            break;
        case RAW_NO_BODY:
            s_put_varint (&frame, 1 << 3);
            s_put_varint (&frame, request_id);
            break;
        case RAW_UNKNOWN_BODY:
            s_put_varint (&frame, 1 << 3);
            s_put_varint (&frame, request_id);
            s_put_field (&frame, 7, "\x08\x01", 2);
            break;
        case RAW_ENVELOPE_JUNK: {
            static const uint8_t junk [] = { 0xff, 0xff, 0xff };
            s_buf_t sealed = { NULL, 0, 0 };
            s_put_field (&sealed, 1, junk, sizeof junk);
            uint8_t signature [TLY_SIGNATURE_BYTES] = { 0 };
            s_put_field (&sealed, 2, signature, sizeof signature);
            frame = s_send_frame (&sealed, request_id, 0);
            free (sealed.data);
            break;
        }
        case RAW_PING: frame = s_ping_frame (request_id); break;
        case RAW_STATUS:
            s_put_varint (&frame, 1 << 3);
            s_put_varint (&frame, request_id);
            s_put_field (&frame, 3, NULL, 0);
            break;
        case RAW_TWO_FRAMES: {
            zmsg_t *two = zmsg_new ();
            s_buf_t ping = s_ping_frame (request_id);
            zmsg_addmem (two, ping.data, ping.size);
            zmsg_addmem (two, ping.data, ping.size);
            free (ping.data);
            CHECK (zmsg_send (&two, ctx->probe) == 0);
            Tally__ClientReply *reply = s_await (ctx->probe, request_id);
            s_got_reply (got, reply);
            tally__client_reply__free_unpacked (reply, NULL);
            return;
        }
        case RAW_HARD_MAX:  //  junk, exactly ZMQ_MAXMSGSIZE: read, refused by size
            frame.size = s_hard_max ();
            frame.data = calloc (1, frame.size);
            CHECK (frame.data);
            memset (frame.data, 0xff, frame.size);
            break;
        case RAW_UNSUBSCRIBE_NUL:
            frame = s_unsubscribe_frame (request_id, "co_zabXcd");
            s_patch_nul (&frame, "co_zabXcd");
            break;
        case RAW_UNSUBSCRIBE_UTF8: frame = s_unsubscribe_frame (request_id, "co_z\xff\xfe"); break;
        case RAW_UNSUBSCRIBE_GARBAGE:
            frame = s_unsubscribe_frame (request_id, "co_zunknown");
            break;
        case RAW_UNSUBSCRIBE_UNFOLLOWED: {
            char balance_id [TLY_ID_MAX];
            tly_balance_id (ctx->victim.user.account.sign_pk, TLY_PARTITIONS_DEFAULT, balance_id);
            frame = s_unsubscribe_frame (request_id, balance_id);
            break;
        }
        default: th_fail (__FILE__, __LINE__, "no raw variant %d", row->variant);
    }
    Tally__ClientReply *reply = s_exchange (ctx, &frame, request_id, got);
    if (row->variant == RAW_STATUS && got->code == TALLY__ERROR_CODE__OK)
        CHECK (reply->status && reply->status->ready);
    tally__client_reply__free_unpacked (reply, NULL);
    free (frame.data);
}

//  Frames the gateway's connection cannot carry: one byte over
//  ZMQ_MAXMSGSIZE on a ZeroMQ socket, and bytes that are not ZMTP at all.
//  Either way libzmq closes the connection, with no answer.
enum {
    CLOSED_OVER_HARD_MAX,
    CLOSED_NOT_ZMTP,
    CLOSED_HTTP
};

//  libzmq's default ZMQ_HANDSHAKE_IVL: how long a connection may take to
//  complete its ZMTP greeting.
#define S_HANDSHAKE_MS 30000

//  A plain TCP connection to the gateway's port, which has sent bytes.
static int
s_tcp_connect (s_ctx_t *ctx, const void *bytes, size_t size)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_port = htons ((uint16_t) ctx->cluster->base_port),
                                   .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    CHECK (connect (fd, (struct sockaddr *) &address, sizeof address) == 0);
    CHECK (write (fd, bytes, size) == (ssize_t) size);
    return fd;
}

//  Reads what the gateway sends on fd until it closes the connection (true)
//  or timeout_ms pass (false). libzmq greets first (ZMTP's signature); no
//  answer ever comes.
static bool
s_tcp_closed (int fd, int timeout_ms)
{
    int64_t deadline = tly_mono_ms () + timeout_ms;
    for (;;) {
        int64_t left = deadline - tly_mono_ms ();
        if (left <= 0)
            return false;
        struct timeval wait = { (time_t) (left / 1000), (suseconds_t) (left % 1000) * 1000 };
        CHECK (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait) == 0);
        char bytes [256];
        ssize_t size = read (fd, bytes, sizeof bytes);
        if (size == 0 || (size == -1 && errno == ECONNRESET))
            return true;
        if (size == -1 && errno != EAGAIN && errno != EINTR)
            th_fail (__FILE__, __LINE__, "read from the gateway: %s", strerror (errno));
    }
}

static void
s_run_closed (s_ctx_t *ctx, const s_row_t *row, s_got_t *got)
{
    got->code = TALLY__ERROR_CODE__INTERNAL;
    snprintf (got->message, sizeof got->message, "connection still open");
    if (row->variant == CLOSED_NOT_ZMTP) {
        uint8_t junk [64];
        memset (junk, 0xff, sizeof junk);
        int fd = s_tcp_connect (ctx, junk, sizeof junk);
        if (s_tcp_closed (fd, S_TIMEOUT_MS)) {
            got->code = S_CLOSED;
            snprintf (got->message, sizeof got->message, "connection closed by the gateway");
        }
        close (fd);
        return;
    }
    if (row->variant == CLOSED_HTTP) {
        //  Opened when the table started: libzmq reads "GET ..." as the
        //  start of a ZMTP 1.0 greeting and closes the connection at the
        //  latest when its handshake interval (ZMQ_HANDSHAKE_IVL, 30 s)
        //  ends; a CURVE socket, which takes no ZMTP 1.0 peer, sooner.
        CHECK (ctx->http_fd >= 0);
        int64_t left = ctx->http_opened_ms + S_HANDSHAKE_MS + S_TIMEOUT_MS - tly_mono_ms ();
        if (s_tcp_closed (ctx->http_fd, left > 0 ? (int) left : 0)) {
            got->code = S_CLOSED;
            snprintf (got->message, sizeof got->message, "connection closed by the gateway");
            printf ("HTTP on the gateway's port: closed %" PRId64 " ms after it connected\n",
                    tly_mono_ms () - ctx->http_opened_ms);
        }
        close (ctx->http_fd);
        ctx->http_fd = -1;
        return;
    }
    zsock_t *sock = s_dealer (ctx->cluster->gateway);
    zsock_t *monitor = zsock_new (ZMQ_PAIR);
    CHECK (monitor);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://it-bad-input-monitor-%" PRIu64,
              ++ctx->request_id);
    CHECK (zmq_socket_monitor (zsock_resolve (sock), endpoint,
                               ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED)
           == 0);
    CHECK (zsock_connect (monitor, "%s", endpoint) == 0);
    //  Learn the connection is up (a status answered), then send the frame.
    s_buf_t status = { NULL, 0, 0 };
    uint64_t request_id = ++ctx->request_id;
    s_put_varint (&status, 1 << 3);
    s_put_varint (&status, request_id);
    s_put_field (&status, 3, NULL, 0);
    s_send (sock, status.data, status.size);
    tally__client_reply__free_unpacked (s_await (sock, request_id), NULL);
    free (status.data);
    uint8_t *junk = malloc (s_hard_max () + 1);
    CHECK (junk);
    memset (junk, 0xff, s_hard_max () + 1);
    s_send (sock, junk, s_hard_max () + 1);
    free (junk);
    zpoller_t *poller = zpoller_new (monitor, sock, NULL);
    int64_t deadline = tly_mono_ms () + S_TIMEOUT_MS;
    bool closed = false;
    while (!closed && tly_mono_ms () < deadline) {
        void *which = zpoller_wait (poller, (int) (deadline - tly_mono_ms ()));
        if (which == sock) {
            zframe_t *answer = zframe_recv (sock);
            zframe_destroy (&answer);
            got->code = TALLY__ERROR_CODE__INTERNAL;
            snprintf (got->message, sizeof got->message, "answered");
            break;
        }
        if (which == monitor) {
            zmsg_t *event = zmsg_recv (monitor);
            zframe_t *head = zmsg_first (event);
            uint16_t kind = 0;
            if (head && zframe_size (head) >= sizeof kind)
                memcpy (&kind, zframe_data (head), sizeof kind);
            zmsg_destroy (&event);
            closed = kind == ZMQ_EVENT_DISCONNECTED;
        }
    }
    if (closed) {
        got->code = S_CLOSED;
        snprintf (got->message, sizeof got->message, "connection closed by the gateway");
    }
    zpoller_destroy (&poller);
    zmq_socket_monitor (zsock_resolve (sock), NULL, 0);
    zsock_destroy (&monitor);
    zsock_destroy (&sock);
}

//  ---------------------------------------------------------------- replays

enum {
    REPLAY_SAME_BYTES,
    REPLAY_AFTER_OTHERS,
    REPLAY_RESIGNED
};

//  The same message sent again: its first result, once.
static void
s_run_replay (s_ctx_t *ctx, const s_row_t *row, s_got_t *got)
{
    tly_msg_t msg;
    CHECK (tly_msg_buy (&msg, "item-replay", 1) == 0);
    uint8_t *bytes;
    size_t size;
    CHECK (tly_sender_seal (ctx->subject.sender, &msg, 1, tly_now_ms (), &bytes, &size) == 0);
    s_buf_t sealed = { bytes, size, size };
    uint64_t request_id = ++ctx->request_id;
    s_buf_t frame = s_send_frame (&sealed, request_id, 0);
    s_got_t first_got;
    Tally__ClientReply *first = s_exchange (ctx, &frame, request_id, &first_got);
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
            sealed = (s_buf_t) { bytes, size, size };
        }
        free (frame.data);
        request_id = ++ctx->request_id;
        frame = s_send_frame (&sealed, request_id, 0);
        again = s_exchange (ctx, &frame, request_id, got);
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

//  ---------------------------------------------------------------- subscribes

typedef struct {
    const tly_account_t *signer;  //  NULL: 64 zero bytes
    tly_domain_t domain;
    uint8_t reader [48];
    size_t reader_len;
    const char *object_id;
    int64_t timestamp_ms;
    size_t signature_len;
    bool flip;
    const char *nul;  //  text of the Subscribe whose 'X' becomes NUL (signed)
    bool garbage;     //  Subscribe bytes that are no Subscribe
} s_sub_t;

static s_buf_t
s_subscribe_frame (const s_sub_t *sub, uint64_t request_id)
{
    Tally__Subscribe subscribe = TALLY__SUBSCRIBE__INIT;
    subscribe.reader = (ProtobufCBinaryData) { sub->reader_len, (uint8_t *) sub->reader };
    subscribe.object_id = (char *) sub->object_id;
    subscribe.timestamp_ms = sub->timestamp_ms;
    s_buf_t bytes = s_packed (&subscribe.base);
    if (sub->nul)
        s_patch_nul (&bytes, sub->nul);
    if (sub->garbage) {
        bytes.size = 0;
        s_put (&bytes, "\xff\xff\xff", 3);
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
    s_buf_t frame = s_packed (&request.base);
    free (bytes.data);
    return frame;
}

static void
s_sub_default (const it_user_t *reader, const char *object_id, s_sub_t *sub)
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
static void
s_subscribe (zsock_t *sock, const s_sub_t *sub, uint64_t request_id, s_got_t *got)
{
    s_buf_t frame = s_subscribe_frame (sub, request_id);
    s_send (sock, frame.data, frame.size);
    free (frame.data);
    Tally__ClientReply *reply = s_await (sock, request_id);
    s_got_reply (got, reply);
    if (got->code == TALLY__ERROR_CODE__OK)
        CHECK (reply->object && reply->object->state.len > 0);
    tally__client_reply__free_unpacked (reply, NULL);
}

static void
s_unsubscribe (zsock_t *sock, const char *object_id, uint64_t request_id)
{
    s_buf_t frame = s_unsubscribe_frame (request_id, object_id);
    s_send (sock, frame.data, frame.size);
    free (frame.data);
    Tally__ClientReply *reply = s_await (sock, request_id);
    CHECK (reply->request_id == request_id && !reply->error);
    tally__client_reply__free_unpacked (reply, NULL);
}

enum {
    SUB_OWN,
    SUB_SERVICE,
    SUB_FLIP,
    SUB_OTHER_KEY,
    SUB_OTHER_DOMAIN,
    SUB_ZERO_SIGNATURE,
    SUB_READER_31,
    SUB_READER_33,
    SUB_SIGNATURE_63,
    SUB_GARBAGE,
    SUB_SKEW_PAST_EDGE,
    SUB_SKEW_PAST,
    SUB_SKEW_FUTURE_EDGE,
    SUB_SKEW_FUTURE,
    SUB_VICTIM_BALANCE,
    SUB_VICTIM_ROOT,
    SUB_VICTIM_PURCHASE,
    SUB_NEVER_CREATED,
    SUB_NO_PURCHASE,
    SUB_PARTITION_LAST,
    SUB_PARTITION_OVER,
    SUB_PARTITION_MAX,
    SUB_KIND_UNKNOWN,
    SUB_GROUP,
    SUB_ID_MAX,
    SUB_ID_HUGE,
    SUB_ID_UTF8,
    SUB_ID_NUL,
    SUB_ID_EMPTY
};

static void
s_run_subscribe (s_ctx_t *ctx, const s_row_t *row, s_got_t *got)
{
    const it_user_t *subject = &ctx->subject.user;
    char object_id [TLY_ID_MAX];
    tly_balance_id (subject->account.sign_pk, TLY_PARTITIONS_DEFAULT, object_id);
    char *long_id = calloc (1, 8192);
    CHECK (long_id);
    s_sub_t sub;
    s_sub_default (subject, object_id, &sub);
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
        case SUB_SKEW_PAST_EDGE: sub.timestamp_ms -= TLY_SKEW_MS_DEFAULT - S_EDGE_MS; break;
        case SUB_SKEW_PAST: sub.timestamp_ms -= TLY_SKEW_MS_DEFAULT + S_EDGE_MS; break;
        case SUB_SKEW_FUTURE_EDGE: sub.timestamp_ms += TLY_SKEW_MS_DEFAULT - S_EDGE_MS; break;
        case SUB_SKEW_FUTURE: sub.timestamp_ms += TLY_SKEW_MS_DEFAULT + S_EDGE_MS; break;
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
            s_item_of (long_id, 8192, 'z', TLY_ID_MAX - 4, "");
            memcpy (long_id, "co_z", 4);
            sub.object_id = long_id;
            break;
        case SUB_ID_HUGE:
            s_item_of (long_id, 8192, 'z', 4096, "");
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
    s_subscribe (ctx->watch, &sub, request_id, got);
    if (got->code == TALLY__ERROR_CODE__OK)
        s_unsubscribe (ctx->watch, sub.object_id, ++ctx->request_id);
    free (long_id);
}

//  ---------------------------------------------------------------- subscriptions per client

enum {
    MANY_AT_LIMIT,
    MANY_OVER,
    MANY_AGAIN
};

//  Users enough that the worker can follow TLY_SUBSCRIPTIONS_DEFAULT + 1
//  objects: each has a balance, a root, a purchase log and its purchases.
enum {
    S_FILLERS = 10,
    S_FILLER_BUYS = 100
};

static void
s_many_objects (s_ctx_t *ctx)
{
    size_t capacity = S_FILLERS * (3 + S_FILLER_BUYS);
    CHECK (capacity > TLY_SUBSCRIPTIONS_DEFAULT);
    ctx->objects = calloc (capacity, sizeof *ctx->objects);
    CHECK (ctx->objects);
    tly_msg_t *buys = calloc (S_FILLER_BUYS, sizeof *buys);
    tly_result_t *results = calloc (S_FILLER_BUYS, sizeof *results);
    CHECK (buys && results);
    for (int filler = 0; filler < S_FILLERS; filler++) {
        s_client_t client = { .sender = NULL };
        s_client_new (ctx, &client);
        const uint8_t *key = client.user.account.sign_pk;
        tly_balance_id (key, TLY_PARTITIONS_DEFAULT, ctx->objects [ctx->object_count++]);
        tly_root_id (key, TLY_PARTITIONS_DEFAULT, ctx->objects [ctx->object_count++]);
        tly_purchases_id (key, TLY_PARTITIONS_DEFAULT, ctx->objects [ctx->object_count++]);
        for (int i = 0; i < S_FILLER_BUYS; i++)
            CHECK (tly_msg_buy (&buys [i], "item-filler", 1) == 0);
        CHECK (tly_sender_send (client.sender, buys, S_FILLER_BUYS, S_TIMEOUT_MS, results) == 0);
        for (int i = 0; i < S_FILLER_BUYS; i++) {
            CHECK (results [i].ok);
            snprintf (ctx->objects [ctx->object_count++], TLY_ID_MAX, "%s", results [i].id);
        }
        tly_sender_destroy (&client.sender);
    }
    free (buys);
    free (results);
}

static void
s_run_many (s_ctx_t *ctx, const s_row_t *row, s_got_t *got)
{
    it_user_t worker = { .account = ctx->cluster->worker };
    s_sub_t sub;
    got->code = TALLY__ERROR_CODE__OK;
    if (row->variant == MANY_AT_LIMIT) {
        s_many_objects (ctx);
        ctx->many = s_dealer (ctx->cluster->gateway);
        //  Pipelined, a window of them in flight.
        enum {
            WINDOW = 64
        };
        uint64_t first_id = ctx->request_id + 1;
        ctx->request_id += TLY_SUBSCRIPTIONS_DEFAULT;
        size_t sent = 0, answered = 0;
        while (answered < TLY_SUBSCRIPTIONS_DEFAULT) {
            while (sent < TLY_SUBSCRIPTIONS_DEFAULT && sent - answered < WINDOW) {
                s_sub_default (&worker, ctx->objects [sent], &sub);
                s_buf_t frame = s_subscribe_frame (&sub, first_id + sent);
                s_send (ctx->many, frame.data, frame.size);
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
                s_got_t one;
                s_got_reply (&one, reply);
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
    s_sub_default (&worker, object_id, &sub);
    s_subscribe (ctx->many, &sub, ++ctx->request_id, got);
    if (row->variant == MANY_AGAIN) {  //  the last row of the limit: every one ended
        for (size_t i = 0; i < TLY_SUBSCRIPTIONS_DEFAULT; i++)
            s_unsubscribe (ctx->many, ctx->objects [i], ++ctx->request_id);
        zsock_destroy (&ctx->many);
    }
}

//  ---------------------------------------------------------------- the table

#define ROW(class, request, expected, debit, run, variant) \
    {                                                      \
        class, request, expected, debit, run, variant      \
    }
#define E(code) TALLY__ERROR_CODE__##code

static const s_row_t s_rows [] = {
    ROW ("valid", "a buy as the SDK signs it", E (OK), 1, s_run_envelope, ENV_VALID),
    ROW ("valid", "ping", E (OK), 0, s_run_raw, RAW_PING),
    ROW ("valid", "status", E (OK), 0, s_run_raw, RAW_STATUS),

    ROW ("malformed", "empty frame", E (BAD_REQUEST), 0, s_run_raw, RAW_EMPTY),
    ROW ("malformed", "not protobuf (0xff x 9)", E (BAD_REQUEST), 0, s_run_raw, RAW_NOT_PROTOBUF),
    ROW ("malformed", "send frame cut by its last byte", E (BAD_REQUEST), 0, s_run_raw,
         RAW_CUT_ONE),
    ROW ("malformed", "send frame cut in half", E (BAD_REQUEST), 0, s_run_raw, RAW_CUT_HALF),
    ROW ("malformed", "field number 0", E (BAD_REQUEST), 0, s_run_raw, RAW_FIELD_0),
    ROW ("malformed", "wire type 7", E (BAD_REQUEST), 0, s_run_raw, RAW_WIRE_7),
    ROW ("malformed", "group wire type (3, 4)", E (BAD_REQUEST), 0, s_run_raw, RAW_GROUP),
    ROW ("malformed", "field number over 2^29 - 1", E (BAD_REQUEST), 0, s_run_raw, RAW_FIELD_HUGE),
    ROW ("malformed", "varint of 11 bytes (request_id)", E (BAD_REQUEST), 0, s_run_raw,
         RAW_VARINT_11),
    ROW ("malformed", "length past the frame's end", E (BAD_REQUEST), 0, s_run_raw, RAW_OVERRUN),
    ROW ("malformed", "known field, wrong wire type", E (BAD_REQUEST), 0, s_run_raw,
         RAW_WRONG_TYPE),
    ROW ("malformed", "two data frames", E (BAD_REQUEST), 0, s_run_raw, RAW_TWO_FRAMES),
    ROW ("malformed", "well-formed unknown field (ignored)", E (OK), 0, s_run_raw,
         RAW_UNKNOWN_FIELD),
    ROW ("malformed", "envelope bytes that are no Envelope", E (BAD_REQUEST), 0, s_run_raw,
         RAW_ENVELOPE_JUNK),
    ROW ("malformed", "signed envelope: field number 0", E (BAD_REQUEST), 0, s_run_envelope,
         ENV_TAIL_FIELD_0),
    ROW ("malformed", "signed envelope: wire type 7", E (BAD_REQUEST), 0, s_run_envelope,
         ENV_TAIL_WIRE_7),
    ROW ("malformed", "signed envelope: group wire type", E (BAD_REQUEST), 0, s_run_envelope,
         ENV_TAIL_GROUP),
    ROW ("malformed", "signed envelope: field number over 2^29 - 1", E (BAD_REQUEST), 0,
         s_run_envelope, ENV_TAIL_FIELD_HUGE),
    ROW ("malformed", "signed envelope: varint of 11 bytes", E (BAD_REQUEST), 0, s_run_envelope,
         ENV_TAIL_VARINT_11),
    ROW ("malformed", "signed envelope: length past its end", E (BAD_REQUEST), 0, s_run_envelope,
         ENV_TAIL_OVERRUN),
    ROW ("malformed", "signed envelope: sender as fixed32", E (BAD_REQUEST), 0, s_run_envelope,
         ENV_TAIL_WRONG_TYPE),
    ROW ("malformed", "signed envelope: cut by its last byte", E (BAD_REQUEST), 0, s_run_envelope,
         ENV_CUT),
    ROW ("malformed", "signed envelope: well-formed unknown field", E (OK), 1, s_run_envelope,
         ENV_TAIL_UNKNOWN),

    ROW ("unknown type", "request body field 7", E (BAD_REQUEST), 0, s_run_raw, RAW_UNKNOWN_BODY),
    ROW ("unknown type", "request with no body", E (BAD_REQUEST), 0, s_run_raw, RAW_NO_BODY),
    ROW ("unknown type", "message body field 9", E (BAD_REQUEST), 0, s_run_envelope,
         ENV_UNKNOWN_BODY),
    ROW ("unknown type", "message with no body", E (BAD_REQUEST), 0, s_run_envelope, ENV_NO_BODY),

    ROW ("limits", "frame of 131072 bytes (--max-frame)", E (OK), 1, s_run_envelope, ENV_FRAME_MAX),
    ROW ("limits", "frame of 131073 bytes", E (FRAME_TOO_LARGE), 0, s_run_envelope, ENV_FRAME_OVER),
    ROW ("limits", "frame of 4 MiB less CURVE's 33 bytes (MAXMSGSIZE)", E (FRAME_TOO_LARGE), 0,
         s_run_raw, RAW_HARD_MAX),
    ROW ("limits", "frame of 4 MiB less 32 bytes", S_CLOSED, 0, s_run_closed, CLOSED_OVER_HARD_MAX),
    ROW ("limits", "not ZeroMQ: 0xff x 64 on the gateway's port", S_CLOSED, 0, s_run_closed,
         CLOSED_NOT_ZMTP),
    ROW ("limits", "sender of 0 bytes", E (BAD_REQUEST), 0, s_run_envelope, ENV_SENDER_0),
    ROW ("limits", "sender of 31 bytes", E (BAD_REQUEST), 0, s_run_envelope, ENV_SENDER_31),
    ROW ("limits", "sender of 33 bytes", E (BAD_REQUEST), 0, s_run_envelope, ENV_SENDER_33),
    ROW ("limits", "inbox of 31 bytes", E (BAD_REQUEST), 0, s_run_envelope, ENV_INBOX_31),
    ROW ("limits", "inbox of 33 bytes", E (BAD_REQUEST), 0, s_run_envelope, ENV_INBOX_33),
    ROW ("limits", "signature of 0 bytes", E (BAD_REQUEST), 0, s_run_envelope, ENV_SIGNATURE_0),
    ROW ("limits", "signature of 63 bytes", E (BAD_REQUEST), 0, s_run_envelope, ENV_SIGNATURE_63),
    ROW ("limits", "signature of 65 bytes", E (BAD_REQUEST), 0, s_run_envelope, ENV_SIGNATURE_65),
    ROW ("limits", "message ID of 0 bytes", E (BAD_REQUEST), 0, s_run_envelope, ENV_ID_0),
    ROW ("limits", "message ID of 15 bytes", E (BAD_REQUEST), 0, s_run_envelope, ENV_ID_15),
    ROW ("limits", "message ID of 17 bytes", E (BAD_REQUEST), 0, s_run_envelope, ENV_ID_17),
    ROW ("limits", "envelope of 0 messages", E (BAD_REQUEST), 0, s_run_envelope, ENV_BATCH_0),
    ROW ("limits", "envelope of 256 messages", E (OK), 0, s_run_envelope, ENV_BATCH_MAX),
    ROW ("limits", "envelope of 257 messages", E (BATCH_TOO_LARGE), 0, s_run_envelope,
         ENV_BATCH_OVER),
    ROW ("limits", "one message ID twice in an envelope", E (DUPLICATE_MESSAGE_ID), 0,
         s_run_envelope, ENV_DUPLICATE_ID),
    ROW ("limits", "item ID of 0 bytes", E (INVALID_ITEM), 0, s_run_envelope, ENV_ITEM_EMPTY),
    ROW ("limits", "item ID of 128 bytes", E (OK), 1, s_run_envelope, ENV_ITEM_MAX),
    ROW ("limits", "item ID of 129 bytes", E (INVALID_ITEM), 0, s_run_envelope, ENV_ITEM_OVER),
    ROW ("limits", "item ID of 128 bytes ending in a 3-byte character", E (OK), 1, s_run_envelope,
         ENV_ITEM_MAX_UTF8),
    ROW ("limits", "item ID of 129 bytes ending in a 3-byte character", E (INVALID_ITEM), 0,
         s_run_envelope, ENV_ITEM_OVER_UTF8),
    ROW ("limits", "item ID of 4096 bytes", E (INVALID_ITEM), 0, s_run_envelope, ENV_ITEM_HUGE),

    ROW ("NUL", "item ID \"ab\\0cd\"", E (BAD_REQUEST), 0, s_run_envelope, ENV_ITEM_NUL),
    ROW ("NUL", "item ID of one NUL byte", E (BAD_REQUEST), 0, s_run_envelope, ENV_ITEM_ONLY_NUL),
    ROW ("NUL", "subscribe: object ID with a NUL", E (BAD_REQUEST), 0, s_run_subscribe, SUB_ID_NUL),
    ROW ("NUL", "unsubscribe: object ID with a NUL", E (BAD_REQUEST), 0, s_run_raw,
         RAW_UNSUBSCRIBE_NUL),

    ROW ("UTF-8", "item ID: lone continuation byte", E (INVALID_ITEM), 0, s_run_envelope,
         ENV_ITEM_CONTINUATION),
    ROW ("UTF-8", "item ID: overlong form", E (INVALID_ITEM), 0, s_run_envelope, ENV_ITEM_OVERLONG),
    ROW ("UTF-8", "item ID: surrogate", E (INVALID_ITEM), 0, s_run_envelope, ENV_ITEM_SURROGATE),
    ROW ("UTF-8", "item ID: above U+10FFFF", E (INVALID_ITEM), 0, s_run_envelope,
         ENV_ITEM_ABOVE_MAX),
    ROW ("UTF-8", "item ID: truncated sequence", E (INVALID_ITEM), 0, s_run_envelope,
         ENV_ITEM_TRUNCATED),
    ROW ("UTF-8", "item ID: 0xff 0xfe", E (INVALID_ITEM), 0, s_run_envelope, ENV_ITEM_FF),
    ROW ("UTF-8", "subscribe: object ID not UTF-8", E (NOT_FOUND), 0, s_run_subscribe, SUB_ID_UTF8),
    ROW ("UTF-8", "unsubscribe: object ID not UTF-8", E (NOT_FOUND), 0, s_run_raw,
         RAW_UNSUBSCRIBE_UTF8),

    ROW ("replayed", "the same signed bytes 3 more times", E (OK), 1, s_run_replay,
         REPLAY_SAME_BYTES),
    ROW ("replayed", "the same bytes after another buy", E (OK), 2, s_run_replay,
         REPLAY_AFTER_OTHERS),
    ROW ("replayed", "the same message ID, newly signed", E (OK), 1, s_run_replay, REPLAY_RESIGNED),

    ROW ("skewed", "timestamp 29 s behind", E (OK), 1, s_run_envelope, ENV_SKEW_PAST_EDGE),
    ROW ("skewed", "timestamp 31 s behind", E (STALE_TIMESTAMP), 0, s_run_envelope, ENV_SKEW_PAST),
    ROW ("skewed", "timestamp 29 s ahead", E (OK), 1, s_run_envelope, ENV_SKEW_FUTURE_EDGE),
    ROW ("skewed", "timestamp 31 s ahead", E (STALE_TIMESTAMP), 0, s_run_envelope, ENV_SKEW_FUTURE),
    ROW ("skewed", "timestamp 0", E (STALE_TIMESTAMP), 0, s_run_envelope, ENV_SKEW_ZERO),
    ROW ("skewed", "timestamp INT64_MIN", E (STALE_TIMESTAMP), 0, s_run_envelope, ENV_SKEW_MIN),
    ROW ("skewed", "timestamp INT64_MAX", E (STALE_TIMESTAMP), 0, s_run_envelope, ENV_SKEW_MAX),

    ROW ("stale ID", "message ID made 59 s ago", E (OK), 1, s_run_envelope, ENV_ID_OLD_EDGE),
    ROW ("stale ID", "message ID made 61 s ago", E (STALE_MESSAGE_ID), 0, s_run_envelope,
         ENV_ID_OLD),
    ROW ("stale ID", "message ID made 59 s ahead", E (OK), 1, s_run_envelope, ENV_ID_AHEAD_EDGE),
    ROW ("stale ID", "message ID made 61 s ahead", E (STALE_MESSAGE_ID), 0, s_run_envelope,
         ENV_ID_AHEAD),

    ROW ("mis-addressed", "inbox of another worker", E (UNKNOWN_INBOX), 0, s_run_envelope,
         ENV_INBOX_STRANGER),
    ROW ("mis-addressed", "inbox of the sender itself", E (UNKNOWN_INBOX), 0, s_run_envelope,
         ENV_INBOX_SELF),
    ROW ("mis-addressed", "buy from an account never created", E (NO_ACCOUNT), 0, s_run_envelope,
         ENV_NO_ACCOUNT),
    ROW ("mis-addressed", "subscribe: another user's balance", E (PERMISSION_DENIED), 0,
         s_run_subscribe, SUB_VICTIM_BALANCE),
    ROW ("mis-addressed", "subscribe: another user's root", E (PERMISSION_DENIED), 0,
         s_run_subscribe, SUB_VICTIM_ROOT),
    ROW ("mis-addressed", "subscribe: another user's purchase", E (PERMISSION_DENIED), 0,
         s_run_subscribe, SUB_VICTIM_PURCHASE),
    ROW ("mis-addressed", "subscribe: a balance never created", E (NOT_FOUND), 0, s_run_subscribe,
         SUB_NEVER_CREATED),
    ROW ("mis-addressed", "subscribe: a purchase never made", E (NOT_FOUND), 0, s_run_subscribe,
         SUB_NO_PURCHASE),
    ROW ("mis-addressed", "subscribe: partition 255, no such object", E (NOT_FOUND), 0,
         s_run_subscribe, SUB_PARTITION_LAST),
    ROW ("mis-addressed", "subscribe: partition 256 (of 256)", E (NOT_FOUND), 0, s_run_subscribe,
         SUB_PARTITION_OVER),
    ROW ("mis-addressed", "subscribe: partition 65535", E (NOT_FOUND), 0, s_run_subscribe,
         SUB_PARTITION_MAX),
    ROW ("mis-addressed", "subscribe: object kind 9", E (NOT_FOUND), 0, s_run_subscribe,
         SUB_KIND_UNKNOWN),
    ROW ("mis-addressed", "subscribe: a group's ID", E (NOT_FOUND), 0, s_run_subscribe, SUB_GROUP),
    ROW ("mis-addressed", "subscribe: base58 text of 64 bytes", E (NOT_FOUND), 0, s_run_subscribe,
         SUB_ID_MAX),
    ROW ("mis-addressed", "subscribe: base58 text of 4096 bytes", E (NOT_FOUND), 0, s_run_subscribe,
         SUB_ID_HUGE),
    ROW ("mis-addressed", "subscribe: empty object ID", E (NOT_FOUND), 0, s_run_subscribe,
         SUB_ID_EMPTY),
    ROW ("mis-addressed", "unsubscribe: not an object ID", E (NOT_FOUND), 0, s_run_raw,
         RAW_UNSUBSCRIBE_GARBAGE),
    ROW ("mis-addressed", "unsubscribe: an object not followed", E (OK), 0, s_run_raw,
         RAW_UNSUBSCRIBE_UNFOLLOWED),

    ROW ("mis-signed", "one bit of the signature flipped", E (BAD_SIGNATURE), 0, s_run_envelope,
         ENV_FLIP),
    ROW ("mis-signed", "signature of 64 zero bytes", E (BAD_SIGNATURE), 0, s_run_envelope,
         ENV_ZERO_SIGNATURE),
    ROW ("mis-signed", "signed by another account's key", E (BAD_SIGNATURE), 0, s_run_envelope,
         ENV_OTHER_KEY),
    ROW ("mis-signed", "sender another user, signer not the sender", E (BAD_SIGNATURE), 0,
         s_run_envelope, ENV_VICTIM_SENDER),
    ROW ("mis-signed", "signed in the subscribe domain", E (BAD_SIGNATURE), 0, s_run_envelope,
         ENV_OTHER_DOMAIN),
    ROW ("mis-signed", "item changed after signing", E (BAD_SIGNATURE), 0, s_run_envelope,
         ENV_ALTERED),
    ROW ("mis-signed", "sender of 32 zero bytes", E (BAD_SIGNATURE), 0, s_run_envelope,
         ENV_ZERO_SENDER),

    ROW ("amounts", "buy of 0", E (INVALID_AMOUNT), 0, s_run_envelope, ENV_AMOUNT_ZERO),
    ROW ("amounts", "buy of -1", E (INVALID_AMOUNT), 0, s_run_envelope, ENV_AMOUNT_MINUS),
    ROW ("amounts", "buy of INT64_MIN", E (INVALID_AMOUNT), 0, s_run_envelope, ENV_AMOUNT_MIN),
    ROW ("amounts", "buy of 10^9 (the limit), more than the balance", E (INSUFFICIENT_BALANCE), 0,
         s_run_envelope, ENV_AMOUNT_MAX),
    ROW ("amounts", "buy of 10^9 + 1", E (INVALID_AMOUNT), 0, s_run_envelope, ENV_AMOUNT_OVER),
    ROW ("amounts", "buy of INT64_MAX", E (INVALID_AMOUNT), 0, s_run_envelope,
         ENV_AMOUNT_INT64_MAX),
    ROW ("amounts", "buy of the balance + 1", E (INSUFFICIENT_BALANCE), 0, s_run_envelope,
         ENV_AMOUNT_BALANCE_OVER),
    ROW ("amounts", "amount a varint of 11 bytes (overflow)", E (BAD_REQUEST), 0,
         s_run_amount_varint, 0),
    ROW ("amounts", "createAccount 100 (the limit)", E (OK), 0, s_run_envelope, ENV_INITIAL_MAX),
    ROW ("amounts", "createAccount 0", E (OK), 0, s_run_envelope, ENV_INITIAL_ZERO),
    ROW ("amounts", "createAccount 101", E (INVALID_INITIAL_BALANCE), 0, s_run_envelope,
         ENV_INITIAL_OVER),
    ROW ("amounts", "createAccount -1", E (INVALID_INITIAL_BALANCE), 0, s_run_envelope,
         ENV_INITIAL_MINUS),
    ROW ("amounts", "createAccount INT64_MIN", E (INVALID_INITIAL_BALANCE), 0, s_run_envelope,
         ENV_INITIAL_MIN),
    ROW ("amounts", "createAccount 100 again: no reset", E (OK), 0, s_run_envelope,
         ENV_INITIAL_AGAIN),

    ROW ("subscribe", "own balance", E (OK), 0, s_run_subscribe, SUB_OWN),
    ROW ("subscribe", "the public ServiceInfo", E (OK), 0, s_run_subscribe, SUB_SERVICE),
    ROW ("subscribe", "one bit of the signature flipped", E (BAD_SIGNATURE), 0, s_run_subscribe,
         SUB_FLIP),
    ROW ("subscribe", "signed by another account's key", E (BAD_SIGNATURE), 0, s_run_subscribe,
         SUB_OTHER_KEY),
    ROW ("subscribe", "signed in the envelope domain", E (BAD_SIGNATURE), 0, s_run_subscribe,
         SUB_OTHER_DOMAIN),
    ROW ("subscribe", "signature of 64 zero bytes", E (BAD_SIGNATURE), 0, s_run_subscribe,
         SUB_ZERO_SIGNATURE),
    ROW ("subscribe", "reader of 31 bytes", E (BAD_REQUEST), 0, s_run_subscribe, SUB_READER_31),
    ROW ("subscribe", "reader of 33 bytes", E (BAD_REQUEST), 0, s_run_subscribe, SUB_READER_33),
    ROW ("subscribe", "signature of 63 bytes", E (BAD_REQUEST), 0, s_run_subscribe,
         SUB_SIGNATURE_63),
    ROW ("subscribe", "subscribe bytes that are no Subscribe", E (BAD_REQUEST), 0, s_run_subscribe,
         SUB_GARBAGE),
    ROW ("subscribe", "timestamp 29 s behind", E (OK), 0, s_run_subscribe, SUB_SKEW_PAST_EDGE),
    ROW ("subscribe", "timestamp 31 s behind", E (STALE_TIMESTAMP), 0, s_run_subscribe,
         SUB_SKEW_PAST),
    ROW ("subscribe", "timestamp 29 s ahead", E (OK), 0, s_run_subscribe, SUB_SKEW_FUTURE_EDGE),
    ROW ("subscribe", "timestamp 31 s ahead", E (STALE_TIMESTAMP), 0, s_run_subscribe,
         SUB_SKEW_FUTURE),
    ROW ("subscribe", "1,024 subscriptions on one client (the limit)", E (OK), 0, s_run_many,
         MANY_AT_LIMIT),
    ROW ("subscribe", "subscription 1,025", E (TOO_MANY_SUBSCRIPTIONS), 0, s_run_many, MANY_OVER),
    ROW ("subscribe", "at the limit, an object followed again", E (OK), 0, s_run_many, MANY_AGAIN),
    //  Opened when the table starts; closed by the gateway within 30 s.
    ROW ("limits", "not ZeroMQ: HTTP request on the gateway's port", S_CLOSED, 0, s_run_closed,
         CLOSED_HTTP),
};

#define S_ROWS (sizeof s_rows / sizeof s_rows [0])

static const char *
s_code_name (int code)
{
    if (code == S_CLOSED)
        return "closed, no answer";
    return tly_error_name ((Tally__ErrorCode) code);
}

//  A valid client buys 1 and must get the balance it should have.
static void
s_canary (s_ctx_t *ctx)
{
    if (ctx->canary.balance == 0)
        s_client_new (ctx, &ctx->canary);
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
s_table (s_ctx_t *ctx, s_got_t *gots)
{
    int wrong = 0;
    for (size_t at = 0; at < S_ROWS; at++) {
        const s_row_t *row = &s_rows [at];
        if (ctx->subject.balance < S_SUBJECT_LOW) {
            s_client_new (ctx, &ctx->subject);
            ctx->subjects++;
        }
        int64_t before = ctx->subject.balance;
        s_got_t *got = &gots [at];
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
        s_canary (ctx);
    }
    return wrong;
}

static void
s_print_table (const s_got_t *gots)
{
    printf ("\nbad-input table (docs/protocol.md, \"Errors\"): %zu rows\n", S_ROWS);
    printf ("%-14s %-52s %-23s %-23s %s\n", "class", "request", "expected", "got", "message");
    for (size_t at = 0; at < S_ROWS; at++) {
        const s_row_t *row = &s_rows [at];
        bool right = gots [at].code == row->expected;
        printf ("%-14s %-52s %-23s %-23s %.70s%s\n", row->class, row->request,
                s_code_name (row->expected), s_code_name (gots [at].code), gots [at].message,
                right ? "" : "   <-- WRONG");
    }
    printf ("\n");
}

//  ---------------------------------------------------------------- the flood

//  Junk frames from one client, how many may wait for their answers, and
//  the client's own address (a second loopback address, so that the
//  gateway's per-peer report of it holds the flood alone).
#define S_FLOOD             100000
#define S_FLOOD_OUTSTANDING 5000
#define S_FLOOD_PEER        "127.0.0.2"
#define S_FLOOD_TIMEOUT_MS  180000

#if defined(__SANITIZE_ADDRESS__)
#define S_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_ASAN 1
#endif
#endif
#ifndef S_ASAN
#define S_ASAN 0
#endif
//  The servers' AddressSanitizer quarantine in a sanitizer build.
#define S_ASAN_QUARANTINE_MB 16

//  How much the gateway's anonymous memory (RssAnon) may grow under the
//  flood. What it may hold for one flooding client is bounded by queues,
//  not by the frames it is sent: CLIENT_REQUEST_QUEUE (1000) frames read
//  ahead, here of at most 64 bytes but for one in 1000 of 128 KiB, and at
//  most S_FLOOD_OUTSTANDING answers of about 300 bytes on their way back:
//  under 2 MiB, and 4 MiB allows for what malloc keeps. A sanitizer build
//  adds its quarantine and the shadow of it (an eighth). Over the flood's
//  second half it may grow 1 MiB at most: a leak of 21 bytes a frame would
//  pass that.
#define S_FLOOD_RSS_MAX_KB  (4096 + S_ASAN * S_ASAN_QUARANTINE_MB * 1024 * 9 / 8)
#define S_FLOOD_HALF_MAX_KB 1024

//  The flood's kinds of junk, every one refused by the gateway.
enum {
    JUNK_WIRE_7,        //  0x07 and random bytes: wire type 7, never decodes
    JUNK_EMPTY,         //  no body
    JUNK_UNKNOWN_BODY,  //  body field 7
    JUNK_FLIPPED,       //  a buy whose signature does not verify (costs a verify)
    JUNK_STALE,         //  a buy signed 31 s ago
    JUNK_INBOX,         //  a buy for another worker
    JUNK_NUL,           //  a buy whose item holds a NUL
    JUNK_PARTITION,     //  a subscribe to partition 300 of 256 (the stream's refusal)
    JUNK_UNSUBSCRIBE,   //  an unsubscribe of no object ID (the stream's refusal)
    JUNK_OVERSIZED,     //  131073 bytes, one frame in 1000
    JUNK_KINDS
};

//  Frame number frame's kind: one in 1000 oversized; of the rest, half
//  junk bytes and half the other kinds in turn.
static int
s_junk_kind (int frame)
{
    if (frame % 1000 == 999)
        return JUNK_OVERSIZED;
    static const int turns [] = { JUNK_FLIPPED,     JUNK_STALE, JUNK_INBOX,        JUNK_PARTITION,
                                  JUNK_UNSUBSCRIBE, JUNK_NUL,   JUNK_UNKNOWN_BODY, JUNK_EMPTY };
    int turn = frame % 16;
    return turn < (int) (sizeof turns / sizeof turns [0]) ? turns [turn] : JUNK_WIRE_7;
}

static void
s_junk_templates (s_ctx_t *ctx, s_buf_t *junk)
{
    memset (junk, 0, JUNK_KINDS * sizeof *junk);
    s_put (&junk [JUNK_UNKNOWN_BODY], "\x08\x2a\x3a\x00", 4);
    for (int kind = JUNK_FLIPPED; kind <= JUNK_NUL; kind++) {
        s_env_t env;
        tly_msg_t msg;
        s_env_default (ctx, &env, &msg);
        if (kind == JUNK_FLIPPED)
            env.flip = true;
        else if (kind == JUNK_STALE)
            env.timestamp_ms -= TLY_SKEW_MS_DEFAULT + S_EDGE_MS;
        else if (kind == JUNK_INBOX)
            memcpy (env.inbox, ctx->stranger.account.sign_pk, TLY_KEY_BYTES);
        else {
            env.item = "abXcd";
            env.nul = "abXcd";
        }
        s_buf_t sealed = s_env_sealed (&env);
        junk [kind] = s_send_frame (&sealed, 42, 0);
        free (sealed.data);
    }
    uint8_t tail [TLY_OBJECT_TAIL_BYTES] = { 0 };
    char object_id [TLY_ID_MAX];
    tly_object_id (TLY_OBJ_BALANCE, 300, tail, object_id);
    s_sub_t sub;
    s_sub_default (&ctx->subject.user, object_id, &sub);
    junk [JUNK_PARTITION] = s_subscribe_frame (&sub, 43);
    junk [JUNK_UNSUBSCRIBE] = s_unsubscribe_frame (44, "co_zjunk");
    junk [JUNK_OVERSIZED].data = calloc (1, TLY_FRAME_MAX_DEFAULT + 1);
    CHECK (junk [JUNK_OVERSIZED].data);
    junk [JUNK_OVERSIZED].size = TLY_FRAME_MAX_DEFAULT + 1;
}

//  Counts of each code, and in all.
typedef struct {
    uint64_t codes [32];
    uint64_t total;
} s_counts_t;

//  The gateway's client.rejections lines about peer, from offset on, summed.
static void
s_reported (const char *log_path, long offset, const char *peer, s_counts_t *counts, int *lines)
{
    memset (counts, 0, sizeof *counts);
    *lines = 0;
    FILE *file = fopen (log_path, "r");
    CHECK (file);
    CHECK (fseek (file, offset, SEEK_SET) == 0);
    char pattern [64];
    snprintf (pattern, sizeof pattern, "event=client.rejections peer=%s ", peer);
    char line [4096];
    while (fgets (line, sizeof line, file)) {
        char *at = strstr (line, pattern);
        if (!at)
            continue;
        (*lines)++;
        char *rejected = strstr (at, " rejected=");
        CHECK (rejected);
        counts->total += strtoull (rejected + strlen (" rejected="), NULL, 10);
        for (int code = 0; code < 32; code++) {
            char name [64];
            snprintf (name, sizeof name, " %s=", tly_error_name ((Tally__ErrorCode) code));
            char *count = strstr (at, name);
            if (count)
                counts->codes [code] += strtoull (count + strlen (name), NULL, 10);
        }
    }
    fclose (file);
}

static int
s_log_lines (const char *log_path, long offset, const char *part)
{
    FILE *file = fopen (log_path, "r");
    CHECK (file);
    CHECK (fseek (file, offset, SEEK_SET) == 0);
    char line [4096];
    int lines = 0;
    while (fgets (line, sizeof line, file))
        lines += strstr (line, part) != NULL;
    fclose (file);
    return lines;
}

static long
s_file_size (const char *path)
{
    FILE *file = fopen (path, "r");
    CHECK (file);
    CHECK (fseek (file, 0, SEEK_END) == 0);
    long size = ftell (file);
    fclose (file);
    return size;
}

typedef struct {
    long rss_kb;
    long anon_kb;
} s_memory_t;

static s_memory_t
s_memory (th_process_t *process)
{
    s_memory_t memory = { th_process_memory_kb (process, "VmRSS"),
                          th_process_memory_kb (process, "RssAnon") };
    CHECK (memory.rss_kb > 0 && memory.anon_kb > 0);
    return memory;
}

//  Takes every answer waiting on sock; counts each (none may be OK).
static void
s_flood_answers (zsock_t *sock, s_counts_t *answers)
{
    zframe_t *frame;
    while ((frame = zframe_recv_nowait (sock))) {
        Tally__ClientReply *reply = tally__client_reply__unpack (NULL, zframe_size (frame),
                                                                 zframe_data (frame));
        zframe_destroy (&frame);
        CHECK (reply && reply->error && reply->push == TALLY__PUSH_KIND__NOT_PUSHED);
        CHECK (reply->error->code > 0 && reply->error->code < 32);
        answers->codes [reply->error->code]++;
        answers->total++;
        tally__client_reply__free_unpacked (reply, NULL);
    }
}

//  One client floods the gateway with junk: all of it answered, memory and
//  log bounded, every refusal in the per-peer report, a valid client served.
static void
s_flood (s_ctx_t *ctx)
{
    it_cluster_t *cluster = ctx->cluster;
    th_process_t *gateway = NULL;
    for (int i = 0; i < cluster->child_count; i++)
        if (streq (cluster->children [i].name, "gateway-1"))
            gateway = cluster->children [i].process;
    CHECK (gateway && th_process_running (gateway));
    char log_path [512];
    snprintf (log_path, sizeof log_path, "%s/gateway-1.log", cluster->dir);

    s_buf_t junk [JUNK_KINDS];
    s_junk_templates (ctx, junk);
    uint8_t random_junk [64];
    zsock_t *flooder = s_client_socket ();
    zsock_set_sndhwm (flooder, S_FLOOD_OUTSTANDING * 2);
    zsock_set_rcvhwm (flooder, S_FLOOD_OUTSTANDING * 2);
    CHECK (zsock_connect (flooder, "tcp://%s:0;127.0.0.1:%d", S_FLOOD_PEER, cluster->base_port)
           == 0);
    //  Connected, and the gateway's memory settled after the table, first.
    s_buf_t ping = s_ping_frame (7);
    s_send (flooder, ping.data, ping.size);
    free (ping.data);
    tally__client_reply__free_unpacked (s_await (flooder, 7), NULL);

    long log_before = s_file_size (log_path);
    s_memory_t before = s_memory (gateway);
    s_memory_t half = { 0, 0 };
    s_counts_t answers;
    memset (&answers, 0, sizeof answers);
    zpoller_t *poller = zpoller_new (flooder, NULL);
    CHECK (poller);
    int64_t started_ms = tly_mono_ms ();
    int sent = 0;
    while (answers.total < S_FLOOD) {
        if (tly_mono_ms () - started_ms > S_FLOOD_TIMEOUT_MS)
            th_fail (__FILE__, __LINE__, "flood: %" PRIu64 " answers of %d within %d ms",
                     answers.total, S_FLOOD, S_FLOOD_TIMEOUT_MS);
        while (sent < S_FLOOD && (uint64_t) sent - answers.total < S_FLOOD_OUTSTANDING) {
            int kind = s_junk_kind (sent);
            const void *bytes = junk [kind].data;
            size_t size = junk [kind].size;
            if (kind == JUNK_WIRE_7) {
                random_junk [0] = 0x07;
                size = 1 + (size_t) randombytes_uniform (sizeof random_junk - 1);
                randombytes_buf (random_junk + 1, size - 1);
                bytes = random_junk;
            }
            if (zmq_send (zsock_resolve (flooder), bytes, size, ZMQ_DONTWAIT) == -1) {
                CHECK (zmq_errno () == EAGAIN);
                break;
            }
            sent++;
        }
        if (zpoller_wait (poller, 1000))
            s_flood_answers (flooder, &answers);
        if (half.rss_kb == 0 && answers.total >= S_FLOOD / 2)
            half = s_memory (gateway);
    }
    int64_t flood_ms = tly_mono_ms () - started_ms;
    s_memory_t after = s_memory (gateway);
    zpoller_destroy (&poller);
    zsock_destroy (&flooder);
    for (int kind = 0; kind < JUNK_KINDS; kind++)
        free (junk [kind].data);

    //  The last window's report comes once it has ended, with nothing after it.
    s_counts_t reported;
    int report_lines = 0;
    TH_WAIT_UNTIL ((s_reported (log_path, log_before, S_FLOOD_PEER, &reported, &report_lines),
                    reported.total >= S_FLOOD),
                   3 * TLY_REJECT_LOG_WINDOW_MS + S_TIMEOUT_MS, th_sleep_ms (50));
    int64_t reported_ms = tly_mono_ms () - started_ms;
    long log_bytes = s_file_size (log_path) - log_before;
    int detail_lines = s_log_lines (log_path, log_before, "event=request.rejected ")
                       + s_log_lines (log_path, log_before, "event=subscribe.rejected ");
    int suppressed_lines = s_log_lines (log_path, log_before, "event=log.suppressed ");
    s_memory_t settled = s_memory (gateway);

    printf ("\nflood: %d junk frames from %s in %" PRId64 " ms (%.0f frames/s), %" PRIu64
            " answered:",
            S_FLOOD, S_FLOOD_PEER, flood_ms, S_FLOOD * 1000.0 / (double) (flood_ms ? flood_ms : 1),
            answers.total);
    for (int code = 0; code < 32; code++)
        if (answers.codes [code])
            printf (" %s %" PRIu64, tly_error_name ((Tally__ErrorCode) code), answers.codes [code]);
    printf ("\nflood: gateway VmRSS %ld kB before, %ld at half, %ld after, %ld settled;"
            " RssAnon %ld, %ld, %ld, %ld kB\n",
            before.rss_kb, half.rss_kb, after.rss_kb, settled.rss_kb, before.anon_kb, half.anon_kb,
            after.anon_kb, settled.anon_kb);
    printf ("flood: gateway.log grew %ld bytes (%.2f a frame): %d detail lines, %d log.suppressed,"
            " %d client.rejections lines for %s summing to %" PRIu64 " (all reported %" PRId64
            " ms after the first frame)\n",
            log_bytes, (double) log_bytes / S_FLOOD, detail_lines, suppressed_lines, report_lines,
            S_FLOOD_PEER, reported.total, reported_ms);

    //  Every refusal reported, under its own code.
    CHECK (answers.total == S_FLOOD && reported.total == S_FLOOD);
    for (int code = 0; code < 32; code++)
        CHECK (reported.codes [code] == answers.codes [code]);
    //  The log grows with time, not with frames: per window (a second) at
    //  most the detail budget of request.rejected and of
    //  subscribe.rejected, a log.suppressed line for each, and a report
    //  line per peer, each line at most tly_log's 2 KiB. This flood lasts
    //  about a second in a release build: under 64 KiB (a sanitizer build
    //  takes several, within the same bound per window).
    int64_t windows = reported_ms / TLY_REJECT_LOG_WINDOW_MS + 2;
    CHECK (detail_lines <= 2 * TLY_REJECT_LOG_BURST * windows);
    CHECK (report_lines <= windows);
    CHECK (log_bytes
           <= windows * (2 * (TLY_REJECT_LOG_BURST + 1) + TLY_REJECT_PEERS_MAX + 1) * 2048);
    if (!S_ASAN)
        CHECK (log_bytes < 64 * 1024);
    //  Memory, bounded by queues (S_FLOOD_RSS_MAX_KB).
    CHECK (settled.anon_kb - before.anon_kb < S_FLOOD_RSS_MAX_KB);
    CHECK (settled.anon_kb - half.anon_kb < S_FLOOD_HALF_MAX_KB);

    //  And the service goes on.
    CHECK (th_process_running (gateway));
    s_canary (ctx);
    CHECK (it_buy (ctx->subject.sender, "item-after", 1).balance_after == ctx->subject.balance - 1);
    ctx->subject.balance--;
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
#if S_ASAN
    //  AddressSanitizer keeps freed memory in quarantine (256 MiB by
    //  default) to catch its use: the servers' memory then grows with the
    //  churn of allocations up to that, whatever they hold. A smaller
    //  quarantine keeps the flood's memory bound meaningful.
    char asan_options [512];
    const char *options = getenv ("ASAN_OPTIONS");
    snprintf (asan_options, sizeof asan_options, "%s%squarantine_size_mb=%d",
              options ? options : "", options && *options ? ":" : "", S_ASAN_QUARANTINE_MB);
    CHECK (setenv ("ASAN_OPTIONS", asan_options, 1) == 0);
#endif
    s_ctx_t ctx = { .cluster = it_cluster_start (base_port, 2, 1) };
    ctx.probe = s_dealer (ctx.cluster->gateway);
    ctx.watch = s_dealer (ctx.cluster->gateway);
    s_client_new (&ctx, &ctx.subject);
    ctx.subjects = 1;
    s_client_new (&ctx, &ctx.canary);
    s_client_new (&ctx, &ctx.victim);
    tly_result_t bought = it_buy (ctx.victim.sender, "item-victim", 1);
    CHECK (bought.ok);
    ctx.victim.balance--;
    snprintf (ctx.victim_purchase, sizeof ctx.victim_purchase, "%s", bought.id);
    it_user_new (&ctx.stranger);

    //  The table's envelopes are the SDK's, byte for byte, until altered.
    tly_msg_t msg;
    s_env_t env;
    s_env_default (&ctx, &env, &msg);
    s_buf_t ours = s_env_sealed (&env);
    uint8_t *sdk;
    size_t sdk_size;
    CHECK (tly_sender_seal (ctx.subject.sender, &msg, 1, env.timestamp_ms, &sdk, &sdk_size) == 0);
    CHECK (ours.size == sdk_size && memcmp (ours.data, sdk, sdk_size) == 0);
    free (ours.data);
    free (sdk);

    const char *http = "GET / HTTP/1.1\r\nHost: tally\r\n\r\n";
    ctx.http_fd = s_tcp_connect (&ctx, http, strlen (http));
    ctx.http_opened_ms = tly_mono_ms ();

    s_got_t gots [S_ROWS];
    int wrong = s_table (&ctx, gots);
    s_print_table (gots);
    printf ("%zu rows, %d as expected, %d not; sending users: %d; the canary served %d buys"
            " between them\n",
            S_ROWS, (int) S_ROWS - wrong, wrong, ctx.subjects, ctx.canary_buys);
    CHECK (wrong == 0);
    CHECK (it_balance (ctx.canary.sender) == ctx.canary.balance);
    CHECK (it_balance (ctx.victim.sender) == ctx.victim.balance);
    s_flood (&ctx);

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
