//  fuzz_client_frame - libFuzzer target: any bytes as one client frame
//  through the gateway's admission checks (tly_gateway_check), the trust
//  boundary every client crosses. A frame must be refused with a code and a
//  reason, or admitted with a decoded request; never crash, leak or read
//  out of bounds (the fuzz build has ASan and UBSan).
//
//  The gateway serves the test worker (fuzz_support.h), which the seed
//  corpus was captured from. Each frame is checked at a fixed clock, and
//  once more at the time its envelope or subscribe carries, as a gateway
//  whose clock agrees with the client's would: then the checks after the
//  skew (the signature, the object ID) run on the real traffic's frames
//  too. An admitted send names its sender, a subscribe its reader and
//  object; the same frame gets the same verdict twice.
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_support.h"
#include "tly_gateway_check.h"

#define S_CLOCK_MS 1764226800000LL

//  The time a request carries: its envelope's or its subscribe's (0: none).
static int64_t
s_request_time (const uint8_t *data, size_t size)
{
    Tally__ClientRequest *request = tally__client_request__unpack (NULL, size, data);
    if (!request)
        return 0;
    int64_t time = 0;
    if (request->body_case == TALLY__CLIENT_REQUEST__BODY_SEND) {
        Tally__Envelope *envelope = tally__envelope__unpack (NULL, request->send->envelope.len,
                                                             request->send->envelope.data);
        time = envelope ? envelope->timestamp_ms : 0;
        tally__envelope__free_unpacked (envelope, NULL);
    } else if (request->body_case == TALLY__CLIENT_REQUEST__BODY_SUBSCRIBE) {
        Tally__Subscribe *subscribe = tally__subscribe__unpack (
            NULL, request->subscribe->subscribe.len, request->subscribe->subscribe.data);
        time = subscribe ? subscribe->timestamp_ms : 0;
        tally__subscribe__free_unpacked (subscribe, NULL);
    }
    tally__client_request__free_unpacked (request, NULL);
    return time;
}

static Tally__ErrorCode
s_check (const uint8_t *data, size_t size, int64_t now_ms, uint64_t *request_id)
{
    tly_gateway_policy_t policy = { .max_frame = TLY_FRAME_MAX_DEFAULT,
                                    .max_skew_ms = TLY_SKEW_MS_DEFAULT,
                                    .partitions = TLY_PARTITIONS_DEFAULT };
    memcpy (policy.inbox, fuzz_account (FUZZ_WORKER)->sign_pk, TLY_KEY_BYTES);
    Tally__ClientRequest *request = NULL;
    tly_gateway_admitted_t admitted;
    char reason [TLY_GATEWAY_REASON_MAX];
    Tally__ErrorCode code = tly_gateway_check (&policy, data, size, now_ms, &request, request_id,
                                               &admitted, reason);
    if (code != TALLY__ERROR_CODE__OK) {
        assert (!request && reason [0] && strlen (reason) < sizeof reason);
        return code;
    }
    assert (request && request->request_id == *request_id);
    if (request->body_case == TALLY__CLIENT_REQUEST__BODY_SEND) {
        Tally__Envelope *envelope = tally__envelope__unpack (NULL, request->send->envelope.len,
                                                             request->send->envelope.data);
        assert (envelope && envelope->sender.len == TLY_KEY_BYTES);
        assert (memcmp (admitted.account, envelope->sender.data, TLY_KEY_BYTES) == 0);
        assert (envelope->n_messages >= 1 && envelope->n_messages <= TLY_BATCH_MAX);
        tally__envelope__free_unpacked (envelope, NULL);
    } else if (request->body_case == TALLY__CLIENT_REQUEST__BODY_SUBSCRIBE) {
        char canonical [TLY_ID_MAX];
        tly_object_kind_t kind;
        uint32_t partition;
        assert (tly_object_id_parse (admitted.object_id, &kind, &partition, NULL) == 0);
        assert (partition == admitted.partition);
        snprintf (canonical, sizeof canonical, "%s", admitted.object_id);
        tly_gateway_admitted_t again;
        assert (tly_gateway_check_object_id (canonical, &again) == 0);
        assert (strcmp (again.object_id, canonical) == 0);
    }
    tally__client_request__free_unpacked (request, NULL);
    return code;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    uint64_t first_id, second_id;
    Tally__ErrorCode first = s_check (data, size, S_CLOCK_MS, &first_id);
    assert (s_check (data, size, S_CLOCK_MS, &second_id) == first && second_id == first_id);
    int64_t time = s_request_time (data, size);
    if (time != 0 && time != S_CLOCK_MS)
        s_check (data, size, time, &first_id);
    return 0;
}
