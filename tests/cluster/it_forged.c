//  The journal checks what it is given (issue 14): a real cluster's journal
//  verifies, and a copy in which one record was forged as a writer holding
//  the worker's key could (the chain linked again, the checkpoints signed
//  again) fails `tally audit verify`, which names the record, its segment
//  file, partition and user, and what its event says against what the
//  signed envelope and the state give. The forgeries are the attack of the
//  issue (a createAccount(0) whose AccountCreated says 1,000,000,000) and a
//  purchase that takes nothing from the balance (its event dropped); and a
//  state snapshot whose balance was raised and signed again, which verify
//  finds against the state the records give at the snapshot's record.
//  Usage: it_forged BASE_PORT
#include <czmq.h>
#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "it_cluster.h"
#include "journal_forge.h"
#include "tally.h"
#include "tly_wire.h"

#define S_TIMEOUT_MS  10000
#define S_COMMAND_MS  120000
#define S_USERS       6
#define S_BUYS        40
#define S_FORGED      1000000000LL
#define S_SEGMENT_MAX 8  //  segment files a copy takes (the journal has one)
#define S_WAIT_MS     20000

//  The actors save their partitions' state often, so the run has snapshots.
static const char *s_actor_args [] = { "--state-snapshot-records", "4", "--state-snapshot-ms",
                                       "300", NULL };

typedef struct {
    tly_account_t account;
    char id [TLY_ID_MAX];
    tly_sender_t *sender;
} s_user_t;

static void
s_send (s_user_t *user, tly_msg_t *msgs, size_t count, tly_result_t *results)
{
    CHECK (tly_sender_send (user->sender, msgs, count, S_TIMEOUT_MS, results) == 0);
}

