//  balance_process_test - the real tally-balance binary between a fake router
//  and a fake audit writer (both ROUTER sockets on free loopback ports).
//
//  Checks: hello; catch-up reads on assignment; answers only after the
//  journal ack; insufficient balance; resends answered from dedupe with no
//  second debit; NOT_OWNER for an unowned partition; STALE_EPOCH fences the
//  actor out; a lost ack is recovered by catch-up without a double debit;
//  state and dedupe survive a restart; snapshot requests are refused (the
//  read path is not served yet); SIGTERM exits 0.
#include <assert.h>
#include <czmq.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tally.pb-c.h"
#include "tly_id.h"
#include "tly_limits.h"
#include "tly_sign.h"
#include "tly_wire.h"

#define S_PARTITIONS     4
#define S_EPOCH          5
#define S_HEARTBEAT_MS   100
#define S_TIMEOUT_MS     1500     //  the actor's --audit-timeout-ms
#define S_DEADLINE_MS    10000    //  anything expected must happen within this
#define S_QUIET_MS       300      //  how long "nothing arrives" is watched
#define S_RECORDS_MAX    64

typedef struct {
    uint32_t partition;
    uint64_t partition_seq;
    Tally__StoredRecord *stored;        //  as the writer would serve it
} s_record_t;

typedef struct {
    pid_t pid;
    char data_dir [64];
    char router_endpoint [64];
    char audit_endpoint [64];
    char worker_id [TLY_ID_MAX];
    char worker_secret [TLY_SECRET_MAX];
    tly_account_t worker;
    zsock_t *router;
    zsock_t *audit;
    zframe_t *actor_at_router;          //  the actor's identity on each socket
    zframe_t *actor_at_audit;
    zlist_t *replies;                   //  Tally__RouteReply * not yet checked
    zlist_t *appends;                   //  Tally__AuditRequest * not yet answered
    size_t hellos;
    size_t snapshot_refusals;
    size_t reads;
    uint64_t read_after [S_PARTITIONS];     //  last ReadRequest per partition
    uint64_t read_epoch [S_PARTITIONS];
    s_record_t records [S_RECORDS_MAX]; //  the fake journal
    size_t n_records;
    uint8_t head [TLY_HASH_BYTES];
    zhashx_t *purchases;                //  every purchase ID the journal took
} s_test_t;

//  ---------------------------------------------------------------- the actor process

static void
s_start (s_test_t *test)
{
    char partitions [16], heartbeat [16], timeout [16];
    snprintf (partitions, sizeof partitions, "%d", S_PARTITIONS);
    snprintf (heartbeat, sizeof heartbeat, "%d", S_HEARTBEAT_MS);
    snprintf (timeout, sizeof timeout, "%d", S_TIMEOUT_MS);
    test->pid = fork ();
    assert (test->pid >= 0);
    if (test->pid == 0) {
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        execl (TALLY_BALANCE_BIN, "tally-balance", "--data-dir", test->data_dir,
               "--name", "balance-test", "--router", test->router_endpoint,
               "--audit", test->audit_endpoint, "--partitions", partitions,
               "--heartbeat-ms", heartbeat, "--audit-timeout-ms", timeout,
               "--worker", test->worker_id, "--worker-secret", test->worker_secret,
               "--log-level", "debug", (char *) NULL);
        perror ("execl " TALLY_BALANCE_BIN);
        _exit (127);
    }
}

