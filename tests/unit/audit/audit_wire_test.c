//  audit_wire_test - the wire scanner on packed records and on bytes that
//  are not protobuf, and fields found by name as the descriptors number them.
#include "audit_wire.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "tally.pb-c.h"

//  Scans all of bytes; returns how it ended and the fields in fields.
static audit_wire_step_t
s_scan (const uint8_t *bytes, size_t size, audit_field_t *fields, size_t *count)
{
    audit_wire_t wire = { bytes, bytes + size };
    audit_wire_step_t step;
    *count = 0;
    while ((step = audit_wire_next (&wire, &fields [*count])) == AUDIT_WIRE_FIELD)
        (*count)++;
    return step;
}

void
audit_wire_test (bool verbose)
{
    if (verbose)
        printf (" * audit_wire: ");
    //  A draft as protobuf-c packs it: partition, partition seq, a negative
    //  timestamp (a ten-byte varint), the request and two events.
    uint8_t envelope [3] = { 1, 2, 3 };
    Tally__SignedEnvelope request = TALLY__SIGNED_ENVELOPE__INIT;
    request.envelope = (ProtobufCBinaryData) { sizeof envelope, envelope };
    Tally__Event event = TALLY__EVENT__INIT;
    Tally__Event *events [2] = { &event, &event };
    Tally__RecordDraft draft = TALLY__RECORD_DRAFT__INIT;
    draft.partition = 300;
    draft.partition_seq = 1ULL << 40;
    draft.timestamp_ms = -1;
    draft.request = &request;
    draft.n_events = 2;
    draft.events = events;
    uint8_t bytes [128];
    size_t size = tally__record_draft__pack (&draft, bytes);
    assert (size <= sizeof bytes);

    audit_wire_field_t partition = audit_wire_field (&tally__record_draft__descriptor, "partition",
                                                     PROTOBUF_C_TYPE_UINT32);
    audit_wire_field_t partition_seq = audit_wire_field (&tally__record_draft__descriptor,
                                                         "partition_seq", PROTOBUF_C_TYPE_UINT64);
    audit_wire_field_t timestamp = audit_wire_field (&tally__record_draft__descriptor,
                                                     "timestamp_ms", PROTOBUF_C_TYPE_INT64);
    audit_wire_field_t events_field = audit_wire_field (&tally__record_draft__descriptor, "events",
                                                        PROTOBUF_C_TYPE_MESSAGE);
    assert (partition.type == AUDIT_WIRE_VARINT && events_field.type == AUDIT_WIRE_BYTES);
    audit_field_t fields [8];
    size_t count;
    assert (s_scan (bytes, size, fields, &count) == AUDIT_WIRE_END);
    size_t found = 0, event_fields = 0;
    for (size_t i = 0; i < count; i++) {
        if (fields [i].number == partition.number) {
            assert (fields [i].type == partition.type && fields [i].varint == 300);
            found++;
        }
        if (fields [i].number == partition_seq.number) {
            assert (fields [i].type == partition_seq.type && fields [i].varint == 1ULL << 40);
            found++;
        }
        if (fields [i].number == timestamp.number) {
            assert (fields [i].type == timestamp.type && fields [i].varint == UINT64_MAX);
            found++;
        }
        if (fields [i].number == events_field.number) {
            assert (fields [i].type == events_field.type);
            event_fields++;
        }
    }
    assert (found == 3 && event_fields == 2);

    //  Fixed-width fields, read little-endian.
    const uint8_t fixed [] = { 1 << 3 | AUDIT_WIRE_FIXED64, 1, 0, 0, 0, 0, 0, 0, 2,
                               2 << 3 | AUDIT_WIRE_FIXED32, 5, 0, 0, 1 };
    assert (s_scan (fixed, sizeof fixed, fields, &count) == AUDIT_WIRE_END);
    assert (count == 2);
    assert (fields [0].type == AUDIT_WIRE_FIXED64 && fields [0].varint == (2ULL << 56 | 1));
    assert (fields [1].type == AUDIT_WIRE_FIXED32 && fields [1].varint == (1U << 24 | 5));

    //  Nothing is the end; what no encoder writes is malformed.
    assert (s_scan (bytes, 0, fields, &count) == AUDIT_WIRE_END && count == 0);
    const uint8_t truncated_varint [] = { 1 << 3 | AUDIT_WIRE_VARINT, 0x80 };
    const uint8_t too_long [] = { 1 << 3 | AUDIT_WIRE_BYTES, 5, 1, 2 };
    const uint8_t group [] = { 1 << 3 | 3 };
    const uint8_t field_zero [] = { 0 << 3 | AUDIT_WIRE_VARINT, 1 };
    const uint8_t short_fixed [] = { 1 << 3 | AUDIT_WIRE_FIXED32, 1, 2 };
    assert (s_scan (truncated_varint, sizeof truncated_varint, fields, &count)
            == AUDIT_WIRE_MALFORMED);
    assert (s_scan (too_long, sizeof too_long, fields, &count) == AUDIT_WIRE_MALFORMED);
    assert (s_scan (group, sizeof group, fields, &count) == AUDIT_WIRE_MALFORMED);
    assert (s_scan (field_zero, sizeof field_zero, fields, &count) == AUDIT_WIRE_MALFORMED);
    assert (s_scan (short_fixed, sizeof short_fixed, fields, &count) == AUDIT_WIRE_MALFORMED);
    //  A field before the damage is still delivered.
    const uint8_t then_damage [] = { 1 << 3 | AUDIT_WIRE_VARINT, 7, 2 << 3 | AUDIT_WIRE_BYTES, 9 };
    assert (s_scan (then_damage, sizeof then_damage, fields, &count) == AUDIT_WIRE_MALFORMED);
    assert (count == 1 && fields [0].varint == 7);
    if (verbose)
        printf ("OK\n");
}
