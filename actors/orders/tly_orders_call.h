//  tly_orders_call - what the order processor says to the external service
//  and what it makes of the answer: the request's JSON body,
//  the verdict on an HTTP outcome, the error text an order keeps, and the
//  wait before the next attempt. Pure functions, no I/O: the processor
//  (tly_orders) and its HTTP client (tly_orders_http) do the rest.
//
//      char *body = tly_orders_call_body (order_id, user_id, total, items, n);
//      ...POST it; then, with the outcome:
//      tly_orders_verdict_t verdict = tly_orders_call_verdict (status, transport_ok);
//      if (verdict == TLY_ORDERS_REFUSED)
//          tly_orders_call_error_text (status, reason, body, size, error);
#ifndef TLY_ORDERS_CALL_H_INCLUDED
#define TLY_ORDERS_CALL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tly_limits.h"
#include "tly_order_url.h"

#define TLY_ORDERS_BACKOFF_CAP_MS 30000  //  the longest wait between two attempts
//  An order's error: the bytes the cluster accepts in failOrder, plus NUL.
#define TLY_ORDERS_ERROR_SIZE     (TLY_ORDER_ERROR_MAX + 1)

//  One line of an order, as the service is told it.
typedef struct {
    const char *item_id;
    int64_t amount;
} tly_orders_line_t;

//  What one HTTP call's outcome means for the order.
typedef enum {
    TLY_ORDERS_ACCEPTED,  //  2xx: the service did its part
    TLY_ORDERS_REFUSED,   //  a definitive 4xx: it never will
    TLY_ORDERS_RETRY      //  5xx, 408, 409, 425, 429, any other status, a
                          //  timeout or a connection error: try again later
} tly_orders_verdict_t;

//  The request body, freshly allocated (caller frees):
//  {"orderId":..,"userId":..,"total":N,"items":[{"itemId":..,"amount":N},..]}.
//  Strings are escaped as JSON requires. NULL when out of memory.
char *tly_orders_call_body (const char *order_id, const char *user_id, int64_t total,
                            const tly_orders_line_t *lines, size_t line_count);

//  The verdict on an HTTP status, when the call got one (answered true);
//  RETRY when it did not (timeout, connection error).
tly_orders_verdict_t tly_orders_call_verdict (long status, bool answered);

//  The error an order is failed with after a refusal: the JSON body's
//  top-level "error" string when there is one, else the status line
//  ("HTTP 402" and its reason phrase when given). At most
//  TLY_ORDER_ERROR_MAX bytes of valid UTF-8 (invalid bytes become '?',
//  control characters ' ', cut at a character's boundary) into out
//  (TLY_ORDERS_ERROR_SIZE bytes).
void tly_orders_call_error_text (long status, const char *reason, const char *body,
                                 size_t body_size, char *out);

//  text made fit for an order's error, as above; prefix (may be "") first.
void tly_orders_call_clean_text (const char *prefix, const char *text, size_t text_size, char *out);

//  The top-level string field name of a JSON object in body, decoded
//  (escapes, \uXXXX and surrogate pairs to UTF-8) into out. Returns 0, or
//  -1 when body is no JSON object or has no such string field. Nested
//  values are passed over, at most TLY_ORDERS_JSON_DEPTH deep.
#define TLY_ORDERS_JSON_DEPTH 32
int tly_orders_call_json_string (const char *body, size_t body_size, const char *name, char *out,
                                 size_t out_size);

//  The wait before attempt number `attempt` (1: the wait after the first
//  failure): first_ms doubled per attempt, at most TLY_ORDERS_BACKOFF_CAP_MS.
int64_t tly_orders_call_backoff (int64_t first_ms, int attempt);

#endif
