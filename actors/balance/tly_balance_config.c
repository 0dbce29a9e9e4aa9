//  tly_balance_config - tally-balance's flags, their defaults and ranges.
#include "tly_balance_config.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tly_account.h"
#include "tly_account_load.h"
#include "tly_bus.h"
#include "tly_endpoints.h"
#include "tly_flags.h"

#define S_MAP_SIZE_MIN          TLY_LMDB_MAP_MIN
#define S_HEARTBEAT_MAX_MS      60000
#define S_LIVENESS_MAX          1000
#define S_TIMEOUT_MAX_MS        600000
#define S_LEASE_MAX_MS          3600000
#define S_SNAPSHOT_MAX          1000000000
#define S_STATE_SNAPSHOT_MAX_MS (24LL * 3600 * 1000)

//  Every default is inside the range its flag accepts.
_Static_assert(TLY_LMDB_MAP_DEFAULT >= S_MAP_SIZE_MIN && TLY_LMDB_MAP_DEFAULT <= INT64_MAX,
               "--map-size default");
_Static_assert(TLY_LMDB_MAP_MAX_DEFAULT >= S_MAP_SIZE_MIN && TLY_LMDB_MAP_MAX_DEFAULT <= INT64_MAX,
               "--map-max default");
_Static_assert(TLY_HEARTBEAT_MS <= S_HEARTBEAT_MAX_MS, "--heartbeat-ms default");
_Static_assert(TLY_HEARTBEAT_LIVENESS <= S_LIVENESS_MAX, "--liveness default");
_Static_assert(TLY_ACTOR_AUDIT_TIMEOUT_MS <= S_TIMEOUT_MAX_MS, "--audit-timeout-ms default");
_Static_assert(TLY_BUS_LEASE_MS <= S_LEASE_MAX_MS, "--snapshot-lease-ms default");
_Static_assert(TLY_LEDGER_SNAPSHOT_EVERY <= S_SNAPSHOT_MAX, "--snapshot-every default");

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "usage: " TLY_BALANCE_PROCESS " --data-dir DIR --name NAME [options]\n"
        "  --data-dir DIR          state directory (state in DIR/" TLY_BALANCE_STATE_SUBDIR
        "/NAME)\n"
        "  --name NAME             stable actor name, [A-Za-z0-9._-], 1..%d characters;\n"
        "                          %%h is the host name (in a container its ID, so\n"
        "                          --name balance-%%h names every replica apart)\n"
        "  --router ENDPOINT       router backend (default " TLY_ENDPOINT_ROUTER_BACKEND ")\n"
        "  --audit ENDPOINT        audit writer (default " TLY_ENDPOINT_AUDIT ")\n"
        "  --bus ENDPOINT          update bus, the router's --bus-in (default " TLY_ENDPOINT_BUS_IN
        ")\n"
        "  --partitions N          partition count of the cluster (default %d)\n"
        "  --max-initial N         createAccount initialBalance limit (default %d)\n"
        "  --max-amount N          buy amount limit (default %lld)\n"
        "  --dedupe-window-ms MS   remember (and take) message IDs made within MS of the\n"
        "                          clock (default %d; at least twice the gateways'\n"
        "                          --max-skew-ms)\n"
        "  --keep-purchases N      purchase records each user keeps in the state, the\n"
        "                          latest ones (older ones stay in the journal);\n"
        "                          %d..%d (default %d)\n"
        "  --rate-per-minute N     per-user rate limit on buys: a token bucket refilled\n"
        "                          with N tokens a minute, one per buy; 1..%d\n"
        "                          (default 0: off)\n"
        "  --rate-burst N          the bucket's size: buys a user may make at once\n"
        "                          (1..%d; default N of --rate-per-minute, at most that)\n"
        "  --open-prices           let a buy of an item not in the catalog name its own\n"
        "                          price (the seed's buy{itemId, amount}); default off:\n"
        "                          only catalog items, at the catalog's price\n"
        "  --map-size BYTES        LMDB map size at first (default %llu)\n"
        "  --map-max BYTES         the map doubles when full up to this, the state's\n"
        "                          size limit (default %llu, or --map-size if larger)\n"
        "  --heartbeat-ms MS       hello interval (default %d)\n"
        "  --liveness N            silent intervals before the router is gone (default %d)\n"
        "  --audit-timeout-ms MS   deadline of a journal append or read (default %d)\n"
        "  --snapshot-every N      flush the state to disk every N applied records (default %d)\n"
        "  --snapshot-lease-ms MS  publish an object's updates this long after serving its\n"
        "                          snapshot, subscribed or not (default %d)\n"
        "  --state-snapshot-records N\n"
        "                          save a served partition's state to the audit writer\n"
        "                          once it has N new records (default %d)\n"
        "  --state-snapshot-ms MS  ... or once a new record has waited MS (default %d)\n"
        "  --worker ID             worker account (default $" TLY_ENV_WORKER_ACCOUNT ")\n"
        "  --worker-secret SECRET  worker secret (default $" TLY_ENV_WORKER_SECRET ")\n"
        "  --curve-secret FILE     this actor's CURVE certificate (NAME.key_secret, mode\n"
        "                          0600); needed for TCP endpoints\n"
        "  --router-key KEY        the router's public key (Z85 text or its .key file)\n"
        "  --audit-key KEY         the audit writer's public key\n"
        "  --insecure              allow TCP endpoints without CURVE (clear text)\n"
        "  --health-file PATH      rewrite PATH about once a second with this process's\n"
        "                          state, for `tally health` (default: none)\n"
        "  --log-level LEVEL       debug|info|warn|error (default info)\n"
        "  --help                  this text\n",
        TLY_ACTOR_NAME_MAX, TLY_PARTITIONS_DEFAULT, TLY_INITIAL_MAX_DEFAULT,
        (long long) TLY_AMOUNT_MAX_DEFAULT, TLY_DEDUPE_WINDOW_MS_DEFAULT, TLY_KEEP_PURCHASES_MIN,
        TLY_KEEP_PURCHASES_MAX, TLY_KEEP_PURCHASES_DEFAULT, TLY_RATE_PER_MINUTE_MAX,
        TLY_RATE_BURST_MAX, (unsigned long long) TLY_LMDB_MAP_DEFAULT,
        (unsigned long long) TLY_LMDB_MAP_MAX_DEFAULT, TLY_HEARTBEAT_MS, TLY_HEARTBEAT_LIVENESS,
        TLY_ACTOR_AUDIT_TIMEOUT_MS, TLY_LEDGER_SNAPSHOT_EVERY, TLY_BUS_LEASE_MS,
        TLY_STATE_SNAPSHOT_RECORDS_DEFAULT, TLY_STATE_SNAPSHOT_MS_DEFAULT);
}

