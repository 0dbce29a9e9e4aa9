//  audit_process_test - runs the real tally-audit binary and talks to it over a
//  DEALER socket: appends, group commit, fencing, reads, bad input, drafts
//  whose events do not follow from their envelope (refused and logged, the
//  writer serving on), a clean SIGTERM, and a restart that finds everything
//  where it was left; and the checkpoints it signs (by count, on its timer,
//  at shutdown), read beside it.
#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "tly_account.h"
#include "tly_journal.h"
#include "tly_limits.h"
#include "tly_sign.h"
#include "tly_wire.h"
#include "tally.pb-c.h"

#define S_DEADLINE_MS     10000  //  longest wait for any reply or exit
#define S_BURST_REQUESTS  200    //  appends in flight at once in the burst
#define S_BURST_RECORDS   500    //  records per append in the burst
#define S_BURST_PARTITION 1000   //  first partition the burst writes
#define S_PORT_FIRST      20000  //  test ports: below the ephemeral range
#define S_PORT_LAST       32000

typedef struct {
    th_process_t *process;
    char endpoint [64];
    char log [128];  //  its output
} s_server_t;

//  Starts the server with the worker in the environment and the checkpoint flags.
static void
s_start (s_server_t *server, const char *data_dir, const char *checkpoint_every,
         const char *checkpoint_ms)
{
    //  A free loopback port below the kernel's ephemeral range (an ephemeral
    //  one could let the DEALER, connecting before the server listens, connect
    //  to itself).
    int port = th_free_port_between (S_PORT_FIRST, S_PORT_LAST);
    snprintf (server->endpoint, sizeof server->endpoint, "tcp://127.0.0.1:%d", port);
    char *argv [] = { TALLY_AUDIT_BIN,
                      "--insecure",
                      "--data-dir",
                      (char *) data_dir,
                      "--bind",
                      server->endpoint,
                      "--map-size",
                      "268435456",
                      "--checkpoint-every",
                      (char *) checkpoint_every,
                      "--checkpoint-ms",
                      (char *) checkpoint_ms,
                      NULL };
    server->process = th_process_new ("tally-audit", argv);
    snprintf (server->log, sizeof server->log, "%s/tally-audit.log", data_dir);
    th_process_set_log (server->process, server->log);
    th_process_start (server->process);
}

//  Waits for the process to end (with a deadline) and returns its exit code.
static int
s_wait_exit (s_server_t *server)
{
    int code = th_process_wait (server->process, S_DEADLINE_MS);
    assert (code != -1);
    th_process_destroy (&server->process);
    return code;
}

static int
s_stop (s_server_t *server)
{
    th_process_signal (server->process, SIGTERM);
    return s_wait_exit (server);
}

static zsock_t *
s_connect (const s_server_t *server)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    assert (dealer);
    zsock_set_maxmsgsize (dealer, TLY_FRAME_HARD_MAX);
    zsock_set_linger (dealer, 0);
    assert (zsock_connect (dealer, "%s", server->endpoint) == 0);
    return dealer;
}

//  One draft and what it points at, shaped like a buy: an envelope of one
//  buy, its PurchaseRecorded event and its result.
typedef struct {
    Tally__RecordDraft draft;
    Tally__SignedEnvelope request;
    uint8_t envelope [256];
    uint8_t signature [TLY_SIGNATURE_BYTES];
    uint8_t user [TLY_KEY_BYTES];
    uint8_t message_id [TLY_MESSAGE_ID_BYTES];
    Tally__Event event;
    Tally__Event *events [1];
    Tally__PurchaseRecorded purchase;
    Tally__MessageResult result;
    Tally__MessageResult *results [1];
    Tally__PurchaseRecord record;
} s_fixture_t;

#define S_ITEM   "sword-of-testing"
#define S_AMOUNT 25

