//  Integration tests of state snapshots: real processes, real sockets.
//  Usage: it_snapshot CASE BASE_PORT
//
//  takeover: the actors save their partitions' state often; one actor is
//  stopped and its state wiped, and a new actor with no state takes its
//  partitions: it loads the snapshots (its log says which), every balance
//  is exact, and a resend of each user's last message gets its first result.
//  archive, delete: the same with a journal of small segments and the
//  writer's retention on: the sealed segments every snapshot is past are
//  archived (verify and replay still read them) or deleted (a new actor
//  never needs them). Throughout, `tally status` shows the snapshots and
//  the archived segments as the writer holds them.
//  crash: the same, but the new actor dies in the middle of its loads (the
//  fault point snapshot.load, `exit`, before the commit of its second
//  part: a build with -DTALLY_FAULTS=ON, else the case exits 77) and is
//  started again on the state it left: it loads the rest, and every
//  balance, resend and the replay's comparison of its state are exact.
#include <czmq.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_client.h"
#include "it_cluster.h"
#include "tally.h"
#include "tly_fault.h"
#include "tly_partition.h"
#include "tly_wire.h"

#define S_USERS      16
#define S_BUYS       9
#define S_WAIT_MS    20000
#define S_COMMAND_MS 60000
#define S_TIMEOUT_MS 10000

static const char *s_actor_args [] = { "--state-snapshot-records", "4", "--state-snapshot-ms",
                                       "300", NULL };

typedef struct {
    it_user_t user;
    uint32_t partition;
    int64_t balance;
    uint8_t *last;  //  the last buy's signed envelope
    size_t last_size;
    tly_result_t last_result;
} s_user_t;

//  Each user: createAccount 100, then S_BUYS buys (the last one kept as
//  signed bytes, to be resent).
static void
s_users_run (it_cluster_t *cluster, s_user_t *users)
{
    for (int u = 0; u < S_USERS; u++) {
        s_user_t *user = &users [u];
        it_user_new (&user->user);
        user->partition = tly_partition_of_id (user->user.id, TLY_PARTITIONS_DEFAULT);
        tly_sender_t *sender = it_sender (cluster->gateway, cluster->worker_id, &user->user);
        CHECK (it_create (sender, 100).balance == 100);
        user->balance = 100;
        for (int b = 0; b < S_BUYS; b++) {
            int64_t amount = 1 + (u + b) % 5;
            if (b < S_BUYS - 1) {
                CHECK (it_buy (sender, "item-s", amount).balance_after == user->balance - amount);
            } else {
                tly_msg_t msg;
                CHECK (tly_msg_buy (&msg, "item-last", amount) == 0);
                CHECK (
                    tly_sender_seal (sender, &msg, 1, tly_now_ms (), &user->last, &user->last_size)
                    == 0);
                size_t count = 0;
                CHECK (tly_sender_send_raw (sender, user->last, user->last_size, S_TIMEOUT_MS,
                                            &user->last_result, 1, &count)
                       == 0);
                CHECK (count == 1 && user->last_result.ok);
                CHECK (user->last_result.balance_after == user->balance - amount);
            }
            user->balance -= amount;
        }
        tly_sender_destroy (&sender);
    }
}

//  Waits until the writer has stored, for every user's partition, a
//  snapshot at the partition's last record (one per message sent).
static void
s_wait_snapshots (it_cluster_t *cluster, const s_user_t *users)
{
    int64_t deadline = th_now_ms () + S_WAIT_MS;
    for (int u = 0; u < S_USERS; u++) {
        int records = 0;
        for (int v = 0; v < S_USERS; v++)
            records += users [v].partition == users [u].partition ? 1 + S_BUYS : 0;
        char text [128];
        snprintf (text, sizeof text,
                  "event=snapshot.stored partition=%" PRIu32 " partition_seq=%d ",
                  users [u].partition, records);
        while (it_logged (cluster, "audit", text) == 0) {
            CHECK (th_now_ms () < deadline);
            th_sleep_ms (50);  //  polling the log for a condition, under a deadline
        }
    }
}

