//  tly_order_url - the order service's URLs.
#include "tly_order_url.h"

#include <stdio.h>
#include <string.h>

bool
tly_order_url_valid (const char *url)
{
    return url && (strncmp (url, "http://", 7) == 0 || strncmp (url, "https://", 8) == 0)
           && strlen (url) < TLY_ORDER_URL_SIZE;
}

int
tly_order_void_url (const char *service_url, char *out, size_t out_size)
{
    if (!tly_order_url_valid (service_url))
        return -1;
    const char *rest = service_url + (service_url [4] == 's' ? 8 : 7);
    size_t end = strcspn (service_url, "?#");
    const char *path = strchr (rest, '/');
    if (!path || (size_t) (path - service_url) >= end) {
        //  No path: the void is /void on the same host.
        if (end + strlen ("/void") + 1 > out_size)
            return -1;
        snprintf (out, out_size, "%.*s/void", (int) end, service_url);
        return 0;
    }
    //  The last '/' before the query: everything after it is replaced.
    size_t last = (size_t) (path - service_url);
    for (size_t i = last; i < end; i++)
        if (service_url [i] == '/')
            last = i;
    if (last + 1 + strlen ("void") + 1 > out_size)
        return -1;
    snprintf (out, out_size, "%.*svoid", (int) (last + 1), service_url);
    return 0;
}