//  The signed envelope's bytes (the writer does not check the signature):
//  from user, one message, a createAccount or a buy of S_ITEM.
static void
s_envelope (s_fixture_t *fixture, bool create, int64_t value)
{
    Tally__CreateAccount create_account = TALLY__CREATE_ACCOUNT__INIT;
    Tally__Buy buy = TALLY__BUY__INIT;
    Tally__InboxMessage message = TALLY__INBOX_MESSAGE__INIT;
    Tally__InboxMessage *messages [1] = { &message };
    message.message_id = (ProtobufCBinaryData) { sizeof fixture->message_id, fixture->message_id };
    if (create) {
        create_account.initial_balance = value;
        message.body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT;
        message.create_account = &create_account;
    } else {
        buy.item_id = S_ITEM;
        buy.amount = value;
        message.body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
        message.buy = &buy;
    }
    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.sender = (ProtobufCBinaryData) { sizeof fixture->user, fixture->user };
    envelope.inbox = (ProtobufCBinaryData) { sizeof fixture->user, fixture->user };
    envelope.timestamp_ms = fixture->draft.timestamp_ms;
    envelope.n_messages = 1;
    envelope.messages = messages;
    size_t size = tally__envelope__get_packed_size (&envelope);
    assert (size <= sizeof fixture->envelope);
    tally__envelope__pack (&envelope, fixture->envelope);
    fixture->request.envelope = (ProtobufCBinaryData) { size, fixture->envelope };
}

static Tally__RecordDraft *
s_draft (s_fixture_t *fixture, uint32_t partition, uint64_t partition_seq, uint64_t epoch)
{
    tally__record_draft__init (&fixture->draft);
    tally__signed_envelope__init (&fixture->request);
    memset (fixture->signature, 0x42, sizeof fixture->signature);
    fixture->request.signature = (ProtobufCBinaryData) { sizeof fixture->signature,
                                                         fixture->signature };
    fixture->draft.partition = partition;
    fixture->draft.partition_seq = partition_seq;
    fixture->draft.epoch = epoch;
    fixture->draft.timestamp_ms = tly_now_ms ();
    fixture->draft.request = &fixture->request;

    static char purchase_id [] = "co_zPurchase1111111111111111111111";
    static char user_id [] = "co_zUser11111111111111111111111111111111111111";
    static char item_id [] = S_ITEM;
    memset (fixture->user, 0x11, sizeof fixture->user);
    memset (fixture->message_id, (int) partition, sizeof fixture->message_id);
    memcpy (fixture->message_id, &partition_seq, sizeof partition_seq);
    s_envelope (fixture, false, S_AMOUNT);
    tally__purchase_recorded__init (&fixture->purchase);
    fixture->purchase.user = (ProtobufCBinaryData) { sizeof fixture->user, fixture->user };
    fixture->purchase.purchase_id = purchase_id;
    fixture->purchase.item_id = item_id;
    fixture->purchase.amount = S_AMOUNT;
    fixture->purchase.timestamp = fixture->draft.timestamp_ms;
    fixture->purchase.balance_after = 75;
    tally__event__init (&fixture->event);
    fixture->event.kind_case = TALLY__EVENT__KIND_PURCHASE_RECORDED;
    fixture->event.purchase_recorded = &fixture->purchase;
    fixture->events [0] = &fixture->event;
    fixture->draft.n_events = 1;
    fixture->draft.events = fixture->events;
    tally__purchase_record__init (&fixture->record);
    fixture->record.id = purchase_id;
    fixture->record.user_id = user_id;
    fixture->record.item_id = item_id;
    fixture->record.amount = S_AMOUNT;
    fixture->record.timestamp = fixture->draft.timestamp_ms;
    fixture->record.balance_after = 75;
    tally__message_result__init (&fixture->result);
    fixture->result.message_id = (ProtobufCBinaryData) { sizeof fixture->message_id,
                                                         fixture->message_id };
    fixture->result.outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE;
    fixture->result.purchase = &fixture->record;
    fixture->results [0] = &fixture->result;
    fixture->draft.n_results = 1;
    fixture->draft.results = fixture->results;
    return &fixture->draft;
}

static void
s_send_append (zsock_t *dealer, uint64_t request_id, Tally__RecordDraft **drafts, size_t count)
{
    Tally__AppendRequest append = TALLY__APPEND_REQUEST__INIT;
    append.request_id = request_id;
    append.n_records = count;
    append.records = drafts;
    Tally__AuditRequest request = TALLY__AUDIT_REQUEST__INIT;
    request.body_case = TALLY__AUDIT_REQUEST__BODY_APPEND;
    request.append = &append;
    assert (tly_wire_send (dealer, NULL, &request.base) == 0);
}

