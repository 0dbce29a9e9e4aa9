//  gateway_process - the real tally-gateway binary for a test. See the header.
#include "gateway_process.h"

#include <czmq.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static th_process_t *s_gateway = NULL;

void
gateway_process_init (int argc, char *argv [])
{
    th_verbose = argc > 1 && strcmp (argv [1], "-v") == 0;
    CHECK (sodium_init () >= 0);
    zsys_init ();
    zsys_set_linger (0);
}

//  The environment entry that sets or unsets TALLY_WORKER_ACCOUNT.
static void
s_worker_entry (const char *worker_env, char *entry, size_t size)
{
    if (worker_env)
        snprintf (entry, size, "TALLY_WORKER_ACCOUNT=%s", worker_env);
    else
        snprintf (entry, size, "TALLY_WORKER_ACCOUNT");
}

//  argv with --insecure after the binary: these tests talk to the gateway
//  over loopback TCP in clear text (the cluster tests run CURVE).
static char **
s_insecure (char *argv [])
{
    size_t count = 0;
    while (argv [count])
        count++;
    char **copy = calloc (count + 2, sizeof *copy);
    CHECK (copy);
    copy [0] = argv [0];
    copy [1] = "--insecure";
    for (size_t index = 1; index <= count; index++)
        copy [index + 1] = argv [index];
    return copy;
}

int
gateway_run (char *argv [], const char *worker_env, char *out, size_t out_size)
{
    CHECK (out && out_size > 0);
    char entry [128];
    s_worker_entry (worker_env, entry, sizeof entry);
    const char *env [] = { entry, NULL };
    argv [0] = TALLY_GATEWAY_BIN;
    char **insecure = s_insecure (argv);
    char *output = NULL;
    int code = th_run (insecure, env, TH_OUTPUT_CAPTURE, &output, TH_DEADLINE_MS);
    free (insecure);
    snprintf (out, out_size, "%s", output);
    free (output);
    if (th_verbose)
        printf ("   exit %d: %.*s\n", code, (int) strcspn (out, "\n"), out);
    return code;
}

static char s_log_path [512];

void
gateway_set_log (const char *path)
{
    snprintf (s_log_path, sizeof s_log_path, "%s", path ? path : "");
}

void
gateway_start (char *argv [], const char *worker_env)
{
    CHECK (s_gateway == NULL);
    char entry [128];
    s_worker_entry (worker_env, entry, sizeof entry);
    argv [0] = TALLY_GATEWAY_BIN;
    char **insecure = s_insecure (argv);
    s_gateway = th_process_new ("tally-gateway", insecure);
    free (insecure);
    th_process_set_env (s_gateway, entry);
    if (*s_log_path)
        th_process_set_log (s_gateway, s_log_path);
    th_process_start (s_gateway);
}

void
gateway_stop (void)
{
    CHECK (s_gateway);
    CHECK (th_process_stop (s_gateway, TH_DEADLINE_MS) == 0);
    th_process_destroy (&s_gateway);
}
