//  tly_sender - one account's connection to a gateway, addressing one inbox.
#include "tally.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_codec.h"
#include "tly_curve.h"
#include "tly_link.h"
#include "tly_log.h"
#include "tly_wire.h"

struct _tly_sender_t {
    zsock_t *dealer;   //  to the gateway's ROUTER
    zsock_t *monitor;  //  the dealer's handshakes: a refused one ends a wait at once
    bool curve;        //  CURVE to the gateway's key
    zpoller_t *poller;
    char *endpoint;
    bool has_inbox;
    uint8_t inbox [TLY_KEY_BYTES];  //  worker public key
    bool has_account;
    tly_account_t account;
    uint64_t next_request_id;  //  starts random, so restarts do not reuse IDs
    int attempts;
    tly_error_t error;
};

tly_sender_t *
tly_sender_new (const char *gateway_endpoint, const char *worker_id, const tly_account_t *account)
{
    return tly_sender_new_curve (gateway_endpoint, NULL, worker_id, account);
}

tly_sender_t *
tly_sender_new_curve (const char *gateway_endpoint, const char *gateway_key, const char *worker_id,
                      const tly_account_t *account)
{
    assert (gateway_endpoint);
    if (sodium_init () < 0) {
        tly_log (TLY_ERROR, "sender.new", "reason=\"libsodium failed to initialise\"");
        return NULL;
    }
    tly_sender_t *self = calloc (1, sizeof *self);
    assert (self);
    if (worker_id) {
        if (tly_account_id_parse (worker_id, self->inbox) == -1) {
            tly_log (TLY_ERROR, "sender.new",
                     "reason=\"malformed worker ID, expected co_z...\" worker=%s", worker_id);
            free (self);
            return NULL;
        }
        self->has_inbox = true;
    }
    if (account) {
        self->account = *account;
        self->has_account = true;
    }
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    zsock_set_linger (self->dealer, 0);
    zsock_set_maxmsgsize (self->dealer, TLY_FRAME_HARD_MAX);
    char reason [512];
    if (gateway_key && tly_curve_client_of (self->dealer, gateway_key, reason, sizeof reason)) {
        tly_log (TLY_ERROR, "sender.new", "reason=\"gateway key: %s\"", reason);
        zsock_destroy (&self->dealer);
        free (self);
        return NULL;
    }
    self->curve = gateway_key != NULL;
    self->monitor = tly_link_watch (self->dealer);
    if (!self->monitor || zsock_connect (self->dealer, "%s", gateway_endpoint) == -1) {
        tly_log (TLY_ERROR, "sender.new", "reason=\"cannot connect\" endpoint=%s error=\"%s\"",
                 gateway_endpoint, zmq_strerror (zmq_errno ()));
        tly_link_unwatch (self->dealer, &self->monitor);
        zsock_destroy (&self->dealer);
        free (self);
        return NULL;
    }
    self->poller = zpoller_new (self->dealer, self->monitor, NULL);
    assert (self->poller);
    self->endpoint = strdup (gateway_endpoint);
    assert (self->endpoint);
    randombytes_buf (&self->next_request_id, sizeof self->next_request_id);
    self->attempts = TLY_SEND_ATTEMPTS;
    return self;
}

void
tly_sender_destroy (tly_sender_t **self_p)
{
    assert (self_p);
    tly_sender_t *self = *self_p;
    if (!self)
        return;
    zpoller_destroy (&self->poller);
    tly_link_unwatch (self->dealer, &self->monitor);
    zsock_destroy (&self->dealer);
    free (self->endpoint);
    sodium_memzero (&self->account, sizeof self->account);
    free (self);
    *self_p = NULL;
}

void
tly_sender_set_attempts (tly_sender_t *self, int attempts)
{
    assert (self);
    assert (attempts >= 1 && attempts <= TLY_SEND_ATTEMPTS_MAX);
    self->attempts = attempts;
}

const tly_error_t *
tly_sender_error (tly_sender_t *self)
{
    assert (self);
    return &self->error;
}

static uint64_t
s_request_id (tly_sender_t *self)
{
    //  Zero is what a gateway answers to a request it could not decode.
    if (self->next_request_id == 0)
        self->next_request_id++;
    return self->next_request_id++;
}

