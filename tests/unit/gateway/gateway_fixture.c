//  gateway_fixture - builds client frames for the gateway's tests.
#include "gateway_fixture.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "tally.pb-c.h"
#include "tly_message_id.h"
#include "tly_sign.h"
#include "tly_wire.h"

gateway_fixture_t
gateway_fixture_valid (const tly_account_t *sender, const uint8_t inbox [TLY_KEY_BYTES],
                       int64_t timestamp_ms)
{
    gateway_fixture_t spec = { .sender = sender,
                               .timestamp_ms = timestamp_ms,
                               .messages = 1,
                               .id_bytes = TLY_MESSAGE_ID_BYTES,
                               .signature_bytes = TLY_SIGNATURE_BYTES };
    memcpy (spec.inbox, inbox, TLY_KEY_BYTES);
    return spec;
}

static uint8_t *
s_pack (const ProtobufCMessage *message, size_t *size)
{
    *size = protobuf_c_message_get_packed_size (message);
    uint8_t *buffer = malloc (*size ? *size : 1);
    assert (buffer);
    size_t packed = protobuf_c_message_pack (message, buffer);
    assert (packed == *size);
    return buffer;
}

uint8_t *
gateway_fixture_send (const gateway_fixture_t *spec, uint64_t request_id, size_t *size)
{
    assert (spec->id_bytes <= TLY_MESSAGE_ID_BYTES);
    assert (spec->signature_bytes <= TLY_SIGNATURE_BYTES);
    size_t count = spec->messages;
    uint8_t (*ids) [TLY_MESSAGE_ID_BYTES] = calloc (count + 1, TLY_MESSAGE_ID_BYTES);
    Tally__InboxMessage *messages = calloc (count + 1, sizeof (Tally__InboxMessage));
    Tally__InboxMessage **pointers = calloc (count + 1, sizeof (Tally__InboxMessage *));
    assert (ids && messages && pointers);
    for (size_t index = 0; index < count; index++)
        tly_message_id_new (ids [index], tly_now_ms ());
    if (spec->duplicate_id && count >= 2)
        memcpy (ids [count - 1], ids [0], TLY_MESSAGE_ID_BYTES);

    Tally__CreateAccount create = TALLY__CREATE_ACCOUNT__INIT;
    create.initial_balance = 10;
    Tally__Buy buy = TALLY__BUY__INIT;
    buy.item_id = "abXcd";  //  the X becomes a NUL once packed
    buy.amount = 1;
    Tally__Adjustment credit = TALLY__ADJUSTMENT__INIT;
    credit.user.len = spec->credit_bytes;
    credit.user.data = (uint8_t *) spec->credit;
    credit.amount = 5;
    credit.reference = "ch_1";
    for (size_t index = 0; index < count; index++) {
        Tally__InboxMessage init = TALLY__INBOX_MESSAGE__INIT;
        messages [index] = init;
        messages [index].message_id.len = spec->id_bytes;
        messages [index].message_id.data = ids [index];
        if (spec->credit && index == count - 1) {
            messages [index].body_case = TALLY__INBOX_MESSAGE__BODY_CREDIT;
            messages [index].credit = &credit;
        } else if (spec->nul_item && index == count - 1) {
            messages [index].body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
            messages [index].buy = &buy;
        } else if (!(spec->no_body && index == count - 1)) {
            messages [index].body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT;
            messages [index].create_account = &create;
        }
        pointers [index] = &messages [index];
    }
    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.sender.len = TLY_KEY_BYTES;
    envelope.sender.data = (uint8_t *) spec->sender->sign_pk;
    envelope.inbox.len = TLY_KEY_BYTES;
    envelope.inbox.data = (uint8_t *) spec->inbox;
    envelope.timestamp_ms = spec->timestamp_ms;
    envelope.n_messages = count;
    envelope.messages = pointers;
    size_t envelope_size = 0;
    uint8_t *envelope_bytes = s_pack (&envelope.base, &envelope_size);
    if (spec->nul_item) {
        uint8_t *item = memmem (envelope_bytes, envelope_size, "abXcd", 5);
        assert (item);
        item [2] = 0;
    }

    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_envelope (spec->sender->sign_sk, envelope_bytes, envelope_size, signature);
    if (spec->forge)
        signature [7] ^= 0x01;

    Tally__SignedEnvelope signed_envelope = TALLY__SIGNED_ENVELOPE__INIT;
    signed_envelope.envelope.len = envelope_size;
    signed_envelope.envelope.data = envelope_bytes;
    signed_envelope.signature.len = spec->signature_bytes;
    signed_envelope.signature.data = signature;
    Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
    request.request_id = request_id;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_SEND;
    request.send = &signed_envelope;
    uint8_t *frame = s_pack (&request.base, size);

    free (envelope_bytes);
    free (pointers);
    free (messages);
    free (ids);
    return frame;
}

