//  Integration tests of injected storage failures: the fault points of a
//  build with -DTALLY_FAULTS=ON (lib/include/tly_fault.h), armed in running
//  servers through their faults files (it_cluster_faults) while client
//  threads buy, batched and not, on balances two clients share.
//
//  Each phase arms one fault, waits until it has fired under load, disarms
//  it, waits until buys are acknowledged again, and has every client resend
//  (newly signed, with the same message IDs) what went unanswered. It then
//  checks that every server still runs (or, for a fault that stops one,
//  that it was restarted and caught up), that the errors the clients saw
//  are the ones docs/architecture.md gives for that fault ("Injected
//  storage failures"), and the log lines that say what happened. At the
//  end chaos_check proves, from the clients' histories and the journal:
//  every acknowledged message is in the journal exactly once with the
//  answer its client got, none is there twice, every balance answered is
//  the journal's, `tally audit verify` and `replay --compare` pass.
//
//    journal   the audit writer: a group commit that fails with EIO (how
//              LMDB reports a full disk) and with EROFS, a slow fsync
//              (200 ms each, then once 2.5 s, longer than an actor waits
//              for its append), the write of the next segment in a roll
//              failing, and the writer stopped dead after sealing a segment.
//    state     a balance actor's state commit after the journal
//              acknowledged a batch: once on a quiet cluster (the answer
//              stands and the reload from the journal brings the balance),
//              then for every batch of one actor for a while under load.
//    snapshot  the writer's store of state snapshots fails (EIO, EROFS);
//              the actor retries, and a new actor with no state takes over
//              from the snapshots saved since.
//
//  Usage: it_faults journal|state|snapshot BASE_PORT
#include <czmq.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaos.h"
#include "it_client.h"
#include "it_cluster.h"
#include "tally.h"
#include "tly_fault.h"
#include "tly_wire.h"

#define S_CLIENTS         4
#define S_USERS           4  //  per client: slots 0 and 1 are shared with the next clients
#define S_BATCH_MAX       8
#define S_INITIAL         5000
#define S_SEND_MS         10000  //  one send, with the SDK's resends of the same bytes
#define S_SETTLE_MS       60000  //  longest a client resends one envelope once a fault is off
#define S_WAIT_MS         30000  //  longest wait for a fault to fire, or for buys to go on
#define S_LOAD_BEFORE     100    //  messages acknowledged before a fault is armed
#define S_LOAD_AFTER      300    //  ... and after it is disarmed
#define S_ERRORS_MAX      16
#define S_ERROR_TEXT      (TLY_ERROR_TEXT_MAX + 48)
#define S_MAX_INITIAL     "1000000"
#define S_AUDIT_WAITS     "2000"  //  --audit-timeout-ms of the actors
#define S_SEGMENT_RECORDS "100"   //  --segment-records of the writer: a roll every 100 records

//  ---------------------------------------------------------------- clients

typedef struct {
    tly_account_t account;
    char id [TLY_ID_MAX];
    uint64_t hash;
    tly_sender_t *sender;
    bool created;  //  a createAccount was answered
} s_user_t;

//  An envelope some answer of which is still missing.
typedef struct {
    int user;
    size_t count;
    tly_msg_t msgs [S_BATCH_MAX];
    uint32_t history [S_BATCH_MAX];  //  indices into the client's history
} s_envelope_t;

//  An error a whole envelope got, and how often, in the current phase.
typedef struct {
    char text [S_ERROR_TEXT];
    uint64_t count;
} s_error_t;

typedef struct {
    int index;
    const char *gateway;
    const char *worker_id;
    uint64_t rng;
    s_user_t users [S_USERS];
    s_envelope_t *unanswered;
    size_t unanswered_count;
    size_t unanswered_size;
    chaos_msgs_t history;
    chaos_report_t report;
    s_error_t errors [S_ERRORS_MAX];
    size_t error_count;
    uint64_t acknowledged;  //  messages answered definitively (read by main)
    int settled;            //  the last phase it settled (read by main)
    pthread_t thread;
} s_client_t;

