//  cli_run - see cli_run.h.
#include "cli_run.h"

#include <assert.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int
cli_run_argv (int (*command) (int argc, char **argv), int argc, char **argv, char *out, char *err)
{
    assert (command && argv && out && err);
    fflush (stdout);
    fflush (stderr);
    int saved_out = dup (STDOUT_FILENO), saved_err = dup (STDERR_FILENO);
    FILE *out_file = tmpfile (), *err_file = tmpfile ();
    assert (out_file && err_file && saved_out >= 0 && saved_err >= 0);
    dup2 (fileno (out_file), STDOUT_FILENO);
    dup2 (fileno (err_file), STDERR_FILENO);
    optind = 0;
    int rc = command (argc, argv);
    fflush (stdout);
    fflush (stderr);
    dup2 (saved_out, STDOUT_FILENO);
    dup2 (saved_err, STDERR_FILENO);
    close (saved_out);
    close (saved_err);
    FILE *files [2] = { out_file, err_file };
    char *texts [2] = { out, err };
    for (size_t i = 0; i < 2; i++) {
        rewind (files [i]);
        size_t size = fread (texts [i], 1, CLI_RUN_OUTPUT_MAX - 1, files [i]);
        texts [i][size] = 0;
        fclose (files [i]);
    }
    return rc;
}

int
cli_run_line (int (*command) (int argc, char **argv), const char *line, char *out, char *err)
{
    assert (line);
    char *words = strdup (line);
    assert (words);
    char *argv [CLI_RUN_ARGS_MAX];
    int argc = 0;
    char *state = NULL;
    for (char *word = strtok_r (words, " ", &state); word; word = strtok_r (NULL, " ", &state)) {
        assert (argc < CLI_RUN_ARGS_MAX - 1);
        argv [argc++] = word;
    }
    argv [argc] = NULL;
    int rc = cli_run_argv (command, argc, argv, out, err);
    free (words);
    return rc;
}

void
cli_run_account_file (const tly_account_t *account, const char *name, char *path)
{
    int fd = mkstemp (path);
    assert (fd >= 0);
    FILE *file = fdopen (fd, "w");
    assert (file);
    char id [TLY_ID_MAX], secret [TLY_SECRET_MAX];
    tly_account_id (account->sign_pk, id);
    tly_account_secret (account, secret);
    cli_json_account (file, id, secret, name);
    fclose (file);
}
