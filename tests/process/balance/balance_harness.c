//  balance_harness - the real tally-balance between fake peers. See the header.
#include "balance_harness.h"

#include <assert.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_actor.h"
#include "tly_message_id.h"
#include "tly_sign.h"
#include "tly_wire.h"
#include "tly_account.h"
#include "tly_partition.h"

#define S_BATCH_MAX 1024  //  records in one append (the actor's batch limit)

//  ---------------------------------------------------------------- the actor process

void
harness_init (harness_t *test)
{
    assert (sodium_init () >= 0);
    memset (test, 0, sizeof *test);
    th_dir_new (test->data_dir, sizeof test->data_dir, "tly_balance_process");
    test->router = zsock_new (ZMQ_ROUTER);
    test->audit = zsock_new (ZMQ_ROUTER);
    test->bus = zsock_new (ZMQ_XSUB);
    assert (test->router && test->audit && test->bus);
    zsock_set_linger (test->bus, 0);
    int router_port = zsock_bind (test->router, "tcp://127.0.0.1:*");
    int audit_port = zsock_bind (test->audit, "tcp://127.0.0.1:*");
    int bus_port = zsock_bind (test->bus, "tcp://127.0.0.1:*");
    assert (router_port > 0 && audit_port > 0 && bus_port > 0);
    snprintf (test->router_endpoint, sizeof test->router_endpoint, "tcp://127.0.0.1:%d",
              router_port);
    snprintf (test->audit_endpoint, sizeof test->audit_endpoint, "tcp://127.0.0.1:%d", audit_port);
    snprintf (test->bus_endpoint, sizeof test->bus_endpoint, "tcp://127.0.0.1:%d", bus_port);
    //  As the router's proxy: everything the actors publish.
    const uint8_t subscribe_all = 1;
    assert (zmq_send (zsock_resolve (test->bus), &subscribe_all, 1, 0) == 1);
    assert (tly_account_generate (&test->worker) == 0);
    tly_account_id (test->worker.sign_pk, test->worker_id);
    tly_account_secret (&test->worker, test->worker_secret);
    test->replies = zlist_new ();
    test->snapshots = zlist_new ();
    test->appends = zlist_new ();
    test->published = zlist_new ();
    test->held_reads = zlist_new ();
    test->purchases = zhashx_new ();
}

void
harness_fini (harness_t *test)
{
    assert (test->actor == NULL);
    for (size_t r = 0; r < test->n_records; r++)
        tally__stored_record__free_unpacked (test->records [r].stored, NULL);
    assert (zlist_size (test->replies) == 0 && zlist_size (test->appends) == 0);
    assert (zlist_size (test->snapshots) == 0 && zlist_size (test->held_reads) == 0);
    zmsg_t *message;
    while ((message = zlist_pop (test->published)))
        zmsg_destroy (&message);
    zhashx_destroy (&test->purchases);
    zlist_destroy (&test->replies);
    zlist_destroy (&test->snapshots);
    zlist_destroy (&test->appends);
    zlist_destroy (&test->published);
    zlist_destroy (&test->held_reads);
    zsock_destroy (&test->router);
    zsock_destroy (&test->audit);
    zsock_destroy (&test->bus);
    th_dir_remove (test->data_dir);
}

void
harness_start (harness_t *test)
{
    char partitions [16], heartbeat [16], timeout [16];
    snprintf (partitions, sizeof partitions, "%d", HARNESS_PARTITIONS);
    snprintf (heartbeat, sizeof heartbeat, "%d", HARNESS_HEARTBEAT_MS);
    snprintf (timeout, sizeof timeout, "%d", HARNESS_TIMEOUT_MS);
    char *argv [] = { TALLY_BALANCE_BIN,
                      "--data-dir",
                      test->data_dir,
                      "--name",
                      "balance-test",
                      "--router",
                      test->router_endpoint,
                      "--audit",
                      test->audit_endpoint,
                      "--bus",
                      test->bus_endpoint,
                      "--partitions",
                      partitions,
                      "--heartbeat-ms",
                      heartbeat,
                      "--audit-timeout-ms",
                      timeout,
                      "--snapshot-every",
                      "3",
                      "--worker",
                      test->worker_id,
                      "--worker-secret",
                      test->worker_secret,
                      "--insecure",
                      "--open-prices",
                      "--log-level",
                      "debug",
                      test->lease_ms ? "--snapshot-lease-ms" : NULL,
                      (char *) test->lease_ms,
                      NULL };
    assert (test->actor == NULL);
    test->leaves_at_start = test->leaves;
    test->actor = th_process_new ("tally-balance", argv);
    th_process_start (test->actor);
}