static void
s_send_read (zsock_t *dealer, uint64_t request_id, uint32_t partition, uint64_t epoch,
             uint64_t after, uint32_t max_records)
{
    Tally__ReadRequest read = TALLY__READ_REQUEST__INIT;
    read.request_id = request_id;
    read.partition = partition;
    read.epoch = epoch;
    read.after_partition_seq = after;
    read.max_records = max_records;
    Tally__AuditRequest request = TALLY__AUDIT_REQUEST__INIT;
    request.body_case = TALLY__AUDIT_REQUEST__BODY_READ;
    request.read = &read;
    assert (tly_wire_send (dealer, NULL, &request.base) == 0);
}

//  The next reply on dealer, within the deadline. The caller frees it.
static Tally__AuditReply *
s_recv (zsock_t *dealer)
{
    zpoller_t *poller = zpoller_new (dealer, NULL);
    void *which = zpoller_wait (poller, S_DEADLINE_MS);
    zpoller_destroy (&poller);
    assert (which == dealer);
    zframe_t *frame = zframe_recv (dealer);
    assert (frame);
    Tally__AuditReply *reply = tally__audit_reply__unpack (NULL, zframe_size (frame),
                                                           zframe_data (frame));
    zframe_destroy (&frame);
    assert (reply);
    return reply;
}

//  Appends one draft and returns its status (code in the return value).
static Tally__ErrorCode
s_append_one (zsock_t *dealer, uint64_t request_id, uint32_t partition, uint64_t partition_seq,
              uint64_t epoch, Tally__AppendStatus *status)
{
    s_fixture_t fixture;
    Tally__RecordDraft *draft = s_draft (&fixture, partition, partition_seq, epoch);
    s_send_append (dealer, request_id, &draft, 1);
    Tally__AuditReply *reply = s_recv (dealer);
    assert (reply->body_case == TALLY__AUDIT_REPLY__BODY_APPEND);
    assert (reply->append->request_id == request_id);
    assert (reply->append->n_statuses == 1);
    *status = *reply->append->statuses [0];
    tally__audit_reply__free_unpacked (reply, NULL);
    return status->code;
}

//  Checks a ReadReply's records: each hash recomputes from its body, records
//  adjacent in the journal link to each other, and the partition seqs run
//  after+1, after+2, ... Returns the number of records.
static size_t
s_check_records (const Tally__ReadReply *read, uint32_t partition, uint64_t after)
{
    uint8_t prev_hash [TLY_HASH_BYTES];
    uint64_t prev_seq = 0;
    for (size_t i = 0; i < read->n_records; i++) {
        const Tally__StoredRecord *stored = read->records [i];
        uint8_t hash [TLY_HASH_BYTES];
        tly_record_hash (stored->body.data, stored->body.len, hash);
        assert (stored->hash.len == TLY_HASH_BYTES);
        assert (memcmp (hash, stored->hash.data, TLY_HASH_BYTES) == 0);
        Tally__RecordBody *body = tally__record_body__unpack (NULL, stored->body.len,
                                                              stored->body.data);
        assert (body && body->draft);
        assert (body->draft->partition == partition);
        assert (body->draft->partition_seq == after + 1 + i);
        assert (body->prev_hash.len == TLY_HASH_BYTES);
        assert (body->seq > prev_seq);
        if (i > 0 && body->seq == prev_seq + 1)
            assert (memcmp (body->prev_hash.data, prev_hash, TLY_HASH_BYTES) == 0);
        memcpy (prev_hash, hash, TLY_HASH_BYTES);
        prev_seq = body->seq;
        tally__record_body__free_unpacked (body, NULL);
    }
    return read->n_records;
}

static Tally__AuditReply *
s_read (zsock_t *dealer, uint64_t request_id, uint32_t partition, uint64_t epoch, uint64_t after,
        uint32_t max_records)
{
    s_send_read (dealer, request_id, partition, epoch, after, max_records);
    Tally__AuditReply *reply = s_recv (dealer);
    assert (reply->body_case == TALLY__AUDIT_REPLY__BODY_READ);
    assert (reply->read->request_id == request_id);
    return reply;
}

