//  tly_validate - stateless checks of inbox message fields, and error names.
#include "tly_validate.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "tly_config.h"
#include "tly_limits.h"
#include "tly_object_id.h"
#include "tly_partition.h"

//  Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, no NUL.
bool
tly_utf8_valid (const char *text, size_t size)
{
    const unsigned char *at = (const unsigned char *) text;
    const unsigned char *end = at + size;
    while (at < end) {
        unsigned char lead = *at;
        if (lead == 0)
            return false;
        if (lead < 0x80) {
            at++;
            continue;
        }
        size_t extra;
        uint32_t point;
        if (lead >= 0xC2 && lead <= 0xDF) {
            extra = 1;
            point = lead & 0x1F;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            extra = 2;
            point = lead & 0x0F;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            extra = 3;
            point = lead & 0x07;
        } else
            return false;
        if ((size_t) (end - at) <= extra)
            return false;
        for (size_t i = 1; i <= extra; i++) {
            if ((at [i] & 0xC0) != 0x80)
                return false;
            point = (point << 6) | (at [i] & 0x3F);
        }
        if ((extra == 2 && point < 0x800) || (extra == 3 && point < 0x10000)
            || (point >= 0xD800 && point <= 0xDFFF) || point > 0x10FFFF)
            return false;
        at += extra + 1;
    }
    return true;
}

//  Nested messages deeper than this are refused (ours nest three deep).
#define S_WIRE_DEPTH_MAX   16
//  The largest field number protobuf allows, 2^29 - 1.
#define S_FIELD_NUMBER_MAX 536870911u

//  Reads a base-128 varint at *at; -1 past end or beyond 10 bytes.
static int
s_varint (const uint8_t **at, const uint8_t *end, uint64_t *value)
{
    *value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*at >= end)
            return -1;
        uint8_t byte = *(*at)++;
        *value |= (uint64_t) (byte & 0x7F) << shift;
        if (!(byte & 0x80))
            return 0;
    }
    return -1;
}

static int
s_wire_text (const ProtobufCMessageDescriptor *descriptor, const uint8_t *at, const uint8_t *end,
             int depth, char *reason, size_t reason_size)
{
    if (depth > S_WIRE_DEPTH_MAX) {
        snprintf (reason, reason_size, "%s nests deeper than %d messages", descriptor->short_name,
                  S_WIRE_DEPTH_MAX);
        return -1;
    }
    while (at < end) {
        uint64_t key, length;
        if (s_varint (&at, end, &key) == -1)
            goto malformed;
        //  Field number 0 is not protobuf, but protobuf-c keeps it as an
        //  unknown field when its key is spelled long (0x85 0x00) and then
        //  writes it short (0x05), which it refuses to decode: a frame that
        //  decodes once and not after re-encoding. Refused here, as is a
        //  number above the largest field number.
        if (key >> 3 == 0 || key >> 3 > S_FIELD_NUMBER_MAX)
            goto malformed;
        uint32_t wire_type = (uint32_t) (key & 7);
        const uint8_t *skip_to;
        if (wire_type == 0) {  //  varint
            if (s_varint (&at, end, &length) == -1)
                goto malformed;
            continue;
        }
        if (wire_type == 1 || wire_type == 5) {  //  fixed 64 or 32 bits
            size_t width = wire_type == 1 ? 8 : 4;
            if ((size_t) (end - at) < width)
                goto malformed;
            at += width;
            continue;
        }
        if (wire_type != 2 || s_varint (&at, end, &length) == -1 || length > (uint64_t) (end - at))
            goto malformed;
        skip_to = at + length;
        const ProtobufCFieldDescriptor *field = key >> 3 <= UINT32_MAX
                                                    ? protobuf_c_message_descriptor_get_field (
                                                        descriptor, (unsigned) (key >> 3))
                                                    : NULL;
        if (field && field->type == PROTOBUF_C_TYPE_STRING && memchr (at, 0, (size_t) length)) {
            snprintf (reason, reason_size, "%s.%s holds a NUL byte", descriptor->short_name,
                      field->name);
            return -1;
        }
        if (field && field->type == PROTOBUF_C_TYPE_MESSAGE
            && s_wire_text (field->descriptor, at, skip_to, depth + 1, reason, reason_size) == -1)
            return -1;
        at = skip_to;
    }
    return 0;
malformed:
    snprintf (reason, reason_size, "%s is not a protobuf encoding", descriptor->short_name);
    return -1;
}