//  SIGTERM: the actor hands its partitions over (ActorLeave) and waits for
//  the router's acknowledgement, an empty Assignment, before it exits, or
//  TLY_ACTOR_LEAVE_WAIT_MS when none comes. A heartbeat first, so the actor
//  has heard its router lately, whatever the test did before, and waits.
static int
s_stop (harness_t *test, bool acknowledge, int64_t *waited_ms)
{
    assert (test->actor);
    Tally__Heartbeat heartbeat = TALLY__HEARTBEAT__INIT;
    Tally__RouterToActor message = TALLY__ROUTER_TO_ACTOR__INIT;
    message.body_case = TALLY__ROUTER_TO_ACTOR__BODY_HEARTBEAT;
    message.heartbeat = &heartbeat;
    assert (tly_wire_send (test->router, test->actor_at_router, &message.base) == 0);
    th_process_signal (test->actor, SIGTERM);
    int64_t deadline = zclock_mono () + HARNESS_DEADLINE_MS;
    while (test->leaves == test->leaves_at_start && zclock_mono () < deadline)
        harness_pump (test, HARNESS_NOTHING, 20);
    assert (test->leaves == test->leaves_at_start + 1);
    if (acknowledge)
        harness_assign (test, NULL, 0, 0);
    int64_t since_ms = zclock_mono ();
    int code = th_process_wait (test->actor, HARNESS_DEADLINE_MS);
    *waited_ms = zclock_mono () - since_ms;
    th_process_destroy (&test->actor);
    zframe_destroy (&test->actor_at_router);
    zframe_destroy (&test->actor_at_audit);
    return code;
}

int
harness_stop (harness_t *test)
{
    int64_t waited_ms;
    int code = s_stop (test, true, &waited_ms);
    //  Acknowledged: well before the actor's own bound on the wait.
    assert (waited_ms < TLY_ACTOR_LEAVE_WAIT_MS * 3 / 4);
    return code;
}

int
harness_stop_unacknowledged (harness_t *test, int64_t *waited_ms)
{
    return s_stop (test, false, waited_ms);
}

//  ---------------------------------------------------------------- the fake audit writer

static void
s_send_audit (harness_t *test, Tally__AuditReply *reply)
{
    assert (test->actor_at_audit);
    assert (tly_wire_send (test->audit, test->actor_at_audit, &reply->base) == 0);
}

void
harness_answer_append (harness_t *test, Tally__AuditRequest *request, Tally__ErrorCode forced,
                       bool send)
{
    Tally__AppendRequest *append = request->append;
    Tally__AppendStatus statuses [S_BATCH_MAX];
    Tally__AppendStatus *pointers [S_BATCH_MAX];
    assert (append->n_records <= S_BATCH_MAX);
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
        assert (test->n_records < HARNESS_RECORDS_MAX);
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
        test->records [test->n_records++] = (harness_record_t) { draft->partition,
                                                                 draft->partition_seq, stored };
        statuses [i].seq = test->n_records;
    }
    if (!send)
        return;  //  the ack is lost
    Tally__AppendReply reply = TALLY__APPEND_REPLY__INIT;
    reply.request_id = append->request_id;
    reply.n_statuses = append->n_records;
    reply.statuses = pointers;
    Tally__AuditReply answer = TALLY__AUDIT_REPLY__INIT;
    answer.body_case = TALLY__AUDIT_REPLY__BODY_APPEND;
    answer.append = &reply;
    s_send_audit (test, &answer);
}

