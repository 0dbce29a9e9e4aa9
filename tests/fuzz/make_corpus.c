//  make_corpus - fuzz_corpus, the program tests/fuzz/make_corpus.sh runs to
//  write the seed corpus (tests/fuzz/corpus/<target>/) from a real cluster
//  that `tally up` runs with the test worker (fuzz_support.h). The build
//  does not need it: only `cmake --build build-fuzz --target fuzz_corpus`
//  makes it.
//
//    fuzz_corpus worker FILE
//        the test worker as an account file (`tally up`'s worker.json)
//    fuzz_corpus accounts OUT
//        the test accounts' files, IDs and secrets (account_load, base58)
//    fuzz_corpus traffic GATEWAY JOURNAL_DIR PARTITIONS OUT
//        talks to the gateway as the test clients and the test worker:
//        accounts, buys (taken and refused), subscriptions (the Catalog
//        too), status, pings, a junk frame, prices, an admin added and
//        removed, catalog buys, refunds, orders (completed, failed and
//        refused; their Order, OrderList and OrderQueue followed); writes
//        what it sent (client_frame, wire) and what came back (sdk_reply,
//        sdk_watcher, wire)
//    fuzz_corpus snapshots AUDIT_ENDPOINT PARTITIONS OUT
//        asks the audit writer for each partition's snapshot (snapshot_load);
//        exits 3 until partition 0's holds the configuration
//    fuzz_corpus journal JOURNAL_DIR OUT
//        the journal's first records, segment starts, a configuration
//        change's, a refund's and an order's submit and completion's
//        records, and checkpoints (journal_verify, wire)
//
//  A seed is kept to CORPUS_SEED_MAX bytes, so that the corpus stays small.
//
//  This file writes the seeds and the accounts, and is main; the traffic
//  is make_corpus_traffic.c (its orders make_corpus_orders.c), the audit
//  writer's snapshots and journal make_corpus_audit.c; make_corpus.h is
//  what they share.
#include "make_corpus.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tally.h"

static const char *s_out;

//  ---------------------------------------------------------------- files

static void
s_mkdir (const char *path)
{
    if (mkdir (path, 0755) == -1 && errno != EEXIST) {
        fprintf (stderr, "fuzz_corpus: cannot create %s: %s\n", path, strerror (errno));
        exit (1);
    }
}

//  Writes one seed, OUT/target/name, unless it is over CORPUS_SEED_MAX.
void
corpus_seed (const char *target, const char *name, const uint8_t *bytes, size_t size)
{
    if (size > CORPUS_SEED_MAX) {
        fprintf (stderr, "fuzz_corpus: %s/%s left out (%zu bytes)\n", target, name, size);
        return;
    }
    char path [PATH_MAX];
    s_mkdir (s_out);
    snprintf (path, sizeof path, "%s/%s", s_out, target);
    s_mkdir (path);
    snprintf (path, sizeof path, "%s/%s/%s", s_out, target, name);
    FILE *file = fopen (path, "wb");
    if (!file || (size && fwrite (bytes, 1, size, file) != size) || fclose (file) != 0) {
        fprintf (stderr, "fuzz_corpus: cannot write %s\n", path);
        exit (1);
    }
}

//  A seed for fuzz_wire: the type's index, then the bytes.
void
corpus_wire_seed (uint8_t type, const char *name, const uint8_t *bytes, size_t size)
{
    uint8_t *seed = malloc (size + 1);
    assert (seed);
    seed [0] = type;
    memcpy (seed + 1, bytes, size);
    corpus_seed ("fuzz_wire", name, seed, size + 1);
    free (seed);
}

void
corpus_chunks_open (corpus_chunks_t *self, uint8_t first)
{
    self->file = open_memstream (&self->bytes, &self->size);
    assert (self->file);
    fputc (first, self->file);
}

void
corpus_chunks_add (corpus_chunks_t *self, uint8_t tag, const uint8_t *data, size_t size)
{
    int rc = fuzz_chunk_write (self->file, tag, data, size);
    assert (rc == 0);
}

void
corpus_chunks_close (corpus_chunks_t *self, const char *target, const char *name)
{
    fclose (self->file);
    corpus_seed (target, name, (const uint8_t *) self->bytes, self->size);
    free (self->bytes);
}

//  ---------------------------------------------------------------- accounts

