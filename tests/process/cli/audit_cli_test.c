//  audit_cli_test - runs the real `tally audit` on journals written with the
//  journal class: a random workload verifies; a flipped byte, a deleted
//  record, envelopes checked against the wrong worker, records forged with
//  the worker's key (an event the envelope does not give) and checkpoints
//  signed again with another key are each named;
//  replay finds the balances the workload computed, and notices an event
//  that does not follow; export writes one valid JSON line per record; and
//  replay --compare agrees with a ledger rebuilt from the journal, names a
//  balance or partition 0's configuration changed behind its back, and
//  calls a lagging ledger in flux.
#include <assert.h>
#include <inttypes.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "audit_workload.h"
#include "harness.h"
#include "journal_forge.h"
#include "tly_journal.h"
#include "tly_ledger.h"
#include "tly_store.h"

#define S_USERS       300
#define S_RECORDS     3000
#define S_PER_RECORD  8
#define S_PARTITIONS  16
#define S_CHECKPOINTS 250  //  records between checkpoints
#define S_SEED        20261127
#define S_FLIPPED_SEQ 1234
#define S_DELETED_SEQ 2001
#define S_OUTPUT_MAX  (64 << 20)
#define S_COMMAND_MS  120000  //  longest one command may run

static char s_root [64];  //  the scratch directory

//  ---------------------------------------------------------------- helpers

static char *
s_path (const char *name)
{
    static char paths [8][512];
    static int next = 0;
    char *path = paths [next++ % 8];
    snprintf (path, 512, "%s/%s", s_root, name);
    return path;
}

//  Runs tally with args (args [0] is its name); returns its exit code and its
//  stdout (caller frees).
static int
s_run (char **output, char *const args [])
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

static void
s_expect (int expected_code, const char *expected_text, char *const args [])
{
    char *output;
    int code = s_run (&output, args);
    if (code != expected_code || (expected_text && !strstr (output, expected_text))) {
        fprintf (stderr, "audit_cli_test: %s %s %s: exit %d, expected %d with '%s'; output:\n%s\n",
                 args [1], args [2], args [3], code, expected_code,
                 expected_text ? expected_text : "", output);
        assert (false);
    }
    free (output);
}

//  The journal's one segment (tally up rolls at 256 MiB: these have one).
#define S_SEGMENT "/segments/00000000000000000001.mdb"

static void
s_copy_journal (const char *from, const char *to)
{
    assert (mkdir (to, 0700) == 0);
    char source [600], target [600];
    snprintf (target, sizeof target, "%s/segments", to);
    assert (mkdir (target, 0700) == 0);
    snprintf (source, sizeof source, "%s" S_SEGMENT, from);
    snprintf (target, sizeof target, "%s" S_SEGMENT, to);
    FILE *in = fopen (source, "rb"), *out = fopen (target, "wb");
    assert (in && out);
    char buffer [1 << 16];
    size_t size;
    while ((size = fread (buffer, 1, sizeof buffer, in)) > 0)
        assert (fwrite (buffer, 1, size, out) == size);
    fclose (in);
    assert (fclose (out) == 0);
}

//  Raw LMDB on a copy, as someone tampering with the files would.
typedef struct {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
} s_raw_t;

static void
s_raw_open_at (s_raw_t *raw, const char *path, unsigned int flags, const char *table)
{
    assert (mdb_env_create (&raw->env) == 0);
    assert (mdb_env_set_maxdbs (raw->env, 8) == 0);
    assert (mdb_env_set_mapsize (raw->env, 1ULL << 30) == 0);
    assert (mdb_env_open (raw->env, path, flags, 0600) == 0);
    assert (mdb_txn_begin (raw->env, NULL, 0, &raw->txn) == 0);
    assert (mdb_dbi_open (raw->txn, table, 0, &raw->dbi) == 0);
}

//  An actor's ledger: an LMDB directory.
static void
s_raw_open (s_raw_t *raw, const char *dir, const char *table)
{
    s_raw_open_at (raw, dir, 0, table);
}

//  A copied journal's one segment: an LMDB file.
static void
s_raw_open_segment (s_raw_t *raw, const char *journal, const char *table)
{
    char path [600];
    snprintf (path, sizeof path, "%s" S_SEGMENT, journal);
    s_raw_open_at (raw, path, MDB_NOSUBDIR, table);
}

