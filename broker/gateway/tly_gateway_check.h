//  tly_gateway_check - the gateway's admission checks for one client frame.
//
//  Runs the ordered list of docs/protocol.md "Client -> gateway" (and, for a
//  subscribe, "The read path: subscriptions") and stops at the first
//  failure, so a client always learns the first thing wrong with its
//  request. The signature is checked last and once per request: it is the
//  only expensive step, and cheap checks shed junk before it.
#ifndef TLY_GATEWAY_CHECK_H_INCLUDED
#define TLY_GATEWAY_CHECK_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_limits.h"
#include "tly_object_id.h"

//  Longest reason written by tly_gateway_check, NUL included.
#define TLY_GATEWAY_REASON_MAX  256
//  Raw bytes of an object ID (kind, partition, tail): its bus topic.
#define TLY_GATEWAY_TOPIC_BYTES TLY_OBJECT_KEY_BYTES

typedef struct {
    size_t max_frame;               //  --max-frame, bytes of one client frame
    int64_t max_skew_ms;            //  --max-skew-ms
    uint8_t inbox [TLY_KEY_BYTES];  //  the worker account this gateway serves
    uint32_t partitions;            //  --partitions: where a send is routed
} tly_gateway_policy_t;

//  What the checks learned about an admitted request.
typedef struct {
    uint8_t account [TLY_KEY_BYTES];          //  send: the sender; subscribe: the reader
    char object_id [TLY_ID_MAX];              //  subscribe: the object, canonical co_z form
    uint8_t topic [TLY_GATEWAY_TOPIC_BYTES];  //  subscribe: the object ID's raw bytes
    //  subscribe: the object's partition; send: the partition every message
    //  goes to (a credit's or debit's user's, any other's the sender's)
    uint32_t partition;
} tly_gateway_admitted_t;

//  Checks one client frame at gateway wall-clock time now_ms.
//  On TALLY__ERROR_CODE__OK, *request_p holds the decoded request (the caller
//  frees it with tally__client_request__free_unpacked) and admitted holds
//  what the checks learned (for a send and a subscribe; status, unsubscribe
//  and ping carry nothing to check beyond decoding).
//  Otherwise returns the first failing code with a one-line reason in reason
//  (TLY_GATEWAY_REASON_MAX bytes) and *request_p NULL.
//  Either way *request_id is the client's request_id once the frame decoded,
//  else 0 (a frame over max_frame is not decoded at all).
Tally__ErrorCode tly_gateway_check (const tly_gateway_policy_t *policy, const uint8_t *frame,
                                    size_t size, int64_t now_ms, Tally__ClientRequest **request_p,
                                    uint64_t *request_id, tly_gateway_admitted_t *admitted,
                                    char *reason);

//  The credit or debit a message carries, or NULL.
const Tally__Adjustment *tly_gateway_check_adjustment (const Tally__InboxMessage *message);

//  Parses a tally object ID into admitted's object_id (canonical spelling),
//  topic and partition. Returns 0, or -1 when it is not one.
int tly_gateway_check_object_id (const char *object_id, tly_gateway_admitted_t *admitted);

#endif
