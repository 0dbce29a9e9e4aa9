//  tly_router_partmap_test - the assignment rule (rendezvous hashing), which
//  partitions move when actors come and go, and the epochs they take.
//
//  The rule is deterministic, so the spread checks below either always pass
//  or never do; -v prints the figures they check (and docs/architecture.md
//  quotes the 2 -> 3 -> 4 -> 3 line).
#include "tly_router_partmap.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define S_PARTITIONS 4096  //  for the spread checks
#define S_ACTORS_MAX 9     //  1..8 actors, then one more
#define S_FIGURE_P   256   //  the default partition count

static void
s_actor (tly_router_actor_t *actor, const char *name, uint32_t slot, uint64_t incarnation)
{
    memset (actor, 0, sizeof *actor);
    snprintf (actor->name, sizeof actor->name, "%s", name);
    actor->name_hash = tly_router_partmap_name_hash (actor->name);
    actor->slot = slot;
    actor->incarnation = incarnation;
}

//  Square root by Newton's method, for printing a margin (no libm here).
static double
s_sqrt (double value)
{
    double root = value > 1 ? value : 1;
    for (int step = 0; step < 64; step++)
        root = (root + value / root) / 2;
    return root;
}

//  Binomial check: moving count partitions out of partitions, each with
//  probability 1/actors, lies within 4 standard deviations of the mean. A
//  random rule would miss this with probability about 6e-5 per check; the
//  rule is fixed, so it holds for these names every time or never.
static bool
s_within (uint32_t count, uint32_t partitions, size_t actors)
{
    double share = 1.0 / (double) actors;
    double mean = partitions * share;
    double variance = partitions * share * (1 - share);
    double off = (double) count - mean;
    return off * off <= 16 * variance;
}

static double
s_margin (uint32_t partitions, size_t actors)
{
    double share = 1.0 / (double) actors;
    return 4 * s_sqrt (partitions * share * (1 - share));
}

//  Every partition has exactly one owner, one of live, the one the rule picks,
//  and appears once in the owned lists, which are in ascending order.
static void
s_check_owners (tly_router_partmap_t *self, tly_router_actor_t **live, size_t n)
{
    uint32_t count = tly_router_partmap_count (self);
    static uint8_t seen [S_PARTITIONS];
    assert (count <= S_PARTITIONS);
    memset (seen, 0, sizeof seen);
    uint32_t total = 0;
    for (size_t index = 0; index < n; index++) {
        const uint32_t *partitions;
        uint32_t owned = tly_router_partmap_owned (self, live [index]->slot,
                                                   live [index]->incarnation, &partitions);
        for (uint32_t at = 0; at < owned; at++) {
            assert (partitions [at] < count && seen [partitions [at]]++ == 0);
            assert (at == 0 || partitions [at] > partitions [at - 1]);
        }
        total += owned;
    }
    assert (total == count);
    for (uint32_t partition = 0; partition < count; partition++) {
        uint32_t slot;
        uint64_t incarnation;
        tly_router_partmap_owner (self, partition, &slot, &incarnation);
        tly_router_actor_t *owner = live [tly_router_partmap_pick (live, n, partition)];
        assert (seen [partition] == 1);
        assert (slot == owner->slot && incarnation == owner->incarnation);
    }
}

static uint32_t
s_owned (tly_router_partmap_t *self, tly_router_actor_t *actor)
{
    const uint32_t *partitions;
    return tly_router_partmap_owned (self, actor->slot, actor->incarnation, &partitions);
}

