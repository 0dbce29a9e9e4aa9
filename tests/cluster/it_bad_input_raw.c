//  it_bad_input_raw - the table's rows that send raw frames (empty, not
//  protobuf, cut, with bad fields or wire types, pings, statuses, two
//  frames, the largest frame libzmq reads, unsubscribes of odd IDs) and
//  those the gateway's connection cannot carry, which it must close with
//  no answer: a frame over ZMQ_MAXMSGSIZE, bytes that are not ZMTP, an HTTP
//  request. Apart from the envelope rows: no signature is at stake here,
//  only how the gateway reads bytes.
#include "it_bad_input.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tly_wire.h"

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

void
bad_run_raw (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got)
{
    uint64_t request_id = ++ctx->request_id;
    bad_buf_t frame = { NULL, 0, 0 };
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
            bad_put (&frame, junk, sizeof junk);
            break;
        }
        case RAW_CUT_ONE:
        case RAW_CUT_HALF: {
            bad_env_t env;
            tly_msg_t msg;
            bad_env_default (ctx, &env, &msg);
            bad_buf_t sealed = bad_env_sealed (&env);
            frame = bad_send_frame (&sealed, request_id, 0);
            free (sealed.data);
            frame.size = row->variant == RAW_CUT_ONE ? frame.size - 1 : frame.size / 2;
            break;
        }
        case RAW_FIELD_0:
        case RAW_WIRE_7:
        case RAW_GROUP:
        case RAW_FIELD_HUGE:
        case RAW_UNKNOWN_FIELD:
            frame = bad_ping_frame (request_id);
            if (row->variant == RAW_FIELD_0)
                bad_put (&frame, field_0, sizeof field_0);
            else if (row->variant == RAW_WIRE_7)
                bad_put (&frame, wire_7, sizeof wire_7);
            else if (row->variant == RAW_GROUP)
                bad_put (&frame, group, sizeof group);
            else if (row->variant == RAW_FIELD_HUGE)
                bad_put (&frame, field_huge, sizeof field_huge);
            else
                bad_put (&frame, unknown, sizeof unknown);
            break;
        case RAW_VARINT_11: {
            static const uint8_t varint_11 [] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                  0xff, 0xff, 0xff, 0xff, 0x01, 0x32, 0x00 };
            bad_put (&frame, varint_11, sizeof varint_11);
            break;
        }
        case RAW_OVERRUN:
            bad_put_varint (&frame, 1 << 3);
            bad_put_varint (&frame, request_id);
            bad_put (&frame, overrun, sizeof overrun);
            break;
        case RAW_WRONG_TYPE:
            bad_put_varint (&frame, 1 << 3);
            bad_put_varint (&frame, request_id);
            bad_put (&frame, wrong_type, sizeof wrong_type);
            break;
        case RAW_NO_BODY:
            bad_put_varint (&frame, 1 << 3);
            bad_put_varint (&frame, request_id);
            break;
        case RAW_UNKNOWN_BODY:
            bad_put_varint (&frame, 1 << 3);
            bad_put_varint (&frame, request_id);
            bad_put_field (&frame, 7, "\x08\x01", 2);
            break;
        case RAW_ENVELOPE_JUNK: {
            static const uint8_t junk [] = { 0xff, 0xff, 0xff };
            bad_buf_t sealed = { NULL, 0, 0 };
            bad_put_field (&sealed, 1, junk, sizeof junk);
            uint8_t signature [TLY_SIGNATURE_BYTES] = { 0 };
            bad_put_field (&sealed, 2, signature, sizeof signature);
            frame = bad_send_frame (&sealed, request_id, 0);
            free (sealed.data);
            break;
        }
        case RAW_PING: frame = bad_ping_frame (request_id); break;
        case RAW_STATUS:
            bad_put_varint (&frame, 1 << 3);
            bad_put_varint (&frame, request_id);
            bad_put_field (&frame, 3, NULL, 0);
            break;
        case RAW_TWO_FRAMES: {
            zmsg_t *two = zmsg_new ();
            bad_buf_t ping = bad_ping_frame (request_id);
            zmsg_addmem (two, ping.data, ping.size);
            zmsg_addmem (two, ping.data, ping.size);
            free (ping.data);
            CHECK (zmsg_send (&two, ctx->probe) == 0);
            Tally__ClientReply *reply = bad_await (ctx->probe, request_id);
            bad_got_reply (got, reply);
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
            frame = bad_unsubscribe_frame (request_id, "co_zabXcd");
            bad_patch_nul (&frame, "co_zabXcd");
            break;
        case RAW_UNSUBSCRIBE_UTF8:
            frame = bad_unsubscribe_frame (request_id, "co_z\xff\xfe");
            break;
        case RAW_UNSUBSCRIBE_GARBAGE:
            frame = bad_unsubscribe_frame (request_id, "co_zunknown");
            break;
        case RAW_UNSUBSCRIBE_UNFOLLOWED: {
            char balance_id [TLY_ID_MAX];
            tly_balance_id (ctx->victim.user.account.sign_pk, TLY_PARTITIONS_DEFAULT, balance_id);
            frame = bad_unsubscribe_frame (request_id, balance_id);
            break;
        }
        default: th_fail (__FILE__, __LINE__, "no raw variant %d", row->variant);
    }
    Tally__ClientReply *reply = bad_exchange (ctx, &frame, request_id, got);
    if (row->variant == RAW_STATUS && got->code == TALLY__ERROR_CODE__OK)
        CHECK (reply->status && reply->status->ready);
    tally__client_reply__free_unpacked (reply, NULL);
    free (frame.data);
}