int
tly_validate_wire_text (const ProtobufCMessageDescriptor *descriptor, const uint8_t *data,
                        size_t size, char *reason, size_t reason_size)
{
    assert (descriptor && (data || size == 0) && reason && reason_size > 0);
    if (size == 0)
        return 0;
    return s_wire_text (descriptor, data, data + size, 0, reason, reason_size);
}

Tally__ErrorCode
tly_validate_initial_balance (int64_t initial, int64_t max, const char **message)
{
    if (initial < 0) {
        *message = "initialBalance must not be negative";
        return TALLY__ERROR_CODE__INVALID_INITIAL_BALANCE;
    }
    if (initial > max) {
        *message = "initialBalance exceeds the configured maximum";
        return TALLY__ERROR_CODE__INVALID_INITIAL_BALANCE;
    }
    return TALLY__ERROR_CODE__OK;
}

Tally__ErrorCode
tly_validate_amount (int64_t amount, int64_t max, const char **message)
{
    if (amount <= 0) {
        *message = "amount must be a positive whole number of minor units";
        return TALLY__ERROR_CODE__INVALID_AMOUNT;
    }
    if (amount > max) {
        *message = "amount exceeds the configured maximum";
        return TALLY__ERROR_CODE__INVALID_AMOUNT;
    }
    return TALLY__ERROR_CODE__OK;
}

Tally__ErrorCode
tly_validate_item_id (const char *item_id, const char **message)
{
    size_t size = item_id ? strnlen (item_id, TLY_ITEM_ID_MAX + 1) : 0;
    if (size == 0) {
        *message = "itemId must not be empty";
        return TALLY__ERROR_CODE__INVALID_ITEM;
    }
    if (size > TLY_ITEM_ID_MAX) {
        *message = "itemId exceeds 128 bytes";
        return TALLY__ERROR_CODE__INVALID_ITEM;
    }
    if (!tly_utf8_valid (item_id, size)) {
        *message = "itemId is not valid UTF-8";
        return TALLY__ERROR_CODE__INVALID_ITEM;
    }
    return TALLY__ERROR_CODE__OK;
}

Tally__ErrorCode
tly_validate_adjustment (const Tally__Adjustment *adjustment, const char **message)
{
    if (adjustment->user.len != TLY_KEY_BYTES) {
        *message = "user must be a 32-byte account key";
        return TALLY__ERROR_CODE__BAD_REQUEST;
    }
    if (adjustment->amount <= 0) {
        *message = "amount must be a positive whole number of minor units";
        return TALLY__ERROR_CODE__INVALID_AMOUNT;
    }
    if (adjustment->amount > TLY_BALANCE_MAX) {
        *message = "amount exceeds the largest balance (2^53 - 1)";
        return TALLY__ERROR_CODE__INVALID_AMOUNT;
    }
    const char *reference = adjustment->reference;
    size_t size = reference ? strnlen (reference, TLY_REFERENCE_MAX + 1) : 0;
    if (size == 0 || size > TLY_REFERENCE_MAX || !tly_utf8_valid (reference, size)) {
        *message = size == 0                  ? "reference must not be empty"
                   : size > TLY_REFERENCE_MAX ? "reference exceeds 128 bytes"
                                              : "reference is not valid UTF-8";
        return TALLY__ERROR_CODE__INVALID_REFERENCE;
    }
    if (strncmp (reference, TLY_REFUND_PREFIX, sizeof TLY_REFUND_PREFIX - 1) == 0) {
        *message = "reference may not start with \"" TLY_REFUND_PREFIX "\" (refunds' own)";
        return TALLY__ERROR_CODE__INVALID_REFERENCE;
    }
    const char *note = adjustment->note;
    size = note ? strnlen (note, TLY_NOTE_MAX + 1) : 0;
    if (size > TLY_NOTE_MAX || (size > 0 && !tly_utf8_valid (note, size))) {
        *message = size > TLY_NOTE_MAX ? "note exceeds 256 bytes" : "note is not valid UTF-8";
        return TALLY__ERROR_CODE__INVALID_NOTE;
    }
    return TALLY__ERROR_CODE__OK;
}

