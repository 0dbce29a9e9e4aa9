//  tly_gateway_bus - the gateway's reading of the update bus. See
//  tly_gateway_bus.h.
#include "tly_gateway_bus.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tly_bytes.h"

void
tly_gateway_bus_requester (const uint8_t instance [TLY_GATEWAY_INSTANCE_BYTES], uint64_t number,
                           uint8_t requester [TLY_GATEWAY_REQUESTER_BYTES])
{
    assert (instance && requester);
    memcpy (requester, instance, TLY_GATEWAY_INSTANCE_BYTES);
    tly_put_be64 (requester + TLY_GATEWAY_INSTANCE_BYTES, number);
}

//  The snapshot number in requester when it is one of instance's, else 0
//  (no request is numbered 0).
static uint64_t
s_our_number (const uint8_t instance [TLY_GATEWAY_INSTANCE_BYTES],
              const ProtobufCBinaryData *requester)
{
    if (requester->len != TLY_GATEWAY_REQUESTER_BYTES
        || memcmp (requester->data, instance, TLY_GATEWAY_INSTANCE_BYTES) != 0)
        return 0;
    return tly_get_be64 (requester->data + TLY_GATEWAY_INSTANCE_BYTES);
}

static void
s_malformed (tly_gateway_bus_message_t *message, const char *reason)
{
    tally__bus_object__free_unpacked (message->bus, NULL);
    *message = (tly_gateway_bus_message_t) { .kind = TLY_BUS_MALFORMED, .reason = reason };
}

void
tly_gateway_bus_read (const uint8_t instance [TLY_GATEWAY_INSTANCE_BYTES], const char *object_id,
                      const uint8_t *data, size_t size, tly_gateway_bus_message_t *message)
{
    assert (instance && object_id && (data || size == 0) && message);
    *message = (tly_gateway_bus_message_t) { .kind = TLY_BUS_MALFORMED };
    message->bus = tally__bus_object__unpack (NULL, size, data);
    if (!message->bus) {
        s_malformed (message, "does not decode as a BusObject");
        return;
    }
    if (message->bus->current && message->bus->requester.len > 0) {
        s_malformed (message, "BusObject is both current and for a requester");
        return;
    }
    if (message->bus->requester.len > 0) {
        message->number = s_our_number (instance, &message->bus->requester);
        if (message->number == 0) {
            tally__bus_object__free_unpacked (message->bus, NULL);
            *message = (tly_gateway_bus_message_t) { .kind = TLY_BUS_FOREIGN };
            return;
        }
    }
    const Tally__SignedObject *object = message->bus->object;
    if (!object) {
        s_malformed (message, "BusObject has no object");
        return;
    }
    Tally__ObjectState *state = tally__object_state__unpack (NULL, object->state.len,
                                                             object->state.data);
    if (!state)
        s_malformed (message, "object does not decode as an ObjectState");
    else if (strcmp (state->object_id, object_id) != 0)
        s_malformed (message, "object ID does not match the topic");
    else if (state->version == 0)
        s_malformed (message, "object has version 0");
    else {
        message->kind = message->number > 0     ? TLY_BUS_SNAPSHOT
                        : message->bus->current ? TLY_BUS_CURRENT
                                                : TLY_BUS_UPDATE;
        message->version = state->version;
    }
    tally__object_state__free_unpacked (state, NULL);
}
