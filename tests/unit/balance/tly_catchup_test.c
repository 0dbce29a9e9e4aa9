//  tly_catchup self-test: claiming reads, paging, applying, refusals, retries.
#include "tly_catchup.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_sign.h"
#include "tly_wire.h"
#include "harness.h"

#define S_PARTITIONS 4
#define S_TIMEOUT_MS 20
#define S_WAIT_MS    5000

//  The next AuditRequest the fake writer gets, calling tick until it comes.
static Tally__AuditRequest *
s_next_request (tly_catchup_t *catchup, zsock_t *writer, zframe_t **identity)
{
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    zpoller_t *poller = zpoller_new (writer, NULL);
    while (!zpoller_wait (poller, 1)) {
        assert (zclock_mono () < deadline);
        tly_catchup_tick (catchup);
    }
    zpoller_destroy (&poller);
    zframe_destroy (identity);
    *identity = zframe_recv (writer);
    zframe_t *frame = zframe_recv (writer);
    Tally__AuditRequest *request = tally__audit_request__unpack (NULL, zframe_size (frame),
                                                                 zframe_data (frame));
    zframe_destroy (&frame);
    assert (request);
    return request;
}

//  The next ReadRequest the fake writer gets; a snapshot load before it is
//  answered "no snapshot".
static Tally__ReadRequest *
s_next_read (tly_catchup_t *catchup, zsock_t *writer, zframe_t **identity)
{
    Tally__AuditRequest *request = s_next_request (catchup, writer, identity);
    while (request->body_case == TALLY__AUDIT_REQUEST__BODY_LOAD_SNAPSHOT) {
        Tally__SnapshotLoadReply none = TALLY__SNAPSHOT_LOAD_REPLY__INIT;
        none.request_id = request->load_snapshot->request_id;
        uint32_t partition;
        assert (tly_catchup_on_snapshot (catchup, &none, &partition) == TLY_CATCHUP_PENDING);
        assert (partition == request->load_snapshot->partition);
        tally__audit_request__free_unpacked (request, NULL);
        request = s_next_request (catchup, writer, identity);
    }
    assert (request->body_case == TALLY__AUDIT_REQUEST__BODY_READ);
    Tally__ReadRequest *read = request->read;
    request->read = NULL;
    request->body_case = TALLY__AUDIT_REQUEST__BODY__NOT_SET;
    tally__audit_request__free_unpacked (request, NULL);
    return read;
}

//  A stored journal record of partition with no events: enough to move the
//  partition's sequence on.
static Tally__StoredRecord *
s_record (uint32_t partition, uint64_t partition_seq, const uint8_t sender [TLY_KEY_BYTES])
{
    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.sender.len = TLY_KEY_BYTES;
    envelope.sender.data = (uint8_t *) sender;
    uint8_t packed_envelope [64];
    Tally__SignedEnvelope request = TALLY__SIGNED_ENVELOPE__INIT;
    request.envelope.len = tally__envelope__pack (&envelope, packed_envelope);
    request.envelope.data = packed_envelope;
    Tally__RecordDraft draft = TALLY__RECORD_DRAFT__INIT;
    draft.partition = partition;
    draft.partition_seq = partition_seq;
    draft.epoch = 3;
    draft.request = &request;
    Tally__RecordBody body = TALLY__RECORD_BODY__INIT;
    body.seq = partition_seq;
    body.draft = &draft;
    Tally__StoredRecord *stored = calloc (1, sizeof *stored);
    tally__stored_record__init (stored);
    stored->body.len = tally__record_body__get_packed_size (&body);
    stored->body.data = malloc (stored->body.len);
    tally__record_body__pack (&body, stored->body.data);
    stored->hash.len = TLY_HASH_BYTES;
    stored->hash.data = malloc (TLY_HASH_BYTES);
    tly_record_hash (stored->body.data, stored->body.len, stored->hash.data);
    return stored;
}

static tly_catchup_status_t
s_reply (tly_catchup_t *catchup, uint64_t request_id, Tally__StoredRecord **records, size_t count,
         bool end, Tally__ErrorCode code, uint32_t *partition)
{
    Tally__Error error = TALLY__ERROR__INIT;
    error.code = code;
    Tally__ReadReply read = TALLY__READ_REPLY__INIT;
    read.request_id = request_id;
    read.records = records;
    read.n_records = count;
    read.end = end;
    read.error = code == TALLY__ERROR_CODE__OK ? NULL : &error;
    return tly_catchup_on_reply (catchup, &read, partition);
}

