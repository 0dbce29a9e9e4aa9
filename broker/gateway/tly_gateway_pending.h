//  tly_gateway_pending - the gateway's requests in flight to the router.
//
//  A fixed table of `capacity` slots, allocated once. Each entry remembers who
//  asked (the client's ROUTER identity frame), the client's request_id and a
//  deadline. The id handed to the router (route_id for a Route, status_id for
//  a status request) names the slot and its generation, so a late or forged
//  id never finds someone else's entry. Entries also sit in a FIFO in arrival
//  order: every request gets the same timeout, so the oldest entry always
//  expires first and expiry never scans the table.
#ifndef TLY_GATEWAY_PENDING_H_INCLUDED
#define TLY_GATEWAY_PENDING_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

//  Largest --max-pending the table accepts (slot index must fit in 32 bits,
//  and the table is allocated up front).
#define TLY_GATEWAY_PENDING_LIMIT 1000000
//  Bytes of sent messages kept to send again after a router restart.
#define TLY_GATEWAY_RESEND_BYTES  (64 * 1024 * 1024)

typedef enum {
    TLY_PENDING_ROUTE = 1,  //  waiting for a RouteReply
    TLY_PENDING_STATUS = 2  //  waiting for a StatusReply
} tly_pending_kind_t;

typedef struct _tly_gateway_pending_t tly_gateway_pending_t;

//  capacity in 1..TLY_GATEWAY_PENDING_LIMIT; keep_bytes bounds the sent
//  messages kept for a resend (TLY_GATEWAY_RESEND_BYTES in the gateway).
//  Returns NULL on allocation failure.
tly_gateway_pending_t *tly_gateway_pending_new (uint32_t capacity, size_t keep_bytes);
//  Destroys every remembered identity frame. Safe on NULL.
void tly_gateway_pending_destroy (tly_gateway_pending_t **self_p);

//  Remembers a request and takes ownership of *identity_p (set to NULL).
//  deadline_ms must not be earlier than the newest entry's deadline.
//  Returns the id to send to the router (never 0), or 0 when the table is
//  full, in which case *identity_p is left with the caller.
uint64_t tly_gateway_pending_add (tly_gateway_pending_t *self, tly_pending_kind_t kind,
                                  zframe_t **identity_p, uint64_t request_id, int64_t deadline_ms);
//  Forgets the entry with this id and kind and hands back its identity frame
//  (caller owns it) and request_id. Returns 0, or -1 when no such entry is
//  waiting (answered already, timed out, or never issued).
int tly_gateway_pending_take (tly_gateway_pending_t *self, uint64_t id, tly_pending_kind_t kind,
                              zframe_t **identity_p, uint64_t *request_id);
//  Forgets the oldest entry if its deadline is <= now_ms and hands it back as
//  take does, with its kind. Returns 0, or -1 when nothing has expired.
int tly_gateway_pending_expire (tly_gateway_pending_t *self, int64_t now_ms, zframe_t **identity_p,
                                uint64_t *request_id, tly_pending_kind_t *kind);
//  Takes *frame_p, the message for entry id, and keeps it for
//  tly_gateway_pending_resend while the kept messages together stay within
//  keep_bytes: then returns it (still the table's: send it with
//  ZFRAME_REUSE, which shares its bytes) and *frame_p is NULL. Over the
//  budget it returns NULL and *frame_p stays the caller's (that request
//  waits for its client's own resend). A taken or expired entry's message
//  goes with it.
zframe_t *tly_gateway_pending_keep (tly_gateway_pending_t *self, uint64_t id, zframe_t **frame_p);
//  Sends every kept message again on sock (ZFRAME_REUSE | ZFRAME_DONTWAIT),
//  oldest first: the router the gateway was connected to went away, and with
//  it whatever it held. Returns how many were sent.
size_t tly_gateway_pending_resend (tly_gateway_pending_t *self, void *sock);
//  Bytes of the messages kept.
size_t tly_gateway_pending_kept_bytes (tly_gateway_pending_t *self);
//  Deadline of the oldest entry, or INT64_MAX when nothing is waiting.
int64_t tly_gateway_pending_next_deadline (tly_gateway_pending_t *self);
uint32_t tly_gateway_pending_size (tly_gateway_pending_t *self);

#endif
