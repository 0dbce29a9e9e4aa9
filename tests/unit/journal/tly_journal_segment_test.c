//  tly_journal_segment_test - the journal's segments: rolling by records and
//  by bytes, one commit never split, reads and partition reads across
//  segments (also from inside a walk), reopening, a reader following a
//  writer that rolls, retiring (archive and delete), gaps named by seq, one
//  segment read alone, a format-1 journal adopted, and (in a build with the
//  fault points) a writer killed at each step of a roll and a roll or a
//  commit that fails.
#include "tly_journal.h"

#include <assert.h>
#include <dirent.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tly_account.h"
#include "tly_fault.h"
#include "tly_sign.h"
#include "tly_wire.h"

#define S_PARTITIONS 4
#define S_PATH_MAX   512

typedef struct {
    Tally__RecordDraft draft;
    Tally__SignedEnvelope request;
    uint8_t envelope [200];
    uint8_t signature [TLY_SIGNATURE_BYTES];
} s_fixture_t;

typedef struct {
    char dir [S_PATH_MAX];  //  the journal directory
    tly_account_t worker;
    tly_journal_signer_t signer;
    uint64_t pseqs [S_PARTITIONS];  //  the last appended per partition
    uint64_t epoch;                 //  every draft's
} s_test_t;

static Tally__RecordDraft *
s_draft (s_fixture_t *fixture, uint32_t partition, uint64_t partition_seq, uint64_t epoch)
{
    memset (fixture, 0, sizeof *fixture);
    tally__record_draft__init (&fixture->draft);
    tally__signed_envelope__init (&fixture->request);
    memset (fixture->envelope, (int) partition_seq, sizeof fixture->envelope);
    memset (fixture->signature, 0x5a, sizeof fixture->signature);
    fixture->request.envelope = (ProtobufCBinaryData) { sizeof fixture->envelope,
                                                        fixture->envelope };
    fixture->request.signature = (ProtobufCBinaryData) { sizeof fixture->signature,
                                                         fixture->signature };
    fixture->draft.partition = partition;
    fixture->draft.partition_seq = partition_seq;
    fixture->draft.epoch = epoch;
    fixture->draft.timestamp_ms = 1700000000000;
    fixture->draft.request = &fixture->request;
    return &fixture->draft;
}

//  Appends count records in one group commit, round robin over partitions.
static void
s_append (s_test_t *test, tly_journal_t *journal, size_t count)
{
    s_fixture_t *fixtures = calloc (count, sizeof (s_fixture_t));
    Tally__RecordDraft **drafts = calloc (count, sizeof (Tally__RecordDraft *));
    Tally__AppendStatus *statuses = calloc (count, sizeof (Tally__AppendStatus));
    assert (fixtures && drafts && statuses);
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    for (size_t i = 0; i < count; i++) {
        uint32_t partition = (uint32_t) ((head.seq + i) % S_PARTITIONS);
        drafts [i] = s_draft (&fixtures [i], partition, ++test->pseqs [partition], test->epoch);
    }
    assert (tly_journal_append_batch (journal, drafts, count, statuses, &test->signer) == 0);
    for (size_t i = 0; i < count; i++)
        assert (statuses [i].code == TALLY__ERROR_CODE__OK && statuses [i].seq == head.seq + 1 + i);
    free (fixtures);
    free (drafts);
    free (statuses);
}

static tly_journal_t *
s_writer (s_test_t *test, uint64_t records)
{
    tly_journal_t *journal = tly_journal_new (test->dir, 1 << 20);
    assert (journal);
    tly_journal_set_map_max (journal, 64 << 20);
    tly_journal_set_segments (journal, 0, records, &test->signer);
    return journal;
}

//  The chain from seq from (whose predecessor's hash is prev) to the head.
typedef struct {
    uint64_t next;
    uint8_t prev [TLY_HASH_BYTES];
} s_chain_t;