void
harness_answer_read (harness_t *test, const Tally__ReadRequest *read)
{
    assert (read->partition < HARNESS_PARTITIONS);
    assert (read->epoch > 0 && read->max_records == TLY_READ_RECORDS_MAX);
    Tally__StoredRecord *records [HARNESS_RECORDS_MAX];
    Tally__ReadReply reply = TALLY__READ_REPLY__INIT;
    reply.request_id = read->request_id;
    reply.records = records;
    for (size_t r = 0; r < test->n_records; r++)
        if (test->records [r].partition == read->partition
            && test->records [r].partition_seq > read->after_partition_seq)
            records [reply.n_records++] = test->records [r].stored;
    reply.end = true;
    Tally__AuditReply answer = TALLY__AUDIT_REPLY__INIT;
    answer.body_case = TALLY__AUDIT_REPLY__BODY_READ;
    answer.read = &reply;
    s_send_audit (test, &answer);
}

//  ---------------------------------------------------------------- the pump

static bool
s_satisfied (harness_t *test, harness_want_t want)
{
    bool reply = zlist_size (test->replies) > 0;
    bool append = zlist_size (test->appends) > 0;
    return (want == HARNESS_REPLY && reply) || (want == HARNESS_APPEND && append)
           || (want == HARNESS_ANY && (reply || append))
           || (want == HARNESS_SNAPSHOT && zlist_size (test->snapshots) > 0)
           || (want == HARNESS_PUBLISHED && zlist_size (test->published) > 0);
}

static void
s_from_router (harness_t *test, zframe_t *frame)
{
    Tally__ActorToRouter *message = tally__actor_to_router__unpack (NULL, zframe_size (frame),
                                                                    zframe_data (frame));
    assert (message);
    if (message->body_case == TALLY__ACTOR_TO_ROUTER__BODY_HELLO) {
        assert (strcmp (message->hello->name, "balance-test") == 0);
        assert (message->hello->partition_count == HARNESS_PARTITIONS);
        test->hellos++;
        //  What this writer answered (one empty segment), passed on as it came.
        const Tally__JournalStatus *journal = message->hello->journal;
        if (journal) {
            assert (journal->segments == 1 && journal->active_first_seq == 1);
            test->journal_hellos++;
        }
    } else if (message->body_case == TALLY__ACTOR_TO_ROUTER__BODY_LEAVE) {
        assert (strcmp (message->leave->name, "balance-test") == 0);
        test->leaves++;
        test->replies_before_leave = test->replies_received;
    } else if (message->body_case == TALLY__ACTOR_TO_ROUTER__BODY_SNAPSHOT) {
        zlist_append (test->snapshots, message->snapshot);
        message->body_case = TALLY__ACTOR_TO_ROUTER__BODY__NOT_SET;
    } else {
        assert (message->body_case == TALLY__ACTOR_TO_ROUTER__BODY_REPLY);
        zlist_append (test->replies, message->reply);
        test->replies_received++;
        message->body_case = TALLY__ACTOR_TO_ROUTER__BODY__NOT_SET;
    }
    tally__actor_to_router__free_unpacked (message, NULL);
}

