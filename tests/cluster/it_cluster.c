//  it_cluster - a real tally cluster on loopback for the cluster tests. See the header.
#include "it_cluster.h"

#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tally.pb-c.h"
#include "tly_curve.h"
#include "tly_fault.h"
#include "tly_wire.h"

const char **it_gateway_extra_args = NULL;
const char **it_balance_extra_args = NULL;
bool it_closed_prices = false;
const char **it_audit_extra_args = NULL;
const char *it_cluster_parent_dir = NULL;
void (*it_cluster_prepare) (it_cluster_t *self) = NULL;
void (*it_cluster_release) (it_cluster_t *self) = NULL;
const char *it_heartbeat_ms = "200";
bool it_cluster_curve = true;
const char *it_gateway_key = NULL;
static char *
s_format (const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    char *text = NULL;
    int rc = vasprintf (&text, fmt, args);
    va_end (args);
    CHECK (rc >= 0);
    return text;
}

//  Keeps str to be freed when the cluster stops.
static char *
s_own (it_cluster_t *self, char *str)
{
    CHECK (str);
    if (self->owned_count == self->owned_size) {
        self->owned_size = self->owned_size ? 2 * self->owned_size : 64;
        self->owned = realloc (self->owned, (size_t) self->owned_size * sizeof (char *));
        CHECK (self->owned);
    }
    self->owned [self->owned_count++] = str;
    return str;
}


//  The CURVE arguments of one server, or --insecure.
static int
s_curve_args (it_cluster_t *self, char **argv, int argc, const char *server)
{
    if (!it_cluster_curve) {
        argv [argc++] = "--insecure";
        return argc;
    }
    argv [argc++] = "--curve-secret";
    argv [argc++] = s_own (self, s_format ("%s/%s.key_secret", self->keys, server));
    if (streq (server, "audit") || streq (server, "router")) {
        argv [argc++] = "--actor-keys";
        argv [argc++] = s_own (self, s_format ("%s/actors", self->keys));
    }
    if (streq (server, "router")) {
        argv [argc++] = "--gateway-keys";
        argv [argc++] = s_own (self, s_format ("%s/gateways", self->keys));
    }
    if (streq (server, "balance") || streq (server, "gateway")) {
        argv [argc++] = "--router-key";
        argv [argc++] = s_own (self, s_format ("%s/router.key", self->keys));
    }
    if (streq (server, "balance")) {
        argv [argc++] = "--audit-key";
        argv [argc++] = s_own (self, s_format ("%s/audit.key", self->keys));
    }
    return argc;
}

//  Every server's key pair in DIR/keys, and the folders of trusted keys.
static void
s_make_keys (it_cluster_t *self)
{
    snprintf (self->keys, sizeof self->keys, "%s/keys", self->dir);
    CHECK (mkdir (self->keys, 0700) == 0);
    char error [512];
    const char *servers [] = { "audit", "router", "balance", "gateway" };
    for (size_t i = 0; i < 4; i++)
        if (tly_curve_keygen (self->keys, servers [i], NULL, error, sizeof error) == -1)
            th_fail (__FILE__, __LINE__, "keys: %s", error);
    const char *trusted [][2] = { { "actors", "balance" }, { "gateways", "gateway" } };
    for (size_t i = 0; i < 2; i++) {
        char *folder = s_format ("%s/%s", self->keys, trusted [i][0]);
        CHECK (mkdir (folder, 0700) == 0);
        char *command = s_format ("cp '%s/%s.key' '%s/'", self->keys, trusted [i][1], folder);
        CHECK (system (command) == 0);
        free (command);
        free (folder);
    }
    snprintf (self->gateway_key, sizeof self->gateway_key, "%s/gateway.key", self->keys);
}

static it_child_t *
s_add (it_cluster_t *self, const char *name)
{
    CHECK (self->child_count < IT_CHILDREN_MAX);
    it_child_t *child = &self->children [self->child_count++];
    snprintf (child->name, sizeof child->name, "%s", name);
    return child;
}