static tly_journal_step_t
s_link (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    s_chain_t *chain = arg;
    Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, size, bytes);
    assert (stored && stored->hash.len == TLY_HASH_BYTES);
    Tally__RecordBody *body = tally__record_body__unpack (NULL, stored->body.len,
                                                          stored->body.data);
    assert (body && body->seq == seq && seq == chain->next);
    assert (memcmp (body->prev_hash.data, chain->prev, TLY_HASH_BYTES) == 0);
    memcpy (chain->prev, stored->hash.data, TLY_HASH_BYTES);
    chain->next++;
    tally__record_body__free_unpacked (body, NULL);
    tally__stored_record__free_unpacked (stored, NULL);
    return TLY_JOURNAL_NEXT;
}

//  The whole chain from genesis; returns the record count.
static uint64_t
s_chain (tly_journal_t *journal)
{
    s_chain_t chain = { .next = 1 };
    assert (tly_journal_iterate (journal, 1, s_link, &chain) == 0);
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    assert (head.seq == chain.next - 1);
    assert (memcmp (head.hash, chain.prev, TLY_HASH_BYTES) == 0);
    return head.seq;
}

//  Every segment but the last is sealed, with a signed seal of its last
//  record that the next one carries as its base checkpoint; seq ranges
//  follow one another.
static void
s_check_segments (s_test_t *test, tly_journal_t *journal, size_t expected)
{
    size_t count = tly_journal_segment_count (journal);
    assert (count == expected);
    tly_journal_segment_info_t before = { 0 };
    for (size_t i = 0; i < count; i++) {
        tly_journal_segment_info_t info;
        assert (tly_journal_segment_info (journal, i, &info) == 0);
        assert (info.sealed == (i + 1 < count));
        assert (info.base.seq == info.first - 1);
        if (i == 0) {
            assert (info.first == 1 && info.base_checkpoint_size == 0);
        } else {
            assert (info.first == before.last + 1);
            tly_journal_checkpoint_t seal;
            assert (tly_journal_checkpoint_decode (info.base_checkpoint, info.base_checkpoint_size,
                                                   test->worker.sign_pk, &seal)
                    == 0);
            assert (seal.signed_by_worker && seal.seq == before.last);
            assert (memcmp (seal.hash, info.base.hash, TLY_HASH_BYTES) == 0);
        }
        assert (tly_journal_segment_at (journal, info.first) == i);
        before = info;
    }
}

//  Collects partition seqs.
typedef struct {
    uint64_t pseqs [64];
    size_t count;
} s_collect_t;

static tly_journal_step_t
s_collect (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    (void) seq;
    s_collect_t *collect = arg;
    Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, size, bytes);
    Tally__RecordBody *body = tally__record_body__unpack (NULL, stored->body.len,
                                                          stored->body.data);
    assert (collect->count < 64);
    collect->pseqs [collect->count++] = body->draft->partition_seq;
    tally__record_body__free_unpacked (body, NULL);
    tally__stored_record__free_unpacked (stored, NULL);
    return TLY_JOURNAL_NEXT;
}

static Tally__ErrorCode
s_read (tly_journal_t *journal, uint32_t partition, uint64_t after, uint32_t max,
        s_collect_t *collect, bool *end)
{
    tly_journal_query_t query = { .partition = partition,
                                  .after_partition_seq = after,
                                  .max_records = max,
                                  .max_bytes = TLY_JOURNAL_READ_BYTES };
    memset (collect, 0, sizeof *collect);
    return tly_journal_read (journal, &query, s_collect, collect, end);
}

//  Partition reads find their segment and go on into the next ones.
static void
s_check_reads (tly_journal_t *journal, uint64_t last_pseq)
{
    s_collect_t collect;
    bool end;
    for (uint64_t after = 0; after <= last_pseq; after++) {
        assert (s_read (journal, 2, after, 5, &collect, &end) == TALLY__ERROR_CODE__OK);
        uint64_t expected = last_pseq - after < 5 ? last_pseq - after : 5;
        assert (collect.count == expected);
        for (size_t i = 0; i < collect.count; i++)
            assert (collect.pseqs [i] == after + 1 + i);
        assert (end == (after + expected == last_pseq));
    }
}