//  The rule itself: a function of the name and the partition only, the same
//  whatever order the live actors come in, and not the mod n rule.
static void
s_test_rule (void)
{
    assert (tly_router_partmap_name_hash ("balance-1")
            == tly_router_partmap_name_hash ("balance-1"));
    assert (tly_router_partmap_name_hash ("balance-1")
            != tly_router_partmap_name_hash ("balance-2"));
    uint64_t hash = tly_router_partmap_name_hash ("a");
    assert (tly_router_partmap_weight (hash, 7) == tly_router_partmap_weight (hash, 7));
    assert (tly_router_partmap_weight (hash, 7) != tly_router_partmap_weight (hash, 8));

    tly_router_actor_t a, b, c;
    s_actor (&a, "a", 0, 1);
    s_actor (&b, "b", 1, 2);
    s_actor (&c, "c", 2, 3);
    tly_router_actor_t *abc [] = { &a, &b, &c };
    tly_router_actor_t *cab [] = { &c, &a, &b };
    uint32_t wins [3] = { 0 };
    bool mod_n = true;
    for (uint32_t partition = 0; partition < 64; partition++) {
        tly_router_actor_t *owner = abc [tly_router_partmap_pick (abc, 3, partition)];
        assert (owner == cab [tly_router_partmap_pick (cab, 3, partition)]);
        //  The owner's weight is the highest.
        for (size_t index = 0; index < 3; index++)
            assert (tly_router_partmap_weight (owner->name_hash, partition)
                    >= tly_router_partmap_weight (abc [index]->name_hash, partition));
        wins [owner->slot]++;
        mod_n = mod_n && owner == abc [partition % 3];
    }
    assert (wins [0] > 0 && wins [1] > 0 && wins [2] > 0 && !mod_n);

    //  Two names whose hashes collide tie on every partition: the smaller
    //  name wins, in any order.
    tly_router_actor_t twin = b;
    snprintf (twin.name, sizeof twin.name, "%s", "a");
    twin.slot = 3;
    tly_router_actor_t *tied [] = { &b, &twin };
    tly_router_actor_t *tied_back [] = { &twin, &b };
    assert (tly_router_partmap_pick (tied, 2, 5) == 1);
    assert (tly_router_partmap_pick (tied_back, 2, 5) == 0);
}

