//  tly_gateway_pending - the gateway's requests in flight to the router.
//  See tly_gateway_pending.h for the design.
#include "tly_gateway_pending.h"

#include <assert.h>
#include <stdlib.h>

#define NIL UINT32_MAX

typedef struct {
    zframe_t *identity;   //  the client that asked; NULL when free
    uint64_t request_id;  //  the client's id, echoed in its reply
    int64_t deadline_ms;  //  monotonic clock
    uint32_t generation;  //  bumped on every use, so stale ids miss
    uint32_t older;       //  FIFO neighbours (slot indices or NIL)
    uint32_t newer;
    tly_pending_kind_t kind;  //  0 when free
    zframe_t *sent;           //  what went to the router, kept for a resend, or NULL
} slot_t;

struct _tly_gateway_pending_t {
    uint32_t capacity;
    uint32_t size;         //  entries waiting
    slot_t *slots;         //  capacity slots
    uint32_t *free_slots;  //  stack of free slot indices
    uint32_t free_count;
    uint32_t oldest;    //  FIFO head: expires first
    uint32_t newest;    //  FIFO tail
    size_t kept;        //  bytes of the slots' sent messages
    size_t keep_bytes;  //  at most
};

static void
s_check_invariants (tly_gateway_pending_t *self)
{
    assert (self->size + self->free_count == self->capacity);
    assert ((self->size == 0) == (self->oldest == NIL));
    assert ((self->size == 0) == (self->newest == NIL));
}

tly_gateway_pending_t *
tly_gateway_pending_new (uint32_t capacity, size_t keep_bytes)
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
    self->keep_bytes = keep_bytes;
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
        for (uint32_t index = 0; index < self->capacity; index++) {
            zframe_destroy (&self->slots [index].identity);
            zframe_destroy (&self->slots [index].sent);
        }
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
        slot->generation = 1;  //  keeps every id non-zero
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
s_release (tly_gateway_pending_t *self, uint32_t index, zframe_t **identity_p, uint64_t *request_id)
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
    if (slot->sent) {
        assert (self->kept >= zframe_size (slot->sent));
        self->kept -= zframe_size (slot->sent);
        zframe_destroy (&slot->sent);
    }
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
tly_gateway_pending_expire (tly_gateway_pending_t *self, int64_t now_ms, zframe_t **identity_p,
                            uint64_t *request_id, tly_pending_kind_t *kind)
{
    assert (self);
    assert (identity_p && request_id && kind);
    if (self->oldest == NIL || self->slots [self->oldest].deadline_ms > now_ms)
        return -1;
    *kind = self->slots [self->oldest].kind;
    s_release (self, self->oldest, identity_p, request_id);
    return 0;
}

//  The busy slot that id names, or NULL.
static slot_t *
s_slot (tly_gateway_pending_t *self, uint64_t id)
{
    uint64_t index = id & UINT32_MAX;
    if (index >= self->capacity)
        return NULL;
    slot_t *slot = &self->slots [index];
    if (slot->kind == 0 || s_id_of ((uint32_t) index, slot->generation) != id)
        return NULL;
    return slot;
}

zframe_t *
tly_gateway_pending_keep (tly_gateway_pending_t *self, uint64_t id, zframe_t **frame_p)
{
    assert (self && frame_p && *frame_p);
    slot_t *slot = s_slot (self, id);
    assert (slot && !slot->sent);
    size_t size = zframe_size (*frame_p);
    if (size > self->keep_bytes - self->kept)
        return NULL;
    slot->sent = *frame_p;
    *frame_p = NULL;
    self->kept += size;
    return slot->sent;
}

size_t
tly_gateway_pending_resend (tly_gateway_pending_t *self, void *sock)
{
    assert (self && sock);
    size_t sent = 0;
    for (uint32_t index = self->oldest; index != NIL; index = self->slots [index].newer)
        if (self->slots [index].sent
            && zframe_send (&self->slots [index].sent, sock, ZFRAME_REUSE | ZFRAME_DONTWAIT) == 0)
            sent++;
    return sent;
}

size_t
tly_gateway_pending_kept_bytes (tly_gateway_pending_t *self)
{
    assert (self);
    return self->kept;
}

int64_t
tly_gateway_pending_next_deadline (tly_gateway_pending_t *self)
{
    assert (self);
    return self->oldest == NIL ? INT64_MAX : self->slots [self->oldest].deadline_ms;
}

uint32_t
tly_gateway_pending_size (tly_gateway_pending_t *self)
{
    assert (self);
    return self->size;
}
