//  Integration test of the journal's segments: a cluster whose audit writer
//  rolls every 256 KiB, under a steady stream of buys; then `tally audit
//  verify` and `replay --compare` across the segments, and on copies of the
//  sealed segments: a flipped byte named by segment and seq, a missing
//  middle segment named as a gap, archived segments read with --archive,
//  and one segment verified on its own with --segment. `tally status` shows
//  the segments as the folder holds them, before and after the rolls.
//  Usage: it_segments BASE_PORT
#include <czmq.h>
#include <dirent.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "it_cluster.h"
#include "tally.h"

#define S_TIMEOUT_MS   10000
#define S_COMMAND_MS   120000
#define S_USERS        16
#define S_SEGMENTS_MIN 5  //  sealed segments the load must make
#define S_NAMES_MAX    256
#define S_NAME_SIZE    32

typedef struct {
    char names [S_NAMES_MAX][S_NAME_SIZE];  //  segment files, in seq order
    size_t count;
} s_listing_t;

static int
s_compare_names (const void *a, const void *b)
{
    return strcmp (a, b);
}

static void
s_list (const char *folder, s_listing_t *listing)
{
    listing->count = 0;
    DIR *dir = opendir (folder);
    CHECK (dir);
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        size_t length = strlen (entry->d_name);
        if (length != 24 || strcmp (entry->d_name + 20, ".mdb") != 0)
            continue;
        CHECK (listing->count < S_NAMES_MAX);
        memcpy (listing->names [listing->count++], entry->d_name, length + 1);  //  24 < S_NAME_SIZE
    }
    closedir (dir);
    qsort (listing->names, listing->count, S_NAME_SIZE, s_compare_names);
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

//  A journal directory holding copies of the sealed segments (every one but
//  the last, which the writer may still write): never written again, so a
//  copy taken beside the running writer is exact.
static void
s_copy_sealed (const char *journal, const s_listing_t *live, const char *to)
{
    char folder [600], from [900], target [900];
    CHECK (mkdir (to, 0700) == 0);
    snprintf (folder, sizeof folder, "%s/segments", to);
    CHECK (mkdir (folder, 0700) == 0);
    for (size_t i = 0; i + 1 < live->count; i++) {
        snprintf (from, sizeof from, "%s/segments/%s", journal, live->names [i]);
        snprintf (target, sizeof target, "%s/%s", folder, live->names [i]);
        s_copy_file (from, target);
    }
}

static uint64_t
s_first_seq (const char *name)
{
    return strtoull (name, NULL, 10);
}

//  Whether `tally status` (through the SDK) shows the journal as the
//  segments folder holds it now: every file a live segment, all but the
//  newest sealed, the newest the active one, and no archive. The figures
//  reach the router with the actors' hellos, so a test waits for them.
static bool
s_status_shows (tly_sender_t *sender, const char *segments)
{
    s_listing_t live;
    s_list (segments, &live);
    tly_status_t status;
    if (live.count == 0 || tly_sender_status (sender, S_TIMEOUT_MS, &status) == -1
        || !status.journal.known)
        return false;
    const tly_journal_status_t *journal = &status.journal;
    return journal->segments == live.count && journal->sealed_segments == live.count - 1
           && journal->active_first_seq == s_first_seq (live.names [live.count - 1])
           && journal->live_bytes > 0 && journal->archived_segments == 0
           && journal->head_seq >= journal->active_first_seq - 1;
}

//  Runs the tally CLI with args and returns its exit code; its stdout in
//  *output (freed by the caller).
static int
s_run (char **output, char *const args [])
{
    char *argv [16] = { TALLY_CLI_BIN };
    printf ("$ tally");
    for (size_t at = 0; args [at]; at++) {
        CHECK (at + 2 < sizeof argv / sizeof argv [0]);
        argv [at + 1] = args [at];
        printf (" %s", args [at]);
    }
    printf ("\n");
    int code = th_run (argv, NULL, TH_OUTPUT_CAPTURE_STDOUT, output, S_COMMAND_MS);
    printf ("%s", *output);
    return code;
}

static void
s_expect (int code, const char *text, char *const args [])
{
    char *output;
    int got = s_run (&output, args);
    if (got != code || (text && !strstr (output, text))) {
        fprintf (stderr, "it_segments: exit %d (expected %d), output lacks '%s'\n", got, code,
                 text ? text : "");
        CHECK (false);
    }
    free (output);
}

