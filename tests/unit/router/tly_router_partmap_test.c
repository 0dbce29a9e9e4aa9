//  tly_router_partmap_test - which partitions move when actors come and go.
#include "tly_router_partmap.h"

#include <assert.h>
#include <stdio.h>

void
tly_router_partmap_test (bool verbose)
{
    if (verbose)
        printf (" * tly_router_partmap: ");
    tly_router_partmap_t *self = tly_router_partmap_new (8);
    assert (self && tly_router_partmap_count (self) == 8);
    uint32_t slot;
    uint64_t incarnation;
    tly_router_partmap_owner (self, 7, &slot, &incarnation);
    assert (incarnation == 0 && tly_router_partmap_epoch (self, 7) == 0);

    tly_router_actor_t a = { .incarnation = 1, .slot = 0 };
    tly_router_actor_t b = { .incarnation = 2, .slot = 1 };
    tly_router_actor_t *both [] = { &a, &b };
    tly_router_actor_t *only_b [] = { &b };

    //  First round: everything moves to a, b alternately.
    assert (tly_router_partmap_moves (self, both, 2) == 8);
    tly_router_partmap_apply (self, both, 2, 1);
    for (uint32_t partition = 0; partition < 8; partition++) {
        tly_router_partmap_owner (self, partition, &slot, &incarnation);
        assert (incarnation == (partition % 2 ? 2 : 1) && slot == partition % 2);
        assert (tly_router_partmap_epoch (self, partition) == 1);
    }
    //  Same actors again: nothing moves.
    assert (tly_router_partmap_moves (self, both, 2) == 0);
    //  a dies: only a's partitions move and take the new epoch.
    assert (tly_router_partmap_moves (self, only_b, 1) == 4);
    tly_router_partmap_apply (self, only_b, 1, 2);
    for (uint32_t partition = 0; partition < 8; partition++) {
        tly_router_partmap_owner (self, partition, &slot, &incarnation);
        assert (incarnation == 2);
        assert (tly_router_partmap_epoch (self, partition) == (partition % 2 ? 1 : 2));
    }
    //  Nobody left: partitions lose their owner and keep their epoch.
    assert (tly_router_partmap_moves (self, NULL, 0) == 0);
    tly_router_partmap_apply (self, NULL, 0, 2);
    tly_router_partmap_owner (self, 3, &slot, &incarnation);
    assert (incarnation == 0 && tly_router_partmap_epoch (self, 3) == 1);
    //  More actors than partitions: the extra ones own nothing.
    tly_router_partmap_t *one = tly_router_partmap_new (1);
    assert (one);
    assert (tly_router_partmap_moves (one, both, 2) == 1);
    tly_router_partmap_apply (one, both, 2, 5);
    tly_router_partmap_owner (one, 0, &slot, &incarnation);
    assert (incarnation == 1 && tly_router_partmap_epoch (one, 0) == 5);

    tly_router_partmap_destroy (&one);
    tly_router_partmap_destroy (&self);
    tly_router_partmap_destroy (&self);
    assert (self == NULL);
    if (verbose)
        printf ("OK\n");
}
