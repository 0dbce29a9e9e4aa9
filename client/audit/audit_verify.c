//  audit_verify - `tally audit verify`: checks the whole chain, every client
//  signature and every checkpoint, that every record's events and results
//  follow from its signed envelope and the state before it (audit_derive),
//  and names the first record that fails.
//
//  The command: its flags, opening the journal (or one segment file) and
//  the state snapshots, and walking again when a live writer's retention
//  retires a segment under the walk. The walk is audit_verify_walk.c, the
//  checks it makes audit_verify_checks.c and audit_verify_snapshots.c, its
//  report audit_verify_report.c; audit_verify_private.h is what they share.
#include "audit_commands.h"
#include "audit_verify_private.h"
#include "tly_account_load.h"
#include "tly_audit_snapshots.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include "cli.h"
#include "tly_account.h"

//  Walks tried when retention retires a segment while it is read.
#define S_ATTEMPTS 3

static void
s_usage (FILE *out)
{
    fputs ("usage: tally audit verify (--journal DIR | --data-dir DIR) [--archive DIR]...\n"
           "                          [--kept] [--snapshots DIR] [--worker ID]\n"
           "                          [--dedupe-window-ms MS] [--json]\n"
           "       tally audit verify --segment FILE [--worker ID] [--dedupe-window-ms MS]\n"
           "                          [--json]\n"
           "\n"
           "Checks every record: its hash, the link to the record before, contiguous\n"
           "global and partition sequences, epochs, the client's signature on the request,\n"
           "that its events and results follow from the signed envelope and the state\n"
           "before it by the balance actors' rules (an event the envelope does not give\n"
           "fails, whoever signed the checkpoint after it), and every checkpoint's\n"
           "signature by the worker and hash; across segments, each segment's base,\n"
           "signed start and (when sealed) signed end. Reads a snapshot; the writer may\n"
           "keep writing.\n"
           "\n"
           "  --journal DIR    the journal directory (tally-audit's DATA/journal)\n"
           "  --data-dir DIR   a `tally up` data directory (uses DIR/audit/journal)\n"
           "  --archive DIR    read archived segments in DIR too (repeatable; default:\n"
           "                   the journal's archive/ folder, when it exists)\n"
           "  --segment FILE   check one segment file on its own: its chain from its\n"
           "                   base, its signed start (the previous segment's seal) and\n"
           "                   its signed end (its own seal)\n"
           "  --kept           check what is kept: when the first segments were retired\n"
           "                   (tally-audit --retain delete), start at the first segment\n"
           "                   found, from its signed start, instead of failing on the gap\n"
           "  --snapshots DIR  the writer's state snapshots (default: beside the journal,\n"
           "                   DATA/snapshots): each is checked against the state the\n"
           "                   records give at its record; with --kept, a partition whose\n"
           "                   records before its snapshot are not kept starts from it\n"
           "  --dedupe-window-ms MS\n"
           "                   the longest --dedupe-window-ms the balance actors ran with\n"
           "                   (default 60000): a message ID older than it is never applied\n"
           "  --worker ID      the worker account that signs checkpoints\n"
           "                   (default $" TLY_ENV_WORKER_ACCOUNT "; needed when there are any)\n"
           "  --json           print one JSON object\n"
           "\n"
           "Exit status: 0 the journal verifies, 1 it does not (the first failure is\n"
           "named, with its segment file), 2 usage error or unreadable journal.\n",
           out);
}

//  What the command checks, from its flags.
typedef struct {
    const uint8_t *worker;  //  NULL: none given
    const char *journal_dir;
    const char *data_dir;
    const audit_archives_t *archives;
    const char *segment;
    const char *snapshots_dir;
    bool kept;
    bool json;
    int64_t window_ms;
} s_args_t;

