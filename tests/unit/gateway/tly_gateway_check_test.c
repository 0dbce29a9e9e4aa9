//  tly_gateway_check_test - tly_gateway_check at the edge of every limit and
//  in the order docs/protocol.md lists its checks, for sends and for
//  subscribes.
#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway_fixture.h"
#include "tly_gateway_check.h"
#include "tly_validate.h"
#include "tly_account.h"
#include "tly_object_id.h"
#include "tly_partition.h"

#define NOW_MS  1700000000000LL
#define SKEW_MS 30000

static tly_account_t s_user;
static tly_account_t s_worker;
static tly_account_t s_stranger;
static tly_gateway_policy_t s_policy;

//  Runs the check on frame and returns its code; the reason must be one
//  non-empty line on failure, and the request must come back only on OK.
static Tally__ErrorCode
s_check_frame (const uint8_t *frame, size_t size, uint64_t *request_id, char *reason)
{
    Tally__ClientRequest *request = NULL;
    tly_gateway_admitted_t admitted;
    Tally__ErrorCode code = tly_gateway_check (&s_policy, frame, size, NOW_MS, &request, request_id,
                                               &admitted, reason);
    if (code == TALLY__ERROR_CODE__OK) {
        assert (request);
        if (request->body_case == TALLY__CLIENT_REQUEST__BODY_SEND
            || request->body_case == TALLY__CLIENT_REQUEST__BODY_SUBSCRIBE)
            assert (memcmp (admitted.account, s_user.sign_pk, TLY_KEY_BYTES) == 0);
        tally__client_request__free_unpacked (request, NULL);
    } else {
        assert (request == NULL);
        assert (strlen (reason) > 0 && strchr (reason, '\n') == NULL);
    }
    return code;
}

//  Checks frame (packed as request_id) and compares code and reason; frees frame.
static void
s_expect_frame (const char *name, uint8_t *frame, size_t size, uint64_t sent_id,
                Tally__ErrorCode expected, const char *reason_part, bool verbose)
{
    uint64_t request_id = 0;
    char reason [TLY_GATEWAY_REASON_MAX];
    Tally__ErrorCode code = s_check_frame (frame, size, &request_id, reason);
    if (verbose)
        printf ("   %-28s %-22s %s\n", name, tly_error_name (code), reason);
    if (code != expected || request_id != sent_id
        || (reason_part && !strstr (reason, reason_part))) {
        fprintf (stderr, "FAIL %s: got %s \"%s\", expected %s \"%s\"\n", name,
                 tly_error_name (code), reason, tly_error_name (expected),
                 reason_part ? reason_part : "");
        exit (1);
    }
    free (frame);
}

//  Packs spec as request 42, checks it, and compares code and reason.
static void
s_expect (const char *name, const gateway_fixture_t *spec, Tally__ErrorCode expected,
          const char *reason_part, bool verbose)
{
    size_t size = 0;
    uint8_t *frame = gateway_fixture_send (spec, 42, &size);
    s_expect_frame (name, frame, size, 42, expected, reason_part, verbose);
}