//  ---------------------------------------------------------------- closed connections

//  libzmq's default ZMQ_HANDSHAKE_IVL: how long a connection may take to
//  complete its ZMTP greeting.
#define S_HANDSHAKE_MS 30000

//  A plain TCP connection to the gateway's port, which has sent bytes.
int
bad_tcp_connect (bad_ctx_t *ctx, const void *bytes, size_t size)
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

void
bad_run_closed (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got)
{
    got->code = TALLY__ERROR_CODE__INTERNAL;
    snprintf (got->message, sizeof got->message, "connection still open");
    if (row->variant == CLOSED_NOT_ZMTP) {
        uint8_t junk [64];
        memset (junk, 0xff, sizeof junk);
        int fd = bad_tcp_connect (ctx, junk, sizeof junk);
        if (s_tcp_closed (fd, BAD_TIMEOUT_MS)) {
            got->code = BAD_CLOSED;
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
        int64_t left = ctx->http_opened_ms + S_HANDSHAKE_MS + BAD_TIMEOUT_MS - tly_mono_ms ();
        if (s_tcp_closed (ctx->http_fd, left > 0 ? (int) left : 0)) {
            got->code = BAD_CLOSED;
            snprintf (got->message, sizeof got->message, "connection closed by the gateway");
            printf ("HTTP on the gateway's port: closed %" PRId64 " ms after it connected\n",
                    tly_mono_ms () - ctx->http_opened_ms);
        }
        close (ctx->http_fd);
        ctx->http_fd = -1;
        return;
    }
    zsock_t *sock = bad_dealer (ctx->cluster->gateway);
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
    bad_buf_t status = { NULL, 0, 0 };
    uint64_t request_id = ++ctx->request_id;
    bad_put_varint (&status, 1 << 3);
    bad_put_varint (&status, request_id);
    bad_put_field (&status, 3, NULL, 0);
    bad_send (sock, status.data, status.size);
    tally__client_reply__free_unpacked (bad_await (sock, request_id), NULL);
    free (status.data);
    uint8_t *junk = malloc (s_hard_max () + 1);
    CHECK (junk);
    memset (junk, 0xff, s_hard_max () + 1);
    bad_send (sock, junk, s_hard_max () + 1);
    free (junk);
    zpoller_t *poller = zpoller_new (monitor, sock, NULL);
    int64_t deadline = tly_mono_ms () + BAD_TIMEOUT_MS;
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
        got->code = BAD_CLOSED;
        snprintf (got->message, sizeof got->message, "connection closed by the gateway");
    }
    zpoller_destroy (&poller);
    zmq_socket_monitor (zsock_resolve (sock), NULL, 0);
    zsock_destroy (&monitor);
    zsock_destroy (&sock);
}