//  SIGTERM, then the exit status within the deadline (SIGCHLD is blocked).
static int
s_stop (s_test_t *test)
{
    assert (kill (test->pid, SIGTERM) == 0);
    sigset_t child;
    sigemptyset (&child);
    sigaddset (&child, SIGCHLD);
    struct timespec deadline = { S_DEADLINE_MS / 1000, 0 };
    int status = 0;
    while (waitpid (test->pid, &status, WNOHANG) == 0)
        assert (sigtimedwait (&child, NULL, &deadline) == SIGCHLD);
    test->pid = 0;
    zframe_destroy (&test->actor_at_router);
    zframe_destroy (&test->actor_at_audit);
    return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

//  ---------------------------------------------------------------- the fake audit writer

static void
s_send_audit (s_test_t *test, Tally__AuditReply *reply)
{
    assert (test->actor_at_audit);
    assert (tly_wire_send (test->audit, test->actor_at_audit, &reply->base) == 0);
}

//  Takes each draft unless told otherwise, like the writer: contiguous
//  partition_seq, hash-chained records.
static void
s_answer_append (s_test_t *test, Tally__AuditRequest *request, Tally__ErrorCode forced, bool send)
{
    Tally__AppendRequest *append = request->append;
    Tally__AppendStatus statuses [TLY_ACTOR_BATCH_MAX];
    Tally__AppendStatus *pointers [TLY_ACTOR_BATCH_MAX];
    assert (append->n_records <= TLY_ACTOR_BATCH_MAX);
    for (size_t i = 0; i < append->n_records; i++) {
        Tally__RecordDraft *draft = append->records [i];
        tally__append_status__init (&statuses [i]);
        pointers [i] = &statuses [i];
        if (forced != TALLY__ERROR_CODE__OK) {
            statuses [i].code = forced;
            continue;
        }
        uint64_t last = 0;
        for (size_t r = 0; r < test->n_records; r++)
            if (test->records [r].partition == draft->partition)
                last = test->records [r].partition_seq;
        if (draft->partition_seq != last + 1) {
            statuses [i].code = TALLY__ERROR_CODE__SEQUENCE_GAP;
            statuses [i].expected_partition_seq = last + 1;
            continue;
        }
        for (size_t e = 0; e < draft->n_events; e++)
            if (draft->events [e]->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED) {
                //  No purchase may ever be journaled twice.
                const char *id = draft->events [e]->purchase_recorded->purchase_id;
                assert (zhashx_insert (test->purchases, id, (void *) id) == 0);
            }
        assert (test->n_records < S_RECORDS_MAX);
        Tally__RecordBody body = TALLY__RECORD_BODY__INIT;
        body.seq = test->n_records + 1;
        body.prev_hash.len = TLY_HASH_BYTES;
        body.prev_hash.data = test->head;
        body.draft = draft;
        Tally__StoredRecord *stored = malloc (sizeof *stored);
        tally__stored_record__init (stored);
        stored->body.len = tally__record_body__get_packed_size (&body);
        stored->body.data = malloc (stored->body.len);
        tally__record_body__pack (&body, stored->body.data);
        stored->hash.len = TLY_HASH_BYTES;
        stored->hash.data = malloc (TLY_HASH_BYTES);
        tly_record_hash (stored->body.data, stored->body.len, stored->hash.data);
        memcpy (test->head, stored->hash.data, TLY_HASH_BYTES);
        test->records [test->n_records++] = (s_record_t) {
            draft->partition, draft->partition_seq, stored };
        statuses [i].seq = test->n_records;
    }
    if (!send)
        return;                 //  the ack is lost
    Tally__AppendReply reply = TALLY__APPEND_REPLY__INIT;
    reply.request_id = append->request_id;
    reply.n_statuses = append->n_records;
    reply.statuses = pointers;
    Tally__AuditReply answer = TALLY__AUDIT_REPLY__INIT;
    answer.body_case = TALLY__AUDIT_REPLY__BODY_APPEND;
    answer.append = &reply;
    s_send_audit (test, &answer);
}

static void
s_answer_read (s_test_t *test, const Tally__ReadRequest *read)
{
    assert (read->partition < S_PARTITIONS);
    assert (read->epoch > 0 && read->max_records == TLY_READ_RECORDS_MAX);
    test->reads++;
    test->read_after [read->partition] = read->after_partition_seq;
    test->read_epoch [read->partition] = read->epoch;
    Tally__StoredRecord *records [S_RECORDS_MAX];
    Tally__ReadReply reply = TALLY__READ_REPLY__INIT;
    reply.request_id = read->request_id;
    reply.records = records;
    for (size_t r = 0; r < test->n_records; r++)
        if (test->records [r].partition == read->partition
        &&  test->records [r].partition_seq > read->after_partition_seq)
            records [reply.n_records++] = test->records [r].stored;
    reply.end = true;
    Tally__AuditReply answer = TALLY__AUDIT_REPLY__INIT;
    answer.body_case = TALLY__AUDIT_REPLY__BODY_READ;
    answer.read = &reply;
    s_send_audit (test, &answer);
}

//  ---------------------------------------------------------------- the pump

typedef enum { S_WANT_NOTHING, S_WANT_REPLY, S_WANT_APPEND, S_WANT_ANY } s_want_t;

static bool
s_satisfied (s_test_t *test, s_want_t want)
{
    bool reply = zlist_size (test->replies) > 0;
    bool append = zlist_size (test->appends) > 0;
    return (want == S_WANT_REPLY && reply) || (want == S_WANT_APPEND && append)
        || (want == S_WANT_ANY && (reply || append));
}

//  Receives from both sockets until wait_ms passed or want is there: hellos
//  are counted, reads answered from the fake journal, replies and appends queued.
static void
s_pump (s_test_t *test, s_want_t want, int64_t wait_ms)
{
    int64_t deadline = zclock_mono () + wait_ms;
    zpoller_t *poller = zpoller_new (test->router, test->audit, NULL);
    while (!s_satisfied (test, want)) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            break;
        zsock_t *which = zpoller_wait (poller, (int) left);
        if (!which)
            continue;
        zframe_t *identity = zframe_recv (which);
        zframe_t *frame = zframe_recv (which);
        assert (identity && frame);
        if (which == test->router) {
            zframe_destroy (&test->actor_at_router);
            test->actor_at_router = identity;
            Tally__ActorToRouter *message = tally__actor_to_router__unpack (
                NULL, zframe_size (frame), zframe_data (frame));
            assert (message);
            if (message->body_case == TALLY__ACTOR_TO_ROUTER__BODY_HELLO) {
                assert (strcmp (message->hello->name, "balance-test") == 0);
                assert (message->hello->partition_count == S_PARTITIONS);
                test->hellos++;
                tally__actor_to_router__free_unpacked (message, NULL);
            }
            else
            if (message->body_case == TALLY__ACTOR_TO_ROUTER__BODY_SNAPSHOT) {
                assert (message->snapshot->snapshot_id == 99 && message->snapshot->error);
                assert (message->snapshot->error->code == TALLY__ERROR_CODE__UNAVAILABLE);
                test->snapshot_refusals++;
                tally__actor_to_router__free_unpacked (message, NULL);
            }
            else {
                assert (message->body_case == TALLY__ACTOR_TO_ROUTER__BODY_REPLY);
                zlist_append (test->replies, message->reply);
                message->reply = NULL;
                message->body_case = TALLY__ACTOR_TO_ROUTER__BODY__NOT_SET;
                tally__actor_to_router__free_unpacked (message, NULL);
            }
        }
        else {
            zframe_destroy (&test->actor_at_audit);
            test->actor_at_audit = identity;
            Tally__AuditRequest *request = tally__audit_request__unpack (
                NULL, zframe_size (frame), zframe_data (frame));
            assert (request);
            if (request->body_case == TALLY__AUDIT_REQUEST__BODY_READ) {
                s_answer_read (test, request->read);
                tally__audit_request__free_unpacked (request, NULL);
            }
            else {
                assert (request->body_case == TALLY__AUDIT_REQUEST__BODY_APPEND);
                zlist_append (test->appends, request);
            }
        }
        zframe_destroy (&frame);
    }
    zpoller_destroy (&poller);
}

