//  tly_codec - the SDK's pure encoding and decoding, no sockets.
//  Internal to libtally (and its unit test); the public API is tally.h.
#ifndef TLY_CODEC_H_INCLUDED
#define TLY_CODEC_H_INCLUDED

#include "tally.h"
#include "tally.pb-c.h"

//  Serializes Envelope {sender, inbox, timestamp_ms, msgs} and signs it.
//  Returns 0 with a freshly allocated SignedEnvelope in *bytes_p, or -1 when
//  a message is malformed (unknown kind).
int tly_codec_seal (const tly_account_t *account, const uint8_t inbox [TLY_KEY_BYTES],
                    const tly_msg_t *msgs, size_t n, int64_t timestamp_ms, uint8_t **bytes_p,
                    size_t *size_p);

//  Encodes ClientRequest {request_id, send = signed_envelope} around the
//  given bytes without decoding them (an embedded message is a
//  length-delimited field on the wire). Returns a freshly allocated buffer.
uint8_t *tly_codec_wrap_send (uint64_t request_id, const uint8_t *signed_envelope, size_t size,
                              size_t *out_size);

//  Encodes ClientRequest {request_id, subscribe = SignedSubscribe} for
//  Subscribe {reader = account, object_id, timestamp_ms}, signed by account
//  in the subscribe domain. Returns a freshly allocated buffer.
uint8_t *tly_codec_subscribe (const tly_account_t *account, uint64_t request_id,
                              const char *object_id, int64_t timestamp_ms, size_t *out_size);

//  Converts reply->results into results [0..*count). Returns 0, or -1 with
//  error filled when the reply carries more than results_max results or a
//  field does not fit.
int tly_codec_results (const Tally__ClientReply *reply, tly_result_t *results, size_t results_max,
                       size_t *count, tly_error_t *error);

//  Fills error from a wire Error (remote), using the default text when the
//  gateway sent none.
void tly_codec_remote_error (const Tally__Error *wire, tly_error_t *error);
//  Copies text (NULL as "") into out of out_size bytes, NUL included;
//  false, leaving out untouched, when it does not fit.
bool tly_codec_copy (char *out, size_t out_size, const char *text);
//  Records a failure the SDK decided by itself (remote = false).
void tly_codec_local_error (tly_error_t *error, Tally__ErrorCode code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
