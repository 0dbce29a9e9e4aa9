//  audit_replay - `tally audit replay`: every balance rebuilt from nothing by
//  applying the journal's events, optionally compared with the live state.
#include "audit_commands.h"
#include "audit_compare.h"
#include "audit_journal.h"
#include "audit_progress.h"
#include "audit_state.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "tly_account.h"

#define S_COMMAND          "tally audit replay"
#define S_ATTEMPTS_DEFAULT 5
#define S_ATTEMPTS_MAX     100

typedef struct {
    const char *journal_dir;
    const char *data_dir;
    char *actors_dirs [AUDIT_LEDGERS_MAX];
    size_t actors_dir_count;
    bool compare;
    bool balances;
    bool json;
    int64_t attempts;
    audit_archives_t archives;
} s_options_t;

static void
s_usage (FILE *out)
{
    fputs ("usage: tally audit replay (--journal DIR | --data-dir DIR) [--archive DIR]...\n"
           "                          [--balances]\n"
           "                          [--compare [--actors-dir DIR]... [--attempts N]] [--json]\n"
           "\n"
           "Rebuilds every balance from nothing by applying the journal's events in\n"
           "order, checking that each purchase, credit, debit and refund follows the\n"
           "balance before it (a refund: of a purchase of its partition, once), that\n"
           "each order moves as an order message moves it (its hold placed, captured\n"
           "or released, 0 <= held <= balance) and that every record names the\n"
           "configuration in force (the admin group and the price catalog, which\n"
           "partition 0's records change).\n"
           "\n"
           "  --journal DIR      the journal directory (tally-audit's DATA/journal)\n"
           "  --data-dir DIR     a `tally up` data directory (DIR/audit/journal)\n"
           "  --archive DIR      read archived segments in DIR too (repeatable; default:\n"
           "                     the journal's archive/ folder, when it exists)\n"
           "  --balances         print every account: ID, partition, balance, held\n"
           "  --compare          compare with the balance actors' state, read beside them:\n"
           "                     every balance and held amount, every order (status,\n"
           "                     total, version), and partition 0's configuration; every\n"
           "                     difference is listed; partitions whose actor is not\n"
           "                     at the journal's sequence are reported in flux\n"
           "  --actors-dir DIR   a balance actor's state (repeatable; default with\n"
           "                     --data-dir: every DIR/balance-*)\n"
           "  --attempts N       journal reads while partitions are in flux (default 5)\n"
           "  --json             JSON lines; the summary is the last line\n"
           "\n"
           "Exit status: 0 consistent, 1 an inconsistent event or a difference,\n"
           "2 usage error or unreadable journal or state.\n",
           out);
}

//  --actors-dir: a balance actor's state, or every one under a data directory.
static int
s_take_actors_dir (const char *program, const char *text, void *target)
{
    s_options_t *options = target;
    return audit_find_ledgers (program, text, options->actors_dirs, &options->actors_dir_count);
}

static audit_parse_t
s_parse (int argc, char **argv, s_options_t *options)
{
    tly_flag_t flags [] = { TLY_FLAG_TEXT ("--journal", &options->journal_dir),
                            TLY_FLAG_TEXT ("--data-dir", &options->data_dir),
                            TLY_FLAG_CALL ("--archive", audit_take_archive, &options->archives,
                                           NULL),
                            TLY_FLAG_BOOL ("--compare", &options->compare),
                            TLY_FLAG_CALL ("--actors-dir", s_take_actors_dir, options, NULL),
                            TLY_FLAG_INT ("--attempts", &options->attempts, 1, S_ATTEMPTS_MAX),
                            TLY_FLAG_BOOL ("--balances", &options->balances),
                            TLY_FLAG_BOOL ("--json", &options->json),
                            TLY_FLAG_HELP };
    int parsed = cli_parse_flags (S_COMMAND, s_usage, flags, sizeof flags / sizeof flags [0], argc,
                                  argv, NULL);
    if (parsed != -1)
        return parsed == CLI_EXIT_OK ? AUDIT_PARSE_HELP : AUDIT_PARSE_FAILED;
    if (options->actors_dir_count > 0 && !options->compare) {
        fprintf (stderr, S_COMMAND ": --actors-dir needs --compare\n");
        return AUDIT_PARSE_FAILED;
    }
    if (options->compare && options->actors_dir_count == 0) {
        if (!options->data_dir) {
            fprintf (stderr, S_COMMAND ": --compare needs --actors-dir DIR or --data-dir DIR\n");
            return AUDIT_PARSE_FAILED;
        }
        if (audit_find_ledgers (S_COMMAND, options->data_dir, options->actors_dirs,
                                &options->actors_dir_count)
            == -1)
            return AUDIT_PARSE_FAILED;
    }
    return AUDIT_PARSE_RUN;
}