//  Many requests from two peers in flight at once: all acknowledged, each
//  to its own sender, with global seqs that are unique and contiguous.
static void
s_test_burst (const s_server_t *server, uint64_t first_seq, bool verbose)
{
    zsock_t *peers [2] = { s_connect (server), s_connect (server) };
    s_fixture_t *fixtures = calloc (S_BURST_RECORDS, sizeof (s_fixture_t));
    Tally__RecordDraft **drafts = calloc (S_BURST_RECORDS, sizeof (Tally__RecordDraft *));
    uint8_t *seen = calloc (S_BURST_REQUESTS * S_BURST_RECORDS, 1);
    assert (fixtures && drafts && seen);
    int64_t start = tly_mono_ms ();
    for (uint32_t r = 0; r < S_BURST_REQUESTS; r++) {
        //  Each request owns one partition, so any commit order is valid.
        for (uint32_t i = 0; i < S_BURST_RECORDS; i++)
            drafts [i] = s_draft (&fixtures [i], S_BURST_PARTITION + r, 1 + i, 1);
        s_send_append (peers [r % 2], 1000 + r, drafts, S_BURST_RECORDS);
    }
    for (uint32_t r = 0; r < S_BURST_REQUESTS; r++) {
        Tally__AuditReply *reply = s_recv (peers [r % 2]);
        assert (reply->body_case == TALLY__AUDIT_REPLY__BODY_APPEND);
        //  One peer's replies come back in the order it sent its requests.
        assert (reply->append->request_id == 1000 + r);
        assert (reply->append->n_statuses == S_BURST_RECORDS);
        for (size_t i = 0; i < S_BURST_RECORDS; i++) {
            const Tally__AppendStatus *status = reply->append->statuses [i];
            assert (status->code == TALLY__ERROR_CODE__OK);
            assert (status->seq >= first_seq);
            uint64_t slot = status->seq - first_seq;
            assert (slot < S_BURST_REQUESTS * S_BURST_RECORDS && !seen [slot]);
            seen [slot] = 1;
            if (i > 0)
                assert (status->seq == reply->append->statuses [i - 1]->seq + 1);
        }
        tally__audit_reply__free_unpacked (reply, NULL);
    }
    int64_t elapsed = tly_mono_ms () - start;
    if (verbose)
        printf ("(burst: %d records in %" PRId64 " ms, %.0f records/s) ",
                S_BURST_REQUESTS * S_BURST_RECORDS, elapsed,
                S_BURST_REQUESTS * S_BURST_RECORDS * 1000.0 / (double) (elapsed ? elapsed : 1));
    free (fixtures);
    free (drafts);
    free (seen);
    zsock_destroy (&peers [0]);
    zsock_destroy (&peers [1]);
}

//  How many lines of the server's log hold text.
static int
s_logged (const s_server_t *server, const char *text)
{
    FILE *log = fopen (server->log, "r");
    assert (log);
    char line [2048];
    int count = 0;
    while (fgets (line, sizeof line, log))
        count += strstr (line, text) != NULL;
    fclose (log);
    return count;
}

#define S_REFUSED_PARTITION 7

