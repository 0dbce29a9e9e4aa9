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
//  Room for one order message's body while it is sealed or checked.
typedef struct {
    Tally__CreateOrder create;
    Tally__EditOrder edit;
    Tally__OrderRef ref;
    Tally__FailOrder fail;
    Tally__OrderItem items [TLY_ORDER_ITEMS_MAX];
    Tally__OrderItem *list [TLY_ORDER_ITEMS_MAX];
} tly_codec_order_t;

//  Sets body's oneof to msg's order message (tly_order.c), its fields
//  pointing into room and msg, which must outlive body. Returns 0, or -1
//  when msg is no order message or holds more than TLY_ORDER_ITEMS_MAX
//  items.
int tly_codec_order_body (const tly_msg_t *msg, Tally__InboxMessage *body, tly_codec_order_t *room);
//  Decodes an Order from the wire into order (zeroed first). Returns NULL,
//  or what did not fit (more than TLY_ORDER_ITEMS_MAX items or purchase
//  IDs, a field too long).
const char *tly_codec_order (const Tally__Order *wire, tly_order_t *order);
//  Decodes n summaries into a fresh array in *orders (NULL when n is 0),
//  *count of them decoded. Returns NULL, or what did not fit; the array is
//  the caller's to free either way. The caller checks n against its limit.
const char *tly_codec_order_summaries (Tally__OrderSummary *const *wire, size_t n,
                                       tly_order_summary_t **orders, size_t *count);
//  Records a failure the SDK decided by itself (remote = false).
void tly_codec_local_error (tly_error_t *error, Tally__ErrorCode code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