Tally__ErrorCode
tly_validate_refund (const Tally__Refund *refund, const char **message)
{
    tly_object_kind_t kind;
    if (!refund->purchase_id || tly_object_id_parse (refund->purchase_id, &kind, NULL, NULL) == -1
        || kind != TLY_OBJ_PURCHASE) {
        *message = "purchaseId must be a purchase's ID";
        return TALLY__ERROR_CODE__BAD_REQUEST;
    }
    const char *reason = refund->reason;
    size_t size = reason ? strnlen (reason, TLY_NOTE_MAX + 1) : 0;
    if (size > TLY_NOTE_MAX || (size > 0 && !tly_utf8_valid (reason, size))) {
        *message = size > TLY_NOTE_MAX ? "reason exceeds 256 bytes" : "reason is not valid UTF-8";
        return TALLY__ERROR_CODE__INVALID_NOTE;
    }
    return TALLY__ERROR_CODE__OK;
}

Tally__ErrorCode
tly_validate_order_items (Tally__OrderItem *const *items, size_t n_items, const char **message)
{
    if (n_items == 0 || n_items > TLY_ORDER_ITEMS_MAX) {
        *message = "an order holds 1 to 16 items";
        return TALLY__ERROR_CODE__BAD_REQUEST;
    }
    for (size_t i = 0; i < n_items; i++) {
        if (!items [i]) {
            *message = "an order's item is missing";
            return TALLY__ERROR_CODE__BAD_REQUEST;
        }
        Tally__ErrorCode code = tly_validate_item_id (items [i]->item_id, message);
        if (code != TALLY__ERROR_CODE__OK)
            return code;
        if (items [i]->amount < 0 || items [i]->amount > TLY_BALANCE_MAX) {
            *message = items [i]->amount < 0
                           ? "amount must be 0 (the catalog price) or a positive whole number"
                             " of minor units"
                           : "amount exceeds the largest balance (2^53 - 1)";
            return TALLY__ERROR_CODE__INVALID_AMOUNT;
        }
    }
    return TALLY__ERROR_CODE__OK;
}

Tally__ErrorCode
tly_validate_order_id (const char *order_id, const char **message)
{
    tly_object_kind_t kind;
    if (!order_id || tly_object_id_parse (order_id, &kind, NULL, NULL) == -1
        || kind != TLY_OBJ_ORDER) {
        *message = "orderId must be an order's ID";
        return TALLY__ERROR_CODE__BAD_REQUEST;
    }
    return TALLY__ERROR_CODE__OK;
}

const char *
tly_order_message_id (const Tally__InboxMessage *message)
{
    switch (message->body_case) {
        case TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER:
            return message->edit_order ? message->edit_order->order_id : NULL;
        case TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER:
            return message->submit_order ? message->submit_order->order_id : NULL;
        case TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER:
            return message->complete_order ? message->complete_order->order_id : NULL;
        case TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER:
            return message->fail_order ? message->fail_order->order_id : NULL;
        default: return NULL;
    }
}

bool
tly_order_message (const Tally__InboxMessage *message)
{
    switch (message->body_case) {
        case TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER:
        case TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER:
        case TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER:
        case TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER:
        case TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER: return true;
        default: return false;
    }
}

//  An order message that names its order: all but createOrder.
static bool
s_names_order (const Tally__InboxMessage *message)
{
    return tly_order_message (message)
           && message->body_case != TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER;
}

