//  tly_audit_writer_test - the audit writer class in-process: a DEALER on
//  inproc appends records and reads them back; the head is signed inside a
//  group commit every N records, and by the clock for records left unsigned
//  (also by an earlier run); new refuses what it cannot run.
#include "tly_audit_writer.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "tly_account.h"
#include "tly_journal.h"
#include "tly_limits.h"
#include "tly_wire.h"

#define S_ENDPOINT       "inproc://tly_audit_writer_test.1"
#define S_ENDPOINT_AGAIN "inproc://tly_audit_writer_test.2"  //  the first may linger
#define S_CHECKPOINT_MS  50
#define S_IDLE_WAIT_MS   500  //  the writer's signal check, when nothing waits

//  One valid draft, without heap allocation.
typedef struct {
    Tally__RecordDraft draft;
    Tally__SignedEnvelope request;
    uint8_t envelope [16];
    uint8_t signature [TLY_SIGNATURE_BYTES];
} s_fixture_t;

static Tally__RecordDraft *
s_draft (s_fixture_t *fixture, uint32_t partition, uint64_t partition_seq)
{
    memset (fixture, 0, sizeof *fixture);
    tally__record_draft__init (&fixture->draft);
    tally__signed_envelope__init (&fixture->request);
    memset (fixture->envelope, (int) partition_seq, sizeof fixture->envelope);
    fixture->request.envelope = (ProtobufCBinaryData) { sizeof fixture->envelope,
                                                        fixture->envelope };
    fixture->request.signature = (ProtobufCBinaryData) { sizeof fixture->signature,
                                                         fixture->signature };
    fixture->draft.partition = partition;
    fixture->draft.partition_seq = partition_seq;
    fixture->draft.epoch = 1;
    fixture->draft.request = &fixture->request;
    return &fixture->draft;
}

static void
s_send (zsock_t *dealer, Tally__AuditRequest *request)
{
    assert (tly_wire_send (dealer, NULL, &request->base) == 0);
}

//  Serves one turn and returns the reply it sent (the caller frees it).
static Tally__AuditReply *
s_serve (tly_audit_writer_t *writer, zsock_t *dealer)
{
    tly_audit_writer_serve (writer);
    zframe_t *frame = zframe_recv (dealer);
    assert (frame);
    Tally__AuditReply *reply = tally__audit_reply__unpack (NULL, zframe_size (frame),
                                                           zframe_data (frame));
    zframe_destroy (&frame);
    assert (reply);
    return reply;
}

static tly_journal_step_t
s_take_seq (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    (void) bytes;
    (void) size;
    uint64_t *seqs = arg;
    assert (seqs [0] < 7);
    seqs [++seqs [0]] = seq;
    return TLY_JOURNAL_NEXT;
}

//  The seqs of the journal's checkpoints: seqs [0] of them from seqs [1] on.
static void
s_checkpoints (const char *data_dir, uint64_t seqs [8])
{
    char path [512];
    snprintf (path, sizeof path, "%s/%s", data_dir, TLY_JOURNAL_SUBDIR);
    tly_journal_t *reader = tly_journal_new_reader (path);
    assert (reader);
    memset (seqs, 0, 8 * sizeof seqs [0]);
    assert (tly_journal_each_checkpoint (reader, s_take_seq, seqs) == 0);
    tly_journal_destroy (&reader);
}

//  What new refuses, each with one line.
static void
s_test_refusals (tly_audit_writer_config_t config)
{
    char error [TLY_AUDIT_WRITER_ERROR_MAX];
    char long_dir [5000];
    memset (long_dir, 'x', sizeof long_dir - 1);
    long_dir [sizeof long_dir - 1] = 0;
    tly_audit_writer_config_t bad = config;
    bad.data_dir = long_dir;
    assert (tly_audit_writer_new (&bad, error, sizeof error) == NULL);
    assert (strcmp (error, "--data-dir is too long") == 0);
    bad = config;
    bad.worker_secret = "x";
    assert (tly_audit_writer_new (&bad, error, sizeof error) == NULL);
    assert (strstr (error, "TALLY_WORKER_SECRET"));
    bad = config;
    bad.bind = "nonsense://";
    assert (tly_audit_writer_new (&bad, error, sizeof error) == NULL);
    assert (strstr (error, "cannot bind nonsense://"));
}