//  Waits for the ClientReply to request_id until deadline (monotonic ms).
//  Returns the decoded reply, or NULL at the deadline, on interruption, or
//  when the gateway refused the connection's handshake (*refused: why).
static Tally__ClientReply *
s_wait_reply (tly_sender_t *self, uint64_t request_id, int64_t deadline, bool *interrupted,
              const char **refused)
{
    for (int64_t now = tly_mono_ms (); now < deadline; now = tly_mono_ms ()) {
        void *which = zpoller_wait (self->poller, (int) (deadline - now));
        if (!which) {
            if (!zpoller_expired (self->poller) && zsys_interrupted) {
                *interrupted = true;
                return NULL;
            }
            continue;
        }
        if (which == self->monitor) {
            *refused = tly_link_refused (self->monitor);
            if (*refused)
                return NULL;
            continue;
        }
        zmsg_t *msg = zmsg_recv (self->dealer);
        if (!msg)
            continue;
        zframe_t *data = zmsg_last (msg);
        Tally__ClientReply *reply = data ? tally__client_reply__unpack (NULL, zframe_size (data),
                                                                        zframe_data (data))
                                         : NULL;
        zmsg_destroy (&msg);
        if (!reply) {
            tly_log (TLY_DEBUG, "sender.bad_reply", "endpoint=%s", self->endpoint);
            continue;
        }
        //  A gateway that cannot decode a request answers it with request_id
        //  0; with one request in flight per sender, that answer is ours.
        bool undecodable = reply->request_id == 0 && reply->error;
        if (reply->request_id == request_id || undecodable)
            return reply;
        tly_log (TLY_DEBUG, "sender.stale_reply", "request_id=%" PRIu64, reply->request_id);
        tally__client_reply__free_unpacked (reply, NULL);
    }
    return NULL;
}

//  Sends the same request bytes up to self->attempts times, spreading the
//  attempts over timeout_ms; a late reply to an earlier attempt counts, as
//  every attempt carries the same request_id.
static Tally__ClientReply *
s_exchange (tly_sender_t *self, uint64_t request_id, const uint8_t *request, size_t size,
            int timeout_ms)
{
    assert (timeout_ms > 0);
    int64_t start = tly_mono_ms ();
    bool interrupted = false;
    const char *refused = NULL;
    for (int attempt = 1; attempt <= self->attempts; attempt++) {
        if (zmq_send (zsock_resolve (self->dealer), request, size, ZMQ_DONTWAIT) == -1) {
            tly_codec_local_error (&self->error, TALLY__ERROR_CODE__UNAVAILABLE,
                                   "cannot send to %s: %s", self->endpoint,
                                   zmq_strerror (zmq_errno ()));
            return NULL;
        }
        if (attempt > 1)
            tly_log (TLY_DEBUG, "sender.resend", "request_id=%" PRIu64 " attempt=%d", request_id,
                     attempt);
        int64_t attempt_deadline = start + (int64_t) timeout_ms * attempt / self->attempts;
        Tally__ClientReply *reply = s_wait_reply (self, request_id, attempt_deadline, &interrupted,
                                                  &refused);
        if (reply)
            return reply;
        if (refused) {
            tly_codec_local_error (
                &self->error, TALLY__ERROR_CODE__UNAVAILABLE,
                "the gateway at %s refused the connection (%s): %s", self->endpoint, refused,
                self->curve
                    ? "is the gateway key (" TLY_ENV_GATEWAY_KEY
                      ", --gateway-key) this gateway's public key?"
                    : "the gateway requires CURVE: give its public key (" TLY_ENV_GATEWAY_KEY
                      " or --gateway-key)");
            return NULL;
        }
        if (interrupted) {
            tly_codec_local_error (&self->error, TALLY__ERROR_CODE__TIMEOUT,
                                   "interrupted while waiting for %s", self->endpoint);
            return NULL;
        }
    }
    tly_codec_local_error (&self->error, TALLY__ERROR_CODE__TIMEOUT,
                           "no reply from %s within %d ms (%d attempts): is tally-gateway running "
                           "there, and the cluster ready (tally status)?",
                           self->endpoint, timeout_ms, self->attempts);
    return NULL;
}

//  Sends ClientRequest.send around signed_envelope and returns the reply, or
//  NULL with self->error set (also when the gateway refused the envelope).
static Tally__ClientReply *
s_send_envelope (tly_sender_t *self, const uint8_t *signed_envelope, size_t size, int timeout_ms)
{
    uint64_t request_id = s_request_id (self);
    size_t request_size;
    uint8_t *request = tly_codec_wrap_send (request_id, signed_envelope, size, &request_size);
    Tally__ClientReply *reply = s_exchange (self, request_id, request, request_size, timeout_ms);
    free (request);
    if (reply && reply->error && reply->error->code != TALLY__ERROR_CODE__OK) {
        tly_codec_remote_error (reply->error, &self->error);
        tally__client_reply__free_unpacked (reply, NULL);
        return NULL;
    }
    return reply;
}

