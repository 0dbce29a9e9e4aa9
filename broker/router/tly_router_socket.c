//  tly_router_socket - the router's ROUTER sockets and their framing.
#include "tly_router_socket.h"
#include "tly_router_actors.h"
#include "tly_limits.h"
#include "tly_log.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>

zsock_t *
tly_router_socket_bind (const char *endpoint, bool watched, tly_curve_t *curve,
                        tly_curve_peers_t peers, char *error, size_t error_size)
{
    assert (endpoint && error);
    zsock_t *sock = zsock_new (ZMQ_ROUTER);
    if (!sock) {
        snprintf (error, error_size, "cannot create a socket for %s", endpoint);
        return NULL;
    }
    zsock_set_linger (sock, 0);
    zsock_set_maxmsgsize (sock, TLY_FRAME_HARD_MAX);
    zsock_set_sndhwm (sock, TLY_ROUTER_SOCKET_HWM);
    zsock_set_rcvhwm (sock, TLY_ROUTER_SOCKET_HWM);
    //  Report unroutable sends instead of dropping them silently.
    zsock_set_router_mandatory (sock, 1);
    //  A peer reconnecting with a fixed routing id takes it over.
    zsock_set_router_handover (sock, 1);
    if (watched) {
        //  The I/O thread PINGs each peer and closes a link that brings
        //  nothing back (no PONG, no PING, no message) within
        //  TLY_LINK_TIMEOUT_MS; sends to it then fail with EHOSTUNREACH.
        zsock_set_heartbeat_ivl (sock, TLY_LINK_PING_MS);
        zsock_set_heartbeat_timeout (sock, TLY_LINK_TIMEOUT_MS);
    }
    if (curve && tly_curve_serve (curve, sock, endpoint, peers, error, error_size)) {
        zsock_destroy (&sock);
        return NULL;
    }
    if (zsock_bind (sock, "%s", endpoint) == -1) {
        snprintf (error, error_size, "cannot bind %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

tly_router_recv_t
tly_router_socket_recv (void *handle, zmq_msg_t *identity, zmq_msg_t *data)
{
    assert (handle && identity && data);
    if (zmq_msg_recv (identity, handle, ZMQ_DONTWAIT) == -1)
        return TLY_ROUTER_RECV_NONE;
    //  libzmq delivers a message's frames together: the rest is already here.
    size_t frames = 1;
    bool more = zmq_msg_more (identity);
    if (more && zmq_msg_recv (data, handle, ZMQ_DONTWAIT) != -1) {
        frames++;
        more = zmq_msg_more (data);
    }
    zmq_msg_t extra;
    zmq_msg_init (&extra);
    while (more && zmq_msg_recv (&extra, handle, ZMQ_DONTWAIT) != -1) {
        frames++;
        more = zmq_msg_more (&extra);
    }
    zmq_msg_close (&extra);
    if (frames == 2 && zmq_msg_size (identity) <= TLY_ROUTER_IDENTITY_MAX)
        return TLY_ROUTER_RECV_MESSAGE;
    tly_log (TLY_WARN, "router.bad_message",
             "frames=%zu reason=\"expected identity and one frame\"", frames);
    return TLY_ROUTER_RECV_MALFORMED;
}

int
tly_router_socket_send (void *handle, const uint8_t *identity, size_t identity_size,
                        const uint8_t *data, size_t size)
{
    assert (handle && identity && data);
    if (zmq_send (handle, identity, identity_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1
        || zmq_send (handle, data, size, ZMQ_DONTWAIT) == -1) {
        int error = zmq_errno ();
        char peer [2 * TLY_ROUTER_IDENTITY_MAX + 1];
        sodium_bin2hex (peer, sizeof peer, identity, identity_size);
        tly_log (TLY_DEBUG, "router.send_failed", "peer=%s reason=\"%s\"", peer,
                 zmq_strerror (error));
        errno = error;  //  callers tell a closed link (EHOSTUNREACH) from a full one
        return -1;
    }
    return 0;
}
