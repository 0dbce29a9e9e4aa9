//  tally health - a server's health file, judged: what a container's
//  HEALTHCHECK runs, since a FROM scratch image has no shell to probe with.
#include "cli.h"

#include "tly_health.h"
#include "tly_wire.h"

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: tally health --file PATH [--max-age-ms MS]\n"
             "\n"
             "Reads the file a server keeps with --health-file PATH (rewritten about once a\n"
             "second by its main loop) and says whether the server is ready.\n"
             "\n"
             "  --file PATH        the server's --health-file\n"
             "  --max-age-ms MS    older than this is stale: the loop is stuck or the\n"
             "                     server is gone (default %d)\n"
             "\n"
             "Exit status: 0 ready and fresh, 1 starting, stopping, stale or no file,\n"
             "2 usage error. One line says why.\n",
             TLY_HEALTH_MAX_AGE_MS);
}

#define S_MAX_AGE_MS_MAX 3600000  //  an hour: past that, nothing is live

int
cli_health (int argc, char **argv)
{
    const char *command = "tally health";
    const char *path = NULL;
    int64_t max_age_ms = TLY_HEALTH_MAX_AGE_MS;
    tly_flag_t flags [] = { TLY_FLAG_TEXT ("--file", &path),
                            TLY_FLAG_INT ("--max-age-ms", &max_age_ms, 1, S_MAX_AGE_MS_MAX),
                            TLY_FLAG_HELP };
    int parsed = cli_parse_flags (command, s_usage, flags, sizeof flags / sizeof flags [0], argc,
                                  argv, NULL);
    if (parsed != -1)
        return parsed;
    if (!path || !*path) {
        fprintf (stderr, "%s: --file is required (the server's --health-file)\n", command);
        return CLI_EXIT_USAGE;
    }
    char reason [TLY_HEALTH_PATH_MAX + 256];
    tly_health_check_t check = tly_health_check (path, max_age_ms, tly_mono_ms (), reason,
                                                 sizeof reason);
    if (check == TLY_HEALTH_OK) {
        printf ("%s: %s\n", command, reason);
        return CLI_EXIT_OK;
    }
    fprintf (stderr, "%s: not ready: %s\n", command, reason);
    return CLI_EXIT_REJECTED;
}
