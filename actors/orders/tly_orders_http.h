//  tly_orders_http - the order processor's HTTP client: JSON POSTs with an
//  Idempotency-Key, at most `slots` in flight at once (curl multi), each
//  bounded by a timeout and its answer's body by TLY_ORDERS_BODY_MAX.
//
//      tly_orders_http_t *http = tly_orders_http_new (8, 5000);
//      tly_orders_http_post (http, url, order_id, body, order);   //  tag: order
//      while (...) {
//          tly_orders_http_wait (http, 50);           //  sockets, or the time
//          tly_orders_reply_t reply;
//          while (tly_orders_http_next (http, &reply)) //  each finished call
//              ... reply.tag, reply.answered, reply.status, reply.body
//      }
//      tly_orders_http_destroy (&http);
#ifndef TLY_ORDERS_HTTP_H_INCLUDED
#define TLY_ORDERS_HTTP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLY_ORDERS_BODY_MAX   65536  //  bytes of an answer kept; the rest is dropped
#define TLY_ORDERS_REASON_MAX 64     //  the status line's reason phrase
#define TLY_ORDERS_DETAIL_MAX 256    //  why a call got no answer

typedef struct _tly_orders_http_t tly_orders_http_t;

//  One finished call. body is the http object's until the next call of
//  tly_orders_http_next (NUL-terminated; body_size without the NUL).
typedef struct {
    void *tag;
    bool answered;  //  an HTTP status came back (else: timeout, connection error)
    long status;
    char reason [TLY_ORDERS_REASON_MAX];
    const char *body;
    size_t body_size;
    char detail [TLY_ORDERS_DETAIL_MAX];  //  when not answered: what went wrong
    int64_t elapsed_ms;
} tly_orders_reply_t;

//  NULL when curl cannot be set up (logged).
tly_orders_http_t *tly_orders_http_new (size_t slots, int64_t timeout_ms);
void tly_orders_http_destroy (tly_orders_http_t **self_p);

//  Free slots: how many more POSTs may start now.
size_t tly_orders_http_free (tly_orders_http_t *self);
//  Calls in flight.
size_t tly_orders_http_busy (tly_orders_http_t *self);

//  Starts a POST of body (copied) as application/json to url with header
//  "Idempotency-Key: key". Needs a free slot. Returns 0, or -1 (logged)
//  when curl refuses it; tag comes back in its reply.
int tly_orders_http_post (tly_orders_http_t *self, const char *url, const char *key,
                          const char *body, void *tag);

//  Drives the calls, waiting at most timeout_ms for their sockets.
void tly_orders_http_wait (tly_orders_http_t *self, int timeout_ms);

//  Takes one finished call into reply. False when none is waiting.
bool tly_orders_http_next (tly_orders_http_t *self, tly_orders_reply_t *reply);

#endif
