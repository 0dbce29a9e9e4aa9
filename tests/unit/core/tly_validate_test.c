//  tly_validate_test - UTF-8, text on the wire, amounts, balances, item IDs and error
//  names at their edges.
#include "tly_validate.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "tly_limits.h"
#include "tly_partition.h"

//  A message type that nests itself (field 1), which tally's schema has
//  not: only such a type reaches the walk's depth limit.
static const ProtobufCFieldDescriptor s_nested_fields [1];
static const ProtobufCIntRange s_nested_ranges [2] = { { 1, 0 }, { 0, 1 } };
static const unsigned s_nested_by_name [1] = { 0 };
static const ProtobufCMessageDescriptor s_nested = { PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                     "test.Nested",
                                                     "Nested",
                                                     "Test__Nested",
                                                     "test",
                                                     sizeof (ProtobufCMessage),
                                                     1,
                                                     s_nested_fields,
                                                     s_nested_by_name,
                                                     1,
                                                     s_nested_ranges,
                                                     NULL,
                                                     NULL,
                                                     NULL,
                                                     NULL };
static const ProtobufCFieldDescriptor s_nested_fields [1] = {
    { "child", 1, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_MESSAGE, 0, 0, &s_nested, NULL, 0, 0,
      NULL, NULL }
};

//  depth Nested messages, each the child of the one before; returns the size.
static size_t
s_nested_wire (int depth, uint8_t *wire, size_t size)
{
    size_t used = 0;
    for (int level = 0; level < depth; level++) {
        assert (used + 2 <= size && used < 128);
        memmove (wire + 2, wire, used);
        wire [0] = 0x0a;  //  field 1, length-delimited
        wire [1] = (uint8_t) used;
        used += 2;
    }
    return used;
}

