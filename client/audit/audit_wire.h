//  audit_wire - the protobuf wire format, read field by field without
//  decoding, so that a reader can pick the fields it needs out of a record
//  and skip the rest (replay's hot loop; see audit_state.c).
//
//      audit_wire_t wire = { data, data + size };
//      audit_field_t field;
//      audit_wire_step_t step;
//      while ((step = audit_wire_next (&wire, &field)) == AUDIT_WIRE_FIELD)
//          ... field.number, field.type, field.varint or field.data/size ...
//      if (step == AUDIT_WIRE_MALFORMED) ... not protobuf ...
#ifndef AUDIT_WIRE_H_INCLUDED
#define AUDIT_WIRE_H_INCLUDED

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

//  A field's wire type, from the low three bits of its tag.
typedef enum {
    AUDIT_WIRE_VARINT = 0,
    AUDIT_WIRE_FIXED64 = 1,
    AUDIT_WIRE_BYTES = 2,  //  length-delimited: bytes, strings, messages
    AUDIT_WIRE_FIXED32 = 5
} audit_wire_type_t;

typedef struct {
    const uint8_t *at;
    const uint8_t *end;
} audit_wire_t;

typedef struct {
    uint32_t number;
    audit_wire_type_t type;
    uint64_t varint;      //  a VARINT's value, and a FIXED64's or FIXED32's
    const uint8_t *data;  //  BYTES
    size_t size;
} audit_field_t;

//  What audit_wire_next found.
typedef enum {
    AUDIT_WIRE_MALFORMED = -1,  //  the bytes are not protobuf
    AUDIT_WIRE_END = 0,         //  no field left
    AUDIT_WIRE_FIELD = 1        //  *field holds the next one
} audit_wire_step_t;

audit_wire_step_t audit_wire_next (audit_wire_t *wire, audit_field_t *field);

//  A message's field as the scanner sees it: its number and wire type, looked
//  up by name in the generated descriptor (proto/tally.proto), so that a
//  renumbered or retyped field cannot leave a reader picking another. Asserts
//  that the field exists with that protobuf-c type.
typedef struct {
    uint32_t number;
    audit_wire_type_t type;
} audit_wire_field_t;

audit_wire_field_t audit_wire_field (const ProtobufCMessageDescriptor *message, const char *name,
                                     ProtobufCType type);

#endif