typedef enum {
    S_LOAD = 0,    //  buy
    S_SETTLE = 1,  //  resend what is unanswered, then wait
    S_END = 2      //  read every balance, and end
} s_mode_t;

static s_client_t s_clients [S_CLIENTS];
//  The messages a case sends outside the clients, checked with theirs.
static chaos_msgs_t s_own;
static tly_account_t s_shared [S_CLIENTS];
static volatile int s_mode = S_LOAD;
static volatile int s_phase_number = 0;

static int
s_mode_now (void)
{
    return __atomic_load_n (&s_mode, __ATOMIC_SEQ_CST);
}

static void
s_note_error (s_client_t *self, const tly_error_t *error)
{
    char text [S_ERROR_TEXT];
    snprintf (text, sizeof text, "%s %s \"%s\"", error->remote ? "remote" : "local",
              tly_error_name (error->code), error->message);
    for (size_t i = 0; i < self->error_count; i++)
        if (streq (self->errors [i].text, text)) {
            self->errors [i].count++;
            return;
        }
    CHECK (self->error_count < S_ERRORS_MAX);
    s_error_t *slot = &self->errors [self->error_count++];
    snprintf (slot->text, sizeof slot->text, "%s", text);
    slot->count = 1;
}

//  Takes one answer for history message index: the first definitive answer
//  stays, and every later one must be the same.
static void
s_answer (s_client_t *self, uint32_t index, const tly_result_t *result)
{
    chaos_msg_t *msg = &self->history.items [index];
    if (!result->ok && result->code == TALLY__ERROR_CODE__STALE_MESSAGE_ID) {
        msg->stale = 1;
        return;
    }
    chaos_msg_t answer = *msg;
    answer.state = result->ok ? CHAOS_OK : CHAOS_REFUSED;
    answer.code = result->ok ? 0 : (int32_t) result->code;
    answer.purchase = result->ok && result->kind == TLY_RESULT_PURCHASE;
    answer.value = !result->ok ? 0 : answer.purchase ? result->balance_after : result->balance;
    answer.result_id = result->ok ? chaos_hash (result->id) : 0;
    if (msg->state == CHAOS_UNANSWERED) {
        *msg = answer;
        __atomic_add_fetch (&self->acknowledged, 1, __ATOMIC_SEQ_CST);
        return;
    }
    if (msg->state != answer.state || msg->code != answer.code || msg->value != answer.value
        || msg->result_id != answer.result_id) {
        char hex [2 * TLY_MESSAGE_ID_BYTES + 1];
        sodium_bin2hex (hex, sizeof hex, msg->id, TLY_MESSAGE_ID_BYTES);
        chaos_violation (&self->report, "client %d: message %s answered %" PRId64 ", then %" PRId64,
                         self->index, hex, msg->value, answer.value);
    }
}

//  Signs the envelope now and sends it. Returns true when it was answered.
static bool
s_send (s_client_t *self, const s_envelope_t *envelope, int timeout_ms)
{
    s_user_t *user = &self->users [envelope->user];
    uint8_t *bytes = NULL;
    size_t size = 0;
    CHECK (tly_sender_seal (user->sender, envelope->msgs, envelope->count, tly_now_ms (), &bytes,
                            &size)
           == 0);
    self->report.envelopes++;
    tly_result_t results [S_BATCH_MAX];
    size_t count = 0;
    int rc = tly_sender_send_raw (user->sender, bytes, size, timeout_ms, results, S_BATCH_MAX,
                                  &count);
    free (bytes);
    if (rc != 0) {
        s_note_error (self, tly_sender_error (user->sender));
        return false;
    }
    if (count != envelope->count) {
        chaos_violation (&self->report, "client %d: %zu results for %zu messages", self->index,
                         count, envelope->count);
        return true;
    }
    for (size_t i = 0; i < count; i++) {
        if (memcmp (results [i].message_id, envelope->msgs [i].id, TLY_MESSAGE_ID_BYTES) != 0) {
            chaos_violation (&self->report, "client %d: an envelope answered for another",
                             self->index);
            return true;
        }
        s_answer (self, envelope->history [i], &results [i]);
        if (results [i].ok && results [i].kind == TLY_RESULT_BALANCE)
            user->created = true;
    }
    return true;
}