static void
s_test_check (bool verbose)
{
    if (verbose)
        printf (" * tly_gateway_check:\n");
    assert (tly_account_generate (&s_user) == 0);
    assert (tly_account_generate (&s_worker) == 0);
    assert (tly_account_generate (&s_stranger) == 0);
    s_policy = (tly_gateway_policy_t) { .max_frame = TLY_FRAME_MAX_DEFAULT,
                                        .max_skew_ms = SKEW_MS,
                                        .partitions = TLY_PARTITIONS_DEFAULT };
    memcpy (s_policy.inbox, s_worker.sign_pk, TLY_KEY_BYTES);
    const gateway_fixture_t valid = gateway_fixture_valid (&s_user, s_worker.sign_pk, NOW_MS);
    gateway_fixture_t spec;
    const Tally__ErrorCode OK = TALLY__ERROR_CODE__OK;

    s_expect ("valid", &valid, OK, NULL, verbose);

    //  1. frame size, at the edge; nothing is decoded, so request_id is 0.
    size_t size = 0;
    uint8_t *frame = gateway_fixture_send (&valid, 42, &size);
    uint64_t request_id = 99;
    char reason [TLY_GATEWAY_REASON_MAX];
    s_policy.max_frame = size;
    assert (s_check_frame (frame, size, &request_id, reason) == OK && request_id == 42);
    s_policy.max_frame = size - 1;
    assert (s_check_frame (frame, size, &request_id, reason) == TALLY__ERROR_CODE__FRAME_TOO_LARGE);
    assert (request_id == 0 && strstr (reason, "exceeds limit"));
    s_policy.max_frame = TLY_FRAME_MAX_DEFAULT;
    free (frame);

    //  2. decoding and field shapes.
    const uint8_t garbage [] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    request_id = 99;
    assert (s_check_frame (garbage, sizeof (garbage), &request_id, reason)
                == TALLY__ERROR_CODE__BAD_REQUEST
            && request_id == 0);
    Tally__ClientRequest empty = TALLY__CLIENT_REQUEST__INIT;
    empty.request_id = 7;
    uint8_t empty_frame [16];
    size = tally__client_request__pack (&empty, empty_frame);
    assert (s_check_frame (empty_frame, size, &request_id, reason) == TALLY__ERROR_CODE__BAD_REQUEST
            && request_id == 7);
    frame = gateway_fixture_status (8, &size);
    assert (s_check_frame (frame, size, &request_id, reason) == OK && request_id == 8);
    free (frame);

    spec = valid;
    spec.id_bytes = 15;
    s_expect ("15-byte message id", &spec, TALLY__ERROR_CODE__BAD_REQUEST, "15-byte id", verbose);
    spec = valid;
    spec.signature_bytes = 63;
    s_expect ("63-byte signature", &spec, TALLY__ERROR_CODE__BAD_REQUEST, "signature is 63",
              verbose);
    spec = valid;
    spec.messages = 2;
    spec.no_body = true;
    s_expect ("message without body", &spec, TALLY__ERROR_CODE__BAD_REQUEST, "no body", verbose);

    //  An envelope goes to one partition: a credit's user's, any other
    //  message's sender's; a credit's user is a 32-byte key.
    tly_account_t other;
    do
        assert (tly_account_generate (&other) == 0);
    while (tly_partition_of (other.sign_pk, TLY_PARTITIONS_DEFAULT)
           == tly_partition_of (s_user.sign_pk, TLY_PARTITIONS_DEFAULT));
    spec = valid;
    spec.messages = 1;
    spec.credit = other.sign_pk;
    spec.credit_bytes = TLY_KEY_BYTES;
    frame = gateway_fixture_send (&spec, 43, &size);
    Tally__ClientRequest *request = NULL;
    tly_gateway_admitted_t admitted;
    assert (
        tly_gateway_check (&s_policy, frame, size, NOW_MS, &request, &request_id, &admitted, reason)
        == OK);
    assert (admitted.partition == tly_partition_of (other.sign_pk, TLY_PARTITIONS_DEFAULT));
    tally__client_request__free_unpacked (request, NULL);
    free (frame);
    spec.messages = 2;
    s_expect ("createAccount and a credit of another partition", &spec,
              TALLY__ERROR_CODE__BAD_REQUEST, "go to one partition", verbose);
    spec.messages = 1;
    spec.credit_bytes = 31;
    s_expect ("credit of a 31-byte user", &spec, TALLY__ERROR_CODE__BAD_REQUEST,
              "credited or debited is 31 bytes", verbose);

    //  3. message count, at both edges.
    spec = valid;
    spec.messages = 0;
    s_expect ("0 messages", &spec, TALLY__ERROR_CODE__BAD_REQUEST, "no messages", verbose);
    spec = valid;
    spec.messages = TLY_BATCH_MAX;
    s_expect ("256 messages", &spec, OK, NULL, verbose);
    spec = valid;
    spec.messages = TLY_BATCH_MAX + 1;
    s_expect ("257 messages", &spec, TALLY__ERROR_CODE__BATCH_TOO_LARGE,
              "envelope holds 257 messages (limit 256)", verbose);

    //  4. duplicate ids.
    spec = valid;
    spec.messages = 5;
    spec.duplicate_id = true;
    s_expect ("duplicate message id", &spec, TALLY__ERROR_CODE__DUPLICATE_MESSAGE_ID,
              "appears more than once", verbose);

    //  5. inbox.
    spec = valid;
    memcpy (spec.inbox, s_stranger.sign_pk, TLY_KEY_BYTES);
    s_expect ("wrong inbox", &spec, TALLY__ERROR_CODE__UNKNOWN_INBOX,
              "but this gateway serves co_z", verbose);

    //  6. timestamp, at both edges and at the ends of int64.
    spec = valid;
    spec.timestamp_ms = NOW_MS - SKEW_MS;
    s_expect ("timestamp now - skew", &spec, OK, NULL, verbose);
    spec = valid;
    spec.timestamp_ms = NOW_MS + SKEW_MS;
    s_expect ("timestamp now + skew", &spec, OK, NULL, verbose);
    spec = valid;
    spec.timestamp_ms = NOW_MS - SKEW_MS - 1;
    s_expect ("timestamp now - skew - 1", &spec, TALLY__ERROR_CODE__STALE_TIMESTAMP,
              "30001 ms behind the gateway clock (limit 30000)", verbose);
    spec = valid;
    spec.timestamp_ms = NOW_MS + SKEW_MS + 1;
    s_expect ("timestamp now + skew + 1", &spec, TALLY__ERROR_CODE__STALE_TIMESTAMP,
              "30001 ms ahead of the gateway clock", verbose);
    spec = valid;
    spec.timestamp_ms = INT64_MIN;
    s_expect ("timestamp INT64_MIN", &spec, TALLY__ERROR_CODE__STALE_TIMESTAMP, NULL, verbose);
    spec = valid;
    spec.timestamp_ms = INT64_MAX;
    s_expect ("timestamp INT64_MAX", &spec, TALLY__ERROR_CODE__STALE_TIMESTAMP, NULL, verbose);

    //  7. signature.
    spec = valid;
    spec.forge = true;
    s_expect ("forged signature", &spec, TALLY__ERROR_CODE__BAD_SIGNATURE,
              "signature does not verify for sender co_z", verbose);

    //  The order: with several faults, the earliest listed one is reported.
    spec = valid;
    spec.messages = 300;
    spec.id_bytes = 15;
    s_expect ("order: shape before count", &spec, TALLY__ERROR_CODE__BAD_REQUEST, NULL, verbose);
    spec = valid;
    spec.messages = 300;
    spec.duplicate_id = true;
    s_expect ("order: count before dups", &spec, TALLY__ERROR_CODE__BATCH_TOO_LARGE, NULL, verbose);
    spec = valid;
    spec.messages = 2;
    spec.duplicate_id = true;
    memcpy (spec.inbox, s_stranger.sign_pk, TLY_KEY_BYTES);
    s_expect ("order: dups before inbox", &spec, TALLY__ERROR_CODE__DUPLICATE_MESSAGE_ID, NULL,
              verbose);
    spec = valid;
    memcpy (spec.inbox, s_stranger.sign_pk, TLY_KEY_BYTES);
    spec.timestamp_ms = 0;
    s_expect ("order: inbox before time", &spec, TALLY__ERROR_CODE__UNKNOWN_INBOX, NULL, verbose);
    spec = valid;
    spec.timestamp_ms = 0;
    spec.forge = true;
    s_expect ("order: time before signature", &spec, TALLY__ERROR_CODE__STALE_TIMESTAMP, NULL,
              verbose);
}

