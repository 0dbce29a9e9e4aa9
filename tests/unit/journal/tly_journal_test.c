//  tly_journal_test - the journal's self-test: every method, and the usage example.
#include "tly_journal.h"

#include <assert.h>
#include <dirent.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tly_account.h"
#include "tly_sign.h"
#include "tly_wire.h"

#define S_PERF_RECORDS 50000        //  records in the timed group commit
#define S_BIG_ENVELOPE (64 * 1024)  //  bytes, to fill a small map quickly
#define S_SMALL_MAP    (1024 * 1024)

//  One draft and everything it points at, without heap allocation.
typedef struct {
    Tally__RecordDraft draft;
    Tally__SignedEnvelope request;
    Tally__Event event;
    Tally__Event *events [1];
    Tally__AccountCreated created;
    uint8_t user [TLY_KEY_BYTES];
    uint8_t envelope [64];
    uint8_t signature [TLY_SIGNATURE_BYTES];
} s_fixture_t;

static Tally__RecordDraft *
s_draft (s_fixture_t *fixture, uint32_t partition, uint64_t partition_seq, uint64_t epoch)
{
    memset (fixture, 0, sizeof *fixture);
    tally__record_draft__init (&fixture->draft);
    tally__signed_envelope__init (&fixture->request);
    tally__event__init (&fixture->event);
    tally__account_created__init (&fixture->created);
    memset (fixture->user, (int) partition, sizeof fixture->user);
    memset (fixture->envelope, (int) partition_seq, sizeof fixture->envelope);
    memset (fixture->signature, 0x5a, sizeof fixture->signature);
    fixture->created.user = (ProtobufCBinaryData) { sizeof fixture->user, fixture->user };
    fixture->created.initial_balance = 100;
    fixture->event.kind_case = TALLY__EVENT__KIND_ACCOUNT_CREATED;
    fixture->event.account_created = &fixture->created;
    fixture->events [0] = &fixture->event;
    fixture->request.envelope = (ProtobufCBinaryData) { sizeof fixture->envelope,
                                                        fixture->envelope };
    fixture->request.signature = (ProtobufCBinaryData) { sizeof fixture->signature,
                                                         fixture->signature };
    fixture->draft.partition = partition;
    fixture->draft.partition_seq = partition_seq;
    fixture->draft.epoch = epoch;
    fixture->draft.timestamp_ms = 1700000000000;
    fixture->draft.request = &fixture->request;
    fixture->draft.n_events = 1;
    fixture->draft.events = fixture->events;
    return &fixture->draft;
}

//  Appends one draft in its own transaction and returns its status code.
static Tally__ErrorCode
s_append_one (tly_journal_t *journal, uint32_t partition, uint64_t partition_seq, uint64_t epoch,
              Tally__AppendStatus *status)
{
    s_fixture_t fixture;
    Tally__RecordDraft *draft = s_draft (&fixture, partition, partition_seq, epoch);
    int rc = tly_journal_append_batch (journal, &draft, 1, status, NULL);
    assert (rc == 0);
    return status->code;
}

//  Walks the chain: every hash recomputes from its body and every record
//  links to the one before it, with no gap in seq.
typedef struct {
    uint64_t next_seq;
    uint8_t prev_hash [TLY_HASH_BYTES];
    size_t count;
} s_chain_t;

static tly_journal_step_t
s_check_link (uint64_t seq, const uint8_t *stored_bytes, size_t size, void *arg)
{
    s_chain_t *chain = arg;
    Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, size, stored_bytes);
    assert (stored);
    assert (stored->hash.len == TLY_HASH_BYTES);
    uint8_t hash [TLY_HASH_BYTES];
    tly_record_hash (stored->body.data, stored->body.len, hash);
    assert (memcmp (hash, stored->hash.data, TLY_HASH_BYTES) == 0);
    Tally__RecordBody *body = tally__record_body__unpack (NULL, stored->body.len,
                                                          stored->body.data);
    assert (body);
    assert (body->seq == seq);
    assert (seq == chain->next_seq);
    assert (body->prev_hash.len == TLY_HASH_BYTES);
    assert (memcmp (body->prev_hash.data, chain->prev_hash, TLY_HASH_BYTES) == 0);
    assert (body->draft && body->draft->request);
    memcpy (chain->prev_hash, hash, TLY_HASH_BYTES);
    chain->next_seq++;
    chain->count++;
    tally__record_body__free_unpacked (body, NULL);
    tally__stored_record__free_unpacked (stored, NULL);
    return TLY_JOURNAL_NEXT;
}

