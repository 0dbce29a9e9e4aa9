//  tally up - run a whole cluster on this machine: audit writer, router,
//  balance actors, a gateway and, with --order-service, the order
//  processor, as supervised children.
#include "cli.h"
#include "tly_account_load.h"
#include "up.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tly_log.h"
#include "tly_order_url.h"
#include "tly_wire.h"

#define UP_BASE_PORT_MAX        (65535 - (TLY_PORT_COUNT - 1))  //  the whole block, when on TCP
#define UP_SOCKET_PATH_MAX      107                             //  sun_path less its NUL
#define UP_ACTORS_DEFAULT       2
#define UP_ACTORS_MAX           64
#define UP_CHILDREN_MAX         (UP_ACTORS_MAX + 4)  //  and audit, router, gateway, orders
#define UP_READY_TIMEOUT_MS     15000
#define UP_READY_TIMEOUT_MS_MAX 600000
#define UP_STOP_TIMEOUT_MS      10000  //  SIGTERM to SIGKILL
#define UP_CORE_CHILDREN        2      //  the audit writer and the router, children 0 and 1
#define UP_PROBE_INTERVAL_MS    100    //  between status probes while starting
#define UP_PROBE_TIMEOUT_MS     500    //  one status probe

typedef struct {
    const char *data_dir;
    int64_t base_port;
    int64_t actors;
    int64_t partitions;
    int64_t max_initial;
    int64_t max_amount;
    int64_t rate_per_minute;  //  0: no rate limit
    int64_t rate_burst;       //  0: the actors' default
    bool open_prices;         //  tally-balance --open-prices
    int64_t ws_port;          //  0: no WebSocket endpoint on the gateway
    int64_t ready_timeout_ms;
    const char *log_level;
    const char *bin_dir;
    const char *retain;         //  tally-audit --retain (NULL: its default)
    int64_t segment_bytes;      //  tally-audit --segment-bytes (0: its default)
    const char *hops;           //  --hops: "unix" (default) or "tcp"
    bool insecure;              //  --insecure: no CURVE anywhere
    const char *order_service;  //  --order-service: run tally-orders against this URL
} s_options_t;

typedef enum {
    PROBE_NO_REPLY,
    PROBE_REFUSED,
    PROBE_NOT_READY,
    PROBE_READY
} s_probe_t;

typedef struct {
    s_options_t options;
    char dir [PATH_MAX];          //  absolute data directory
    char binaries [5][PATH_MAX];  //  audit, router, balance, gateway, orders
    char worker_id [TLY_ID_MAX];
    char gateway [CLI_ENDPOINT_MAX];
    char gateway_ws [CLI_ENDPOINT_MAX];          //  "" without --ws-port
    char gateway_key [TLY_CURVE_Z85_CHARS + 1];  //  clients need it: CURVE on TCP
    char keys [PATH_MAX + 8];                    //  DIR/keys
    char **env_plain;                            //  environment for every child ...
    char **env_secret;                           //  ... and with the worker secret, for actors
    up_child_t *children [UP_CHILDREN_MAX];
    size_t child_count;
    int signal_fd;
    bool stopping;
    s_probe_t last_probe;
    tly_status_t last_status;
    tly_error_t last_error;
} s_up_t;

static const struct {
    const char *name;
    const char *build_subdir;
    const char *key;  //  its key pair in DIR/keys (up_curve_keys)
} s_servers [5] = { { "tally-audit", "actors/audit", "audit" },
                    { "tally-router", "broker/router", "router" },
                    { "tally-balance", "actors/balance", "balance" },
                    { "tally-gateway", "broker/gateway", "gateway" },
                    { "tally-orders", "actors/orders", NULL } };