static void
s_raw_close (s_raw_t *raw)
{
    assert (mdb_txn_commit (raw->txn) == 0);
    mdb_env_close (raw->env);
}

static MDB_val
s_seq_key (uint64_t seq, uint8_t bytes [8])
{
    for (int i = 7; i >= 0; i--, seq >>= 8)
        bytes [i] = (uint8_t) seq;
    return (MDB_val) { 8, bytes };
}

//  ---------------------------------------------------------------- JSON syntax

static const char *s_json_value (const char *at);

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
static const char *
s_json_value (const char *at)
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
            at = s_json_value (at);
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

//  ---------------------------------------------------------------- the checks

static void
s_test_verify (char *journal, char *data_dir, char *worker_id, char *other_id)
{
    s_expect (0, "verify: OK 3000 records, 12 checkpoints, head seq 3000",
              (char *[]) { "tally", "audit", "verify", "--journal", journal, "--worker", worker_id,
                           NULL });
    s_expect (0, "\"ok\":true,\"records\":3000",
              (char *[]) { "tally", "audit", "verify", "--data-dir", data_dir, "--json", NULL });
    //  Every record's events follow from its envelope, resends in the mix.
    char *output;
    assert (s_run (&output,
                   (char *[]) { "tally", "audit", "verify", "--journal", journal, "--json", NULL })
            == 0);
    assert (strstr (output, "\"derived\":3000,\"notDerived\":0,\"resends\":"));
    assert (!strstr (output, "\"resends\":0}"));
    free (output);
    //  The envelopes are addressed to the worker, who signs the checkpoints:
    //  another worker fails at the first record.
    s_expect (1, "00000000000000000001.mdb: record 1: the envelope is not addressed to the worker",
              (char *[]) { "tally", "audit", "verify", "--journal", journal, "--worker", other_id,
                           NULL });
    unsetenv ("TALLY_WORKER_ACCOUNT");
    s_expect (2, NULL, (char *[]) { "tally", "audit", "verify", "--journal", journal, NULL });
    setenv ("TALLY_WORKER_ACCOUNT", worker_id, 1);
    s_expect (2, NULL, (char *[]) { "tally", "audit", "verify", NULL });
    s_expect (2, NULL,
              (char *[]) { "tally", "audit", "verify", "--journal", s_path ("none"), NULL });

    //  One byte flipped inside one record's body.
    char *flipped = s_path ("flipped");
    s_copy_journal (journal, flipped);
    s_raw_t raw;
    s_raw_open_segment (&raw, flipped, "records");
    uint8_t key_bytes [8];
    MDB_val key = s_seq_key (S_FLIPPED_SEQ, key_bytes), value;
    assert (mdb_get (raw.txn, raw.dbi, &key, &value) == 0);
    uint8_t *copy = malloc (value.mv_size);
    memcpy (copy, value.mv_data, value.mv_size);
    copy [value.mv_size / 3] ^= 0x01;  //  well inside the body (the hash is last)
    value.mv_data = copy;
    assert (mdb_put (raw.txn, raw.dbi, &key, &value, 0) == 0);
    s_raw_close (&raw);
    free (copy);
    s_expect (1, "00000000000000000001.mdb: record 1234: hash mismatch (stored ",
              (char *[]) { "tally", "audit", "verify", "--journal", flipped, NULL });

    //  One record deleted.
    char *deleted = s_path ("deleted");
    s_copy_journal (journal, deleted);
    s_raw_open_segment (&raw, deleted, "records");
    key = s_seq_key (S_DELETED_SEQ, key_bytes);
    assert (mdb_del (raw.txn, raw.dbi, &key, NULL) == 0);
    s_raw_close (&raw);
    s_expect (1, "00000000000000000001.mdb: record 2001: gap: seq 2001 missing",
              (char *[]) { "tally", "audit", "verify", "--journal", deleted, NULL });
}

//  ---------------------------------------------------------------- forged records
//  Each forgery rewrites a copy as a writer with the worker's key could
//  (chain and checkpoints made good again); verify must name the record.

