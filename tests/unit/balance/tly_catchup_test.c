//  tly_catchup self-test: claiming reads, paging, applying, refusals, retries;
//  snapshots probed, loaded in partition order, asked again, loaded again.
#include "tly_catchup.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_object_id.h"
#include "tly_partition.h"
#include "tly_sign.h"
#include "tly_store.h"
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

//  ---------------------------------------------------------------- snapshots

typedef enum {
    S_GOOD,
    S_FORGED,      //  header signed by another key
    S_BAD_DIGEST,  //  parts that are not what the header says
    S_STRANGER     //  a row of another partition's user
} s_snapshot_kind_t;

typedef struct {
    uint8_t user [TLY_KEY_BYTES];
    uint8_t *parts [2];
    size_t sizes [2];
    uint8_t header [512];
    uint8_t signature [TLY_SIGNATURE_BYTES];
    Tally__SignedSnapshotHeader signed_header;
} s_snapshot_t;

//  A key whose account is in partition.
static void
s_user_in (uint32_t partition, uint8_t user [TLY_KEY_BYTES])
{
    do
        randombytes_buf (user, TLY_KEY_BYTES);
    while (tly_partition_of (user, S_PARTITIONS) != partition);
}

//  One serialized SnapshotRows holding one row.
static void
s_rows (uint32_t table, const uint8_t *key, size_t key_size, const uint8_t *value,
        size_t value_size, uint8_t **bytes, size_t *size)
{
    Tally__SnapshotRow row = TALLY__SNAPSHOT_ROW__INIT;
    row.table = table;
    row.key = (ProtobufCBinaryData) { key_size, (uint8_t *) key };
    row.value = (ProtobufCBinaryData) { value_size, (uint8_t *) value };
    Tally__SnapshotRow *list [] = { &row };
    Tally__SnapshotRows rows = TALLY__SNAPSHOT_ROWS__INIT;
    rows.n_rows = 1;
    rows.rows = list;
    *size = tally__snapshot_rows__get_packed_size (&rows);
    *bytes = malloc (*size);
    tally__snapshot_rows__pack (&rows, *bytes);
}

//  Partition's state at partition_seq 7: the owner row of a user's balance
//  in part 0, the user's account (balance 55) in part 1; signed by worker_sk.
static void
s_snapshot (s_snapshot_t *snap, uint32_t partition, s_snapshot_kind_t kind,
            const uint8_t worker_sk [TLY_SECRET_KEY_BYTES])
{
    memset (snap, 0, sizeof *snap);
    s_user_in (kind == S_STRANGER ? (partition + 1) % S_PARTITIONS : partition, snap->user);
    uint8_t account [33 + 5] = { 0 };
    account [7] = 55;  //  balance, u64 BE
    account [32] = 5;  //  the balance ID's length
    memcpy (account + 33, "co_zB", 5);
    uint8_t owner [TLY_OBJECT_KEY_BYTES];
    tly_user_object_key (TLY_OBJ_BALANCE, snap->user, partition, owner);
    s_rows (TLY_STORE_ROW_OWNER, owner, sizeof owner, snap->user, TLY_KEY_BYTES, &snap->parts [0],
            &snap->sizes [0]);
    s_rows (TLY_STORE_ROW_ACCOUNT, snap->user, TLY_KEY_BYTES, account, sizeof account,
            &snap->parts [1], &snap->sizes [1]);
    uint8_t digest [TLY_HASH_BYTES], record_hash [TLY_HASH_BYTES] = { 1 };
    crypto_generichash_state state;
    crypto_generichash_init (&state, (const uint8_t *) TLY_SNAPSHOT_DIGEST_KEY,
                             sizeof TLY_SNAPSHOT_DIGEST_KEY - 1, sizeof digest);
    for (int part = 0; part < 2; part++)
        crypto_generichash_update (&state, snap->parts [part], snap->sizes [part]);
    crypto_generichash_final (&state, digest, sizeof digest);
    if (kind == S_BAD_DIGEST)
        digest [0] ^= 1;
    Tally__SnapshotHeader header = TALLY__SNAPSHOT_HEADER__INIT;
    header.partition = partition;
    header.partition_seq = 7;
    header.seq = 42;
    header.record_hash = (ProtobufCBinaryData) { sizeof record_hash, record_hash };
    header.epoch = 2;
    header.clock_ms = 1000;
    header.schema = TLY_STORE_SCHEMA;
    header.parts = 2;
    header.rows = 2;
    header.bytes = snap->sizes [0] + snap->sizes [1];
    header.digest = (ProtobufCBinaryData) { sizeof digest, digest };
    size_t size = tally__snapshot_header__pack (&header, snap->header);
    assert (size <= sizeof snap->header);
    uint8_t forger_pk [TLY_KEY_BYTES], forger_sk [TLY_SECRET_KEY_BYTES];
    crypto_sign_keypair (forger_pk, forger_sk);
    tly_sign_domain (TLY_DOMAIN_SNAPSHOT, kind == S_FORGED ? forger_sk : worker_sk, snap->header,
                     size, snap->signature);
    tally__signed_snapshot_header__init (&snap->signed_header);
    snap->signed_header.header = (ProtobufCBinaryData) { size, snap->header };
    snap->signed_header.signature = (ProtobufCBinaryData) { TLY_SIGNATURE_BYTES, snap->signature };
}

