//  tly_router_bus - the update bus proxy. See tly_router_bus.h.
#include "tly_router_bus.h"
#include "tly_limits.h"
#include "tly_log.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>

//  Messages forwarded from one side before the loop looks elsewhere.
#define BUS_BURST 1024
//  Updates queued per gateway before XPUB drops (instead of 1000).
#define BUS_HWM   100000

struct _tly_router_bus_t {
    zsock_t *in;   //  XSUB: actors publish here
    zsock_t *out;  //  XPUB: gateways subscribe here
    void *in_handle;
    void *out_handle;
};

static zsock_t *
s_bind (int type, const char *endpoint, tly_curve_t *curve, tly_curve_peers_t peers, char *error,
        size_t error_size)
{
    zsock_t *sock = zsock_new (type);
    if (!sock) {
        snprintf (error, error_size, "cannot create a socket for %s", endpoint);
        return NULL;
    }
    zsock_set_linger (sock, 0);
    zsock_set_maxmsgsize (sock, TLY_FRAME_HARD_MAX);
    zsock_set_sndhwm (sock, BUS_HWM);
    zsock_set_rcvhwm (sock, BUS_HWM);
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

tly_router_bus_t *
tly_router_bus_new (const char *bus_in, const char *bus_out, tly_curve_t *curve, char *error,
                    size_t error_size)
{
    assert (bus_in && bus_out && error);
    tly_router_bus_t *self = calloc (1, sizeof (*self));
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    //  Only actors publish, only gateways read: a stranger can do neither.
    self->in = s_bind (ZMQ_XSUB, bus_in, curve, TLY_CURVE_ACTORS, error, error_size);
    self->out = self->in ? s_bind (ZMQ_XPUB, bus_out, curve, TLY_CURVE_GATEWAYS, error, error_size)
                         : NULL;
    if (!self->out) {
        tly_router_bus_destroy (&self);
        return NULL;
    }
    self->in_handle = zsock_resolve (self->in);
    self->out_handle = zsock_resolve (self->out);
    //  Subscribe to everything upstream. Actors then never filter in their
    //  XPUB sockets, so whatever an actor publishes reaches our XPUB in order,
    //  and a snapshot published for a gateway (docs/protocol.md) is followed
    //  by every later update of the object. Actors still see the specific
    //  topics gateways subscribe to, and publish only those.
    const uint8_t subscribe_all = 1;
    int rc = zmq_send (self->in_handle, &subscribe_all, 1, 0);
    assert (rc == 1);
    return self;
}

void
tly_router_bus_destroy (tly_router_bus_t **self_p)
{
    assert (self_p);
    tly_router_bus_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->in);
    zsock_destroy (&self->out);
    free (self);
    *self_p = NULL;
}

void *
tly_router_bus_in (tly_router_bus_t *self)
{
    assert (self);
    return self->in_handle;
}

void *
tly_router_bus_out (tly_router_bus_t *self)
{
    assert (self);
    return self->out_handle;
}

//  Moves whole messages (every frame) from one socket to the other without
//  blocking. XPUB drops for slow subscribers and XSUB never blocks on
//  subscriptions, so a failed send only loses that message.
static void
s_forward (void *from, void *to, const char *direction)
{
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    for (int count = 0; count < BUS_BURST; count++) {
        if (zmq_msg_recv (&frame, from, ZMQ_DONTWAIT) == -1)
            break;
        bool more = zmq_msg_more (&frame);
        bool sending = true;
        while (true) {
            if (sending
                && zmq_msg_send (&frame, to, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) == -1) {
                tly_log (TLY_DEBUG, "bus.dropped", "direction=%s reason=\"%s\"", direction,
                         zmq_strerror (errno));
                sending = false;
            }
            //  The rest of a message is already here once its first frame is.
            if (!more || zmq_msg_recv (&frame, from, ZMQ_DONTWAIT) == -1)
                break;
            more = zmq_msg_more (&frame);
        }
    }
    zmq_msg_close (&frame);
}

void
tly_router_bus_drain_updates (tly_router_bus_t *self)
{
    assert (self);
    s_forward (self->in_handle, self->out_handle, "updates");
}

void
tly_router_bus_drain_subscriptions (tly_router_bus_t *self)
{
    assert (self);
    s_forward (self->out_handle, self->in_handle, "subscriptions");
}