typedef struct {
    Tally__Event__KindCase kind;  //  the kind of event to forge, in a record of one message
    int what;                     //  S_FORGE_*
    bool other_key;               //  sign the checkpoints again with another key
} s_forgery_t;

#define S_FORGE_NOTHING       0    //  change no value (the record stays as it was)
#define S_FORGE_INITIAL       1    //  AccountCreated: another initial balance
#define S_FORGE_BALANCE_AFTER 2    //  PurchaseRecorded: more left after it
#define S_FORGE_DROP          3    //  the PurchaseRecorded taken out: a purchase for nothing
#define S_FORGE_FROM_SEQ      500  //  forge no record before this one

static bool
s_forge (uint64_t seq, Tally__RecordDraft *draft, void *arg)
{
    const s_forgery_t *forgery = arg;
    if (seq < S_FORGE_FROM_SEQ || draft->n_events == 0
        || draft->events [0]->kind_case != forgery->kind)
        return false;
    if (forgery->what == S_FORGE_INITIAL)
        draft->events [0]->account_created->initial_balance += 1000000000;
    else if (forgery->what == S_FORGE_BALANCE_AFTER)
        draft->events [0]->purchase_recorded->balance_after += 7;
    else if (forgery->what == S_FORGE_DROP) {
        tally__event__free_unpacked (draft->events [0], NULL);
        memmove (draft->events, draft->events + 1, --draft->n_events * sizeof *draft->events);
    }
    return true;
}

static void
s_test_forged (char *journal, const tly_account_t *worker, const tly_account_t *other)
{
    static const struct {
        s_forgery_t forgery;
        const char *name;
        const char *reason;
    } cases [] = {
        { { TALLY__EVENT__KIND_ACCOUNT_CREATED, S_FORGE_INITIAL, false },
          "forged-initial",
          "AccountCreated says initial_balance " },
        { { TALLY__EVENT__KIND_PURCHASE_RECORDED, S_FORGE_BALANCE_AFTER, false },
          "forged-after",
          "PurchaseRecorded says balance_after " },
        { { TALLY__EVENT__KIND_PURCHASE_RECORDED, S_FORGE_DROP, false },
          "forged-dropped",
          "the record has no PurchaseRecorded for it; the envelope and the state give one" },
        { { TALLY__EVENT__KIND_PURCHASE_RECORDED, S_FORGE_NOTHING, true },
          "forged-signer",
          ": bad signature (not signed by the worker)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        char *copy = s_path (cases [i].name);
        s_copy_journal (journal, copy);
        s_forgery_t forgery = cases [i].forgery;
        uint64_t seq = journal_forge (copy, s_forge, &forgery, forgery.other_key ? other : worker);
        assert (seq >= S_FORGE_FROM_SEQ);
        char expected [256];
        if (forgery.other_key)
            snprintf (expected, sizeof expected, "%s", cases [i].reason);
        else
            snprintf (expected, sizeof expected, "record %" PRIu64 ": partition ", seq);
        s_expect (1, expected, (char *[]) { "tally", "audit", "verify", "--journal", copy, NULL });
        if (!forgery.other_key)
            s_expect (1, cases [i].reason,
                      (char *[]) { "tally", "audit", "verify", "--journal", copy, NULL });
    }
}

static void
s_test_replay (char *journal, audit_workload_t *workload)
{
    char *output;
    assert (s_run (&output, (char *[]) { "tally", "audit", "replay", "--journal", journal,
                                         "--balances", "--json", NULL })
            == 0);
    size_t accounts = 0, lines = 0;
    for (char *line = strtok (output, "\n"); line; line = strtok (NULL, "\n")) {
        assert (s_json_value (line) && *s_json_value (line) == 0);
        lines++;
        if (strncmp (line, "{\"user\":", 8) != 0) {
            assert (strstr (line, "\"ok\":true"));
            continue;
        }
        bool found = false;
        for (uint32_t i = 0; i < S_USERS && !found; i++) {
            const audit_workload_user_t *user = audit_workload_user (workload, i);
            if (strncmp (line + 9, user->id, strlen (user->id)) != 0)
                continue;
            char expected [64];
            snprintf (expected, sizeof expected, "\"balance\":%" PRId64 "}", user->balance);
            assert (user->exists && strstr (line, expected));
            found = true;
        }
        assert (found);
        accounts++;
    }
    free (output);
    size_t existing = 0;
    for (uint32_t i = 0; i < S_USERS; i++)
        existing += audit_workload_user (workload, i)->exists;
    assert (accounts == existing && lines == accounts + 1);

    //  A purchase that does not follow the balance before it.
    char *bent = s_path ("bent");
    s_copy_journal (journal, bent);
    s_raw_t raw;
    s_raw_open_segment (&raw, bent, "records");
    uint64_t seq = 0;
    for (uint64_t candidate = 100; !seq; candidate++) {
        uint8_t key_bytes [8];
        MDB_val key = s_seq_key (candidate, key_bytes), value;
        assert (mdb_get (raw.txn, raw.dbi, &key, &value) == 0);
        Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, value.mv_size,
                                                                    value.mv_data);
        Tally__RecordBody *body = tally__record_body__unpack (NULL, stored->body.len,
                                                              stored->body.data);
        Tally__RecordDraft *draft = body->draft;
        for (size_t i = 0; i < draft->n_events && !seq; i++)
            if (draft->events [i]->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED) {
                draft->events [i]->purchase_recorded->balance_after -= 1;
                seq = candidate;
            }
        if (seq) {
            //  The body changes, the stored hash does not: replay does not look.
            Tally__StoredRecord bent_record = *stored;
            uint8_t *body_bytes = malloc (tally__record_body__get_packed_size (body));
            bent_record.body.len = tally__record_body__pack (body, body_bytes);
            bent_record.body.data = body_bytes;
            value.mv_size = tally__stored_record__get_packed_size (&bent_record);
            uint8_t *stored_bytes = malloc (value.mv_size);
            tally__stored_record__pack (&bent_record, stored_bytes);
            value.mv_data = stored_bytes;
            assert (mdb_put (raw.txn, raw.dbi, &key, &value, 0) == 0);
            free (stored_bytes);
            free (body_bytes);
        }
        tally__record_body__free_unpacked (body, NULL);
        tally__stored_record__free_unpacked (stored, NULL);
    }
    s_raw_close (&raw);
    char expected [64];
    snprintf (expected, sizeof expected, "replay: seq %" PRIu64 ": PurchaseRecorded for", seq);
    s_expect (1, expected, (char *[]) { "tally", "audit", "replay", "--journal", bent, NULL });
}