//  Drafts whose events do not follow from their envelope are refused
//  BAD_REQUEST and logged, nothing of them written; the partition's next
//  draft is taken at the same partition seq.
static void
s_test_refused (const s_server_t *server)
{
    zsock_t *dealer = s_connect (server);
    uint32_t partition = S_REFUSED_PARTITION;
    //  The attack: a signed createAccount(0), its event and answer
    //  saying 1,000,000,000.
    s_fixture_t forged;
    Tally__RecordDraft *draft = s_draft (&forged, partition, 1, 1);
    s_envelope (&forged, true, 0);
    Tally__AccountCreated created = TALLY__ACCOUNT_CREATED__INIT;
    created.user = forged.purchase.user;
    created.balance_id = "co_zBalance11111111111111111111111";
    created.initial_balance = 1000000000;
    created.timestamp = draft->timestamp_ms;
    forged.event.kind_case = TALLY__EVENT__KIND_ACCOUNT_CREATED;
    forged.event.account_created = &created;
    Tally__UserBalance balance = TALLY__USER_BALANCE__INIT;
    balance.balance = 1000000000;
    forged.result.outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_BALANCE;
    forged.result.balance = &balance;
    //  A buy of 25 whose event and answer take 1.
    s_fixture_t cheap;
    Tally__RecordDraft *drafts [3] = { draft, s_draft (&cheap, partition + 1, 1, 1), NULL };
    cheap.purchase.amount = 1;
    cheap.record.amount = 1;
    //  And an honest one beside them.
    s_fixture_t honest;
    drafts [2] = s_draft (&honest, partition + 2, 1, 1);
    s_send_append (dealer, 40, drafts, 3);
    Tally__AuditReply *reply = s_recv (dealer);
    assert (reply->append->request_id == 40 && reply->append->n_statuses == 3);
    assert (reply->append->statuses [0]->code == TALLY__ERROR_CODE__BAD_REQUEST);
    assert (reply->append->statuses [1]->code == TALLY__ERROR_CODE__BAD_REQUEST);
    assert (reply->append->statuses [2]->code == TALLY__ERROR_CODE__OK);
    tally__audit_reply__free_unpacked (reply, NULL);
    assert (s_logged (server, "event=append.does_not_follow partition=7 partition_seq=1") == 1);
    assert (s_logged (server, "AccountCreated follows from no createAccount") == 1);
    assert (s_logged (server, "event=append.does_not_follow partition=8 partition_seq=1") == 1);
    assert (s_logged (server, "PurchaseRecorded follows from no buy") == 1);

    //  Nothing was written for them: their partitions take seq 1 again.
    Tally__AppendStatus status;
    assert (s_append_one (dealer, 41, partition, 1, 1, &status) == TALLY__ERROR_CODE__OK);
    assert (s_append_one (dealer, 42, partition + 1, 1, 1, &status) == TALLY__ERROR_CODE__OK);
    zsock_destroy (&dealer);
}

static void
s_test_first_run (const s_server_t *server, bool verbose)
{
    zsock_t *dealer = s_connect (server);
    Tally__AppendStatus status;

    //  One request, three records: acknowledged in order.
    s_fixture_t fixtures [3];
    Tally__RecordDraft *drafts [3] = { s_draft (&fixtures [0], 1, 1, 1),
                                       s_draft (&fixtures [1], 1, 2, 1),
                                       s_draft (&fixtures [2], 1, 3, 1) };
    s_send_append (dealer, 7, drafts, 3);
    Tally__AuditReply *reply = s_recv (dealer);
    assert (reply->body_case == TALLY__AUDIT_REPLY__BODY_APPEND);
    assert (reply->append->request_id == 7 && reply->append->n_statuses == 3);
    for (size_t i = 0; i < 3; i++) {
        assert (reply->append->statuses [i]->code == TALLY__ERROR_CODE__OK);
        assert (reply->append->statuses [i]->seq == i + 1);
    }
    tally__audit_reply__free_unpacked (reply, NULL);

    //  Garbage, a wrong frame count and an empty AuditRequest are dropped; the
    //  server keeps serving.
    zframe_t *garbage = zframe_new ("\xff\xff\xff", 3);
    assert (zframe_send (&garbage, dealer, 0) == 0);
    assert (zstr_sendm (dealer, "two") == 0 && zstr_send (dealer, "frames") == 0);
    Tally__AuditRequest empty = TALLY__AUDIT_REQUEST__INIT;
    assert (tly_wire_send (dealer, NULL, &empty.base) == 0);
    assert (s_append_one (dealer, 8, 1, 5, 1, &status) == TALLY__ERROR_CODE__SEQUENCE_GAP);
    assert (status.expected_partition_seq == 4);
    assert (s_append_one (dealer, 9, TLY_PARTITIONS_MAX, 1, 1, &status)
            == TALLY__ERROR_CODE__BAD_REQUEST);
    assert (s_append_one (dealer, 10, 1, 4, 0, &status) == TALLY__ERROR_CODE__BAD_REQUEST);
    s_send_append (dealer, 11, NULL, 0);
    reply = s_recv (dealer);
    assert (reply->append->request_id == 11 && reply->append->n_statuses == 0);
    tally__audit_reply__free_unpacked (reply, NULL);

    //  A claiming read returns everything and fences the older epoch.
    reply = s_read (dealer, 12, 1, 2, 0, 0);
    assert (reply->read->error == NULL && reply->read->end);
    assert (s_check_records (reply->read, 1, 0) == 3);
    tally__audit_reply__free_unpacked (reply, NULL);
    assert (s_append_one (dealer, 13, 1, 4, 1, &status) == TALLY__ERROR_CODE__STALE_EPOCH);
    assert (s_append_one (dealer, 14, 1, 4, 2, &status) == TALLY__ERROR_CODE__OK);
    assert (status.seq == 4);
    reply = s_read (dealer, 15, 1, 1, 0, 10);
    assert (reply->read->error && reply->read->error->code == TALLY__ERROR_CODE__STALE_EPOCH);
    assert (reply->read->n_records == 0);
    tally__audit_reply__free_unpacked (reply, NULL);
    reply = s_read (dealer, 16, 1, 0, 1, 2);
    assert (reply->read->error == NULL && !reply->read->end);
    assert (s_check_records (reply->read, 1, 1) == 2);
    tally__audit_reply__free_unpacked (reply, NULL);
    reply = s_read (dealer, 17, TLY_PARTITIONS_MAX, 0, 0, 2);
    assert (reply->read->error && reply->read->error->code == TALLY__ERROR_CODE__BAD_REQUEST);
    tally__audit_reply__free_unpacked (reply, NULL);

    s_test_burst (server, 5, verbose);
    zsock_destroy (&dealer);
}