//  A small map through its life: first round, no change, a death, nobody
//  left, a restart; epochs as the router hands them out.
static void
s_test_epochs (void)
{
    tly_router_partmap_t *self = tly_router_partmap_new (8);
    assert (self && tly_router_partmap_count (self) == 8);
    uint32_t slot;
    uint64_t incarnation;
    tly_router_partmap_owner (self, 7, &slot, &incarnation);
    assert (incarnation == 0 && tly_router_partmap_epoch (self, 7) == 0);

    tly_router_actor_t a, b;
    s_actor (&a, "a", 0, 1);
    s_actor (&b, "b", 1, 2);
    tly_router_actor_t *both [] = { &a, &b };
    tly_router_actor_t *both_back [] = { &b, &a };
    tly_router_actor_t *only_b [] = { &b };

    //  First round: everything moves, each partition to the actor the rule
    //  picks, with epoch 1.
    assert (tly_router_partmap_plan (self, both, 2) == 8);
    tly_router_partmap_apply (self, 1);
    s_check_owners (self, both, 2);
    for (uint32_t partition = 0; partition < 8; partition++)
        assert (tly_router_partmap_epoch (self, partition) == 1);
    uint32_t a_owned = s_owned (self, &a);
    assert (a_owned > 0 && a_owned < 8);
    bool was_a [8];
    for (uint32_t partition = 0; partition < 8; partition++) {
        tly_router_partmap_owner (self, partition, &slot, &incarnation);
        was_a [partition] = incarnation == a.incarnation;
    }
    //  Same actors in another order: nothing moves, and a round that moves
    //  nothing keeps the epoch it had.
    assert (tly_router_partmap_plan (self, both_back, 2) == 0);
    tly_router_partmap_apply (self, 1);
    s_check_owners (self, both, 2);

    //  a dies: only a's partitions move, and they take the new epoch.
    assert (tly_router_partmap_plan (self, only_b, 1) == a_owned);
    tly_router_partmap_apply (self, 2);
    s_check_owners (self, only_b, 1);
    assert (s_owned (self, &b) == 8);
    for (uint32_t partition = 0; partition < 8; partition++)
        assert (tly_router_partmap_epoch (self, partition) == (was_a [partition] ? 2 : 1));

    //  a comes back under its name (a new incarnation, another slot): it
    //  wins back exactly the partitions it had, with a newer epoch. Its old
    //  incarnation owns nothing, and neither does a's new one before apply.
    tly_router_actor_t again;
    s_actor (&again, "a", 2, 3);
    tly_router_actor_t *back [] = { &b, &again };
    assert (tly_router_partmap_plan (self, back, 2) == a_owned);
    assert (s_owned (self, &again) == 0);
    tly_router_partmap_apply (self, 3);
    s_check_owners (self, back, 2);
    assert (s_owned (self, &again) == a_owned && s_owned (self, &a) == 0);
    for (uint32_t partition = 0; partition < 8; partition++) {
        tly_router_partmap_owner (self, partition, &slot, &incarnation);
        assert ((incarnation == again.incarnation) == was_a [partition]);
        assert (tly_router_partmap_epoch (self, partition) == (was_a [partition] ? 3 : 1));
    }
    //  A plan that is never applied (the epoch could not be saved) changes
    //  nothing; the next one is planned afresh.
    assert (tly_router_partmap_plan (self, only_b, 1) == a_owned);
    assert (tly_router_partmap_plan (self, back, 2) == 0);
    tly_router_partmap_apply (self, 3);
    s_check_owners (self, back, 2);

    //  Nobody left: partitions lose their owner and keep their epoch.
    assert (tly_router_partmap_plan (self, NULL, 0) == 0);
    tly_router_partmap_apply (self, 3);
    tly_router_partmap_owner (self, 3, &slot, &incarnation);
    assert (incarnation == 0 && tly_router_partmap_epoch (self, 3) == (was_a [3] ? 3 : 1));
    assert (s_owned (self, &b) == 0 && s_owned (self, &again) == 0);

    //  More actors than partitions: the extra ones own nothing.
    tly_router_partmap_t *one = tly_router_partmap_new (1);
    assert (one);
    assert (tly_router_partmap_plan (one, both, 2) == 1);
    tly_router_partmap_apply (one, 5);
    s_check_owners (one, both, 2);
    assert (tly_router_partmap_epoch (one, 0) == 5);
    assert (s_owned (one, &a) + s_owned (one, &b) == 1);

    tly_router_partmap_destroy (&one);
    tly_router_partmap_destroy (&self);
    tly_router_partmap_destroy (&self);
    assert (self == NULL);
}

//  Actors balance-1..balance-S_ACTORS_MAX over S_PARTITIONS partitions.
typedef struct {
    tly_router_actor_t actors [S_ACTORS_MAX];
    tly_router_actor_t *live [S_ACTORS_MAX];
    uint64_t next_incarnation;
    uint64_t epoch;
} s_fleet_t;

static void
s_fleet_init (s_fleet_t *fleet)
{
    memset (fleet, 0, sizeof *fleet);
    for (uint32_t index = 0; index < S_ACTORS_MAX; index++) {
        char name [32];
        snprintf (name, sizeof name, "balance-%u", index + 1);
        s_actor (&fleet->actors [index], name, index, index + 1);
        fleet->live [index] = &fleet->actors [index];
    }
    fleet->next_incarnation = S_ACTORS_MAX + 1;
}

//  One router round over live: plan, a new epoch if anything moves, apply.
static uint32_t
s_round (tly_router_partmap_t *self, s_fleet_t *fleet, tly_router_actor_t **live, size_t n)
{
    uint32_t moves = tly_router_partmap_plan (self, live, n);
    if (moves > 0)
        fleet->epoch++;
    tly_router_partmap_apply (self, fleet->epoch);
    s_check_owners (self, live, n);
    return moves;
}