static void
s_test_export (char *journal)
{
    char *output;
    assert (s_run (&output, (char *[]) { "tally", "audit", "export", "--journal", journal,
                                         "--format", "jsonl", NULL })
            == 0);
    uint64_t seq = 0, in_partition_3 = 0;
    for (char *line = strtok (output, "\n"); line; line = strtok (NULL, "\n")) {
        seq++;
        char prefix [32];
        snprintf (prefix, sizeof prefix, "{\"seq\":%" PRIu64 ",\"hash\":\"", seq);
        assert (strncmp (line, prefix, strlen (prefix)) == 0);
        const char *end = s_json_value (line);
        assert (end && *end == 0);
        assert (strstr (line, "\"sender\":\"co_z") && strstr (line, "\"results\":[{"));
        in_partition_3 += strstr (line, ",\"partition\":3,") != NULL;
    }
    free (output);
    assert (seq == S_RECORDS && in_partition_3 > 0);

    assert (s_run (&output, (char *[]) { "tally", "audit", "export", "--journal", journal,
                                         "--format", "jsonl", "--partition", "3", NULL })
            == 0);
    uint64_t lines = 0, partition_seq = 0;
    for (char *line = strtok (output, "\n"); line; line = strtok (NULL, "\n")) {
        lines++;
        char expected [64];
        snprintf (expected, sizeof expected, ",\"partition\":3,\"partitionSeq\":%" PRIu64 ",",
                  ++partition_seq);
        assert (strstr (line, expected));
    }
    free (output);
    assert (lines == in_partition_3);

    assert (s_run (&output, (char *[]) { "tally", "audit", "export", "--journal", journal,
                                         "--format", "jsonl", "--from", "2991", NULL })
            == 0);
    assert (strncmp (output, "{\"seq\":2991,", 12) == 0);
    lines = 0;
    for (char *at = output; (at = strchr (at, '\n')); at++)
        lines++;
    assert (lines == 10);
    free (output);
    s_expect (
        2, NULL,
        (char *[]) { "tally", "audit", "export", "--journal", journal, "--format", "csv", NULL });
}