static void
s_test_second_run (const s_server_t *server)
{
    zsock_t *dealer = s_connect (server);
    Tally__AuditReply *reply = s_read (dealer, 20, 1, 0, 0, 0);
    assert (reply->read->error == NULL && reply->read->end);
    assert (s_check_records (reply->read, 1, 0) == 4);
    tally__audit_reply__free_unpacked (reply, NULL);
    //  The fence and the sequences survived the restart.
    Tally__AppendStatus status;
    assert (s_append_one (dealer, 21, 1, 5, 1, &status) == TALLY__ERROR_CODE__STALE_EPOCH);
    assert (s_append_one (dealer, 22, 1, 6, 2, &status) == TALLY__ERROR_CODE__SEQUENCE_GAP);
    assert (status.expected_partition_seq == 5);
    assert (s_append_one (dealer, 23, 1, 5, 2, &status) == TALLY__ERROR_CODE__OK);
    assert (status.seq == 5 + S_BURST_REQUESTS * S_BURST_RECORDS);
    reply = s_read (dealer, 24, S_BURST_PARTITION, 3, 0, TLY_READ_RECORDS_MAX);
    assert (reply->read->error == NULL && reply->read->end);
    assert (s_check_records (reply->read, S_BURST_PARTITION, 0) == S_BURST_RECORDS);
    tally__audit_reply__free_unpacked (reply, NULL);
    zsock_destroy (&dealer);
}

//  Runs the binary with args (args [0] is its name) and returns its exit
//  code; the first line it wrote to stderr goes to first_error when that is
//  not NULL.
static int
s_run (char *const args [], char *first_error, size_t size)
{
    char *argv [18] = { TALLY_AUDIT_BIN, "--insecure" };
    size_t count = 1;
    while (args [count]) {
        assert (count + 2 < sizeof argv / sizeof argv [0]);
        argv [count + 1] = args [count];
        count++;
    }
    char *errors = NULL;
    int code = th_run (argv, NULL, first_error ? TH_OUTPUT_CAPTURE_STDERR : TH_OUTPUT_INHERIT,
                       first_error ? &errors : NULL, S_DEADLINE_MS);
    if (first_error) {
        snprintf (first_error, size, "%.*s", (int) strcspn (errors, "\n"), errors);
        free (errors);
    }
    return code;
}

//  Without worker credentials the writer refuses to start, naming the variable.
static void
s_test_no_worker (char *data_dir)
{
    char line [512] = "";
    char *saved = strdup (getenv ("TALLY_WORKER_ACCOUNT"));
    unsetenv ("TALLY_WORKER_ACCOUNT");
    char *args [] = { "tally-audit", "--data-dir", data_dir, NULL };
    assert (s_run (args, line, sizeof line) == 2);
    assert (strstr (line, "TALLY_WORKER_ACCOUNT"));
    setenv ("TALLY_WORKER_ACCOUNT", saved, 1);
    free (saved);
    char *bad_secret [] = { "tally-audit", "--data-dir", data_dir, "--worker-secret", "x", NULL };
    assert (s_run (bad_secret, line, sizeof line) == 2);
    assert (strstr (line, "TALLY_WORKER_SECRET"));
}

