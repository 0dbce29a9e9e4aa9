//  tly_validate - stateless checks of inbox message fields.
//  Each returns TALLY__ERROR_CODE__OK or the error code, with the user-facing
//  message in *message (a static string).
#ifndef TLY_VALIDATE_H_INCLUDED
#define TLY_VALIDATE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_limits.h"

bool tly_utf8_valid (const char *text, size_t size);
//  Walks the encoded message (data, size) of type descriptor and checks
//  every string field, in nested messages too, on the wire: protobuf-c
//  decodes a string into a C string, so an embedded NUL would silently cut
//  it short of what was signed. 0 when none holds a NUL byte (what else a
//  field must be, e.g. UTF-8, its own check says, on the decoded string);
//  -1 with one line in reason naming the field, also for bytes that are no
//  protobuf encoding at all (a truncated field, a key with field number 0).
//  What it accepts and protobuf-c decodes, protobuf-c can encode and decode
//  again (tests/fuzz/fuzz_wire).
int tly_validate_wire_text (const ProtobufCMessageDescriptor *descriptor, const uint8_t *data,
                            size_t size, char *reason, size_t reason_size);
Tally__ErrorCode tly_validate_initial_balance (int64_t initial, int64_t max, const char **message);
Tally__ErrorCode tly_validate_amount (int64_t amount, int64_t max, const char **message);
Tally__ErrorCode tly_validate_item_id (const char *item_id, const char **message);
//  A credit's or debit's fields: amount 1..TLY_BALANCE_MAX (INVALID_AMOUNT),
//  reference 1..TLY_REFERENCE_MAX bytes of UTF-8 (INVALID_REFERENCE), note
//  0..TLY_NOTE_MAX bytes of UTF-8 (INVALID_NOTE), user a 32-byte key
//  (BAD_REQUEST), in that order.
Tally__ErrorCode tly_validate_adjustment (const Tally__Adjustment *adjustment,
                                          const char **message);
//  A refund's reference is this prefix and the purchase's ID; no credit or
//  debit may name one of these (INVALID_REFERENCE), so a reference of a
//  refund is only ever a refund's.
#define TLY_REFUND_PREFIX "refund:"
//  A refund's fields: purchase_id a purchase's object ID (BAD_REQUEST),
//  reason 0..TLY_NOTE_MAX bytes of UTF-8 (INVALID_NOTE).
Tally__ErrorCode tly_validate_refund (const Tally__Refund *refund, const char **message);
//  An order's lines as createOrder and editOrder name them: 1..
//  TLY_ORDER_ITEMS_MAX of them (BAD_REQUEST), each item ID as a buy's
//  (INVALID_ITEM), each amount 0 (the catalog price) or 1..TLY_BALANCE_MAX
//  (INVALID_AMOUNT; the actor's --max-amount is its own check).
Tally__ErrorCode tly_validate_order_items (Tally__OrderItem *const *items, size_t n_items,
                                           const char **message);
//  An order ID in an order message: an Order's object ID (BAD_REQUEST).
Tally__ErrorCode tly_validate_order_id (const char *order_id, const char **message);
//  A message of the five order messages, whole: its order ID, items, error
//  (0..TLY_ORDER_ERROR_MAX bytes of UTF-8, INVALID_NOTE), in that order.
//  OK for any other message.
Tally__ErrorCode tly_validate_order_message (const Tally__InboxMessage *message,
                                             const char **message_text);
//  Whether message is one of the five order messages (createOrder,
//  editOrder, submitOrder, completeOrder, failOrder).
bool tly_order_message (const Tally__InboxMessage *message);
//  The order ID an order message names (editOrder, submitOrder,
//  completeOrder, failOrder), or NULL (createOrder, any other message).
const char *tly_order_message_id (const Tally__InboxMessage *message);
//  The routing rule (docs/protocol.md): the partition message goes to, of
//  partitions, sent by sender: a credit's or debit's user's, a refund's
//  purchase's, an order message's order's (createOrder: the sender's), a
//  configuration message's 0, any other's the sender's. Returns 0, or -1
//  when the message does not name one (a credit's user not a key, a
//  refund's purchase not a purchase's ID, an order's ID not an order's, of
//  a partition below partitions).
int tly_message_partition (const Tally__InboxMessage *message, const uint8_t sender [TLY_KEY_BYTES],
                           uint32_t partitions, uint32_t *partition);
//  The same rule for a caller that knows the sender's partition already
//  (hashing the sender's key per message costs a buy): 1 with *partition
//  set when the message names its partition, 0 when it goes to its
//  sender's (*partition untouched), -1 as above.
int tly_message_named_partition (const Tally__InboxMessage *message, uint32_t partitions,
                                 uint32_t *partition);
//  The reference of the refund of purchase_id into out (TLY_REFERENCE_MAX + 1).
void tly_refund_reference (const char *purchase_id, char *out);

//  The stable text name of a code ("INSUFFICIENT_BALANCE") and its default message.
const char *tly_error_name (Tally__ErrorCode code);
const char *tly_error_default_message (Tally__ErrorCode code);

#endif
