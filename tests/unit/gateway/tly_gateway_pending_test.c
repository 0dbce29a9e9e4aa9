//  tly_gateway_pending_test - capacity, take, reuse and expiry of pending requests,
//  and the messages kept for a resend within their byte budget.
#include "tly_gateway_pending.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static zframe_t *
s_identity (const char *name)
{
    return zframe_new (name, strlen (name));
}

void
tly_gateway_pending_test (bool verbose)
{
    if (verbose)
        printf (" * tly_gateway_pending: ");

    tly_gateway_pending_t *pending = tly_gateway_pending_new (3, 0);
    assert (pending);
    assert (tly_gateway_pending_size (pending) == 0);
    assert (tly_gateway_pending_next_deadline (pending) == INT64_MAX);

    //  Fill to capacity: ids are distinct and non-zero.
    zframe_t *identity = s_identity ("a");
    uint64_t id_a = tly_gateway_pending_add (pending, TLY_PENDING_ROUTE, &identity, 11, 100);
    assert (id_a != 0 && identity == NULL);
    identity = s_identity ("b");
    uint64_t id_b = tly_gateway_pending_add (pending, TLY_PENDING_STATUS, &identity, 12, 100);
    identity = s_identity ("c");
    uint64_t id_c = tly_gateway_pending_add (pending, TLY_PENDING_ROUTE, &identity, 13, 200);
    assert (id_b != 0 && id_c != 0 && id_a != id_b && id_b != id_c && id_a != id_c);
    assert (tly_gateway_pending_size (pending) == 3);

    //  One over capacity: refused, identity stays with the caller.
    identity = s_identity ("d");
    assert (tly_gateway_pending_add (pending, TLY_PENDING_ROUTE, &identity, 14, 200) == 0);
    assert (identity != NULL);

    //  Take from the middle; a second take, a wrong kind or a forged id all miss.
    uint64_t request_id = 0;
    zframe_t *taken = NULL;
    assert (tly_gateway_pending_take (pending, id_b, TLY_PENDING_ROUTE, &taken, &request_id) == -1);
    assert (tly_gateway_pending_take (pending, id_b, TLY_PENDING_STATUS, &taken, &request_id) == 0);
    assert (request_id == 12 && zframe_streq (taken, "b"));
    zframe_destroy (&taken);
    assert (tly_gateway_pending_take (pending, id_b, TLY_PENDING_STATUS, &taken, &request_id)
            == -1);
    assert (tly_gateway_pending_take (pending, id_a + (1ULL << 32), TLY_PENDING_ROUTE, &taken,
                                      &request_id)
            == -1);
    assert (tly_gateway_pending_take (pending, 7, TLY_PENDING_ROUTE, &taken, &request_id) == -1);
    assert (tly_gateway_pending_size (pending) == 2);

    //  The freed slot is reused under a new id; the old id still misses.
    uint64_t id_d = tly_gateway_pending_add (pending, TLY_PENDING_ROUTE, &identity, 14, 300);
    assert (id_d != 0 && id_d != id_b && identity == NULL);
    assert (tly_gateway_pending_take (pending, id_b, TLY_PENDING_ROUTE, &taken, &request_id) == -1);

    //  Expiry goes oldest first and stops at the first live deadline.
    tly_pending_kind_t kind = 0;
    assert (tly_gateway_pending_next_deadline (pending) == 100);
    assert (tly_gateway_pending_expire (pending, 99, &taken, &request_id, &kind) == -1);
    assert (tly_gateway_pending_expire (pending, 250, &taken, &request_id, &kind) == 0);
    assert (request_id == 11 && kind == TLY_PENDING_ROUTE && zframe_streq (taken, "a"));
    zframe_destroy (&taken);
    assert (tly_gateway_pending_expire (pending, 250, &taken, &request_id, &kind) == 0);
    assert (request_id == 13 && zframe_streq (taken, "c"));
    zframe_destroy (&taken);
    assert (tly_gateway_pending_expire (pending, 250, &taken, &request_id, &kind) == -1);
    assert (tly_gateway_pending_next_deadline (pending) == 300);
    assert (tly_gateway_pending_take (pending, id_a, TLY_PENDING_ROUTE, &taken, &request_id) == -1);

    //  Destroy frees what is still waiting.
    tly_gateway_pending_destroy (&pending);
    assert (pending == NULL);
    tly_gateway_pending_destroy (&pending);

    //  Kept messages for a resend: up to exactly the byte budget (10), the
    //  oldest first on resend, each gone with its entry.
    pending = tly_gateway_pending_new (4, 10);
    uint64_t ids [4];
    for (int i = 0; i < 4; i++) {
        identity = s_identity ("x");
        ids [i] = tly_gateway_pending_add (pending, TLY_PENDING_ROUTE, &identity, 20 + i, 400);
    }
    zframe_t *frame = zframe_new ("first", 5);
    zframe_t *kept = tly_gateway_pending_keep (pending, ids [0], &frame);
    assert (kept && frame == NULL && zframe_streq (kept, "first"));
    frame = zframe_new ("edge!", 5);  //  10 bytes in all: at the budget, kept
    assert (tly_gateway_pending_keep (pending, ids [1], &frame) && frame == NULL);
    assert (tly_gateway_pending_kept_bytes (pending) == 10);
    frame = zframe_new ("x", 1);  //  one byte over: stays the caller's
    assert (tly_gateway_pending_keep (pending, ids [2], &frame) == NULL && frame);
    zframe_destroy (&frame);
    zsock_t *sink = zsock_new_pull ("@inproc://tly_gateway_pending_test");
    zsock_t *source = zsock_new_push (">inproc://tly_gateway_pending_test");
    assert (sink && source);
    assert (tly_gateway_pending_resend (pending, zsock_resolve (source)) == 2);
    char *first = zstr_recv (sink), *second = zstr_recv (sink);
    assert (streq (first, "first") && streq (second, "edge!"));
    zstr_free (&first);
    zstr_free (&second);
    //  Sent by reference: still kept, and sent again at the next resend.
    assert (tly_gateway_pending_kept_bytes (pending) == 10);
    assert (tly_gateway_pending_take (pending, ids [0], TLY_PENDING_ROUTE, &taken, &request_id)
            == 0);
    zframe_destroy (&taken);
    assert (tly_gateway_pending_kept_bytes (pending) == 5);
    frame = zframe_new ("third", 5);  //  room again
    assert (tly_gateway_pending_keep (pending, ids [3], &frame) && frame == NULL);
    assert (tly_gateway_pending_resend (pending, zsock_resolve (source)) == 2);
    first = zstr_recv (sink);
    second = zstr_recv (sink);
    assert (streq (first, "edge!") && streq (second, "third"));
    zstr_free (&first);
    zstr_free (&second);
    zsock_destroy (&source);
    zsock_destroy (&sink);
    tly_gateway_pending_destroy (&pending);  //  frees the kept messages too

    if (verbose)
        printf ("OK\n");
}
