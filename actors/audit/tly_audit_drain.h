//  tly_audit_drain - the requests one turn of the audit writer's loop takes
//  off its socket: appends, committed together, and reads, served after the
//  commit. Everything a drain decodes lives in its arena: protobuf-c makes a
//  dozen small allocations per record and all of them die together when the
//  drain is answered.
//
//      tly_audit_drain_take (drain, socket);   //  what waits, up to TLY_AUDIT_DRAIN_MAX
//      ... commit drain->appends and answer them, serve drain->reads ...
//      tly_audit_drain_clear (drain);          //  forget them and what they decoded
//
//  A plain struct: the writer walks the requests it holds.
#ifndef TLY_AUDIT_DRAIN_H_INCLUDED
#define TLY_AUDIT_DRAIN_H_INCLUDED

#include <czmq.h>
#include <stddef.h>
#include "tally.pb-c.h"
#include "tly_arena.h"
#include "tly_limits.h"

//  The drain arena's first block.
#define TLY_AUDIT_DRAIN_ARENA (1 << 20)

//  One request taken off the socket, answered after the commit.
typedef struct {
    zframe_t *identity;            //  the requester
    Tally__AuditRequest *request;  //  in the arena
} tly_audit_request_t;

typedef struct {
    tly_arena_t *arena;
    tly_audit_request_t appends [TLY_AUDIT_DRAIN_MAX];
    size_t append_count;
    tly_audit_request_t reads [TLY_AUDIT_DRAIN_MAX];
    size_t read_count;
} tly_audit_drain_t;

tly_audit_drain_t *tly_audit_drain_new (void);
void tly_audit_drain_destroy (tly_audit_drain_t **self_p);
//  Takes what is waiting on socket (at least one message, which the caller
//  saw arrive), up to TLY_AUDIT_DRAIN_MAX, and files each request under
//  appends or reads. Anything that is not [identity, AuditRequest] is
//  logged and dropped: there is no request ID to answer it with.
void tly_audit_drain_take (tly_audit_drain_t *self, zsock_t *socket);
//  A zeroed array of count (>= 1) elements of size bytes, in the arena.
void *tly_audit_drain_alloc (tly_audit_drain_t *self, size_t count, size_t size);
//  Forgets the answered requests and everything decoded for them.
void tly_audit_drain_clear (tly_audit_drain_t *self);

#endif
