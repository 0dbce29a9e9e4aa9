//  tly_gateway_rejects - every client request the gateway refuses, counted
//  per peer (the client's address) and reported once a window.
//
//  Anyone who can reach the gateway can make it refuse requests, so a
//  refusal cannot cost a log line each: the gateway logs a few in detail
//  (TLY_REJECT_LOG_BURST a window, tly_log_limited) and counts every one
//  here. Once a window (TLY_REJECT_LOG_WINDOW_MS, opened by its first
//  refusal) has ended, tly_gateway_rejects_report writes one line per peer
//  refused in it, with the count of each code:
//
//    event=client.rejections peer=127.0.0.2 rejected=51234 window_ms=1000
//        BAD_REQUEST=48000 BAD_SIGNATURE=3234
//
//  for the first TLY_REJECT_PEERS_MAX peers of the window, and one
//  `peer=others` line summing the rest, so the report has a bound too,
//  however many peers there are. The gateway calls report every loop turn;
//  a window ends whether or not anything is refused after it.
#ifndef TLY_GATEWAY_REJECTS_H_INCLUDED
#define TLY_GATEWAY_REJECTS_H_INCLUDED

#include <stdint.h>
#include "tally.pb-c.h"

typedef struct _tly_gateway_rejects_t tly_gateway_rejects_t;

//  Windows of window_ms (> 0). Returns NULL on allocation failure.
tly_gateway_rejects_t *tly_gateway_rejects_new (int64_t window_ms);
void tly_gateway_rejects_destroy (tly_gateway_rejects_t **self_p);

//  Counts one refusal with code of a request from peer (its address; NULL
//  when unknown) at now_ms (monotonic). Reports the window before, when it
//  has ended.
void tly_gateway_rejects_count (tly_gateway_rejects_t *self, const char *peer,
                                Tally__ErrorCode code, int64_t now_ms);
//  Logs the open window's lines once it has ended at now_ms, and closes it.
void tly_gateway_rejects_report (tly_gateway_rejects_t *self, int64_t now_ms);
//  When the open window ends (monotonic ms); INT64_MAX when none is open.
int64_t tly_gateway_rejects_deadline (tly_gateway_rejects_t *self);

#endif