//  Answers a SnapshotLoad as the writer does for a partition whose latest
//  snapshot is snap (at partition_seq 7): part 0 with the header when it is
//  past after_partition_seq (a probe asks after the last possible one and
//  gets latest_partition_seq alone), any other part as asked.
static tly_catchup_status_t
s_answer_load (tly_catchup_t *catchup, const Tally__SnapshotLoad *load, s_snapshot_t *snap,
               uint32_t *answered)
{
    assert (load->part < 2);
    Tally__SnapshotLoadReply reply = TALLY__SNAPSHOT_LOAD_REPLY__INIT;
    reply.request_id = load->request_id;
    reply.part = load->part;
    reply.latest_partition_seq = 7;
    if (load->part > 0 || load->after_partition_seq < 7) {
        assert (load->part == 0 || load->partition_seq == 7);
        reply.header = load->part == 0 ? &snap->signed_header : NULL;
        reply.rows = (ProtobufCBinaryData) { snap->sizes [load->part], snap->parts [load->part] };
    }
    return tly_catchup_on_snapshot (catchup, &reply, answered);
}

//  The ReadRequest in request, taken out of it (request freed).
static Tally__ReadRequest *
s_take_read (Tally__AuditRequest *request)
{
    assert (request->body_case == TALLY__AUDIT_REQUEST__BODY_READ);
    Tally__ReadRequest *read = request->read;
    request->read = NULL;
    request->body_case = TALLY__AUDIT_REQUEST__BODY__NOT_SET;
    tally__audit_request__free_unpacked (request, NULL);
    return read;
}

//  Serves partition's catch-up the snapshot, part by part as asked, then
//  returns the ReadRequest that follows. The first request is a probe.
static Tally__ReadRequest *
s_serve_snapshot (tly_catchup_t *catchup, zsock_t *writer, zframe_t **identity, s_snapshot_t *snap,
                  uint32_t partition)
{
    for (bool first = true;; first = false) {
        Tally__AuditRequest *request = s_next_request (catchup, writer, identity);
        if (request->body_case == TALLY__AUDIT_REQUEST__BODY_READ) {
            Tally__ReadRequest *read = s_take_read (request);
            assert (read->partition == partition);
            return read;
        }
        assert (request->body_case == TALLY__AUDIT_REQUEST__BODY_LOAD_SNAPSHOT);
        const Tally__SnapshotLoad *load = request->load_snapshot;
        assert (load->partition == partition);
        assert (!first || (load->part == 0 && load->after_partition_seq == UINT64_MAX));
        uint32_t answered = UINT32_MAX;
        assert (s_answer_load (catchup, load, snap, &answered) == TLY_CATCHUP_PENDING);
        assert (answered == partition);
        tally__audit_request__free_unpacked (request, NULL);
    }
}

//  Drops what the fake writer was sent and not yet read.
static void
s_drain (zsock_t *writer)
{
    zmsg_t *msg;
    while (zsock_events (writer) & ZMQ_POLLIN) {
        msg = zmsg_recv (writer);
        zmsg_destroy (&msg);
    }
}