Tally__ErrorCode
tly_validate_order_message (const Tally__InboxMessage *message, const char **message_text)
{
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER) {
        if (!message->create_order) {
            *message_text = "createOrder is empty";
            return TALLY__ERROR_CODE__BAD_REQUEST;
        }
        return tly_validate_order_items (message->create_order->items,
                                         message->create_order->n_items, message_text);
    }
    if (!s_names_order (message))
        return TALLY__ERROR_CODE__OK;
    Tally__ErrorCode code = tly_validate_order_id (tly_order_message_id (message), message_text);
    if (code != TALLY__ERROR_CODE__OK)
        return code;
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER)
        return tly_validate_order_items (message->edit_order->items, message->edit_order->n_items,
                                         message_text);
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER) {
        const char *error = message->fail_order->error;
        size_t size = error ? strnlen (error, TLY_ORDER_ERROR_MAX + 1) : 0;
        if (size > TLY_ORDER_ERROR_MAX || (size > 0 && !tly_utf8_valid (error, size))) {
            *message_text = size > TLY_ORDER_ERROR_MAX ? "error exceeds 256 bytes"
                                                       : "error is not valid UTF-8";
            return TALLY__ERROR_CODE__INVALID_NOTE;
        }
    }
    return TALLY__ERROR_CODE__OK;
}

int
tly_message_named_partition (const Tally__InboxMessage *message, uint32_t partitions,
                             uint32_t *partition)
{
    const Tally__Adjustment *adjustment = message->body_case == TALLY__INBOX_MESSAGE__BODY_CREDIT
                                              ? message->credit
                                          : message->body_case == TALLY__INBOX_MESSAGE__BODY_DEBIT
                                              ? message->debit
                                              : NULL;
    if (adjustment) {
        if (adjustment->user.len != TLY_KEY_BYTES)
            return -1;
        *partition = tly_partition_of (adjustment->user.data, partitions);
    } else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_REFUND) {
        tly_object_kind_t kind;
        if (!message->refund
            || tly_object_id_parse (message->refund->purchase_id, &kind, partition, NULL) == -1
            || kind != TLY_OBJ_PURCHASE || *partition >= partitions)
            return -1;
    } else if (s_names_order (message)) {
        tly_object_kind_t kind;
        if (tly_object_id_parse (tly_order_message_id (message), &kind, partition, NULL) == -1
            || kind != TLY_OBJ_ORDER || *partition >= partitions)
            return -1;
    } else if (tly_config_message (message))
        *partition = 0;
    else
        return 0;
    return 1;
}

int
tly_message_partition (const Tally__InboxMessage *message, const uint8_t sender [TLY_KEY_BYTES],
                       uint32_t partitions, uint32_t *partition)
{
    int named = tly_message_named_partition (message, partitions, partition);
    if (named == 0)
        *partition = tly_partition_of (sender, partitions);
    return named == -1 ? -1 : 0;
}

void
tly_refund_reference (const char *purchase_id, char *out)
{
    snprintf (out, TLY_REFERENCE_MAX + 1, "%s%s", TLY_REFUND_PREFIX, purchase_id);
}

typedef struct {
    Tally__ErrorCode code;
    const char *name;
    const char *message;
} s_error_t;