//  One verify, from opening the journal to the report (the report, and
//  the exit code it stands for, are for a walk that read what it listed:
//  when retired is set, a segment went before the walk came to it).
static int
s_check (const s_args_t *args, bool *retired)
{
    tly_journal_t *journal = NULL;
    const char *segment = args->segment;
    if (segment) {
        journal = tly_journal_new_segment_reader (segment);
        if (!journal)
            fprintf (stderr,
                     AUDIT_VERIFY_COMMAND ": cannot read the segment %s (see the log line above)\n",
                     segment);
    } else
        journal = audit_open_journal (AUDIT_VERIFY_COMMAND, args->journal_dir, args->data_dir,
                                      args->archives);
    if (!journal)
        return CLI_EXIT_USAGE;

    audit_verify_t self = { .worker = args->worker,
                            .arena = tly_arena_new (AUDIT_ARENA_BLOCK),
                            .derive = audit_derive_new (args->window_ms),
                            .next_seq = 1,
                            .journal = journal,
                            .one_segment = args->segment != NULL,
                            .kept = args->kept,
                            .partition_seen = calloc (TLY_PARTITIONS_MAX, sizeof (bool)),
                            .partition_seqs = calloc (TLY_PARTITIONS_MAX, sizeof (uint64_t)),
                            .partition_epochs = calloc (TLY_PARTITIONS_MAX, sizeof (uint64_t)),
                            .partition_firsts = calloc (TLY_PARTITIONS_MAX, sizeof (uint64_t)),
                            .exit_code = CLI_EXIT_USAGE };
    assert (self.derive && self.partition_seen && self.partition_seqs && self.partition_epochs
            && self.partition_firsts);
    if (self.worker)
        audit_derive_set_worker (self.derive, self.worker);
    //  A refund's purchase is read from the journal, its record checked.
    audit_derive_set_lookup (self.derive, audit_verify_lookup, &self);
    bool needs_worker = false;
    if (tly_journal_each_checkpoint (journal, audit_verify_load_checkpoint, &self) == -1
        || audit_verify_load_segments (&self) == -1) {
        if (!tly_journal_retired (journal))
            fprintf (stderr, AUDIT_VERIFY_COMMAND
                     ": cannot read the checkpoints (see the log line above)\n");
    } else if (args->snapshots_dir
               && audit_snapshots_read (AUDIT_VERIFY_COMMAND, args->snapshots_dir, self.worker,
                                        &self.snapshots, &self.snapshot_count)
                      == -1)
        ;  //  said
    else {
        for (size_t i = 0; i < self.segment_count; i++)
            needs_worker |= self.segments [i].base_checkpoint_size > 0;
        if ((self.checkpoint_count > 0 || needs_worker) && !self.worker)
            fprintf (stderr,
                     AUDIT_VERIFY_COMMAND ": the journal has %zu checkpoints: give --worker or"
                                          " " TLY_ENV_WORKER_ACCOUNT " to check them\n",
                     self.checkpoint_count);
        else
            audit_verify_run (&self, args->json);
    }
    int exit_code = self.exit_code;
    *retired = tly_journal_retired (journal);
    free (self.checkpoints);
    free (self.segments);
    audit_snapshots_free (&self.snapshots, self.snapshot_count);
    free (self.partition_seen);
    free (self.partition_seqs);
    free (self.partition_epochs);
    free (self.partition_firsts);
    tly_arena_destroy (&self.arena);
    audit_derive_destroy (&self.derive);
    tly_journal_destroy (&journal);
    return exit_code;
}

