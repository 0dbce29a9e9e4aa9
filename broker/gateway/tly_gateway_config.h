//  tly_gateway_config - tally-gateway's command line: its flags, --help and
//  the worker from the environment, into a tly_gateway_config_t.
#ifndef TLY_GATEWAY_CONFIG_H_INCLUDED
#define TLY_GATEWAY_CONFIG_H_INCLUDED

#include "tly_flags.h"
#include "tly_gateway.h"
#include "tly_log.h"

#define TLY_GATEWAY_PROCESS "tally-gateway"

//  Fills config, curve (the CURVE flags), health_file (--health-file, NULL
//  when not given) and level from argv and the environment; they point into
//  argv.
tly_flags_parsed_t tly_gateway_config_parse (tly_gateway_config_t *config,
                                             tly_curve_config_t *curve, const char **health_file,
                                             tly_level_t *level, int argc, char *argv []);

#endif