static const s_error_t s_errors [] = {
    { TALLY__ERROR_CODE__OK, "OK", "ok" },
    { TALLY__ERROR_CODE__BAD_REQUEST, "BAD_REQUEST", "Malformed request" },
    { TALLY__ERROR_CODE__BAD_SIGNATURE, "BAD_SIGNATURE", "Signature does not verify" },
    { TALLY__ERROR_CODE__UNKNOWN_INBOX, "UNKNOWN_INBOX", "Unknown inbox" },
    { TALLY__ERROR_CODE__STALE_TIMESTAMP, "STALE_TIMESTAMP",
      "Timestamp outside the accepted window" },
    { TALLY__ERROR_CODE__FRAME_TOO_LARGE, "FRAME_TOO_LARGE", "Frame too large" },
    { TALLY__ERROR_CODE__BATCH_TOO_LARGE, "BATCH_TOO_LARGE", "Too many messages in one envelope" },
    { TALLY__ERROR_CODE__INVALID_AMOUNT, "INVALID_AMOUNT", "Invalid amount" },
    { TALLY__ERROR_CODE__INVALID_ITEM, "INVALID_ITEM", "Invalid itemId" },
    { TALLY__ERROR_CODE__INVALID_INITIAL_BALANCE, "INVALID_INITIAL_BALANCE",
      "Invalid initialBalance" },
    { TALLY__ERROR_CODE__INSUFFICIENT_BALANCE, "INSUFFICIENT_BALANCE", "Insufficient balance" },
    { TALLY__ERROR_CODE__NO_ACCOUNT, "NO_ACCOUNT", "No account found" },
    { TALLY__ERROR_CODE__UNAVAILABLE, "UNAVAILABLE", "Service unavailable, retry later" },
    { TALLY__ERROR_CODE__TIMEOUT, "TIMEOUT", "No reply within the deadline" },
    { TALLY__ERROR_CODE__NOT_OWNER, "NOT_OWNER", "Partition not owned by this actor" },
    { TALLY__ERROR_CODE__STALE_EPOCH, "STALE_EPOCH", "Partition epoch is stale" },
    { TALLY__ERROR_CODE__SEQUENCE_GAP, "SEQUENCE_GAP", "Partition sequence is not contiguous" },
    { TALLY__ERROR_CODE__INTERNAL, "INTERNAL", "Internal error" },
    { TALLY__ERROR_CODE__DUPLICATE_MESSAGE_ID, "DUPLICATE_MESSAGE_ID",
      "Message ID repeated in one envelope" },
    { TALLY__ERROR_CODE__PERMISSION_DENIED, "PERMISSION_DENIED", "Permission denied" },
    { TALLY__ERROR_CODE__NOT_FOUND, "NOT_FOUND", "No such object" },
    { TALLY__ERROR_CODE__TOO_MANY_SUBSCRIPTIONS, "TOO_MANY_SUBSCRIPTIONS",
      "Too many subscriptions" },
    { TALLY__ERROR_CODE__SLOW_CONSUMER, "SLOW_CONSUMER", "Client did not keep up; resynced" },
    { TALLY__ERROR_CODE__STALE_MESSAGE_ID, "STALE_MESSAGE_ID",
      "Message ID outside the dedupe window; not applied" },
    { TALLY__ERROR_CODE__RATE_LIMITED, "RATE_LIMITED", "Rate limited: too many buys, retry later" },
    { TALLY__ERROR_CODE__INVALID_REFERENCE, "INVALID_REFERENCE", "Invalid reference" },
    { TALLY__ERROR_CODE__INVALID_NOTE, "INVALID_NOTE", "Invalid note" },
    { TALLY__ERROR_CODE__BALANCE_LIMIT, "BALANCE_LIMIT", "Balance limit exceeded" },
    { TALLY__ERROR_CODE__STALE_CONFIG, "STALE_CONFIG", "Configuration changed; decide again" },
    { TALLY__ERROR_CODE__UNKNOWN_ITEM, "UNKNOWN_ITEM", "Unknown item" },
    { TALLY__ERROR_CODE__PRICE_MISMATCH, "PRICE_MISMATCH", "Price mismatch" },
    { TALLY__ERROR_CODE__INVALID_PRICE, "INVALID_PRICE", "Invalid price" },
    { TALLY__ERROR_CODE__INVALID_ADMIN, "INVALID_ADMIN", "Invalid admin" },
    { TALLY__ERROR_CODE__CONFIG_LIMIT, "CONFIG_LIMIT", "Configuration limit reached" },
    { TALLY__ERROR_CODE__ALREADY_REFUNDED, "ALREADY_REFUNDED", "Purchase already refunded" },
    { TALLY__ERROR_CODE__INVALID_TRANSITION, "INVALID_TRANSITION",
      "The order's status does not allow that" },
    { TALLY__ERROR_CODE__ORDER_LIMIT, "ORDER_LIMIT", "Order limit reached" },
};

static const s_error_t *
s_error (Tally__ErrorCode code)
{
    for (size_t i = 0; i < sizeof s_errors / sizeof s_errors [0]; i++)
        if (s_errors [i].code == code)
            return &s_errors [i];
    return NULL;
}

const char *
tly_error_name (Tally__ErrorCode code)
{
    const s_error_t *error = s_error (code);
    return error ? error->name : "UNKNOWN_ERROR";
}

const char *
tly_error_default_message (Tally__ErrorCode code)
{
    const s_error_t *error = s_error (code);
    return error ? error->message : "Unknown error";
}
