//  tly_audit_drain - the requests one turn of the audit writer takes off its socket.
#include "tly_audit_drain.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tly_log.h"

tly_audit_drain_t *
tly_audit_drain_new (void)
{
    tly_audit_drain_t *self = calloc (1, sizeof *self);
    assert (self);
    self->arena = tly_arena_new (TLY_AUDIT_DRAIN_ARENA);
    assert (self->arena);
    return self;
}

void
tly_audit_drain_destroy (tly_audit_drain_t **self_p)
{
    assert (self_p);
    tly_audit_drain_t *self = *self_p;
    if (!self)
        return;
    tly_audit_drain_clear (self);
    tly_arena_destroy (&self->arena);
    free (self);
    *self_p = NULL;
}

void *
tly_audit_drain_alloc (tly_audit_drain_t *self, size_t count, size_t size)
{
    assert (self);
    assert (count > 0 && count <= SIZE_MAX / size);
    return tly_arena_alloc (self->arena, count * size);
}

//  Takes one message off the socket and files it under appends or reads.
static void
s_receive (tly_audit_drain_t *self, zsock_t *socket)
{
    zmsg_t *msg = zmsg_recv (socket);
    if (!msg)
        return;
    if (zmsg_size (msg) != 2) {
        tly_log (TLY_WARN, "request.bad", "reason=\"expected 2 frames\" frames=%zu",
                 zmsg_size (msg));
        zmsg_destroy (&msg);
        return;
    }
    zframe_t *identity = zmsg_pop (msg);
    zframe_t *data = zmsg_pop (msg);
    zmsg_destroy (&msg);
    Tally__AuditRequest *request = tally__audit_request__unpack (
        tly_arena_allocator (self->arena), zframe_size (data), zframe_data (data));
    size_t size = zframe_size (data);
    zframe_destroy (&data);
    if (!request || request->body_case == TALLY__AUDIT_REQUEST__BODY__NOT_SET) {
        tly_log (TLY_WARN, "request.bad", "reason=\"not an AuditRequest\" bytes=%zu", size);
        zframe_destroy (&identity);
        return;
    }
    tly_audit_request_t *taken;
    if (request->body_case == TALLY__AUDIT_REQUEST__BODY_APPEND) {
        assert (self->append_count < TLY_AUDIT_DRAIN_MAX);
        taken = &self->appends [self->append_count++];
    } else {
        assert (self->read_count < TLY_AUDIT_DRAIN_MAX);
        taken = &self->reads [self->read_count++];
    }
    taken->identity = identity;
    taken->request = request;
}

void
tly_audit_drain_take (tly_audit_drain_t *self, zsock_t *socket)
{
    assert (self && socket);
    for (size_t taken = 0; taken < TLY_AUDIT_DRAIN_MAX; taken++) {
        if (taken > 0 && (zsock_events (socket) & ZMQ_POLLIN) == 0)
            break;
        s_receive (self, socket);
    }
}

void
tly_audit_drain_clear (tly_audit_drain_t *self)
{
    assert (self);
    for (size_t i = 0; i < self->append_count; i++)
        zframe_destroy (&self->appends [i].identity);
    for (size_t i = 0; i < self->read_count; i++)
        zframe_destroy (&self->reads [i].identity);
    memset (self->appends, 0, self->append_count * sizeof (tly_audit_request_t));
    memset (self->reads, 0, self->read_count * sizeof (tly_audit_request_t));
    self->append_count = 0;
    self->read_count = 0;
    tly_arena_reset (self->arena);
}