static void
s_keep_unanswered (s_client_t *self, const s_envelope_t *envelope)
{
    if (self->unanswered_count == self->unanswered_size) {
        self->unanswered_size = self->unanswered_size ? 2 * self->unanswered_size : 64;
        self->unanswered = realloc (self->unanswered,
                                    self->unanswered_size * sizeof (s_envelope_t));
        CHECK (self->unanswered);
    }
    self->unanswered [self->unanswered_count++] = *envelope;
}

//  A new envelope for one user: its createAccount first, then buys (one
//  message mostly, else 2..S_BATCH_MAX).
static void
s_new_envelope (s_client_t *self, int slot, bool read)
{
    s_envelope_t envelope = { .user = slot };
    s_user_t *user = &self->users [slot];
    envelope.count = read || th_rng_next (&self->rng) % 10 < 7 ? 1
                                                               : 2 + th_rng_next (&self->rng) % 7;
    for (size_t i = 0; i < envelope.count; i++) {
        tly_msg_t *msg = &envelope.msgs [i];
        if (read)
            CHECK (tly_msg_create_account (msg, 0) == 0);
        else if (i == 0 && !user->created)
            CHECK (tly_msg_create_account (msg, S_INITIAL) == 0);
        else {
            char item [32];
            snprintf (item, sizeof item, "item-%d", (int) (th_rng_next (&self->rng) % 50));
            CHECK (tly_msg_buy (msg, item, 1 + (int64_t) (th_rng_next (&self->rng) % 20)) == 0);
        }
        chaos_msg_t *sent = chaos_msgs_add (&self->history);
        sent->sender = user->hash;
        memcpy (sent->id, msg->id, TLY_MESSAGE_ID_BYTES);
        envelope.history [i] = (uint32_t) (self->history.count - 1);
    }
    if (!s_send (self, &envelope, S_SEND_MS))
        s_keep_unanswered (self, &envelope);
}

//  Resends every unanswered envelope until it is answered.
static void
s_settle (s_client_t *self)
{
    for (size_t i = 0; i < self->unanswered_count; i++) {
        int64_t deadline = tly_mono_ms () + S_SETTLE_MS;
        while (!s_send (self, &self->unanswered [i], S_SEND_MS))
            if (tly_mono_ms () > deadline)
                th_fail (__FILE__, __LINE__,
                         "client %d: an envelope unanswered %d ms after the "
                         "fault was disarmed",
                         self->index, S_SETTLE_MS);
    }
    self->unanswered_count = 0;
}

