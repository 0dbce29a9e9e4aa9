//  chaos_client - the chaos run's client threads: each buys under load for
//  users of its own (one shared with the next client), in envelopes of one
//  message or a batch, gives up early on a send in four, resends recent
//  envelopes as the same bytes or newly signed, now and then has the worker
//  credit one of its users (and now and then again a reference it credited
//  before, as a new message: a payment webhook delivered twice), and keeps
//  a history of
//  every message ID it sent and the first definitive answer; a later
//  answer that differs is a violation at once. Once the cluster is whole
//  again it resends what is unanswered and reads every balance. Apart from
//  the run (chaos.c): it is what the seed decides for each client.
#include "chaos.h"
#include "chaos_private.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "tally.h"
#include "tly_message_id.h"
#include "tly_wire.h"

#define S_SEND_TIMEOUT_MS 3000   //  one send, with the SDK's resends of the same bytes
#define S_IMPATIENT_MS    400    //  one send in four: gives up early, resends later
#define S_RESEND_BYTES_MS 20000  //  resend the same signed bytes while younger (skew: 30 s)
#define S_RESEND_ID_MS    40000  //  resend a message ID while younger (dedupe window: 60 s)

static void
s_user_open (chaos_client_t *self, int slot, const tly_account_t *account)
{
    chaos_user_t *user = &self->users [slot];
    tly_sender_destroy (&user->sender);
    memset (user, 0, sizeof *user);
    if (account)
        user->account = *account;
    else
        CHECK (tly_account_generate (&user->account) == 0);
    tly_account_id (user->account.sign_pk, user->id);
    user->hash = chaos_hash (user->id);
    user->sender = tly_sender_new_curve (self->gateway, it_gateway_key, self->worker_id,
                                         &user->account);
    CHECK (user->sender);
}

//  A fresh user in an unshared slot: users come and go. The slot's recent
//  envelopes go with the old one (a resend is signed by its own sender).
static void
s_user_renew (chaos_client_t *self, int slot)
{
    for (int i = 0; i < CHAOS_RING; i++)
        if (self->ring [i].bytes && self->ring [i].user == slot) {
            free (self->ring [i].bytes);
            self->ring [i].bytes = NULL;
        }
    s_user_open (self, slot, NULL);
}

//  Takes one answer for history message index: the first definitive answer
//  stays, and every later one must be the same.
static void
s_answer (chaos_client_t *self, uint32_t index, const tly_result_t *result)
{
    chaos_msg_t *msg = &self->history.items [index];
    if (!result->ok && result->code == TALLY__ERROR_CODE__STALE_MESSAGE_ID) {
        msg->stale = 1;  //  refused unseen: the first answer, if any, stays unknown
        return;
    }
    chaos_msg_t answer = *msg;
    answer.state = result->ok ? CHAOS_OK : CHAOS_REFUSED;
    answer.code = result->ok ? 0 : (int32_t) result->code;
    answer.purchase = result->ok && result->kind == TLY_RESULT_PURCHASE;
    answer.value = !result->ok                          ? 0
                   : result->kind == TLY_RESULT_BALANCE ? result->balance
                   : result->kind == TLY_RESULT_CONFIG  ? (int64_t) result->config_version
                                                        : result->balance_after;
    if (result->ok && result->kind == TLY_RESULT_PURCHASE)  //  one the worker may refund
        snprintf (self->purchases [self->purchases_seen++ % CHAOS_PURCHASES], TLY_ID_MAX, "%s",
                  result->id);
    answer.result_id = !result->ok                         ? 0
                       : result->kind == TLY_RESULT_CONFIG ? chaos_hash (CHAOS_CONFIG_RESULT)
                                                           : chaos_hash (result->id);
    if (msg->state == CHAOS_UNANSWERED) {
        *msg = answer;
        return;
    }
    if (msg->state != answer.state || msg->code != answer.code || msg->value != answer.value
        || msg->result_id != answer.result_id) {
        char hex [2 * TLY_MESSAGE_ID_BYTES + 1];
        sodium_bin2hex (hex, sizeof hex, msg->id, TLY_MESSAGE_ID_BYTES);
        chaos_violation (&self->report,
                         "client %d: message %s answered %s %" PRId64 ", then %s %" PRId64,
                         self->index, hex, msg->state == CHAOS_OK ? "ok" : "refused",
                         msg->state == CHAOS_OK ? msg->value : msg->code,
                         answer.state == CHAOS_OK ? "ok" : "refused",
                         answer.state == CHAOS_OK ? answer.value : answer.code);
    }
}