//  A name is also a directory: no '/', no leading '.', no ':' (which the
//  router would accept).
static bool
s_name_valid (const char *name)
{
    size_t size = strlen (name);
    if (size == 0 || size > TLY_ACTOR_NAME_MAX || name [0] == '.')
        return false;
    return strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
           == size;
}

//  pattern with every %h replaced by the host name into name: in a
//  container the host name is the container's ID, so the replicas of one
//  service each get a name of their own with no configuration. Returns 0,
//  or -1 after one line on stderr.
static int
s_expand_name (const char *pattern, char *name, size_t name_size)
{
    char host [256];  //  HOST_NAME_MAX is 64
    host [0] = 0;
    size_t used = 0;
    for (const char *at = pattern; *at; at++) {
        const char *piece = at;
        size_t piece_size = 1;
        if (at [0] == '%' && at [1] == 'h') {
            if (!host [0] && gethostname (host, sizeof host) == -1) {
                fprintf (stderr, TLY_BALANCE_PROCESS ": --name: cannot read the host name: %s\n",
                         strerror (errno));
                return -1;
            }
            host [sizeof host - 1] = 0;
            piece = host;
            piece_size = strlen (host);
            at++;
        }
        if (used + piece_size >= name_size) {
            fprintf (stderr,
                     TLY_BALANCE_PROCESS ": --name \"%s\" is longer than %zu bytes once %%h is"
                                         " the host name \"%s\"\n",
                     pattern, name_size - 1, host);
            return -1;
        }
        memcpy (name + used, piece, piece_size);
        used += piece_size;
    }
    name [used] = 0;
    return 0;
}

