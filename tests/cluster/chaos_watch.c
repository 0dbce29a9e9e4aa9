//  chaos_watch - the chaos run's watchers: each follows one shared user's
//  balance (tly_watcher) through one gateway for the whole run: a snapshot
//  never goes back a version, every update is the version after the last
//  one delivered, and once the load has ended it must reach the balance a
//  read returns. Apart from the clients (chaos_client.c): a watcher reads
//  what they change, and proves the read path as they prove the write path.
#include "chaos.h"
#include "chaos_private.h"

#include <inttypes.h>
#include <string.h>

#include "tally.h"
#include "tly_message_id.h"
#include "tly_wire.h"

static void
s_on_balance (const tly_object_t *object, void *arg)
{
    chaos_watch_t *self = arg;
    self->trail [self->delivered++ % CHAOS_TRAIL] = (chaos_delivery_t) {
        .at_ms = tly_mono_ms () - chaos_start_ms,
        .version = object->version,
        .balance = object->ended ? 0 : object->balance.balance,
        .kind = object->ended      ? 'e'
                : object->snapshot ? 's'
                                   : 'u',
        .code = (int) object->code
    };
    if (object->ended) {
        self->subscribed = false;  //  subscribed again by the loop
        return;
    }
    if (object->kind != TLY_OBJ_BALANCE) {
        chaos_violation (&self->report, "watcher %d: an object of kind %d", self->index,
                         (int) object->kind);
        return;
    }
    if (object->snapshot) {
        self->snapshots++;
        if (object->version < self->version
            || (object->version == self->version && object->balance.balance != self->balance))
            chaos_violation (&self->report,
                             "watcher %d of %s: snapshot v%" PRIu64 " balance %" PRId64
                             " after v%" PRIu64 " balance %" PRId64,
                             self->index, self->id, object->version, object->balance.balance,
                             self->version, self->balance);
    } else {
        self->updates++;
        if (object->version != self->version + 1)
            chaos_violation (&self->report, "watcher %d of %s: update v%" PRIu64 " after v%" PRIu64,
                             self->index, self->id, object->version, self->version);
    }
    self->version = object->version;
    self->balance = object->balance.balance;
}

//  The user's balance read through the cluster (a createAccount, which
//  changes nothing for an account that exists), kept in the history; -1
//  when unanswered.
static int64_t
s_watch_read (chaos_watch_t *self)
{
    tly_sender_t *sender = tly_sender_new_curve (self->gateway, it_gateway_key, self->worker_id,
                                                 &self->account);
    CHECK (sender);
    tly_msg_t msg;
    CHECK (tly_msg_create_account (&msg, 0) == 0);
    chaos_msg_t *sent = chaos_msgs_add (&self->history);
    sent->sender = chaos_hash (self->id);
    memcpy (sent->id, msg.id, TLY_MESSAGE_ID_BYTES);
    tly_result_t result;
    int64_t balance = -1;
    if (tly_sender_send_one (sender, &msg, CHAOS_SETTLE_SEND_MS, &result) == 0) {
        sent->state = result.ok ? CHAOS_OK : CHAOS_REFUSED;
        sent->code = result.ok ? 0 : (int32_t) result.code;
        sent->value = result.ok ? result.balance : 0;
        sent->result_id = result.ok ? chaos_hash (result.id) : 0;
        if (result.ok)
            balance = result.balance;
    }
    tly_sender_destroy (&sender);
    return balance;
}

void *
chaos_watch (void *arg)
{
    chaos_watch_t *self = arg;
    tly_watcher_t *watcher = tly_watcher_new_curve (self->gateway, it_gateway_key, self->worker_id,
                                                    &self->account);
    CHECK (watcher);
    //  Short pings: a restarted gateway is noticed, and subscribed to again, soon.
    tly_watcher_set_ping (watcher, 500, 300);
    int64_t target = -1;
    int64_t deadline = 0;
    for (;;) {
        int phase = __atomic_load_n (&chaos_phase, __ATOMIC_SEQ_CST);
        if (phase == 2 && target == -1) {
            target = s_watch_read (self);
            deadline = tly_mono_ms () + CHAOS_RECOVER_MS;
            if (target == -1) {
                chaos_violation (&self->report, "watcher %d: no answer to the final read",
                                 self->index);
                break;
            }
        }
        if (target >= 0 && self->subscribed && self->balance == target)
            break;
        if (target >= 0 && tly_mono_ms () >= deadline) {
            chaos_violation (&self->report,
                             "watcher %d of %s: at v%" PRIu64 " balance %" PRId64
                             " %d ms after the load, the balance is %" PRId64,
                             self->index, self->id, self->version, self->balance, CHAOS_RECOVER_MS,
                             target);
            break;
        }
        //  The account exists once a client's createAccount is applied: until
        //  then the subscribe is refused (NOT_FOUND) and tried again.
        if (!self->subscribed)
            self->subscribed = tly_watcher_subscribe (watcher, self->balance_id, s_on_balance, self,
                                                      1000)
                               == 0;
        tly_watcher_dispatch (watcher, self->subscribed ? 200 : 100);  //  paces a new try too
    }
    tly_watcher_stats (watcher, &self->stats);
    tly_watcher_destroy (&watcher);
    return NULL;
}