//  Checks every checkpoint: signed by the worker, naming its own seq, and
//  collects the seqs.
typedef struct {
    const uint8_t *worker;
    uint64_t *seqs;
    size_t count;
    size_t capacity;
} s_checkpoints_t;

static tly_journal_step_t
s_take_checkpoint (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    s_checkpoints_t *checkpoints = arg;
    tly_journal_checkpoint_t checkpoint;
    assert (tly_journal_checkpoint_decode (bytes, size, checkpoints->worker, &checkpoint) == 0);
    assert (checkpoint.signed_by_worker && checkpoint.seq == seq);
    assert (checkpoints->count < checkpoints->capacity);
    checkpoints->seqs [checkpoints->count++] = seq;
    return TLY_JOURNAL_NEXT;
}

static size_t
s_read_checkpoints (tly_journal_t *reader, const uint8_t *worker, uint64_t *seqs, size_t capacity)
{
    s_checkpoints_t checkpoints = { .worker = worker, .seqs = seqs, .capacity = capacity };
    assert (tly_journal_each_checkpoint (reader, s_take_checkpoint, &checkpoints) == 0);
    return checkpoints.count;
}

//  After the first run (every 100 records, no timer): one checkpoint per 100
//  records and one at the head, left by the clean stop.
static void
s_test_count_checkpoints (const char *journal_path, const uint8_t *worker)
{
    size_t capacity = 2 + S_BURST_REQUESTS * S_BURST_RECORDS / 100;
    uint64_t *seqs = calloc (capacity, sizeof (uint64_t));
    assert (seqs);
    tly_journal_t *reader = tly_journal_new_reader (journal_path);
    assert (reader);
    tly_journal_head_t head;
    tly_journal_head (reader, &head);
    assert (head.seq == 4 + S_BURST_REQUESTS * S_BURST_RECORDS);
    size_t count = s_read_checkpoints (reader, worker, seqs, capacity);
    assert (count == head.seq / 100 + 1);
    for (size_t i = 0; i + 1 < count; i++)
        assert (seqs [i] == 100 * (i + 1));
    assert (seqs [count - 1] == head.seq);
    tly_journal_destroy (&reader);
    free (seqs);
}

//  With a live writer on a 200 ms timer: a new record gets signed without
//  another append, and a reader beside the writer sees it after a refresh.
static void
s_test_timer_checkpoint (const s_server_t *server, const char *journal_path, const uint8_t *worker)
{
    tly_journal_t *reader = tly_journal_new_reader (journal_path);
    assert (reader);
    size_t capacity = 4 + S_BURST_REQUESTS * S_BURST_RECORDS / 100;
    uint64_t *seqs = calloc (capacity, sizeof (uint64_t));
    assert (seqs);
    size_t before = s_read_checkpoints (reader, worker, seqs, capacity);
    zsock_t *dealer = s_connect (server);
    Tally__AppendStatus status;
    assert (s_append_one (dealer, 30, 2, 1, 1, &status) == TALLY__ERROR_CODE__OK);
    //  The snapshot does not move until refreshed.
    tly_journal_head_t head;
    tly_journal_head (reader, &head);
    assert (head.seq == status.seq - 1);
    int64_t deadline = tly_mono_ms () + S_DEADLINE_MS;
    //  The record before it (from the second run) may be signed first.
    size_t count = before;
    while (count == 0 || seqs [count - 1] != status.seq) {
        assert (tly_mono_ms () < deadline);
        zclock_sleep (20);
        assert (tly_journal_refresh (reader) == 0);
        count = s_read_checkpoints (reader, worker, seqs, capacity);
    }
    assert (count == before + 1 || count == before + 2);
    tly_journal_head (reader, &head);
    assert (head.seq == status.seq);
    free (seqs);
    zsock_destroy (&dealer);
    tly_journal_destroy (&reader);
}