//  Whether `tally status` (through the SDK) shows a snapshot for each of
//  partitions partitions, the last at or after the oldest, and archived
//  segments as the archive folder holds them (-1: not checked). The
//  figures reach the router with the actors' hellos: a test waits for them.
static bool
s_status_shows (it_cluster_t *cluster, uint32_t partitions, int archived)
{
    tly_sender_t *sender = tly_sender_new_curve (cluster->gateway, it_gateway_key, NULL, NULL);
    CHECK (sender);
    tly_status_t status;
    bool got = tly_sender_status (sender, S_TIMEOUT_MS, &status) == 0;
    tly_sender_destroy (&sender);
    const tly_journal_status_t *journal = &status.journal;
    return got && journal->known && journal->snapshots == partitions && journal->snapshot_bytes > 0
           && journal->oldest_snapshot_seq >= 1
           && journal->last_snapshot_seq >= journal->oldest_snapshot_seq
           && journal->last_snapshot_seq <= journal->head_seq && journal->last_snapshot_ms > 0
           && (archived < 0 || journal->archived_segments == (uint32_t) archived)
           && (archived <= 0 || journal->archived_bytes > 0);
}

static int s_segments_in (const char *dir);

//  The users' partitions, each counted once.
static uint32_t
s_partitions_of (const s_user_t *users)
{
    uint32_t count = 0;
    for (int u = 0; u < S_USERS; u++) {
        bool before = false;
        for (int v = 0; v < u; v++)
            before |= users [v].partition == users [u].partition;
        count += !before;
    }
    return count;
}

//  Files in dir whose names end in .mdb (-1: no such folder).
static int
s_segments_in (const char *dir)
{
    DIR *folder = opendir (dir);
    if (!folder)
        return -1;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir (folder))) {
        size_t size = strlen (entry->d_name);
        count += size > 4 && streq (entry->d_name + size - 4, ".mdb");
    }
    closedir (folder);
    return count;
}

//  Waits until the writer has retired at least one segment.
static void
s_wait_retired (it_cluster_t *cluster, const char *policy)
{
    const char *event = streq (policy, "archive") ? "event=journal.segment_archived"
                                                  : "event=journal.segment_deleted";
    int64_t deadline = th_now_ms () + S_WAIT_MS;
    while (it_logged (cluster, "audit", event) == 0) {
        CHECK (th_now_ms () < deadline);
        th_sleep_ms (50);  //  polling the log for a condition, under a deadline
    }
    char segments [512], archive [512];
    snprintf (segments, sizeof segments, "%s/audit/journal/segments", cluster->dir);
    snprintf (archive, sizeof archive, "%s/audit/journal/archive", cluster->dir);
    int live = s_segments_in (segments), archived = s_segments_in (archive);
    printf ("%s: %d live segments, %d archived, %d retired\n", policy, live, archived,
            it_logged (cluster, "audit", event));
    CHECK (live >= 1);
    CHECK (streq (policy, "archive") ? archived >= 1 : archived == -1);
}

//  The new actor, armed to die before its second snapshot part's commit,
//  has died so: it is started again on its state, faults off. Returns the
//  snapshots it loaded before.
static int
s_crash_and_restart (it_cluster_t *cluster, const char *name)
{
    th_process_t *process = it_cluster_process (cluster, name);
    TH_WAIT_UNTIL (!th_process_running (process), S_WAIT_MS, th_sleep_ms (10));
    CHECK (th_process_status (process) == TLY_FAULT_EXIT);
    int loaded = it_logged (cluster, name, "event=snapshot.loaded");
    printf ("crash: %s stopped after %d snapshots loaded; restarted\n", name, loaded);
    it_cluster_faults (cluster, name, "");
    it_cluster_restart (cluster, name);
    return loaded;
}

