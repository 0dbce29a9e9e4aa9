//  tally status - the cluster's readiness, as the router tells a gateway.
#include "cli.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static void
s_usage (FILE *out)
{
    fputs ("usage: tally status [--gateway ENDPOINT] [--gateway-key KEY] [--timeout-ms MS]"
           " [--json]\n"
           "\n"
           "  --gateway ENDPOINT   default $TALLY_GATEWAY, else " TLY_ENDPOINT_GATEWAY "\n"
           "  --gateway-key KEY    the gateway's CURVE public key (default $" TLY_ENV_GATEWAY_KEY
           ")\n"
           "  --timeout-ms MS      give up after MS milliseconds (default 10000)\n"
           "  --json               print one JSON object\n"
           "\n"
           "A line \"storage: ...\" follows when the journal or an actor's state has no\n"
           "room to write (buys are then refused UNAVAILABLE until there is). Then the\n"
           "audit writer's journal segments (live, sealed, archived; the active one's\n"
           "first seq) and state snapshots (partitions with one, the oldest one's seq,\n"
           "the last stored), as an actor last heard them from the writer.\n"
           "\n"
           "Exit status: 0 ready, 1 answered but not ready, 2 usage error or no answer.\n",
           out);
}

static double
s_mib (uint64_t bytes)
{
    return (double) bytes / (1024.0 * 1024.0);
}

//  Unix ms as UTC, 2026-12-06T10:13:10Z.
static void
s_utc (int64_t ms, char *out, size_t size)
{
    time_t seconds = (time_t) (ms / 1000);
    struct tm utc;
    if (!gmtime_r (&seconds, &utc) || strftime (out, size, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0)
        snprintf (out, size, "%" PRId64 " ms", ms);
}

static void
s_print_journal (const tly_status_t *status)
{
    const tly_journal_status_t *journal = &status->journal;
    if (!journal->known) {
        printf ("journal: not reported yet (no actor has heard from the audit writer)\n");
        return;
    }
    printf ("journal: head seq %" PRIu64 ", %" PRIu32 " live segment%s (%" PRIu32
            " sealed, %.1f MiB), active from seq %" PRIu64 ", %" PRIu32 " archived (%.1f MiB)\n",
            journal->head_seq, journal->segments, journal->segments == 1 ? "" : "s",
            journal->sealed_segments, s_mib (journal->live_bytes), journal->active_first_seq,
            journal->archived_segments, s_mib (journal->archived_bytes));
    if (journal->snapshots == 0) {
        printf ("snapshots: none of %" PRIu32 " partitions\n", status->partition_count);
        return;
    }
    char when [64];
    s_utc (journal->last_snapshot_ms, when, sizeof when);
    printf ("snapshots: %" PRIu32 " of %" PRIu32 " partitions (%.1f MiB), oldest at seq %" PRIu64
            ", last stored at seq %" PRIu64 " (partition %" PRIu32 ", %s)\n",
            journal->snapshots, status->partition_count, s_mib (journal->snapshot_bytes),
            journal->oldest_snapshot_seq, journal->last_snapshot_seq,
            journal->last_snapshot_partition, when);
}

static void
s_print_json (const tly_status_t *status)
{
    printf ("{\"ready\":%s,\"partitionCount\":%" PRIu32 ",\"partitionsOwned\":%" PRIu32
            ",\"actors\":%" PRIu32 ",\"epoch\":%" PRIu64
            ",\"journalFull\":%s,\"actorsStateFull\":%" PRIu32 ",\"journal\":",
            status->ready ? "true" : "false", status->partition_count, status->partitions_owned,
            status->actors, status->epoch, status->journal_full ? "true" : "false",
            status->actors_state_full);
    const tly_journal_status_t *journal = &status->journal;
    if (!journal->known) {
        printf ("null}\n");
        return;
    }
    printf ("{\"reportedMs\":%" PRId64 ",\"headSeq\":%" PRIu64 ",\"segments\":%" PRIu32
            ",\"sealedSegments\":%" PRIu32 ",\"liveBytes\":%" PRIu64 ",\"activeFirstSeq\":%" PRIu64
            ",\"archivedSegments\":%" PRIu32 ",\"archivedBytes\":%" PRIu64 ",\"snapshots\":%" PRIu32
            ",\"snapshotBytes\":%" PRIu64 ",\"oldestSnapshotSeq\":%" PRIu64
            ",\"lastSnapshotSeq\":%" PRIu64 ",\"lastSnapshotPartition\":%" PRIu32
            ",\"lastSnapshotMs\":%" PRId64 "}}\n",
            journal->reported_ms, journal->head_seq, journal->segments, journal->sealed_segments,
            journal->live_bytes, journal->active_first_seq, journal->archived_segments,
            journal->archived_bytes, journal->snapshots, journal->snapshot_bytes,
            journal->oldest_snapshot_seq, journal->last_snapshot_seq,
            journal->last_snapshot_partition, journal->last_snapshot_ms);
}

int
cli_status (int argc, char **argv)
{
    const char *command = "tally status";
    const char *gateway = NULL;
    const char *gateway_key = NULL;
    int64_t timeout_ms = CLI_TIMEOUT_MS_DEFAULT;
    bool json = false;
    tly_flag_t flags [] = { TLY_FLAG_TEXT ("--gateway", &gateway),
                            TLY_FLAG_TEXT ("--gateway-key", &gateway_key),
                            TLY_FLAG_INT ("--timeout-ms", &timeout_ms, 1, CLI_TIMEOUT_MS_MAX),
                            TLY_FLAG_BOOL ("--json", &json), TLY_FLAG_HELP };
    int parsed = cli_parse_flags (command, s_usage, flags, sizeof flags / sizeof flags [0], argc,
                                  argv, NULL);
    if (parsed != -1)
        return parsed;
    tly_sender_t *sender = tly_sender_new_curve (cli_gateway (gateway),
                                                 cli_gateway_key (gateway_key), NULL, NULL);
    if (!sender) {
        fprintf (stderr, "%s: cannot use gateway '%s'\n", command, cli_gateway (gateway));
        return CLI_EXIT_USAGE;
    }
    tly_status_t status;
    int rc;
    if (tly_sender_status (sender, (int) timeout_ms, &status) == 0) {
        if (json)
            s_print_json (&status);
        else {
            printf ("%s: partitions %" PRIu32 "/%" PRIu32 " owned, actors %" PRIu32
                    ", epoch %" PRIu64 "\n",
                    status.ready ? "ready" : "not ready", status.partitions_owned,
                    status.partition_count, status.actors, status.epoch);
            if (status.journal_full)
                printf ("storage: journal full (buys are refused until the audit writer has"
                        " room)\n");
            if (status.actors_state_full)
                printf ("storage: state full on %" PRIu32 " actor(s) (their buys are refused"
                        " until they have room)\n",
                        status.actors_state_full);
            s_print_journal (&status);
        }
        rc = status.ready ? CLI_EXIT_OK : CLI_EXIT_REJECTED;
    } else
        rc = cli_report_error (tly_sender_error (sender), json);
    tly_sender_destroy (&sender);
    return rc;
}
