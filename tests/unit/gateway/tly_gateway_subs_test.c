//  tly_gateway_subs_test - the subscription registry's self-test: every
//  state change, every index and order, snapshot retries up to the last
//  attempt, and each hold limit at its edge.
#include "tly_gateway_subs.h"

#include <assert.h>
#include <string.h>
#include "tly_object_id.h"

//  The admitted form of object `number` (a UserBalance in partition 7).
static tly_gateway_admitted_t
s_object (uint32_t number)
{
    uint8_t tail [16] = { 0 };
    memcpy (tail, &number, sizeof (number));
    char object_id [TLY_ID_MAX];
    tly_object_id (TLY_OBJ_BALANCE, 7, tail, object_id);
    tly_gateway_admitted_t admitted;
    int rc = tly_gateway_check_object_id (object_id, &admitted);
    assert (rc == 0 && admitted.partition == 7);
    memset (admitted.account, (int) number, TLY_KEY_BYTES);
    return admitted;
}

static tly_gateway_sub_t *
s_add (tly_gateway_subs_t *subs, const char *client, uint32_t object, int64_t now_ms,
       bool expect_new_topic)
{
    zframe_t *identity = zframe_new (client, strlen (client));
    tly_gateway_admitted_t admitted = s_object (object);
    bool new_topic = !expect_new_topic;
    tly_gateway_sub_t *sub = tly_gateway_subs_add (subs, identity, &admitted, 100 + object, now_ms,
                                                   now_ms + 1000, &new_topic);
    assert (sub && new_topic == expect_new_topic);
    assert (sub->state == TLY_SUB_PENDING && sub->snapshot_id != 0 && !sub->answered);
    assert (tly_gateway_subs_pending (subs, sub->snapshot_id) == sub);
    assert (tly_gateway_subs_client (subs, identity) == sub->of.client);
    assert (tly_gateway_subs_topic (subs, admitted.topic) == sub->of.topic);
    assert (tly_gateway_subs_find (subs, sub->of.client, sub->of.topic) == sub);
    assert (strcmp (sub->of.topic->object_id, admitted.object_id) == 0);
    zframe_destroy (&identity);
    return sub;
}