//  Packs spec as a subscribe with request_id 43, checks it, and compares.
static void
s_expect_subscribe (const char *name, const gateway_fixture_subscribe_t *spec,
                    Tally__ErrorCode expected, const char *reason_part, bool verbose)
{
    size_t size = 0;
    uint8_t *frame = gateway_fixture_subscribe (spec, 43, &size);
    s_expect_frame (name, frame, size, 43, expected, reason_part, verbose);
}

static void
s_test_check_subscribe (bool verbose)
{
    if (verbose)
        printf (" * tly_gateway_check, subscribe:\n");
    char object_id [TLY_ID_MAX];
    tly_user_object_id (TLY_OBJ_BALANCE, s_user.sign_pk, 256, object_id);
    const gateway_fixture_subscribe_t valid = gateway_fixture_subscribe_valid (&s_user, object_id,
                                                                               NOW_MS);
    gateway_fixture_subscribe_t spec;
    const Tally__ErrorCode OK = TALLY__ERROR_CODE__OK;
    s_expect_subscribe ("valid", &valid, OK, NULL, verbose);

    //  What the check hands on: the reader, the canonical ID, its raw bytes.
    size_t size = 0;
    uint8_t *frame = gateway_fixture_subscribe (&valid, 43, &size);
    Tally__ClientRequest *request = NULL;
    uint64_t request_id = 0;
    tly_gateway_admitted_t admitted;
    char reason [TLY_GATEWAY_REASON_MAX];
    assert (
        tly_gateway_check (&s_policy, frame, size, NOW_MS, &request, &request_id, &admitted, reason)
        == OK);
    tly_object_kind_t kind = 0;
    uint32_t partition = 0;
    uint8_t tail [16];
    assert (tly_object_id_parse (object_id, &kind, &partition, tail) == 0);
    assert (strcmp (admitted.object_id, object_id) == 0 && admitted.partition == partition);
    assert (admitted.topic [0] == kind && admitted.topic [1] == partition >> 8);
    assert (admitted.topic [2] == (partition & 0xff) && memcmp (admitted.topic + 3, tail, 16) == 0);
    tally__client_request__free_unpacked (request, NULL);
    free (frame);

    spec = valid;
    spec.garbage = true;
    s_expect_subscribe ("undecodable subscribe", &spec, TALLY__ERROR_CODE__BAD_REQUEST,
                        "does not decode as a Subscribe", verbose);
    spec = valid;
    spec.reader_bytes = 31;
    s_expect_subscribe ("31-byte reader", &spec, TALLY__ERROR_CODE__BAD_REQUEST,
                        "reader is 31 bytes", verbose);
    spec = valid;
    spec.signature_bytes = 63;
    s_expect_subscribe ("63-byte signature", &spec, TALLY__ERROR_CODE__BAD_REQUEST,
                        "signature is 63", verbose);
    spec = valid;
    spec.object_id = "co_znotanobject";
    s_expect_subscribe ("bad object ID", &spec, TALLY__ERROR_CODE__NOT_FOUND,
                        "not a tally object ID", verbose);
    char account_id [TLY_ID_MAX];
    tly_account_id (s_user.sign_pk, account_id);
    spec = valid;
    spec.object_id = account_id;
    s_expect_subscribe ("account ID as object ID", &spec, TALLY__ERROR_CODE__NOT_FOUND, NULL,
                        verbose);
    spec = valid;
    spec.timestamp_ms = NOW_MS - SKEW_MS;
    s_expect_subscribe ("timestamp now - skew", &spec, OK, NULL, verbose);
    spec = valid;
    spec.timestamp_ms = NOW_MS + SKEW_MS;
    s_expect_subscribe ("timestamp now + skew", &spec, OK, NULL, verbose);
    spec = valid;
    spec.timestamp_ms = NOW_MS - SKEW_MS - 1;
    s_expect_subscribe ("timestamp now - skew - 1", &spec, TALLY__ERROR_CODE__STALE_TIMESTAMP,
                        "30001 ms behind", verbose);
    spec = valid;
    spec.timestamp_ms = NOW_MS + SKEW_MS + 1;
    s_expect_subscribe ("timestamp now + skew + 1", &spec, TALLY__ERROR_CODE__STALE_TIMESTAMP,
                        "30001 ms ahead", verbose);
    spec = valid;
    spec.forge = true;
    s_expect_subscribe ("forged signature", &spec, TALLY__ERROR_CODE__BAD_SIGNATURE,
                        "signature does not verify for reader co_z", verbose);

    spec = valid;
    spec.reader_bytes = 31;
    spec.object_id = "co_zbad";
    s_expect_subscribe ("order: shape before ID", &spec, TALLY__ERROR_CODE__BAD_REQUEST, NULL,
                        verbose);
    spec = valid;
    spec.object_id = "co_zbad";
    spec.timestamp_ms = 0;
    s_expect_subscribe ("order: ID before time", &spec, TALLY__ERROR_CODE__NOT_FOUND, NULL,
                        verbose);
    spec = valid;
    spec.timestamp_ms = 0;
    spec.forge = true;
    s_expect_subscribe ("order: time before signature", &spec, TALLY__ERROR_CODE__STALE_TIMESTAMP,
                        NULL, verbose);

    //  Unsubscribe and ping carry nothing to check beyond decoding.
    frame = gateway_fixture_unsubscribe ("anything at all", 44, &size);
    assert (s_check_frame (frame, size, &request_id, reason) == OK && request_id == 44);
    free (frame);
    frame = gateway_fixture_ping (45, &size);
    assert (s_check_frame (frame, size, &request_id, reason) == OK && request_id == 45);
    free (frame);
}

void
tly_gateway_check_test (bool verbose)
{
    assert (sodium_init () >= 0);
    s_test_check (verbose);
    s_test_check_subscribe (verbose);
    if (verbose)
        printf ("   OK\n");
}