static void
s_remove_tree (const char *path)
{
    DIR *dir = opendir (path);
    if (!dir)
        return;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
            continue;
        char file [S_PATH_MAX * 2];
        snprintf (file, sizeof file, "%s/%s", path, entry->d_name);
        struct stat info;
        assert (lstat (file, &info) == 0);
        if (S_ISDIR (info.st_mode))
            s_remove_tree (file);
        else
            assert (unlink (file) == 0);
    }
    closedir (dir);
    assert (rmdir (path) == 0);
}

static void
s_segment_file (char *out, size_t size, const char *dir, const char *folder, uint64_t first)
{
    snprintf (out, size, "%s/%s/%020" PRIu64 ".mdb", dir, folder, first);
}

//  ---------------------------------------------------------------- the cases

//  Rolls every 10 records, but a group commit stays in one segment.
static void
s_test_roll (s_test_t *test)
{
    tly_journal_t *journal = s_writer (test, 10);
    for (int i = 0; i < 35; i++)
        s_append (test, journal, 1);
    //  1..10, 11..20, 21..30, 31..35: a segment rolls at the commit after
    //  its tenth record.
    s_check_segments (test, journal, 4);
    assert (s_chain (journal) == 35);
    s_append (test, journal, 25);  //  31..60 in one segment: a commit never splits
    s_check_segments (test, journal, 4);
    s_append (test, journal, 1);  //  61 starts the fifth
    s_check_segments (test, journal, 5);
    assert (tly_journal_segment_at (journal, 60) == 3 && tly_journal_segment_at (journal, 61) == 4);
    assert (s_chain (journal) == 61);
    //  Partition 2 has seqs 3, 7, 11, ...: 15 records over every segment.
    s_check_reads (journal, test->pseqs [2]);
    //  A claim raises the fence in the active segment and reads the old ones.
    tly_journal_query_t query = {
        .partition = 2, .claim_epoch = 3, .max_records = 64, .max_bytes = TLY_JOURNAL_READ_BYTES
    };
    s_collect_t collect = { 0 };
    bool end;
    assert (tly_journal_read (journal, &query, s_collect, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == test->pseqs [2] && end);
    uint64_t fence;
    tly_journal_partition (journal, 2, &fence, NULL);
    assert (fence == 3);
    test->epoch = 3;
    tly_journal_destroy (&journal);

    //  Reopened: the same head, fences and sequences; appends go on.
    journal = s_writer (test, 10);
    tly_journal_partition (journal, 2, &fence, NULL);
    assert (fence == 3);
    assert (s_chain (journal) == 61);
    s_append (test, journal, 3);
    s_check_segments (test, journal, 5);
    tly_journal_destroy (&journal);

    //  A reader sees it all, and follows a writer in another process
    //  that rolls (LMDB: one environment per file per process).
    tly_journal_t *reader = tly_journal_new_reader (test->dir);
    assert (reader);
    assert (s_chain (reader) == 64);
    s_check_segments (test, reader, 5);
    s_check_reads (reader, test->pseqs [2]);
    pid_t child = fork ();
    assert (child >= 0);
    if (child == 0) {
        journal = s_writer (test, 10);
        for (int i = 0; i < 20; i++)
            s_append (test, journal, 1);
        tly_journal_destroy (&journal);
        _exit (0);
    }
    int status;
    assert (waitpid (child, &status, 0) == child && WIFEXITED (status)
            && WEXITSTATUS (status) == 0);
    for (int i = 0; i < 20; i++)
        test->pseqs [(64 + i) % S_PARTITIONS]++;
    assert (s_chain (reader) == 64);  //  its snapshot, until it refreshes
    assert (tly_journal_refresh (reader) == 0);
    assert (s_chain (reader) == 84);
    s_check_segments (test, reader, 7);
    uint64_t last;
    tly_journal_partition (reader, 2, NULL, &last);
    assert (last == test->pseqs [2]);
    tly_journal_destroy (&reader);
}

//  A walk whose callback reads the journal again (verify reads a refund's
//  purchase so): each record's callback reads one record of every
//  partition from the oldest segments, which opens more segments than a
//  reader keeps open; the segment walked stays open under its cursor.
typedef struct {
    s_chain_t chain;
    tly_journal_t *journal;
    uint64_t reads;
} s_nested_t;

static tly_journal_step_t
s_nested_link (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    s_nested_t *nested = arg;
    for (uint32_t partition = 0; partition < S_PARTITIONS; partition++) {
        //  From the first segments on: the ones the LRU closes first.
        uint64_t after = (seq + partition) % 3;
        s_collect_t collect;
        bool end;
        assert (s_read (nested->journal, partition, after, 1, &collect, &end)
                == TALLY__ERROR_CODE__OK);
        assert (collect.count == 1 && collect.pseqs [0] == after + 1);
        nested->reads++;
    }
    //  The walked record's bytes are still mapped: its chain links.
    return s_link (seq, bytes, size, &nested->chain);
}

static void
s_test_nested_reads (s_test_t *test)
{
    tly_journal_t *journal = s_writer (test, 2);
    for (int i = 0; i < 60; i++)
        s_append (test, journal, 1);
    tly_journal_destroy (&journal);
    tly_journal_t *reader = tly_journal_new_reader (test->dir);
    assert (reader && tly_journal_segment_count (reader) == 30);
    s_nested_t nested = { .chain = { .next = 1 }, .journal = reader };
    assert (tly_journal_iterate (reader, 1, s_nested_link, &nested) == 0);
    assert (nested.chain.next == 61 && nested.reads == 60 * S_PARTITIONS);
    tly_journal_destroy (&reader);
}

//  By bytes: the used pages of the active segment.
static void
s_test_roll_bytes (s_test_t *test)
{
    tly_journal_t *journal = tly_journal_new (test->dir, 1 << 20);
    assert (journal);
    tly_journal_set_segments (journal, TLY_JOURNAL_SEGMENT_BYTES_MIN, 0, &test->signer);
    for (int i = 0; i < 200; i++)
        s_append (test, journal, 4);
    size_t count = tly_journal_segment_count (journal);
    assert (count >= 4);
    for (size_t i = 0; i + 1 < count; i++) {
        tly_journal_segment_info_t info;
        assert (tly_journal_segment_info (journal, i, &info) == 0);
        //  Each sealed one reached the limit, by at most one commit.
        assert (info.sealed && info.bytes >= TLY_JOURNAL_SEGMENT_BYTES_MIN);
        assert (info.bytes < 4 * TLY_JOURNAL_SEGMENT_BYTES_MIN);
    }
    assert (s_chain (journal) == 800);
    tly_journal_destroy (&journal);
}

//  Retiring moves (or deletes) sealed segments; readers find the archive,
//  or name the gap.
static void
s_test_retire (s_test_t *test)
{
    tly_journal_t *journal = s_writer (test, 10);
    for (int i = 0; i < 45; i++)
        s_append (test, journal, 1);
    s_check_segments (test, journal, 5);
    char archive [S_PATH_MAX + 16], elsewhere [S_PATH_MAX + 16];
    snprintf (archive, sizeof archive, "%s/" TLY_JOURNAL_ARCHIVE_SUBDIR, test->dir);
    snprintf (elsewhere, sizeof elsewhere, "%s.elsewhere", test->dir);
    //  Only segments whose last seq is below before_seq: 1..10 and 11..20.
    assert (tly_journal_retire (journal, 25, archive) == 2);
    assert (tly_journal_segment_count (journal) == 3);
    assert (tly_journal_retire (journal, 25, archive) == 0);
    //  Never the active one, whatever before_seq says.
    assert (tly_journal_retire (journal, 1000, NULL) == 2);
    assert (tly_journal_segment_count (journal) == 1);
    uint64_t from, to;
    assert (tly_journal_gap (journal, &from, &to) && from == 1 && to == 40);
    //  A partition read from the start finds its first seqs missing, with
    //  one segment left as with many; from after them it reads.
    s_collect_t collect;
    bool end;
    assert (s_read (journal, 2, 0, 5, &collect, &end) == TALLY__ERROR_CODE__INTERNAL);
    assert (s_read (journal, 2, 10, 5, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 1 && collect.pseqs [0] == 11 && end);
    //  The writer still appends, and its own reads stop at the gap.
    s_append (test, journal, 2);
    s_chain_t chain = { .next = 1 };
    assert (tly_journal_iterate (journal, 1, s_link, &chain) == -1 && chain.next == 1);
    tly_journal_destroy (&journal);
    char file [S_PATH_MAX * 2];
    s_segment_file (file, sizeof file, test->dir, TLY_JOURNAL_ARCHIVE_SUBDIR, 1);
    assert (access (file, F_OK) == 0);
    s_segment_file (file, sizeof file, test->dir, TLY_JOURNAL_SEGMENTS_SUBDIR, 1);
    assert (access (file, F_OK) == -1);

    //  The default reader finds archive/; 21..40 were deleted.
    tly_journal_t *reader = tly_journal_new_reader (test->dir);
    assert (reader);
    assert (tly_journal_segment_count (reader) == 3);
    assert (tly_journal_gap (reader, &from, &to) && from == 21 && to == 40);
    chain = (s_chain_t) { .next = 1 };
    assert (tly_journal_iterate (reader, 1, s_link, &chain) == -1 && chain.next == 21);
    tly_journal_segment_info_t info;
    assert (tly_journal_segment_info (reader, 0, &info) == 0 && info.archived && info.sealed);
    //  From after the gap on, it reads.
    chain.next = 41;
    assert (tly_journal_segment_info (reader, 2, &info) == 0 && info.first == 41);
    memcpy (chain.prev, info.base.hash, TLY_HASH_BYTES);
    assert (tly_journal_iterate (reader, 41, s_link, &chain) == 0 && chain.next == 48);
    tly_journal_destroy (&reader);

    //  Archives elsewhere are looked in when named (and archive/ then not).
    assert (rename (archive, elsewhere) == 0);
    const char *archives [] = { elsewhere };
    reader = tly_journal_new_reader_in (test->dir, archives, 1);
    assert (reader && tly_journal_segment_count (reader) == 3);
    tly_journal_destroy (&reader);
    reader = tly_journal_new_reader (test->dir);
    assert (reader && tly_journal_segment_count (reader) == 1);
    assert (tly_journal_gap (reader, &from, &to) && from == 1 && to == 40);
    tly_journal_destroy (&reader);

    //  One segment on its own: its records from its base.
    s_segment_file (file, sizeof file, elsewhere, "", 11);
    snprintf (file, sizeof file, "%s/%020" PRIu64 ".mdb", elsewhere, (uint64_t) 11);
    reader = tly_journal_new_segment_reader (file);
    assert (reader && tly_journal_segment_count (reader) == 1);
    assert (tly_journal_segment_info (reader, 0, &info) == 0);
    assert (info.first == 11 && info.last == 20 && info.sealed && info.base.seq == 10);
    chain = (s_chain_t) { .next = 11 };
    memcpy (chain.prev, info.base.hash, TLY_HASH_BYTES);
    assert (tly_journal_iterate (reader, 11, s_link, &chain) == 0 && chain.next == 21);
    tly_journal_destroy (&reader);
    assert (tly_journal_new_segment_reader (test->dir) == NULL);  //  not a segment name
    s_remove_tree (elsewhere);
}

//  A missing middle segment is a gap named by the seqs it held.
static void
s_test_missing_middle (s_test_t *test)
{
    tly_journal_t *journal = s_writer (test, 10);
    for (int i = 0; i < 31; i++)
        s_append (test, journal, 1);
    tly_journal_destroy (&journal);
    char file [S_PATH_MAX * 2], moved [S_PATH_MAX * 2];
    s_segment_file (file, sizeof file, test->dir, TLY_JOURNAL_SEGMENTS_SUBDIR, 11);
    snprintf (moved, sizeof moved, "%s.away", test->dir);
    assert (rename (file, moved) == 0);
    tly_journal_t *reader = tly_journal_new_reader (test->dir);
    assert (reader);
    uint64_t from, to;
    assert (tly_journal_gap (reader, &from, &to) && from == 11 && to == 20);
    s_chain_t chain = { .next = 1 };
    assert (tly_journal_iterate (reader, 1, s_link, &chain) == -1 && chain.next == 11);
    //  Partition reads that need it fail; those after it do not (partition
    //  1's seq k is record 4k - 2: pseq 6 is record 22).
    s_collect_t collect;
    bool end;
    assert (s_read (reader, 1, 0, 64, &collect, &end) == TALLY__ERROR_CODE__INTERNAL);
    assert (s_read (reader, 1, 6, 64, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 2 && collect.pseqs [0] == 7 && end);
    tly_journal_destroy (&reader);
    assert (rename (moved, file) == 0);
    reader = tly_journal_new_reader (test->dir);
    assert (!tly_journal_gap (reader, &from, &to) && s_chain (reader) == 31);
    tly_journal_destroy (&reader);
}

//  Retention while a reader reads: a segment it listed in segments/ and
//  moved since to archive/ is read from there; one deleted since fails the
//  read, and the reader says it was retired (a new reader names the gap).
static void
s_test_retired_while_read (s_test_t *test)
{
    tly_journal_t *journal = s_writer (test, 10);
    for (int i = 0; i < 41; i++)
        s_append (test, journal, 1);
    tly_journal_destroy (&journal);
    tly_journal_t *reader = tly_journal_new_reader (test->dir);
    assert (reader && tly_journal_segment_count (reader) == 5 && !tly_journal_retired (reader));
    //  As the writer retires: 1..10 archived (archive/ made now), 11..20 deleted.
    char archive [S_PATH_MAX + 16], file [S_PATH_MAX * 2], moved [S_PATH_MAX * 2];
    snprintf (archive, sizeof archive, "%s/" TLY_JOURNAL_ARCHIVE_SUBDIR, test->dir);
    assert (mkdir (archive, 0700) == 0);
    s_segment_file (file, sizeof file, test->dir, TLY_JOURNAL_SEGMENTS_SUBDIR, 1);
    s_segment_file (moved, sizeof moved, test->dir, TLY_JOURNAL_ARCHIVE_SUBDIR, 1);
    assert (rename (file, moved) == 0);
    s_segment_file (file, sizeof file, test->dir, TLY_JOURNAL_SEGMENTS_SUBDIR, 11);
    assert (unlink (file) == 0);
    s_chain_t chain = { .next = 1 };
    assert (tly_journal_iterate (reader, 1, s_link, &chain) == -1 && chain.next == 11);
    assert (tly_journal_retired (reader));
    tly_journal_segment_info_t info;
    assert (tly_journal_segment_info (reader, 0, &info) == 0 && info.archived);
    tly_journal_destroy (&reader);
    reader = tly_journal_new_reader (test->dir);
    uint64_t from, to;
    assert (reader && tly_journal_gap (reader, &from, &to) && from == 11 && to == 20);
    assert (!tly_journal_retired (reader));
    tly_journal_destroy (&reader);
}

//  A format-1 journal: one environment in the directory (data.mdb), meta
//  format 1, no first, base or bases. Made here from a one-segment journal.
static void
s_make_legacy (const char *dir)
{
    char segment [S_PATH_MAX * 2], data [S_PATH_MAX * 2], folder [S_PATH_MAX + 16];
    s_segment_file (segment, sizeof segment, dir, TLY_JOURNAL_SEGMENTS_SUBDIR, 1);
    snprintf (data, sizeof data, "%s/data.mdb", dir);
    snprintf (folder, sizeof folder, "%s/" TLY_JOURNAL_SEGMENTS_SUBDIR, dir);
    assert (rename (segment, data) == 0);
    strcat (segment, "-lock");
    unlink (segment);
    assert (rmdir (folder) == 0);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta, bases;
    assert (mdb_env_create (&env) == 0 && mdb_env_set_maxdbs (env, 8) == 0);
    assert (mdb_env_open (env, dir, 0, 0600) == 0);
    assert (mdb_txn_begin (env, NULL, 0, &txn) == 0);
    assert (mdb_dbi_open (txn, "meta", 0, &meta) == 0);
    assert (mdb_dbi_open (txn, "bases", 0, &bases) == 0);
    assert (mdb_drop (txn, bases, 1) == 0);
    uint8_t one [4] = { 0, 0, 0, 1 };
    MDB_val key = { 6, "format" }, value = { 4, one };
    assert (mdb_put (txn, meta, &key, &value, 0) == 0);
    key = (MDB_val) { 5, "first" };
    assert (mdb_del (txn, meta, &key, NULL) == 0);
    key = (MDB_val) { 4, "base" };
    assert (mdb_del (txn, meta, &key, NULL) == 0);
    assert (mdb_txn_commit (txn) == 0);
    mdb_env_close (env);
}

static void
s_test_adopt (s_test_t *test)
{
    tly_journal_t *journal = s_writer (test, 0);  //  never rolls: one segment
    for (int i = 0; i < 12; i++)
        s_append (test, journal, 1);
    tly_journal_destroy (&journal);
    s_make_legacy (test->dir);

    //  Read as it is, one segment...
    tly_journal_t *reader = tly_journal_new_reader (test->dir);
    assert (reader && tly_journal_segment_count (reader) == 1);
    assert (s_chain (reader) == 12);
    s_check_reads (reader, test->pseqs [2]);
    tly_journal_destroy (&reader);
    //  ... and adopted by a writer as the first segment, nothing lost.
    journal = s_writer (test, 5);
    assert (s_chain (journal) == 12);
    char data [S_PATH_MAX + 16];
    snprintf (data, sizeof data, "%s/data.mdb", test->dir);
    assert (access (data, F_OK) == -1);
    s_append (test, journal, 1);  //  the first rolls (12 >= 5) first
    s_check_segments (test, journal, 2);
    for (int i = 0; i < 10; i++)
        s_append (test, journal, 1);  //  14..17, 18..22, 23
    s_check_segments (test, journal, 4);
    assert (s_chain (journal) == 23);
    s_check_reads (journal, test->pseqs [2]);
    tly_journal_destroy (&journal);
}

#if defined(TLY_FAULTS_BUILD)
//  A writer killed at each step of a roll (the fault points
//  journal.roll.sealed, .made and .renamed): the restart finishes the roll,
//  and no record is lost or doubled.
static void
s_test_crash (s_test_t *test)
{
    const char *steps [] = { "journal.roll.sealed=exit", "journal.roll.made=exit",
                             "journal.roll.renamed=exit" };
    uint64_t head = 0;
    for (size_t step = 0; step < sizeof steps / sizeof steps [0]; step++) {
        pid_t child = fork ();
        assert (child >= 0);
        if (child == 0) {
            char error [TLY_FAULT_ERROR_MAX];
            assert (tly_fault_arm (steps [step], error, sizeof error) == 0);
            tly_journal_t *journal = s_writer (test, 5);
            for (int i = 0; i < 10; i++)
                s_append (test, journal, 1);
            _exit (0);  //  not reached: the roll at the sixth record stops it
        }
        int status;
        assert (waitpid (child, &status, 0) == child && WIFEXITED (status)
                && WEXITSTATUS (status) == TLY_FAULT_EXIT);
        //  The roll starts before record head + 6 (after 5 in the segment;
        //  the first round's segment 1 already has head records).
        tly_journal_t *journal = s_writer (test, 5);
        tly_journal_head_t after;
        tly_journal_head (journal, &after);
        assert (after.seq == s_chain (journal));
        for (uint64_t seq = head + 1; seq <= after.seq; seq++)
            test->pseqs [(seq - 1) % S_PARTITIONS]++;
        head = after.seq;
        //  The roll was finished: the active segment is empty and follows
        //  the sealed one.
        size_t count = tly_journal_segment_count (journal);
        tly_journal_segment_info_t info;
        assert (tly_journal_segment_info (journal, count - 1, &info) == 0);
        assert (!info.sealed && info.first == head + 1);
        s_check_segments (test, journal, count);
        s_append (test, journal, 1);
        head++;
        assert (s_chain (journal) == head);
        tly_journal_destroy (&journal);
        //  No temporary file is left.
        char folder [S_PATH_MAX + 16];
        snprintf (folder, sizeof folder, "%s/" TLY_JOURNAL_SEGMENTS_SUBDIR, test->dir);
        DIR *dir = opendir (folder);
        struct dirent *entry;
        while ((entry = readdir (dir)))
            assert (!strstr (entry->d_name, ".new"));
        closedir (dir);
    }
}

//  The write of the next segment fails (journal.roll): the group commit
//  that needed the roll fails whole, with the failure's own cause (not
//  "full" for EROFS), and the next one finishes the roll and goes on.
static void
s_test_roll_fails (s_test_t *test)
{
    tly_journal_t *journal = s_writer (test, 5);
    s_append (test, journal, 5);
    char error [TLY_FAULT_ERROR_MAX];
    assert (tly_fault_arm ("journal.roll=fail:EROFS@1", error, sizeof error) == 0);
    s_fixture_t fixture;
    Tally__RecordDraft *draft = s_draft (&fixture, 0, test->pseqs [0] + 1, test->epoch);
    Tally__AppendStatus status;
    assert (tly_journal_append_batch (journal, &draft, 1, &status, &test->signer) == -1);
    assert (!tly_journal_full (journal));
    assert (s_chain (journal) == 5);
    s_append (test, journal, 1);  //  the same partition seq again: nothing was taken
    assert (tly_fault_arm ("", error, sizeof error) == 0);
    s_check_segments (test, journal, 2);
    assert (s_chain (journal) == 6);
    tly_journal_destroy (&journal);
    //  A failed commit (journal.commit): nothing of it written, the next
    //  one takes the same seqs.
    journal = s_writer (test, 0);
    assert (tly_fault_arm ("journal.commit=fail:EIO@1", error, sizeof error) == 0);
    draft = s_draft (&fixture, 1, test->pseqs [1] + 1, test->epoch);
    assert (tly_journal_append_batch (journal, &draft, 1, &status, &test->signer) == -1);
    assert (tly_journal_full (journal));  //  EIO is how LMDB reports a full disk
    s_append (test, journal, 2);
    assert (!tly_journal_full (journal));
    assert (tly_fault_arm ("", error, sizeof error) == 0);
    assert (s_chain (journal) == 8);
    tly_journal_destroy (&journal);
}
#endif

static void
s_fresh (s_test_t *test, const char *root, const char *name)
{
    snprintf (test->dir, sizeof test->dir, "%s/%s", root, name);
    memset (test->pseqs, 0, sizeof test->pseqs);
    test->epoch = 1;
}

void
tly_journal_segment_test (bool verbose)
{
    if (verbose)
        printf (" * tly_journal_segment: ");
    char root [] = "/tmp/tly_journal_segment_test.XXXXXX";
    assert (mkdtemp (root));
    s_test_t test;
    assert (tly_account_generate (&test.worker) == 0);
    test.signer = (tly_journal_signer_t) { .sign_sk = test.worker.sign_sk,
                                           .sign_pk = test.worker.sign_pk,
                                           .every = 4 };
    s_fresh (&test, root, "roll");
    s_test_roll (&test);
    s_fresh (&test, root, "nested");
    s_test_nested_reads (&test);
    s_fresh (&test, root, "bytes");
    s_test_roll_bytes (&test);
    s_fresh (&test, root, "retire");
    s_test_retire (&test);
    s_fresh (&test, root, "middle");
    s_test_missing_middle (&test);
    s_fresh (&test, root, "retired");
    s_test_retired_while_read (&test);
    s_fresh (&test, root, "adopt");
    s_test_adopt (&test);
#if defined(TLY_FAULTS_BUILD)
    s_fresh (&test, root, "crash");
    s_test_crash (&test);
    s_fresh (&test, root, "fails");
    s_test_roll_fails (&test);
#else
    printf ("(a roll killed or failed at each step: not built without -DTALLY_FAULTS=ON) ");
#endif
    s_remove_tree (root);
    if (verbose)
        printf ("OK\n");
}