static void
s_from_audit (harness_t *test, zframe_t *frame)
{
    Tally__AuditRequest *request = tally__audit_request__unpack (NULL, zframe_size (frame),
                                                                 zframe_data (frame));
    assert (request);
    if (request->body_case == TALLY__AUDIT_REQUEST__BODY_READ) {
        const Tally__ReadRequest *read = request->read;
        assert (read->partition < HARNESS_PARTITIONS);
        test->reads++;
        test->read_after [read->partition] = read->after_partition_seq;
        test->read_epoch [read->partition] = read->epoch;
        if (test->hold_reads) {
            zlist_append (test->held_reads, request);
            return;
        }
        harness_answer_read (test, read);
        tally__audit_request__free_unpacked (request, NULL);
    } else if (request->body_case == TALLY__AUDIT_REQUEST__BODY_LOAD_SNAPSHOT) {
        //  This writer keeps no state snapshots: the actor reads the records.
        Tally__SnapshotLoadReply none = TALLY__SNAPSHOT_LOAD_REPLY__INIT;
        none.request_id = request->load_snapshot->request_id;
        Tally__AuditReply answer = TALLY__AUDIT_REPLY__INIT;
        answer.body_case = TALLY__AUDIT_REPLY__BODY_LOAD_SNAPSHOT;
        answer.load_snapshot = &none;
        s_send_audit (test, &answer);
        tally__audit_request__free_unpacked (request, NULL);
    } else if (request->body_case == TALLY__AUDIT_REQUEST__BODY_SAVE_SNAPSHOT) {
        Tally__Error error = TALLY__ERROR__INIT;
        error.code = TALLY__ERROR_CODE__UNAVAILABLE;
        error.message = "this test writer keeps no snapshots";
        Tally__SnapshotSaveReply refused = TALLY__SNAPSHOT_SAVE_REPLY__INIT;
        refused.request_id = request->save_snapshot->request_id;
        refused.error = &error;
        Tally__AuditReply answer = TALLY__AUDIT_REPLY__INIT;
        answer.body_case = TALLY__AUDIT_REPLY__BODY_SAVE_SNAPSHOT;
        answer.save_snapshot = &refused;
        s_send_audit (test, &answer);
        tally__audit_request__free_unpacked (request, NULL);
    } else if (request->body_case == TALLY__AUDIT_REQUEST__BODY_STATUS) {
        //  The actor asks with its hellos; this writer has one empty segment.
        Tally__JournalStatus status = TALLY__JOURNAL_STATUS__INIT;
        status.reported_ms = tly_now_ms ();
        status.segments = 1;
        status.active_first_seq = 1;
        Tally__AuditReply answer = TALLY__AUDIT_REPLY__INIT;
        answer.body_case = TALLY__AUDIT_REPLY__BODY_STATUS;
        answer.status = &status;
        s_send_audit (test, &answer);
        tally__audit_request__free_unpacked (request, NULL);
    } else {
        assert (request->body_case == TALLY__AUDIT_REQUEST__BODY_APPEND);
        zlist_append (test->appends, request);
    }
}

void
harness_pump (harness_t *test, harness_want_t want, int64_t wait_ms)
{
    int64_t deadline = zclock_mono () + wait_ms;
    zpoller_t *poller = zpoller_new (test->router, test->audit, test->bus, NULL);
    while (!s_satisfied (test, want)) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            break;
        zsock_t *which = zpoller_wait (poller, (int) left);
        if (!which)
            continue;
        if (which == test->bus) {
            zmsg_t *message = zmsg_recv (test->bus);
            assert (message);
            zlist_append (test->published, message);
            continue;
        }
        zframe_t *identity = zframe_recv (which);
        zframe_t *frame = zframe_recv (which);
        assert (identity && frame);
        if (which == test->router) {
            zframe_destroy (&test->actor_at_router);
            test->actor_at_router = identity;
            s_from_router (test, frame);
        } else {
            zframe_destroy (&test->actor_at_audit);
            test->actor_at_audit = identity;
            s_from_audit (test, frame);
        }
        zframe_destroy (&frame);
    }
    zpoller_destroy (&poller);
}

//  Pumps until want is there, then takes the first item of list: it must
//  arrive within the deadline.
static void *
s_next (harness_t *test, harness_want_t want, zlist_t *list)
{
    harness_pump (test, want, HARNESS_DEADLINE_MS);
    void *item = zlist_pop (list);
    assert (item);
    return item;
}

Tally__RouteReply *
harness_next_reply (harness_t *test)
{
    return s_next (test, HARNESS_REPLY, test->replies);
}