//  A ledger rebuilt from the journal's first `last` records, as an actor's
//  catch-up would build it.
typedef struct {
    tly_ledger_t *ledger;
    tly_arena_t *arena;
    uint64_t last;
} s_rebuild_t;

static tly_journal_step_t
s_apply (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    s_rebuild_t *rebuild = arg;
    if (seq > rebuild->last)
        return TLY_JOURNAL_STOP;
    Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, size, bytes);
    Tally__RecordBody *body = tally__record_body__unpack (NULL, stored->body.len,
                                                          stored->body.data);
    assert (tly_ledger_apply (rebuild->ledger, body->draft, rebuild->arena) == TLY_LEDGER_APPLIED);
    tly_arena_reset (rebuild->arena);
    tally__record_body__free_unpacked (body, NULL);
    tally__stored_record__free_unpacked (stored, NULL);
    return TLY_JOURNAL_NEXT;
}

static void
s_rebuild (const char *journal_dir, const char *ledger_dir, uint64_t last)
{
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = S_PARTITIONS,
                                   .initial_max = 1000,
                                   .amount_max = 1000000,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT };
    s_rebuild_t rebuild = { .ledger = tly_ledger_new (ledger_dir, 1 << 28, &limits),
                            .arena = tly_arena_new (1 << 16),
                            .last = last };
    assert (rebuild.ledger && rebuild.arena);
    tly_journal_t *journal = tly_journal_new_reader (journal_dir);
    assert (journal);
    assert (tly_ledger_begin (rebuild.ledger) == 0);
    assert (tly_journal_iterate (journal, 1, s_apply, &rebuild) == 0);
    assert (tly_ledger_commit (rebuild.ledger) == 0);
    tly_journal_destroy (&journal);
    tly_arena_destroy (&rebuild.arena);
    tly_ledger_destroy (&rebuild.ledger);
}

