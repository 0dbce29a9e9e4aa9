//  tly_audit_config - tally-audit's flags, their defaults and ranges.
#include "tly_audit_config.h"

#include <getopt.h>
#include <stdio.h>
#include "tly_endpoints.h"
#include "tly_flags.h"
#include "tly_journal.h"
#include "tly_limits.h"

//  Accepted flag ranges.
#define MAP_SIZE_MIN            (1LL << 20)
#define MAP_SIZE_MAX            (1LL << 44)         //  16 TiB
#define CHECKPOINT_EVERY_MAX    1000000000LL
#define CHECKPOINT_MS_MAX       3600000LL

//  Every default is inside the range its flag accepts.
_Static_assert (TLY_LMDB_MAP_DEFAULT >= MAP_SIZE_MIN && TLY_LMDB_MAP_DEFAULT <= MAP_SIZE_MAX,
                "--map-size default");
_Static_assert (TLY_AUDIT_CHECKPOINT_EVERY >= 1
             && TLY_AUDIT_CHECKPOINT_EVERY <= CHECKPOINT_EVERY_MAX, "--checkpoint-every default");
_Static_assert (TLY_AUDIT_CHECKPOINT_MS >= 1 && TLY_AUDIT_CHECKPOINT_MS <= CHECKPOINT_MS_MAX,
                "--checkpoint-ms default");

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: " TLY_AUDIT_PROCESS " --data-dir DIR [options]\n"
        "  --data-dir DIR       where the journal lives (DIR/" TLY_JOURNAL_SUBDIR ")\n"
        "  --bind ENDPOINT      audit socket (default " TLY_ENDPOINT_AUDIT ")\n"
        "  --map-size BYTES     LMDB map size, the journal's size limit (default %llu)\n"
        "  --worker ID          worker account that signs checkpoints\n"
        "                       (default $TALLY_WORKER_ACCOUNT)\n"
        "  --worker-secret S    its secret (default $TALLY_WORKER_SECRET)\n"
        "  --checkpoint-every N sign the chain head every N records (default %d)\n"
        "  --checkpoint-ms MS   and at most MS ms after a record is appended (default %d)\n"
        "  --log-level LEVEL    debug|info|warn|error (default info)\n"
        "  --help               this text\n",
        (unsigned long long) TLY_LMDB_MAP_DEFAULT, TLY_AUDIT_CHECKPOINT_EVERY,
        TLY_AUDIT_CHECKPOINT_MS);
}

tly_audit_config_parse_t
tly_audit_config_parse (tly_audit_writer_config_t *config, tly_level_t *level, int argc,
                        char *argv [])
{
    enum { DATA_DIR = 1, BIND, MAP_SIZE, LOG_LEVEL, WORKER, WORKER_SECRET, CHECKPOINT_EVERY,
           CHECKPOINT_MS, HELP };
    static const struct option options [] = {
        { "data-dir", required_argument, NULL, DATA_DIR },
        { "bind", required_argument, NULL, BIND },
        { "map-size", required_argument, NULL, MAP_SIZE },
        { "log-level", required_argument, NULL, LOG_LEVEL },
        { "worker", required_argument, NULL, WORKER },
        { "worker-secret", required_argument, NULL, WORKER_SECRET },
        { "checkpoint-every", required_argument, NULL, CHECKPOINT_EVERY },
        { "checkpoint-ms", required_argument, NULL, CHECKPOINT_MS },
        { "help", no_argument, NULL, HELP },
        { NULL, 0, NULL, 0 }
    };
    *config = (tly_audit_writer_config_t) {
        .bind = TLY_ENDPOINT_AUDIT, .map_size = TLY_LMDB_MAP_DEFAULT,
        .checkpoint_every = TLY_AUDIT_CHECKPOINT_EVERY, .checkpoint_ms = TLY_AUDIT_CHECKPOINT_MS
    };
    *level = TLY_INFO;
    int option;
    int64_t value;
    opterr = 0;                         //  one error line, ours
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (option) {
            case DATA_DIR:  config->data_dir = optarg; break;
            case BIND:      config->bind = optarg; break;
            case WORKER:    config->worker = optarg; break;
            case WORKER_SECRET: config->worker_secret = optarg; break;
            case MAP_SIZE:
                if (tly_flags_int (TLY_AUDIT_PROCESS, "--map-size", optarg, MAP_SIZE_MIN,
                                   MAP_SIZE_MAX, &value) == -1)
                    return TLY_AUDIT_CONFIG_FAILED;
                config->map_size = (size_t) value;
                break;
            case CHECKPOINT_EVERY:
                if (tly_flags_int (TLY_AUDIT_PROCESS, "--checkpoint-every", optarg, 1,
                                   CHECKPOINT_EVERY_MAX, &value) == -1)
                    return TLY_AUDIT_CONFIG_FAILED;
                config->checkpoint_every = (uint64_t) value;
                break;
            case CHECKPOINT_MS:
                if (tly_flags_int (TLY_AUDIT_PROCESS, "--checkpoint-ms", optarg, 1,
                                   CHECKPOINT_MS_MAX, &value) == -1)
                    return TLY_AUDIT_CONFIG_FAILED;
                config->checkpoint_ms = value;
                break;
            case LOG_LEVEL:
                if (tly_log_level_flag (TLY_AUDIT_PROCESS, optarg, level) == -1)
                    return TLY_AUDIT_CONFIG_FAILED;
                break;
            case HELP:
                s_usage (stdout);
                return TLY_AUDIT_CONFIG_HELP;
            default:
                fprintf (stderr, TLY_AUDIT_PROCESS ": option '%s' is unknown or needs a value;"
                         " see --help\n", argv [optind - 1]);
                return TLY_AUDIT_CONFIG_FAILED;
        }
    }
    if (optind < argc) {
        fprintf (stderr, TLY_AUDIT_PROCESS ": unexpected argument '%s'; see --help\n",
                 argv [optind]);
        return TLY_AUDIT_CONFIG_FAILED;
    }
    if (!config->data_dir || !*config->data_dir) {
        fprintf (stderr, TLY_AUDIT_PROCESS ": --data-dir is required\n");
        return TLY_AUDIT_CONFIG_FAILED;
    }
    return TLY_AUDIT_CONFIG_RUN;
}