//  A balance actor named name: its arguments in child.
static void
s_actor_args (it_cluster_t *self, it_child_t *child, const char *name)
{
    char **argv = child->argv;
    int argc = 0;
    argv [argc++] = TALLY_BALANCE_BIN;
    argv [argc++] = "--data-dir";
    argv [argc++] = s_own (self, s_format ("%s/%s", self->dir, name));
    argv [argc++] = "--name";
    argv [argc++] = s_own (self, strdup (name));
    argv [argc++] = "--router";
    argv [argc++] = self->backend;
    argv [argc++] = "--audit";
    argv [argc++] = self->audit;
    argv [argc++] = "--bus";
    argv [argc++] = self->bus_in;
    if (!it_closed_prices)
        argv [argc++] = "--open-prices";  //  the tests' buys name their amounts
    argc = s_curve_args (self, argv, argc, "balance");
    for (int extra = 0; it_balance_extra_args && it_balance_extra_args [extra]; extra++) {
        CHECK (argc < 36);
        argv [argc++] = (char *) it_balance_extra_args [extra];
    }
    argv [argc++] = "--heartbeat-ms";
    argv [argc++] = (char *) it_heartbeat_ms;
    argv [argc] = NULL;
}

static it_child_t *
s_find (it_cluster_t *self, const char *name)
{
    for (int i = 0; i < self->child_count; i++)
        if (streq (self->children [i].name, name) && !self->children [i].removed)
            return &self->children [i];
    th_fail (__FILE__, __LINE__, "no child named %s", name);
}

//  Children write their logs to DIR/NAME.log; the test prints them on failure.
static char *
s_log_path (it_cluster_t *self, const char *name)
{
    return s_format ("%s/%s.log", self->dir, name);
}

static void
s_start_child (it_cluster_t *self, it_child_t *child)
{
    if (!child->process) {
        char *log = s_log_path (self, child->name);
        child->process = th_process_new (child->name, child->argv);
        th_process_set_log (child->process, log);
        free (log);
        //  Faults are armed through the child's file only (it_cluster_faults).
        char *faults = s_format ("%s=%s/%s.faults", TLY_FAULTS_FILE_ENV, self->dir, child->name);
        th_process_set_env (child->process, faults);
        th_process_set_env (child->process, TLY_FAULTS_ENV);
        free (faults);
    }
    th_process_start (child->process);
    child->killed = false;
}

void
it_gateway_endpoint (it_cluster_t *self, int n, char *out, size_t size)
{
    snprintf (out, size, "tcp://127.0.0.1:%d",
              n == 1 ? self->base_port : self->base_port + 10 * (n - 1));
}

bool
it_wait_ready (const char *gateway, int timeout_ms)
{
    return it_wait_actors (gateway, 0, timeout_ms);
}

bool
it_wait_actors (const char *gateway, uint32_t actors, int timeout_ms)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    CHECK (dealer);
    zsock_set_linger (dealer, 0);
    char error [512];
    if (it_gateway_key && tly_curve_client_of (dealer, it_gateway_key, error, sizeof error))
        th_fail (__FILE__, __LINE__, "gateway key: %s", error);
    CHECK (zsock_connect (dealer, "%s", gateway) == 0);
    int64_t deadline = tly_mono_ms () + timeout_ms;
    uint64_t request_id = 0;
    bool ready = false;
    while (!ready && tly_mono_ms () < deadline) {
        Tally__StatusRequest status = TALLY__STATUS_REQUEST__INIT;
        Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
        request.request_id = ++request_id;
        request.body_case = TALLY__CLIENT_REQUEST__BODY_STATUS;
        request.status = &status;
        CHECK (tly_wire_send (zsock_resolve (dealer), NULL, &request.base) == 0);
        //  Wait up to 200 ms for this attempt's answer, then ask again.
        zpoller_t *poller = zpoller_new (dealer, NULL);
        int64_t attempt_end = tly_mono_ms () + 200;
        while (tly_mono_ms () < attempt_end) {
            if (!zpoller_wait (poller, (int) (attempt_end - tly_mono_ms ())))
                break;
            zframe_t *frame = zframe_recv (dealer);
            if (!frame)
                break;
            Tally__ClientReply *reply = tally__client_reply__unpack (NULL, zframe_size (frame),
                                                                     zframe_data (frame));
            zframe_destroy (&frame);
            if (reply && reply->request_id == request_id && reply->status && reply->status->ready
                && (actors == 0 || reply->status->actors == actors))
                ready = true;
            if (reply)
                tally__client_reply__free_unpacked (reply, NULL);
            if (ready)
                break;
        }
        zpoller_destroy (&poller);
    }
    zsock_destroy (&dealer);
    return ready;
}