//  Clears partition from the state, as a new actor's would be.
static void
s_clear_partition (tly_ledger_t *ledger, uint32_t partition)
{
    assert (tly_ledger_begin (ledger) == 0);
    assert (tly_ledger_clear_partition (ledger, partition) == 0);
    assert (tly_ledger_commit (ledger) == 0);
}

//  Two partitions taken at once load one after the other, in partition
//  order whatever the order they were taken in, the next one's first part
//  asked for only after every part of the one before.
static void
s_test_load_order (tly_catchup_t *catchup, tly_ledger_t *ledger, zsock_t *writer,
                   zframe_t **identity, const uint8_t worker_sk [TLY_SECRET_KEY_BYTES])
{
    s_snapshot_t snaps [S_PARTITIONS];
    s_snapshot (&snaps [3], 3, S_GOOD, worker_sk);
    s_snapshot (&snaps [1], 1, S_GOOD, worker_sk);
    s_clear_partition (ledger, 1);
    s_clear_partition (ledger, 3);
    tly_catchup_start (catchup, 3, 6);
    tly_catchup_start (catchup, 1, 6);
    uint32_t loads [8], parts [8];
    size_t count = 0, done = 0;
    while (done < 2) {
        Tally__AuditRequest *request = s_next_request (catchup, writer, identity);
        uint32_t answered = UINT32_MAX;
        if (request->body_case == TALLY__AUDIT_REQUEST__BODY_READ) {
            Tally__ReadRequest *read = s_take_read (request);
            assert (read->after_partition_seq == 7 && read->epoch == 6);
            Tally__ReadReply end = TALLY__READ_REPLY__INIT;
            end.request_id = read->request_id;
            end.end = true;
            assert (tly_catchup_on_reply (catchup, &end, &answered) == TLY_CATCHUP_DONE);
            assert (answered == read->partition);
            tally__read_request__free_unpacked (read, NULL);
            done++;
            continue;
        }
        const Tally__SnapshotLoad *load = request->load_snapshot;
        if (load->after_partition_seq != UINT64_MAX) {
            assert (count < 8);
            loads [count] = load->partition;
            parts [count++] = load->part;
        }
        assert (s_answer_load (catchup, load, &snaps [load->partition], &answered)
                == TLY_CATCHUP_PENDING);
        tally__audit_request__free_unpacked (request, NULL);
    }
    assert (count == 4);
    assert (loads [0] == 1 && parts [0] == 0 && loads [1] == 1 && parts [1] == 1);
    assert (loads [2] == 3 && parts [2] == 0 && loads [3] == 3 && parts [3] == 1);
    for (uint32_t partition = 1; partition <= 3; partition += 2) {
        tly_account_state_t state;
        assert (tly_ledger_account (ledger, snaps [partition].user, &state) == TLY_STORE_FOUND);
        assert (state.balance == 55);
        free (snaps [partition].parts [0]);
        free (snaps [partition].parts [1]);
    }
}

