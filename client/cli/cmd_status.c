//  tally status - the cluster's readiness, as the router tells a gateway.
#include "cli.h"

#include <inttypes.h>
#include <string.h>

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
           "room to write (buys are then refused UNAVAILABLE until there is).\n"
           "\n"
           "Exit status: 0 ready, 1 answered but not ready, 2 usage error or no answer.\n",
           out);
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
            printf ("{\"ready\":%s,\"partitionCount\":%" PRIu32 ",\"partitionsOwned\":%" PRIu32
                    ",\"actors\":%" PRIu32 ",\"epoch\":%" PRIu64
                    ",\"journalFull\":%s,\"actorsStateFull\":%" PRIu32 "}\n",
                    status.ready ? "true" : "false", status.partition_count,
                    status.partitions_owned, status.actors, status.epoch,
                    status.journal_full ? "true" : "false", status.actors_state_full);
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
        }
        rc = status.ready ? CLI_EXIT_OK : CLI_EXIT_REJECTED;
    } else
        rc = cli_report_error (tly_sender_error (sender), json);
    tly_sender_destroy (&sender);
    return rc;
}
