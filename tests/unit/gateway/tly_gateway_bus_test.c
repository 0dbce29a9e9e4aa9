//  tly_gateway_bus_test - requesters and the kinds of bus message.
#include "tly_gateway_bus.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_OBJECT_ID "co_zobject"

//  Packs BusObject{object = version `version` of object_id, requester}; a
//  NULL object_id leaves the object out, version 0 with garbage state
//  bytes when object_id is "".
static uint8_t *
s_bus_object (const char *object_id, uint64_t version, const uint8_t *requester,
              size_t requester_size, size_t *size)
{
    Tally__ObjectState state = TALLY__OBJECT_STATE__INIT;
    state.object_id = (char *) object_id;
    state.version = version;
    uint8_t state_bytes [128];
    uint8_t signature [64] = { 0 };
    Tally__SignedObject object = TALLY__SIGNED_OBJECT__INIT;
    object.state.data = state_bytes;
    if (object_id && *object_id)
        object.state.len = tally__object_state__pack (&state, state_bytes);
    else {
        memset (state_bytes, 0xff, 16);
        object.state.len = 16;
    }
    object.signature.len = sizeof (signature);
    object.signature.data = signature;
    Tally__BusObject bus = TALLY__BUS_OBJECT__INIT;
    bus.object = object_id ? &object : NULL;
    bus.requester.len = requester_size;
    bus.requester.data = (uint8_t *) requester;
    *size = tally__bus_object__get_packed_size (&bus);
    uint8_t *bytes = malloc (*size + 1);
    assert (bytes);
    tally__bus_object__pack (&bus, bytes);
    return bytes;
}

//  Reads a BusObject built as for s_bus_object and checks its kind.
static tly_gateway_bus_message_t
s_read (const uint8_t *instance, const char *object_id, uint64_t version, const uint8_t *requester,
        size_t requester_size, tly_bus_kind_t expected)
{
    size_t size = 0;
    uint8_t *bytes = s_bus_object (object_id, version, requester, requester_size, &size);
    tly_gateway_bus_message_t message;
    tly_gateway_bus_read (instance, S_OBJECT_ID, bytes, size, &message);
    free (bytes);
    assert (message.kind == expected);
    assert ((message.bus != NULL) == (expected == TLY_BUS_UPDATE || expected == TLY_BUS_SNAPSHOT));
    assert ((message.reason != NULL) == (expected == TLY_BUS_MALFORMED));
    tally__bus_object__free_unpacked (message.bus, NULL);
    return message;
}

//  The same, with BusObject.current set.
static tly_gateway_bus_message_t
s_read_current (const uint8_t *instance, uint64_t version, const uint8_t *requester,
                size_t requester_size, tly_bus_kind_t expected)
{
    size_t size = 0;
    uint8_t *bytes = s_bus_object (S_OBJECT_ID, version, requester, requester_size, &size);
    Tally__BusObject *bus = tally__bus_object__unpack (NULL, size, bytes);
    assert (bus);
    free (bytes);
    bus->current = true;
    size = tally__bus_object__get_packed_size (bus);
    bytes = malloc (size);
    assert (bytes);
    tally__bus_object__pack (bus, bytes);
    tally__bus_object__free_unpacked (bus, NULL);
    tly_gateway_bus_message_t message;
    tly_gateway_bus_read (instance, S_OBJECT_ID, bytes, size, &message);
    free (bytes);
    assert (message.kind == expected);
    assert ((message.bus != NULL) == (expected == TLY_BUS_CURRENT));
    assert ((message.reason != NULL) == (expected == TLY_BUS_MALFORMED));
    assert (expected != TLY_BUS_CURRENT || (message.bus->current && message.version == version));
    tally__bus_object__free_unpacked (message.bus, NULL);
    return message;
}

void
tly_gateway_bus_test (bool verbose)
{
    if (verbose)
        printf (" * tly_gateway_bus: ");
    const uint8_t instance [TLY_GATEWAY_INSTANCE_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    const uint8_t other [TLY_GATEWAY_INSTANCE_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 9 };

    //  The number goes big endian after the instance.
    uint8_t requester [TLY_GATEWAY_REQUESTER_BYTES];
    tly_gateway_bus_requester (instance, 0x0102030405060708ULL, requester);
    const uint8_t expected [TLY_GATEWAY_REQUESTER_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 8,
                                                             1, 2, 3, 4, 5, 6, 7, 8 };
    assert (memcmp (requester, expected, sizeof (expected)) == 0);

    //  No requester: an update; ours: the snapshot of that request.
    tly_gateway_bus_message_t message = s_read (instance, S_OBJECT_ID, 9, NULL, 0, TLY_BUS_UPDATE);
    assert (message.version == 9 && message.number == 0);
    tly_gateway_bus_requester (instance, UINT64_MAX, requester);
    message = s_read (instance, S_OBJECT_ID, 4, requester, sizeof (requester), TLY_BUS_SNAPSHOT);
    assert (message.version == 4 && message.number == UINT64_MAX);

    //  Current, for no requester: the owner's state for everyone; current
    //  and for a requester (ours or not) is no message at all.
    s_read_current (instance, 7, NULL, 0, TLY_BUS_CURRENT);
    s_read_current (instance, 0, NULL, 0, TLY_BUS_MALFORMED);
    s_read_current (instance, 7, requester, sizeof (requester), TLY_BUS_MALFORMED);
    tly_gateway_bus_requester (other, 5, requester);
    s_read_current (instance, 7, requester, sizeof (requester), TLY_BUS_MALFORMED);

    //  Any other requester is someone else's, even a malformed object.
    tly_gateway_bus_requester (other, 5, requester);
    s_read (instance, NULL, 0, requester, sizeof (requester), TLY_BUS_FOREIGN);
    tly_gateway_bus_requester (instance, 5, requester);
    s_read (instance, S_OBJECT_ID, 4, requester, sizeof (requester) - 1, TLY_BUS_FOREIGN);
    uint8_t longer [32];
    memcpy (longer, requester, sizeof (requester));
    memset (longer + sizeof (requester), 0, sizeof (longer) - sizeof (requester));
    s_read (instance, S_OBJECT_ID, 4, longer, sizeof (longer), TLY_BUS_FOREIGN);
    //  Number 0 is never asked for: not ours either.
    tly_gateway_bus_requester (instance, 0, requester);
    s_read (instance, S_OBJECT_ID, 4, requester, sizeof (requester), TLY_BUS_FOREIGN);

    //  What is not a version of the topic's object, ours or an update.
    tly_gateway_bus_requester (instance, 5, requester);
    s_read (instance, NULL, 0, NULL, 0, TLY_BUS_MALFORMED);
    s_read (instance, NULL, 0, requester, sizeof (requester), TLY_BUS_MALFORMED);
    s_read (instance, "", 0, NULL, 0, TLY_BUS_MALFORMED);
    s_read (instance, "co_zanother", 4, requester, sizeof (requester), TLY_BUS_MALFORMED);
    s_read (instance, S_OBJECT_ID, 0, NULL, 0, TLY_BUS_MALFORMED);
    const uint8_t garbage [] = { 0xff, 0xff, 0xff, 0xff };
    tly_gateway_bus_read (instance, S_OBJECT_ID, garbage, sizeof (garbage), &message);
    assert (message.kind == TLY_BUS_MALFORMED && message.bus == NULL && message.reason);
    tly_gateway_bus_read (instance, S_OBJECT_ID, NULL, 0, &message);
    assert (message.kind == TLY_BUS_MALFORMED && message.bus == NULL);
    if (verbose)
        printf ("OK\n");
}
