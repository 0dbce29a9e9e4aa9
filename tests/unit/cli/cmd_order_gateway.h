//  cmd_order_gateway - a scripted gateway for `tally order` and `tally
//  admin complete|fail`, in its own thread: it answers each send of one
//  order message as the balance actor would, from orders it keeps in
//  memory. A line without an amount costs ORDER_GATEWAY_PRICE; times are
//  ORDER_GATEWAY_NOW_MS (created) and that + version (updated, submitted,
//  finished). The order's user only may edit and submit it (NOT_FOUND for
//  anyone else), the worker only may complete and fail it
//  (PERMISSION_DENIED); a status that does not allow the message:
//  INVALID_TRANSITION.
#ifndef CMD_ORDER_GATEWAY_H_INCLUDED
#define CMD_ORDER_GATEWAY_H_INCLUDED

#include <czmq.h>

#include "tally.h"

#define ORDER_GATEWAY_PRICE  10
#define ORDER_GATEWAY_NOW_MS 1764226800000LL

//  The actor's body (zactor_new (order_gateway_run, NULL)): binds a free
//  loopback port and sends it ("i") on the pipe first.
void order_gateway_run (zsock_t *pipe, void *args);
//  Sends received so far.
int order_gateway_sends (zactor_t *gateway);

#endif
