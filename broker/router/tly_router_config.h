//  tly_router_config - tally-router's command line: its flags and --help,
//  into the router's config, the update bus's endpoints and the log level.
#ifndef TLY_ROUTER_CONFIG_H_INCLUDED
#define TLY_ROUTER_CONFIG_H_INCLUDED

#include "tly_flags.h"
#include "tly_log.h"
#include "tly_router.h"

#define TLY_ROUTER_PROCESS "tally-router"

typedef struct {
    const char *bus_in;   //  actors publish object updates here (--bus-in)
    const char *bus_out;  //  gateways subscribe here (--bus-out)
} tly_router_bus_config_t;

//  Fills config, bus, curve (the CURVE flags), health_file (--health-file,
//  NULL when not given) and level from argv; they point into argv.
tly_flags_parsed_t tly_router_config_parse (tly_router_config_t *config,
                                            tly_router_bus_config_t *bus, tly_curve_config_t *curve,
                                            const char **health_file, tly_level_t *level, int argc,
                                            char *argv []);

#endif