static Tally__RouteReply *
s_next_reply (s_test_t *test)
{
    s_pump (test, S_WANT_REPLY, S_DEADLINE_MS);
    Tally__RouteReply *reply = zlist_pop (test->replies);
    assert (reply);
    return reply;
}

static Tally__AuditRequest *
s_next_append (s_test_t *test)
{
    s_pump (test, S_WANT_APPEND, S_DEADLINE_MS);
    Tally__AuditRequest *request = zlist_pop (test->appends);
    assert (request);
    return request;
}

//  Watches for S_QUIET_MS: no answer may reach the router meanwhile.
static void
s_expect_no_reply (s_test_t *test)
{
    s_pump (test, S_WANT_REPLY, S_QUIET_MS);
    assert (zlist_size (test->replies) == 0);
}

static Tally__ErrorCode
s_code (const Tally__RouteReply *reply)
{
    return reply->error ? reply->error->code : TALLY__ERROR_CODE__OK;
}

//  ---------------------------------------------------------------- the client side

typedef struct {
    tly_account_t account;
    uint32_t partition;
    uint8_t next_id;
} s_user_t;

static void
s_user_in (s_user_t *user, uint32_t partition)
{
    do {
        memset (user, 0, sizeof *user);
        assert (tly_account_generate (&user->account) == 0);
        user->partition = tly_partition_of (user->account.sign_pk, S_PARTITIONS);
    } while (user->partition != partition);
}