Tally__AuditRequest *
harness_next_append (harness_t *test)
{
    return s_next (test, HARNESS_APPEND, test->appends);
}

Tally__SnapshotReply *
harness_next_snapshot (harness_t *test)
{
    return s_next (test, HARNESS_SNAPSHOT, test->snapshots);
}

Tally__BusObject *
harness_next_published (harness_t *test, uint8_t topic [HARNESS_TOPIC_BYTES],
                        Tally__ObjectState **state_p)
{
    zmsg_t *message = s_next (test, HARNESS_PUBLISHED, test->published);
    assert (zmsg_size (message) == 2);
    zframe_t *frame = zmsg_first (message);
    assert (zframe_size (frame) == HARNESS_TOPIC_BYTES);
    memcpy (topic, zframe_data (frame), HARNESS_TOPIC_BYTES);
    frame = zmsg_next (message);
    Tally__BusObject *bus = tally__bus_object__unpack (NULL, zframe_size (frame),
                                                       zframe_data (frame));
    zmsg_destroy (&message);
    assert (bus && bus->object);
    const Tally__SignedObject *object = bus->object;
    assert (tly_verify_domain (TLY_DOMAIN_OBJECT, test->worker.sign_pk, object->state.data,
                               object->state.len, object->signature.data, object->signature.len));
    *state_p = tally__object_state__unpack (NULL, object->state.len, object->state.data);
    assert (*state_p);
    //  The topic is the object ID's 19 bytes.
    uint8_t raw [HARNESS_TOPIC_BYTES];
    assert (tly_base58_decode ((*state_p)->object_id + 4, raw, sizeof raw) == HARNESS_TOPIC_BYTES);
    assert (memcmp (raw, topic, HARNESS_TOPIC_BYTES) == 0);
    return bus;
}

void
harness_expect_no_reply (harness_t *test)
{
    harness_pump (test, HARNESS_REPLY, HARNESS_QUIET_MS);
    assert (zlist_size (test->replies) == 0);
}

void
harness_expect_no_publish (harness_t *test)
{
    harness_pump (test, HARNESS_PUBLISHED, HARNESS_QUIET_MS);
    assert (zlist_size (test->published) == 0);
}

Tally__ErrorCode
harness_code (const Tally__RouteReply *reply)
{
    return reply->error ? reply->error->code : TALLY__ERROR_CODE__OK;
}

void
harness_collect_replies (harness_t *test, Tally__RouteReply **replies, size_t count)
{
    size_t received = 0;
    int64_t deadline = zclock_mono () + HARNESS_DEADLINE_MS;
    while (received < count) {
        assert (zclock_mono () < deadline);
        harness_pump (test, HARNESS_ANY, deadline - zclock_mono ());
        Tally__AuditRequest *request;
        while ((request = zlist_pop (test->appends))) {
            harness_answer_append (test, request, TALLY__ERROR_CODE__OK, true);
            tally__audit_request__free_unpacked (request, NULL);
        }
        Tally__RouteReply *reply;
        while ((reply = zlist_pop (test->replies))) {
            assert (received < count);
            replies [received++] = reply;
        }
    }
}

int64_t
harness_balance_after (Tally__RouteReply *reply, size_t index)
{
    assert (!reply->error && index < reply->n_results);
    assert (reply->results [index]->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE);
    return reply->results [index]->purchase->balance_after;
}

//  ---------------------------------------------------------------- the client side

void
harness_user_in (harness_user_t *user, uint32_t partition)
{
    do {
        memset (user, 0, sizeof *user);
        assert (tly_account_generate (&user->account) == 0);
        user->partition = tly_partition_of (user->account.sign_pk, HARNESS_PARTITIONS);
    } while (user->partition != partition);
}

Tally__SignedEnvelope *
harness_envelope (harness_t *test, harness_user_t *user, int64_t initial, const char *item,
                  int64_t amount)
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
        tly_message_id_new (ids [i], tly_now_ms ());
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

