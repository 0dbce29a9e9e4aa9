//  Integration tests of storage limits (docs/architecture.md, "Storage").
//    grow  the journal and an actor's state start in the smallest map and
//          grow by themselves under a few thousand buys: every buy is
//          acknowledged, the journal verifies and replays to the live state.
//    full  the journal and an actor's state live on a small tmpfs that the
//          test fills to the end: buys are refused UNAVAILABLE "journal
//          storage full" (and `tally status` says so) while every
//          acknowledged buy stays; once the filler is removed buys succeed
//          again, with no process restarted.
//    state-full  the same with only the actor's state on the tmpfs: "state
//          storage full". The tmpfs is mounted in a mount namespace of
//          the test's own (the servers and the CLI, its children, share it),
//          so it vanishes with the test whatever happens; a test that cannot
//          mount it fails.
//  Usage: it_space grow|full|state-full BASE_PORT
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "it_cluster.h"
#include "tally.h"
#include "tly_validate.h"

#define S_TIMEOUT_MS    10000
#define S_COMMAND_MS    60000  //  longest one tally command may run
#define S_USERS         16
#define S_INITIAL       1000000  //  each user's first balance (with --max-initial)
#define S_GROW_ENVELOPE 4        //  buys per envelope in the grow case
#define S_GROW_BUYS     4000
#define S_DISK          "disk"  //  the tmpfs, inside the cluster's directory
#define S_DISK_SIZE     "size=16m"
#define S_FULL_MS       30000  //  longest wait for storage to fill, or come back

static const char *s_map_args [] = { "--map-size", "1048576", "--map-max", "1073741824", NULL };
static const char *s_actor_args [] = { "--map-size",    "1048576", "--map-max", "1073741824",
                                       "--max-initial", "1000000", NULL };

typedef struct {
    tly_account_t account;
    tly_sender_t *sender;
    int64_t balance;  //  as the last acknowledged answer left it
} s_user_t;

static s_user_t s_users [S_USERS];

static void
s_users_create (it_cluster_t *cluster)
{
    for (int u = 0; u < S_USERS; u++) {
        s_user_t *user = &s_users [u];
        CHECK (tly_account_generate (&user->account) == 0);
        user->sender = tly_sender_new_curve (cluster->gateway, it_gateway_key, cluster->worker_id,
                                             &user->account);
        CHECK (user->sender);
        tly_msg_t msg;
        CHECK (tly_msg_create_account (&msg, S_INITIAL) == 0);
        tly_result_t result;
        CHECK (tly_sender_send_one (user->sender, &msg, S_TIMEOUT_MS, &result) == 0);
        CHECK (result.ok && result.balance == S_INITIAL);
        user->balance = S_INITIAL;
    }
}

static void
s_users_destroy (void)
{
    for (int u = 0; u < S_USERS; u++)
        tly_sender_destroy (&s_users [u].sender);
}

//  What one buy envelope came to.
typedef enum {
    S_BOUGHT = 0,  //  every buy acknowledged
    S_NO_ROOM = 1  //  refused UNAVAILABLE "... storage full": nothing applied
} s_outcome_t;

//  count buys of 1 by user; an acknowledged answer must be exact, a refusal
//  must be the storage-full one (anything else fails the test).
static s_outcome_t
s_buy (s_user_t *user, size_t count, char *refusal, size_t refusal_size)
{
    tly_msg_t msgs [TLY_BATCH_MAX];
    CHECK (count >= 1 && count <= TLY_BATCH_MAX);
    for (size_t m = 0; m < count; m++)
        CHECK (tly_msg_buy (&msgs [m], "item", 1) == 0);
    tly_result_t results [TLY_BATCH_MAX];
    if (tly_sender_send (user->sender, msgs, count, S_TIMEOUT_MS, results) == -1) {
        const tly_error_t *error = tly_sender_error (user->sender);
        if (!error->remote || error->code != TALLY__ERROR_CODE__UNAVAILABLE
            || !strstr (error->message, "storage full"))
            th_fail (__FILE__, __LINE__, "buy refused with %s \"%s\" (remote %d)",
                     tly_error_name (error->code), error->message, error->remote);
        snprintf (refusal, refusal_size, "%s", error->message);
        return S_NO_ROOM;
    }
    for (size_t m = 0; m < count; m++) {
        CHECK (results [m].ok && results [m].kind == TLY_RESULT_PURCHASE);
        CHECK (results [m].balance_after == user->balance - 1);
        user->balance = results [m].balance_after;
    }
    return S_BOUGHT;
}