static size_t
s_check_chain (tly_journal_t *journal)
{
    s_chain_t chain = { .next_seq = 1 };
    int rc = tly_journal_iterate (journal, 1, s_check_link, &chain);
    assert (rc == 0);
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    assert (head.seq == chain.count);
    assert (memcmp (head.hash, chain.prev_hash, TLY_HASH_BYTES) == 0);
    return chain.count;
}

//  Collects the partition seqs a read delivers.
typedef struct {
    uint64_t pseqs [16];
    size_t count;
    size_t stop_after;  //  0: never stop
} s_collect_t;

static tly_journal_step_t
s_collect (uint64_t seq, const uint8_t *stored_bytes, size_t size, void *arg)
{
    s_collect_t *collect = arg;
    Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, size, stored_bytes);
    assert (stored);
    Tally__RecordBody *body = tally__record_body__unpack (NULL, stored->body.len,
                                                          stored->body.data);
    assert (body && body->seq == seq);
    assert (collect->count < 16);
    collect->pseqs [collect->count++] = body->draft->partition_seq;
    tally__record_body__free_unpacked (body, NULL);
    tally__stored_record__free_unpacked (stored, NULL);
    return collect->stop_after && collect->count == collect->stop_after ? TLY_JOURNAL_STOP
                                                                        : TLY_JOURNAL_NEXT;
}

static Tally__ErrorCode
s_read (tly_journal_t *journal, uint32_t partition, uint64_t claim_epoch, uint64_t after,
        uint32_t max_records, s_collect_t *collect, bool *end)
{
    tly_journal_query_t query = { .partition = partition,
                                  .claim_epoch = claim_epoch,
                                  .after_partition_seq = after,
                                  .max_records = max_records,
                                  .max_bytes = TLY_JOURNAL_READ_BYTES };
    memset (collect, 0, sizeof *collect);
    return tly_journal_read (journal, &query, s_collect, collect, end);
}

static void
s_remove_dir (const char *path)
{
    DIR *dir = opendir (path);
    assert (dir);
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
            continue;
        char file [512];
        snprintf (file, sizeof file, "%s/%s", path, entry->d_name);
        struct stat info;
        assert (lstat (file, &info) == 0);
        if (S_ISDIR (info.st_mode))
            s_remove_dir (file);
        else
            assert (unlink (file) == 0);
    }
    closedir (dir);
    assert (rmdir (path) == 0);
}

static void
s_test_refusals (tly_journal_t *journal)
{
    Tally__AppendStatus status;
    //  Contiguity per partition: partitions are independent of each other.
    assert (s_append_one (journal, 1, 1, 1, &status) == TALLY__ERROR_CODE__OK);
    assert (status.seq == 1);
    assert (s_append_one (journal, 1, 2, 1, &status) == TALLY__ERROR_CODE__OK);
    assert (s_append_one (journal, 2, 1, 1, &status) == TALLY__ERROR_CODE__OK);
    assert (status.seq == 3);
    assert (s_append_one (journal, 1, 4, 1, &status) == TALLY__ERROR_CODE__SEQUENCE_GAP);
    assert (status.expected_partition_seq == 3);
    assert (s_append_one (journal, 1, 2, 1, &status) == TALLY__ERROR_CODE__SEQUENCE_GAP);

    //  A higher epoch is accepted and fences every older one.
    assert (s_append_one (journal, 1, 3, 2, &status) == TALLY__ERROR_CODE__OK);
    uint64_t fence, last;
    tly_journal_partition (journal, 1, &fence, &last);
    assert (fence == 2 && last == 3);
    assert (s_append_one (journal, 1, 4, 1, &status) == TALLY__ERROR_CODE__STALE_EPOCH);

    //  Malformed drafts are refused, never asserted on.
    s_fixture_t fixture;
    Tally__RecordDraft *draft = s_draft (&fixture, TLY_PARTITIONS_MAX, 1, 1);
    assert (tly_journal_append_batch (journal, &draft, 1, &status, NULL) == 0);
    assert (status.code == TALLY__ERROR_CODE__BAD_REQUEST);
    draft = s_draft (&fixture, 3, 1, 0);
    assert (tly_journal_append_batch (journal, &draft, 1, &status, NULL) == 0);
    assert (status.code == TALLY__ERROR_CODE__BAD_REQUEST);
    draft = s_draft (&fixture, 3, 1, 1);
    draft->request = NULL;
    assert (tly_journal_append_batch (journal, &draft, 1, &status, NULL) == 0);
    assert (status.code == TALLY__ERROR_CODE__BAD_REQUEST);
    draft = s_draft (&fixture, 3, 1, 1);
    fixture.request.signature.len = 10;
    assert (tly_journal_append_batch (journal, &draft, 1, &status, NULL) == 0);
    assert (status.code == TALLY__ERROR_CODE__BAD_REQUEST);
    tly_journal_partition (journal, 3, &fence, &last);
    assert (fence == 0 && last == 0);
}