//  One signed envelope of user: a createAccount when initial >= 0, then a
//  buy of item for amount when item is not NULL.
static Tally__SignedEnvelope *
s_envelope (s_test_t *test, s_user_t *user, int64_t initial, const char *item, int64_t amount)
{
    Tally__InboxMessage messages [2], *pointers [2];
    Tally__CreateAccount create = TALLY__CREATE_ACCOUNT__INIT;
    Tally__Buy buy = TALLY__BUY__INIT;
    uint8_t ids [2][TLY_MESSAGE_ID_BYTES];
    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.sender.len = TLY_KEY_BYTES;
    envelope.sender.data = user->account.sign_pk;
    envelope.inbox.len = TLY_KEY_BYTES;
    envelope.inbox.data = test->worker.sign_pk;
    envelope.timestamp_ms = tly_now_ms ();
    envelope.messages = pointers;
    for (size_t i = 0; i < 2; i++) {
        randombytes_buf (ids [i], sizeof ids [i]);
        tally__inbox_message__init (&messages [i]);
        messages [i].message_id.len = TLY_MESSAGE_ID_BYTES;
        messages [i].message_id.data = ids [i];
        pointers [i] = &messages [i];
    }
    if (initial >= 0) {
        create.initial_balance = initial;
        messages [envelope.n_messages].body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT;
        messages [envelope.n_messages++].create_account = &create;
    }
    if (item) {
        buy.item_id = (char *) item;
        buy.amount = amount;
        messages [envelope.n_messages].body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
        messages [envelope.n_messages++].buy = &buy;
    }
    Tally__SignedEnvelope *signed_envelope = malloc (sizeof *signed_envelope);
    tally__signed_envelope__init (signed_envelope);
    signed_envelope->envelope.len = tally__envelope__get_packed_size (&envelope);
    signed_envelope->envelope.data = malloc (signed_envelope->envelope.len);
    tally__envelope__pack (&envelope, signed_envelope->envelope.data);
    signed_envelope->signature.len = TLY_SIGNATURE_BYTES;
    signed_envelope->signature.data = malloc (TLY_SIGNATURE_BYTES);
    tly_sign_envelope (user->account.sign_sk, signed_envelope->envelope.data,
                       signed_envelope->envelope.len, signed_envelope->signature.data);
    return signed_envelope;
}

static void
s_route (s_test_t *test, uint64_t route_id, uint32_t partition, Tally__SignedEnvelope *envelope)
{
    Tally__Route route = TALLY__ROUTE__INIT;
    route.route_id = route_id;
    route.partition = partition;
    route.envelope = envelope;
    Tally__RouterToActor message = TALLY__ROUTER_TO_ACTOR__INIT;
    message.body_case = TALLY__ROUTER_TO_ACTOR__BODY_ROUTE;
    message.route = &route;
    assert (tly_wire_send (test->router, test->actor_at_router, &message.base) == 0);
}

static void
s_assign (s_test_t *test, const uint32_t *partitions, size_t count, uint64_t epoch)
{
    Tally__PartitionEpoch owned [S_PARTITIONS], *pointers [S_PARTITIONS];
    for (size_t i = 0; i < count; i++) {
        tally__partition_epoch__init (&owned [i]);
        owned [i].partition = partitions [i];
        owned [i].epoch = epoch;
        pointers [i] = &owned [i];
    }
    Tally__Assignment assignment = TALLY__ASSIGNMENT__INIT;
    assignment.partition_count = S_PARTITIONS;
    assignment.n_owned = count;
    assignment.owned = pointers;
    Tally__RouterToActor message = TALLY__ROUTER_TO_ACTOR__INIT;
    message.body_case = TALLY__ROUTER_TO_ACTOR__BODY_ASSIGNMENT;
    message.assignment = &assignment;
    assert (tly_wire_send (test->router, test->actor_at_router, &message.base) == 0);
}

