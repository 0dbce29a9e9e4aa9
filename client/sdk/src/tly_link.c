//  tly_link - a connection's handshake events. See tly_link.h.
#include "tly_link.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define S_EVENTS                                                          \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL \
     | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

zsock_t *
tly_link_watch (zsock_t *sock)
{
    assert (sock);
    //  A random name: a closed connection's name may stay bound for a while.
    uint64_t nonce;
    randombytes_buf (&nonce, sizeof nonce);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://tly-link-%016" PRIx64, nonce);
    if (zmq_socket_monitor (zsock_resolve (sock), endpoint, S_EVENTS) == -1)
        return NULL;
    zsock_t *monitor = zsock_new (ZMQ_PAIR);
    if (!monitor || zsock_connect (monitor, "%s", endpoint) == -1) {
        zsock_destroy (&monitor);
        zmq_socket_monitor (zsock_resolve (sock), NULL, 0);
        return NULL;
    }
    zsock_set_rcvtimeo (monitor, 0);
    return monitor;
}

void
tly_link_unwatch (zsock_t *sock, zsock_t **monitor_p)
{
    assert (monitor_p);
    if (!*monitor_p)
        return;
    if (sock)
        zmq_socket_monitor (zsock_resolve (sock), NULL, 0);
    zsock_destroy (monitor_p);
}

const char *
tly_link_refused (zsock_t *monitor)
{
    assert (monitor);
    const char *refused = NULL;
    while (true) {
        zmsg_t *event = zmsg_recv (monitor);
        if (!event)
            break;
        zframe_t *head = zmsg_first (event);
        if (head && zframe_size (head) >= 2) {
            uint16_t kind;
            memcpy (&kind, zframe_data (head), sizeof kind);
            if (kind == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
                refused = NULL;
            else if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
                refused = "authentication failed";
            else if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
                refused = "security mechanism mismatch or protocol error";
            else if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
                refused = "handshake failed";
        }
        zmsg_destroy (&event);
    }
    return refused;
}