//  The workload: the attacker's createAccount(0), the others' accounts and
//  buys, refusals, and resends (the same signed bytes, and an old message
//  ID in a new envelope beside a new one).
static void
s_workload (s_user_t *users)
{
    tly_msg_t msgs [2];
    tly_result_t results [2];
    tly_msg_create_account (&msgs [0], 0);
    s_send (&users [0], msgs, 1, results);
    CHECK (results [0].ok && results [0].balance == 0);
    for (int u = 1; u < S_USERS; u++) {
        tly_msg_create_account (&msgs [0], 100);
        s_send (&users [u], msgs, 1, results);
        CHECK (results [0].ok && results [0].balance == 100);
    }
    for (int b = 0; b < S_BUYS; b++) {
        s_user_t *user = &users [1 + b % (S_USERS - 1)];
        tly_msg_buy (&msgs [0], "sword", 1 + b % 5);
        s_send (user, msgs, 1, results);
        CHECK (results [0].ok);
        if (b % 10 == 0) {
            //  A resend beside a new message: its first result, no second effect.
            tly_msg_t first = msgs [0];
            tly_result_t answered = results [0];
            msgs [1] = first;
            tly_msg_buy (&msgs [0], "shield", 2);
            s_send (user, msgs, 2, results);
            CHECK (results [0].ok && results [1].ok);
            CHECK (results [1].balance_after == answered.balance_after);
            CHECK (streq (results [1].id, answered.id));
        }
    }
    //  A refusal: more than the balance.
    tly_msg_buy (&msgs [0], "castle", 1000);
    s_send (&users [1], msgs, 1, results);
    CHECK (!results [0].ok && results [0].code == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    tly_msg_buy (&msgs [0], "sword", 1);
    uint8_t *sealed;
    size_t size, count;
    CHECK (tly_sender_seal (users [2].sender, msgs, 1, tly_now_ms (), &sealed, &size) == 0);
    CHECK (tly_sender_send_raw (users [2].sender, sealed, size, S_TIMEOUT_MS, results, 2, &count)
           == 0);
    CHECK (count == 1 && results [0].ok);
    //  The same signed bytes again: answered, nothing journaled.
    tly_result_t again;
    CHECK (tly_sender_send_raw (users [2].sender, sealed, size, S_TIMEOUT_MS, &again, 1, &count)
           == 0);
    CHECK (count == 1 && again.ok && again.balance_after == results [0].balance_after);
    free (sealed);
}

static void
s_copy_file (const char *from, const char *to)
{
    FILE *in = fopen (from, "rb"), *out = fopen (to, "wb");
    CHECK (in && out);
    char buffer [1 << 16];
    size_t size;
    while ((size = fread (buffer, 1, sizeof buffer, in)) > 0)
        CHECK (fwrite (buffer, 1, size, out) == size);
    fclose (in);
    CHECK (fclose (out) == 0);
}

//  Copies tally-audit's data (DATA/journal's one segment file, and the state
//  snapshots, DATA/snapshots) into dir/journal and dir/snapshots.
static void
s_copy_data (const char *data, const char *dir)
{
    char from [700], to [700];
    CHECK (mkdir (dir, 0700) == 0);
    snprintf (to, sizeof to, "%s/journal", dir);
    CHECK (mkdir (to, 0700) == 0);
    snprintf (to, sizeof to, "%s/journal/segments", dir);
    CHECK (mkdir (to, 0700) == 0);
    snprintf (to, sizeof to, "%s/snapshots", dir);
    CHECK (mkdir (to, 0700) == 0);
    snprintf (from, sizeof from, "%s/snapshots/data.mdb", data);
    snprintf (to, sizeof to, "%s/snapshots/data.mdb", dir);
    s_copy_file (from, to);
    snprintf (from, sizeof from, "%s/journal/segments", data);
    DIR *segments = opendir (from);
    CHECK (segments);
    int copied = 0;
    struct dirent *entry;
    while ((entry = readdir (segments))) {
        size_t length = strlen (entry->d_name);
        if (length < 4 || strcmp (entry->d_name + length - 4, ".mdb") != 0)
            continue;
        CHECK (++copied <= S_SEGMENT_MAX);
        snprintf (from, sizeof from, "%s/journal/segments/%s", data, entry->d_name);
        snprintf (to, sizeof to, "%s/journal/segments/%s", dir, entry->d_name);
        s_copy_file (from, to);
    }
    closedir (segments);
    CHECK (copied == 1);
}

//  `tally audit verify` (or replay) on a copy: its exit code, its output in *output.
static int
s_audit (const char *command, const char *dir, const char *worker_id, char **output)
{
    char journal [600];
    snprintf (journal, sizeof journal, "%s/journal", dir);
    char *argv [] = { TALLY_CLI_BIN, "audit",    (char *) command,   "--journal",
                      journal,       "--worker", (char *) worker_id, NULL };
    if (strcmp (command, "replay") == 0)
        argv [5] = NULL;  //  replay takes no worker
    int code = th_run (argv, NULL, TH_OUTPUT_CAPTURE_STDOUT, output, S_COMMAND_MS);
    printf ("tally audit %s %s: exit %d\n%s", command, dir, code, *output);
    return code;
}

//  ---------------------------------------------------------------- forgeries

typedef struct {
    const uint8_t *user;  //  whose record to forge
    bool created;         //  the AccountCreated (else: the first purchase's event dropped)
} s_forgery_t;

static bool
s_forge (uint64_t seq, Tally__RecordDraft *draft, void *arg)
{
    (void) seq;
    const s_forgery_t *forgery = arg;
    if (draft->n_events == 0)
        return false;
    Tally__Event *event = draft->events [0];
    if (forgery->created && event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED
        && memcmp (event->account_created->user.data, forgery->user, TLY_KEY_BYTES) == 0) {
        //  The event and the answer agree, as a careful forger makes them.
        event->account_created->initial_balance = S_FORGED;
        draft->results [0]->balance->balance = S_FORGED;
        return true;
    }
    if (!forgery->created && event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED
        && memcmp (event->purchase_recorded->user.data, forgery->user, TLY_KEY_BYTES) == 0) {
        tally__event__free_unpacked (event, NULL);
        memmove (draft->events, draft->events + 1, --draft->n_events * sizeof *draft->events);
        return true;
    }
    return false;
}

static void
s_check_forged (const char *dir, it_cluster_t *cluster, const s_forgery_t *forgery,
                const char *user_id, const char *reason)
{
    char journal [600];
    snprintf (journal, sizeof journal, "%s/journal", dir);
    uint64_t seq = journal_forge (journal, s_forge, (void *) forgery, &cluster->worker);
    CHECK (seq > 0);
    char *output;
    CHECK (s_audit ("verify", dir, cluster->worker_id, &output) == 1);
    char named [256];
    snprintf (named, sizeof named, ".mdb: record %" PRIu64 ": partition ", seq);
    CHECK (strstr (output, "verify: FAILED: segment "));
    CHECK (strstr (output, named));
    CHECK (strstr (output, user_id));
    CHECK (strstr (output, reason));
    free (output);
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: it_forged BASE_PORT\n");
        return 2;
    }
    zsys_init ();
    zsys_set_linger (0);
    it_balance_extra_args = s_actor_args;
    it_cluster_t *cluster = it_cluster_start (atoi (argv [1]), 2, 1);
    s_user_t users [S_USERS];
    for (int u = 0; u < S_USERS; u++) {
        CHECK (tly_account_generate (&users [u].account) == 0);
        tly_account_id (users [u].account.sign_pk, users [u].id);
        users [u].sender = tly_sender_new_curve (cluster->gateway, it_gateway_key,
                                                 cluster->worker_id, &users [u].account);
        CHECK (users [u].sender);
    }
    s_workload (users);

    //  Once the actors have saved their partitions, the writer stops cleanly
    //  (it signs the head), and its data is copied four times.
    TH_WAIT_UNTIL (it_logged (cluster, "audit", "event=snapshot.stored") >= 2, S_WAIT_MS,
                   th_sleep_ms (20));
    it_cluster_kill (cluster, "audit", SIGTERM);
    char scratch [256], data [512], honest [512], created [512], dropped [512], state [512];
    th_dir_new (scratch, sizeof scratch, "it_forged");
    snprintf (data, sizeof data, "%s/audit", cluster->dir);
    snprintf (honest, sizeof honest, "%s/honest", scratch);
    snprintf (created, sizeof created, "%s/created", scratch);
    snprintf (dropped, sizeof dropped, "%s/dropped", scratch);
    snprintf (state, sizeof state, "%s/state", scratch);
    s_copy_data (data, honest);
    s_copy_data (data, created);
    s_copy_data (data, dropped);
    s_copy_data (data, state);
    it_cluster_restart (cluster, "audit");

    //  The honest journal verifies, every record derived from its envelope,
    //  and the state snapshots agree with the records.
    char *output;
    CHECK (s_audit ("verify", honest, cluster->worker_id, &output) == 0);
    CHECK (strstr (output, "verify: every record's events and results follow from its signed"
                           " envelope and the state before it (4 resends"));
    CHECK (strstr (output, " state snapshots agree with the records; 0 were"));
    CHECK (!strstr (output, "verify: 0 state snapshots agree"));
    CHECK (!strstr (output, "not used"));
    free (output);

    //  The attack: the AccountCreated of a createAccount(0) says
    //  1,000,000,000. The chain and every checkpoint hold, and replay, which
    //  follows the events, finds the balance.
    s_forgery_t forgery = { .user = users [0].account.sign_pk, .created = true };
    s_check_forged (created, cluster, &forgery, users [0].id,
                    "message 1 of 1 (createAccount initialBalance 0): AccountCreated says"
                    " initial_balance 1000000000; the envelope and the state give 0");
    CHECK (s_audit ("replay", created, NULL, &output) == 0);
    CHECK (strstr (output, "replay: OK"));
    free (output);

    //  A purchase for nothing: its event taken out, the balance left as it was.
    forgery = (s_forgery_t) { .user = users [1].account.sign_pk, .created = false };
    s_check_forged (dropped, cluster, &forgery, users [1].id,
                    "(buy \"sword\" amount 1): the record has no PurchaseRecorded for it; the"
                    " envelope and the state give one with balance_after 99");

    //  A state snapshot whose balance was raised, signed again: an actor
    //  taking the partition would load it; verify finds it at its record.
    char snapshots [600];
    snprintf (snapshots, sizeof snapshots, "%s/snapshots", state);
    uint8_t user [TLY_KEY_BYTES];
    uint32_t partition;
    uint64_t seq = journal_forge_snapshot (snapshots, 1000, &cluster->worker, user, &partition);
    CHECK (seq > 0);
    char user_id [TLY_ID_MAX], named [600];
    tly_account_id (user, user_id);
    snprintf (named, sizeof named,
              ".mdb: record %" PRIu64 ": the state snapshot of partition %" PRIu32
              " at this record says user %s has balance ",
              seq, partition, user_id);
    CHECK (s_audit ("verify", state, cluster->worker_id, &output) == 1);
    CHECK (strstr (output, named));
    free (output);

    th_dir_remove (scratch);
    for (int u = 0; u < S_USERS; u++)
        tly_sender_destroy (&users [u].sender);
    it_cluster_stop (&cluster);
    printf ("it_forged: OK\n");
    return 0;
}