static void
s_test_states (tly_gateway_subs_t *subs, zframe_t *update)
{
    //  Two clients on one object: one topic, two pending snapshots.
    assert (tly_gateway_subs_first_client (subs) == NULL);
    tly_gateway_sub_t *one = s_add (subs, "one", 1, 10, true);
    tly_gateway_sub_t *two = s_add (subs, "two", 1, 20, false);
    tly_gateway_topic_t *topic = one->of.topic;
    assert (two->of.topic == topic && topic->subs == 2 && topic->pending == 2);
    assert (tly_gateway_subs_size (subs) == 2 && tly_gateway_subs_pending_size (subs) == 2);
    assert (one->snapshot_id != two->snapshot_id);

    //  Updates arriving while snapshots are pending are held, in order.
    tly_gateway_subs_arrived (subs, topic, 5, update);
    tly_gateway_subs_arrived (subs, topic, 6, update);
    assert (topic->held_count == 2 && topic->newest == 6);
    assert (tly_gateway_subs_held (topic, 0)->version == 5);
    assert (tly_gateway_subs_held (topic, 1)->version == 6);

    //  A snapshot at 4: what follows is judged against it.
    uint64_t answered_id = one->snapshot_id;
    tly_gateway_subs_live (subs, one, 4);
    assert (one->state == TLY_SUB_LIVE && one->answered && one->last == 4);
    assert (tly_gateway_subs_pending (subs, answered_id) == NULL);
    assert (tly_gateway_subs_offer (one, 3) == TLY_OFFER_OLD);
    assert (tly_gateway_subs_offer (one, 4) == TLY_OFFER_OLD);
    assert (tly_gateway_subs_offer (one, 5) == TLY_OFFER_NEXT);
    assert (tly_gateway_subs_offer (one, 6) == TLY_OFFER_GAP);
    assert (tly_gateway_subs_offer (two, 5) == TLY_OFFER_WAIT);
    tly_gateway_subs_settle (subs, topic);
    assert (topic->held_count == 2);  //  two still needs them
    tly_gateway_subs_live (subs, one, 5);
    tly_gateway_subs_live (subs, two, 6);
    assert (tly_gateway_subs_pending_size (subs) == 0);
    tly_gateway_subs_settle (subs, topic);
    assert (topic->held_count == 0 && tly_gateway_subs_held_size (subs) == 0);
    //  Nothing pending: updates are not held.
    tly_gateway_subs_arrived (subs, topic, 7, update);
    assert (topic->held_count == 0 && topic->newest == 7);
    //  A whole state seen: remembered when newest, never held.
    tly_gateway_subs_newest (subs, topic, 6);
    assert (topic->newest == 7);
    tly_gateway_subs_newest (subs, topic, 8);
    assert (topic->newest == 8 && topic->held_count == 0);

    //  Snapshot deadlines come in order; a late id finds nothing.
    uint64_t old_id = two->snapshot_id;
    uint64_t first = tly_gateway_subs_pend (subs, two, false, 2000);
    uint64_t second = tly_gateway_subs_renew (subs, two, 555, one->reader, 2001);
    assert (first != second && first != old_id && two->request_id == 555 && !two->answered);
    assert (tly_gateway_subs_pending (subs, first) == NULL);
    assert (tly_gateway_subs_pending (subs, second) == two);
    assert (tly_gateway_subs_next_deadline (subs) == 2001);
    assert (tly_gateway_subs_overdue (subs, 2000) == NULL);
    assert (tly_gateway_subs_overdue (subs, 2001) == two);

    //  Stale: the client is scheduled, handed back every retry, and leaves
    //  the schedule with its last stale sub.
    tly_gateway_client_t *client = one->of.client;
    tly_gateway_subs_stale (subs, one, true, 300);
    assert (one->state == TLY_SUB_STALE && one->slow && client->stale == 1);
    assert (tly_gateway_subs_next_due (subs) == 300);
    assert (tly_gateway_subs_due (subs, 299, 399) == NULL);
    assert (tly_gateway_subs_due (subs, 300, 400) == client && client->retry_ms == 400);
    assert (tly_gateway_subs_due (subs, 300, 400) == NULL);
    tly_gateway_subs_stale (subs, two, false, 400);  //  from PENDING
    assert (two->state == TLY_SUB_STALE && !two->slow && two->of.client->stale == 1);
    assert (tly_gateway_subs_pending (subs, second) == NULL);
    assert (tly_gateway_subs_due (subs, 450, 500) == client);
    assert (tly_gateway_subs_due (subs, 450, 500) == two->of.client);
    tly_gateway_subs_pend (subs, one, true, 3000);
    assert (client->stale == 0 && client->pending == 1);
    assert (tly_gateway_subs_next_due (subs) == 500);
    tly_gateway_subs_live (subs, one, 9);
    assert (!one->slow && one->last == 9);
    //  A whole state sent to a LIVE sub may skip versions.
    tly_gateway_subs_jump (subs, one, 12);
    assert (one->state == TLY_SUB_LIVE && one->last == 12);
    assert (tly_gateway_subs_offer (one, 13) == TLY_OFFER_NEXT);

    //  Expiry order: least recently seen first, gone before everything.
    assert (tly_gateway_subs_oldest_seen (subs) == 10);
    assert (tly_gateway_subs_expired (subs, 9) == NULL);
    assert (tly_gateway_subs_expired (subs, 10) == client);
    tly_gateway_subs_touch (subs, client, 30);
    assert (tly_gateway_subs_expired (subs, 29) == two->of.client);
    tly_gateway_subs_gone (subs, client);
    assert (client->gone && tly_gateway_subs_expired (subs, INT64_MIN) == client);
    tly_gateway_subs_touch (subs, client, 40);
    assert (!client->gone && tly_gateway_subs_oldest_seen (subs) == 20);
    //  Every client, in the same order; state changes do not reorder them.
    assert (tly_gateway_subs_first_client (subs) == two->of.client);
    assert (tly_gateway_subs_next_client (subs, two->of.client) == client);
    assert (tly_gateway_subs_next_client (subs, client) == NULL);
    tly_gateway_subs_stale (subs, two, false, 600);
    assert (tly_gateway_subs_first_client (subs) == two->of.client);
    tly_gateway_subs_pend (subs, two, false, 3001);

    //  Removal: the topic goes with its last sub, a client with its last.
    uint8_t raw [TLY_GATEWAY_TOPIC_BYTES];
    uint8_t expected [TLY_GATEWAY_TOPIC_BYTES];
    memcpy (expected, topic->raw, sizeof (expected));
    assert (!tly_gateway_subs_remove (subs, two, raw));
    assert (tly_gateway_subs_next_due (subs) == INT64_MAX);
    assert (tly_gateway_subs_oldest_seen (subs) == 40);
    assert (tly_gateway_subs_remove (subs, one, raw));
    assert (memcmp (raw, expected, sizeof (raw)) == 0);
    assert (tly_gateway_subs_topic (subs, expected) == NULL);
    assert (tly_gateway_subs_size (subs) == 0 && tly_gateway_subs_oldest_seen (subs) == INT64_MAX);
}