//  A send carries 1..TLY_BATCH_MAX messages. Returns 0, or -1 with the error set.
static int
s_check_count (tly_sender_t *self, size_t n)
{
    if (n >= 1 && n <= TLY_BATCH_MAX)
        return 0;
    tly_codec_local_error (&self->error, TALLY__ERROR_CODE__BATCH_TOO_LARGE,
                           "a send carries 1..%d messages, not %zu", TLY_BATCH_MAX, n);
    return -1;
}

int
tly_sender_seal (tly_sender_t *self, const tly_msg_t *msgs, size_t n, int64_t timestamp_ms,
                 uint8_t **bytes_p, size_t *size_p)
{
    assert (self);
    if (!self->has_account || !self->has_inbox) {
        tly_codec_local_error (&self->error, TALLY__ERROR_CODE__BAD_REQUEST,
                               "sender has no account or worker inbox");
        return -1;
    }
    if (tly_codec_seal (&self->account, self->inbox, msgs, n, timestamp_ms, bytes_p, size_p)
        == -1) {
        tly_codec_local_error (&self->error, TALLY__ERROR_CODE__BAD_REQUEST,
                               "message of unknown kind");
        return -1;
    }
    return 0;
}

//  A send's or a post's envelope: n messages within the batch limit,
//  sealed at the present time.
static int
s_seal_now (tly_sender_t *self, const tly_msg_t *msgs, size_t n, uint8_t **sealed,
            size_t *sealed_size)
{
    if (s_check_count (self, n) == -1)
        return -1;
    return tly_sender_seal (self, msgs, n, tly_now_ms (), sealed, sealed_size);
}

