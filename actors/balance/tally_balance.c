//  tally-balance - the per-user balance actor.
//
//  Owns the partitions the router assigns it; decides each routed envelope
//  against its state in batches, journals each batch with one append to the
//  audit writer, and answers only after the writer's ack. Serves snapshots
//  of its objects and publishes their new versions on the update bus.
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_actor.h"
#include "tly_bus.h"
#include "tly_account_load.h"
#include "tly_ledger.h"
#include "tly_limits.h"
#include "tly_log.h"
#include "tly_stop.h"

#define S_PROGRAM          "tally-balance"
#define S_NAME_MAX         64
#define S_STATE_SUBDIR     "balance"     //  state lives in DIR/balance/NAME
#define S_MAP_SIZE_MIN     (1ULL << 20)
#define S_HEARTBEAT_MAX_MS 60000
#define S_LIVENESS_MAX     1000
#define S_TIMEOUT_MAX_MS   600000
#define S_LEASE_MAX_MS     3600000
#define S_SNAPSHOT_MAX     1000000000

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: " S_PROGRAM " --data-dir DIR --name NAME [options]\n"
        "  --data-dir DIR          state directory (state in DIR/" S_STATE_SUBDIR "/NAME)\n"
        "  --name NAME             stable actor name, [A-Za-z0-9._-], 1..%d characters\n"
        "  --router ENDPOINT       router backend (default tcp://127.0.0.1:7702)\n"
        "  --audit ENDPOINT        audit writer (default tcp://127.0.0.1:7703)\n"
        "  --bus ENDPOINT          update bus, the router's --bus-in (default tcp://127.0.0.1:7704)\n"
        "  --partitions N          partition count of the cluster (default %d)\n"
        "  --max-initial N         createAccount initialBalance limit (default %d)\n"
        "  --max-amount N          buy amount limit (default %lld)\n"
        "  --map-size BYTES        LMDB map size (default %llu)\n"
        "  --heartbeat-ms MS       hello interval (default %d)\n"
        "  --liveness N            silent intervals before the router is gone (default %d)\n"
        "  --audit-timeout-ms MS   deadline of a journal append or read (default %d)\n"
        "  --snapshot-every N      flush the state to disk every N applied records (default %d)\n"
        "  --snapshot-lease-ms MS  publish an object's updates this long after serving its\n"
        "                          snapshot, subscribed or not (default %d)\n"
        "  --worker ID             worker account (default $TALLY_WORKER_ACCOUNT)\n"
        "  --worker-secret SECRET  worker secret (default $TALLY_WORKER_SECRET)\n"
        "  --log-level LEVEL       debug|info|warn|error (default info)\n"
        "  --help                  this text\n",
        S_NAME_MAX, TLY_PARTITIONS_DEFAULT, TLY_INITIAL_MAX_DEFAULT,
        (long long) TLY_AMOUNT_MAX_DEFAULT, (unsigned long long) TLY_LMDB_MAP_DEFAULT,
        TLY_HEARTBEAT_MS, TLY_HEARTBEAT_LIVENESS, TLY_ACTOR_AUDIT_TIMEOUT_MS,
        TLY_LEDGER_SNAPSHOT_EVERY, TLY_BUS_LEASE_MS);
}

static void __attribute__ ((noreturn, format (printf, 1, 2)))
s_fail (const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    fprintf (stderr, S_PROGRAM ": ");
    vfprintf (stderr, fmt, args);
    fprintf (stderr, "\n");
    va_end (args);
    exit (2);
}

//  A whole decimal number in [min, max], or exit 2 naming the flag.
static int64_t
s_number (const char *flag, const char *text, int64_t min, int64_t max)
{
    char *end = NULL;
    errno = 0;
    long long value = strtoll (text, &end, 10);
    if (errno || end == text || *end || value < min || value > max) {
        fprintf (stderr, S_PROGRAM ": %s must be a whole number in %" PRId64 "..%" PRId64
                 ", got \"%s\"\n", flag, min, max, text);
        exit (2);
    }
    return value;
}