static void s_print_logs (it_cluster_t *self);

//  Waits for readiness with every actor started live (so that no actor
//  joins, and takes partitions over, while the test runs), failing at once
//  when any child has exited.
static bool
s_wait_cluster_ready (it_cluster_t *self, const char *gateway, uint32_t actors, int timeout_ms)
{
    int64_t deadline = tly_mono_ms () + timeout_ms;
    while (tly_mono_ms () < deadline) {
        for (int i = 0; i < self->child_count; i++) {
            th_process_t *process = self->children [i].process;
            if (!th_process_running (process)) {
                fprintf (stderr, "it_cluster: %s exited (code %d) while starting\n",
                         self->children [i].name, th_process_status (process));
                return false;
            }
        }
        if (it_wait_actors (gateway, actors, 500))
            return true;
    }
    return false;
}

static void
s_print_logs (it_cluster_t *self)
{
    for (int i = 0; i < self->child_count; i++) {
        char *log = s_log_path (self, self->children [i].name);
        th_log_tail (log, 30);
        free (log);
    }
}

it_cluster_t *
it_cluster_start (int base_port, int actors, int gateways)
{
    CHECK (actors >= 1 && gateways >= 1 && actors + gateways + 2 <= IT_CHILDREN_MAX);
    it_cluster_t *self = calloc (1, sizeof *self);
    CHECK (self);
    self->base_port = base_port;
    if (it_cluster_parent_dir) {
        int length = snprintf (self->dir, sizeof self->dir, "%s/tally-it.XXXXXX",
                               it_cluster_parent_dir);
        CHECK (length > 0 && (size_t) length < sizeof self->dir);
        CHECK (mkdtemp (self->dir));
    } else
        th_dir_new (self->dir, sizeof self->dir, "tally-it");
    if (it_cluster_curve)
        s_make_keys (self);
    it_gateway_key = it_cluster_curve ? self->gateway_key : NULL;
    //  The CLI a test runs finds the key where a user's shell keeps it.
    if (it_gateway_key)
        setenv ("TALLY_GATEWAY_KEY", it_gateway_key, 1);
    else
        unsetenv ("TALLY_GATEWAY_KEY");
    CHECK (tly_account_generate (&self->worker) == 0);
    tly_account_id (self->worker.sign_pk, self->worker_id);
    char secret [TLY_SECRET_MAX];
    tly_account_secret (&self->worker, secret);
    setenv ("TALLY_WORKER_ACCOUNT", self->worker_id, 1);
    setenv ("TALLY_WORKER_SECRET", secret, 1);

    char *frontend = s_own (self, s_format ("tcp://127.0.0.1:%d", base_port + 1));
    char *backend = s_own (self, s_format ("tcp://127.0.0.1:%d", base_port + 2));
    char *audit = s_own (self, s_format ("tcp://127.0.0.1:%d", base_port + 3));
    char *bus_in = s_own (self, s_format ("tcp://127.0.0.1:%d", base_port + 4));
    self->backend = backend;
    self->audit = audit;
    self->bus_in = bus_in;
    char *bus_out = s_own (self, s_format ("tcp://127.0.0.1:%d", base_port + 5));

    it_child_t *child = s_add (self, "audit");
    char **argv = child->argv;
    int argc = 0;
    argv [argc++] = TALLY_AUDIT_BIN;
    argv [argc++] = "--data-dir";
    argv [argc++] = s_own (self, s_format ("%s/audit", self->dir));
    argv [argc++] = "--bind";
    argv [argc++] = audit;
    argc = s_curve_args (self, argv, argc, "audit");
    for (int extra = 0; it_audit_extra_args && it_audit_extra_args [extra]; extra++) {
        CHECK (argc + 2 < (int) (sizeof child->argv / sizeof child->argv [0]));
        argv [argc++] = (char *) it_audit_extra_args [extra];
    }

    child = s_add (self, "router");
    argv = child->argv;
    argc = 0;
    argv [argc++] = TALLY_ROUTER_BIN;
    argv [argc++] = "--data-dir";
    argv [argc++] = s_own (self, s_format ("%s/router", self->dir));
    argv [argc++] = "--frontend";
    argv [argc++] = frontend;
    argv [argc++] = "--backend";
    argv [argc++] = backend;
    argv [argc++] = "--bus-in";
    argv [argc++] = bus_in;
    argv [argc++] = "--bus-out";
    argv [argc++] = bus_out;
    argc = s_curve_args (self, argv, argc, "router");

    for (int i = 1; i <= actors; i++) {
        char name [32];
        snprintf (name, sizeof name, "balance-%d", i);
        s_actor_args (self, s_add (self, name), name);
    }
    for (int i = 1; i <= gateways; i++) {
        char name [32];
        snprintf (name, sizeof name, "gateway-%d", i);
        child = s_add (self, name);
        char endpoint [64];
        it_gateway_endpoint (self, i, endpoint, sizeof endpoint);
        argv = child->argv;
        argc = 0;
        argv [argc++] = TALLY_GATEWAY_BIN;
        argv [argc++] = "--bind";
        argv [argc++] = s_own (self, strdup (endpoint));
        argv [argc++] = "--router";
        argv [argc++] = frontend;
        argv [argc++] = "--bus";
        argv [argc++] = bus_out;
        argc = s_curve_args (self, argv, argc, "gateway");
        for (int extra = 0; it_gateway_extra_args && it_gateway_extra_args [extra]; extra++) {
            CHECK (argc < 38);
            argv [argc++] = (char *) it_gateway_extra_args [extra];
        }
    }
    it_gateway_endpoint (self, 1, self->gateway, sizeof self->gateway);
    if (it_cluster_prepare)
        it_cluster_prepare (self);
    for (int i = 0; i < self->child_count; i++)
        s_start_child (self, &self->children [i]);
    for (int i = 1; i <= gateways; i++) {
        char endpoint [64];
        it_gateway_endpoint (self, i, endpoint, sizeof endpoint);
        if (!s_wait_cluster_ready (self, endpoint, (uint32_t) actors, 15000)) {
            s_print_logs (self);
            th_fail (__FILE__, __LINE__, "cluster at %s not ready within 15 s", endpoint);
        }
    }
    return self;
}

