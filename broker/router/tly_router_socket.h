//  tly_router_socket - the router's two ROUTER sockets and their framing:
//  every message is [peer routing id][one protobuf frame].
#ifndef TLY_ROUTER_SOCKET_H_INCLUDED
#define TLY_ROUTER_SOCKET_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tly_curve.h"

//  Queued messages per peer before libzmq refuses more (instead of 1000).
#define TLY_ROUTER_SOCKET_HWM 200000

//  A bound ROUTER socket with tally's options (frame cap, no linger, high
//  water marks, unroutable sends reported); watched: with the link watch of
//  TLY_LINK_TIMEOUT_MS (the actors' side); with curve (not NULL), a TCP
//  endpoint lets in only peers (tly_curve_serve). NULL with one line in error.
zsock_t *tly_router_socket_bind (const char *endpoint, bool watched, tly_curve_t *curve,
                                 tly_curve_peers_t peers, char *error, size_t error_size);
//  What tly_router_socket_recv found.
typedef enum {
    TLY_ROUTER_RECV_MESSAGE = 0,    //  identity and data filled
    TLY_ROUTER_RECV_NONE = 1,       //  nothing waits
    TLY_ROUTER_RECV_MALFORMED = -1  //  not [identity][one frame]: logged and discarded
} tly_router_recv_t;

//  Receives one message without blocking.
tly_router_recv_t tly_router_socket_recv (void *handle, zmq_msg_t *identity, zmq_msg_t *data);
//  Sends [identity][data] without blocking. Returns 0, or -1 when the peer is
//  gone or not reading (logged at debug): the router's timers cover both.
int tly_router_socket_send (void *handle, const uint8_t *identity, size_t identity_size,
                            const uint8_t *data, size_t size);

#endif