//  Checks what the flags left together and loads the worker's key.
static int
s_finish (tly_balance_config_t *config, const char *data_dir, const char *worker,
          const char *worker_secret)
{
    const char *pattern = config->actor.name;
    if (!data_dir || !*data_dir) {
        fprintf (stderr, TLY_BALANCE_PROCESS ": --data-dir is required\n");
        return -1;
    }
    if (!pattern) {
        fprintf (stderr, TLY_BALANCE_PROCESS ": --name is required\n");
        return -1;
    }
    if (config->map_max == 0)
        config->map_max = config->map_size > TLY_LMDB_MAP_MAX_DEFAULT ? config->map_size
                                                                      : TLY_LMDB_MAP_MAX_DEFAULT;
    else if (config->map_max < config->map_size) {
        fprintf (stderr,
                 TLY_BALANCE_PROCESS ": --map-max %zu is below --map-size %zu; give a maximum"
                                     " at least as large as the first size\n",
                 config->map_max, config->map_size);
        return -1;
    }
    if (s_expand_name (pattern, config->name, sizeof config->name) == -1)
        return -1;
    const char *name = config->actor.name = config->name;
    if (!s_name_valid (name)) {
        if (strcmp (name, pattern) != 0)
            fprintf (stderr,
                     TLY_BALANCE_PROCESS ": --name must be 1..%d of [A-Za-z0-9._-] not"
                                         " starting with '.', got \"%s\" (from \"%s\")\n",
                     TLY_ACTOR_NAME_MAX, name, pattern);
        else
            fprintf (stderr,
                     TLY_BALANCE_PROCESS ": --name must be 1..%d of [A-Za-z0-9._-] not"
                                         " starting with '.', got \"%s\"\n",
                     TLY_ACTOR_NAME_MAX, name);
        return -1;
    }
    tly_account_t account;
    char error [256];
    if (tly_account_from_env (TLY_ENV_WORKER_ACCOUNT, TLY_ENV_WORKER_SECRET, worker, worker_secret,
                              &account, error, sizeof error)
        == -1) {
        fprintf (stderr, TLY_BALANCE_PROCESS ": %s\n", error);
        return -1;
    }
    memcpy (config->actor.worker_sk, account.sign_sk, sizeof config->actor.worker_sk);
    memcpy (config->limits.worker, account.sign_pk, sizeof config->limits.worker);
    tly_account_id (account.sign_pk, config->worker_id);
    sodium_memzero (&account, sizeof account);
    if (snprintf (config->state_path, sizeof config->state_path, "%s/%s/%s", data_dir,
                  TLY_BALANCE_STATE_SUBDIR, name)
        >= (int) sizeof config->state_path) {
        sodium_memzero (config->actor.worker_sk, sizeof config->actor.worker_sk);
        fprintf (stderr, TLY_BALANCE_PROCESS ": --data-dir is too long: \"%s\"\n", data_dir);
        return -1;
    }
    config->limits.partition_count = config->actor.partition_count;
    return 0;
}