void
harness_free_envelope (Tally__SignedEnvelope *envelope)
{
    free (envelope->envelope.data);
    free (envelope->signature.data);
    free (envelope);
}

void
harness_route (harness_t *test, uint64_t route_id, uint32_t partition,
               Tally__SignedEnvelope *envelope)
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

void
harness_snapshot (harness_t *test, uint64_t snapshot_id, uint32_t partition, const char *object_id,
                  const uint8_t reader [TLY_KEY_BYTES], const char *requester)
{
    Tally__SnapshotRequest snapshot = TALLY__SNAPSHOT_REQUEST__INIT;
    snapshot.snapshot_id = snapshot_id;
    snapshot.partition = partition;
    snapshot.object_id = (char *) object_id;
    snapshot.reader = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) reader };
    snapshot.requester = (ProtobufCBinaryData) { strlen (requester), (uint8_t *) requester };
    Tally__RouterToActor message = TALLY__ROUTER_TO_ACTOR__INIT;
    message.body_case = TALLY__ROUTER_TO_ACTOR__BODY_SNAPSHOT;
    message.snapshot = &snapshot;
    assert (tly_wire_send (test->router, test->actor_at_router, &message.base) == 0);
}

void
harness_assign (harness_t *test, const uint32_t *partitions, size_t count, uint64_t epoch)
{
    Tally__PartitionEpoch owned [HARNESS_PARTITIONS], *pointers [HARNESS_PARTITIONS];
    for (size_t i = 0; i < count; i++) {
        tally__partition_epoch__init (&owned [i]);
        owned [i].partition = partitions [i];
        owned [i].epoch = epoch;
        pointers [i] = &owned [i];
    }
    Tally__Assignment assignment = TALLY__ASSIGNMENT__INIT;
    assignment.partition_count = HARNESS_PARTITIONS;
    assignment.n_owned = count;
    assignment.owned = pointers;
    Tally__RouterToActor message = TALLY__ROUTER_TO_ACTOR__INIT;
    message.body_case = TALLY__ROUTER_TO_ACTOR__BODY_ASSIGNMENT;
    message.assignment = &assignment;
    assert (tly_wire_send (test->router, test->actor_at_router, &message.base) == 0);
}

void
harness_connect_actor (harness_t *test, const uint32_t *partitions, size_t count, uint64_t epoch)
{
    size_t hellos = test->hellos;
    int64_t deadline = zclock_mono () + HARNESS_DEADLINE_MS;
    while (test->hellos == hellos && zclock_mono () < deadline)
        harness_pump (test, HARNESS_NOTHING, HARNESS_HEARTBEAT_MS);
    assert (test->hellos > hellos);
    size_t reads = test->reads;
    harness_assign (test, partitions, count, epoch);
    deadline = zclock_mono () + HARNESS_DEADLINE_MS;
    while (test->reads < reads + count && zclock_mono () < deadline)
        harness_pump (test, HARNESS_NOTHING, HARNESS_HEARTBEAT_MS);
    assert (test->reads == reads + count);
}

void
harness_subscribe (harness_t *test, const char *object_id, bool on)
{
    uint8_t message [1 + HARNESS_TOPIC_BYTES];
    message [0] = on ? 1 : 0;
    assert (tly_base58_decode (object_id + 4, message + 1, HARNESS_TOPIC_BYTES)
            == HARNESS_TOPIC_BYTES);
    assert (zmq_send (zsock_resolve (test->bus), message, sizeof message, 0) == sizeof message);
}

Tally__RecordDraft *
harness_only_draft (Tally__AuditRequest *request, uint32_t partition, uint64_t partition_seq,
                    uint64_t epoch)
{
    assert (request->append->n_records == 1);
    Tally__RecordDraft *draft = request->append->records [0];
    assert (draft->partition == partition && draft->partition_seq == partition_seq);
    assert (draft->epoch == epoch);
    return draft;
}