static void
s_test_compare (char *journal, char *data_dir)
{
    //  tally up's layout: DIR/balance-N/balance/balance-N.
    char *actor = s_path ("up/balance-1");
    assert (mkdir (actor, 0700) == 0);
    assert (mkdir (s_path ("up/balance-1/balance"), 0700) == 0);
    char *full = s_path ("up/balance-1/balance/balance-1");
    s_rebuild (journal, full, S_RECORDS);
    s_expect (0, "compare: OK 16 partitions, ",
              (char *[]) { "tally", "audit", "replay", "--data-dir", data_dir, "--compare", NULL });

    //  A stale copy beside it (a partition that moved away) does not count...
    char *half = s_path ("half");
    s_rebuild (journal, half, S_RECORDS / 2);
    s_expect (0, "0 differences, 0 partitions in flux",
              (char *[]) { "tally", "audit", "replay", "--journal", journal, "--compare",
                           "--actors-dir", half, "--actors-dir", full, NULL });
    //  ... but alone it is behind: in flux, not different.
    s_expect (0, "in flux: actor at partition seq",
              (char *[]) { "tally", "audit", "replay", "--journal", journal, "--compare",
                           "--actors-dir", half, "--attempts", "2", NULL });

    //  Partition 0's configuration changed behind the journal's back (a
    //  price the records never set), then put back.
    s_raw_t raw;
    s_raw_open (&raw, full, "purchases");
    uint8_t config_key [TLY_STORE_OBJECT_BYTES];
    tly_store_config_key (config_key);
    Tally__CatalogItem item = TALLY__CATALOG_ITEM__INIT;
    item.item_id = (char *) "sword";
    item.price = 30;
    item.active = true;
    Tally__CatalogItem *items [1] = { &item };
    Tally__Config config = TALLY__CONFIG__INIT;
    config.version = 1;
    config.n_items = 1;
    config.items = items;
    uint8_t packed [64];
    assert (tally__config__get_packed_size (&config) <= sizeof packed);
    MDB_val key = { sizeof config_key, config_key };
    MDB_val value = { tally__config__pack (&config, packed), packed };
    assert (mdb_put (raw.txn, raw.dbi, &key, &value, 0) == 0);
    s_raw_close (&raw);
    s_expect (1,
              "compare: partition 0 configuration: journal version 0 (0 admins, 0 items) actor"
              " version 1 (0 admins, 1 items)",
              (char *[]) { "tally", "audit", "replay", "--data-dir", data_dir, "--compare", NULL });
    s_expect (1, "\"configMatches\":false",
              (char *[]) { "tally", "audit", "replay", "--data-dir", data_dir, "--compare",
                           "--json", NULL });
    s_raw_open (&raw, full, "purchases");
    assert (mdb_del (raw.txn, raw.dbi, &key, NULL) == 0);
    s_raw_close (&raw);
    s_expect (0, "the configuration matches",
              (char *[]) { "tally", "audit", "replay", "--data-dir", data_dir, "--compare", NULL });

    //  A balance changed behind the journal's back.
    s_raw_open (&raw, full, "accounts");
    MDB_cursor *cursor;
    assert (mdb_cursor_open (raw.txn, raw.dbi, &cursor) == 0);
    assert (mdb_cursor_get (cursor, &key, &value, MDB_FIRST) == 0);
    uint8_t *copy = malloc (value.mv_size);
    memcpy (copy, value.mv_data, value.mv_size);
    copy [7] ^= 0x04;  //  the balance is the first i64 BE
    value.mv_data = copy;
    uint8_t user [TLY_KEY_BYTES];
    memcpy (user, key.mv_data, TLY_KEY_BYTES);
    mdb_cursor_close (cursor);
    key.mv_data = user;
    assert (mdb_put (raw.txn, raw.dbi, &key, &value, 0) == 0);
    s_raw_close (&raw);
    free (copy);
    char expected [128], id [TLY_ID_MAX];
    tly_account_id (user, id);
    snprintf (expected, sizeof expected, " user %s journal ", id);
    s_expect (1, expected,
              (char *[]) { "tally", "audit", "replay", "--data-dir", data_dir, "--compare", NULL });
    s_expect (2, NULL,
              (char *[]) { "tally", "audit", "replay", "--journal", journal, "--compare", NULL });
}

int
main (void)
{
    assert (sodium_init () >= 0);
    th_dir_new (s_root, sizeof s_root, "audit_cli_test");
    assert (mkdir (s_path ("up"), 0700) == 0 && mkdir (s_path ("up/audit"), 0700) == 0);
    char *data_dir = strdup (s_path ("up"));
    char *journal = strdup (s_path ("up/audit/journal"));

    tly_account_t worker, other;
    assert (tly_account_generate (&worker) == 0 && tly_account_generate (&other) == 0);
    char worker_id [TLY_ID_MAX], other_id [TLY_ID_MAX];
    tly_account_id (worker.sign_pk, worker_id);
    tly_account_id (other.sign_pk, other_id);
    setenv ("TALLY_WORKER_ACCOUNT", worker_id, 1);
    audit_workload_config_t config = { .users = S_USERS,
                                       .records = S_RECORDS,
                                       .per_record = S_PER_RECORD,
                                       .partitions = S_PARTITIONS,
                                       .mixed = true,
                                       .seed = S_SEED,
                                       .checkpoint_every = S_CHECKPOINTS };
    audit_workload_t *workload = audit_workload_new (&config);
    assert (workload);
    assert (audit_workload_write (workload, journal, &worker) == 0);
    //  The mix has what it should: more messages than events (rejections).
    assert (audit_workload_messages (workload) == S_RECORDS * S_PER_RECORD);
    assert (audit_workload_events (workload) < audit_workload_messages (workload));

    s_test_verify (journal, data_dir, worker_id, other_id);
    s_test_forged (journal, &worker, &other);
    s_test_replay (journal, workload);
    s_test_export (journal);
    s_test_compare (journal, data_dir);

    audit_workload_destroy (&workload);
    free (data_dir);
    free (journal);
    th_dir_remove (s_root);
    printf ("audit_cli_test: OK\n");
    return 0;
}
