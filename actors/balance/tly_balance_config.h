//  tly_balance_config - tally-balance's command line: its flags and --help,
//  the actor's name and the worker's key (flags or environment), into the
//  actor's config and the ledger's.
#ifndef TLY_BALANCE_CONFIG_H_INCLUDED
#define TLY_BALANCE_CONFIG_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "tly_actor.h"
#include "tly_flags.h"
#include "tly_ledger.h"
#include "tly_limits.h"
#include "tly_log.h"

#define TLY_BALANCE_PROCESS      "tally-balance"
#define TLY_BALANCE_STATE_SUBDIR "balance"  //  state lives in DIR/balance/NAME
#define TLY_BALANCE_PATH_MAX     4096

typedef struct {
    tly_actor_config_t actor;                //  worker_sk holds the worker's key: wipe it
                                             //  (sodium_memzero) once the actor has it;
                                             //  actor.name points to name
    char name [TLY_ACTOR_NAME_MAX + 1];      //  --name, %h expanded
    const char *health_file;                 //  --health-file, or NULL
    tly_curve_config_t curve;                //  --curve-secret, --router-key, --audit-key,
                                             //  --insecure
    char worker_id [TLY_ID_MAX];             //  the worker's account ID, for the log
    char state_path [TLY_BALANCE_PATH_MAX];  //  DIR/balance/NAME
    tly_ledger_limits_t limits;
    size_t map_size;  //  the state's LMDB map at first
    size_t map_max;   //  how far it may grow
    uint64_t snapshot_every;
    tly_level_t level;
} tly_balance_config_t;

//  Fills config from argv and the environment; its strings point into argv.
tly_flags_parsed_t tly_balance_config_parse (tly_balance_config_t *config, int argc, char *argv []);

#endif
