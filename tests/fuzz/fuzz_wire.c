//  fuzz_wire - libFuzzer target: any bytes as any of the wire's messages.
//  The first byte picks the message type; the rest is decoded by protobuf-c
//  and walked by tly_validate_wire_text, and what both accept is encoded
//  again and must decode again (the gateway and the actor re-encode what
//  they decode). Covers every decoder the processes run on bytes from a peer
//  (client, gateway, router, actor, audit writer, journal), with ASan and
//  UBSan.
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#include "tally.pb-c.h"
#include "tly_validate.h"

static const ProtobufCMessageDescriptor *s_types [] = {
    &tally__client_request__descriptor,    &tally__client_reply__descriptor,
    &tally__signed_envelope__descriptor,   &tally__envelope__descriptor,
    &tally__signed_subscribe__descriptor,  &tally__subscribe__descriptor,
    &tally__gateway_to_router__descriptor, &tally__router_to_gateway__descriptor,
    &tally__router_to_actor__descriptor,   &tally__actor_to_router__descriptor,
    &tally__audit_request__descriptor,     &tally__audit_reply__descriptor,
    &tally__stored_record__descriptor,     &tally__record_body__descriptor,
    &tally__bus_object__descriptor,        &tally__signed_object__descriptor,
    &tally__object_state__descriptor,      &tally__signed_checkpoint__descriptor,
};
#define S_TYPES (sizeof s_types / sizeof s_types [0])

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const ProtobufCMessageDescriptor *type = s_types [data [0] % S_TYPES];
    data++;
    size--;
    char reason [128];
    int text = tly_validate_wire_text (type, data, size, reason, sizeof reason);
    assert (text == 0 || text == -1);
    ProtobufCMessage *message = protobuf_c_message_unpack (type, NULL, size, data);
    //  What the check accepts and protobuf-c decodes must survive being
    //  encoded again (the gateway re-encodes a client's SignedEnvelope into
    //  its Route, the actor a Route's into its RecordDraft).
    if (message && text == 0) {
        size_t packed_size = protobuf_c_message_get_packed_size (message);
        uint8_t *packed = malloc (packed_size ? packed_size : 1);
        assert (packed);
        assert (protobuf_c_message_pack (message, packed) == packed_size);
        ProtobufCMessage *again = protobuf_c_message_unpack (type, NULL, packed_size, packed);
        assert (again);
        protobuf_c_message_free_unpacked (again, NULL);
        free (packed);
    }
    if (message)
        protobuf_c_message_free_unpacked (message, NULL);
    return 0;
}