//  policy: NULL (one journal segment, nothing retired), "archive" or "delete".
//  crash: the new actor dies in the middle of its loads and starts again.
static void
s_case (int base_port, const char *policy, bool crash)
{
    const char *audit_args [] = { "--segment-records", "20",  "--retain", policy ? policy : "keep",
                                  "--retain-check-ms", "200", NULL };
    it_balance_extra_args = s_actor_args;
    it_audit_extra_args = policy ? audit_args : NULL;
    it_cluster_t *cluster = it_cluster_start (base_port, 2, 1);
    s_user_t users [S_USERS];
    memset (users, 0, sizeof users);
    s_users_run (cluster, users);
    s_wait_snapshots (cluster, users);
    th_step ("snapshots stored for every user's partition");
    //  Status says so: a snapshot for each of those partitions (and none
    //  for the others, which have no records).
    TH_WAIT_UNTIL (s_status_shows (cluster, s_partitions_of (users), -1), S_WAIT_MS,
                   th_sleep_ms (50));
    if (policy) {
        s_wait_retired (cluster, policy);
        //  ... and what retention moved: as many as the archive holds.
        char archive [512];
        snprintf (archive, sizeof archive, "%s/audit/journal/archive", cluster->dir);
        TH_WAIT_UNTIL (s_status_shows (cluster, s_partitions_of (users),
                                       streq (policy, "archive") ? s_segments_in (archive) : 0),
                       S_WAIT_MS, th_sleep_ms (50));
    }

    //  balance-1 goes, and its state with it; a new actor with none comes.
    CHECK (it_cluster_remove (cluster, "balance-1") == 0);
    char state [512];
    snprintf (state, sizeof state, "%s/balance-1", cluster->dir);
    th_dir_remove (state);
    //  The first part commits (each partition's snapshot is one part here),
    //  the second is cut short.
    if (crash)
        it_cluster_faults (cluster, "balance-3", "snapshot.load=exit@2");
    it_cluster_add_actor (cluster, "balance-3");
    int loaded_before = crash ? s_crash_and_restart (cluster, "balance-3") : 0;
    CHECK (loaded_before == (crash ? 1 : 0));
    CHECK (it_wait_actors (cluster->gateway, 2, S_WAIT_MS));

    for (int u = 0; u < S_USERS; u++) {
        s_user_t *user = &users [u];
        tly_sender_t *sender = it_sender (cluster->gateway, cluster->worker_id, &user->user);
        CHECK (it_balance (sender) == user->balance);
        //  The same signed bytes again: the first result, no second debit.
        tly_result_t again;
        size_t count = 0;
        CHECK (tly_sender_send_raw (sender, user->last, user->last_size, S_TIMEOUT_MS, &again, 1,
                                    &count)
               == 0);
        CHECK (count == 1 && again.ok && streq (again.id, user->last_result.id));
        CHECK (again.balance_after == user->last_result.balance_after);
        CHECK (it_balance (sender) == user->balance);
        //  And new messages go on.
        CHECK (it_buy (sender, "item-after", 1).balance_after == user->balance - 1);
        user->balance--;
        free (user->last);
        tly_sender_destroy (&sender);
    }
    //  Every user's partition has been served since (the reads above): the
    //  new actor's share of them came from snapshots.
    int loaded = it_logged (cluster, "balance-3", "event=snapshot.loaded");
    int replayed_from_start = it_logged (cluster, "balance-3", "event=snapshot.rejected");
    printf ("takeover: balance-3 loaded %d snapshots, rejected %d\n", loaded, replayed_from_start);
    CHECK (loaded > loaded_before && replayed_from_start == 0);

    char journal [512];
    snprintf (journal, sizeof journal, "%s/audit/journal", cluster->dir);
    if (policy && streq (policy, "delete")) {
        //  The records before the first kept segment are gone: the whole
        //  journal fails on the gap; what is kept chains from its signed start.
        char *whole [] = { "audit",    "verify",           "--journal", journal,
                           "--worker", cluster->worker_id, NULL };
        CHECK (it_run_cli (TALLY_CLI_BIN, whole, S_COMMAND_MS) == 1);
        char *kept [] = { "audit", "verify",   "--kept",           "--journal",
                          journal, "--worker", cluster->worker_id, NULL };
        CHECK (it_run_cli (TALLY_CLI_BIN, kept, S_COMMAND_MS) == 0);
        it_cluster_stop (&cluster);
        return;
    }
    const char *actors [] = { "balance-2", "balance-3", NULL };
    it_check_journal (cluster, actors, S_COMMAND_MS);
    it_cluster_stop (&cluster);
}

int
main (int argc, char **argv)
{
    if (argc != 3) {
        fprintf (stderr, "usage: it_snapshot CASE BASE_PORT\n");
        return 2;
    }
    const char *name = argv [1];
    int base_port = atoi (argv [2]);
    if (streq (name, "takeover"))
        s_case (base_port, NULL, false);
    else if (streq (name, "archive") || streq (name, "delete"))
        s_case (base_port, name, false);
    else if (streq (name, "crash")) {
#if !defined(TLY_FAULTS_BUILD)
        fprintf (stderr, "it_snapshot crash: needs the fault points (a build configured with"
                         " -DTALLY_FAULTS=ON, as make test does)\n");
        return 77;
#endif
        s_case (base_port, NULL, true);
    } else {
        fprintf (stderr, "it_snapshot: unknown case %s\n", name);
        return 2;
    }
    return 0;
}
