//  tly_gateway_stream_private - what the stream's two source files share:
//  tly_gateway_stream.c (sends to clients, subscribe and unsubscribe,
//  deadlines) and tly_gateway_stream_clone.c (the clone pattern: snapshot
//  requests and replies, the bus, catching up). Not for users: include
//  tly_gateway_stream.h instead.
#ifndef TLY_GATEWAY_STREAM_PRIVATE_H_INCLUDED
#define TLY_GATEWAY_STREAM_PRIVATE_H_INCLUDED

#include "tly_gateway_bus.h"
#include "tly_gateway_stream.h"
#include "tly_gateway_subs.h"
#include "tly_limits.h"
#include "tly_log.h"

//  A slow client is probed (one snapshot) at most this often.
#define TLY_GATEWAY_RETRY_MS 100
//  Longest error text the stream writes, NUL included.
#define TLY_GATEWAY_TEXT_MAX 256

struct _tly_gateway_stream_t {
    tly_gateway_stream_config_t config;
    zsock_t *client;  //  ROUTER, borrowed
    zsock_t *ws;      //  ROUTER on ws://, borrowed, or NULL
    zsock_t *router;  //  DEALER, borrowed
    zsock_t *bus;     //  SUB, borrowed
    tly_gateway_subs_t *subs;
    uint8_t instance [TLY_GATEWAY_INSTANCE_BYTES];  //  random, per run
    char instance_hex [2 * TLY_GATEWAY_INSTANCE_BYTES + 1];
    char timeout_reason [TLY_GATEWAY_TEXT_MAX];
    char unseen_reason [TLY_GATEWAY_TEXT_MAX];
    char silent_reason [TLY_GATEWAY_TEXT_MAX];
    tly_log_limit_t rejected_log;  //  refused subscribes: their lines are budgeted
};

//  --- tly_gateway_stream.c

//  now_ms + --timeout-ms: the deadline of a snapshot asked for now.
int64_t tly_gateway_stream_deadline (tly_gateway_stream_t *self, int64_t now_ms);
//  Sends *data_p to sub's client unless it is gone; consumes *data_p.
//  Returns 0, or -1 as tly_gateway_stream_send.
int tly_gateway_stream_push (tly_gateway_stream_t *self, tly_gateway_sub_t *sub, zframe_t **data_p);
//  Sends ClientReply{request_id, error{code, reason}, push}.
void tly_gateway_stream_error (tly_gateway_stream_t *self, zframe_t *identity, uint64_t request_id,
                               Tally__PushKind push, Tally__ErrorCode code, const char *reason);
//  Removes sub; the bus topic goes with its last subscriber.
void tly_gateway_stream_remove (tly_gateway_stream_t *self, tly_gateway_sub_t *sub);
//  Ends sub and tells its client why: the answer to its subscribe when that
//  was not answered yet, else push = ENDED.
void tly_gateway_stream_end (tly_gateway_stream_t *self, tly_gateway_sub_t *sub,
                             Tally__ErrorCode code, const char *reason);

//  --- tly_gateway_stream_clone.c

//  Sends the SnapshotRequest of a PENDING sub. Returns 0, or -1 when the
//  router is not taking messages (its queue is full).
int tly_gateway_stream_request (tly_gateway_stream_t *self, tly_gateway_sub_t *sub);
//  Asks for a fresh snapshot of sub, to be pushed as SNAPSHOT. When that
//  cannot go now, sub waits STALE for its client's next retry. Never removes sub.
void tly_gateway_stream_resync (tly_gateway_stream_t *self, tly_gateway_sub_t *sub, bool slow);
//  Asks again for every announced snapshot the bus has not brought by now_ms,
//  or ends the subscription when it was the last attempt.
void tly_gateway_stream_ask_again (tly_gateway_stream_t *self, int64_t now_ms);

#endif