//  A part not answered within the timeout is asked for again, in a new
//  session: the late answer to the first ask is ignored. A load cut short
//  (the actor stopped after part 0) leaves the partition at nothing
//  applied; the next actor's probe finds the snapshot newer and loads it
//  again from part 0, which clears what the first load left.
static void
s_test_load_again (tly_catchup_t **catchup_p, tly_ledger_t *ledger, zsock_t *audit, zsock_t *writer,
                   zframe_t **identity, const uint8_t worker_pk [TLY_KEY_BYTES],
                   const uint8_t worker_sk [TLY_SECRET_KEY_BYTES])
{
    tly_catchup_t *catchup = *catchup_p;
    s_snapshot_t snap;
    s_snapshot (&snap, 2, S_GOOD, worker_sk);
    s_clear_partition (ledger, 2);
    tly_catchup_start (catchup, 2, 8);
    uint32_t answered = UINT32_MAX;
    Tally__AuditRequest *probe = s_next_request (catchup, writer, identity);
    assert (s_answer_load (catchup, probe->load_snapshot, &snap, &answered) == TLY_CATCHUP_PENDING);
    Tally__AuditRequest *first = s_next_request (catchup, writer, identity);
    Tally__AuditRequest *again = s_next_request (catchup, writer, identity);
    assert (first->load_snapshot->part == 0 && again->load_snapshot->part == 0);
    assert (again->load_snapshot->request_id != first->load_snapshot->request_id);
    assert (s_answer_load (catchup, first->load_snapshot, &snap, &answered) == TLY_CATCHUP_IGNORED);
    assert (s_answer_load (catchup, again->load_snapshot, &snap, &answered) == TLY_CATCHUP_PENDING);
    uint64_t applied, epoch;
    assert (tly_ledger_progress (ledger, 2, &applied, &epoch) == 0 && applied == 0);
    tly_catchup_destroy (&catchup);
    s_drain (writer);

    catchup = *catchup_p = tly_catchup_new (ledger, audit, S_PARTITIONS, S_TIMEOUT_MS, worker_pk);
    assert (catchup);
    tly_catchup_start (catchup, 2, 9);
    Tally__ReadRequest *read = s_serve_snapshot (catchup, writer, identity, &snap, 2);
    assert (read->after_partition_seq == 7 && read->epoch == 9);
    assert (tly_ledger_progress (ledger, 2, &applied, &epoch) == 0 && applied == 7);
    tly_account_state_t state;
    assert (tly_ledger_account (ledger, snap.user, &state) == TLY_STORE_FOUND);
    assert (state.balance == 55);
    Tally__ReadReply end = TALLY__READ_REPLY__INIT;
    end.request_id = read->request_id;
    end.end = true;
    assert (tly_catchup_on_reply (catchup, &end, &answered) == TLY_CATCHUP_DONE);
    tally__read_request__free_unpacked (read, NULL);
    tally__audit_request__free_unpacked (probe, NULL);
    tally__audit_request__free_unpacked (first, NULL);
    tally__audit_request__free_unpacked (again, NULL);
    free (snap.parts [0]);
    free (snap.parts [1]);
}

//  A good snapshot is loaded and the journal read after it; a forged one, one
//  whose parts do not match its digest, and one with another partition's row
//  are each rejected, the partition cleared and read from its first record.
static void
s_test_snapshots (tly_catchup_t *catchup, tly_ledger_t *ledger, zsock_t *writer,
                  zframe_t **identity, const uint8_t worker_sk [TLY_SECRET_KEY_BYTES])
{
    const s_snapshot_kind_t kinds [] = { S_GOOD, S_FORGED, S_BAD_DIGEST, S_STRANGER };
    for (uint32_t partition = 0; partition < 4; partition++) {
        s_snapshot_t snap;
        s_snapshot (&snap, partition, kinds [partition], worker_sk);
        //  Whatever the state held of the partition goes first.
        s_clear_partition (ledger, partition);
        tly_catchup_start (catchup, partition, 5);
        Tally__ReadRequest *read = s_serve_snapshot (catchup, writer, identity, &snap, partition);
        bool good = kinds [partition] == S_GOOD;
        assert (read->epoch == 5 && read->after_partition_seq == (good ? 7u : 0u));
        uint64_t applied, epoch;
        assert (tly_ledger_progress (ledger, partition, &applied, &epoch) == 0);
        assert (applied == (good ? 7u : 0u));
        tly_account_state_t state;
        tly_store_lookup_t found = tly_ledger_account (ledger, snap.user, &state);
        assert (found == (good ? TLY_STORE_FOUND : TLY_STORE_ABSENT));
        assert (!good || state.balance == 55);
        assert (tly_catchup_latest_snapshot (catchup, partition) == 7);
        uint32_t done;
        Tally__ReadReply end = TALLY__READ_REPLY__INIT;
        end.request_id = read->request_id;
        end.end = true;
        assert (tly_catchup_on_reply (catchup, &end, &done) == TLY_CATCHUP_DONE);
        tally__read_request__free_unpacked (read, NULL);
        free (snap.parts [0]);
        free (snap.parts [1]);
    }
    assert (tly_ledger_clock (ledger) >= 1000);
}

void
tly_catchup_test (bool verbose)
{
    if (verbose)
        printf (" * tly_catchup: ");
    assert (sodium_init () >= 0);
    char root [64];
    th_dir_new (root, sizeof root, "tly_catchup_test");
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = S_PARTITIONS,
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

    s_test_snapshots (catchup, ledger, writer, &identity, worker_sk);
    s_test_load_order (catchup, ledger, writer, &identity, worker_sk);
    s_test_load_again (&catchup, ledger, audit, writer, &identity, worker_pk, worker_sk);

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