//  The same live set, in any order, gives the same map.
static void
s_test_any_order (void)
{
    s_fleet_t fleet;
    s_fleet_init (&fleet);
    tly_router_partmap_t *self = tly_router_partmap_new (S_PARTITIONS);
    tly_router_partmap_t *other = tly_router_partmap_new (S_PARTITIONS);
    assert (self && other);
    assert (s_round (self, &fleet, fleet.live, S_ACTORS_MAX) == S_PARTITIONS);
    //  Shuffles by a fixed linear congruential sequence (Fisher-Yates).
    uint64_t state = 42;
    tly_router_actor_t *shuffled [S_ACTORS_MAX];
    memcpy (shuffled, fleet.live, sizeof shuffled);
    for (int trial = 0; trial < 16; trial++) {
        for (size_t index = S_ACTORS_MAX - 1; index > 0; index--) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t pick = (size_t) ((state >> 33) % (index + 1));
            tly_router_actor_t *swap = shuffled [index];
            shuffled [index] = shuffled [pick];
            shuffled [pick] = swap;
        }
        assert (tly_router_partmap_plan (self, shuffled, S_ACTORS_MAX) == 0);
        tly_router_partmap_apply (self, fleet.epoch);
    }
    //  A fresh map from the last order matches partition by partition.
    assert (tly_router_partmap_plan (other, shuffled, S_ACTORS_MAX) == S_PARTITIONS);
    tly_router_partmap_apply (other, 1);
    for (uint32_t partition = 0; partition < S_PARTITIONS; partition++) {
        uint32_t slot, other_slot;
        uint64_t incarnation, other_incarnation;
        tly_router_partmap_owner (self, partition, &slot, &incarnation);
        tly_router_partmap_owner (other, partition, &other_slot, &other_incarnation);
        assert (slot == other_slot && incarnation == other_incarnation);
    }
    tly_router_partmap_destroy (&other);
    tly_router_partmap_destroy (&self);
}

//  Scaling: adding the (n+1)-th actor moves about P/(n+1) partitions, all
//  to the newcomer; removing any one of them moves exactly its own, and it
//  wins back the same ones when it returns. Every actor owns about P/n.
static void
s_test_scaling (bool verbose)
{
    s_fleet_t fleet;
    s_fleet_init (&fleet);
    tly_router_partmap_t *self = tly_router_partmap_new (S_PARTITIONS);
    assert (self);
    assert (s_round (self, &fleet, fleet.live, 1) == S_PARTITIONS);
    if (verbose)
        printf ("\n   P = %d: adding the n-th actor moves (expected P/n, margin 4 sd); "
                "removing one moves its own\n",
                S_PARTITIONS);
    for (size_t n = 2; n <= S_ACTORS_MAX; n++) {
        tly_router_actor_t *newcomer = fleet.live [n - 1];
        uint64_t before = fleet.epoch;
        uint32_t added = s_round (self, &fleet, fleet.live, n);
        assert (s_within (added, S_PARTITIONS, n));
        assert (s_owned (self, newcomer) == added);
        for (uint32_t partition = 0; partition < S_PARTITIONS; partition++) {
            uint32_t slot;
            uint64_t incarnation;
            tly_router_partmap_owner (self, partition, &slot, &incarnation);
            bool moved = tly_router_partmap_epoch (self, partition) > before;
            assert (moved == (incarnation == newcomer->incarnation));
        }
        uint32_t fewest = S_PARTITIONS, most = 0;
        for (size_t index = 0; index < n; index++) {
            uint32_t owned = s_owned (self, fleet.live [index]);
            assert (s_within (owned, S_PARTITIONS, n));
            fewest = owned < fewest ? owned : fewest;
            most = owned > most ? owned : most;
        }
        //  Remove each actor in turn, then bring it back under its name.
        uint32_t removed_min = S_PARTITIONS, removed_max = 0;
        for (size_t gone = 0; gone < n; gone++) {
            tly_router_actor_t *leaving = fleet.live [gone];
            uint32_t owned = s_owned (self, leaving);
            static bool was_its [S_PARTITIONS];
            static uint64_t epochs [S_PARTITIONS];
            static uint64_t owners [S_PARTITIONS];
            for (uint32_t partition = 0; partition < S_PARTITIONS; partition++) {
                uint32_t slot;
                tly_router_partmap_owner (self, partition, &slot, &owners [partition]);
                was_its [partition] = owners [partition] == leaving->incarnation;
                epochs [partition] = tly_router_partmap_epoch (self, partition);
            }
            tly_router_actor_t *rest [S_ACTORS_MAX];
            size_t size = 0;
            for (size_t index = 0; index < n; index++)
                if (index != gone)
                    rest [size++] = fleet.live [index];
            uint32_t removed = s_round (self, &fleet, rest, size);
            assert (removed == owned && s_within (removed, S_PARTITIONS, n));
            removed_min = removed < removed_min ? removed : removed_min;
            removed_max = removed > removed_max ? removed : removed_max;
            for (uint32_t partition = 0; partition < S_PARTITIONS; partition++) {
                uint32_t slot;
                uint64_t incarnation;
                tly_router_partmap_owner (self, partition, &slot, &incarnation);
                if (was_its [partition])
                    assert (tly_router_partmap_epoch (self, partition) == fleet.epoch);
                else
                    assert (incarnation == owners [partition]
                            && tly_router_partmap_epoch (self, partition) == epochs [partition]);
            }
            //  Restarted: a new incarnation, the same name, the same partitions.
            leaving->incarnation = fleet.next_incarnation++;
            assert (s_round (self, &fleet, fleet.live, n) == owned);
            for (uint32_t partition = 0; partition < S_PARTITIONS; partition++) {
                uint32_t slot;
                uint64_t incarnation;
                tly_router_partmap_owner (self, partition, &slot, &incarnation);
                assert ((incarnation == leaving->incarnation) == was_its [partition]);
            }
        }
        if (verbose)
            printf ("   %zu -> %zu actors: %4u moved (expected %4.0f +- %3.0f); owned %u..%u; "
                    "removing one moved %u..%u\n",
                    n - 1, n, added, (double) S_PARTITIONS / n, s_margin (S_PARTITIONS, n), fewest,
                    most, removed_min, removed_max);
    }
    tly_router_partmap_destroy (&self);
}