//  Sends the envelope's bytes; takes the answers.
static void
s_send (chaos_client_t *self, chaos_envelope_t *envelope)
{
    chaos_user_t *user = &self->users [envelope->user];
    tly_result_t results [CHAOS_BATCH_MAX];
    size_t count = 0;
    int timeout_ms = __atomic_load_n (&chaos_phase, __ATOMIC_SEQ_CST) > 0 ? CHAOS_SETTLE_SEND_MS
                     : th_rng_below (&self->rng, 4) == 0                  ? S_IMPATIENT_MS
                                                                          : S_SEND_TIMEOUT_MS;
    if (tly_sender_send_raw (user->sender, envelope->bytes, envelope->size, timeout_ms, results,
                             CHAOS_BATCH_MAX, &count)
        != 0) {
        self->report.send_failures++;
        return;
    }
    if (count != envelope->count) {
        chaos_violation (&self->report, "client %d: %zu results for %zu messages", self->index,
                         count, envelope->count);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        if (memcmp (results [i].message_id, envelope->msgs [i].id, TLY_MESSAGE_ID_BYTES) != 0) {
            char sent [2 * TLY_MESSAGE_ID_BYTES + 1], got [2 * TLY_MESSAGE_ID_BYTES + 1];
            sodium_bin2hex (sent, sizeof sent, envelope->msgs [i].id, TLY_MESSAGE_ID_BYTES);
            sodium_bin2hex (got, sizeof got, results [i].message_id, TLY_MESSAGE_ID_BYTES);
            chaos_violation (&self->report,
                             "client %d: an envelope of %s answered with the results of another: "
                             "message %s answered as %s (of %s)",
                             self->index, user->id, sent, got,
                             results [i].ok ? results [i].user_id : "an error");
            return;
        }
        s_answer (self, envelope->history [i], &results [i]);
        if (results [i].ok && results [i].kind == TLY_RESULT_BALANCE)
            user->created = true;
    }
}

//  Signs the envelope's messages again, stamped now.
static void
s_seal (chaos_client_t *self, chaos_envelope_t *envelope)
{
    free (envelope->bytes);
    envelope->bytes = NULL;
    CHECK (tly_sender_seal (self->users [envelope->user].sender, envelope->msgs, envelope->count,
                            tly_now_ms (), &envelope->bytes, &envelope->size)
           == 0);
    envelope->sealed_ms = tly_mono_ms ();
}

//  A new envelope for one user: a createAccount first until one is
//  answered, then buys (batch 1 mostly, else 2..CHAOS_BATCH_MAX, sometimes with
//  a createAccount that reads the balance in between).
static void
s_new_envelope (chaos_client_t *self)
{
    uint64_t *rng = &self->rng;
    chaos_envelope_t *envelope = &self->ring [self->ring_next++ % CHAOS_RING];
    free (envelope->bytes);
    memset (envelope, 0, sizeof *envelope);
    envelope->user = (int) th_rng_below (rng, CHAOS_USERS);
    chaos_user_t *user = &self->users [envelope->user];
    envelope->count = th_rng_below (rng, 10) < 7 ? 1 : 2 + th_rng_below (rng, CHAOS_BATCH_MAX - 1);
    static const int64_t initials [] = { 100, 1000, 1000000 };
    for (size_t i = 0; i < envelope->count; i++) {
        tly_msg_t *msg = &envelope->msgs [i];
        if ((i == 0 && !user->created) || th_rng_below (rng, 20) == 0)
            CHECK (tly_msg_create_account (msg, initials [th_rng_below (rng, 3)]) == 0);
        else if (th_rng_below (rng, 8) == 0)  //  the catalog's item, at its price
            CHECK (tly_msg_buy (msg, CHAOS_PRICED_ITEM, 0) == 0);
        else {
            char item [32];
            snprintf (item, sizeof item, "item-%d", (int) th_rng_below (rng, 100));
            CHECK (tly_msg_buy (msg, item, 1 + (int64_t) th_rng_below (rng, 40)) == 0);
        }
        chaos_msg_t *sent = chaos_msgs_add (&self->history);
        sent->sender = user->hash;
        memcpy (sent->id, msg->id, TLY_MESSAGE_ID_BYTES);
        envelope->history [i] = (uint32_t) (self->history.count - 1);
    }
    envelope->made_ms = tly_mono_ms ();
    s_seal (self, envelope);
    self->report.envelopes++;
    s_send (self, envelope);
}