int
main (int argc, char *argv [])
{
    bool verbose = argc > 1 && strcmp (argv [1], "-v") == 0;
    if (verbose)
        printf (" * tally-audit process: ");
    fflush (stdout);
    zsys_init ();
    assert (sodium_init () >= 0);
    char data_dir [64];
    th_dir_new (data_dir, sizeof data_dir, "tally_audit_test");

    tly_account_t worker;
    assert (tly_account_generate (&worker) == 0);
    char worker_id [TLY_ID_MAX], worker_secret [TLY_SECRET_MAX];
    tly_account_id (worker.sign_pk, worker_id);
    tly_account_secret (&worker, worker_secret);
    setenv ("TALLY_WORKER_ACCOUNT", worker_id, 1);
    setenv ("TALLY_WORKER_SECRET", worker_secret, 1);
    char journal_path [sizeof data_dir + 16];
    snprintf (journal_path, sizeof journal_path, "%s/journal", data_dir);

    char *no_dir [] = { "tally-audit", NULL };
    assert (s_run (no_dir, NULL, 0) == 2);
    char *help [] = { "tally-audit", "--help", NULL };
    assert (s_run (help, NULL, 0) == 0);
    char *bad_map [] = { "tally-audit", "--data-dir", data_dir, "--map-size", "12x", NULL };
    assert (s_run (bad_map, NULL, 0) == 2);
    //  A maximum below the first size is refused, naming both; one below the
    //  smallest map too.
    char *low_max [] = { "tally-audit", "--data-dir", data_dir,  "--map-size",
                         "4194304",     "--map-max",  "2097152", NULL };
    char line [512] = "";
    assert (s_run (low_max, line, sizeof line) == 2);
    assert (strstr (line, "--map-max 2097152 is below --map-size 4194304"));
    char *tiny_max [] = { "tally-audit", "--data-dir", data_dir, "--map-max", "4096", NULL };
    assert (s_run (tiny_max, NULL, 0) == 2);
    char *bad_every [] = { "tally-audit", "--data-dir", data_dir, "--checkpoint-every", "0", NULL };
    assert (s_run (bad_every, NULL, 0) == 2);
    //  Segments below the smallest size are refused, naming the flag.
    char *tiny_segment [] = {
        "tally-audit", "--data-dir", data_dir, "--segment-bytes", "4096", NULL
    };
    line [0] = 0;
    assert (s_run (tiny_segment, line, sizeof line) == 2);
    assert (strstr (line, "--segment-bytes"));
    char *bad_records [] = {
        "tally-audit", "--data-dir", data_dir, "--segment-records", "-1", NULL
    };
    assert (s_run (bad_records, NULL, 0) == 2);
    //  Retention: an unknown policy, an archive folder without archive, and
    //  a check interval of 0 are refused, naming what is wrong.
    char *bad_retain [] = { "tally-audit", "--data-dir", data_dir, "--retain", "some", NULL };
    line [0] = 0;
    assert (s_run (bad_retain, line, sizeof line) == 2);
    assert (strstr (line, "--retain must be keep, archive or delete, got 'some'"));
    char *lone_archive [] = { "tally-audit", "--data-dir",    data_dir, "--retain",
                              "delete",      "--archive-dir", "/tmp",   NULL };
    line [0] = 0;
    assert (s_run (lone_archive, line, sizeof line) == 2);
    assert (strstr (line, "--archive-dir needs --retain archive"));
    char *no_interval [] = {
        "tally-audit", "--data-dir", data_dir, "--retain-check-ms", "0", NULL
    };
    assert (s_run (no_interval, NULL, 0) == 2);
    s_test_no_worker (data_dir);

    s_server_t server;
    s_start (&server, data_dir, "100", "3600000");
    s_test_first_run (&server, verbose);
    assert (s_stop (&server) == 0);
    s_test_count_checkpoints (journal_path, worker.sign_pk);

    s_start (&server, data_dir, "1000000", "200");
    s_test_second_run (&server);
    //  One writer per journal: a second process on the same directory refuses to start.
    char *second [] = {
        "tally-audit", "--data-dir", data_dir, "--bind", "tcp://127.0.0.1:*", NULL
    };
    assert (s_run (second, NULL, 0) == 2);
    s_test_timer_checkpoint (&server, journal_path, worker.sign_pk);
    s_test_refused (&server);
    assert (s_stop (&server) == 0);

    th_dir_remove (data_dir);
    if (verbose)
        printf ("OK\n");
    return 0;
}
