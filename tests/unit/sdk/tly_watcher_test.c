//  tly_watcher_test - the watcher against a scripted gateway (fake_gateway):
//  subscribes, pushes in version order, resyncs, errors and timeouts.
#include <assert.h>
#include <czmq.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fake_gateway.h"
#include "tally.h"
#include "tly_codec.h"
#include "tly_object.h"
#include "tly_sign.h"
#include "tly_wire.h"
#include "watch_fixture.h"

//  ---------------------------------------------------------------- watcher

typedef struct {
    int calls;
    tly_object_t last;  //  scalars of the last call (pointers cleared)
} s_seen_t;

static void
s_record (const tly_object_t *object, void *arg)
{
    s_seen_t *seen = arg;
    seen->calls++;
    seen->last = *object;
    seen->last.purchases.records = NULL;
    seen->last.group.members = NULL;
}

static void
s_push_balance (zactor_t *fake, Tally__PushKind push, Tally__ErrorCode code,
                const tly_account_t *signer, uint64_t version, int64_t balance)
{
    size_t size;
    uint8_t *bytes = watch_balance (signer, version, balance, &size);
    fake_gateway_push (fake, watch_keys.balance_id, push, code, bytes, size);
    free (bytes);
}

//  Dispatches until ms have passed; returns the callbacks made.
static int
s_drain (tly_watcher_t *watcher, int ms)
{
    int calls = 0;
    int64_t deadline = tly_mono_ms () + ms;
    for (int64_t left = ms; left > 0; left = deadline - tly_mono_ms ()) {
        int made = tly_watcher_dispatch (watcher, (int) left);
        assert (made >= 0);
        calls += made;
    }
    return calls;
}

