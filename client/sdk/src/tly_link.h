//  tly_link - what the SDK learns from a connection's own events: whether
//  the gateway refused its handshake (CURVE required, a wrong key), which no
//  reply would ever say. Internal to libtally.
#ifndef TLY_LINK_H_INCLUDED
#define TLY_LINK_H_INCLUDED

#include <czmq.h>

//  A PAIR socket receiving sock's handshake events; call before sock
//  connects. NULL on failure.
zsock_t *tly_link_watch (zsock_t *sock);
//  Stops watching sock and destroys *monitor_p (NULL is fine).
void tly_link_unwatch (zsock_t *sock, zsock_t **monitor_p);
//  Reads the events waiting on monitor; returns why the last handshake was
//  refused (static text), or NULL when none was.
const char *tly_link_refused (zsock_t *monitor);

#endif
