//  tly_gateway_pending - the gateway's requests in flight to the router.
//  See tly_gateway_pending.h for the design.
#include "tly_gateway_pending.h"

#include <assert.h>
#include <stdlib.h>

#define NIL UINT32_MAX

typedef struct {
    zframe_t *identity;             //  the client that asked; NULL when free
    uint64_t request_id;            //  the client's id, echoed in its reply
    int64_t deadline_ms;            //  monotonic clock
    uint32_t generation;            //  bumped on every use, so stale ids miss
    uint32_t older;                 //  FIFO neighbours (slot indices or NIL)
    uint32_t newer;
    tly_pending_kind_t kind;        //  0 when free
} slot_t;

struct _tly_gateway_pending_t {
    uint32_t capacity;
    uint32_t size;                  //  entries waiting
    slot_t *slots;                  //  capacity slots
    uint32_t *free_slots;           //  stack of free slot indices
    uint32_t free_count;
    uint32_t oldest;                //  FIFO head: expires first
    uint32_t newest;                //  FIFO tail
};

static void
s_check_invariants (tly_gateway_pending_t *self)
{
    assert (self->size + self->free_count == self->capacity);
    assert ((self->size == 0) == (self->oldest == NIL));
    assert ((self->size == 0) == (self->newest == NIL));
}

tly_gateway_pending_t *
tly_gateway_pending_new (uint32_t capacity)
{
    assert (capacity >= 1 && capacity <= TLY_GATEWAY_PENDING_LIMIT);
    tly_gateway_pending_t *self = calloc (1, sizeof (*self));
    if (!self)
        return NULL;
    self->slots = calloc (capacity, sizeof (slot_t));
    self->free_slots = calloc (capacity, sizeof (uint32_t));
    if (!self->slots || !self->free_slots) {
        tly_gateway_pending_destroy (&self);
        return NULL;
    }
    self->capacity = capacity;
    //  Lowest index on top of the stack: the table fills from the front.
    for (uint32_t index = 0; index < capacity; index++)
        self->free_slots [index] = capacity - 1 - index;
    self->free_count = capacity;
    self->oldest = NIL;
    self->newest = NIL;
    s_check_invariants (self);
    return self;
}

void
tly_gateway_pending_destroy (tly_gateway_pending_t **self_p)
{
    assert (self_p);
    tly_gateway_pending_t *self = *self_p;
    if (!self)
        return;
    if (self->slots)
        for (uint32_t index = 0; index < self->capacity; index++)
            zframe_destroy (&self->slots [index].identity);
    free (self->slots);
    free (self->free_slots);
    free (self);
    *self_p = NULL;
}

static uint64_t
s_id_of (uint32_t index, uint32_t generation)
{
    return ((uint64_t) generation << 32) | index;
}

uint64_t
tly_gateway_pending_add (tly_gateway_pending_t *self, tly_pending_kind_t kind,
                         zframe_t **identity_p, uint64_t request_id, int64_t deadline_ms)
{
    assert (self);
    assert (kind == TLY_PENDING_ROUTE || kind == TLY_PENDING_STATUS);
    assert (identity_p && *identity_p);
    if (self->free_count == 0)
        return 0;
    //  One timeout for every request: arrival order is deadline order.
    assert (self->newest == NIL || self->slots [self->newest].deadline_ms <= deadline_ms);

    uint32_t index = self->free_slots [--self->free_count];
    slot_t *slot = &self->slots [index];
    assert (slot->kind == 0 && slot->identity == NULL);
    slot->generation++;
    if (slot->generation == 0)
        slot->generation = 1;       //  keeps every id non-zero
    slot->kind = kind;
    slot->identity = *identity_p;
    *identity_p = NULL;
    slot->request_id = request_id;
    slot->deadline_ms = deadline_ms;
    slot->older = self->newest;
    slot->newer = NIL;
    if (self->newest == NIL)
        self->oldest = index;
    else
        self->slots [self->newest].newer = index;
    self->newest = index;
    self->size++;
    s_check_invariants (self);
    return s_id_of (index, slot->generation);
}

//  Unlinks a busy slot, frees it and hands its contents back.
static void
s_release (tly_gateway_pending_t *self, uint32_t index, zframe_t **identity_p,
           uint64_t *request_id)
{
    slot_t *slot = &self->slots [index];
    assert (slot->kind != 0 && slot->identity);
    if (slot->older == NIL)
        self->oldest = slot->newer;
    else
        self->slots [slot->older].newer = slot->newer;
    if (slot->newer == NIL)
        self->newest = slot->older;
    else
        self->slots [slot->newer].older = slot->older;

    *identity_p = slot->identity;
    *request_id = slot->request_id;
    slot->identity = NULL;
    slot->kind = 0;
    slot->older = NIL;
    slot->newer = NIL;
    assert (self->free_count < self->capacity);
    self->free_slots [self->free_count++] = index;
    self->size--;
    s_check_invariants (self);
}

int
tly_gateway_pending_take (tly_gateway_pending_t *self, uint64_t id, tly_pending_kind_t kind,
                          zframe_t **identity_p, uint64_t *request_id)
{
    assert (self);
    assert (identity_p && request_id);
    uint64_t index = id & UINT32_MAX;
    if (index >= self->capacity)
        return -1;
    slot_t *slot = &self->slots [index];
    if (slot->kind != kind || s_id_of ((uint32_t) index, slot->generation) != id)
        return -1;
    s_release (self, (uint32_t) index, identity_p, request_id);
    return 0;
}