int
audit_verify (int argc, char **argv)
{
    const char *journal_dir = NULL, *data_dir = NULL, *worker_id = NULL, *segment = NULL;
    const char *snapshots_dir = NULL;
    bool json = false, kept = false;
    int64_t window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT;
    audit_archives_t archives = { .count = 0 };
    tly_flag_t flags [] = { TLY_FLAG_TEXT ("--journal", &journal_dir),
                            TLY_FLAG_TEXT ("--data-dir", &data_dir),
                            TLY_FLAG_CALL ("--archive", audit_take_archive, &archives, NULL),
                            TLY_FLAG_TEXT ("--segment", &segment),
                            TLY_FLAG_TEXT ("--snapshots", &snapshots_dir),
                            TLY_FLAG_TEXT ("--worker", &worker_id),
                            TLY_FLAG_BOOL ("--json", &json),
                            TLY_FLAG_BOOL ("--kept", &kept),
                            TLY_FLAG_INT ("--dedupe-window-ms", &window_ms,
                                          TLY_DEDUPE_WINDOW_MS_MIN, TLY_DEDUPE_WINDOW_MS_MAX),
                            TLY_FLAG_HELP };
    int parsed = cli_parse_flags (AUDIT_VERIFY_COMMAND, s_usage, flags,
                                  sizeof flags / sizeof flags [0], argc, argv, NULL);
    if (parsed != -1)
        return parsed;
    const char *worker_from = "--worker";
    if (!worker_id || !*worker_id) {
        worker_id = getenv (TLY_ENV_WORKER_ACCOUNT);
        worker_from = TLY_ENV_WORKER_ACCOUNT;
    }
    uint8_t worker [TLY_KEY_BYTES];
    if (worker_id && *worker_id && tly_account_id_parse (worker_id, worker) == -1) {
        fprintf (stderr, AUDIT_VERIFY_COMMAND ": %s is not an account ID (co_z...): '%s'\n",
                 worker_from, worker_id);
        return CLI_EXIT_USAGE;
    }
    if (segment && kept) {
        fprintf (stderr, AUDIT_VERIFY_COMMAND ": --kept is for a whole journal, not --segment\n");
        return CLI_EXIT_USAGE;
    }
    if (segment && (journal_dir || data_dir || archives.count || snapshots_dir)) {
        fprintf (stderr,
                 AUDIT_VERIFY_COMMAND ": --segment FILE is checked on its own: give no --journal,"
                                      " --data-dir, --archive or --snapshots with it\n");
        return CLI_EXIT_USAGE;
    }
    //  The writer keeps its state snapshots beside the journal: DATA/snapshots.
    char snapshots_path [AUDIT_PATH_MAX];
    if (!snapshots_dir && !segment && (journal_dir || data_dir)) {
        if (journal_dir)
            snprintf (snapshots_path, sizeof snapshots_path, "%s/../" TLY_SNAPSHOTS_SUBDIR,
                      journal_dir);
        else
            snprintf (snapshots_path, sizeof snapshots_path,
                      "%s/" AUDIT_DATA_SUBDIR "/" TLY_SNAPSHOTS_SUBDIR, data_dir);
        snapshots_dir = snapshots_path;
    }
    s_args_t args = { .worker = worker_id && *worker_id ? worker : NULL,
                      .journal_dir = journal_dir,
                      .data_dir = data_dir,
                      .archives = &archives,
                      .segment = segment,
                      .snapshots_dir = snapshots_dir,
                      .kept = kept,
                      .json = json,
                      .window_ms = window_ms };
    //  A live writer's retention may retire a segment between the listing
    //  and its read: the walk starts again on what is kept then.
    for (int attempt = 1;; attempt++) {
        bool retired = false;
        int exit_code = s_check (&args, &retired);
        if (!retired)
            return exit_code;
        if (attempt == S_ATTEMPTS) {
            fprintf (stderr,
                     AUDIT_VERIFY_COMMAND
                     ": segments were retired by the writer while read, %d times;"
                     " run it again (or on a stopped writer's journal)\n",
                     S_ATTEMPTS);
            return CLI_EXIT_USAGE;
        }
        fprintf (stderr,
                 AUDIT_VERIFY_COMMAND ": a segment was retired by the writer while it was read;"
                                      " verifying again (%d of %d)\n",
                 attempt + 1, S_ATTEMPTS);
    }
}
