//  tly_gateway_rejects - refusals counted per peer, reported once a window.
//  See tly_gateway_rejects.h.
#include "tly_gateway_rejects.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tly_limits.h"
#include "tly_log.h"
#include "tly_validate.h"

//  Codes counted by name; a larger one (none yet) is counted in the last.
#define S_CODES     32
//  Bytes of a peer's address kept (an IPv6 address is at most 45).
#define S_PEER_TEXT 64

_Static_assert(TALLY__ERROR_CODE__RATE_LIMITED < S_CODES - 1,
               "every error code is counted under its own name");

typedef struct {
    char peer [S_PEER_TEXT];
    uint64_t rejected;
    uint64_t codes [S_CODES];
} s_peer_t;

struct _tly_gateway_rejects_t {
    int64_t window_ms;
    bool open;  //  a window holds refusals
    int64_t window_start_ms;
    size_t peer_count;
    s_peer_t peers [TLY_REJECT_PEERS_MAX];
    s_peer_t others;  //  refusals of the peers past the table
};

tly_gateway_rejects_t *
tly_gateway_rejects_new (int64_t window_ms)
{
    assert (window_ms > 0);
    tly_gateway_rejects_t *self = calloc (1, sizeof (*self));
    if (!self)
        return NULL;
    self->window_ms = window_ms;
    snprintf (self->others.peer, sizeof (self->others.peer), "others");
    return self;
}

void
tly_gateway_rejects_destroy (tly_gateway_rejects_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

static void
s_log (const s_peer_t *peer, int64_t window_ms)
{
    char codes [S_CODES * 40] = "";
    size_t used = 0;
    for (int code = 0; code < S_CODES; code++)
        if (peer->codes [code] > 0 && used < sizeof (codes)) {
            int written = snprintf (codes + used, sizeof (codes) - used, " %s=%" PRIu64,
                                    tly_error_name ((Tally__ErrorCode) code), peer->codes [code]);
            assert (written > 0);
            used += (size_t) written;
        }
    tly_log (TLY_INFO, "client.rejections", "peer=%s rejected=%" PRIu64 " window_ms=%" PRId64 "%s",
             peer->peer, peer->rejected, window_ms, codes);
}

void
tly_gateway_rejects_report (tly_gateway_rejects_t *self, int64_t now_ms)
{
    assert (self);
    if (!self->open || now_ms - self->window_start_ms < self->window_ms)
        return;
    for (size_t at = 0; at < self->peer_count; at++)
        s_log (&self->peers [at], self->window_ms);
    if (self->others.rejected > 0)
        s_log (&self->others, self->window_ms);
    self->open = false;
    self->peer_count = 0;
    self->others.rejected = 0;
    memset (self->others.codes, 0, sizeof (self->others.codes));
}

void
tly_gateway_rejects_count (tly_gateway_rejects_t *self, const char *peer, Tally__ErrorCode code,
                           int64_t now_ms)
{
    assert (self);
    tly_gateway_rejects_report (self, now_ms);
    if (!self->open) {
        self->open = true;
        self->window_start_ms = now_ms;
    }
    if (!peer)
        peer = "unknown";
    s_peer_t *entry = NULL;
    for (size_t at = 0; !entry && at < self->peer_count; at++)
        if (strncmp (self->peers [at].peer, peer, S_PEER_TEXT - 1) == 0)
            entry = &self->peers [at];
    if (!entry && self->peer_count < TLY_REJECT_PEERS_MAX) {
        entry = &self->peers [self->peer_count++];
        memset (entry, 0, sizeof (*entry));
        snprintf (entry->peer, sizeof (entry->peer), "%s", peer);
    }
    if (!entry)
        entry = &self->others;
    size_t slot = code >= 0 && code < S_CODES ? (size_t) code : S_CODES - 1;
    entry->codes [slot]++;
    entry->rejected++;
}

int64_t
tly_gateway_rejects_deadline (tly_gateway_rejects_t *self)
{
    assert (self);
    return self->open ? self->window_start_ms + self->window_ms : INT64_MAX;
}