//  Waits for the actor's hello, then assigns it partitions and lets it catch up.
static void
s_connect_actor (s_test_t *test, const uint32_t *partitions, size_t count, uint64_t epoch)
{
    size_t hellos = test->hellos;
    int64_t deadline = zclock_mono () + S_DEADLINE_MS;
    while (test->hellos == hellos && zclock_mono () < deadline)
        s_pump (test, S_WANT_NOTHING, S_HEARTBEAT_MS);
    assert (test->hellos > hellos);
    size_t reads = test->reads;
    s_assign (test, partitions, count, epoch);
    deadline = zclock_mono () + S_DEADLINE_MS;
    while (test->reads < reads + count && zclock_mono () < deadline)
        s_pump (test, S_WANT_NOTHING, S_HEARTBEAT_MS);
    assert (test->reads == reads + count);
}

static void
s_free_envelope (Tally__SignedEnvelope *envelope)
{
    free (envelope->envelope.data);
    free (envelope->signature.data);
    free (envelope);
}

static Tally__RecordDraft *
s_only_draft (Tally__AuditRequest *request, uint32_t partition, uint64_t partition_seq,
              uint64_t epoch)
{
    assert (request->append->n_records == 1);
    Tally__RecordDraft *draft = request->append->records [0];
    assert (draft->partition == partition && draft->partition_seq == partition_seq);
    assert (draft->epoch == epoch);
    return draft;
}

//  Answers every append OK until count replies have arrived.
static void
s_collect_replies (s_test_t *test, Tally__RouteReply **replies, size_t count)
{
    size_t received = 0;
    int64_t deadline = zclock_mono () + S_DEADLINE_MS;
    while (received < count) {
        assert (zclock_mono () < deadline);
        s_pump (test, S_WANT_ANY, deadline - zclock_mono ());
        Tally__AuditRequest *request;
        while ((request = zlist_pop (test->appends))) {
            s_answer_append (test, request, TALLY__ERROR_CODE__OK, true);
            tally__audit_request__free_unpacked (request, NULL);
        }
        Tally__RouteReply *reply;
        while ((reply = zlist_pop (test->replies))) {
            assert (received < count);
            replies [received++] = reply;
        }
    }
}

static int64_t
s_balance_after (Tally__RouteReply *reply, size_t index)
{
    assert (!reply->error && index < reply->n_results);
    assert (reply->results [index]->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE);
    return reply->results [index]->purchase->balance_after;
}