void
tly_catchup_test (bool verbose)
{
    if (verbose)
        printf (" * tly_catchup: ");
    assert (sodium_init () >= 0);
    char root [64];
    th_dir_new (root, sizeof root, "tly_catchup_test");
    tly_ledger_limits_t limits = { .partition_count = S_PARTITIONS,
                                   .initial_max = 100,
                                   .amount_max = 1000,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT };
    tly_ledger_t *ledger = tly_ledger_new (root, 1 << 22, &limits);
    zsock_t *writer = zsock_new_router ("inproc://tly_catchup_test");
    zsock_t *audit = zsock_new_dealer ("inproc://tly_catchup_test");
    assert (ledger && writer && audit);
    uint8_t worker_pk [TLY_KEY_BYTES], worker_sk [TLY_SECRET_KEY_BYTES];
    crypto_sign_keypair (worker_pk, worker_sk);
    tly_catchup_t *catchup = tly_catchup_new (ledger, audit, S_PARTITIONS, S_TIMEOUT_MS, worker_pk);
    assert (catchup);
    assert (tly_catchup_next (catchup) == INT64_MAX);
    uint8_t sender [TLY_KEY_BYTES] = { 1 };
    zframe_t *identity = NULL;
    uint32_t partition = UINT32_MAX;

    //  A claiming read from the applied sequence, paged to the end.
    tly_catchup_start (catchup, 2, 3);
    assert (tly_catchup_next (catchup) <= zclock_mono ());
    Tally__ReadRequest *read = s_next_read (catchup, writer, &identity);
    assert (read->partition == 2 && read->epoch == 3 && read->after_partition_seq == 0);
    assert (read->max_records == TLY_READ_RECORDS_MAX);
    Tally__StoredRecord *records [] = { s_record (2, 1, sender), s_record (2, 2, sender),
                                        s_record (2, 3, sender) };
    assert (
        s_reply (catchup, read->request_id, records, 2, false, TALLY__ERROR_CODE__OK, &partition)
        == TLY_CATCHUP_PENDING);
    assert (partition == 2);
    //  The same reply again is late now.
    assert (
        s_reply (catchup, read->request_id, records, 2, false, TALLY__ERROR_CODE__OK, &partition)
        == TLY_CATCHUP_IGNORED);
    tally__read_request__free_unpacked (read, NULL);
    read = s_next_read (catchup, writer, &identity);
    assert (read->after_partition_seq == 2);
    //  A record whose hash does not match is refused and the read retried.
    records [2]->body.data [records [2]->body.len - 1] ^= 1;
    assert (
        s_reply (catchup, read->request_id, records + 2, 1, true, TALLY__ERROR_CODE__OK, &partition)
        == TLY_CATCHUP_PENDING);
    records [2]->body.data [records [2]->body.len - 1] ^= 1;
    tally__read_request__free_unpacked (read, NULL);
    read = s_next_read (catchup, writer, &identity);
    assert (read->after_partition_seq == 2);
    assert (
        s_reply (catchup, read->request_id, records + 2, 1, true, TALLY__ERROR_CODE__OK, &partition)
        == TLY_CATCHUP_DONE);
    tally__read_request__free_unpacked (read, NULL);
    uint64_t seq, epoch;
    assert (tly_ledger_progress (ledger, 2, &seq, &epoch) == 0 && seq == 3 && epoch == 3);
    assert (tly_catchup_next (catchup) == INT64_MAX);

    //  Unanswered reads are sent again; a fenced claim ends the catch-up.
    tly_catchup_start (catchup, 1, 4);
    read = s_next_read (catchup, writer, &identity);
    uint64_t first_id = read->request_id;
    tally__read_request__free_unpacked (read, NULL);
    read = s_next_read (catchup, writer, &identity);
    assert (read->request_id != first_id && read->partition == 1);
    assert (s_reply (catchup, first_id, NULL, 0, true, TALLY__ERROR_CODE__OK, &partition)
            == TLY_CATCHUP_IGNORED);
    assert (s_reply (catchup, read->request_id, NULL, 0, true, TALLY__ERROR_CODE__STALE_EPOCH,
                     &partition)
            == TLY_CATCHUP_FENCED);
    assert (partition == 1);
    tally__read_request__free_unpacked (read, NULL);
    //  Stopped partitions ignore their replies.
    tly_catchup_start (catchup, 3, 4);
    read = s_next_read (catchup, writer, &identity);
    tly_catchup_stop (catchup, 3);
    assert (s_reply (catchup, read->request_id, NULL, 0, true, TALLY__ERROR_CODE__OK, &partition)
            == TLY_CATCHUP_IGNORED);
    tally__read_request__free_unpacked (read, NULL);
    assert (tly_catchup_next (catchup) == INT64_MAX);

    for (size_t i = 0; i < 3; i++)
        tally__stored_record__free_unpacked (records [i], NULL);
    zframe_destroy (&identity);
    tly_catchup_destroy (&catchup);
    assert (catchup == NULL);
    zsock_destroy (&audit);
    zsock_destroy (&writer);
    tly_ledger_destroy (&ledger);
    th_dir_remove (root);
    if (verbose)
        printf ("OK\n");
}
