//  tly_order_url - the order service's URLs, as the order processor
//  (tally-orders --service-url, --void-url) and `tally up --order-service`
//  take them: http:// or https://, shorter than TLY_ORDER_URL_SIZE, and the
//  void URL that goes with a charge URL.
//
//      char void_url [TLY_ORDER_URL_SIZE];
//      if (tly_order_void_url (service_url, void_url, sizeof void_url) == -1)
//          ...refuse service_url
#ifndef TLY_ORDER_URL_H_INCLUDED
#define TLY_ORDER_URL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  A service or void URL with its terminating NUL: a URL has at most
//  TLY_ORDER_URL_SIZE - 1 bytes.
#define TLY_ORDER_URL_SIZE 2048

//  True when url starts http:// or https:// and is shorter than
//  TLY_ORDER_URL_SIZE.
bool tly_order_url_valid (const char *url);

//  The void URL for service_url: its path's last segment replaced by
//  "void" (http://h:1/pay/charge -> http://h:1/pay/void; a URL whose path
//  is empty or "/" gets "/void"); query and fragment dropped. Returns 0, or
//  -1 when service_url is not a valid URL (above) or out is too small.
int tly_order_void_url (const char *service_url, char *out, size_t out_size);

#endif
