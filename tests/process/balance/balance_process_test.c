//  balance_process_test - the real tally-balance binary between a fake router
//  and a fake audit writer: the write path.
//
//  Checks: hello; catch-up reads on assignment; answers only after the
//  journal ack; insufficient balance; resends answered from dedupe with no
//  second debit; NOT_OWNER for an unowned partition; STALE_EPOCH fences the
//  actor out; a lost ack is recovered by catch-up without a double debit;
//  state and dedupe survive a restart; SIGTERM finishes the batch in flight,
//  then leaves (ActorLeave) and answers what waits NOT_OWNER, and exits 0
//  once the router acknowledges.
#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "balance_harness.h"

#define S_EPOCH 5

int
main (void)
{
    printf (" * balance_process: ");
    fflush (stdout);
    harness_t test;
    harness_init (&test);

    harness_user_t alice, carol;
    harness_user_in (&alice, 1);
    harness_user_in (&carol, 3);
    const uint32_t owned [] = { 0, 1, 2 };
    harness_start (&test);
    harness_connect_actor (&test, owned, 3, S_EPOCH);
    //  The actor asks the writer for the journal's figures with its hellos
    //  and passes the answer on in the next ones (for `tally status`).
    int64_t deadline = zclock_mono () + HARNESS_DEADLINE_MS;
    while (test.journal_hellos == 0 && zclock_mono () < deadline)
        harness_pump (&test, HARNESS_NOTHING, HARNESS_HEARTBEAT_MS);
    assert (test.journal_hellos > 0);
    assert (test.read_epoch [alice.partition] == S_EPOCH && test.read_after [alice.partition] == 0);

    //  Answers wait for the journal's ack.
    Tally__SignedEnvelope *opening = harness_envelope (&test, &alice, 100, "sword", 30);
    harness_route (&test, 1, alice.partition, opening);
    Tally__AuditRequest *request = harness_next_append (&test);
    Tally__RecordDraft *draft = harness_only_draft (request, alice.partition, 1, S_EPOCH);
    assert (draft->n_events == 2 && draft->n_results == 2);
    assert (draft->request->envelope.len == opening->envelope.len);
    assert (memcmp (draft->request->envelope.data, opening->envelope.data, opening->envelope.len)
            == 0);
    harness_expect_no_reply (&test);
    harness_answer_append (&test, request, TALLY__ERROR_CODE__OK, true);
    tally__audit_request__free_unpacked (request, NULL);
    Tally__RouteReply *reply = harness_next_reply (&test);
    assert (reply->route_id == 1 && reply->n_results == 2);
    assert (reply->results [0]->balance->balance == 100);
    assert (harness_balance_after (reply, 1) == 70);
    char sword_id [TLY_ID_MAX];
    strcpy (sword_id, reply->results [1]->purchase->id);
    tally__route_reply__free_unpacked (reply, NULL);

    //  Insufficient balance: journaled (its result must survive a rebuild) and answered.
    Tally__SignedEnvelope *crown = harness_envelope (&test, &alice, -1, "crown", 100);
    harness_route (&test, 2, alice.partition, crown);
    request = harness_next_append (&test);
    draft = harness_only_draft (request, alice.partition, 2, S_EPOCH);
    assert (draft->n_events == 0);
    harness_answer_append (&test, request, TALLY__ERROR_CODE__OK, true);
    tally__audit_request__free_unpacked (request, NULL);
    reply = harness_next_reply (&test);
    assert (reply->route_id == 2 && reply->n_results == 1);
    assert (reply->results [0]->error->code == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    assert (strcmp (reply->results [0]->error->message, "Insufficient balance") == 0);
    tally__route_reply__free_unpacked (reply, NULL);

    //  A resend returns the first results, with no append.
    harness_route (&test, 3, alice.partition, opening);
    reply = harness_next_reply (&test);
    assert (reply->route_id == 3 && reply->results [0]->balance->balance == 100);
    assert (harness_balance_after (reply, 1) == 70);
    assert (strcmp (reply->results [1]->purchase->id, sword_id) == 0);
    tally__route_reply__free_unpacked (reply, NULL);
    assert (zlist_size (test.appends) == 0);
    //  Twice back to back: one debit, the same answer twice.
    Tally__SignedEnvelope *gem = harness_envelope (&test, &alice, -1, "gem", 10);
    harness_route (&test, 4, alice.partition, gem);
    harness_route (&test, 5, alice.partition, gem);
    Tally__RouteReply *twins [2];
    harness_collect_replies (&test, twins, 2);
    assert (harness_balance_after (twins [0], 0) == 60
            && harness_balance_after (twins [1], 0) == 60);
    assert (strcmp (twins [0]->results [0]->purchase->id, twins [1]->results [0]->purchase->id)
            == 0);
    tally__route_reply__free_unpacked (twins [0], NULL);
    tally__route_reply__free_unpacked (twins [1], NULL);

    //  A partition this actor does not own.
    Tally__SignedEnvelope *stranger = harness_envelope (&test, &carol, 100, NULL, 0);
    harness_route (&test, 6, carol.partition, stranger);
    reply = harness_next_reply (&test);
    assert (reply->route_id == 6 && harness_code (reply) == TALLY__ERROR_CODE__NOT_OWNER);
    tally__route_reply__free_unpacked (reply, NULL);
    assert (zlist_size (test.appends) == 0);

    //  A lost ack: the journal took the batch but the actor never heard. It
    //  times out, catches the partition up, and answers from the journal.
    Tally__SignedEnvelope *bow = harness_envelope (&test, &alice, -1, "bow", 5);
    harness_route (&test, 7, alice.partition, bow);
    request = harness_next_append (&test);
    harness_only_draft (request, alice.partition, 4, S_EPOCH);
    harness_answer_append (&test, request, TALLY__ERROR_CODE__OK, false);
    tally__audit_request__free_unpacked (request, NULL);
    size_t reads = test.reads;
    reply = harness_next_reply (&test);
    assert (reply->route_id == 7 && harness_balance_after (reply, 0) == 55);
    tally__route_reply__free_unpacked (reply, NULL);
    assert (test.reads == reads + 1 && test.read_after [alice.partition] == 3);
    assert (zlist_size (test.appends) == 0);
    Tally__SignedEnvelope *arrow = harness_envelope (&test, &alice, -1, "arrow", 5);
    harness_route (&test, 8, alice.partition, arrow);
    request = harness_next_append (&test);
    harness_only_draft (request, alice.partition, 5, S_EPOCH);
    harness_answer_append (&test, request, TALLY__ERROR_CODE__OK, true);
    tally__audit_request__free_unpacked (request, NULL);
    reply = harness_next_reply (&test);
    assert (reply->route_id == 8 && harness_balance_after (reply, 0) == 50);
    tally__route_reply__free_unpacked (reply, NULL);

    //  Fenced by a newer owner: NOT_OWNER now and for what follows.
    Tally__SignedEnvelope *ring = harness_envelope (&test, &alice, -1, "ring", 1);
    harness_route (&test, 9, alice.partition, ring);
    request = harness_next_append (&test);
    harness_answer_append (&test, request, TALLY__ERROR_CODE__STALE_EPOCH, true);
    tally__audit_request__free_unpacked (request, NULL);
    reply = harness_next_reply (&test);
    assert (reply->route_id == 9 && harness_code (reply) == TALLY__ERROR_CODE__NOT_OWNER);
    tally__route_reply__free_unpacked (reply, NULL);
    harness_route (&test, 10, alice.partition, ring);
    reply = harness_next_reply (&test);
    assert (reply->route_id == 10 && harness_code (reply) == TALLY__ERROR_CODE__NOT_OWNER);
    tally__route_reply__free_unpacked (reply, NULL);
    assert (zlist_size (test.appends) == 0);

    //  Restart: the state and dedupe persist, catch-up starts after them.
    assert (harness_stop (&test) == 0);
    harness_start (&test);
    harness_connect_actor (&test, owned, 3, S_EPOCH + 1);
    assert (test.read_epoch [alice.partition] == S_EPOCH + 1);
    assert (test.read_after [alice.partition] == 5);
    harness_route (&test, 11, alice.partition, opening);
    reply = harness_next_reply (&test);
    assert (reply->route_id == 11 && harness_balance_after (reply, 1) == 70);
    tally__route_reply__free_unpacked (reply, NULL);
    assert (zlist_size (test.appends) == 0);
    harness_route (&test, 12, alice.partition, ring);
    request = harness_next_append (&test);
    harness_only_draft (request, alice.partition, 6, S_EPOCH + 1);
    harness_answer_append (&test, request, TALLY__ERROR_CODE__OK, true);
    tally__audit_request__free_unpacked (request, NULL);
    reply = harness_next_reply (&test);
    assert (reply->route_id == 12 && harness_balance_after (reply, 0) == 49);
    tally__route_reply__free_unpacked (reply, NULL);

    //  SIGTERM with a batch in flight and a route waiting behind it: the
    //  batch is journaled and answered first; then the actor says it leaves,
    //  and only after that answers the waiting route, and one sent later,
    //  NOT_OWNER (the router has resent them by then); no hello and no
    //  append follow the leave.
    Tally__SignedEnvelope *bell = harness_envelope (&test, &alice, -1, "bell", 1);
    Tally__SignedEnvelope *drum = harness_envelope (&test, &alice, -1, "drum", 1);
    harness_route (&test, 13, alice.partition, bell);
    request = harness_next_append (&test);
    harness_only_draft (request, alice.partition, 7, S_EPOCH + 1);
    harness_route (&test, 14, alice.partition, drum);
    size_t replies = test.replies_received;
    //  The fake router sends no heartbeats: the actor must hear it within
    //  its liveness (600 ms), or it leaves at once without waiting for it.
    th_process_signal (test.actor, SIGTERM);
    harness_expect_no_reply (&test);
    assert (test.leaves == test.leaves_at_start);
    harness_answer_append (&test, request, TALLY__ERROR_CODE__OK, true);
    tally__audit_request__free_unpacked (request, NULL);
    reply = harness_next_reply (&test);
    assert (reply->route_id == 13 && harness_balance_after (reply, 0) == 48);
    tally__route_reply__free_unpacked (reply, NULL);
    reply = harness_next_reply (&test);
    assert (reply->route_id == 14 && harness_code (reply) == TALLY__ERROR_CODE__NOT_OWNER);
    tally__route_reply__free_unpacked (reply, NULL);
    assert (test.leaves == test.leaves_at_start + 1 && test.replies_before_leave == replies + 1);
    size_t hellos = test.hellos;
    harness_route (&test, 15, alice.partition, drum);
    reply = harness_next_reply (&test);
    assert (reply->route_id == 15 && harness_code (reply) == TALLY__ERROR_CODE__NOT_OWNER);
    tally__route_reply__free_unpacked (reply, NULL);
    harness_expect_no_reply (&test);
    assert (test.hellos == hellos && zlist_size (test.appends) == 0);
    assert (harness_stop (&test) == 0);

    Tally__SignedEnvelope *envelopes [] = { opening, crown, gem,  stranger, bow,
                                            arrow,   ring,  bell, drum };
    for (size_t i = 0; i < sizeof envelopes / sizeof envelopes [0]; i++)
        harness_free_envelope (envelopes [i]);
    harness_fini (&test);
    printf ("OK\n");
    return 0;
}