int
tly_sender_send (tly_sender_t *self, const tly_msg_t *msgs, size_t n, int timeout_ms,
                 tly_result_t *results)
{
    assert (self);
    assert (results);
    uint8_t *sealed;
    size_t sealed_size;
    if (s_seal_now (self, msgs, n, &sealed, &sealed_size) == -1)
        return -1;
    Tally__ClientReply *reply = s_send_envelope (self, sealed, sealed_size, timeout_ms);
    free (sealed);
    if (!reply)
        return -1;
    size_t count = 0;
    int rc = tly_codec_results (reply, results, n, &count, &self->error);
    tally__client_reply__free_unpacked (reply, NULL);
    if (rc == 0 && count != n) {
        tly_codec_local_error (&self->error, TALLY__ERROR_CODE__INTERNAL,
                               "gateway answered %zu results for %zu messages", count, n);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (memcmp (results [i].message_id, msgs [i].id, TLY_MESSAGE_ID_BYTES) != 0) {
            tly_codec_local_error (&self->error, TALLY__ERROR_CODE__INTERNAL,
                                   "result %zu answers another message", i);
            rc = -1;
        }
    return rc;
}

int
tly_sender_send_one (tly_sender_t *self, const tly_msg_t *msg, int timeout_ms, tly_result_t *result)
{
    return tly_sender_send (self, msg, 1, timeout_ms, result);
}

int
tly_sender_send_raw (tly_sender_t *self, const uint8_t *signed_envelope, size_t size,
                     int timeout_ms, tly_result_t *results, size_t results_max, size_t *count)
{
    assert (self);
    assert (count);
    Tally__ClientReply *reply = s_send_envelope (self, signed_envelope, size, timeout_ms);
    if (!reply)
        return -1;
    int rc = tly_codec_results (reply, results, results_max, count, &self->error);
    tally__client_reply__free_unpacked (reply, NULL);
    return rc;
}

int
tly_sender_post (tly_sender_t *self, const tly_msg_t *msgs, size_t n, uint64_t *request_id)
{
    assert (self);
    assert (request_id);
    uint8_t *sealed;
    size_t sealed_size;
    if (s_seal_now (self, msgs, n, &sealed, &sealed_size) == -1)
        return -1;
    uint64_t id = s_request_id (self);
    size_t request_size;
    uint8_t *request = tly_codec_wrap_send (id, sealed, sealed_size, &request_size);
    free (sealed);
    int rc = zmq_send (zsock_resolve (self->dealer), request, request_size, ZMQ_DONTWAIT);
    free (request);
    if (rc == -1) {
        tly_codec_local_error (&self->error, TALLY__ERROR_CODE__UNAVAILABLE,
                               "cannot send to %s: %s", self->endpoint,
                               zmq_strerror (zmq_errno ()));
        return -1;
    }
    *request_id = id;
    return 0;
}

tly_collect_t
tly_sender_collect (tly_sender_t *self, uint64_t *request_id, tly_result_t *results,
                    size_t results_max, size_t *count)
{
    assert (self);
    assert (request_id && count);
    *request_id = 0;
    *count = 0;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    if (zmq_msg_recv (&frame, zsock_resolve (self->dealer), ZMQ_DONTWAIT) == -1) {
        zmq_msg_close (&frame);
        return TLY_COLLECT_NONE;
    }
    bool multipart = zmq_msg_more (&frame);
    Tally__ClientReply *reply = multipart ? NULL
                                          : tally__client_reply__unpack (
                                              NULL, zmq_msg_size (&frame), zmq_msg_data (&frame));
    zmq_msg_close (&frame);
    //  The gateway sends one frame per answer; anything else is dropped whole.
    while (multipart) {
        zmq_msg_t rest;
        zmq_msg_init (&rest);
        int rc = zmq_msg_recv (&rest, zsock_resolve (self->dealer), ZMQ_DONTWAIT);
        multipart = rc != -1 && zmq_msg_more (&rest);
        zmq_msg_close (&rest);
    }
    if (!reply) {
        tly_codec_local_error (&self->error, TALLY__ERROR_CODE__INTERNAL,
                               "answer from %s does not decode", self->endpoint);
        return TLY_COLLECT_ERROR;
    }
    *request_id = reply->request_id;
    tly_collect_t collected = TLY_COLLECT_ANSWER;
    if (reply->error && reply->error->code != TALLY__ERROR_CODE__OK) {
        tly_codec_remote_error (reply->error, &self->error);
        collected = TLY_COLLECT_ERROR;
    } else if (tly_codec_results (reply, results, results_max, count, &self->error) == -1)
        collected = TLY_COLLECT_ERROR;
    tally__client_reply__free_unpacked (reply, NULL);
    return collected;
}

void *
tly_sender_socket (tly_sender_t *self)
{
    assert (self);
    return zsock_resolve (self->dealer);
}

int
tly_sender_status (tly_sender_t *self, int timeout_ms, tly_status_t *status)
{
    assert (self);
    assert (status);
    Tally__StatusRequest body = TALLY__STATUS_REQUEST__INIT;
    Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
    request.request_id = s_request_id (self);
    request.body_case = TALLY__CLIENT_REQUEST__BODY_STATUS;
    request.status = &body;
    zframe_t *frame = tly_wire_pack (&request.base);
    Tally__ClientReply *reply = s_exchange (self, request.request_id, zframe_data (frame),
                                            zframe_size (frame), timeout_ms);
    zframe_destroy (&frame);
    if (!reply)
        return -1;
    int rc = 0;
    if (reply->error && reply->error->code != TALLY__ERROR_CODE__OK) {
        tly_codec_remote_error (reply->error, &self->error);
        rc = -1;
    } else if (!reply->status) {
        tly_codec_local_error (&self->error, TALLY__ERROR_CODE__INTERNAL,
                               "gateway answered status without a SystemStatus");
        rc = -1;
    } else {
        status->ready = reply->status->ready;
        status->partition_count = reply->status->partition_count;
        status->partitions_owned = reply->status->partitions_owned;
        status->actors = reply->status->actors;
        status->epoch = reply->status->epoch;
        status->journal_full = reply->status->journal_full;
        status->actors_state_full = reply->status->actors_state_full;
        const Tally__JournalStatus *journal = reply->status->journal;
        memset (&status->journal, 0, sizeof status->journal);
        if (journal)
            status->journal = (tly_journal_status_t) {
                .known = true,
                .reported_ms = journal->reported_ms,
                .head_seq = journal->head_seq,
                .segments = journal->segments,
                .sealed_segments = journal->sealed_segments,
                .live_bytes = journal->live_bytes,
                .active_first_seq = journal->active_first_seq,
                .archived_segments = journal->archived_segments,
                .archived_bytes = journal->archived_bytes,
                .snapshots = journal->snapshots,
                .snapshot_bytes = journal->snapshot_bytes,
                .oldest_snapshot_seq = journal->oldest_snapshot_seq,
                .last_snapshot_seq = journal->last_snapshot_seq,
                .last_snapshot_partition = journal->last_snapshot_partition,
                .last_snapshot_ms = journal->last_snapshot_ms
            };
    }
    tally__client_reply__free_unpacked (reply, NULL);
    return rc;
}