uint8_t *
gateway_fixture_status (uint64_t request_id, size_t *size)
{
    Tally__StatusRequest status = TALLY__STATUS_REQUEST__INIT;
    Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
    request.request_id = request_id;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_STATUS;
    request.status = &status;
    return s_pack (&request.base, size);
}

gateway_fixture_subscribe_t
gateway_fixture_subscribe_valid (const tly_account_t *reader, const char *object_id,
                                 int64_t timestamp_ms)
{
    return (gateway_fixture_subscribe_t) { .reader = reader,
                                           .object_id = object_id,
                                           .timestamp_ms = timestamp_ms,
                                           .reader_bytes = TLY_KEY_BYTES,
                                           .signature_bytes = TLY_SIGNATURE_BYTES };
}

uint8_t *
gateway_fixture_subscribe (const gateway_fixture_subscribe_t *spec, uint64_t request_id,
                           size_t *size)
{
    assert (spec->reader_bytes <= TLY_KEY_BYTES);
    assert (spec->signature_bytes <= TLY_SIGNATURE_BYTES);
    Tally__Subscribe subscribe = TALLY__SUBSCRIBE__INIT;
    subscribe.reader.len = spec->reader_bytes;
    subscribe.reader.data = (uint8_t *) spec->reader->sign_pk;
    subscribe.object_id = (char *) spec->object_id;
    subscribe.timestamp_ms = spec->timestamp_ms;
    size_t subscribe_size = 0;
    uint8_t *subscribe_bytes = s_pack (&subscribe.base, &subscribe_size);
    if (spec->garbage)
        memset (subscribe_bytes, 0xff, subscribe_size);
    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_domain (TLY_DOMAIN_SUBSCRIBE, spec->reader->sign_sk, subscribe_bytes, subscribe_size,
                     signature);
    if (spec->forge)
        signature [7] ^= 0x01;

    Tally__SignedSubscribe signed_subscribe = TALLY__SIGNED_SUBSCRIBE__INIT;
    signed_subscribe.subscribe.len = subscribe_size;
    signed_subscribe.subscribe.data = subscribe_bytes;
    signed_subscribe.signature.len = spec->signature_bytes;
    signed_subscribe.signature.data = signature;
    Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
    request.request_id = request_id;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_SUBSCRIBE;
    request.subscribe = &signed_subscribe;
    uint8_t *frame = s_pack (&request.base, size);
    free (subscribe_bytes);
    return frame;
}

uint8_t *
gateway_fixture_unsubscribe (const char *object_id, uint64_t request_id, size_t *size)
{
    Tally__Unsubscribe unsubscribe = TALLY__UNSUBSCRIBE__INIT;
    unsubscribe.object_id = (char *) object_id;
    Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
    request.request_id = request_id;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_UNSUBSCRIBE;
    request.unsubscribe = &unsubscribe;
    return s_pack (&request.base, size);
}

uint8_t *
gateway_fixture_ping (uint64_t request_id, size_t *size)
{
    Tally__Ping ping = TALLY__PING__INIT;
    Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
    request.request_id = request_id;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_PING;
    request.ping = &ping;
    return s_pack (&request.base, size);
}

uint8_t *
gateway_fixture_object (const tly_account_t *worker, const tly_account_t *user,
                        const char *object_id, uint64_t version, size_t *size)
{
    char user_id [TLY_ID_MAX];
    tly_account_id (user->sign_pk, user_id);
    Tally__UserBalance balance = TALLY__USER_BALANCE__INIT;
    balance.id = (char *) object_id;
    balance.user_id = user_id;
    balance.balance = (int64_t) version;
    Tally__ObjectValue value = TALLY__OBJECT_VALUE__INIT;
    value.kind_case = TALLY__OBJECT_VALUE__KIND_BALANCE;
    value.balance = &balance;
    Tally__GroupMember member = TALLY__GROUP_MEMBER__INIT;
    member.account.len = TLY_KEY_BYTES;
    member.account.data = (uint8_t *) user->sign_pk;
    member.role = TALLY__ROLE__READER;
    Tally__GroupMember *members [] = { &member };
    Tally__Group group = TALLY__GROUP__INIT;
    group.owner.len = TLY_KEY_BYTES;
    group.owner.data = (uint8_t *) worker->sign_pk;
    group.n_members = 1;
    group.members = members;
    Tally__ObjectState state = TALLY__OBJECT_STATE__INIT;
    state.object_id = (char *) object_id;
    state.version = version;
    state.value = &value;
    state.group = &group;
    size_t state_size = 0;
    uint8_t *state_bytes = s_pack (&state.base, &state_size);
    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_domain (TLY_DOMAIN_OBJECT, worker->sign_sk, state_bytes, state_size, signature);
    Tally__SignedObject signed_object = TALLY__SIGNED_OBJECT__INIT;
    signed_object.state.len = state_size;
    signed_object.state.data = state_bytes;
    signed_object.signature.len = TLY_SIGNATURE_BYTES;
    signed_object.signature.data = signature;
    uint8_t *bytes = s_pack (&signed_object.base, size);
    free (state_bytes);
    return bytes;
}