//  Records decided in one transaction see each other; a refusal in the middle
//  does not stop the others.
static void
s_test_group_commit (tly_journal_t *journal)
{
    s_fixture_t fixtures [4];
    Tally__RecordDraft *drafts [4] = { s_draft (&fixtures [0], 3, 1, 1),
                                       s_draft (&fixtures [1], 3, 1, 1),
                                       s_draft (&fixtures [2], 3, 2, 4),
                                       s_draft (&fixtures [3], 3, 3, 1) };
    Tally__AppendStatus statuses [4];
    tly_journal_head_t before;
    tly_journal_head (journal, &before);
    assert (tly_journal_append_batch (journal, drafts, 4, statuses, NULL) == 0);
    assert (statuses [0].code == TALLY__ERROR_CODE__OK && statuses [0].seq == before.seq + 1);
    assert (statuses [1].code == TALLY__ERROR_CODE__SEQUENCE_GAP);
    assert (statuses [1].expected_partition_seq == 2);
    assert (statuses [2].code == TALLY__ERROR_CODE__OK && statuses [2].seq == before.seq + 2);
    assert (statuses [3].code == TALLY__ERROR_CODE__STALE_EPOCH);

    //  An aborted transaction leaves nothing behind, in LMDB or in the cache.
    assert (tly_journal_begin (journal) == 0);
    s_fixture_t fixture;
    Tally__AppendStatus status;
    assert (tly_journal_append (journal, s_draft (&fixture, 3, 3, 9), &status) == 0);
    assert (status.code == TALLY__ERROR_CODE__OK);
    tly_journal_abort (journal);
    tly_journal_head_t after;
    tly_journal_head (journal, &after);
    assert (after.seq == before.seq + 2);
    uint64_t fence, last;
    tly_journal_partition (journal, 3, &fence, &last);
    assert (fence == 4 && last == 2);
    assert (s_append_one (journal, 3, 3, 4, &status) == TALLY__ERROR_CODE__OK);
    assert (status.seq == after.seq + 1);
}