static void
s_test_retries (tly_gateway_subs_t *subs)
{
    //  Two subs of one object, each with its own request, deadline 1100.
    tly_gateway_sub_t *sub = s_add (subs, "retry", 500, 100, true);
    tly_gateway_sub_t *other = s_add (subs, "retry2", 500, 100, false);
    assert (sub->attempts == 1 && sub->announced == 0);
    assert (tly_gateway_subs_unseen (subs, 1099) == NULL);
    assert (tly_gateway_subs_next_deadline (subs) == 1100);

    //  Announced snapshots wait for the bus, earliest seen_by first.
    uint64_t first = sub->snapshot_id;
    tly_gateway_subs_announced (subs, sub, 3, 600);
    tly_gateway_subs_announced (subs, other, 3, 650);
    assert (sub->announced == 3 && sub->seen_by_ms == 600);
    assert (tly_gateway_subs_next_deadline (subs) == 600);
    assert (tly_gateway_subs_unseen (subs, 599) == NULL);
    assert (tly_gateway_subs_unseen (subs, 600) == sub);

    //  Asking again: a fresh id (the old one finds nothing), the same deadline.
    uint64_t second = tly_gateway_subs_retry (subs, sub);
    assert (second != first && sub->snapshot_id == second);
    assert (sub->attempts == 2 && sub->announced == 0 && sub->deadline_ms == 1100);
    assert (tly_gateway_subs_pending (subs, first) == NULL);
    assert (tly_gateway_subs_pending (subs, second) == sub);
    assert (tly_gateway_subs_unseen (subs, 700) == other);
    assert (tly_gateway_subs_next_deadline (subs) == 650);
    for (uint32_t attempt = 3; attempt <= TLY_GATEWAY_SNAPSHOT_ATTEMPTS; attempt++) {
        tly_gateway_subs_announced (subs, sub, 3, 700 + attempt);
        assert (tly_gateway_subs_retry (subs, sub) == sub->snapshot_id);
        assert (sub->attempts == attempt);
    }
    assert (tly_gateway_subs_pending_size (subs) == 2);

    //  Leaving PENDING (live, stale) leaves both lists.
    tly_gateway_subs_announced (subs, sub, 4, 800);
    tly_gateway_subs_live (subs, sub, 4);
    assert (sub->attempts == 0 && sub->announced == 0 && sub->last == 4);
    assert (tly_gateway_subs_unseen (subs, 1000) == other);
    tly_gateway_subs_stale (subs, other, false, 900);
    assert (tly_gateway_subs_unseen (subs, 1000) == NULL && other->announced == 0);
    assert (tly_gateway_subs_next_deadline (subs) == INT64_MAX);
    uint8_t raw [TLY_GATEWAY_TOPIC_BYTES];
    assert (!tly_gateway_subs_remove (subs, other, raw));
    assert (tly_gateway_subs_remove (subs, sub, raw));
    assert (tly_gateway_subs_size (subs) == 0 && tly_gateway_subs_pending_size (subs) == 0);
}

