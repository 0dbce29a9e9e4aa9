//  audit_bench - `tally audit bench-replay`: builds a journal of N records of
//  K messages each (real keys, real signatures, the events an actor makes),
//  then times a replay from nothing against a baseline that only iterates the
//  records, best of a few runs each, and checks the replayed balances.
#include "audit_commands.h"
#include "audit_journal.h"
#include "audit_progress.h"
#include "audit_scratch.h"
#include "audit_state.h"
#include "audit_workload.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "tly_audit_writer.h"

#define S_COMMAND         "tally audit bench-replay"
#define S_RECORDS_DEFAULT 15625  //  x 64 messages: a 1,000,000-event journal
#define S_RECORDS_MAX     100000000LL
#define S_PER_RECORD      64
#define S_USERS_DEFAULT   1000
#define S_USERS_MAX       10000000LL
#define S_RUNS_DEFAULT    3
#define S_RUNS_MAX        100
#define S_TARGET_RATE     1000000.0  //  events/s replay must reach

typedef struct {
    int64_t records;
    int64_t per_record;
    int64_t users;
    int64_t runs;
    const char *keep;  //  write the journal here and keep it
    bool json;
} s_options_t;

//  The baseline: walk every record and touch its bytes' ends, decode nothing.
static tly_journal_step_t
s_touch (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    uint64_t *sum = arg;
    *sum += seq + size + bytes [0] + bytes [size - 1];
    return TLY_JOURNAL_NEXT;
}

//  Replays once; on the first run also checks every balance against the workload.
static int
s_replay (tly_journal_t *journal, audit_workload_t *workload, uint32_t users, bool check,
          double *seconds)
{
    audit_state_t *state = audit_state_new ();
    assert (state);
    double start = audit_seconds ();
    int rc = audit_state_replay (state, journal, NULL);
    *seconds = audit_seconds () - start;
    audit_stats_t stats;
    audit_state_stats (state, &stats);
    if (rc == 0 && (stats.problems || stats.events != audit_workload_events (workload))) {
        fprintf (stderr,
                 S_COMMAND ": replay found %" PRIu64 " events and %" PRIu64
                           " inconsistencies; the workload wrote %" PRIu64 " events\n",
                 stats.events, stats.problems, audit_workload_events (workload));
        rc = -1;
    }
    for (uint32_t i = 0; rc == 0 && check && i < users; i++) {
        const audit_workload_user_t *user = audit_workload_user (workload, i);
        const audit_account_t *account = audit_state_find (state, user->pk);
        if ((account != NULL) != user->exists || (account && account->balance != user->balance)) {
            fprintf (stderr, S_COMMAND ": replay gives %s a balance the workload did not\n",
                     user->id);
            rc = -1;
        }
    }
    audit_state_destroy (&state);
    return rc;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: tally audit bench-replay [--records N] [--per-record K] [--users U]\n"
             "                                [--runs R] [--keep DIR] [--json]\n"
             "\n"
             "Writes a journal of N records, each one envelope of K messages signed by one\n"
             "of U users (their first record opens the account, then buys), then times\n"
             "replaying it from nothing against merely iterating its records.\n"
             "\n"
             "  --records N      records (default %d: %d events with K = %d)\n"
             "  --per-record K   messages per record, 1..%d (default %d)\n"
             "  --users U        distinct users (default %d)\n"
             "  --runs R         timed runs of each, the best counts (default %d)\n"
             "  --keep DIR       write the journal into DIR (new) and keep it\n"
             "  --json           print one JSON object\n",
             S_RECORDS_DEFAULT, S_RECORDS_DEFAULT * S_PER_RECORD, S_PER_RECORD, TLY_BATCH_MAX,
             S_PER_RECORD, S_USERS_DEFAULT, S_RUNS_DEFAULT);
}

//  Returns -1 to go on, or the exit code.
static int
s_parse (int argc, char **argv, s_options_t *options)
{
    *options = (s_options_t) { .records = S_RECORDS_DEFAULT,
                               .per_record = S_PER_RECORD,
                               .users = S_USERS_DEFAULT,
                               .runs = S_RUNS_DEFAULT };
    tly_flag_t flags [] = { TLY_FLAG_INT ("--records", &options->records, 1, S_RECORDS_MAX),
                            TLY_FLAG_INT ("--per-record", &options->per_record, 1, TLY_BATCH_MAX),
                            TLY_FLAG_INT ("--users", &options->users, 1, S_USERS_MAX),
                            TLY_FLAG_INT ("--runs", &options->runs, 1, S_RUNS_MAX),
                            TLY_FLAG_TEXT ("--keep", &options->keep),
                            TLY_FLAG_BOOL ("--json", &options->json),
                            TLY_FLAG_HELP };
    return cli_parse_flags (S_COMMAND, s_usage, flags, sizeof flags / sizeof flags [0], argc, argv,
                            NULL);
}

