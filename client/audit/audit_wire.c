//  audit_wire - the protobuf wire format, field by field (see audit_wire.h).
#include "audit_wire.h"

#include <assert.h>
#include <string.h>

#define S_VARINT_MAX 10  //  bytes of the longest varint

static int
s_varint (audit_wire_t *wire, uint64_t *value)
{
    uint64_t result = 0;
    for (int i = 0; i < S_VARINT_MAX; i++) {
        if (wire->at >= wire->end)
            return -1;
        uint8_t byte = *wire->at++;
        result |= (uint64_t) (byte & 0x7f) << (7 * i);
        if ((byte & 0x80) == 0) {
            *value = result;
            return 0;
        }
    }
    return -1;
}

audit_wire_step_t
audit_wire_next (audit_wire_t *wire, audit_field_t *field)
{
    assert (wire && field);
    if (wire->at >= wire->end)
        return AUDIT_WIRE_END;
    uint64_t tag;
    if (s_varint (wire, &tag) == -1 || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX)
        return AUDIT_WIRE_MALFORMED;
    memset (field, 0, sizeof *field);
    field->number = (uint32_t) (tag >> 3);
    field->type = (audit_wire_type_t) (tag & 7);
    size_t left;
    switch (field->type) {
        case AUDIT_WIRE_VARINT:
            return s_varint (wire, &field->varint) == 0 ? AUDIT_WIRE_FIELD : AUDIT_WIRE_MALFORMED;
        case AUDIT_WIRE_BYTES:
            if (s_varint (wire, &field->varint) == -1
                || field->varint > (uint64_t) (wire->end - wire->at))
                return AUDIT_WIRE_MALFORMED;
            field->data = wire->at;
            field->size = (size_t) field->varint;
            wire->at += field->size;
            return AUDIT_WIRE_FIELD;
        case AUDIT_WIRE_FIXED64:
        case AUDIT_WIRE_FIXED32:
            left = field->type == AUDIT_WIRE_FIXED64 ? 8 : 4;
            if (left > (size_t) (wire->end - wire->at))
                return AUDIT_WIRE_MALFORMED;
            for (size_t i = 0; i < left; i++)
                field->varint |= (uint64_t) wire->at [i] << (8 * i);
            wire->at += left;
            return AUDIT_WIRE_FIELD;
        default: return AUDIT_WIRE_MALFORMED;  //  groups (3, 4) are not proto3
    }
}

audit_wire_field_t
audit_wire_field (const ProtobufCMessageDescriptor *message, const char *name, ProtobufCType type)
{
    assert (message && name);
    const ProtobufCFieldDescriptor *field = protobuf_c_message_descriptor_get_field_by_name (
        message, name);
    assert (field && field->type == type);
    audit_wire_field_t found = { .number = field->id };
    switch (type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_BOOL:
        case PROTOBUF_C_TYPE_ENUM: found.type = AUDIT_WIRE_VARINT; break;
        case PROTOBUF_C_TYPE_STRING:
        case PROTOBUF_C_TYPE_BYTES:
        case PROTOBUF_C_TYPE_MESSAGE: found.type = AUDIT_WIRE_BYTES; break;
        default: assert (!"a type replay never picks");
    }
    return found;
}