static void
s_test_reads (tly_journal_t *journal)
{
    s_collect_t collect;
    bool end;
    assert (s_read (journal, 1, 0, 0, TLY_READ_RECORDS_MAX, &collect, &end)
            == TALLY__ERROR_CODE__OK);
    assert (collect.count == 3 && end);
    assert (collect.pseqs [0] == 1 && collect.pseqs [1] == 2 && collect.pseqs [2] == 3);
    assert (s_read (journal, 1, 0, 0, 2, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 2 && !end);
    assert (s_read (journal, 1, 0, 2, 1, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 1 && collect.pseqs [0] == 3 && end);
    assert (s_read (journal, 1, 0, 3, 5, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 0 && end);
    assert (s_read (journal, 9, 0, 0, 5, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 0 && end);
    assert (s_read (journal, 1, 0, UINT64_MAX, 5, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 0 && end);
    assert (s_read (journal, TLY_PARTITIONS_MAX, 0, 0, 5, &collect, &end)
            == TALLY__ERROR_CODE__BAD_REQUEST);
    assert (s_read (journal, 1, 0, 0, 0, &collect, &end) == TALLY__ERROR_CODE__BAD_REQUEST);
    assert (s_read (journal, 1, 0, 0, TLY_READ_RECORDS_MAX + 1, &collect, &end)
            == TALLY__ERROR_CODE__BAD_REQUEST);

    //  The callback may stop early; the byte budget always lets one record through.
    memset (&collect, 0, sizeof collect);
    collect.stop_after = 1;
    tly_journal_query_t query = { .partition = 1,
                                  .after_partition_seq = 0,
                                  .max_records = 10,
                                  .max_bytes = TLY_JOURNAL_READ_BYTES };
    assert (tly_journal_read (journal, &query, s_collect, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 1 && !end);
    memset (&collect, 0, sizeof collect);
    query.max_bytes = 1;
    assert (tly_journal_read (journal, &query, s_collect, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 1 && !end);

    //  A claim raises the fence so the old owner can no longer append.
    Tally__AppendStatus status;
    assert (s_read (journal, 1, 5, 0, 10, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 3 && end);
    uint64_t fence;
    tly_journal_partition (journal, 1, &fence, NULL);
    assert (fence == 5);
    assert (s_append_one (journal, 1, 4, 2, &status) == TALLY__ERROR_CODE__STALE_EPOCH);
    assert (s_read (journal, 1, 3, 0, 10, &collect, &end) == TALLY__ERROR_CODE__STALE_EPOCH);
    assert (collect.count == 0);
    assert (s_read (journal, 1, 5, 0, 10, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 3);
    //  Claiming an untouched partition records its fence too.
    assert (s_read (journal, 7, 2, 0, 10, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 0 && end);
    assert (s_append_one (journal, 7, 1, 1, &status) == TALLY__ERROR_CODE__STALE_EPOCH);
    assert (s_append_one (journal, 1, 4, 5, &status) == TALLY__ERROR_CODE__OK);

    //  Several fences in one commit: each to the highest epoch named for
    //  it, none lowered; the reads that carry the claims then pass, older
    //  claims and owners are refused.
    const uint32_t partitions [] = { 11, 7, 12, 12, 13 };
    const uint64_t epochs [] = { 6, 1, 4, 3, 2 };
    assert (tly_journal_raise_fences (journal, partitions, epochs, 5) == 0);
    const uint64_t fences [][2] = { { 11, 6 }, { 7, 2 }, { 12, 4 }, { 13, 2 } };
    for (size_t i = 0; i < 4; i++) {
        tly_journal_partition (journal, (uint32_t) fences [i][0], &fence, NULL);
        assert (fence == fences [i][1]);
    }
    assert (s_read (journal, 12, 4, 0, 10, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (s_read (journal, 12, 3, 0, 10, &collect, &end) == TALLY__ERROR_CODE__STALE_EPOCH);
    assert (s_append_one (journal, 11, 1, 5, &status) == TALLY__ERROR_CODE__STALE_EPOCH);
    //  Nothing to raise: no transaction at all.
    assert (tly_journal_raise_fences (journal, partitions, epochs, 5) == 0);
    assert (tly_journal_raise_fences (journal, NULL, NULL, 0) == 0);
}

//  Collects checkpoints and checks each one's signature and hash against the
//  chain as the journal sees it.
typedef struct {
    const uint8_t *worker;
    uint64_t seqs [8];
    size_t count;
} s_checkpoints_t;

static tly_journal_step_t
s_check_checkpoint (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    s_checkpoints_t *checkpoints = arg;
    tly_journal_checkpoint_t checkpoint;
    assert (tly_journal_checkpoint_decode (bytes, size, checkpoints->worker, &checkpoint) == 0);
    assert (checkpoint.signed_by_worker && checkpoint.seq == seq);
    assert (checkpoint.timestamp_ms == 1234);
    //  Another account's key never vouches for it, nor does none.
    uint8_t stranger [TLY_KEY_BYTES];
    memcpy (stranger, checkpoints->worker, TLY_KEY_BYTES);
    stranger [0] ^= 1;
    assert (tly_journal_checkpoint_decode (bytes, size, stranger, &checkpoint) == 0);
    assert (!checkpoint.signed_by_worker);
    assert (tly_journal_checkpoint_decode (bytes, size, NULL, &checkpoint) == 0);
    assert (!checkpoint.signed_by_worker);
    assert (
        tly_journal_checkpoint_decode (bytes, size > 4 ? 4 : size, checkpoints->worker, &checkpoint)
        == -1);
    assert (checkpoints->count < 8);
    checkpoints->seqs [checkpoints->count++] = seq;
    return TLY_JOURNAL_NEXT;
}

static size_t
s_list_checkpoints (tly_journal_t *journal, const uint8_t *worker, s_checkpoints_t *checkpoints)
{
    memset (checkpoints, 0, sizeof *checkpoints);
    checkpoints->worker = worker;
    assert (tly_journal_each_checkpoint (journal, s_check_checkpoint, checkpoints) == 0);
    return checkpoints->count;
}

//  Signing on its own, inside an append transaction, and not at all when an
//  aborted transaction takes its records back.
static void
s_test_checkpoints (tly_journal_t *journal, const tly_account_t *worker)
{
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    s_checkpoints_t checkpoints;
    assert (s_list_checkpoints (journal, worker->sign_pk, &checkpoints) == 0);
    assert (tly_journal_unsigned (journal) == head.seq);
    assert (tly_journal_checkpoint (journal, worker->sign_sk, worker->sign_pk, 1234) == 0);
    assert (tly_journal_unsigned (journal) == 0);
    assert (tly_journal_checkpoint (journal, worker->sign_sk, worker->sign_pk, 1234) == 0);
    assert (s_list_checkpoints (journal, worker->sign_pk, &checkpoints) == 1);
    assert (checkpoints.seqs [0] == head.seq);

    s_fixture_t fixture;
    Tally__AppendStatus status;
    uint64_t last;
    tly_journal_partition (journal, 5, NULL, &last);
    assert (tly_journal_begin (journal) == 0);
    assert (tly_journal_append (journal, s_draft (&fixture, 5, last + 1, 1), &status) == 0);
    assert (tly_journal_unsigned (journal) == 1);
    assert (tly_journal_checkpoint (journal, worker->sign_sk, worker->sign_pk, 1234) == 0);
    assert (tly_journal_unsigned (journal) == 0);
    tly_journal_abort (journal);
    assert (tly_journal_unsigned (journal) == 0);
    assert (s_list_checkpoints (journal, worker->sign_pk, &checkpoints) == 1);

    assert (tly_journal_begin (journal) == 0);
    assert (tly_journal_append (journal, s_draft (&fixture, 5, last + 1, 1), &status) == 0);
    assert (tly_journal_checkpoint (journal, worker->sign_sk, worker->sign_pk, 1234) == 0);
    assert (tly_journal_append (journal, s_draft (&fixture, 5, last + 2, 1), &status) == 0);
    assert (tly_journal_unsigned (journal) == 1);
    assert (tly_journal_commit (journal) == 0);
    assert (tly_journal_unsigned (journal) == 1);
    assert (s_list_checkpoints (journal, worker->sign_pk, &checkpoints) == 2);
    assert (checkpoints.seqs [1] == head.seq + 1);
}

//  The largest record is accepted, one byte more is refused.
static void
s_test_record_limit (tly_journal_t *journal)
{
    size_t limit = TLY_JOURNAL_RECORD_MAX - TLY_HASH_BYTES - 16;  //  body bytes
    uint8_t *big = calloc (1, limit);
    assert (big);
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    uint8_t prev_hash [TLY_HASH_BYTES] = { 0 };
    s_fixture_t fixture;
    Tally__RecordDraft *draft = s_draft (&fixture, 4, 1, 1);
    Tally__RecordBody body = TALLY__RECORD_BODY__INIT;
    body.seq = head.seq + 1;
    body.prev_hash = (ProtobufCBinaryData) { TLY_HASH_BYTES, prev_hash };
    body.draft = draft;
    //  Grow the envelope until the body is exactly at the limit.
    size_t envelope = limit / 2;
    for (int round = 0; round < 8; round++) {
        fixture.request.envelope = (ProtobufCBinaryData) { envelope, big };
        size_t size = tally__record_body__get_packed_size (&body);
        if (size == limit)
            break;
        envelope = envelope + limit - size;
    }
    assert (tally__record_body__get_packed_size (&body) == limit);
    Tally__AppendStatus status;
    fixture.request.envelope.len = envelope + 1;
    assert (tly_journal_append_batch (journal, &draft, 1, &status, NULL) == 0);
    assert (status.code == TALLY__ERROR_CODE__BAD_REQUEST);
    fixture.request.envelope.len = envelope;
    assert (tly_journal_append_batch (journal, &draft, 1, &status, NULL) == 0);
    assert (status.code == TALLY__ERROR_CODE__OK);
    free (big);
}

//  A map too small for the batch fails the transaction and changes nothing.
//  Collects each checkpoint's seq and time, checked against worker.
typedef struct {
    const uint8_t *worker;
    uint64_t seqs [8];
    int64_t times [8];
    size_t count;
} s_signed_t;

static tly_journal_step_t
s_take_signed (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    s_signed_t *taken = arg;
    tly_journal_checkpoint_t checkpoint;
    assert (tly_journal_checkpoint_decode (bytes, size, taken->worker, &checkpoint) == 0);
    assert (checkpoint.signed_by_worker && checkpoint.seq == seq);
    assert (taken->count < 8);
    taken->seqs [taken->count] = seq;
    taken->times [taken->count++] = checkpoint.timestamp_ms;
    return TLY_JOURNAL_NEXT;
}

//  The group commit with a signer: the head is signed inside the batch each
//  time `every` accepted records wait unsigned (refused ones do not count),
//  at the signed record's time or the wall clock; without a signer, never.
static void
s_test_signed_batch (const char *path, const tly_account_t *worker)
{
    tly_journal_t *journal = tly_journal_new (path, TLY_LMDB_MAP_DEFAULT);
    assert (journal);
    const uint64_t pseqs [8] = { 1, 2, 3, 99, 4, 5, 6, 7 };  //  99: a gap, refused
    s_fixture_t fixtures [8];
    Tally__RecordDraft *drafts [8];
    Tally__AppendStatus statuses [8];
    for (size_t i = 0; i < 8; i++) {
        drafts [i] = s_draft (&fixtures [i], 3, pseqs [i], 1);
        drafts [i]->timestamp_ms = 1000 + (int64_t) i;
    }
    tly_journal_signer_t signer = {
        .sign_sk = worker->sign_sk, .sign_pk = worker->sign_pk, .every = 3, .record_time = true
    };
    assert (tly_journal_append_batch (journal, drafts, 8, statuses, &signer) == 0);
    for (size_t i = 0; i < 8; i++)
        assert (statuses [i].code
                == (i == 3 ? TALLY__ERROR_CODE__SEQUENCE_GAP : TALLY__ERROR_CODE__OK));
    assert (tly_journal_unsigned (journal) == 1);
    s_signed_t taken = { .worker = worker->sign_pk };
    assert (tly_journal_each_checkpoint (journal, s_take_signed, &taken) == 0);
    assert (taken.count == 2);
    assert (taken.seqs [0] == 3 && taken.times [0] == 1002);
    assert (taken.seqs [1] == 6 && taken.times [1] == 1006);

    //  Without a signer nothing is signed.
    drafts [0] = s_draft (&fixtures [0], 3, 8, 1);
    assert (tly_journal_append_batch (journal, drafts, 1, statuses, NULL) == 0);
    assert (statuses [0].code == TALLY__ERROR_CODE__OK);
    assert (tly_journal_unsigned (journal) == 2);

    //  On the wall clock, every record: the two unsigned ones go with the first.
    int64_t before = tly_now_ms ();
    drafts [0] = s_draft (&fixtures [0], 3, 9, 1);
    drafts [1] = s_draft (&fixtures [1], 3, 10, 1);
    signer = (tly_journal_signer_t) { .sign_sk = worker->sign_sk,
                                      .sign_pk = worker->sign_pk,
                                      .every = 1 };
    assert (tly_journal_append_batch (journal, drafts, 2, statuses, &signer) == 0);
    assert (tly_journal_unsigned (journal) == 0);
    taken.count = 0;
    assert (tly_journal_each_checkpoint (journal, s_take_signed, &taken) == 0);
    assert (taken.count == 4);
    assert (taken.seqs [2] == 9 && taken.seqs [3] == 10);
    assert (taken.times [2] >= before && taken.times [3] <= tly_now_ms ());
    assert (s_check_chain (journal) == 10);
    tly_journal_destroy (&journal);
}

static void
s_test_map_full (const char *path)
{
    tly_journal_t *journal = tly_journal_new (path, S_SMALL_MAP);
    assert (journal);
    Tally__AppendStatus status;
    assert (s_append_one (journal, 0, 1, 1, &status) == TALLY__ERROR_CODE__OK);
    static uint8_t big [S_BIG_ENVELOPE];
    s_fixture_t fixture;
    assert (tly_journal_begin (journal) == 0);
    int rc = 0;
    for (uint64_t pseq = 2; rc == 0 && pseq < 2 + 2 * S_SMALL_MAP / S_BIG_ENVELOPE; pseq++) {
        Tally__RecordDraft *draft = s_draft (&fixture, 0, pseq, 1);
        fixture.request.envelope = (ProtobufCBinaryData) { sizeof big, big };
        rc = tly_journal_append (journal, draft, &status);
    }
    if (rc == 0)
        rc = tly_journal_commit (journal);
    else
        tly_journal_abort (journal);
    assert (rc == -1);
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    uint64_t last;
    tly_journal_partition (journal, 0, NULL, &last);
    assert (head.seq == 1 && last == 1);
    assert (s_append_one (journal, 0, 2, 1, &status) == TALLY__ERROR_CODE__OK);
    assert (status.seq == 2);
    assert (s_check_chain (journal) == 2);
    tly_journal_destroy (&journal);
}

//  A group commit that fills the map grows it (doubling, up to the maximum)
//  and is decided again whole; one that would pass the maximum fails whole,
//  says the journal is full, and the next that fits clears it.
static void
s_test_map_grows (const char *path)
{
    tly_journal_t *journal = tly_journal_new (path, S_SMALL_MAP);
    assert (journal);
    assert (tly_journal_map_size (journal) == S_SMALL_MAP);
    tly_journal_set_map_max (journal, 8 * S_SMALL_MAP + 1);  //  rounded down to pages
    static uint8_t big [S_BIG_ENVELOPE];
    enum {
        S_GROUP = 4 * S_SMALL_MAP / S_BIG_ENVELOPE,
        S_TOO_MANY = 3 * S_GROUP
    };
    s_fixture_t *fixtures = calloc (S_TOO_MANY, sizeof (s_fixture_t));
    Tally__RecordDraft **drafts = calloc (S_TOO_MANY, sizeof (Tally__RecordDraft *));
    Tally__AppendStatus *statuses = calloc (S_TOO_MANY, sizeof (Tally__AppendStatus));
    assert (fixtures && drafts && statuses);
    for (size_t i = 0; i < S_TOO_MANY; i++) {
        drafts [i] = s_draft (&fixtures [i], 0, 1 + i, 1);
        fixtures [i].request.envelope = (ProtobufCBinaryData) { sizeof big, big };
    }
    assert (tly_journal_append_batch (journal, drafts, S_GROUP, statuses, NULL) == 0);
    for (size_t i = 0; i < S_GROUP; i++)
        assert (statuses [i].code == TALLY__ERROR_CODE__OK && statuses [i].seq == 1 + i);
    assert (tly_journal_map_size (journal) > S_SMALL_MAP);
    assert (tly_journal_map_size (journal) <= 8 * S_SMALL_MAP);
    assert (!tly_journal_full (journal));

    //  Three times as much again cannot fit 8 MiB: nothing of it is kept.
    for (size_t i = 0; i < S_TOO_MANY; i++)
        fixtures [i].draft.partition_seq = S_GROUP + 1 + i;
    assert (tly_journal_append_batch (journal, drafts, S_TOO_MANY, statuses, NULL) == -1);
    assert (tly_journal_full (journal));
    assert (tly_journal_map_size (journal) == 8 * S_SMALL_MAP);
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    assert (head.seq == S_GROUP);
    assert (tly_journal_append_batch (journal, drafts, 1, statuses, NULL) == 0);
    assert (statuses [0].seq == S_GROUP + 1);
    assert (!tly_journal_full (journal));
    assert (s_check_chain (journal) == S_GROUP + 1);
    tly_journal_destroy (&journal);

    //  A smaller --map-size than the data opens at the data's size (LMDB's rule).
    journal = tly_journal_new (path, S_SMALL_MAP);
    assert (journal && tly_journal_map_size (journal) > 4 * S_SMALL_MAP);
    tly_journal_destroy (&journal);
    free (fixtures);
    free (drafts);
    free (statuses);
}

static void
s_test_throughput (tly_journal_t *journal, bool verbose)
{
    s_fixture_t *fixtures = calloc (S_PERF_RECORDS, sizeof (s_fixture_t));
    Tally__RecordDraft **drafts = calloc (S_PERF_RECORDS, sizeof (Tally__RecordDraft *));
    Tally__AppendStatus *statuses = calloc (S_PERF_RECORDS, sizeof (Tally__AppendStatus));
    assert (fixtures && drafts && statuses);
    for (size_t i = 0; i < S_PERF_RECORDS; i++)
        drafts [i] = s_draft (&fixtures [i], 100 + (uint32_t) (i % 256), 1 + i / 256, 1);
    struct timespec start, stop;
    clock_gettime (CLOCK_MONOTONIC, &start);
    assert (tly_journal_append_batch (journal, drafts, S_PERF_RECORDS, statuses, NULL) == 0);
    clock_gettime (CLOCK_MONOTONIC, &stop);
    for (size_t i = 0; i < S_PERF_RECORDS; i++)
        assert (statuses [i].code == TALLY__ERROR_CODE__OK);
    double seconds = (double) (stop.tv_sec - start.tv_sec)
                     + (double) (stop.tv_nsec - start.tv_nsec) / 1e9;
    if (verbose)
        printf ("(%d records in one commit: %.0f records/s) ", S_PERF_RECORDS,
                S_PERF_RECORDS / seconds);
    free (fixtures);
    free (drafts);
    free (statuses);
}

void
tly_journal_test (bool verbose)
{
    if (verbose)
        printf (" * tly_journal: ");
    char path [] = "/tmp/tly_journal_test.XXXXXX";
    assert (mkdtemp (path));
    char dir [sizeof path + 16];
    snprintf (dir, sizeof dir, "%s/journal", path);

    tly_journal_t *journal = tly_journal_new (dir, TLY_LMDB_MAP_DEFAULT);
    assert (journal);
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    uint8_t zeros [TLY_HASH_BYTES] = { 0 };
    assert (head.seq == 0 && memcmp (head.hash, zeros, TLY_HASH_BYTES) == 0);
    assert (s_check_chain (journal) == 0);
    //  One writer per journal.
    assert (tly_journal_new (dir, TLY_LMDB_MAP_DEFAULT) == NULL);

    s_test_refusals (journal);
    s_test_group_commit (journal);
    s_test_reads (journal);
    tly_account_t worker;
    assert (tly_account_generate (&worker) == 0);
    s_test_checkpoints (journal, &worker);
    s_test_record_limit (journal);
    size_t count = s_check_chain (journal);
    tly_journal_head (journal, &head);
    tly_journal_destroy (&journal);
    assert (journal == NULL);
    tly_journal_destroy (&journal);

    //  Everything survives a reopen: head, fences, sequences, the chain.
    journal = tly_journal_new (dir, 0);
    assert (journal);
    tly_journal_head_t reopened;
    tly_journal_head (journal, &reopened);
    assert (reopened.seq == head.seq && memcmp (reopened.hash, head.hash, TLY_HASH_BYTES) == 0);
    uint64_t fence, last;
    tly_journal_partition (journal, 1, &fence, &last);
    assert (fence == 5 && last == 4);
    tly_journal_partition (journal, 7, &fence, &last);
    assert (fence == 2 && last == 0);
    Tally__AppendStatus status;
    //  ... and the checkpoints: two, the head unsigned since the record limit test.
    s_checkpoints_t checkpoints;
    assert (s_list_checkpoints (journal, worker.sign_pk, &checkpoints) == 2);
    assert (tly_journal_unsigned (journal) == head.seq - checkpoints.seqs [1]);
    assert (s_append_one (journal, 1, 5, 4, &status) == TALLY__ERROR_CODE__STALE_EPOCH);
    assert (s_append_one (journal, 1, 5, 5, &status) == TALLY__ERROR_CODE__OK);
    assert (status.seq == head.seq + 1);
    assert (s_check_chain (journal) == count + 1);
    //  The writer's pages given back between commits: appends and reads go on.
    assert (tly_journal_release (journal) == 1);
    assert (s_check_chain (journal) == count + 1);

    assert (s_append_one (journal, 1, 6, 5, &status) == TALLY__ERROR_CODE__OK);
    tly_journal_destroy (&journal);

    //  A reader (LMDB allows one environment per file per process: never
    //  while the writer is open in the same process; other processes may).
    tly_journal_t *reader = tly_journal_new_reader (dir);
    assert (reader);
    assert (s_check_chain (reader) == count + 2);
    tly_journal_partition (reader, 1, &fence, &last);
    assert (fence == 5 && last == 6);
    s_collect_t collect;
    bool end;
    assert (s_read (reader, 1, 0, 4, 10, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 2 && end);
    //  Its pages given back: the same records read again.
    assert (tly_journal_release (reader) == 1);
    assert (s_read (reader, 1, 0, 4, 10, &collect, &end) == TALLY__ERROR_CODE__OK);
    assert (collect.count == 2 && end);
    assert (s_list_checkpoints (reader, worker.sign_pk, &checkpoints) == 2);
    assert (tly_journal_refresh (reader) == 0);
    assert (s_check_chain (reader) == count + 2);
    tly_journal_destroy (&reader);


    journal = tly_journal_new (dir, TLY_LMDB_MAP_DEFAULT);
    assert (journal);
    s_test_throughput (journal, verbose);
    assert (s_check_chain (journal) == count + 2 + S_PERF_RECORDS);
    tly_journal_destroy (&journal);
    s_remove_dir (dir);

    s_test_map_full (dir);
    s_remove_dir (dir);
    s_test_map_grows (dir);
    s_remove_dir (dir);
    s_test_signed_batch (dir, &worker);
    s_remove_dir (dir);
    assert (rmdir (path) == 0);
    assert (tly_journal_new_reader (dir) == NULL);
    if (verbose)
        printf ("OK\n");
}