static void
s_user_open (s_client_t *self, int slot, const tly_account_t *account)
{
    s_user_t *user = &self->users [slot];
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

static void *
s_client (void *arg)
{
    s_client_t *self = arg;
    s_user_open (self, 0, &s_shared [self->index]);
    s_user_open (self, 1, &s_shared [(self->index + 1) % S_CLIENTS]);
    for (int slot = 2; slot < S_USERS; slot++)
        s_user_open (self, slot, NULL);
    for (;;) {
        int mode = s_mode_now ();
        if (mode == S_LOAD)
            s_new_envelope (self, (int) (th_rng_next (&self->rng) % S_USERS), false);
        else if (mode == S_SETTLE) {
            int phase = __atomic_load_n (&s_phase_number, __ATOMIC_SEQ_CST);
            if (__atomic_load_n (&self->settled, __ATOMIC_SEQ_CST) != phase) {
                s_settle (self);
                __atomic_store_n (&self->settled, phase, __ATOMIC_SEQ_CST);
            } else
                th_sleep_ms (5);  //  a poll of the mode, not a wait for the cluster
        } else
            break;
    }
    //  Every balance read, its answer checked against the journal's.
    for (int slot = 0; slot < S_USERS; slot++) {
        s_new_envelope (self, slot, true);
        s_settle (self);
    }
    for (int slot = 0; slot < S_USERS; slot++)
        tly_sender_destroy (&self->users [slot].sender);
    return NULL;
}

static uint64_t
s_acknowledged (void)
{
    uint64_t total = 0;
    for (int c = 0; c < S_CLIENTS; c++)
        total += __atomic_load_n (&s_clients [c].acknowledged, __ATOMIC_SEQ_CST);
    return total;
}

static void
s_clients_start (it_cluster_t *cluster)
{
    for (int c = 0; c < S_CLIENTS; c++)
        CHECK (tly_account_generate (&s_shared [c]) == 0);
    for (int c = 0; c < S_CLIENTS; c++) {
        s_client_t *client = &s_clients [c];
        client->index = c;
        client->gateway = cluster->gateway;
        client->worker_id = cluster->worker_id;
        client->rng = 1000 + (uint64_t) c;
        CHECK (pthread_create (&client->thread, NULL, s_client, client) == 0);
    }
}

//  ---------------------------------------------------------------- phases

//  A line a phase must leave in a log: in child's, or (child NULL) in any
//  balance actor's.
typedef struct {
    const char *child;
    const char *text;
} s_line_t;

typedef struct {
    const char *name;
    const char *child;  //  whose fault points are armed
    const char *spec;   //  NULL: no fault, only load (after a takeover)
    const char *point;  //  counted in child's fault.injected lines
    int fires;          //  the fault fires at least this often before it is disarmed
    s_line_t until;     //  ... and stays armed until this line is logged (text NULL: no line)
    bool exits;         //  the fault ends child (exit): it is restarted
    //  What a whole envelope may be refused with meanwhile (substrings of
    //  "remote|local CODE \"message\""); none of anything else.
    const char *allowed [4];
    s_line_t lines [4];
} s_phase_t;

static int
s_actors_logged (it_cluster_t *cluster, const char *text)
{
    int lines = 0;
    for (int i = 0; i < cluster->child_count; i++)
        if (strncmp (cluster->children [i].name, "balance-", 8) == 0)
            lines += it_logged (cluster, cluster->children [i].name, text);
    return lines;
}

//  The actors' lines holding text once there are at least want of them, or
//  what there are at a deadline: an actor logs after it has answered.
static int
s_actors_logged_wait (it_cluster_t *cluster, const char *text, int want)
{
    int64_t deadline = zclock_mono () + 10000;
    int lines = s_actors_logged (cluster, text);
    while (lines < want && zclock_mono () < deadline) {
        zclock_sleep (20);  //  polling the logs under a deadline
        lines = s_actors_logged (cluster, text);
    }
    return lines;
}

static int
s_logged (it_cluster_t *cluster, const s_line_t *line)
{
    return line->child ? it_logged (cluster, line->child, line->text)
                       : s_actors_logged (cluster, line->text);
}

static int
s_fired (it_cluster_t *cluster, const s_phase_t *phase)
{
    char text [96];
    snprintf (text, sizeof text, "event=fault.injected point=%s ", phase->point);
    return it_logged (cluster, phase->child, text);
}

static void
s_all_running (it_cluster_t *cluster)
{
    for (int i = 0; i < cluster->child_count; i++) {
        it_child_t *child = &cluster->children [i];
        if (!child->removed && !th_process_running (child->process))
            th_fail (__FILE__, __LINE__, "%s exited (code %d)", child->name,
                     th_process_status (child->process));
    }
}

//  Every client resends what is unanswered; returns once all have.
static void
s_settle_all (void)
{
    int phase = __atomic_add_fetch (&s_phase_number, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n (&s_mode, S_SETTLE, __ATOMIC_SEQ_CST);
    for (int c = 0; c < S_CLIENTS; c++)
        TH_WAIT_UNTIL (__atomic_load_n (&s_clients [c].settled, __ATOMIC_SEQ_CST) == phase,
                       S_CLIENTS * S_SETTLE_MS, th_sleep_ms (10));
}

//  The errors the clients saw in the phase: printed, each allowed; then
//  forgotten for the next phase. (Read while the clients wait, settled.)
static void
s_check_errors (const s_phase_t *phase)
{
    for (int c = 0; c < S_CLIENTS; c++) {
        s_client_t *client = &s_clients [c];
        for (size_t e = 0; e < client->error_count; e++) {
            const char *text = client->errors [e].text;
            printf ("  client %d: %" PRIu64 " x %s\n", c, client->errors [e].count, text);
            bool allowed = false;
            for (int a = 0; phase->allowed [a]; a++)
                allowed |= strstr (text, phase->allowed [a]) != NULL;
            if (!allowed)
                th_fail (__FILE__, __LINE__, "phase %s: a client got %s", phase->name, text);
        }
        client->error_count = 0;
    }
}

static void
s_phase (it_cluster_t *cluster, const s_phase_t *phase)
{
    printf ("phase %s: %s %s\n", phase->name, phase->child ? phase->child : "",
            phase->spec ? phase->spec : "(no fault)");
    fflush (stdout);
    int64_t start = tly_mono_ms ();
    __atomic_store_n (&s_mode, S_LOAD, __ATOMIC_SEQ_CST);
    uint64_t acknowledged = s_acknowledged ();
    TH_WAIT_UNTIL (s_acknowledged () >= acknowledged + S_LOAD_BEFORE, S_WAIT_MS, th_sleep_ms (10));
    if (phase->spec) {
        int fired = s_fired (cluster, phase);
        int disarmed = it_logged (cluster, phase->child, "event=fault.armed from=file faults=\"\"");
        it_cluster_faults (cluster, phase->child, phase->spec);
        if (phase->exits) {
            th_process_t *process = it_cluster_process (cluster, phase->child);
            TH_WAIT_UNTIL (!th_process_running (process), S_WAIT_MS, th_sleep_ms (10));
            CHECK (th_process_status (process) == TLY_FAULT_EXIT);
            printf ("  %s exited %d; restarted\n", phase->child, TLY_FAULT_EXIT);
            it_cluster_faults (cluster, phase->child, "");
            it_cluster_restart (cluster, phase->child);
        } else {
            TH_WAIT_UNTIL (s_fired (cluster, phase) >= fired + phase->fires
                               && (!phase->until.text || s_logged (cluster, &phase->until) > 0),
                           S_WAIT_MS, th_sleep_ms (10));
            it_cluster_faults (cluster, phase->child, "");
        }
        //  The child has read the file again (at a hit, or at its start).
        TH_WAIT_UNTIL (it_logged (cluster, phase->child, "event=fault.armed from=file faults=\"\"")
                           > disarmed,
                       S_WAIT_MS, th_sleep_ms (10));
        printf ("  fired %d times\n", s_fired (cluster, phase) - fired);
    }
    //  Buys go on.
    acknowledged = s_acknowledged ();
    TH_WAIT_UNTIL (s_acknowledged () >= acknowledged + S_LOAD_AFTER, S_WAIT_MS, th_sleep_ms (10));
    s_settle_all ();
    s_all_running (cluster);
    for (int l = 0; phase->lines [l].text; l++) {
        const s_line_t *line = &phase->lines [l];
        int lines = s_logged (cluster, line);
        printf ("  %d x %s in %s\n", lines, line->text, line->child ? line->child : "the actors");
        CHECK (lines > 0);
    }
    s_check_errors (phase);
    printf ("  %" PRIu64 " messages acknowledged so far; %.1f s\n", s_acknowledged (),
            (double) (tly_mono_ms () - start) / 1000);
    fflush (stdout);
}

//  Ends the load (each client reads its users' balances) and proves the
//  guarantees from the histories and the journal.
static void
s_finish (it_cluster_t *cluster)
{
    __atomic_store_n (&s_mode, S_END, __ATOMIC_SEQ_CST);
    chaos_msgs_t history = { 0 };
    chaos_report_t report = { 0 };
    for (size_t m = 0; m < s_own.count; m++)
        *chaos_msgs_add (&history) = s_own.items [m];
    free (s_own.items);
    for (int c = 0; c < S_CLIENTS; c++) {
        s_client_t *client = &s_clients [c];
        CHECK (pthread_join (client->thread, NULL) == 0);
        for (size_t m = 0; m < client->history.count; m++)
            *chaos_msgs_add (&history) = client->history.items [m];
        report.envelopes += client->report.envelopes;
        if (client->report.violations) {
            report.violations += client->report.violations;
            snprintf (report.first_violation, sizeof report.first_violation, "%s",
                      client->report.first_violation);
        }
        for (size_t m = 0; m < client->history.count; m++)
            CHECK (!client->history.items [m].stale);
        free (client->history.items);
        free (client->unanswered);
    }
    chaos_check (cluster, &history, &report);
    printf ("checked: %" PRIu64 " envelopes, %" PRIu64 " messages, %" PRIu64
            " acknowledged, %" PRIu64 " unanswered, %" PRIu64 " lost, %" PRIu64
            " applied twice, %" PRIu64 " with another result; journal: %" PRIu64
            " records, %" PRIu64 " purchases, %" PRIu64 " accounts\n",
            report.envelopes, report.sent, report.acknowledged, report.unanswered, report.lost,
            report.twice, report.different, report.records, report.purchases, report.accounts);
    if (report.violations)
        th_fail (__FILE__, __LINE__, "%" PRIu64 " violations, the first: %s", report.violations,
                 report.first_violation);
    CHECK (report.unanswered == 0 && report.lost == 0 && report.twice == 0);
    free (history.items);
}

//  ---------------------------------------------------------------- journal

static void
s_case_journal (int base_port)
{
    static const char *audit_args [] = { "--segment-records", S_SEGMENT_RECORDS, NULL };
    static const char *actor_args [] = { "--max-initial", S_MAX_INITIAL, "--audit-timeout-ms",
                                         S_AUDIT_WAITS, NULL };
    it_audit_extra_args = audit_args;
    it_balance_extra_args = actor_args;
    it_cluster_t *cluster = it_cluster_start (base_port, 2, 1);
    s_clients_start (cluster);
    const s_phase_t phases [] = {
        //  Every commit from the fifth on fails (a partition's claim too,
        //  while the actors still load theirs) until a group commit has.
        { .name = "commit-eio",
          .child = "audit",
          .spec = "journal.commit=fail@5+",
          .point = "journal.commit",
          .fires = 1,
          .until = { "audit", "event=journal.storage_full" },
          .allowed = { "remote UNAVAILABLE \"journal storage full\"" },
          .lines = { { "audit", "event=journal.storage_full" },
                     { "audit", "event=journal.storage_recovered" } } },
        //  Each failed commit costs its routes one of the router's
        //  attempts: a route that meets three is refused.
        { .name = "commit-erofs",
          .child = "audit",
          .spec = "journal.commit=fail:EROFS@5+",
          .point = "journal.commit",
          .fires = 1,
          .until = { NULL, "event=append.refused" },
          .allowed = { "remote UNAVAILABLE \"no balance actor answered\"" },
          .lines = { { "audit", "error=\"Read-only file system\"" },
                     { NULL, "event=partition.reload" } } },
        { .name = "slow-fsync",
          .child = "audit",
          .spec = "journal.sync=delay:200",
          .point = "journal.sync",
          .fires = 1 },
        { .name = "fsync-past-timeout",
          .child = "audit",
          .spec = "journal.sync=delay:2500@3",
          .point = "journal.sync",
          .fires = 1,
          .lines = { { NULL, "event=append.timeout" } } },
        { .name = "roll-erofs",
          .child = "audit",
          .spec = "journal.roll=fail:EROFS@1",
          .point = "journal.roll",
          .fires = 1,
          .lines = { { "audit", "op=make_segment" } } },
        { .name = "roll-exit",
          .child = "audit",
          .spec = "journal.roll.sealed=exit@1",
          .point = "journal.roll.sealed",
          .exits = true,
          .allowed = { "UNAVAILABLE", "TIMEOUT" },
          .lines = { { "audit", "event=journal.roll_resumed" } } },
    };
    for (size_t p = 0; p < sizeof phases / sizeof phases [0]; p++)
        s_phase (cluster, &phases [p]);
    s_finish (cluster);
    it_cluster_stop (&cluster);
}

//  ---------------------------------------------------------------- state

//  One message sent outside the clients, and its answer, for the check.
static tly_result_t
s_own_send (tly_sender_t *sender, const it_user_t *user, const tly_msg_t *msg)
{
    tly_result_t result = it_send (sender, msg);
    chaos_msg_t *sent = chaos_msgs_add (&s_own);
    sent->sender = chaos_hash (user->id);
    memcpy (sent->id, msg->id, TLY_MESSAGE_ID_BYTES);
    sent->state = result.ok ? CHAOS_OK : CHAOS_REFUSED;
    sent->code = result.ok ? 0 : (int32_t) result.code;
    sent->purchase = result.ok && result.kind == TLY_RESULT_PURCHASE;
    sent->value = !result.ok ? 0 : sent->purchase ? result.balance_after : result.balance;
    sent->result_id = result.ok ? chaos_hash (result.id) : 0;
    return result;
}

static tly_result_t
s_own_create (tly_sender_t *sender, const it_user_t *user, int64_t initial)
{
    tly_msg_t msg;
    CHECK (tly_msg_create_account (&msg, initial) == 0);
    return s_own_send (sender, user, &msg);
}

static tly_result_t
s_own_buy (tly_sender_t *sender, const it_user_t *user, int64_t amount)
{
    tly_msg_t msg;
    CHECK (tly_msg_buy (&msg, "item-quiet", amount) == 0);
    return s_own_send (sender, user, &msg);
}

//  On a quiet cluster, one buy whose state commit fails after its answer
//  (both actors armed; only the user's owner hits the point): the answer
//  stands, and the reload from the journal gives the balance it said.
static void
s_state_quiet (it_cluster_t *cluster)
{
    it_user_t user;
    it_user_new (&user);
    tly_sender_t *sender = it_sender (cluster->gateway, cluster->worker_id, &user);
    CHECK (s_own_create (sender, &user, S_INITIAL).balance == S_INITIAL);
    it_cluster_faults (cluster, "balance-1", "state.commit=fail@1");
    it_cluster_faults (cluster, "balance-2", "state.commit=fail@1");
    tly_result_t bought = s_own_buy (sender, &user, 7);
    CHECK (bought.ok && bought.balance_after == S_INITIAL - 7);
    //  The commit that fails comes after the answer: wait for its line.
    CHECK (s_actors_logged_wait (cluster, "event=fault.injected point=state.commit ", 1) == 1);
    CHECK (s_actors_logged_wait (cluster, "event=partition.reload", 1) == 1);
    it_cluster_faults (cluster, "balance-1", "");
    it_cluster_faults (cluster, "balance-2", "");
    CHECK (s_own_create (sender, &user, 0).balance == S_INITIAL - 7);
    tly_result_t again = s_own_buy (sender, &user, 3);
    CHECK (again.ok && again.balance_after == S_INITIAL - 10);
    printf ("quiet: a buy answered %d, its state commit failed, the balance after the reload"
            " is %d\n",
            S_INITIAL - 7, S_INITIAL - 7);
    tly_sender_destroy (&sender);
}

static void
s_case_state (int base_port)
{
    static const char *actor_args [] = { "--max-initial", S_MAX_INITIAL, NULL };
    it_balance_extra_args = actor_args;
    it_cluster_t *cluster = it_cluster_start (base_port, 2, 1);
    s_state_quiet (cluster);
    s_clients_start (cluster);
    const s_phase_t phases [] = {
        { .name = "state-commit-once",
          .child = "balance-1",
          .spec = "state.commit=fail@3",
          .point = "state.commit",
          .fires = 1,
          .lines = { { "balance-1", "event=partition.reload partition" } } },
        { .name = "state-commit-every-batch",
          .child = "balance-2",
          .spec = "state.commit=fail",
          .point = "state.commit",
          .fires = 30,
          .lines = { { "balance-2", "event=partition.reload partition" } } },
    };
    for (size_t p = 0; p < sizeof phases / sizeof phases [0]; p++)
        s_phase (cluster, &phases [p]);
    s_finish (cluster);
    it_cluster_stop (&cluster);
}

//  ---------------------------------------------------------------- snapshot

static void
s_case_snapshot (int base_port)
{
    static const char *actor_args [] = {
        "--max-initial", S_MAX_INITIAL, "--state-snapshot-records", "20", "--state-snapshot-ms",
        "300",           NULL
    };
    it_balance_extra_args = actor_args;
    it_cluster_t *cluster = it_cluster_start (base_port, 1, 1);
    s_clients_start (cluster);
    const s_phase_t phases [] = {
        { .name = "snapshot-eio",
          .child = "audit",
          .spec = "snapshot.save=fail",
          .point = "snapshot.save",
          .fires = 3,
          .lines = { { "balance-1", "message=\"snapshot storage full\"" } } },
        { .name = "snapshot-erofs",
          .child = "audit",
          .spec = "snapshot.save=fail:EROFS",
          .point = "snapshot.save",
          .fires = 3,
          .lines = { { "balance-1", "message=\"snapshot not stored\"" } } },
    };
    for (size_t p = 0; p < sizeof phases / sizeof phases [0]; p++)
        s_phase (cluster, &phases [p]);
    //  Snapshots are stored again under load, then a new actor with no
    //  state takes over.
    int saved = it_logged (cluster, "balance-1", "event=snapshot.saved");
    __atomic_store_n (&s_mode, S_LOAD, __ATOMIC_SEQ_CST);
    TH_WAIT_UNTIL (it_logged (cluster, "balance-1", "event=snapshot.saved") > saved, S_WAIT_MS,
                   th_sleep_ms (50));
    s_settle_all ();
    CHECK (it_cluster_remove (cluster, "balance-1") == 0);
    char state [512];
    snprintf (state, sizeof state, "%s/balance-1", cluster->dir);
    th_dir_remove (state);
    it_cluster_add_actor (cluster, "balance-2");
    CHECK (it_wait_actors (cluster->gateway, 1, S_WAIT_MS));
    const s_phase_t takeover = { .name = "takeover",
                                 .lines = { { "balance-2", "event=snapshot.loaded" } } };
    s_phase (cluster, &takeover);
    s_finish (cluster);
    it_cluster_stop (&cluster);
}

int
main (int argc, char **argv)
{
    if (argc != 3) {
        fprintf (stderr, "usage: it_faults journal|state|snapshot BASE_PORT\n");
        return 2;
    }
#if !defined(TLY_FAULTS_BUILD)
    printf ("it_faults %s: skipped: the fault points are not compiled in (configure with"
            " -DTALLY_FAULTS=ON, as make test does)\n",
            argv [1]);
    return 77;
#endif
    zsys_init ();
    zsys_set_linger (0);
    int base_port = atoi (argv [2]);
    if (streq (argv [1], "journal"))
        s_case_journal (base_port);
    else if (streq (argv [1], "state"))
        s_case_state (base_port);
    else if (streq (argv [1], "snapshot"))
        s_case_snapshot (base_port);
    else {
        fprintf (stderr, "it_faults: unknown case %s\n", argv [1]);
        return 2;
    }
    printf ("it_faults %s: OK\n", argv [1]);
    return 0;
}