static void
s_print_balances (audit_state_t *state, bool json)
{
    size_t capacity = audit_state_capacity (state);
    for (size_t i = 0; i < capacity; i++) {
        const audit_account_t *account = audit_state_slot (state, i);
        if (!account->used)
            continue;
        char id [TLY_ID_MAX];
        tly_account_id (account->user, id);
        if (json)
            printf ("{\"user\":\"%s\",\"partition\":%" PRIu32 ",\"balance\":%" PRId64
                    ",\"held\":%" PRId64 "}\n",
                    id, account->partition, account->balance, account->held);
        else
            printf ("%s partition %" PRIu32 " balance %" PRId64 " held %" PRId64 "\n", id,
                    account->partition, account->balance, account->held);
    }
}

static const char *
s_config_compared (audit_compare_config_t config)
{
    switch (config) {
        case AUDIT_COMPARE_CONFIG_MATCHES: return "the configuration matches";
        case AUDIT_COMPARE_CONFIG_DIFFERS: return "the configuration differs";
        case AUDIT_COMPARE_CONFIG_IN_FLUX:
            return "the configuration not compared (partition 0 in flux)";
        default: return "the configuration not compared (no ledger holds partition 0)";
    }
}

static void
s_print_summary (const audit_stats_t *stats, double seconds, const audit_compare_result_t *compare,
                 bool json)
{
    double rate = seconds > 0 ? (double) stats->events / seconds : 0;
    bool failed = stats->problems || stats->sum_overflows;
    if (json) {
        printf ("{\"ok\":%s,\"records\":%" PRIu64 ",\"events\":%" PRIu64 ",\"accounts\":%" PRIu64
                ",\"purchases\":%" PRIu64 ",\"adjustments\":%" PRIu64 ",\"refunds\":%" PRIu64
                ",\"orders\":%" PRIu64 ",\"ordersOpen\":%" PRIu64 ",\"orderChanges\":%" PRIu64
                ",\"heldSum\":%" PRId64 ",\"balanceSum\":",
                failed ? "false" : "true", stats->records, stats->events, stats->accounts,
                stats->purchases, stats->adjustments, stats->refunds, stats->orders,
                stats->orders_open, stats->order_changes, stats->held_sum);
        if (stats->sum_overflows)
            printf ("null");
        else
            printf ("%" PRId64, stats->balance_sum);
        printf (",\"configVersion\":%" PRIu64 ",\"configChanges\":%" PRIu64 ",\"headSeq\":%" PRIu64
                ",\"seconds\":%.3f,\"eventsPerSecond\":%.0f"
                ",\"inconsistencies\":%" PRIu64,
                stats->config_version, stats->config_changes, stats->last_seq, seconds, rate,
                stats->problems);
        if (compare)
            printf (",\"compare\":{\"ok\":%s,\"partitions\":%" PRIu64 ",\"accounts\":%" PRIu64
                    ",\"orders\":%" PRIu64 ",\"configMatches\":%s,\"differences\":%" PRIu64
                    ",\"inFlux\":%" PRIu64 ",\"attempts\":%d}",
                    compare->differences ? "false" : "true", compare->partitions, compare->accounts,
                    compare->orders,
                    compare->config == AUDIT_COMPARE_CONFIG_MATCHES   ? "true"
                    : compare->config == AUDIT_COMPARE_CONFIG_DIFFERS ? "false"
                                                                      : "null",
                    compare->differences, compare->in_flux, compare->attempts);
        printf ("}\n");
        return;
    }
    printf ("replay: %s %" PRIu64 " records, %" PRIu64 " events: %" PRIu64 " accounts, %" PRIu64
            " purchases, %" PRIu64 " credits and debits (%" PRIu64 " refunds), %" PRIu64
            " orders (%" PRIu64 " open, %" PRId64 " held), balance sum ",
            failed ? "FAILED" : "OK", stats->records, stats->events, stats->accounts,
            stats->purchases, stats->adjustments, stats->refunds, stats->orders, stats->orders_open,
            stats->held_sum);
    if (stats->sum_overflows)
        printf ("over int64");
    else
        printf ("%" PRId64, stats->balance_sum);
    printf (", config version %" PRIu64 " (%" PRIu64 " changes), head seq %" PRIu64
            ", %.3f s, %.0f events/s\n",
            stats->config_version, stats->config_changes, stats->last_seq, seconds, rate);
    if (stats->problems)
        printf ("replay: %" PRIu64 " inconsistent events\n", stats->problems);
    if (compare)
        printf ("compare: %s %" PRIu64 " partitions, %" PRIu64 " accounts match, %" PRIu64
                " orders match, %s, %" PRIu64 " differences, %" PRIu64
                " partitions in flux (%d journal reads)\n",
                compare->differences ? "FAILED" : "OK", compare->partitions, compare->accounts,
                compare->orders, s_config_compared (compare->config), compare->differences,
                compare->in_flux, compare->attempts);
}

