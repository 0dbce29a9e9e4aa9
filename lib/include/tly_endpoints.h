//  tly_endpoints - where the processes of a one-machine cluster meet by
//  default: six consecutive loopback ports from the gateway's. Every
//  process's flag defaults, its --help, the CLI and `tally up` (whose
//  --base-port moves the whole block) read them from here.
#ifndef TLY_ENDPOINTS_H_INCLUDED
#define TLY_ENDPOINTS_H_INCLUDED

#define TLY_PORT_GATEWAY         7700  //  clients -> gateway
#define TLY_PORT_ROUTER_FRONTEND 7701  //  gateways -> router
#define TLY_PORT_ROUTER_BACKEND  7702  //  balance actors -> router
#define TLY_PORT_AUDIT           7703  //  balance actors -> audit writer
#define TLY_PORT_BUS_IN          7704  //  balance actors publish object updates
#define TLY_PORT_BUS_OUT         7705  //  gateways subscribe to them
#define TLY_PORT_COUNT           6     //  the block, gateway's port first

//  A hop's port as an offset from the gateway's, for a block that starts elsewhere.
#define TLY_PORT_OFFSET(port) ((port) -TLY_PORT_GATEWAY)

_Static_assert(TLY_PORT_OFFSET (TLY_PORT_ROUTER_FRONTEND) == 1
                   && TLY_PORT_OFFSET (TLY_PORT_ROUTER_BACKEND) == 2
                   && TLY_PORT_OFFSET (TLY_PORT_AUDIT) == 3
                   && TLY_PORT_OFFSET (TLY_PORT_BUS_IN) == 4
                   && TLY_PORT_OFFSET (TLY_PORT_BUS_OUT) == TLY_PORT_COUNT - 1,
               "the hops are one block of consecutive ports");
_Static_assert(TLY_PORT_GATEWAY + TLY_PORT_COUNT - 1 <= 65535, "the block fits the port range");

//  "tcp://127.0.0.1:<port>" as a string literal, from a port's macro; a
//  port known only at run time goes after TLY_LOOPBACK_PREFIX.
#define TLY_LOOPBACK_PREFIX  "tcp://127.0.0.1:"
#define TLY_LOOPBACK(port)   TLY_LOOPBACK_PREFIX TLY_PORT_TEXT (port)
#define TLY_PORT_TEXT(port)  TLY_PORT_TEXT_ (port)
#define TLY_PORT_TEXT_(port) #port

#define TLY_ENDPOINT_GATEWAY         TLY_LOOPBACK (TLY_PORT_GATEWAY)
#define TLY_ENDPOINT_ROUTER_FRONTEND TLY_LOOPBACK (TLY_PORT_ROUTER_FRONTEND)
#define TLY_ENDPOINT_ROUTER_BACKEND  TLY_LOOPBACK (TLY_PORT_ROUTER_BACKEND)
#define TLY_ENDPOINT_AUDIT           TLY_LOOPBACK (TLY_PORT_AUDIT)
#define TLY_ENDPOINT_BUS_IN          TLY_LOOPBACK (TLY_PORT_BUS_IN)
#define TLY_ENDPOINT_BUS_OUT         TLY_LOOPBACK (TLY_PORT_BUS_OUT)

#endif
