//  tly_orders_config - tally-orders' command line: its flags and --help,
//  into the processor's config, the health file and the log level.
#ifndef TLY_ORDERS_CONFIG_H_INCLUDED
#define TLY_ORDERS_CONFIG_H_INCLUDED

#include "tly_flags.h"
#include "tly_log.h"
#include "tly_orders.h"

//  The service URL when --service-url is not given (docker-compose sets it).

//  Fills config (the worker's account loaded from --account FILE, else from
//  $TALLY_WORKER_ACCOUNT and $TALLY_WORKER_SECRET), health_file (NULL when
//  not given) and level from argv. A bad flag, an unreadable account, or an
//  account that is not the worker: one line on stderr, TLY_FLAGS_USAGE.
tly_flags_parsed_t tly_orders_config_parse (tly_orders_config_t *config, const char **health_file,
                                            tly_level_t *level, int argc, char *argv []);

//  Parses --shard's "K/N" (0 <= K < N <= TLY_PARTITIONS_MAX). Returns 0 or -1.
int tly_orders_config_shard (const char *text, uint32_t *index, uint32_t *count);

#endif