//  Every balance is what its last acknowledged answer said; the journal
//  verifies and replays to the live actor's state.
static void
s_check_everything (it_cluster_t *cluster)
{
    for (int u = 0; u < S_USERS; u++) {
        tly_msg_t msg;
        CHECK (tly_msg_create_account (&msg, 0) == 0);
        tly_result_t result;
        CHECK (tly_sender_send_one (s_users [u].sender, &msg, S_TIMEOUT_MS, &result) == 0);
        CHECK (result.ok && result.balance == s_users [u].balance);
    }
    const char *actors [] = { "balance-1", NULL };
    it_check_journal (cluster, actors, S_COMMAND_MS);
}

//  ---------------------------------------------------------------- grow

static void
s_grow (int base_port)
{
    it_audit_extra_args = s_map_args;
    it_balance_extra_args = s_actor_args;
    it_cluster_t *cluster = it_cluster_start (base_port, 1, 1);
    s_users_create (cluster);
    char refusal [TLY_ERROR_TEXT_MAX];
    for (int at = 0; at < S_GROW_BUYS / S_GROW_ENVELOPE; at++)
        CHECK (s_buy (&s_users [at % S_USERS], S_GROW_ENVELOPE, refusal, sizeof refusal)
               == S_BOUGHT);
    printf ("grow: %d buys acknowledged, from 1 MiB maps\n", S_GROW_BUYS);
    CHECK (it_logged (cluster, "audit", "event=journal.map_grown"));
    CHECK (it_logged (cluster, "balance-1", "event=store.map_grown"));
    CHECK (!it_logged (cluster, "audit", "storage_full"));
    CHECK (!it_logged (cluster, "balance-1", "storage_full"));
    s_check_everything (cluster);
    s_users_destroy ();
    it_cluster_stop (&cluster);
}

//  ---------------------------------------------------------------- full

static char s_disk [300];
static bool s_journal_on_disk;  //  the journal too, not only the actor's state

//  The journal's and the actor's directories go on the tmpfs (the logs stay
//  on the test's own disk, so that they can say what happened).
static void
s_mount_disk (it_cluster_t *cluster)
{
    snprintf (s_disk, sizeof s_disk, "%s/%s", cluster->dir, S_DISK);
    CHECK (mkdir (s_disk, 0700) == 0);
    if (mount ("tally-space", s_disk, "tmpfs", 0, S_DISK_SIZE) == -1)
        th_fail (__FILE__, __LINE__, "cannot mount a tmpfs on %s: %s (the test needs root)", s_disk,
                 strerror (errno));
    const char *servers [] = { "balance-1", "audit" };
    for (size_t i = 0; i < (s_journal_on_disk ? 2 : 1); i++) {
        char on_disk [512], link [512];
        snprintf (on_disk, sizeof on_disk, "%s/%s", s_disk, servers [i]);
        snprintf (link, sizeof link, "%s/%s", cluster->dir, servers [i]);
        CHECK (mkdir (on_disk, 0700) == 0);
        CHECK (symlink (on_disk, link) == 0);
    }
}

static void
s_unmount_disk (it_cluster_t *cluster)
{
    (void) cluster;
    if (umount (s_disk) == -1)
        th_fail (__FILE__, __LINE__, "cannot unmount %s: %s", s_disk, strerror (errno));
}

//  Writes filler until the tmpfs has no block left. Returns the bytes written.
static size_t
s_fill (const char *path)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK (fd != -1);
    static char chunk [64 * 1024];
    memset (chunk, 0x5a, sizeof chunk);
    size_t total = 0;
    for (size_t size = sizeof chunk; size >= 512; size /= 2)
        for (;;) {
            ssize_t wrote = write (fd, chunk, size);
            if (wrote <= 0) {
                CHECK (wrote == 0 || errno == ENOSPC);
                break;
            }
            total += (size_t) wrote;
        }
    close (fd);
    struct statvfs stat;
    CHECK (statvfs (s_disk, &stat) == 0);
    CHECK (stat.f_bavail == 0);
    return total;
}

static bool
s_storage_reported (const char *gateway, bool full)
{
    tly_account_t account;
    CHECK (tly_account_generate (&account) == 0);
    tly_sender_t *sender = tly_sender_new_curve (gateway, it_gateway_key, NULL, &account);
    CHECK (sender);
    tly_status_t status;
    bool says = tly_sender_status (sender, S_TIMEOUT_MS, &status) == 0
                && (status.journal_full || status.actors_state_full > 0) == full;
    tly_sender_destroy (&sender);
    return says;
}