static void
s_usage (FILE *out)
{
    fputs (
        "usage: tally up --data-dir DIR [options]\n"
        "\n"
        "Runs tally-audit, tally-router, N tally-balance and tally-gateway (and tally-orders\n"
        "with --order-service) as children on 127.0.0.1, restarts any that dies, and stops\n"
        "them all on Ctrl-C or SIGTERM.\n"
        "The first run creates a worker account in DIR/worker.json (mode 0600) and the\n"
        "servers' CURVE keys in DIR/keys: the gateway requires CURVE from its clients.\n"
        "When the cluster is ready it writes DIR/tally.env (" TLY_ENV_GATEWAY
        ", " TLY_ENV_GATEWAY_KEY ", " TLY_ENV_WORKER_ACCOUNT "\n"
        "and, with --order-service, TALLY_ORDER_SERVICE_URL) and DIR/pids, and prints one\n"
        "line. Logs: DIR/logs/<name>.log.\n"
        "\n"
        "options:\n"
        "  --data-dir DIR          state and logs (created if missing)\n"
        "  --base-port N           the gateway's TCP port (default " TLY_PORT_TEXT (
            TLY_PORT_GATEWAY) "); the internal hops\n"
                              "                          use Unix sockets in DIR/run (mode 0700), "
                              "or ports N+1..N+5\n"
                              "                          when DIR's path is too long for a socket "
                              "address\n"
                              "  --actors N              balance actors (default 2, at most 64)\n"
                              "  --partitions N          partition count, fixed for the data dir "
                              "(default 256)\n"
                              "  --max-initial N         largest createAccount initialBalance "
                              "(default 100)\n"
                              "  --max-amount N          largest buy amount (default 1000000000)\n"
                              "  --rate-per-minute N     per-user rate limit on buys (default "
                              "off)\n"
                              "  --rate-burst N          buys a user may make at once (default "
                              "N)\n"
                              "  --open-prices           a buy of an item not in the catalog "
                              "may name its price\n"
                              "                          (default off: catalog items only)\n"
                              "  --ws-port N             the gateway also on "
                              "ws://127.0.0.1:N/tally, for browsers\n"
                              "                          (no CURVE there; docs/protocol.md "
                              "\"WebSocket\")\n"
                              "  --retain POLICY         the journal's sealed segments that every "
                              "state\n"
                              "                          snapshot is past: keep (default), "
                              "archive or delete\n"
                              "  --segment-bytes N       the journal's segment size (default 256 "
                              "MiB)\n"
                              "  --hops unix|tcp         the internal hops: Unix sockets "
                              "(default) or the TCP\n"
                              "                          ports N+1..N+5, with CURVE\n"
                              "  --insecure              no CURVE anywhere: clear text on every "
                              "TCP hop,\n"
                              "                          clients need no key (tests, "
                              "benchmarks)\n"
                              "  --order-service URL     also run tally-orders as the worker, "
                              "charging orders\n"
                              "                          by POST to URL (docs/architecture.md "
                              "\"Orders\")\n"
                              "  --log-level LEVEL       debug|info|warn|error for every child "
                              "(default info)\n"
                              "  --bin-dir DIR           find the tally-* servers only there\n"
                              "  --ready-timeout-ms MS   give up when not ready after MS (default "
                              "15000)\n"
                              "\n"
                              "Servers are looked for beside `tally`, then in its build tree "
                              "(../broker/gateway,\n"
                              "../broker/router, ../actors/balance, ../actors/audit), then in "
                              "$PATH.\n"
                              "Exit status: 0 stopped by a signal, 1 the cluster failed, 2 usage "
                              "or setup error.\n",
        out);
}

