//  tly_gateway_bus - what the gateway reads on the update bus, and the
//  requester it signs its snapshot requests with (docs/protocol.md "The
//  update bus" and "Clone pattern at the gateway"). Pure functions;
//  tly_gateway_stream does the talking.
//
//  A gateway picks a random instance ID when it starts. Each SnapshotRequest
//  carries requester = instance (8 bytes) || the gateway's snapshot number
//  (8 bytes, big endian), and the actor echoes it in the BusObject that
//  carries the snapshot. So the second frame of a bus message is, to this
//  gateway, one of:
//    empty requester       an update: for every subscriber of the topic;
//                          with `current` set, the owner's whole current
//                          state (it started serving the partition), which
//                          is a snapshot for every subscriber behind it
//    its own requester     the snapshot it asked for under that number
//    any other requester   a snapshot another gateway (or another run of
//                          this one) asked for: none of its business
#ifndef TLY_GATEWAY_BUS_H_INCLUDED
#define TLY_GATEWAY_BUS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tally.pb-c.h"

#define TLY_GATEWAY_INSTANCE_BYTES  8
#define TLY_GATEWAY_REQUESTER_BYTES (TLY_GATEWAY_INSTANCE_BYTES + 8)

typedef enum {
    TLY_BUS_MALFORMED = 1,  //  not a BusObject holding a version of the topic's object
    TLY_BUS_UPDATE = 2,
    TLY_BUS_SNAPSHOT = 3,  //  ours, for the request numbered `number`
    TLY_BUS_FOREIGN = 4,   //  someone else's snapshot (its object is not decoded)
    TLY_BUS_CURRENT = 5    //  the owner's whole current state, for everyone
} tly_bus_kind_t;

typedef struct {
    tly_bus_kind_t kind;
    Tally__BusObject *bus;  //  UPDATE, SNAPSHOT, CURRENT: the message; the caller frees
                            //  it with tally__bus_object__free_unpacked. Else NULL.
    uint64_t version;       //  UPDATE, SNAPSHOT, CURRENT: the object's version (>= 1)
    uint64_t number;        //  SNAPSHOT: the snapshot number of the request
    const char *reason;     //  MALFORMED: why (a constant string)
} tly_gateway_bus_message_t;

//  The requester of this gateway's snapshot request number `number`.
void tly_gateway_bus_requester (const uint8_t instance [TLY_GATEWAY_INSTANCE_BYTES],
                                uint64_t number, uint8_t requester [TLY_GATEWAY_REQUESTER_BYTES]);
//  Reads the data frame of one bus message published on object_id's topic,
//  as the gateway `instance` sees it. Never fails: what does not decode, or
//  holds another object or version 0, or is both current and for a
//  requester, is MALFORMED.
void tly_gateway_bus_read (const uint8_t instance [TLY_GATEWAY_INSTANCE_BYTES],
                           const char *object_id, const uint8_t *data, size_t size,
                           tly_gateway_bus_message_t *message);

#endif