static void
s_test_watcher (void)
{
    int port;
    zactor_t *fake = fake_gateway_new (&port);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    assert (tly_watcher_new (endpoint, "co_zNotAKey", &watch_keys.user) == NULL);
    assert (tly_watcher_new ("nonsense://", watch_keys.worker_id, &watch_keys.user) == NULL);
    tly_watcher_t *watcher = tly_watcher_new (endpoint, watch_keys.worker_id, &watch_keys.user);
    assert (watcher);
    s_seen_t seen = { 0 };
    tly_watcher_stats_t stats;

    //  Refusals: not an ID (locally), unknown, denied, or not the worker's.
    assert (tly_watcher_subscribe (watcher, "co_zNope", s_record, &seen, 500) == -1);
    assert (tly_watcher_error (watcher)->code == TALLY__ERROR_CODE__BAD_REQUEST);
    assert (!tly_watcher_error (watcher)->remote);
    assert (tly_watcher_subscribe (watcher, watch_keys.root_id, s_record, &seen, 2000) == -1);
    assert (tly_watcher_error (watcher)->code == TALLY__ERROR_CODE__NOT_FOUND);
    assert (tly_watcher_error (watcher)->remote);
    fake_gateway_deny (fake, watch_keys.purchases_id, TALLY__ERROR_CODE__PERMISSION_DENIED);
    assert (tly_watcher_subscribe (watcher, watch_keys.purchases_id, s_record, &seen, 2000) == -1);
    assert (tly_watcher_error (watcher)->code == TALLY__ERROR_CODE__PERMISSION_DENIED);
    assert (streq (tly_watcher_error (watcher)->message, "Permission denied"));
    assert (cli_report_error (tly_watcher_error (watcher), true) == CLI_EXIT_REJECTED);
    size_t size;
    uint8_t *bytes = watch_balance (&watch_keys.forger, 1, 1000000, &size);
    fake_gateway_serve (fake, watch_keys.balance_id, bytes, size);
    free (bytes);
    assert (tly_watcher_subscribe (watcher, watch_keys.balance_id, s_record, &seen, 2000) == -1);
    assert (tly_watcher_error (watcher)->code == TALLY__ERROR_CODE__BAD_SIGNATURE);
    assert (!tly_watcher_error (watcher)->remote);
    assert (seen.calls == 0 && tly_watcher_subscriptions (watcher) == 0);
    //  The gateway holds that subscription: it is told to drop it.
    int pings, unsubscribes = 0;
    for (int64_t deadline = tly_mono_ms () + 2000; unsubscribes == 0 && tly_mono_ms () < deadline;)
        fake_gateway_counts (fake, &pings, &unsubscribes);
    assert (unsubscribes == 1);

    //  The snapshot, then updates in order; forged and repeated versions
    //  are dropped; a gap resubscribes.
    watch_serve_balance (fake, 1, 100);
    assert (tly_watcher_subscribe (watcher, watch_keys.balance_id, s_record, &seen, 2000) == 0);
    assert (seen.calls == 1 && seen.last.snapshot && seen.last.version == 1);
    assert (seen.last.kind == TLY_OBJ_BALANCE && seen.last.balance.balance == 100);
    assert (tly_watcher_subscribe (watcher, watch_keys.balance_id, s_record, &seen, 2000) == -1);
    assert (tly_watcher_error (watcher)->code == TALLY__ERROR_CODE__BAD_REQUEST);
    s_push_balance (fake, TALLY__PUSH_KIND__UPDATE, 0, &watch_keys.worker, 2, 90);
    assert (tly_watcher_dispatch (watcher, 2000) == 1);
    assert (!seen.last.snapshot && seen.last.version == 2 && seen.last.balance.balance == 90);
    tly_watcher_stats (watcher, &stats);
    uint64_t rejected = stats.rejected;
    s_push_balance (fake, TALLY__PUSH_KIND__UPDATE, 0, &watch_keys.forger, 3, 1000000);
    assert (s_drain (watcher, 200) == 0);
    tly_watcher_stats (watcher, &stats);
    assert (stats.rejected == rejected + 1);
    s_push_balance (fake, TALLY__PUSH_KIND__UPDATE, 0, &watch_keys.worker, 3, 80);
    assert (tly_watcher_dispatch (watcher, 2000) == 1 && seen.last.version == 3);
    s_push_balance (fake, TALLY__PUSH_KIND__UPDATE, 0, &watch_keys.worker, 3, 80);
    s_push_balance (fake, TALLY__PUSH_KIND__UPDATE, 0, &watch_keys.worker, 2, 90);
    assert (s_drain (watcher, 200) == 0);
    tly_watcher_stats (watcher, &stats);
    assert (stats.duplicates == 2 && stats.gaps == 0);
    watch_serve_balance (fake, 5, 60);
    s_push_balance (fake, TALLY__PUSH_KIND__UPDATE, 0, &watch_keys.worker, 5, 60);
    assert (tly_watcher_dispatch (watcher, 2000) == 1);
    assert (seen.last.snapshot && seen.last.version == 5 && seen.last.balance.balance == 60);
    tly_watcher_stats (watcher, &stats);
    assert (stats.gaps == 1 && fake_gateway_snapshots (fake, watch_keys.balance_id) == 3);

    //  A resync snapshot replaces the copy and says why.
    s_push_balance (fake, TALLY__PUSH_KIND__SNAPSHOT, TALLY__ERROR_CODE__SLOW_CONSUMER,
                    &watch_keys.worker, 9, 20);
    assert (tly_watcher_dispatch (watcher, 2000) == 1);
    assert (seen.last.snapshot && seen.last.version == 9);
    assert (seen.last.code == TALLY__ERROR_CODE__SLOW_CONSUMER);
    s_push_balance (fake, TALLY__PUSH_KIND__UPDATE, 0, &watch_keys.worker, 10, 10);
    assert (tly_watcher_dispatch (watcher, 2000) == 1 && seen.last.version == 10);
    assert (!seen.last.snapshot && seen.last.code == TALLY__ERROR_CODE__OK);

    //  An unanswered ping: everything is subscribed again.
    tly_watcher_set_ping (watcher, 100, 50);
    watch_serve_balance (fake, 10, 10);
    fake_gateway_mute_pings (fake, true);
    assert (tly_watcher_dispatch (watcher, 3000) == 1);
    assert (seen.last.snapshot && seen.last.version == 10);
    tly_watcher_stats (watcher, &stats);
    assert (stats.resubscribes >= 1);
    fake_gateway_mute_pings (fake, false);
    s_drain (watcher, 300);
    tly_watcher_stats (watcher, &stats);
    uint64_t resubscribes = stats.resubscribes;
    fake_gateway_counts (fake, &pings, &unsubscribes);
    assert (s_drain (watcher, 400) == 0);
    tly_watcher_stats (watcher, &stats);
    assert (stats.resubscribes == resubscribes);
    int pings_after;
    fake_gateway_counts (fake, &pings_after, &unsubscribes);
    assert (pings_after >= pings + 2);

    //  Ended for a passing reason: subscribed again at the next ping. Ended
    //  for good: the callback hears it once.
    int snapshots = fake_gateway_snapshots (fake, watch_keys.balance_id);
    fake_gateway_push (fake, watch_keys.balance_id, TALLY__PUSH_KIND__ENDED,
                       TALLY__ERROR_CODE__TIMEOUT, NULL, 0);
    assert (tly_watcher_dispatch (watcher, 3000) == 1);
    assert (seen.last.snapshot && !seen.last.ended);
    assert (fake_gateway_snapshots (fake, watch_keys.balance_id) == snapshots + 1);
    fake_gateway_push (fake, watch_keys.balance_id, TALLY__PUSH_KIND__ENDED,
                       TALLY__ERROR_CODE__PERMISSION_DENIED, NULL, 0);
    assert (tly_watcher_dispatch (watcher, 3000) == 1);
    assert (seen.last.ended && seen.last.code == TALLY__ERROR_CODE__PERMISSION_DENIED);
    assert (seen.last.kind == TLY_OBJ_BALANCE && streq (seen.last.id, watch_keys.balance_id));
    assert (tly_watcher_subscriptions (watcher) == 0);

    //  A restarted gateway (a new connection) gets every subscription again.
    tly_watcher_set_ping (watcher, TLY_WATCH_PING_MS, TLY_WATCH_PING_TIMEOUT_MS);
    assert (tly_watcher_subscribe (watcher, watch_keys.balance_id, s_record, &seen, 2000) == 0);
    tly_watcher_stats (watcher, &stats);
    resubscribes = stats.resubscribes;
    fake_gateway_restart (fake);
    assert (tly_watcher_dispatch (watcher, 5000) == 1);
    assert (seen.last.snapshot && seen.last.version == 10);
    tly_watcher_stats (watcher, &stats);
    assert (stats.resubscribes == resubscribes + 1);

    //  Unsubscribe: no more callbacks, and the gateway is told.
    assert (tly_watcher_unsubscribe (watcher, watch_keys.balance_id, 2000) == 0);
    assert (tly_watcher_subscriptions (watcher) == 0);
    fake_gateway_counts (fake, &pings, &unsubscribes);
    assert (unsubscribes == 2);
    tly_watcher_destroy (&watcher);
    tly_watcher_destroy (&watcher);
    zactor_destroy (&fake);

    //  Nobody listening: a local TIMEOUT.
    tly_watcher_t *lonely = tly_watcher_new ("tcp://127.0.0.1:9", watch_keys.worker_id,
                                             &watch_keys.user);
    int64_t start = tly_mono_ms ();
    assert (tly_watcher_subscribe (lonely, watch_keys.balance_id, s_record, &seen, 300) == -1);
    assert (tly_mono_ms () - start >= 300);
    assert (tly_watcher_error (lonely)->code == TALLY__ERROR_CODE__TIMEOUT);
    assert (!tly_watcher_error (lonely)->remote);
    assert (cli_report_error (tly_watcher_error (lonely), false) == CLI_EXIT_USAGE);
    tly_watcher_destroy (&lonely);
}

void
tly_watcher_test (bool verbose)
{
    if (verbose)
        printf (" * tly_watcher: ");
    watch_fixture_init ();
    s_test_watcher ();
    if (verbose)
        printf ("OK\n");
}