//  Returns -1 to go on, or the exit code.
static int
s_parse (int argc, char **argv, s_options_t *options)
{
    const char *command = "tally up";
    options->base_port = TLY_PORT_GATEWAY;
    options->actors = UP_ACTORS_DEFAULT;
    options->partitions = TLY_PARTITIONS_DEFAULT;
    options->max_initial = TLY_INITIAL_MAX_DEFAULT;
    options->max_amount = TLY_AMOUNT_MAX_DEFAULT;
    options->ready_timeout_ms = UP_READY_TIMEOUT_MS;
    options->log_level = "info";
    tly_flag_t flags [] = {
        TLY_FLAG_TEXT ("--data-dir", &options->data_dir),
        TLY_FLAG_INT ("--base-port", &options->base_port, 1, UP_BASE_PORT_MAX),
        TLY_FLAG_INT ("--actors", &options->actors, 1, UP_ACTORS_MAX),
        TLY_FLAG_INT ("--partitions", &options->partitions, 1, TLY_PARTITIONS_MAX),
        TLY_FLAG_INT ("--max-initial", &options->max_initial, 0, INT64_MAX),
        TLY_FLAG_INT ("--max-amount", &options->max_amount, 1, INT64_MAX),
        TLY_FLAG_INT ("--rate-per-minute", &options->rate_per_minute, 1, TLY_RATE_PER_MINUTE_MAX),
        TLY_FLAG_INT ("--rate-burst", &options->rate_burst, 1, TLY_RATE_BURST_MAX),
        TLY_FLAG_BOOL ("--open-prices", &options->open_prices),
        TLY_FLAG_INT ("--ws-port", &options->ws_port, 1, 65535),
        TLY_FLAG_TEXT ("--log-level", &options->log_level),
        TLY_FLAG_TEXT ("--bin-dir", &options->bin_dir),
        TLY_FLAG_TEXT ("--retain", &options->retain),
        TLY_FLAG_INT ("--segment-bytes", &options->segment_bytes, 1, INT64_MAX),
        TLY_FLAG_TEXT ("--hops", &options->hops),
        TLY_FLAG_BOOL ("--insecure", &options->insecure),
        TLY_FLAG_TEXT ("--order-service", &options->order_service),
        TLY_FLAG_INT ("--ready-timeout-ms", &options->ready_timeout_ms, 1, UP_READY_TIMEOUT_MS_MAX),
        TLY_FLAG_HELP
    };
    int rc = cli_parse_flags (command, s_usage, flags, sizeof flags / sizeof flags [0], argc, argv,
                              NULL);
    if (rc != -1)
        return rc;
    if (options->rate_burst && !options->rate_per_minute) {
        fprintf (stderr,
                 "%s: --rate-burst is the size of the rate limit's bucket: give"
                 " --rate-per-minute with it\n",
                 command);
        return CLI_EXIT_USAGE;
    }
    if (!options->data_dir || !*options->data_dir) {
        fprintf (stderr, "%s: --data-dir is required\n", command);
        return CLI_EXIT_USAGE;
    }
    tly_level_t level;
    if (tly_log_level_flag (command, options->log_level, &level) == -1)
        return CLI_EXIT_USAGE;
    if (options->retain && strcmp (options->retain, "keep") != 0
        && strcmp (options->retain, "archive") != 0 && strcmp (options->retain, "delete") != 0) {
        fprintf (stderr, "%s: --retain must be keep, archive or delete, got '%s'\n", command,
                 options->retain);
        return CLI_EXIT_USAGE;
    }
    char void_url [TLY_ORDER_URL_SIZE];
    if (options->order_service && !tly_order_url_valid (options->order_service)) {
        fprintf (stderr,
                 "%s: --order-service must be an http:// or https:// URL of at most %d bytes,"
                 " got '%s'\n",
                 command, TLY_ORDER_URL_SIZE - 1, options->order_service);
        return CLI_EXIT_USAGE;
    }
    //  tally-orders derives its void URL from it (tally up gives no --void-url).
    if (options->order_service
        && tly_order_void_url (options->order_service, void_url, sizeof void_url) == -1) {
        fprintf (stderr, "%s: --order-service: the void URL made from it would be over %d bytes\n",
                 command, TLY_ORDER_URL_SIZE - 1);
        return CLI_EXIT_USAGE;
    }
    if (options->hops && strcmp (options->hops, "unix") != 0
        && strcmp (options->hops, "tcp") != 0) {
        fprintf (stderr, "%s: --hops must be unix or tcp, got '%s'\n", command, options->hops);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

//  Finds the binaries, prepares the data directory and the worker account.
//  Returns -1 to go on, or the exit code.
static int
s_prepare (s_up_t *up, int *lock_fd)
{
    char error [1024];
    //  tally-orders only with --order-service.
    for (size_t i = 0; i < (up->options.order_service ? 5 : 4); i++)
        if (up_find_binary (s_servers [i].name, s_servers [i].build_subdir, up->options.bin_dir,
                            up->binaries [i], sizeof up->binaries [i], error, sizeof error)
            == -1) {
            fprintf (stderr, "tally up: cannot find %s; looked in: %s (%s)\n", s_servers [i].name,
                     error,
                     up->options.bin_dir ? "check --bin-dir" : "build it, or pass --bin-dir");
            return CLI_EXIT_USAGE;
        }
    if (up_mkdir_p (up->options.data_dir, 0700) == -1
        || !realpath (up->options.data_dir, up->dir)) {
        fprintf (stderr, "tally up: cannot create --data-dir %s: %s\n", up->options.data_dir,
                 strerror (errno));
        return CLI_EXIT_USAGE;
    }
    *lock_fd = up_lock_dir (up->dir);
    if (*lock_fd == -1) {
        fprintf (stderr, "tally up: %s is %s\n", up->dir,
                 errno == EWOULDBLOCK ? "in use by another tally up" : "not writable");
        return CLI_EXIT_USAGE;
    }
    char path [PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/logs", up->dir);
    if (up_mkdir_p (path, 0700) == -1) {
        fprintf (stderr, "tally up: cannot create %s: %s\n", path, strerror (errno));
        return CLI_EXIT_USAGE;
    }
    if (up_curve_keys (up->dir, up->gateway_key, error, sizeof error) == -1) {
        fprintf (stderr, "tally up: %s\n", error);
        return CLI_EXIT_USAGE;
    }
    snprintf (up->keys, sizeof up->keys, "%s/" UP_KEYS_SUBDIR, up->dir);
    tly_account_t worker;
    bool created;
    if (up_worker_account (up->dir, &worker, &created, error, sizeof error) == -1) {
        fprintf (stderr, "tally up: %s\n", error);
        return CLI_EXIT_USAGE;
    }
    tly_account_id (worker.sign_pk, up->worker_id);
    char secret [TLY_SECRET_MAX];
    tly_account_secret (&worker, secret);
    sodium_memzero (&worker, sizeof worker);

    char account_line [TLY_ID_MAX + 32], secret_line [TLY_SECRET_MAX + 32];
    snprintf (account_line, sizeof account_line, TLY_ENV_WORKER_ACCOUNT "=%s", up->worker_id);
    snprintf (secret_line, sizeof secret_line, TLY_ENV_WORKER_SECRET "=%s", secret);
    sodium_memzero (secret, sizeof secret);
    const char *plain [] = { account_line, NULL };
    const char *with_secret [] = { account_line, secret_line, NULL };
    up->env_plain = up_env_new (plain);
    up->env_secret = up_env_new (with_secret);
    sodium_memzero (secret_line, sizeof secret_line);
    snprintf (up->gateway, sizeof up->gateway, TLY_LOOPBACK_PREFIX "%" PRId64,
              up->options.base_port);
    if (up->options.ws_port)
        snprintf (up->gateway_ws, sizeof up->gateway_ws, "ws://127.0.0.1:%" PRId64 "/tally",
                  up->options.ws_port);
    return -1;
}

//  Adds one child whose data lives in dir/<name> (when has_data).
static int
s_add_child (s_up_t *up, const char *name, size_t server, bool has_data, char **env,
             const char *const *args, const char *const *curve_args)
{
    assert (up->child_count < UP_CHILDREN_MAX);
    char data [PATH_MAX + UP_NAME_MAX], log_path [PATH_MAX + UP_NAME_MAX + 16];
    snprintf (data, sizeof data, "%s/%s", up->dir, name);
    snprintf (log_path, sizeof log_path, "%s/logs/%s.log", up->dir, name);
    const char *argv [UP_ARGS_MAX + 1] = { s_servers [server].name };
    size_t argc = 1;
    if (has_data) {
        if (up_mkdir_p (data, 0700) == -1) {
            fprintf (stderr, "tally up: cannot create %s: %s\n", data, strerror (errno));
            return -1;
        }
        argv [argc++] = "--data-dir";
        argv [argc++] = data;
    }
    for (size_t i = 0; args [i]; i++) {
        assert (argc < UP_ARGS_MAX - 2);
        argv [argc++] = args [i];
    }
    for (size_t i = 0; curve_args [i]; i++) {
        assert (argc < UP_ARGS_MAX - 2);
        argv [argc++] = curve_args [i];
    }
    argv [argc++] = "--log-level";
    argv [argc++] = up->options.log_level;
    argv [argc] = NULL;
    up->children [up->child_count++] = up_child_new (name, up->binaries [server], argv, env,
                                                     log_path);
    return 0;
}

//  An internal endpoint: the Unix socket run_dir/NAME.sock, or, when run_dir
//  is NULL, the loopback TCP port.
static void
s_internal_endpoint (char *endpoint, const char *run_dir, const char *name, int64_t port)
{
    if (run_dir)
        snprintf (endpoint, CLI_ENDPOINT_MAX, "ipc://%s/%s.sock", run_dir, name);
    else
        snprintf (endpoint, CLI_ENDPOINT_MAX, TLY_LOOPBACK_PREFIX "%" PRId64, port);
}

//  The internal hops (router, audit writer, update bus) use Unix sockets in
//  DIR/run, a directory only the owner may enter: nobody else can reach the
//  router or the audit writer, which do not authenticate their peers, and a
//  hop costs less than over loopback TCP. Only the gateway listens on TCP.
//  A data directory too long for a socket address (sun_path holds 107
//  bytes) falls back to the ports base+1..base+5.
static int
s_add_children (s_up_t *up)
{
    int64_t base = up->options.base_port;
    char gateway [CLI_ENDPOINT_MAX], frontend [CLI_ENDPOINT_MAX], backend [CLI_ENDPOINT_MAX],
        audit [CLI_ENDPOINT_MAX], bus_in [CLI_ENDPOINT_MAX], bus_out [CLI_ENDPOINT_MAX],
        partitions [16], max_initial [24], max_amount [24], rate [24], burst [24];
    char run_path [PATH_MAX + 8];
    snprintf (run_path, sizeof run_path, "%s/run", up->dir);
    const char *run_dir = run_path;
    if (up->options.hops && strcmp (up->options.hops, "tcp") == 0)
        run_dir = NULL;
    else if (strlen (run_path) + strlen ("/router-frontend.sock") > UP_SOCKET_PATH_MAX) {
        fprintf (stderr,
                 "tally up: %s is too long a path for Unix sockets; the internal hops "
                 "use TCP ports %" PRId64 "..%" PRId64 "\n",
                 run_path, base + TLY_PORT_OFFSET (TLY_PORT_ROUTER_FRONTEND),
                 base + TLY_PORT_COUNT - 1);
        run_dir = NULL;
    } else if (up_mkdir_p (run_path, 0700) == -1 || chmod (run_path, 0700) == -1) {
        fprintf (stderr, "tally up: cannot create %s: %s\n", run_path, strerror (errno));
        return -1;
    }
    snprintf (gateway, sizeof gateway, "%s", up->gateway);
    s_internal_endpoint (frontend, run_dir, "router-frontend",
                         base + TLY_PORT_OFFSET (TLY_PORT_ROUTER_FRONTEND));
    s_internal_endpoint (backend, run_dir, "router-backend",
                         base + TLY_PORT_OFFSET (TLY_PORT_ROUTER_BACKEND));
    s_internal_endpoint (audit, run_dir, "audit", base + TLY_PORT_OFFSET (TLY_PORT_AUDIT));
    s_internal_endpoint (bus_in, run_dir, "bus-in", base + TLY_PORT_OFFSET (TLY_PORT_BUS_IN));
    s_internal_endpoint (bus_out, run_dir, "bus-out", base + TLY_PORT_OFFSET (TLY_PORT_BUS_OUT));
    snprintf (partitions, sizeof partitions, "%" PRId64, up->options.partitions);
    snprintf (max_initial, sizeof max_initial, "%" PRId64, up->options.max_initial);
    snprintf (max_amount, sizeof max_amount, "%" PRId64, up->options.max_amount);
    snprintf (rate, sizeof rate, "%" PRId64, up->options.rate_per_minute);
    snprintf (burst, sizeof burst, "%" PRId64, up->options.rate_burst);

    //  Every server gets its keys: CURVE where a hop is TCP (the gateway's
    //  clients; every hop with --hops tcp or when DIR is too long for Unix
    //  sockets). --insecure gives none, and says so to each server.
    char secret [4][PATH_MAX + 64], actor_keys [PATH_MAX + 64], gateway_keys [PATH_MAX + 64],
        router_key [PATH_MAX + 64], audit_key [PATH_MAX + 64];
    for (size_t server = 0; server < 4; server++)
        snprintf (secret [server], sizeof secret [server], "%s/%s" TLY_CURVE_SECRET_EXT, up->keys,
                  s_servers [server].key);
    snprintf (actor_keys, sizeof actor_keys, "%s/actors", up->keys);
    snprintf (gateway_keys, sizeof gateway_keys, "%s/gateways", up->keys);
    snprintf (router_key, sizeof router_key, "%s/router" TLY_CURVE_PUBLIC_EXT, up->keys);
    snprintf (audit_key, sizeof audit_key, "%s/audit" TLY_CURVE_PUBLIC_EXT, up->keys);
    const char *insecure [] = { "--insecure", NULL };
    bool plain = up->options.insecure;
    const char *audit_curve [] = { "--curve-secret", secret [0], "--actor-keys", actor_keys, NULL };
    const char *router_curve [] = {
        "--curve-secret", secret [1], "--actor-keys", actor_keys, "--gateway-keys",
        gateway_keys,     NULL
    };
    const char *balance_curve [] = {
        "--curve-secret", secret [2], "--router-key", router_key, "--audit-key", audit_key, NULL
    };
    const char *gateway_curve [] = { "--curve-secret", secret [3], "--router-key", router_key,
                                     NULL };

    char segment_bytes [24];
    snprintf (segment_bytes, sizeof segment_bytes, "%" PRId64, up->options.segment_bytes);
    const char *audit_args [8] = { "--bind", audit };
    int audit_argc = 2;
    if (up->options.retain) {
        audit_args [audit_argc++] = "--retain";
        audit_args [audit_argc++] = up->options.retain;
    }
    if (up->options.segment_bytes) {
        audit_args [audit_argc++] = "--segment-bytes";
        audit_args [audit_argc++] = segment_bytes;
    }
    audit_args [audit_argc] = NULL;
    if (s_add_child (up, "audit", 0, true, up->env_secret, audit_args,
                     plain ? insecure : audit_curve)
        == -1)
        return -1;
    const char *router_args [] = { "--frontend",   frontend,   "--backend", backend,
                                   "--bus-in",     bus_in,     "--bus-out", bus_out,
                                   "--partitions", partitions, NULL };
    if (s_add_child (up, "router", 1, true, up->env_plain, router_args,
                     plain ? insecure : router_curve)
        == -1)
        return -1;
    for (int64_t i = 1; i <= up->options.actors; i++) {
        char name [UP_NAME_MAX];
        snprintf (name, sizeof name, "balance-%" PRId64, i);
        const char *balance_args [] = { "--name",
                                        name,
                                        "--router",
                                        backend,
                                        "--audit",
                                        audit,
                                        "--bus",
                                        bus_in,
                                        "--partitions",
                                        partitions,
                                        "--max-initial",
                                        max_initial,
                                        "--max-amount",
                                        max_amount,
                                        NULL,
                                        NULL,
                                        NULL,
                                        NULL,
                                        NULL,
                                        NULL };
        size_t argc = 14;
        if (up->options.open_prices)
            balance_args [argc++] = "--open-prices";
        if (up->options.rate_per_minute) {
            balance_args [argc++] = "--rate-per-minute";
            balance_args [argc++] = rate;
        }
        if (up->options.rate_burst) {
            balance_args [argc++] = "--rate-burst";
            balance_args [argc++] = burst;
        }
        if (s_add_child (up, name, 2, true, up->env_secret, balance_args,
                         plain ? insecure : balance_curve)
            == -1)
            return -1;
    }
    const char *gateway_args [] = { "--bind", gateway,    "--router",    frontend,       "--bus",
                                    bus_out,  "--worker", up->worker_id, "--partitions", partitions,
                                    NULL,     NULL,       NULL };
    if (up->gateway_ws [0]) {
        gateway_args [10] = "--bind-ws";
        gateway_args [11] = up->gateway_ws;
    }
    if (s_add_child (up, "gateway", 3, false, up->env_plain, gateway_args,
                     plain ? insecure : gateway_curve)
        == -1)
        return -1;
    if (!up->options.order_service)
        return 0;
    //  The order processor: a client of the gateway, signing as the worker.
    char account [PATH_MAX + 16], gateway_public [PATH_MAX + 64];
    snprintf (account, sizeof account, "%s/worker.json", up->dir);
    snprintf (gateway_public, sizeof gateway_public, "%s/gateway" TLY_CURVE_PUBLIC_EXT, up->keys);
    const char *orders_args [] = { "--gateway", gateway,         "--account",
                                   account,     "--service-url", up->options.order_service,
                                   NULL };
    const char *orders_curve [] = { "--gateway-key", gateway_public, NULL };
    const char *none [] = { NULL };
    return s_add_child (up, "orders", 4, false, up->env_plain, orders_args,
                        plain ? none : orders_curve);
}

static void
s_write_pids (s_up_t *up)
{
    char text [UP_CHILDREN_MAX * (UP_NAME_MAX + 16)] = "";
    size_t used = 0;
    for (size_t i = 0; i < up->child_count; i++)
        if (up_child_pid (up->children [i]) > 0)
            used += (size_t) snprintf (text + used, sizeof text - used, "%s %d\n",
                                       up_child_name (up->children [i]),
                                       (int) up_child_pid (up->children [i]));
    assert (used < sizeof text);
    char path [PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/pids", up->dir);
    if (up_write_file (path, text, 0644) == -1)
        fprintf (stderr, "tally up: cannot write %s: %s\n", path, strerror (errno));
}

static up_child_t *
s_child_of (s_up_t *up, pid_t pid)
{
    for (size_t i = 0; i < up->child_count; i++)
        if (up_child_pid (up->children [i]) == pid)
            return up->children [i];
    return NULL;
}

//  Children from index `from` on that still run.
static size_t
s_running (s_up_t *up, size_t from)
{
    size_t running = 0;
    for (size_t i = from; i < up->child_count; i++)
        running += up_child_pid (up->children [i]) > 0;
    return running;
}

//  Collects every ended child; unless stopping, reports and restarts it.
//  Returns -1 to go on, or CLI_EXIT_REJECTED when a child may not restart.
static int
s_reap (s_up_t *up)
{
    int status;
    pid_t pid;
    bool restarted = false;
    while ((pid = waitpid (-1, &status, WNOHANG)) > 0) {
        up_child_t *child = s_child_of (up, pid);
        if (!child)
            continue;
        up_child_exited (child, status);
        char how [96];
        up_describe_status (status, how, sizeof how);
        if (up->stopping) {
            if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
                fprintf (stderr, "tally up: %s (pid %d) %s while stopping; see %s\n",
                         up_child_name (child), (int) pid, how, up_child_log (child));
            continue;
        }
        fprintf (stderr, "tally up: %s (pid %d) %s; see %s\n", up_child_name (child), (int) pid,
                 how, up_child_log (child));
        if (!up_child_may_restart (child, tly_mono_ms ())) {
            fprintf (stderr, "tally up: %s restarted %d times within %d s; stopping everything\n",
                     up_child_name (child), UP_RESTARTS_MAX, UP_RESTART_WINDOW_MS / 1000);
            return CLI_EXIT_REJECTED;
        }
        if (up_child_start (child) == -1) {
            fprintf (stderr, "tally up: cannot restart %s: %s\n", up_child_name (child),
                     strerror (errno));
            return CLI_EXIT_REJECTED;
        }
        fprintf (stderr, "tally up: restarted %s (pid %d)\n", up_child_name (child),
                 (int) up_child_pid (child));
        restarted = true;
    }
    if (restarted)
        s_write_pids (up);
    return -1;
}

//  Drains the signal fd. Returns -1 to go on, CLI_EXIT_OK when asked to
//  stop, or the exit code of a failed restart.
static int
s_on_signals (s_up_t *up)
{
    bool stop = false, child = false;
    struct signalfd_siginfo info;
    while (read (up->signal_fd, &info, sizeof info) == (ssize_t) sizeof info) {
        if (info.ssi_signo == SIGCHLD)
            child = true;
        else
            stop = true;
    }
    if (stop)
        return CLI_EXIT_OK;
    return child ? s_reap (up) : -1;
}

//  SIGTERM to the children from index `from` on, then waits until they have
//  ended. False when the deadline passed first, or a second Ctrl-C asked
//  for SIGKILL at once.
static bool
s_stop_from (s_up_t *up, size_t from, int64_t deadline)
{
    for (size_t i = from; i < up->child_count; i++)
        up_child_signal (up->children [i], SIGTERM);
    while (s_running (up, from) > 0) {
        int64_t left = deadline - tly_mono_ms ();
        if (left <= 0)
            return false;
        struct pollfd item = { .fd = up->signal_fd, .events = POLLIN };
        if (poll (&item, 1, (int) left) > 0 && s_on_signals (up) == CLI_EXIT_OK)
            return false;
        s_reap (up);
    }
    return true;
}

//  SIGTERM to every child in two waves, against the data flow: the balance
//  actors and the gateway first, while the router still runs to take each
//  actor's leave (without it, each actor would wait out its bound on the
//  acknowledgement), then the audit writer and the router (s_add_children
//  starts those two first). SIGKILL to those still running after the
//  deadline (or at once on a second Ctrl-C).
static void
s_stop_all (s_up_t *up)
{
    up->stopping = true;
    int64_t deadline = tly_mono_ms () + UP_STOP_TIMEOUT_MS;
    if (s_stop_from (up, UP_CORE_CHILDREN, deadline))
        s_stop_from (up, 0, deadline);
    for (size_t i = 0; i < up->child_count; i++) {
        up_child_t *child = up->children [i];
        pid_t pid = up_child_pid (child);
        if (pid == 0)
            continue;
        fprintf (stderr, "tally up: %s (pid %d) did not stop; killing it\n", up_child_name (child),
                 (int) pid);
        up_child_signal (child, SIGKILL);
        int status;
        while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
            ;
        up_child_exited (child, status);
    }
}

//  One status probe through the gateway; remembers what it saw.
static bool
s_probe (s_up_t *up, tly_sender_t *sender)
{
    if (tly_sender_status (sender, UP_PROBE_TIMEOUT_MS, &up->last_status) == 0)
        up->last_probe = up->last_status.ready ? PROBE_READY : PROBE_NOT_READY;
    else {
        up->last_error = *tly_sender_error (sender);
        up->last_probe = up->last_error.remote ? PROBE_REFUSED : PROBE_NO_REPLY;
    }
    return up->last_probe == PROBE_READY;
}

static void
s_report_not_ready (s_up_t *up)
{
    fprintf (stderr, "tally up: not ready within %" PRId64 " ms: ", up->options.ready_timeout_ms);
    if (up->last_probe == PROBE_NO_REPLY)
        fprintf (stderr, "the gateway never answered %s; read %s/logs/gateway.log\n", up->gateway,
                 up->dir);
    else if (up->last_probe == PROBE_REFUSED)
        fprintf (stderr,
                 "the gateway answered %s (%s); read %s/logs/router.log and %s/logs/gateway.log\n",
                 tly_error_name (up->last_error.code), up->last_error.message, up->dir, up->dir);
    else
        fprintf (
            stderr,
            "the router sees %" PRIu32 " of %" PRId64 " actors owning %" PRIu32 "/%" PRIu32
            " partitions; read %s/logs/balance-*.log, %s/logs/router.log and %s/logs/audit.log\n",
            up->last_status.actors, up->options.actors, up->last_status.partitions_owned,
            up->last_status.partition_count, up->dir, up->dir, up->dir);
}

static void
s_announce (s_up_t *up)
{
    s_write_pids (up);
    char text [2 * CLI_ENDPOINT_MAX + TLY_ID_MAX + 2 * PATH_MAX + 224];
    //  The key's file, not its Z85 text: Z85 holds characters a shell
    //  reading the file (`set -a; . DIR/tally.env`) would take for syntax.
    char key_line [PATH_MAX + 64] = "";
    if (!up->options.insecure)
        snprintf (key_line, sizeof key_line,
                  TLY_ENV_GATEWAY_KEY "=%s/gateway" TLY_CURVE_PUBLIC_EXT "\n", up->keys);
    char ws_line [CLI_ENDPOINT_MAX + 32] = "";
    if (up->gateway_ws [0])
        snprintf (ws_line, sizeof ws_line, "TALLY_GATEWAY_WS=%s\n", up->gateway_ws);
    char orders_line [PATH_MAX + 64] = "";
    if (up->options.order_service)
        snprintf (orders_line, sizeof orders_line, TLY_ENV_ORDER_SERVICE "=%s\n",
                  up->options.order_service);
    snprintf (text, sizeof text, TLY_ENV_GATEWAY "=%s\n%s%s%s" TLY_ENV_WORKER_ACCOUNT "=%s\n",
              up->gateway, ws_line, key_line, orders_line, up->worker_id);
    char path [PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/tally.env", up->dir);
    if (up_write_file (path, text, 0644) == -1)
        fprintf (stderr, "tally up: cannot write %s: %s\n", path, strerror (errno));
    printf ("tally up: ready gateway=%s%s%s%s%s worker=%s data=%s (Ctrl-C to stop)\n", up->gateway,
            up->gateway_ws [0] ? " ws=" : "", up->gateway_ws,
            up->options.order_service ? " orders=" : "",
            up->options.order_service ? up->options.order_service : "", up->worker_id, up->dir);
    fflush (stdout);
}

//  Starts every child, then supervises them until a signal or a failure.
static int
s_run (s_up_t *up)
{
    for (size_t i = 0; i < up->child_count; i++)
        if (up_child_start (up->children [i]) == -1) {
            fprintf (stderr, "tally up: cannot start %s: %s\n", up_child_name (up->children [i]),
                     strerror (errno));
            return CLI_EXIT_REJECTED;
        }
    tly_sender_t *probe = tly_sender_new_curve (
        up->gateway, up->options.insecure ? NULL : up->gateway_key, NULL, NULL);
    assert (probe);
    tly_sender_set_attempts (probe, 1);
    int64_t ready_deadline = tly_mono_ms () + up->options.ready_timeout_ms;
    int exit_code = -1;
    while (exit_code == -1) {
        struct pollfd item = { .fd = up->signal_fd, .events = POLLIN };
        int rc = poll (&item, 1, probe ? UP_PROBE_INTERVAL_MS : -1);
        assert (rc >= 0 || errno == EINTR);
        if (rc > 0)
            exit_code = s_on_signals (up);
        if (exit_code != -1 || !probe)
            continue;
        if (s_probe (up, probe)) {
            tly_sender_destroy (&probe);
            s_announce (up);
        } else if (tly_mono_ms () >= ready_deadline) {
            s_report_not_ready (up);
            exit_code = CLI_EXIT_REJECTED;
        }
    }
    tly_sender_destroy (&probe);
    return exit_code;
}

int
cli_up (int argc, char **argv)
{
    s_up_t up = { .signal_fd = -1 };
    int exit_code = s_parse (argc, argv, &up.options);
    if (exit_code != -1)
        return exit_code;
    int lock_fd = -1;
    exit_code = s_prepare (&up, &lock_fd);

    //  Signals arrive through a descriptor, in the loop. They are blocked
    //  before any ZeroMQ thread exists, so no thread can take them.
    sigset_t mask;
    sigemptyset (&mask);
    sigaddset (&mask, SIGINT);
    sigaddset (&mask, SIGTERM);
    sigaddset (&mask, SIGHUP);
    sigaddset (&mask, SIGCHLD);
    if (exit_code == -1) {
        sigprocmask (SIG_BLOCK, &mask, NULL);
        up.signal_fd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        assert (up.signal_fd >= 0);
        if (s_add_children (&up) == -1)
            exit_code = CLI_EXIT_USAGE;
    }
    if (exit_code == -1) {
        exit_code = s_run (&up);
        s_stop_all (&up);
        char path [PATH_MAX + 16];
        snprintf (path, sizeof path, "%s/pids", up.dir);
        unlink (path);
    }
    for (size_t i = 0; i < up.child_count; i++)
        up_child_destroy (&up.children [i]);
    up_env_destroy (&up.env_plain);
    up_env_destroy (&up.env_secret);
    if (up.signal_fd != -1)
        close (up.signal_fd);
    if (lock_fd != -1)
        close (lock_fd);
    return exit_code;
}