static void
s_print_problems (audit_state_t *state, const audit_stats_t *stats, bool json)
{
    uint64_t kept = stats->problems < AUDIT_PROBLEMS_KEPT ? stats->problems : AUDIT_PROBLEMS_KEPT;
    for (size_t i = 0; i < kept; i++) {
        if (json) {
            printf ("{\"inconsistency\":");
            cli_json_string (stdout, audit_state_problem (state, i));
            printf ("}\n");
        } else
            printf ("replay: %s\n", audit_state_problem (state, i));
    }
    if (stats->problems > kept && !json)
        printf ("replay: ... and %" PRIu64 " more\n", stats->problems - kept);
}

int
audit_replay (int argc, char **argv)
{
    s_options_t options = { .attempts = S_ATTEMPTS_DEFAULT };
    audit_parse_t parsed = s_parse (argc, argv, &options);
    tly_journal_t *journal = parsed == AUDIT_PARSE_RUN
                                 ? audit_open_journal (S_COMMAND, options.journal_dir,
                                                       options.data_dir, &options.archives)
                                 : NULL;
    audit_state_t *state = journal ? audit_state_new () : NULL;
    int exit_code = parsed == AUDIT_PARSE_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (state) {
        tly_journal_head_t head;
        tly_journal_head (journal, &head);
        audit_progress_t progress;
        audit_progress_start (&progress, "replay", head.seq);
        double start = audit_seconds ();
        int rc = audit_state_replay (state, journal, &progress);
        double seconds = audit_seconds () - start;
        audit_progress_end (&progress);
        audit_compare_result_t compare = { 0 };
        if (rc == 0 && options.compare)
            rc = audit_compare (state, journal, options.actors_dirs, options.actors_dir_count,
                                (int) options.attempts, options.json, &compare);
        if (rc == 0) {
            audit_stats_t stats;
            audit_state_stats (state, &stats);
            if (options.balances)
                s_print_balances (state, options.json);
            s_print_problems (state, &stats, options.json);
            s_print_summary (&stats, seconds, options.compare ? &compare : NULL, options.json);
            exit_code = stats.problems || stats.sum_overflows || compare.differences
                            ? CLI_EXIT_REJECTED
                            : CLI_EXIT_OK;
        }
    }
    for (size_t i = 0; i < options.actors_dir_count; i++)
        free (options.actors_dirs [i]);
    audit_state_destroy (&state);
    tly_journal_destroy (&journal);
    return exit_code;
}