static void
s_full (int base_port, bool journal)
{
    s_journal_on_disk = journal;
    const char *expected = journal ? "journal storage full" : "state storage full";
    //  A mount namespace of the test's own: the tmpfs is nobody else's
    //  business and cannot outlive the test and its children.
    if (unshare (CLONE_NEWNS) == -1 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
        th_fail (__FILE__, __LINE__, "cannot make a mount namespace: %s (the test needs root)",
                 strerror (errno));
    it_audit_extra_args = s_map_args;
    it_balance_extra_args = s_actor_args;
    it_cluster_prepare = s_mount_disk;
    it_cluster_release = s_unmount_disk;
    it_cluster_t *cluster = it_cluster_start (base_port, 1, 1);
    s_users_create (cluster);
    char refusal [TLY_ERROR_TEXT_MAX] = "";
    int bought = 0;
    for (int at = 0; at < 200; at++, bought++)
        CHECK (s_buy (&s_users [at % S_USERS], 1, refusal, sizeof refusal) == S_BOUGHT);

    char filler [400];
    snprintf (filler, sizeof filler, "%s/filler", s_disk);
    size_t filled = s_fill (filler);
    printf ("full: %d buys acknowledged, then %zu bytes of filler leave the tmpfs no block\n",
            bought, filled);

    //  Buys go on (LMDB reuses freed pages) until one finds no room.
    int64_t deadline = zclock_mono () + S_FULL_MS;
    int at = 0;
    while (s_buy (&s_users [at % S_USERS], 1, refusal, sizeof refusal) == S_BOUGHT) {
        bought++;
        at++;
        if (zclock_mono () > deadline)
            th_fail (__FILE__, __LINE__, "no buy refused within %d ms on a full disk", S_FULL_MS);
    }
    printf ("full: refused UNAVAILABLE \"%s\" after %d acknowledged buys\n", refusal, bought);
    CHECK (streq (refusal, expected));
    TH_WAIT_UNTIL (s_storage_reported (cluster->gateway, true), S_FULL_MS, th_sleep_ms (100));
    char *status [] = { "status", "--gateway", cluster->gateway, NULL };
    CHECK (it_run_cli (TALLY_CLI_BIN, status, S_COMMAND_MS) == 0);
    CHECK (journal ? it_logged (cluster, "audit", "event=journal.storage_full")
                   : it_logged (cluster, "balance-1", "event=store.storage_full"));

    //  Room again: buys succeed by themselves, nothing restarted.
    CHECK (unlink (filler) == 0);
    deadline = zclock_mono () + S_FULL_MS;
    int refused = 0;
    while (s_buy (&s_users [at % S_USERS], 1, refusal, sizeof refusal) == S_NO_ROOM) {
        refused++;
        if (zclock_mono () > deadline)
            th_fail (__FILE__, __LINE__, "buys still refused %d ms after space was freed",
                     S_FULL_MS);
        th_sleep_ms (50);  //  a poll within the deadline above
    }
    bought++;
    for (int more = 0; more < 100; more++, bought++)
        CHECK (s_buy (&s_users [(at + more) % S_USERS], 1, refusal, sizeof refusal) == S_BOUGHT);
    TH_WAIT_UNTIL (s_storage_reported (cluster->gateway, false), S_FULL_MS, th_sleep_ms (100));
    CHECK (it_run_cli (TALLY_CLI_BIN, status, S_COMMAND_MS) == 0);
    CHECK (journal ? it_logged (cluster, "audit", "event=journal.storage_recovered")
                   : it_logged (cluster, "balance-1", "event=store.storage_recovered"));
    printf ("full: %d more refusals, then buys acknowledged again (%d in all)\n", refused, bought);
    s_check_everything (cluster);
    s_users_destroy ();
    it_cluster_stop (&cluster);
}

int
main (int argc, char **argv)
{
    if (argc != 3
        || (!streq (argv [1], "grow") && !streq (argv [1], "full")
            && !streq (argv [1], "state-full"))) {
        fprintf (stderr, "usage: it_space grow|full|state-full BASE_PORT\n");
        return 2;
    }
    zsys_init ();
    zsys_set_linger (0);
    if (streq (argv [1], "grow"))
        s_grow (atoi (argv [2]));
    else
        s_full (atoi (argv [2]), streq (argv [1], "full"));
    printf ("it_space %s: OK\n", argv [1]);
    return 0;
}