int
audit_bench_replay (int argc, char **argv)
{
    s_options_t options;
    int parsed = s_parse (argc, argv, &options);
    if (parsed != -1)
        return parsed;
    char temp [AUDIT_PATH_MAX] = "", journal_dir [AUDIT_PATH_MAX];
    if (options.keep)
        snprintf (journal_dir, sizeof journal_dir, "%s", options.keep);
    else {
        if (audit_scratch_new ("tally-bench-replay", temp, sizeof temp) == -1) {
            fprintf (stderr, S_COMMAND ": cannot make a directory in %s\n", temp);
            return CLI_EXIT_USAGE;
        }
        if (strlen (temp) + sizeof "/" TLY_JOURNAL_SUBDIR > sizeof journal_dir) {
            fprintf (stderr, S_COMMAND ": directory name too long: %s\n", temp);
            return CLI_EXIT_USAGE;
        }
        memcpy (journal_dir, temp, strlen (temp));
        memcpy (journal_dir + strlen (temp), "/" TLY_JOURNAL_SUBDIR, sizeof "/" TLY_JOURNAL_SUBDIR);
    }
    struct stat info;
    if (options.keep && stat (journal_dir, &info) == 0) {
        fprintf (stderr, S_COMMAND ": --keep %s already exists\n", journal_dir);
        return CLI_EXIT_USAGE;
    }
    tly_account_t worker;
    assert (tly_account_generate (&worker) == 0);
    audit_workload_config_t config = { .users = (uint32_t) options.users,
                                       .records = (uint64_t) options.records,
                                       .per_record = (uint32_t) options.per_record,
                                       .partitions = TLY_PARTITIONS_DEFAULT,
                                       .seed = randombytes_random (),
                                       .checkpoint_every = TLY_AUDIT_CHECKPOINT_EVERY };
    audit_workload_t *workload = audit_workload_new (&config);
    assert (workload);
    if (!options.json)
        fprintf (stderr, S_COMMAND ": writing %" PRId64 " records of %" PRId64 " messages...\n",
                 options.records, options.per_record);
    double start = audit_seconds ();
    int rc = audit_workload_write (workload, journal_dir, &worker);
    double build_seconds = audit_seconds () - start;
    tly_journal_t *journal = rc == 0 ? audit_open_journal (S_COMMAND, journal_dir, NULL, NULL)
                                     : NULL;
    double best_iterate = 0, best_replay = 0;
    uint64_t sum = 0;
    for (int64_t run = 0; journal && rc == 0 && run < options.runs; run++) {
        double seconds;
        start = audit_seconds ();
        rc = tly_journal_iterate (journal, 1, s_touch, &sum);
        seconds = audit_seconds () - start;
        if (run == 0 || seconds < best_iterate)
            best_iterate = seconds;
        if (rc == 0)
            rc = s_replay (journal, workload, config.users, run == 0, &seconds);
        if (run == 0 || seconds < best_replay)
            best_replay = seconds;
    }
    double megabytes = journal ? (double) audit_journal_bytes (journal, NULL) / 1e6 : 0;
    tly_journal_destroy (&journal);
    audit_scratch_remove (temp);

    int exit_code = CLI_EXIT_USAGE;
    if (rc == 0) {
        double events = (double) audit_workload_events (workload);
        double iterate_rate = best_iterate > 0 ? events / best_iterate : 0;
        double replay_rate = best_replay > 0 ? events / best_replay : 0;
        double ratio = best_iterate > 0 ? best_replay / best_iterate : 0;
        if (options.json)
            printf ("{\"records\":%" PRId64 ",\"events\":%.0f,\"perRecord\":%" PRId64
                    ",\"users\":%" PRId64 ",\"journalBytes\":%.0f,\"buildSeconds\":%.3f"
                    ",\"iterateSeconds\":%.4f,\"replaySeconds\":%.4f,\"iterateEventsPerSecond\":"
                    "%.0f,\"replayEventsPerSecond\":%.0f,\"ratio\":%.2f,\"targetMet\":%s}\n",
                    options.records, events, options.per_record, options.users, megabytes * 1e6,
                    build_seconds, best_iterate, best_replay, iterate_rate, replay_rate, ratio,
                    replay_rate >= S_TARGET_RATE ? "true" : "false");
        else {
            printf ("bench-replay: %" PRId64 " records, %.0f events (%" PRId64 " messages per"
                    " record, %" PRId64 " users), %.1f MB, written in %.1f s\n",
                    options.records, events, options.per_record, options.users, megabytes,
                    build_seconds);
            printf ("bench-replay: iterate only  %8.4f s  %12.0f events/s  (best of %" PRId64 ")\n",
                    best_iterate, iterate_rate, options.runs);
            printf ("bench-replay: replay        %8.4f s  %12.0f events/s  (best of %" PRId64 ")\n",
                    best_replay, replay_rate, options.runs);
            printf ("bench-replay: replay / iterate time %.1fx; target %.0f events/s %s\n", ratio,
                    S_TARGET_RATE, replay_rate >= S_TARGET_RATE ? "met" : "NOT met");
        }
        exit_code = CLI_EXIT_OK;
    } else
        fprintf (stderr, S_COMMAND ": failed (see above)\n");
    audit_workload_destroy (&workload);
    return exit_code;
}
