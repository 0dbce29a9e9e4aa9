//  tly_gateway - the client edge: admits signed requests, routes envelopes
//  to the router and carries the router's answers back to the right client,
//  and serves subscriptions (tly_gateway_stream).
//
//  Owns three sockets: a ROUTER bound for clients, a DEALER connected to the
//  router's frontend and a SUB connected to the router's update bus; and a
//  second client ROUTER on a WebSocket endpoint when one is configured
//  (browsers: libzmq's ws:// transport, docs/protocol.md "WebSocket"). The
//  caller polls them and calls the drain functions; see tally_gateway.c for the loop.
//
//  A client is known by its ROUTER identity with one byte in front naming
//  the socket it came in on (TLY_GATEWAY_SOCKET_*), so that identities the
//  two sockets give out never meet; tly_gateway_stream_send takes the byte
//  off again and sends on that socket.
#ifndef TLY_GATEWAY_H_INCLUDED
#define TLY_GATEWAY_H_INCLUDED

#include <czmq.h>
#include <stdint.h>
#include "tly_curve.h"
#include "tly_gateway_check.h"

typedef struct {
    const char *bind;                  //  client ROUTER endpoint (--bind)
    const char *bind_ws;               //  a second one, ws://, for browsers (--bind-ws;
                                       //  NULL: none): no CURVE on it, TLS in front
    const char *router;                //  router frontend endpoint (--router)
    const char *bus;                   //  router's update bus, XPUB side (--bus)
    tly_gateway_policy_t policy;       //  admission checks
    uint32_t partitions;               //  --partitions, same on the whole cluster
    int64_t timeout_ms;                //  --timeout-ms, per request and per snapshot
    uint32_t max_pending;              //  --max-pending, requests (and snapshots) in flight
    uint32_t client_queue;             //  --client-queue, messages queued per client
    uint32_t max_subscriptions;        //  --max-subscriptions, per client
    uint32_t max_subscriptions_total;  //  --max-subscriptions-total
    int64_t client_ttl_ms;             //  --client-ttl-ms
    tly_curve_t *curve;                //  CURVE on TCP endpoints: clients (any key) and the
                                       //  router's; NULL: none (in-process use)
} tly_gateway_config_t;

typedef struct _tly_gateway_t tly_gateway_t;

//  Binds and connects. Returns NULL when a socket fails, with one line
//  saying why in error (error_size bytes).
tly_gateway_t *tly_gateway_new (const tly_gateway_config_t *config, char *error, size_t error_size);
void tly_gateway_destroy (tly_gateway_t **self_p);

//  The random ID of this run, in hex: its snapshot requests carry it.
const char *tly_gateway_instance (tly_gateway_t *self);

//  Raw socket handles, for zmq_poll (the WebSocket one NULL when there is none).
void *tly_gateway_client_handle (tly_gateway_t *self);
void *tly_gateway_ws_handle (tly_gateway_t *self);
void *tly_gateway_router_handle (tly_gateway_t *self);
void *tly_gateway_bus_handle (tly_gateway_t *self);
//  Readable when the router link dropped or came back.
void *tly_gateway_router_link_handle (tly_gateway_t *self);

//  Handles what is waiting on the client sockets, up to one burst each,
//  answering rejections at once and routing the rest.
void tly_gateway_drain_clients (tly_gateway_t *self);
//  Handles what is waiting on the router socket, up to one burst, answering
//  the clients the replies belong to.
void tly_gateway_drain_router (tly_gateway_t *self);
//  Handles what is waiting on the bus socket, up to one burst.
void tly_gateway_drain_bus (tly_gateway_t *self);
//  Takes the router link's events; when the link is back after a drop,
//  sends the router again every request it had not answered, and resyncs
//  every subscription (tly_gateway_stream_resync_all).
void tly_gateway_on_router_link (tly_gateway_t *self);
//  Answers TIMEOUT to every request and snapshot whose deadline has passed,
//  and runs the read path's other timers (see tly_gateway_stream_expire).
void tly_gateway_expire (tly_gateway_t *self);
//  How long the loop may sleep before the next deadline, in ms.
int tly_gateway_poll_timeout_ms (tly_gateway_t *self);

#endif