static bool
s_name_valid (const char *name)
{
    size_t size = strlen (name);
    if (size == 0 || size > S_NAME_MAX || name [0] == '.')
        return false;
    return strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
        == size;
}

int
main (int argc, char *argv [])
{
    const char *data_dir = NULL;
    const char *worker = NULL;
    const char *worker_secret = NULL;
    tly_level_t level = TLY_INFO;
    int64_t initial_max = TLY_INITIAL_MAX_DEFAULT;
    int64_t amount_max = TLY_AMOUNT_MAX_DEFAULT;
    int64_t map_size = (int64_t) TLY_LMDB_MAP_DEFAULT;
    int64_t snapshot_every = TLY_LEDGER_SNAPSHOT_EVERY;
    tly_actor_config_t config = {
        .router_endpoint = "tcp://127.0.0.1:7702",
        .audit_endpoint = "tcp://127.0.0.1:7703",
        .bus_endpoint = "tcp://127.0.0.1:7704",
        .partition_count = TLY_PARTITIONS_DEFAULT,
        .heartbeat_ms = TLY_HEARTBEAT_MS,
        .liveness = TLY_HEARTBEAT_LIVENESS,
        .audit_timeout_ms = TLY_ACTOR_AUDIT_TIMEOUT_MS,
        .lease_ms = TLY_BUS_LEASE_MS,
    };
    static const struct option options [] = {
        { "data-dir", required_argument, 0, 'd' },
        { "name", required_argument, 0, 'n' },
        { "router", required_argument, 0, 'r' },
        { "audit", required_argument, 0, 'a' },
        { "bus", required_argument, 0, 'u' },
        { "partitions", required_argument, 0, 'p' },
        { "max-initial", required_argument, 0, 'i' },
        { "max-amount", required_argument, 0, 'm' },
        { "map-size", required_argument, 0, 's' },
        { "heartbeat-ms", required_argument, 0, 'b' },
        { "liveness", required_argument, 0, 'l' },
        { "audit-timeout-ms", required_argument, 0, 't' },
        { "snapshot-every", required_argument, 0, 'e' },
        { "snapshot-lease-ms", required_argument, 0, 'L' },
        { "worker", required_argument, 0, 'w' },
        { "worker-secret", required_argument, 0, 'k' },
        { "log-level", required_argument, 0, 'v' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 }
    };
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (option) {
            case 'd': data_dir = optarg; break;
            case 'n': config.name = optarg; break;
            case 'r': config.router_endpoint = optarg; break;
            case 'a': config.audit_endpoint = optarg; break;
            case 'u': config.bus_endpoint = optarg; break;
            case 'p': config.partition_count = (uint32_t) s_number ("--partitions", optarg, 1,
                                                                    TLY_PARTITIONS_MAX); break;
            case 'i': initial_max = s_number ("--max-initial", optarg, 0, INT64_MAX); break;
            case 'm': amount_max = s_number ("--max-amount", optarg, 1, INT64_MAX); break;
            case 's': map_size = s_number ("--map-size", optarg, S_MAP_SIZE_MIN, INT64_MAX); break;
            case 'b': config.heartbeat_ms = s_number ("--heartbeat-ms", optarg, 1,
                                                      S_HEARTBEAT_MAX_MS); break;
            case 'l': config.liveness = s_number ("--liveness", optarg, 1, S_LIVENESS_MAX); break;
            case 't': config.audit_timeout_ms = s_number ("--audit-timeout-ms", optarg, 1,
                                                          S_TIMEOUT_MAX_MS); break;
            case 'e': snapshot_every = s_number ("--snapshot-every", optarg, 1, S_SNAPSHOT_MAX);
                      break;
            case 'L': config.lease_ms = s_number ("--snapshot-lease-ms", optarg, 1,
                                                  S_LEASE_MAX_MS); break;
            case 'w': worker = optarg; break;
            case 'k': worker_secret = optarg; break;
            case 'v':
                if (tly_log_level_flag (S_PROGRAM, optarg, &level) == -1)
                    return 2;
                break;
            case 'h': s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
    }
    if (optind < argc)
        s_fail ("unexpected argument \"%s\" (see --help)", argv [optind]);
    if (!data_dir || !*data_dir)
        s_fail ("--data-dir is required");
    if (!config.name)
        s_fail ("--name is required");
    if (!s_name_valid (config.name))
        s_fail ("--name must be 1..64 of [A-Za-z0-9._-] not starting with '.', got \"%s\"",
                config.name);
    tly_account_t account;
    char error [256];
    if (tly_account_from_env ("TALLY_WORKER_ACCOUNT", "TALLY_WORKER_SECRET", worker, worker_secret,
                              &account, error, sizeof error) == -1)
        s_fail ("%s", error);
    memcpy (config.worker_sk, account.sign_sk, sizeof config.worker_sk);
    char worker_id [TLY_ID_MAX];
    tly_account_id (account.sign_pk, worker_id);
    sodium_memzero (&account, sizeof account);

    tly_log_init (S_PROGRAM, level);
    tly_stop_install ();

    char state_path [4096];
    if (snprintf (state_path, sizeof state_path, "%s/%s/%s", data_dir, S_STATE_SUBDIR, config.name)
        >= (int) sizeof state_path)
        s_fail ("--data-dir is too long: \"%s\"", data_dir);
    tly_ledger_limits_t limits = { .partition_count = config.partition_count,
                                   .initial_max = initial_max, .amount_max = amount_max };
    tly_ledger_t *ledger = tly_ledger_new (state_path, (size_t) map_size, &limits);
    if (!ledger)
        s_fail ("cannot open the state in %s (see the log line above)", state_path);
    tly_ledger_set_snapshot_every (ledger, (uint64_t) snapshot_every);
    tly_actor_t *actor = tly_actor_new (&config, ledger);
    sodium_memzero (config.worker_sk, sizeof config.worker_sk);
    if (!actor) {
        tly_ledger_destroy (&ledger);
        s_fail ("cannot set up the links to --router %s, --audit %s and --bus %s (see the log "
                "line above)", config.router_endpoint, config.audit_endpoint, config.bus_endpoint);
    }
    tly_log (TLY_INFO, "ready", "name=%s router=%s audit=%s bus=%s partitions=%" PRIu32
             " state=%s worker=%s", config.name, config.router_endpoint, config.audit_endpoint,
             config.bus_endpoint, config.partition_count, state_path, worker_id);

    int status = 0;
    while (!tly_stop_requested ()) {
        zmq_pollitem_t items [] = {
            { tly_actor_router_socket (actor), 0, tly_actor_accepting (actor) ? ZMQ_POLLIN : 0, 0 },
            { tly_actor_audit_socket (actor), 0, ZMQ_POLLIN, 0 },
            { tly_actor_bus_socket (actor), 0, ZMQ_POLLIN, 0 },
        };
        if (zmq_poll (items, 3, tly_actor_timeout (actor)) == -1) {
            if (zmq_errno () == EINTR)
                continue;
            tly_log (TLY_ERROR, "poll_failed", "error=\"%s\"", zmq_strerror (zmq_errno ()));
            status = 1;
            break;
        }
        if (items [0].revents & ZMQ_POLLIN)
            tly_actor_on_router (actor);
        if (items [1].revents & ZMQ_POLLIN)
            tly_actor_on_audit (actor);
        if (items [2].revents & ZMQ_POLLIN)
            tly_actor_on_bus (actor);
        tly_actor_tick (actor);
        tly_actor_flush (actor);
        if (tly_ledger_corrupt (ledger)) {
            //  A restart moves the state aside and rebuilds it from the journal.
            tly_log (TLY_ERROR, "stopping", "name=%s reason=\"state is corrupt\"", config.name);
            status = 1;
            break;
        }
    }
    tly_log (TLY_INFO, "stopping", "name=%s", config.name);
    tly_actor_destroy (&actor);
    tly_ledger_destroy (&ledger);
    return status;
}