//  Partitions the rule before this one (sorted names, p mod n) moved between
//  the first n_from and the first n_to of the sorted names.
static uint32_t
s_mod_n_moves (uint32_t partitions, uint32_t n_from, uint32_t n_to)
{
    uint32_t moves = 0;
    for (uint32_t partition = 0; partition < partitions; partition++)
        moves += partition % n_from != partition % n_to;
    return moves;
}

//  The figure docs/architecture.md quotes: P = 256, balance-1..balance-4,
//  scaled 2 -> 3 -> 4 -> 3 (scaling down stops the highest-numbered).
static void
s_test_figure (bool verbose)
{
    s_fleet_t fleet;
    s_fleet_init (&fleet);
    tly_router_partmap_t *self = tly_router_partmap_new (S_FIGURE_P);
    assert (self);
    assert (s_round (self, &fleet, fleet.live, 2) == S_FIGURE_P);
    uint32_t up_3 = s_round (self, &fleet, fleet.live, 3);
    uint32_t up_4 = s_round (self, &fleet, fleet.live, 4);
    uint32_t down_3 = s_round (self, &fleet, fleet.live, 3);
    assert (up_4 == down_3);
    assert (s_within (up_3, S_FIGURE_P, 3) && s_within (up_4, S_FIGURE_P, 4));
    if (verbose)
        printf ("   P = %d, balance-1..4, 2 -> 3 -> 4 -> 3 actors: moved %u, %u, %u "
                "(p mod n moved %u, %u, %u)\n",
                S_FIGURE_P, up_3, up_4, down_3, s_mod_n_moves (S_FIGURE_P, 2, 3),
                s_mod_n_moves (S_FIGURE_P, 3, 4), s_mod_n_moves (S_FIGURE_P, 4, 3));
    tly_router_partmap_destroy (&self);
}

void
tly_router_partmap_test (bool verbose)
{
    if (verbose)
        printf (" * tly_router_partmap: ");
    s_test_rule ();
    s_test_epochs ();
    s_test_any_order ();
    s_test_scaling (verbose);
    s_test_figure (verbose);
    if (verbose)
        printf ("OK\n");
}
