//  fuzz_client_frame - libFuzzer target: any bytes as one client frame
//  through the gateway's admission checks (tly_gateway_check), the trust
//  boundary every client crosses. A frame must be refused with a code and a
//  reason, or admitted with a decoded request; never crash, leak or read
//  out of bounds (the fuzz build has ASan and UBSan).
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "tly_gateway_check.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    tly_gateway_policy_t policy = { .max_frame = TLY_FRAME_MAX_DEFAULT,
                                    .max_skew_ms = TLY_SKEW_MS_DEFAULT };
    memset (policy.inbox, 0x42, sizeof policy.inbox);
    Tally__ClientRequest *request = NULL;
    uint64_t request_id = 0;
    tly_gateway_admitted_t admitted;
    char reason [TLY_GATEWAY_REASON_MAX];
    //  A fixed clock: the same input takes the same path every run.
    Tally__ErrorCode code = tly_gateway_check (&policy, data, size, 1764226800000, &request,
                                               &request_id, &admitted, reason);
    if (code == TALLY__ERROR_CODE__OK)
        assert (request);
    else
        assert (!request && reason [0] && strlen (reason) < sizeof reason);
    if (request)
        tally__client_request__free_unpacked (request, NULL);
    return 0;
}