//  Flips one byte inside record seq's body, as someone tampering with the
//  file would, through LMDB itself.
static void
s_flip (const char *file, uint64_t seq)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi records;
    CHECK (mdb_env_create (&env) == 0 && mdb_env_set_maxdbs (env, 8) == 0);
    CHECK (mdb_env_open (env, file, MDB_NOSUBDIR, 0600) == 0);
    CHECK (mdb_txn_begin (env, NULL, 0, &txn) == 0);
    CHECK (mdb_dbi_open (txn, "records", 0, &records) == 0);
    uint8_t key_bytes [8];
    for (int i = 7; i >= 0; i--)
        key_bytes [7 - i] = (uint8_t) (seq >> (8 * i));
    MDB_val key = { 8, key_bytes }, value;
    CHECK (mdb_get (txn, records, &key, &value) == 0);
    uint8_t *copy = malloc (value.mv_size);
    CHECK (copy);
    memcpy (copy, value.mv_data, value.mv_size);
    copy [value.mv_size / 3] ^= 0x01;  //  inside the body (the hash is last)
    value.mv_data = copy;
    CHECK (mdb_put (txn, records, &key, &value, 0) == 0);
    CHECK (mdb_txn_commit (txn) == 0);
    mdb_env_close (env);
    free (copy);
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: it_segments BASE_PORT\n");
        return 2;
    }
    zsys_init ();
    zsys_set_linger (0);
    const char *audit_args [] = { "--segment-bytes", "262144", NULL };
    it_audit_extra_args = audit_args;
    it_cluster_t *cluster = it_cluster_start (atoi (argv [1]), 2, 1);
    char journal [512], segments [600];
    snprintf (journal, sizeof journal, "%s/audit/journal", cluster->dir);
    snprintf (segments, sizeof segments, "%s/segments", journal);

    //  Buys from every user in turn until the writer has sealed enough
    //  segments (a deadline, never a sleep).
    tly_account_t accounts [S_USERS];
    tly_sender_t *senders [S_USERS];
    for (int u = 0; u < S_USERS; u++) {
        CHECK (tly_account_generate (&accounts [u]) == 0);
        senders [u] = tly_sender_new_curve (cluster->gateway, it_gateway_key, cluster->worker_id,
                                            &accounts [u]);
        CHECK (senders [u]);
        tly_msg_t msg;
        tly_msg_create_account (&msg, 100);
        tly_result_t result;
        CHECK (tly_sender_send_one (senders [u], &msg, S_TIMEOUT_MS, &result) == 0 && result.ok);
    }
    //  One segment so far, and status says so.
    s_listing_t live;
    s_list (segments, &live);
    CHECK (live.count == 1);
    TH_WAIT_UNTIL (s_status_shows (senders [0], segments), S_TIMEOUT_MS, th_sleep_ms (50));
    int64_t deadline = th_now_ms () + 60000;
    int envelopes = 0;
    for (s_list (segments, &live); live.count <= S_SEGMENTS_MIN; s_list (segments, &live)) {
        CHECK (th_now_ms () < deadline);
        for (int u = 0; u < S_USERS; u++, envelopes++) {
            tly_msg_t msgs [4];
            for (int m = 0; m < 4; m++)
                tly_msg_buy (&msgs [m], "sword", 1);
            tly_result_t results [4];
            CHECK (tly_sender_send (senders [u], msgs, 4, S_TIMEOUT_MS, results) == 0);
        }
    }
    printf ("load: %d envelopes, %zu segments\n", envelopes, live.count);
    //  After the rolls: status counts them, the sealed ones and the active one.
    TH_WAIT_UNTIL (s_status_shows (senders [0], segments), S_TIMEOUT_MS, th_sleep_ms (50));
    char *status_args [] = { "status", "--gateway", cluster->gateway, NULL };
    char expected_line [128];
    s_list (segments, &live);
    snprintf (expected_line, sizeof expected_line, "%zu live segments (%zu sealed", live.count,
              live.count - 1);
    s_expect (0, expected_line, status_args);

    //  Across the segments, live: verify, and replay against the actors.
    char actor_1 [512], actor_2 [512];
    snprintf (actor_1, sizeof actor_1, "%s/balance-1/balance/balance-1", cluster->dir);
    snprintf (actor_2, sizeof actor_2, "%s/balance-2/balance/balance-2", cluster->dir);
    s_expect (0, "verify: OK",
              (char *[]) { "audit", "verify", "--journal", journal, "--worker", cluster->worker_id,
                           NULL });
    s_expect (0, "0 differences",
              (char *[]) { "audit", "replay", "--compare", "--journal", journal, "--actors-dir",
                           actor_1, "--actors-dir", actor_2, NULL });

    //  Copies of the sealed segments, each damaged its own way.
    char clean [600], flipped [600], holed [600], parted [600], archive [600];
    snprintf (clean, sizeof clean, "%s/copy-clean", cluster->dir);
    snprintf (flipped, sizeof flipped, "%s/copy-flipped", cluster->dir);
    snprintf (holed, sizeof holed, "%s/copy-holed", cluster->dir);
    snprintf (parted, sizeof parted, "%s/copy-parted", cluster->dir);
    snprintf (archive, sizeof archive, "%s/elsewhere", cluster->dir);
    s_copy_sealed (journal, &live, clean);
    s_copy_sealed (journal, &live, flipped);
    s_copy_sealed (journal, &live, holed);
    s_copy_sealed (journal, &live, parted);
    s_expect (
        0, "verify: OK",
        (char *[]) { "audit", "verify", "--journal", clean, "--worker", cluster->worker_id, NULL });

    //  A byte flipped in a sealed segment: named by segment file and seq.
    uint64_t flipped_seq = (s_first_seq (live.names [2]) + s_first_seq (live.names [3])) / 2;
    char file [900], expected [1200];
    snprintf (file, sizeof file, "%s/segments/%s", flipped, live.names [2]);
    s_flip (file, flipped_seq);
    snprintf (expected, sizeof expected,
              "verify: FAILED: segment %s: record %" PRIu64 ": hash mismatch", file, flipped_seq);
    s_expect (1, expected,
              (char *[]) { "audit", "verify", "--journal", flipped, "--worker", cluster->worker_id,
                           NULL });
    //  ... and alone, that segment fails too; its neighbour passes alone.
    s_expect (
        1, "hash mismatch",
        (char *[]) { "audit", "verify", "--segment", file, "--worker", cluster->worker_id, NULL });

    //  A missing middle segment: a gap, named by the seqs it held.
    snprintf (file, sizeof file, "%s/segments/%s", holed, live.names [3]);
    CHECK (unlink (file) == 0);
    snprintf (expected, sizeof expected,
              "verify: FAILED: gap: records %" PRIu64 "..%" PRIu64 " missing (segment not found)",
              s_first_seq (live.names [3]), s_first_seq (live.names [4]) - 1);
    s_expect (
        1, expected,
        (char *[]) { "audit", "verify", "--journal", holed, "--worker", cluster->worker_id, NULL });

    //  The oldest segments archived elsewhere: a gap unless the folder is
    //  named, then the whole chain from genesis again.
    CHECK (mkdir (archive, 0700) == 0);
    for (size_t i = 0; i < 2; i++) {
        char from [900], to [900];
        snprintf (from, sizeof from, "%s/segments/%s", parted, live.names [i]);
        snprintf (to, sizeof to, "%s/%s", archive, live.names [i]);
        CHECK (rename (from, to) == 0);
    }
    snprintf (expected, sizeof expected, "gap: records 1..%" PRIu64,
              s_first_seq (live.names [2]) - 1);
    s_expect (1, expected,
              (char *[]) { "audit", "verify", "--journal", parted, "--worker", cluster->worker_id,
                           NULL });
    s_expect (0, "2 archived",
              (char *[]) { "audit", "verify", "--journal", parted, "--archive", archive, "--worker",
                           cluster->worker_id, NULL });
    s_expect (0, "replay: OK",
              (char *[]) { "audit", "replay", "--journal", parted, "--archive", archive, NULL });
    //  An archived segment verified on its own: its chain from its base,
    //  its signed start and its signed end.
    snprintf (file, sizeof file, "%s/%s", archive, live.names [1]);
    s_expect (
        0, "signed start, sealed with a signed end",
        (char *[]) { "audit", "verify", "--segment", file, "--worker", cluster->worker_id, NULL });
    //  ... against the worker the verifier trusts, never the one it names.
    tly_account_t stranger;
    CHECK (tly_account_generate (&stranger) == 0);
    char stranger_id [TLY_ID_MAX];
    tly_account_id (stranger.sign_pk, stranger_id);
    s_expect (1, "bad signature",
              (char *[]) { "audit", "verify", "--segment", file, "--worker", stranger_id, NULL });

    for (int u = 0; u < S_USERS; u++)
        tly_sender_destroy (&senders [u]);
    it_cluster_stop (&cluster);
    printf ("it_segments: OK\n");
    return 0;
}