int
main (void)
{
    printf (" * balance_process: ");
    fflush (stdout);
    assert (sodium_init () >= 0);
    sigset_t child;
    sigemptyset (&child);
    sigaddset (&child, SIGCHLD);
    sigprocmask (SIG_BLOCK, &child, NULL);

    s_test_t test;
    memset (&test, 0, sizeof test);
    strcpy (test.data_dir, "/tmp/tly_balance_process_XXXXXX");
    assert (mkdtemp (test.data_dir));
    test.router = zsock_new (ZMQ_ROUTER);
    test.audit = zsock_new (ZMQ_ROUTER);
    int router_port = zsock_bind (test.router, "tcp://127.0.0.1:*");
    int audit_port = zsock_bind (test.audit, "tcp://127.0.0.1:*");
    assert (router_port > 0 && audit_port > 0);
    snprintf (test.router_endpoint, sizeof test.router_endpoint, "tcp://127.0.0.1:%d", router_port);
    snprintf (test.audit_endpoint, sizeof test.audit_endpoint, "tcp://127.0.0.1:%d", audit_port);
    assert (tly_account_generate (&test.worker) == 0);
    tly_account_id (test.worker.sign_pk, test.worker_id);
    tly_account_secret (&test.worker, test.worker_secret);
    test.replies = zlist_new ();
    test.appends = zlist_new ();
    test.purchases = zhashx_new ();

    s_user_t alice, carol;
    s_user_in (&alice, 1);
    s_user_in (&carol, 3);
    const uint32_t owned [] = { 0, 1, 2 };
    s_start (&test);
    s_connect_actor (&test, owned, 3, S_EPOCH);
    assert (test.read_epoch [alice.partition] == S_EPOCH && test.read_after [alice.partition] == 0);

    //  Answers wait for the journal's ack.
    Tally__SignedEnvelope *opening = s_envelope (&test, &alice, 100, "sword", 30);
    s_route (&test, 1, alice.partition, opening);
    Tally__AuditRequest *request = s_next_append (&test);
    Tally__RecordDraft *draft = s_only_draft (request, alice.partition, 1, S_EPOCH);
    assert (draft->n_events == 2 && draft->n_results == 2);
    assert (draft->request->envelope.len == opening->envelope.len);
    assert (memcmp (draft->request->envelope.data, opening->envelope.data, opening->envelope.len) == 0);
    s_expect_no_reply (&test);
    s_answer_append (&test, request, TALLY__ERROR_CODE__OK, true);
    tally__audit_request__free_unpacked (request, NULL);
    Tally__RouteReply *reply = s_next_reply (&test);
    assert (reply->route_id == 1 && reply->n_results == 2);
    assert (reply->results [0]->balance->balance == 100);
    assert (s_balance_after (reply, 1) == 70);
    char sword_id [TLY_ID_MAX];
    strcpy (sword_id, reply->results [1]->purchase->id);
    tally__route_reply__free_unpacked (reply, NULL);

    //  Insufficient balance: journaled (its result must survive a rebuild) and answered.
    Tally__SignedEnvelope *crown = s_envelope (&test, &alice, -1, "crown", 100);
    s_route (&test, 2, alice.partition, crown);
    request = s_next_append (&test);
    draft = s_only_draft (request, alice.partition, 2, S_EPOCH);
    assert (draft->n_events == 0);
    s_answer_append (&test, request, TALLY__ERROR_CODE__OK, true);
    tally__audit_request__free_unpacked (request, NULL);
    reply = s_next_reply (&test);
    assert (reply->route_id == 2 && reply->n_results == 1);
    assert (reply->results [0]->error->code == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    assert (strcmp (reply->results [0]->error->message, "Insufficient balance") == 0);
    tally__route_reply__free_unpacked (reply, NULL);

    //  A resend returns the first results, with no append.
    s_route (&test, 3, alice.partition, opening);
    reply = s_next_reply (&test);
    assert (reply->route_id == 3 && reply->results [0]->balance->balance == 100);
    assert (s_balance_after (reply, 1) == 70);
    assert (strcmp (reply->results [1]->purchase->id, sword_id) == 0);
    tally__route_reply__free_unpacked (reply, NULL);
    assert (zlist_size (test.appends) == 0);
    //  Twice back to back: one debit, the same answer twice.
    Tally__SignedEnvelope *gem = s_envelope (&test, &alice, -1, "gem", 10);
    s_route (&test, 4, alice.partition, gem);
    s_route (&test, 5, alice.partition, gem);
    Tally__RouteReply *twins [2];
    s_collect_replies (&test, twins, 2);
    assert (s_balance_after (twins [0], 0) == 60 && s_balance_after (twins [1], 0) == 60);
    assert (strcmp (twins [0]->results [0]->purchase->id, twins [1]->results [0]->purchase->id) == 0);
    tally__route_reply__free_unpacked (twins [0], NULL);
    tally__route_reply__free_unpacked (twins [1], NULL);

    //  A partition this actor does not own.
    Tally__SignedEnvelope *stranger = s_envelope (&test, &carol, 100, NULL, 0);
    s_route (&test, 6, carol.partition, stranger);
    reply = s_next_reply (&test);
    assert (reply->route_id == 6 && s_code (reply) == TALLY__ERROR_CODE__NOT_OWNER);
    tally__route_reply__free_unpacked (reply, NULL);
    assert (zlist_size (test.appends) == 0);

    //  The read path is not served here: a snapshot request is refused at once.
    Tally__SnapshotRequest snapshot = TALLY__SNAPSHOT_REQUEST__INIT;
    snapshot.snapshot_id = 99;
    snapshot.partition = alice.partition;
    snapshot.object_id = sword_id;
    Tally__RouterToActor ask = TALLY__ROUTER_TO_ACTOR__INIT;
    ask.body_case = TALLY__ROUTER_TO_ACTOR__BODY_SNAPSHOT;
    ask.snapshot = &snapshot;
    assert (tly_wire_send (test.router, test.actor_at_router, &ask.base) == 0);
    int64_t deadline = zclock_mono () + S_DEADLINE_MS;
    while (test.snapshot_refusals == 0 && zclock_mono () < deadline)
        s_pump (&test, S_WANT_NOTHING, S_HEARTBEAT_MS);
    assert (test.snapshot_refusals == 1);

    //  A lost ack: the journal took the batch but the actor never heard. It
    //  times out, catches the partition up, and answers from the journal.
    Tally__SignedEnvelope *bow = s_envelope (&test, &alice, -1, "bow", 5);
    s_route (&test, 7, alice.partition, bow);
    request = s_next_append (&test);
    s_only_draft (request, alice.partition, 4, S_EPOCH);
    s_answer_append (&test, request, TALLY__ERROR_CODE__OK, false);
    tally__audit_request__free_unpacked (request, NULL);
    size_t reads = test.reads;
    reply = s_next_reply (&test);
    assert (reply->route_id == 7 && s_balance_after (reply, 0) == 55);
    tally__route_reply__free_unpacked (reply, NULL);
    assert (test.reads == reads + 1 && test.read_after [alice.partition] == 3);
    assert (zlist_size (test.appends) == 0);
    Tally__SignedEnvelope *arrow = s_envelope (&test, &alice, -1, "arrow", 5);
    s_route (&test, 8, alice.partition, arrow);
    request = s_next_append (&test);
    s_only_draft (request, alice.partition, 5, S_EPOCH);
    s_answer_append (&test, request, TALLY__ERROR_CODE__OK, true);
    tally__audit_request__free_unpacked (request, NULL);
    reply = s_next_reply (&test);
    assert (reply->route_id == 8 && s_balance_after (reply, 0) == 50);
    tally__route_reply__free_unpacked (reply, NULL);

    //  Fenced by a newer owner: NOT_OWNER now and for what follows.
    Tally__SignedEnvelope *ring = s_envelope (&test, &alice, -1, "ring", 1);
    s_route (&test, 9, alice.partition, ring);
    request = s_next_append (&test);
    s_answer_append (&test, request, TALLY__ERROR_CODE__STALE_EPOCH, true);
    tally__audit_request__free_unpacked (request, NULL);
    reply = s_next_reply (&test);
    assert (reply->route_id == 9 && s_code (reply) == TALLY__ERROR_CODE__NOT_OWNER);
    tally__route_reply__free_unpacked (reply, NULL);
    s_route (&test, 10, alice.partition, ring);
    reply = s_next_reply (&test);
    assert (reply->route_id == 10 && s_code (reply) == TALLY__ERROR_CODE__NOT_OWNER);
    tally__route_reply__free_unpacked (reply, NULL);
    assert (zlist_size (test.appends) == 0);

    //  Restart: the state and dedupe persist, catch-up starts after them.
    assert (s_stop (&test) == 0);
    s_start (&test);
    s_connect_actor (&test, owned, 3, S_EPOCH + 1);
    assert (test.read_epoch [alice.partition] == S_EPOCH + 1);
    assert (test.read_after [alice.partition] == 5);
    s_route (&test, 11, alice.partition, opening);
    reply = s_next_reply (&test);
    assert (reply->route_id == 11 && s_balance_after (reply, 1) == 70);
    tally__route_reply__free_unpacked (reply, NULL);
    assert (zlist_size (test.appends) == 0);
    s_route (&test, 12, alice.partition, ring);
    request = s_next_append (&test);
    s_only_draft (request, alice.partition, 6, S_EPOCH + 1);
    s_answer_append (&test, request, TALLY__ERROR_CODE__OK, true);
    tally__audit_request__free_unpacked (request, NULL);
    reply = s_next_reply (&test);
    assert (reply->route_id == 12 && s_balance_after (reply, 0) == 49);
    tally__route_reply__free_unpacked (reply, NULL);
    assert (s_stop (&test) == 0);

    Tally__SignedEnvelope *envelopes [] = { opening, crown, gem, stranger, bow, arrow, ring };
    for (size_t i = 0; i < sizeof envelopes / sizeof envelopes [0]; i++)
        s_free_envelope (envelopes [i]);
    for (size_t r = 0; r < test.n_records; r++)
        tally__stored_record__free_unpacked (test.records [r].stored, NULL);
    zhashx_destroy (&test.purchases);
    zlist_destroy (&test.replies);
    zlist_destroy (&test.appends);
    zsock_destroy (&test.router);
    zsock_destroy (&test.audit);
    char command [sizeof test.data_dir + 16];
    snprintf (command, sizeof command, "rm -rf %s", test.data_dir);
    assert (system (command) == 0);
    printf ("OK\n");
    return 0;
}