void
it_cluster_kill (it_cluster_t *self, const char *name, int sig)
{
    it_child_t *child = s_find (self, name);
    th_process_kill (child->process, sig);
    child->killed = true;
}

void
it_cluster_add_actor (it_cluster_t *self, const char *name)
{
    it_child_t *child = NULL;
    for (int i = 0; i < self->child_count && !child; i++)
        if (self->children [i].removed)
            child = &self->children [i];
    if (child) {
        th_process_destroy (&child->process);
        memset (child, 0, sizeof *child);
        snprintf (child->name, sizeof child->name, "%s", name);
    } else
        child = s_add (self, name);
    s_actor_args (self, child, name);
    s_start_child (self, child);
}

int
it_cluster_remove (it_cluster_t *self, const char *name)
{
    it_child_t *child = s_find (self, name);
    int code = th_process_kill (child->process, SIGTERM);
    child->killed = true;
    child->removed = true;
    return code;
}

void
it_cluster_restart (it_cluster_t *self, const char *name)
{
    it_child_t *child = s_find (self, name);
    CHECK (!th_process_running (child->process));
    s_start_child (self, child);
}

//  Frees what the cluster holds (its processes must have ended).
static void
s_free (it_cluster_t *self)
{
    for (int i = 0; i < self->child_count; i++)
        th_process_destroy (&self->children [i].process);
    for (int i = 0; i < self->owned_count; i++)
        free (self->owned [i]);
    free (self->owned);
    free (self);
}