//  Sends msg as the worker, alone in an envelope (its one partition), kept
//  in the ring and the history as any envelope.
static void
s_send_worker (chaos_client_t *self, const tly_msg_t *msg)
{
    chaos_envelope_t *envelope = &self->ring [self->ring_next++ % CHAOS_RING];
    free (envelope->bytes);
    memset (envelope, 0, sizeof *envelope);
    envelope->user = CHAOS_WORKER;
    envelope->count = 1;
    envelope->msgs [0] = *msg;
    chaos_msg_t *sent = chaos_msgs_add (&self->history);
    sent->sender = self->users [CHAOS_WORKER].hash;
    memcpy (sent->id, envelope->msgs [0].id, TLY_MESSAGE_ID_BYTES);
    envelope->history [0] = (uint32_t) (self->history.count - 1);
    envelope->made_ms = tly_mono_ms ();
    s_seal (self, envelope);
    self->report.envelopes++;
    s_send (self, envelope);
}

//  A credit of one of the client's users by the worker, in an envelope of
//  its own (it goes to the user's partition): a new reference, or one in
//  three a reference credited before, sent again as a new message.
static void
s_new_credit (chaos_client_t *self)
{
    uint64_t *rng = &self->rng;
    chaos_credit_t credit;
    bool again = self->credits_made > 0 && th_rng_below (rng, 3) == 0;
    if (again) {
        uint32_t made = self->credits_made < CHAOS_CREDITS ? self->credits_made : CHAOS_CREDITS;
        credit = self->credits [th_rng_below (rng, made)];
    } else {
        const chaos_user_t *user = &self->users [th_rng_below (rng, CHAOS_USERS)];
        if (!user->created)
            return;
        snprintf (credit.user, sizeof credit.user, "%s", user->id);
        snprintf (credit.reference, sizeof credit.reference, "ch_%d_%" PRIu32, self->index,
                  self->credits_made);
        credit.amount = 1 + (int64_t) th_rng_below (rng, 500);
        self->credits [self->credits_made++ % CHAOS_CREDITS] = credit;
    }
    tly_msg_t msg;
    tly_error_t error;
    CHECK (tly_msg_credit (&msg, credit.user, credit.amount, credit.reference, "chaos", &error)
           == 0);
    self->report.credits_sent++;
    self->report.credits_repeated += again;
    s_send_worker (self, &msg);
}

//  A price of the catalog's item by the worker, in an envelope of its own
//  (partition 0): the actors not owning partition 0 learn each change from
//  the audit writer, faults or not, and verify charges every buy the price
//  in force.
static void
s_new_price (chaos_client_t *self)
{
    uint64_t *rng = &self->rng;
    tly_msg_t msg;
    tly_error_t error;
    CHECK (tly_msg_set_price (&msg, CHAOS_PRICED_ITEM, 1 + (int64_t) th_rng_below (rng, 30),
                              th_rng_below (rng, 6) != 0, &error)
           == 0);
    self->report.prices_sent++;
    s_send_worker (self, &msg);
}