void
tly_validate_test (bool verbose)
{
    if (verbose)
        printf (" * tly_validate: ");
    const char *message = NULL;

    assert (tly_utf8_valid ("item-123", 8));
    assert (tly_utf8_valid ("caf\xc3\xa9", 5));
    assert (tly_utf8_valid ("\xf0\x9f\x98\x80", 4));
    assert (!tly_utf8_valid ("\xc3", 1));              //  truncated
    assert (!tly_utf8_valid ("\xc0\xaf", 2));          //  overlong
    assert (!tly_utf8_valid ("\xe0\x80\xaf", 3));      //  overlong
    assert (!tly_utf8_valid ("\xed\xa0\x80", 3));      //  surrogate
    assert (!tly_utf8_valid ("\xf4\x90\x80\x80", 4));  //  above U+10FFFF
    assert (!tly_utf8_valid ("\xff", 1));
    assert (!tly_utf8_valid ("a\0b", 3));

    assert (tly_validate_initial_balance (0, 100, &message) == TALLY__ERROR_CODE__OK);
    assert (tly_validate_initial_balance (100, 100, &message) == TALLY__ERROR_CODE__OK);
    assert (tly_validate_initial_balance (101, 100, &message)
            == TALLY__ERROR_CODE__INVALID_INITIAL_BALANCE);
    assert (tly_validate_initial_balance (-1, 100, &message)
            == TALLY__ERROR_CODE__INVALID_INITIAL_BALANCE);
    assert (tly_validate_initial_balance (INT64_MIN, 100, &message)
            == TALLY__ERROR_CODE__INVALID_INITIAL_BALANCE);
    assert (tly_validate_initial_balance (INT64_MAX, 100, &message)
            == TALLY__ERROR_CODE__INVALID_INITIAL_BALANCE);

    assert (tly_validate_amount (1, 1000, &message) == TALLY__ERROR_CODE__OK);
    assert (tly_validate_amount (1000, 1000, &message) == TALLY__ERROR_CODE__OK);
    assert (tly_validate_amount (1001, 1000, &message) == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (tly_validate_amount (0, 1000, &message) == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (tly_validate_amount (-25, 1000, &message) == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (tly_validate_amount (INT64_MAX, 1000, &message) == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (tly_validate_amount (INT64_MIN, 1000, &message) == TALLY__ERROR_CODE__INVALID_AMOUNT);

    char item [TLY_ITEM_ID_MAX + 2];
    memset (item, 'x', sizeof item);
    item [TLY_ITEM_ID_MAX] = 0;
    assert (tly_validate_item_id (item, &message) == TALLY__ERROR_CODE__OK);
    item [TLY_ITEM_ID_MAX] = 'x';
    item [TLY_ITEM_ID_MAX + 1] = 0;
    assert (tly_validate_item_id (item, &message) == TALLY__ERROR_CODE__INVALID_ITEM);
    assert (strstr (message, "128"));
    assert (tly_validate_item_id ("", &message) == TALLY__ERROR_CODE__INVALID_ITEM);
    assert (tly_validate_item_id (NULL, &message) == TALLY__ERROR_CODE__INVALID_ITEM);
    assert (tly_validate_item_id ("bad\xff", &message) == TALLY__ERROR_CODE__INVALID_ITEM);

    //  On the wire: an item ID "abXcd" inside an envelope, then its X made
    //  a NUL, a byte that is not UTF-8, a truncation; the nesting is followed.
    Tally__Buy buy = TALLY__BUY__INIT;
    buy.item_id = "abXcd";
    buy.amount = 5;
    Tally__InboxMessage inbox_message = TALLY__INBOX_MESSAGE__INIT;
    uint8_t message_id [16] = { 0 };
    inbox_message.message_id = (ProtobufCBinaryData) { sizeof message_id, message_id };
    inbox_message.body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
    inbox_message.buy = &buy;
    Tally__InboxMessage *messages [] = { &inbox_message, &inbox_message };
    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    uint8_t key [32];
    memset (key, 'X', sizeof key);  //  bytes fields may hold anything, NULs too
    key [3] = 0;
    envelope.sender = (ProtobufCBinaryData) { sizeof key, key };
    envelope.timestamp_ms = 1764226800123;
    envelope.n_messages = 2;
    envelope.messages = messages;
    uint8_t wire [256];
    size_t size = tally__envelope__pack (&envelope, wire);
    assert (size < sizeof wire);
    char reason [128];
    assert (tly_validate_wire_text (&tally__envelope__descriptor, wire, size, reason, sizeof reason)
            == 0);
    assert (tly_validate_wire_text (&tally__envelope__descriptor, wire, 0, reason, sizeof reason)
            == 0);
    uint8_t *text = memmem (wire, size, "abXcd", 5);
    assert (text);
    text [2] = 0;
    assert (tly_validate_wire_text (&tally__envelope__descriptor, wire, size, reason, sizeof reason)
            == -1);
    assert (strcmp (reason, "Buy.item_id holds a NUL byte") == 0);
    //  protobuf-c itself would have taken it, cut at the NUL.
    Tally__Envelope *decoded = tally__envelope__unpack (NULL, size, wire);
    assert (decoded && strcmp (decoded->messages [0]->buy->item_id, "ab") == 0);
    tally__envelope__free_unpacked (decoded, NULL);
    //  Not UTF-8 passes here: tly_validate_item_id refuses it (INVALID_ITEM).
    text [2] = 0xff;
    assert (tly_validate_wire_text (&tally__envelope__descriptor, wire, size, reason, sizeof reason)
            == 0);
    text [2] = 'X';
    assert (
        tly_validate_wire_text (&tally__envelope__descriptor, wire, size - 1, reason, sizeof reason)
        == -1);
    assert (strcmp (reason, "Envelope is not a protobuf encoding") == 0);
    //  Field number 0, its key spelled long: protobuf-c takes it once and
    //  refuses its own re-encoding.
    const uint8_t field_zero [] = { 0x85, 0x00, 0x00, 0x00, 0x93, 0x00 };
    assert (tly_validate_wire_text (&tally__client_request__descriptor, field_zero,
                                    sizeof field_zero, reason, sizeof reason)
            == -1);
    assert (strcmp (reason, "ClientRequest is not a protobuf encoding") == 0);
    //  Nesting: 16 levels below the top are walked, the 17th is refused.
    uint8_t nested [64];
    size_t nested_size = s_nested_wire (16, nested, sizeof nested);
    assert (tly_validate_wire_text (&s_nested, nested, nested_size, reason, sizeof reason) == 0);
    nested_size = s_nested_wire (17, nested, sizeof nested);
    assert (tly_validate_wire_text (&s_nested, nested, nested_size, reason, sizeof reason) == -1);
    assert (strcmp (reason, "Nested nests deeper than 16 messages") == 0);
    const uint8_t overlong_varint [] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    assert (tly_validate_wire_text (&tally__envelope__descriptor, overlong_varint,
                                    sizeof overlong_varint, reason, sizeof reason)
            == -1);

    assert (
        strcmp (tly_error_name (TALLY__ERROR_CODE__INSUFFICIENT_BALANCE), "INSUFFICIENT_BALANCE")
        == 0);
    assert (strcmp (tly_error_default_message (TALLY__ERROR_CODE__INSUFFICIENT_BALANCE),
                    "Insufficient balance")
            == 0);
    assert (strcmp (tly_error_default_message (TALLY__ERROR_CODE__NO_ACCOUNT), "No account found")
            == 0);
    assert (strcmp (tly_error_name ((Tally__ErrorCode) 999), "UNKNOWN_ERROR") == 0);
    //  Every code the wire defines has a name.
    for (unsigned i = 0; i < tally__error_code__descriptor.n_values; i++)
        assert (strcmp (tly_error_name (
                            (Tally__ErrorCode) tally__error_code__descriptor.values [i].value),
                        tally__error_code__descriptor.values [i].name)
                == 0);
    //  The routing rule without the sender: a buy goes to the sender's
    //  partition (0, *partition untouched), a credit to its user's, a
    //  configuration message to 0, a refund of no purchase nowhere; and
    //  tly_message_partition agrees, hashing the sender only for the buy.
    uint8_t sender [TLY_KEY_BYTES] = { 7 }, target [TLY_KEY_BYTES] = { 9 };
    uint32_t partitions = 64, partition = UINT32_MAX, sender_partition;
    Tally__InboxMessage routed = TALLY__INBOX_MESSAGE__INIT;
    Tally__Buy routed_buy = TALLY__BUY__INIT;
    routed.body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
    routed.buy = &routed_buy;
    assert (tly_message_named_partition (&routed, partitions, &partition) == 0);
    assert (partition == UINT32_MAX);
    assert (tly_message_partition (&routed, sender, partitions, &sender_partition) == 0);
    assert (sender_partition == tly_partition_of (sender, partitions));
    Tally__Adjustment credit = TALLY__ADJUSTMENT__INIT;
    credit.user.data = target;
    credit.user.len = TLY_KEY_BYTES;
    routed.body_case = TALLY__INBOX_MESSAGE__BODY_CREDIT;
    routed.credit = &credit;
    assert (tly_message_named_partition (&routed, partitions, &partition) == 1);
    assert (partition == tly_partition_of (target, partitions));
    assert (tly_message_partition (&routed, sender, partitions, &sender_partition) == 0);
    assert (sender_partition == partition);
    credit.user.len = TLY_KEY_BYTES - 1;
    assert (tly_message_named_partition (&routed, partitions, &partition) == -1);
    assert (tly_message_partition (&routed, sender, partitions, &partition) == -1);
    Tally__AdminChange change = TALLY__ADMIN_CHANGE__INIT;
    routed.body_case = TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN;
    routed.add_admin = &change;
    partition = UINT32_MAX;
    assert (tly_message_named_partition (&routed, partitions, &partition) == 1);
    assert (partition == 0);
    Tally__Refund refund = TALLY__REFUND__INIT;
    refund.purchase_id = (char *) "not-a-purchase";
    routed.body_case = TALLY__INBOX_MESSAGE__BODY_REFUND;
    routed.refund = &refund;
    assert (tly_message_named_partition (&routed, partitions, &partition) == -1);
    //  The five order messages, and the bodies on either side of them.
    assert (!tly_order_message (&routed));  //  a refund (9), just below
    for (int body = TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER;
         body <= TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER; body++) {
        routed.body_case = (Tally__InboxMessage__BodyCase) body;
        assert (tly_order_message (&routed));
    }
    routed.body_case = TALLY__INBOX_MESSAGE__BODY__NOT_SET;
    assert (!tly_order_message (&routed));
    routed.body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
    assert (!tly_order_message (&routed));
    if (verbose)
        printf ("OK\n");
}