void
it_cluster_abandon (it_cluster_t **self_p)
{
    CHECK (self_p);
    it_cluster_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->child_count; i++)
        if (self->children [i].process && th_process_running (self->children [i].process))
            th_process_kill (self->children [i].process, SIGKILL);
    s_free (self);
    *self_p = NULL;
}

void
it_cluster_stop (it_cluster_t **self_p)
{
    CHECK (self_p);
    it_cluster_t *self = *self_p;
    if (!self)
        return;
    bool clean = true;
    //  Gateways first, the journal last: the reverse of the data flow.
    for (int i = self->child_count - 1; i >= 0; i--) {
        it_child_t *child = &self->children [i];
        if (!child->process || child->killed)
            continue;
        //  One that ended on its own is reported by its exit code.
        int code = th_process_running (child->process)
                       ? th_process_stop (child->process, TH_DEADLINE_MS)
                       : th_process_status (child->process);
        if (code != 0) {
            fprintf (stderr, "it_cluster: %s did not exit cleanly (code %d)\n", child->name, code);
            clean = false;
        }
    }
    if (!clean)
        s_print_logs (self);
    CHECK (clean);
    if (it_cluster_release)
        it_cluster_release (self);
    th_dir_remove (self->dir);
    s_free (self);
    *self_p = NULL;
}

void
it_cluster_faults (it_cluster_t *self, const char *name, const char *spec)
{
    //  Written whole under another name, then renamed over: a child never
    //  reads half of it.
    char *path = s_format ("%s/%s.faults", self->dir, name);
    char *temporary = s_format ("%s.new", path);
    FILE *file = fopen (temporary, "w");
    CHECK (file);
    CHECK (fputs (spec, file) != EOF);
    CHECK (fclose (file) == 0);
    CHECK (rename (temporary, path) == 0);
    free (temporary);
    free (path);
}

th_process_t *
it_cluster_process (it_cluster_t *self, const char *name)
{
    return s_find (self, name)->process;
}

int
it_run_cli (const char *bin, char *const args [], int timeout_ms)
{
    char *argv [16] = { (char *) bin };
    printf ("$ %s", bin);
    for (size_t at = 0; args [at]; at++) {
        CHECK (at + 2 < sizeof argv / sizeof argv [0]);
        argv [at + 1] = args [at];
        printf (" %s", args [at]);
    }
    printf ("\n");
    return th_run (argv, NULL, TH_OUTPUT_INHERIT, NULL, timeout_ms);
}

void
it_check_journal (it_cluster_t *self, const char *const actors [], int timeout_ms)
{
    char journal [512];
    snprintf (journal, sizeof journal, "%s/audit/journal", self->dir);
    char *verify [] = {
        "audit", "verify", "--journal", journal, "--worker", self->worker_id, NULL
    };
    CHECK (it_run_cli (TALLY_CLI_BIN, verify, timeout_ms) == 0);
    char dirs [4][512];
    char *replay [14] = { "audit", "replay", "--compare", "--journal", journal };
    size_t argc = 5;
    for (size_t i = 0; actors [i]; i++) {
        CHECK (i < 4);
        snprintf (dirs [i], sizeof dirs [i], "%s/%s/balance/%s", self->dir, actors [i], actors [i]);
        replay [argc++] = "--actors-dir";
        replay [argc++] = dirs [i];
    }
    replay [argc] = NULL;
    CHECK (it_run_cli (TALLY_CLI_BIN, replay, timeout_ms) == 0);
}

int
it_logged (it_cluster_t *self, const char *name, const char *text)
{
    char path [512];
    snprintf (path, sizeof path, "%s/%s.log", self->dir, name);
    FILE *file = fopen (path, "r");
    CHECK (file);
    char line [4096];
    int found = 0;
    while (fgets (line, sizeof line, file))
        found += strstr (line, text) != NULL;
    fclose (file);
    return found;
}