static void
s_test_walks (tly_gateway_subs_t *subs)
{
    //  One client on three objects, three clients on one object.
    tly_gateway_sub_t *a = s_add (subs, "walker", 10, 50, true);
    s_add (subs, "walker", 11, 50, true);
    s_add (subs, "walker", 12, 50, true);
    s_add (subs, "other1", 10, 60, false);
    s_add (subs, "other2", 10, 60, false);
    size_t count = 0;
    for (tly_gateway_sub_t *sub = tly_gateway_subs_of_client (a->of.client); sub;
         sub = tly_gateway_subs_next_of_client (sub))
        count++;
    assert (count == 3 && a->of.client->subs == 3 && a->of.client->pending == 3);
    count = 0;
    for (tly_gateway_sub_t *sub = tly_gateway_subs_of_topic (a->of.topic); sub;
         sub = tly_gateway_subs_next_of_topic (sub))
        count++;
    assert (count == 3 && a->of.topic->subs == 3);
    //  The rest is left for destroy to free.
}

static void
s_test_hold_limits (tly_gateway_subs_t *subs, zframe_t *update)
{
    //  One topic holds the newest TLY_GATEWAY_HELD_PER_TOPIC updates.
    tly_gateway_sub_t *sub = s_add (subs, "ring", 1000, 70, true);
    tly_gateway_topic_t *topic = sub->of.topic;
    uint32_t base = tly_gateway_subs_held_size (subs);
    for (uint64_t version = 1; version <= TLY_GATEWAY_HELD_PER_TOPIC + 44; version++)
        tly_gateway_subs_arrived (subs, topic, version, update);
    assert (topic->held_count == TLY_GATEWAY_HELD_PER_TOPIC);
    assert (tly_gateway_subs_held (topic, 0)->version == 45);
    assert (tly_gateway_subs_held (topic, TLY_GATEWAY_HELD_PER_TOPIC - 1)->version
            == TLY_GATEWAY_HELD_PER_TOPIC + 44);
    assert (tly_gateway_subs_held_size (subs) == base + TLY_GATEWAY_HELD_PER_TOPIC);

    //  All topics together hold at most TLY_GATEWAY_HELD_TOTAL; past it an
    //  update is not held but still counts as the newest seen.
    uint32_t topics = TLY_GATEWAY_HELD_TOTAL / TLY_GATEWAY_HELD_PER_TOPIC + 2;
    tly_gateway_topic_t *last = NULL;
    for (uint32_t number = 0; number < topics; number++) {
        last = s_add (subs, "many", 2000 + number, 80, true)->of.topic;
        for (uint64_t version = 1; version <= TLY_GATEWAY_HELD_PER_TOPIC; version++)
            tly_gateway_subs_arrived (subs, last, version, update);
    }
    assert (tly_gateway_subs_held_size (subs) == TLY_GATEWAY_HELD_TOTAL);
    assert (last->held_count == 0 && last->newest == TLY_GATEWAY_HELD_PER_TOPIC);
}

void
tly_gateway_subs_test (bool verbose)
{
    if (verbose)
        printf (" * tly_gateway_subs: ");
    tly_gateway_subs_t *subs = tly_gateway_subs_new ();
    assert (subs);
    zframe_t *update = zframe_new ("update", 6);
    s_test_states (subs, update);
    s_test_retries (subs);
    s_test_walks (subs);
    s_test_hold_limits (subs, update);
    zframe_destroy (&update);
    //  Destroy frees every client, topic, sub and held update left.
    tly_gateway_subs_destroy (&subs);
    assert (subs == NULL);
    tly_gateway_subs_destroy (&subs);
    if (verbose)
        printf ("OK\n");
}