void
tly_audit_writer_test (bool verbose)
{
    if (verbose)
        printf (" * tly_audit_writer: ");
    char root [64];
    th_dir_new (root, sizeof root, "tly_audit_writer_test");
    char data_dir [sizeof root + 8];
    snprintf (data_dir, sizeof data_dir, "%s/data", root);
    tly_account_t worker;
    assert (tly_account_generate (&worker) == 0);
    char worker_id [TLY_ID_MAX], worker_secret [TLY_SECRET_MAX];
    tly_account_id (worker.sign_pk, worker_id);
    tly_account_secret (&worker, worker_secret);
    tly_audit_writer_config_t config = { .data_dir = data_dir,
                                         .bind = S_ENDPOINT,
                                         .map_size = 1 << 24,
                                         .worker = worker_id,
                                         .worker_secret = worker_secret,
                                         .checkpoint_every = 2,
                                         .checkpoint_ms = S_CHECKPOINT_MS,
                                         .curve = { .insecure = true } };
    s_test_refusals (config);

    //  A new journal (the data directory is made): nothing to sign.
    char error [TLY_AUDIT_WRITER_ERROR_MAX];
    tly_audit_writer_t *writer = tly_audit_writer_new (&config, error, sizeof error);
    assert (writer);
    assert (tly_audit_writer_head_seq (writer) == 0);
    assert (tly_audit_writer_wait_ms (writer) == S_IDLE_WAIT_MS);
    zsock_t *dealer = zsock_new_dealer (S_ENDPOINT);
    assert (dealer);

    //  Three records in one append: all accepted, the head signed at the second.
    s_fixture_t fixtures [3];
    Tally__RecordDraft *drafts [3];
    for (uint64_t i = 0; i < 3; i++)
        drafts [i] = s_draft (&fixtures [i], 1, i + 1);
    Tally__AppendRequest append = TALLY__APPEND_REQUEST__INIT;
    append.request_id = 7;
    append.n_records = 3;
    append.records = drafts;
    Tally__AuditRequest request = TALLY__AUDIT_REQUEST__INIT;
    request.body_case = TALLY__AUDIT_REQUEST__BODY_APPEND;
    request.append = &append;
    s_send (dealer, &request);
    Tally__AuditReply *reply = s_serve (writer, dealer);
    assert (reply->body_case == TALLY__AUDIT_REPLY__BODY_APPEND);
    assert (reply->append->request_id == 7 && reply->append->n_statuses == 3);
    for (size_t i = 0; i < 3; i++) {
        assert (reply->append->statuses [i]->code == TALLY__ERROR_CODE__OK);
        assert (reply->append->statuses [i]->seq == i + 1);
    }
    tally__audit_reply__free_unpacked (reply, NULL);
    assert (tly_audit_writer_head_seq (writer) == 3);
    //  The third waits for the clock: the writer wakes for it before its
    //  idle check. (No tick here: how long this test took since the append
    //  is not its to know, and a tick past the interval signs the third.)
    assert (tly_audit_writer_wait_ms (writer) <= S_CHECKPOINT_MS);
    assert (tly_audit_writer_wait_ms (writer) < S_IDLE_WAIT_MS);
    //  Stopped without a last signature, as a crash would leave it.
    zsock_destroy (&dealer);
    tly_audit_writer_destroy (&writer);
    assert (writer == NULL);
    tly_audit_writer_destroy (&writer);
    uint64_t seqs [8];
    s_checkpoints (data_dir, seqs);
    assert (seqs [0] == 1 && seqs [1] == 2);

    //  A new run signs what the last one left unsigned once the interval is up.
    config.bind = S_ENDPOINT_AGAIN;
    writer = tly_audit_writer_new (&config, error, sizeof error);
    assert (writer);
    assert (tly_audit_writer_head_seq (writer) == 3);
    assert (tly_audit_writer_wait_ms (writer) <= S_CHECKPOINT_MS);
    usleep ((S_CHECKPOINT_MS + 10) * 1000);
    assert (tly_audit_writer_wait_ms (writer) == 0);
    tly_audit_writer_tick (writer);
    assert (tly_audit_writer_wait_ms (writer) == S_IDLE_WAIT_MS);
    assert (tly_audit_writer_sign (writer) == 0);  //  nothing left to sign

    //  What is not an AuditRequest is dropped unanswered; a read is served.
    dealer = zsock_new_dealer (S_ENDPOINT_AGAIN);
    assert (dealer);
    assert (zstr_send (dealer, "not protobuf") == 0);
    tly_audit_writer_serve (writer);
    assert (zsock_events (dealer) == ZMQ_POLLOUT);
    Tally__ReadRequest read = TALLY__READ_REQUEST__INIT;
    read.request_id = 8;
    read.partition = 1;
    request = (Tally__AuditRequest) TALLY__AUDIT_REQUEST__INIT;
    request.body_case = TALLY__AUDIT_REQUEST__BODY_READ;
    request.read = &read;
    s_send (dealer, &request);
    reply = s_serve (writer, dealer);
    assert (reply->body_case == TALLY__AUDIT_REPLY__BODY_READ);
    assert (reply->read->request_id == 8 && !reply->read->error);
    assert (reply->read->n_records == 3 && reply->read->end);
    tally__audit_reply__free_unpacked (reply, NULL);
    zsock_destroy (&dealer);
    tly_audit_writer_destroy (&writer);
    s_checkpoints (data_dir, seqs);
    assert (seqs [0] == 2 && seqs [1] == 2 && seqs [2] == 3);

    th_dir_remove (root);
    if (verbose)
        printf ("OK\n");
}