int
tly_gateway_pending_expire (tly_gateway_pending_t *self, int64_t now_ms,
                            zframe_t **identity_p, uint64_t *request_id,
                            tly_pending_kind_t *kind)
{
    assert (self);
    assert (identity_p && request_id && kind);
    if (self->oldest == NIL || self->slots [self->oldest].deadline_ms > now_ms)
        return -1;
    *kind = self->slots [self->oldest].kind;
    s_release (self, self->oldest, identity_p, request_id);
    return 0;
}

int64_t
tly_gateway_pending_next_deadline (tly_gateway_pending_t *self)
{
    assert (self);
    return self->oldest == NIL? INT64_MAX: self->slots [self->oldest].deadline_ms;
}

uint32_t
tly_gateway_pending_size (tly_gateway_pending_t *self)
{
    assert (self);
    return self->size;
}

//  --------------------------------------------------------------------------
//  Self-test

static zframe_t *
s_identity (const char *name)
{
    return zframe_new (name, strlen (name));
}

void
tly_gateway_pending_test (bool verbose)
{
    if (verbose)
        printf (" * tly_gateway_pending: ");

    tly_gateway_pending_t *pending = tly_gateway_pending_new (3);
    assert (pending);
    assert (tly_gateway_pending_size (pending) == 0);
    assert (tly_gateway_pending_next_deadline (pending) == INT64_MAX);

    //  Fill to capacity: ids are distinct and non-zero.
    zframe_t *identity = s_identity ("a");
    uint64_t id_a = tly_gateway_pending_add (pending, TLY_PENDING_ROUTE, &identity, 11, 100);
    assert (id_a != 0 && identity == NULL);
    identity = s_identity ("b");
    uint64_t id_b = tly_gateway_pending_add (pending, TLY_PENDING_STATUS, &identity, 12, 100);
    identity = s_identity ("c");
    uint64_t id_c = tly_gateway_pending_add (pending, TLY_PENDING_ROUTE, &identity, 13, 200);
    assert (id_b != 0 && id_c != 0 && id_a != id_b && id_b != id_c && id_a != id_c);
    assert (tly_gateway_pending_size (pending) == 3);

    //  One over capacity: refused, identity stays with the caller.
    identity = s_identity ("d");
    assert (tly_gateway_pending_add (pending, TLY_PENDING_ROUTE, &identity, 14, 200) == 0);
    assert (identity != NULL);

    //  Take from the middle; a second take, a wrong kind or a forged id all miss.
    uint64_t request_id = 0;
    zframe_t *taken = NULL;
    assert (tly_gateway_pending_take (pending, id_b, TLY_PENDING_ROUTE, &taken, &request_id) == -1);
    assert (tly_gateway_pending_take (pending, id_b, TLY_PENDING_STATUS, &taken, &request_id) == 0);
    assert (request_id == 12 && zframe_streq (taken, "b"));
    zframe_destroy (&taken);
    assert (tly_gateway_pending_take (pending, id_b, TLY_PENDING_STATUS, &taken, &request_id) == -1);
    assert (tly_gateway_pending_take (pending, id_a + (1ULL << 32), TLY_PENDING_ROUTE,
                                      &taken, &request_id) == -1);
    assert (tly_gateway_pending_take (pending, 7, TLY_PENDING_ROUTE, &taken, &request_id) == -1);
    assert (tly_gateway_pending_size (pending) == 2);

    //  The freed slot is reused under a new id; the old id still misses.
    uint64_t id_d = tly_gateway_pending_add (pending, TLY_PENDING_ROUTE, &identity, 14, 300);
    assert (id_d != 0 && id_d != id_b && identity == NULL);
    assert (tly_gateway_pending_take (pending, id_b, TLY_PENDING_ROUTE, &taken, &request_id) == -1);

    //  Expiry goes oldest first and stops at the first live deadline.
    tly_pending_kind_t kind = 0;
    assert (tly_gateway_pending_next_deadline (pending) == 100);
    assert (tly_gateway_pending_expire (pending, 99, &taken, &request_id, &kind) == -1);
    assert (tly_gateway_pending_expire (pending, 250, &taken, &request_id, &kind) == 0);
    assert (request_id == 11 && kind == TLY_PENDING_ROUTE && zframe_streq (taken, "a"));
    zframe_destroy (&taken);
    assert (tly_gateway_pending_expire (pending, 250, &taken, &request_id, &kind) == 0);
    assert (request_id == 13 && zframe_streq (taken, "c"));
    zframe_destroy (&taken);
    assert (tly_gateway_pending_expire (pending, 250, &taken, &request_id, &kind) == -1);
    assert (tly_gateway_pending_next_deadline (pending) == 300);
    assert (tly_gateway_pending_take (pending, id_a, TLY_PENDING_ROUTE, &taken, &request_id) == -1);

    //  Destroy frees what is still waiting.
    tly_gateway_pending_destroy (&pending);
    assert (pending == NULL);
    tly_gateway_pending_destroy (&pending);

    if (verbose)
        printf ("OK\n");
}
