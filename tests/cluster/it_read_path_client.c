//  it_read_path_client - the client side every read-path case uses: users
//  with accounts, sends that must go through, watchers subscribed through
//  the CURVE SDK, and what each subscription saw (delivered from the
//  watcher's callbacks, read by the case under a lock) with the waits on
//  it. Apart from the cases (it_read_path.c and beside it): each case
//  reads as what it does to the cluster and what it must see.
#include "it_read_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_wire.h"

void
rp_seen_init (rp_seen_t *seen)
{
    memset (seen, 0, sizeof *seen);
    pthread_mutex_init (&seen->lock, NULL);
    seen->snapshot = calloc (RP_EVENTS_MAX, sizeof *seen->snapshot);
    seen->version = calloc (RP_EVENTS_MAX, sizeof *seen->version);
    seen->balance = calloc (RP_EVENTS_MAX, sizeof *seen->balance);
    seen->code = calloc (RP_EVENTS_MAX, sizeof *seen->code);
    CHECK (seen->snapshot && seen->version && seen->balance && seen->code);
}

void
rp_seen_free (rp_seen_t *seen)
{
    free (seen->snapshot);
    free (seen->version);
    free (seen->balance);
    free (seen->code);
    pthread_mutex_destroy (&seen->lock);
}

void
rp_on_object (const tly_object_t *object, void *arg)
{
    rp_seen_t *seen = arg;
    pthread_mutex_lock (&seen->lock);
    CHECK (seen->count < RP_EVENTS_MAX);
    size_t at = seen->count++;
    seen->snapshot [at] = object->snapshot;
    seen->version [at] = object->version;
    seen->code [at] = object->code;
    seen->ended |= object->ended;
    if (object->kind == TLY_OBJ_BALANCE) {
        seen->balance [at] = object->balance.balance;
        snprintf (seen->user_id, sizeof seen->user_id, "%s", object->balance.user_id);
    }
    if (object->kind == TLY_OBJ_ROOT)
        snprintf (seen->balance_id, sizeof seen->balance_id, "%s", object->root.balance_id);
    if (object->kind == TLY_OBJ_PURCHASE_LOG) {
        seen->log_count = object->purchases.count;
        seen->records += object->purchases.record_count;
    }
    pthread_mutex_unlock (&seen->lock);
}

size_t
rp_seen_count (rp_seen_t *seen)
{
    pthread_mutex_lock (&seen->lock);
    size_t count = seen->count;
    pthread_mutex_unlock (&seen->lock);
    return count;
}

//  Dispatches until `until` returns true or the deadline passes.
bool
rp_dispatch_until (tly_watcher_t *watcher, bool (*until) (void *), void *arg, int timeout_ms)
{
    int64_t deadline = tly_mono_ms () + timeout_ms;
    while (!until (arg)) {
        int64_t left = deadline - tly_mono_ms ();
        if (left <= 0)
            return false;
        CHECK (tly_watcher_dispatch (watcher, (int) (left < 100 ? left : 100)) >= 0);
    }
    return true;
}

bool
rp_has_count (void *arg)
{
    rp_want_t *want = arg;
    return rp_seen_count (want->seen) >= want->want;
}

void
rp_user_new (rp_user_t *user)
{
    CHECK (tly_account_generate (&user->account) == 0);
    tly_account_id (user->account.sign_pk, user->id);
    tly_balance_id (user->account.sign_pk, TLY_PARTITIONS_DEFAULT, user->balance_id);
    tly_root_id (user->account.sign_pk, TLY_PARTITIONS_DEFAULT, user->root_id);
    tly_purchases_id (user->account.sign_pk, TLY_PARTITIONS_DEFAULT, user->purchases_id);
}

tly_result_t
rp_send (tly_sender_t *sender, tly_msg_t *msgs, size_t n, tly_result_t *results)
{
    int rc = tly_sender_send (sender, msgs, n, RP_TIMEOUT_MS, results);
    if (rc != 0)
        fprintf (stderr, "send failed: %s\n", tly_sender_error (sender)->message);
    CHECK (rc == 0);
    return results [n - 1];
}

void
rp_create (const char *gateway, const char *worker_id, rp_user_t *user, int64_t initial)
{
    tly_sender_t *sender = tly_sender_new_curve (gateway, it_gateway_key, worker_id,
                                                 &user->account);
    CHECK (sender);
    tly_msg_t msg;
    tly_result_t result;
    tly_msg_create_account (&msg, initial);
    CHECK (rp_send (sender, &msg, 1, &result).ok && result.balance == initial);
    tly_sender_destroy (&sender);
}

tly_watcher_t *
rp_watcher (const char *gateway, const char *worker_id, const rp_user_t *user)
{
    tly_watcher_t *watcher = tly_watcher_new_curve (gateway, it_gateway_key, worker_id,
                                                    &user->account);
    CHECK (watcher);
    return watcher;
}

void
rp_subscribe (tly_watcher_t *watcher, const char *object_id, rp_seen_t *seen)
{
    int rc = tly_watcher_subscribe (watcher, object_id, rp_on_object, seen, RP_TIMEOUT_MS);
    if (rc != 0)
        fprintf (stderr, "subscribe %s failed: %s (%s)\n", object_id,
                 tly_watcher_error (watcher)->message,
                 tly_error_name (tly_watcher_error (watcher)->code));
    CHECK (rc == 0);
}

//  Checks snapshot then contiguous updates ending at `final`.
void
rp_check_contiguous (rp_seen_t *seen, size_t updates, int64_t final)
{
    CHECK (seen->count == updates + 1);
    CHECK (seen->snapshot [0]);
    for (size_t i = 1; i < seen->count; i++) {
        CHECK (!seen->snapshot [i]);
        CHECK (seen->version [i] == seen->version [i - 1] + 1);
    }
    CHECK (seen->balance [seen->count - 1] == final);
}
