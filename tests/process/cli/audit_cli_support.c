//  audit_cli_support - the helpers audit_cli_test runs `tally audit` and
//  reads its output and files with (see audit_cli_support.h).
#include "audit_cli_support.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "harness.h"

#define S_OUTPUT_MAX (64 << 20)
#define S_COMMAND_MS 120000  //  longest one command may run

char at_root [64];

//  ---------------------------------------------------------------- helpers

char *
at_path (const char *name)
{
    static char paths [8][512];
    static int next = 0;
    char *path = paths [next++ % 8];
    snprintf (path, 512, "%s/%s", at_root, name);
    return path;
}

//  Runs tally with args (args [0] is its name); returns its exit code and its
//  stdout (caller frees).
int
at_run (char **output, char *const args [])
{
    char *argv [32] = { TALLY_CLI_BIN };
    size_t count = 1;
    while (args [count]) {
        assert (count + 1 < sizeof argv / sizeof argv [0]);
        argv [count] = args [count];
        count++;
    }
    char *text = NULL;
    int code = th_run (argv, NULL, TH_OUTPUT_CAPTURE_STDOUT, &text, S_COMMAND_MS);
    assert (strlen (text) < S_OUTPUT_MAX - 1);
    if (output)
        *output = text;
    else
        free (text);
    return code;
}

void
at_expect (int expected_code, const char *expected_text, char *const args [])
{
    char *output;
    int code = at_run (&output, args);
    if (code != expected_code || (expected_text && !strstr (output, expected_text))) {
        fprintf (stderr, "audit_cli_test: %s %s %s: exit %d, expected %d with '%s'; output:\n%s\n",
                 args [1], args [2], args [3], code, expected_code,
                 expected_text ? expected_text : "", output);
        assert (false);
    }
    free (output);
}


void
at_copy_journal (const char *from, const char *to)
{
    assert (mkdir (to, 0700) == 0);
    char source [600], target [600];
    snprintf (target, sizeof target, "%s/segments", to);
    assert (mkdir (target, 0700) == 0);
    snprintf (source, sizeof source, "%s" AT_SEGMENT, from);
    snprintf (target, sizeof target, "%s" AT_SEGMENT, to);
    FILE *in = fopen (source, "rb"), *out = fopen (target, "wb");
    assert (in && out);
    char buffer [1 << 16];
    size_t size;
    while ((size = fread (buffer, 1, sizeof buffer, in)) > 0)
        assert (fwrite (buffer, 1, size, out) == size);
    fclose (in);
    assert (fclose (out) == 0);
}


static void
s_raw_open_at (at_raw_t *raw, const char *path, unsigned int flags, const char *table)
{
    assert (mdb_env_create (&raw->env) == 0);
    assert (mdb_env_set_maxdbs (raw->env, 8) == 0);
    assert (mdb_env_set_mapsize (raw->env, 1ULL << 30) == 0);
    assert (mdb_env_open (raw->env, path, flags, 0600) == 0);
    assert (mdb_txn_begin (raw->env, NULL, 0, &raw->txn) == 0);
    assert (mdb_dbi_open (raw->txn, table, 0, &raw->dbi) == 0);
}

//  An actor's ledger: an LMDB directory.
void
at_raw_open (at_raw_t *raw, const char *dir, const char *table)
{
    s_raw_open_at (raw, dir, 0, table);
}

//  A copied journal's one segment: an LMDB file.
void
at_raw_open_segment (at_raw_t *raw, const char *journal, const char *table)
{
    char path [600];
    snprintf (path, sizeof path, "%s" AT_SEGMENT, journal);
    s_raw_open_at (raw, path, MDB_NOSUBDIR, table);
}

void
at_raw_close (at_raw_t *raw)
{
    assert (mdb_txn_commit (raw->txn) == 0);
    mdb_env_close (raw->env);
}

MDB_val
at_seq_key (uint64_t seq, uint8_t bytes [8])
{
    for (int i = 7; i >= 0; i--, seq >>= 8)
        bytes [i] = (uint8_t) seq;
    return (MDB_val) { 8, bytes };
}

//  ---------------------------------------------------------------- JSON syntax


static const char *
s_json_space (const char *at)
{
    while (*at == ' ' || *at == '\t')
        at++;
    return at;
}

static const char *
s_json_string (const char *at)
{
    if (*at++ != '"')
        return NULL;
    while (*at && *at != '"') {
        if ((unsigned char) *at < 0x20)
            return NULL;
        if (*at == '\\') {
            at++;
            if (*at == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr ("0123456789abcdefABCDEF", at [i]) || !at [i])
                        return NULL;
                at += 4;
            } else if (!*at || !strchr ("\"\\/bfnrt", *at))
                return NULL;
        }
        at++;
    }
    return *at == '"' ? at + 1 : NULL;
}

//  Walks one JSON value; returns the position after it, or NULL.
const char *
at_json_value (const char *at)
{
    at = s_json_space (at);
    char open = *at;
    if (open == '"')
        return s_json_string (at);
    if (open == '{' || open == '[') {
        char close = open == '{' ? '}' : ']';
        at = s_json_space (at + 1);
        if (*at == close)
            return at + 1;
        while (at) {
            if (open == '{') {
                at = s_json_string (s_json_space (at));
                if (!at || *(at = s_json_space (at)) != ':')
                    return NULL;
                at++;
            }
            at = at_json_value (at);
            if (!at)
                return NULL;
            at = s_json_space (at);
            if (*at == close)
                return at + 1;
            if (*at++ != ',')
                return NULL;
        }
        return NULL;
    }
    for (const char *word = "true\0false\0null\0"; *word; word += strlen (word) + 1)
        if (strncmp (at, word, strlen (word)) == 0)
            return at + strlen (word);
    char *end;
    strtod (at, &end);
    return end > at ? end : NULL;
}

//  The number after "name": in a JSON object (it must be there).
uint64_t
at_json_number (const char *json, const char *name)
{
    char key [64];
    snprintf (key, sizeof key, "\"%s\":", name);
    const char *at = strstr (json, key);
    assert (at);
    return strtoull (at + strlen (key), NULL, 10);
}