static void
s_account_file (FILE *file, fuzz_account_t which, const char *name)
{
    char id [TLY_ID_MAX], secret [TLY_SECRET_MAX];
    tly_account_id (fuzz_account (which)->sign_pk, id);
    tly_account_secret (fuzz_account (which), secret);
    fprintf (file, "{\"account\":\"%s\",\"secret\":\"%s\",\"name\":\"%s\"}\n", id, secret, name);
}

static int
s_worker (const char *path)
{
    FILE *file = fopen (path, "w");
    if (!file) {
        fprintf (stderr, "fuzz_corpus: cannot write %s: %s\n", path, strerror (errno));
        return 1;
    }
    s_account_file (file, FUZZ_WORKER, "tally up worker");
    return fclose (file) == 0 ? 0 : 1;
}

static int
s_accounts (void)
{
    const char *names [FUZZ_ACCOUNTS] = { "worker", "client-a", "client-b", "client-c",
                                          "client-d" };
    for (int i = 0; i < FUZZ_ACCOUNTS; i++) {
        char *bytes;
        size_t size;
        FILE *file = open_memstream (&bytes, &size);
        s_account_file (file, (fuzz_account_t) i, names [i]);
        fclose (file);
        char name [64];
        snprintf (name, sizeof name, "%s.json", names [i]);
        corpus_seed ("fuzz_account_load", name, (const uint8_t *) bytes, size);
        free (bytes);
        //  As the two values of tly_account_from_env: ID, newline, secret.
        char id [TLY_ID_MAX], secret [TLY_SECRET_MAX], values [TLY_ID_MAX + TLY_SECRET_MAX];
        tly_account_id (fuzz_account ((fuzz_account_t) i)->sign_pk, id);
        tly_account_secret (fuzz_account ((fuzz_account_t) i), secret);
        int length = snprintf (values, sizeof values, "%s\n%s", id, secret);
        snprintf (name, sizeof name, "%s.env", names [i]);
        corpus_seed ("fuzz_account_load", name, (const uint8_t *) values, (size_t) length);
        //  base58: the ID's and the secret's parts, without their prefixes.
        snprintf (name, sizeof name, "%s-id", names [i]);
        corpus_seed ("fuzz_base58", name, (const uint8_t *) id + 4, strlen (id) - 4);
        const char *signer = strchr (secret, '/') + 1 + strlen (TLY_SIGNER_PREFIX);
        snprintf (name, sizeof name, "%s-signer", names [i]);
        corpus_seed ("fuzz_base58", name, (const uint8_t *) signer, strlen (signer));
    }
    return 0;
}

//  ---------------------------------------------------------------- main

static void
s_usage (void)
{
    fputs ("usage: fuzz_corpus worker FILE\n"
           "       fuzz_corpus accounts OUT\n"
           "       fuzz_corpus traffic GATEWAY JOURNAL_DIR PARTITIONS OUT\n"
           "       fuzz_corpus snapshots AUDIT_ENDPOINT PARTITIONS OUT\n"
           "       fuzz_corpus journal JOURNAL_DIR OUT\n"
           "Writes seeds for the fuzz targets into OUT/<target>/ (tests/fuzz/make_corpus.sh).\n",
           stderr);
}

static uint32_t
s_partitions (const char *text)
{
    char *end;
    unsigned long value = strtoul (text, &end, 10);
    if (*end || value == 0 || value > TLY_PARTITIONS_MAX) {
        fprintf (stderr, "fuzz_corpus: PARTITIONS must be 1..%d, not '%s'\n", TLY_PARTITIONS_MAX,
                 text);
        exit (2);
    }
    return (uint32_t) value;
}

int
main (int argc, char **argv)
{
    zsys_init ();
    const char *command = argc > 1 ? argv [1] : "";
    if (strcmp (command, "worker") == 0 && argc == 3)
        return s_worker (argv [2]);
    if (strcmp (command, "accounts") == 0 && argc == 3) {
        s_out = argv [2];
        return s_accounts ();
    }
    if (strcmp (command, "traffic") == 0 && argc == 6) {
        s_out = argv [5];
        return corpus_traffic (argv [2], argv [3], s_partitions (argv [4]));
    }
    if (strcmp (command, "snapshots") == 0 && argc == 5) {
        s_out = argv [4];
        return corpus_snapshots (argv [2], s_partitions (argv [3]));
    }
    if (strcmp (command, "journal") == 0 && argc == 4) {
        s_out = argv [3];
        return corpus_journal (argv [2]);
    }
    s_usage ();
    return 2;
}