//  A refund by the worker of a purchase one of the client's users made (a
//  purchase refunded before is refused ALREADY_REFUNDED), in an envelope of
//  its own: the purchase's partition.
static void
s_new_refund (chaos_client_t *self)
{
    if (self->purchases_seen == 0)
        return;
    uint64_t *rng = &self->rng;
    uint32_t seen = self->purchases_seen < CHAOS_PURCHASES ? self->purchases_seen : CHAOS_PURCHASES;
    const char *purchase = self->purchases [th_rng_below (rng, seen)];
    tly_msg_t msg;
    tly_error_t error;
    CHECK (tly_msg_refund (&msg, purchase, "chaos", &error) == 0);
    self->report.refunds_sent++;
    s_send_worker (self, &msg);
}

//  True when some message of the envelope has no definitive answer.
static bool
s_unanswered (chaos_client_t *self, const chaos_envelope_t *envelope)
{
    for (size_t i = 0; i < envelope->count; i++)
        if (self->history.items [envelope->history [i]].state == CHAOS_UNANSWERED)
            return true;
    return false;
}

//  Resends a recent envelope: its very bytes while they are young enough
//  for the gateway, else (or by choice) its message IDs newly signed.
static void
s_resend (chaos_client_t *self, chaos_envelope_t *envelope, bool same_bytes)
{
    int64_t now = tly_mono_ms ();
    if (!envelope->bytes || now - envelope->made_ms > S_RESEND_ID_MS)
        return;
    if (same_bytes && now - envelope->sealed_ms < S_RESEND_BYTES_MS)
        self->report.resent_bytes++;
    else {
        s_seal (self, envelope);
        self->report.resent_sealed++;
    }
    s_send (self, envelope);
}

void *
chaos_client (void *arg)
{
    chaos_client_t *self = arg;
    uint64_t *rng = &self->rng;
    s_user_open (self, 0, chaos_shared [self->index]);
    for (int slot = 1; slot < CHAOS_USERS; slot++)
        s_user_open (self, slot, slot == 1 ? chaos_shared [self->index + CHAOS_CLIENTS_MAX] : NULL);
    s_user_open (self, CHAOS_WORKER, self->worker);
    while (__atomic_load_n (&chaos_phase, __ATOMIC_SEQ_CST) == 0) {
        uint64_t choice = th_rng_below (rng, 100);
        if (choice < 12)
            s_resend (self, &self->ring [th_rng_below (rng, CHAOS_RING)],
                      th_rng_below (rng, 2) == 0);
        else if (choice == 12)
            s_user_renew (self, 2 + (int) th_rng_below (rng, CHAOS_USERS - 2));
        else if (choice < 16)
            s_new_credit (self);
        else if (choice == 16)
            s_new_price (self);
        else if (choice == 17)
            s_new_refund (self);
        else
            s_new_envelope (self);
    }
    //  The cluster is whole again: every envelope still unanswered is resent
    //  (within the dedupe window), then every user's balance read.
    for (int i = 0; i < CHAOS_RING; i++)
        if (self->ring [i].bytes && s_unanswered (self, &self->ring [i]))
            s_resend (self, &self->ring [i], false);
    for (int slot = 0; slot < CHAOS_USERS; slot++) {
        chaos_envelope_t *envelope = &self->ring [self->ring_next++ % CHAOS_RING];
        free (envelope->bytes);
        memset (envelope, 0, sizeof *envelope);
        envelope->user = slot;
        envelope->count = 1;
        CHECK (tly_msg_create_account (&envelope->msgs [0], 0) == 0);
        chaos_msg_t *sent = chaos_msgs_add (&self->history);
        sent->sender = self->users [slot].hash;
        memcpy (sent->id, envelope->msgs [0].id, TLY_MESSAGE_ID_BYTES);
        envelope->history [0] = (uint32_t) (self->history.count - 1);
        envelope->made_ms = tly_mono_ms ();
        s_seal (self, envelope);
        s_send (self, envelope);
        if (sent->state == CHAOS_UNANSWERED)
            chaos_violation (&self->report, "client %d: no answer to a balance read once healed",
                             self->index);
    }
    for (int i = 0; i < CHAOS_RING; i++)
        free (self->ring [i].bytes);
    for (int slot = 0; slot <= CHAOS_WORKER; slot++)
        tly_sender_destroy (&self->users [slot].sender);
    return NULL;
}