tly_flags_parsed_t
tly_balance_config_parse (tly_balance_config_t *config, int argc, char *argv [])
{
    *config = (tly_balance_config_t) {
        .actor = {
            .router_endpoint = TLY_ENDPOINT_ROUTER_BACKEND,
            .audit_endpoint = TLY_ENDPOINT_AUDIT,
            .bus_endpoint = TLY_ENDPOINT_BUS_IN,
            .partition_count = TLY_PARTITIONS_DEFAULT,
            .heartbeat_ms = TLY_HEARTBEAT_MS,
            .liveness = TLY_HEARTBEAT_LIVENESS,
            .audit_timeout_ms = TLY_ACTOR_AUDIT_TIMEOUT_MS,
            .lease_ms = TLY_BUS_LEASE_MS,
            .state_snapshot_records = TLY_STATE_SNAPSHOT_RECORDS_DEFAULT,
            .state_snapshot_ms = TLY_STATE_SNAPSHOT_MS_DEFAULT,
        },
        .limits = {
            .initial_max = TLY_INITIAL_MAX_DEFAULT,
            .amount_max = TLY_AMOUNT_MAX_DEFAULT,
            .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT,
            .keep_purchases = TLY_KEEP_PURCHASES_DEFAULT
        },
        .map_size = TLY_LMDB_MAP_DEFAULT,
        .snapshot_every = TLY_LEDGER_SNAPSHOT_EVERY,
        .level = TLY_INFO
    };
    tly_actor_config_t *actor = &config->actor;
    const char *data_dir = NULL;
    const char *worker = NULL;
    const char *worker_secret = NULL;
    bool burst_given = false;
    tly_flag_t flags [] = {
        TLY_FLAG_TEXT ("--data-dir", &data_dir),
        TLY_FLAG_TEXT ("--name", &actor->name),
        TLY_FLAG_TEXT ("--router", &actor->router_endpoint),
        TLY_FLAG_TEXT ("--audit", &actor->audit_endpoint),
        TLY_FLAG_TEXT ("--bus", &actor->bus_endpoint),
        TLY_FLAG_INT ("--partitions", &actor->partition_count, 1, TLY_PARTITIONS_MAX),
        TLY_FLAG_INT ("--max-initial", &config->limits.initial_max, 0, INT64_MAX),
        TLY_FLAG_INT ("--max-amount", &config->limits.amount_max, 1, INT64_MAX),
        TLY_FLAG_INT ("--dedupe-window-ms", &config->limits.dedupe_window_ms,
                      TLY_DEDUPE_WINDOW_MS_MIN, TLY_DEDUPE_WINDOW_MS_MAX),
        TLY_FLAG_INT ("--keep-purchases", &config->limits.keep_purchases, TLY_KEEP_PURCHASES_MIN,
                      TLY_KEEP_PURCHASES_MAX),
        TLY_FLAG_INT ("--rate-per-minute", &config->limits.rate_per_minute, 1,
                      TLY_RATE_PER_MINUTE_MAX),
        TLY_FLAG_INT_GIVEN ("--rate-burst", &config->limits.rate_burst, 1, TLY_RATE_BURST_MAX,
                            &burst_given),
        TLY_FLAG_BOOL ("--open-prices", &config->limits.open_prices),
        TLY_FLAG_INT ("--map-size", &config->map_size, S_MAP_SIZE_MIN, INT64_MAX),
        TLY_FLAG_INT ("--map-max", &config->map_max, S_MAP_SIZE_MIN, INT64_MAX),
        TLY_FLAG_INT ("--heartbeat-ms", &actor->heartbeat_ms, 1, S_HEARTBEAT_MAX_MS),
        TLY_FLAG_INT ("--liveness", &actor->liveness, 1, S_LIVENESS_MAX),
        TLY_FLAG_INT ("--audit-timeout-ms", &actor->audit_timeout_ms, 1, S_TIMEOUT_MAX_MS),
        TLY_FLAG_INT ("--snapshot-every", &config->snapshot_every, 1, S_SNAPSHOT_MAX),
        TLY_FLAG_INT ("--snapshot-lease-ms", &actor->lease_ms, 1, S_LEASE_MAX_MS),
        TLY_FLAG_INT ("--state-snapshot-records", &actor->state_snapshot_records, 1,
                      S_SNAPSHOT_MAX),
        TLY_FLAG_INT ("--state-snapshot-ms", &actor->state_snapshot_ms, 1, S_STATE_SNAPSHOT_MAX_MS),
        TLY_FLAG_TEXT ("--worker", &worker),
        TLY_FLAG_TEXT ("--worker-secret", &worker_secret),
        TLY_FLAG_TEXT ("--curve-secret", &config->curve.secret_file),
        TLY_FLAG_TEXT ("--router-key", &config->curve.router_key),
        TLY_FLAG_TEXT ("--audit-key", &config->curve.audit_key),
        TLY_FLAG_BOOL ("--insecure", &config->curve.insecure),
        TLY_FLAG_TEXT ("--health-file", &config->health_file),
        TLY_FLAG_LEVEL (&config->level),
        TLY_FLAG_HELP
    };
    tly_flags_spec_t spec = { TLY_BALANCE_PROCESS,
                              s_usage,
                              TLY_FLAGS_SHOW_USAGE,
                              flags,
                              sizeof flags / sizeof flags [0],
                              "unexpected argument \"%s\" (see --help)" };
    tly_flags_parsed_t parsed = tly_flags_parse (&spec, argc, argv, NULL);
    if (parsed != TLY_FLAGS_RUN)
        return parsed;
    tly_ledger_limits_t *limits = &config->limits;
    if (burst_given && limits->rate_per_minute == 0) {
        fprintf (stderr, TLY_BALANCE_PROCESS ": --rate-burst is the size of the rate limit's"
                                             " bucket: give --rate-per-minute with it\n");
        return TLY_FLAGS_USAGE;
    }
    if (!burst_given)
        limits->rate_burst = limits->rate_per_minute < TLY_RATE_BURST_MAX ? limits->rate_per_minute
                                                                          : TLY_RATE_BURST_MAX;
    return s_finish (config, data_dir, worker, worker_secret) == 0 ? TLY_FLAGS_RUN
                                                                   : TLY_FLAGS_USAGE;
}
