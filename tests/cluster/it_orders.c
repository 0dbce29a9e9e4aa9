//  it_orders - the order processor (tally-orders) against a real cluster
//  and the fake payment service (fake_charge.mjs), docs/architecture.md
//  "Orders". Two cases:
//
//  flow   One order of each kind, watched live: ok (draft, processing,
//         completed; debited once, a purchase per line), fail (failed with
//         "card declined", the hold released), flaky (500, 500, then 200:
//         completed, one charge), hang (no answer: failed after --attempts
//         with a void sent), slow (the user may neither complete nor fail
//         their own order meanwhile), deadline (an order left processing
//         past --deadline-ms while no processor ran: failed, "deadline
//         passed", never charged). Every balance's held ends at 0.
//  crash  Many orders of every kind from many users while the processor is
//         killed (SIGKILL) at random points and started again: every order
//         ends completed or failed; the service saw one successful charge
//         for each completed order and none standing (none, or voided) for
//         each failed one; every balance is its start less its completed
//         orders, held 0.
//  steps  The processor stopped (a fault point, `exit`: test builds only,
//         else the case exits 77, skipped) at each step of an order's
//         course in turn: before the charge, after a 2xx charge, with
//         completeOrder or failOrder sent, before a void. Each time the
//         order is still processing (or, once its message was sent,
//         possibly already final as that message says); restarted without
//         faults, it ends as its kind must with exactly one charge for a
//         completed order and none standing for a failed one, held 0.
//
//  All end with `tally audit verify` and `replay --compare`.
//  Usage: it_orders flow|crash|steps BASE_PORT (the fake service on BASE + 30)
#include <curl/curl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_client.h"
#include "it_cluster.h"
#include "tally.h"
#include "tly_fault.h"

#define S_COMMAND_MS  60000
#define S_ORDERS_MAX  256
#define S_USERS_MAX   32
#define S_INITIAL     100
#define S_FINAL_MS    60000  //  every order final within this, after the last restart
#define S_ITEM_AMOUNT 2

typedef struct {
    char id [TLY_ID_MAX];
    int user;
    const char *kind;  //  the first item's prefix: ok, fail, flaky, hang, slow
    int64_t total;
    Tally__OrderStatus status;  //  the latest version seen
    bool saw_draft, saw_processing;
    char error [TLY_ORDER_ERROR_MAX + 1];
    size_t purchases;
} s_order_t;

typedef struct {
    it_user_t user;
    tly_sender_t *sender;
    char balance_id [TLY_ID_MAX];
    int64_t balance, held;  //  the UserBalance's latest version
    int64_t spent;          //  the totals of their completed orders
} s_user_t;

typedef struct {
    it_cluster_t *cluster;
    th_process_t *service;
    th_process_t *processor;
    char service_base [64];
    char service_url [128];   //  the processor's --service-url
    const char *deadline_ms;  //  the processor's --deadline-ms (NULL: its default)
    const char *faults;       //  the processor's TALLY_FAULTS (NULL: none)
    tly_watcher_t *watcher;   //  the users' objects, read as the worker
    s_user_t users [S_USERS_MAX];
    int user_count;
    s_order_t orders [S_ORDERS_MAX];
    int order_count;
} s_test_t;

//  ---------------------------------------------------------------- the service

typedef struct {
    char text [65536];
    size_t used;
} s_body_t;

static size_t
s_on_body (char *data, size_t size, size_t count, void *arg)
{
    s_body_t *body = arg;
    size_t bytes = size * count;
    if (body->used + bytes < sizeof body->text) {
        memcpy (body->text + body->used, data, bytes);
        body->used += bytes;
        body->text [body->used] = 0;
    }
    return bytes;
}

//  GET path from the fake service; -1 when it does not answer 200.
static int
s_get (s_test_t *test, const char *path, s_body_t *body)
{
    char url [256];
    snprintf (url, sizeof url, "%s%s", test->service_base, path);
    body->used = 0;
    body->text [0] = 0;
    CURL *easy = curl_easy_init ();
    CHECK (easy);
    curl_easy_setopt (easy, CURLOPT_URL, url);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, body);
    long status = 0;
    CURLcode code = curl_easy_perform (easy);
    if (code == CURLE_OK)
        curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup (easy);
    return code == CURLE_OK && status == 200 ? 0 : -1;
}

static int64_t
s_field (const s_body_t *body, const char *name)
{
    char key [64];
    snprintf (key, sizeof key, "\"%s\":", name);
    const char *at = strstr (body->text, key);
    CHECK (at);
    return strtoll (at + strlen (key), NULL, 10);
}

typedef struct {
    int64_t requests, charges, voids;
} s_counts_t;

static s_counts_t
s_counts (s_test_t *test, const char *key)
{
    char path [128];
    snprintf (path, sizeof path, "/count?key=%s", key);
    s_body_t *body = malloc (sizeof *body);
    CHECK (body && s_get (test, path, body) == 0);
    s_counts_t counts = { s_field (body, "requests"), s_field (body, "charges"),
                          s_field (body, "voids") };
    free (body);
    return counts;
}

static int64_t
s_total_requests (s_test_t *test)
{
    s_body_t *body = malloc (sizeof *body);
    CHECK (body && s_get (test, "/total", body) == 0);
    int64_t requests = s_field (body, "requests");
    free (body);
    return requests;
}

static void
s_start_service (s_test_t *test, int port, const char *slow_ms)
{
    snprintf (test->service_base, sizeof test->service_base, "http://127.0.0.1:%d", port);
    char port_text [16];
    snprintf (port_text, sizeof port_text, "%d", port);
    //  env finds node in $PATH and becomes it (the harness runs a path).
    char *argv [] = { "/usr/bin/env", "node",      TALLY_FAKE_CHARGE, "--port",
                      port_text,      "--slow-ms", (char *) slow_ms,  NULL };
    test->service = th_process_new ("fake_charge", argv);
    char log [400];
    snprintf (log, sizeof log, "%s/fake_charge.log", test->cluster->dir);
    th_process_set_log (test->service, log);
    th_process_start (test->service);
    s_body_t *body = malloc (sizeof *body);
    CHECK (body);
    TH_WAIT_UNTIL (s_get (test, "/total", body) == 0, TH_DEADLINE_MS,
                   CHECK (th_process_running (test->service)));
    free (body);
}

//  ---------------------------------------------------------------- the processor

//  A tally-orders process runs as the worker, logging to DIR/<log>.log.
static void
s_worker_env (s_test_t *test, th_process_t *process, const char *log_name)
{
    char log [400], account [TLY_ID_MAX + 32], secret [TLY_SECRET_MAX + 32];
    snprintf (log, sizeof log, "%s/%s.log", test->cluster->dir, log_name);
    th_process_set_log (process, log);
    snprintf (account, sizeof account, TLY_ENV_WORKER_ACCOUNT "=%s", test->cluster->worker_id);
    char text [TLY_SECRET_MAX];
    tly_account_secret (&test->cluster->worker, text);
    snprintf (secret, sizeof secret, TLY_ENV_WORKER_SECRET "=%s", text);
    th_process_set_env (process, account);
    th_process_set_env (process, secret);
}

static void
s_start_processor (s_test_t *test, const char *timeout_ms, const char *attempts)
{
    if (!test->processor) {
        snprintf (test->service_url, sizeof test->service_url, "%s/charge", test->service_base);
        char *argv [] = { TALLY_ORDERS_BIN,
                          "--gateway",
                          test->cluster->gateway,
                          "--service-url",
                          test->service_url,
                          "--timeout-ms",
                          (char *) timeout_ms,
                          "--attempts",
                          (char *) attempts,
                          "--backoff-ms",
                          "50",
                          "--concurrency",
                          "8",
                          "--log-level",
                          "debug",
                          "--deadline-ms",
                          (char *) (test->deadline_ms ? test->deadline_ms : "300000"),
                          it_gateway_key ? "--gateway-key" : NULL,
                          (char *) it_gateway_key,
                          NULL };
        test->processor = th_process_new ("tally-orders", argv);
        s_worker_env (test, test->processor, "orders");
        if (test->faults) {
            char faults [128];
            snprintf (faults, sizeof faults, TLY_FAULTS_ENV "=%s", test->faults);
            th_process_set_env (test->processor, faults);
        }
    }
    th_process_start (test->processor);
}

//  ---------------------------------------------------------------- watching

static void
s_on_order (const tly_object_t *object, void *arg)
{
    s_order_t *order = arg;
    CHECK (!object->ended && object->kind == TLY_OBJ_ORDER);
    order->status = object->order.status;
    order->saw_draft |= order->status == TALLY__ORDER_STATUS__ORDER_DRAFT;
    order->saw_processing |= order->status == TALLY__ORDER_STATUS__ORDER_PROCESSING;
    snprintf (order->error, sizeof order->error, "%s", object->order.error);
    order->purchases = object->order.purchase_count;
    order->total = object->order.total;
}

static void
s_on_balance (const tly_object_t *object, void *arg)
{
    s_user_t *user = arg;
    CHECK (!object->ended && object->kind == TLY_OBJ_BALANCE);
    user->balance = object->balance.balance;
    user->held = object->balance.held;
}

static void
s_pump (s_test_t *test)
{
    CHECK (tly_watcher_dispatch (test->watcher, 50) >= 0);
}

static s_user_t *
s_add_user (s_test_t *test)
{
    CHECK (test->user_count < S_USERS_MAX);
    s_user_t *user = &test->users [test->user_count++];
    it_user_new (&user->user);
    user->sender = it_sender (test->cluster->gateway, test->cluster->worker_id, &user->user);
    CHECK (it_create (user->sender, S_INITIAL).ok);
    tly_balance_id (user->user.account.sign_pk, TLY_PARTITIONS_DEFAULT, user->balance_id);
    CHECK (tly_watcher_subscribe (test->watcher, user->balance_id, s_on_balance, user,
                                  IT_SEND_TIMEOUT_MS)
           == 0);
    CHECK (user->balance == S_INITIAL && user->held == 0);
    return user;
}

//  Creates an order of two lines (kind-N and ok-N), follows it, submits it.
static s_order_t *
s_order (s_test_t *test, int user_index, const char *kind)
{
    CHECK (test->order_count < S_ORDERS_MAX);
    s_user_t *user = &test->users [user_index];
    s_order_t *order = &test->orders [test->order_count];
    order->user = user_index;
    order->kind = kind;
    tly_order_item_t items [2] = { { "", S_ITEM_AMOUNT }, { "", 1 } };
    snprintf (items [0].item_id, sizeof items [0].item_id, "%s-%d", kind, test->order_count);
    snprintf (items [1].item_id, sizeof items [1].item_id, "ok-line-%d", test->order_count);
    test->order_count++;
    tly_msg_t msg;
    tly_error_t error;
    CHECK (tly_msg_create_order (&msg, items, 2, &error) == 0);
    tly_result_t created = it_send (user->sender, &msg);
    CHECK (created.ok && created.kind == TLY_RESULT_ORDER);
    CHECK (created.order.status == TALLY__ORDER_STATUS__ORDER_DRAFT);
    CHECK (created.order.total == S_ITEM_AMOUNT + 1);
    snprintf (order->id, sizeof order->id, "%s", created.order.id);
    CHECK (tly_watcher_subscribe (test->watcher, order->id, s_on_order, order, IT_SEND_TIMEOUT_MS)
           == 0);
    CHECK (tly_msg_submit_order (&msg, order->id, &error) == 0);
    tly_result_t submitted = it_send (user->sender, &msg);
    CHECK (submitted.ok && submitted.order.status == TALLY__ORDER_STATUS__ORDER_PROCESSING);
    return order;
}

static bool
s_final (const s_order_t *order)
{
    return order->status == TALLY__ORDER_STATUS__ORDER_COMPLETED
           || order->status == TALLY__ORDER_STATUS__ORDER_FAILED;
}

static int
s_final_count (s_test_t *test)
{
    int final = 0;
    for (int i = 0; i < test->order_count; i++)
        final += s_final (&test->orders [i]);
    return final;
}

//  Every order against the service's counts and every balance against the
//  orders: at most one successful charge per order, none standing for a
//  failed one, held 0.
static void
s_check_all (s_test_t *test)
{
    for (int i = 0; i < test->user_count; i++)
        test->users [i].spent = 0;
    for (int i = 0; i < test->order_count; i++) {
        s_order_t *order = &test->orders [i];
        s_counts_t counts = s_counts (test, order->id);
        th_step ("order %s %s: status %d requests %" PRId64 " charges %" PRId64 " voids %" PRId64
                 " error '%s'",
                 order->kind, order->id, (int) order->status, counts.requests, counts.charges,
                 counts.voids, order->error);
        CHECK (s_final (order));
        CHECK (counts.charges <= 1);
        if (order->status == TALLY__ORDER_STATUS__ORDER_COMPLETED) {
            CHECK (counts.charges == 1 && counts.voids == 0);
            CHECK (order->purchases == 2);
            test->users [order->user].spent += order->total;
        } else
            CHECK (counts.charges == 0 || counts.voids > 0);
        //  What each kind must become, whatever crashed.
        if (strcmp (order->kind, "fail") == 0)
            CHECK (order->status == TALLY__ORDER_STATUS__ORDER_FAILED
                   && strcmp (order->error, "card declined") == 0);
        if (strcmp (order->kind, "hang") == 0)
            CHECK (order->status == TALLY__ORDER_STATUS__ORDER_FAILED && counts.voids > 0
                   && counts.charges == 0);
    }
    for (int i = 0; i < test->user_count; i++) {
        s_user_t *user = &test->users [i];
        TH_WAIT_UNTIL (user->balance == S_INITIAL - user->spent && user->held == 0, TH_DEADLINE_MS,
                       s_pump (test));
    }
}

static void
s_check_journal (s_test_t *test)
{
    const char *actors [] = { "balance-1", "balance-2", NULL };
    it_check_journal (test->cluster, actors, S_COMMAND_MS);
}

static void
s_setup (s_test_t *test, int base_port, const char *slow_ms)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    test->cluster = it_cluster_start (base_port, 2, 1);
    it_user_t worker = { .account = test->cluster->worker };
    snprintf (worker.id, sizeof worker.id, "%s", test->cluster->worker_id);
    test->watcher = tly_watcher_new_curve (test->cluster->gateway, it_gateway_key,
                                           test->cluster->worker_id, &worker.account);
    CHECK (test->watcher);
    s_start_service (test, base_port + 30, slow_ms);
}

static void
s_teardown (s_test_t *test)
{
    if (test->processor) {
        CHECK (th_process_stop (test->processor, TH_DEADLINE_MS) == 0);
        th_process_destroy (&test->processor);
    }
    th_process_stop (test->service, TH_DEADLINE_MS);
    th_process_destroy (&test->service);
    tly_watcher_destroy (&test->watcher);
    for (int i = 0; i < test->user_count; i++)
        tly_sender_destroy (&test->users [i].sender);
    it_cluster_stop (&test->cluster);
    curl_global_cleanup ();
}

//  ---------------------------------------------------------------- cases

static void
s_flow (s_test_t *test)
{
    s_start_processor (test, "2000", "3");
    s_add_user (test);
    s_user_t *alice = &test->users [0];

    th_step ("ok: draft, processing, completed; debited once, a purchase per line");
    s_order_t *ok = s_order (test, 0, "ok");
    TH_WAIT_UNTIL (s_final (ok), TH_DEADLINE_MS, s_pump (test));
    CHECK (ok->saw_draft && ok->saw_processing);
    CHECK (ok->status == TALLY__ORDER_STATUS__ORDER_COMPLETED && ok->purchases == 2);
    TH_WAIT_UNTIL (alice->balance == S_INITIAL - 3 && alice->held == 0, TH_DEADLINE_MS,
                   s_pump (test));
    s_counts_t counts = s_counts (test, ok->id);
    CHECK (counts.requests == 1 && counts.charges == 1 && counts.voids == 0);

    th_step ("fail: failed with the service's error, the hold released");
    s_order_t *fail = s_order (test, 0, "fail");
    TH_WAIT_UNTIL (s_final (fail), TH_DEADLINE_MS, s_pump (test));
    CHECK (fail->status == TALLY__ORDER_STATUS__ORDER_FAILED);
    CHECK (strcmp (fail->error, "card declined") == 0);
    TH_WAIT_UNTIL (alice->balance == S_INITIAL - 3 && alice->held == 0, TH_DEADLINE_MS,
                   s_pump (test));
    counts = s_counts (test, fail->id);
    CHECK (counts.requests == 1 && counts.charges == 0);

    th_step ("flaky: 500, 500, 200: completed with one charge");
    s_order_t *flaky = s_order (test, 0, "flaky");
    TH_WAIT_UNTIL (s_final (flaky), TH_DEADLINE_MS, s_pump (test));
    CHECK (flaky->status == TALLY__ORDER_STATUS__ORDER_COMPLETED);
    counts = s_counts (test, flaky->id);
    CHECK (counts.requests == 3 && counts.charges == 1 && counts.voids == 0);
    TH_WAIT_UNTIL (alice->balance == S_INITIAL - 6 && alice->held == 0, TH_DEADLINE_MS,
                   s_pump (test));

    th_step ("hang: no answer, 3 attempts, a void, then failed");
    s_order_t *hang = s_order (test, 0, "hang");
    TH_WAIT_UNTIL (hang->status == TALLY__ORDER_STATUS__ORDER_PROCESSING, TH_DEADLINE_MS,
                   s_pump (test));
    TH_WAIT_UNTIL (s_final (hang), TH_DEADLINE_MS, s_pump (test));
    CHECK (hang->status == TALLY__ORDER_STATUS__ORDER_FAILED);
    CHECK (strncmp (hang->error, "payment service unavailable: ", 29) == 0);
    counts = s_counts (test, hang->id);
    CHECK (counts.requests == 3 && counts.charges == 0 && counts.voids >= 1);
    TH_WAIT_UNTIL (alice->balance == S_INITIAL - 6 && alice->held == 0, TH_DEADLINE_MS,
                   s_pump (test));
    CHECK (it_logged (test->cluster, "orders", "event=order.voided") >= 1);

    th_step ("a shard past the cluster's partitions: an error line at start, no queue");
    char *wide_argv [] = { TALLY_ORDERS_BIN,
                           "--gateway",
                           test->cluster->gateway,
                           "--service-url",
                           test->service_url,
                           "--shard",
                           "300/512",
                           it_gateway_key ? "--gateway-key" : NULL,
                           (char *) it_gateway_key,
                           NULL };
    th_process_t *wide = th_process_new ("tally-orders-wide", wide_argv);
    s_worker_env (test, wide, "orders-wide");
    th_process_start (wide);
    TH_WAIT_UNTIL (it_logged (test->cluster, "orders-wide", "event=orders.start") == 1,
                   TH_DEADLINE_MS, s_pump (test));
    CHECK (it_logged (test->cluster, "orders-wide",
                      "event=orders.shard_too_wide shard=300/512 partitions=")
           == 1);
    CHECK (it_logged (test->cluster, "orders-wide", "queues=0") == 2);
    CHECK (th_process_stop (wide, TH_DEADLINE_MS) == 0);
    th_process_destroy (&wide);

    th_step ("slow: its user may neither complete nor fail it meanwhile");
    s_order_t *slow = s_order (test, 0, "slow");
    tly_msg_t msg;
    tly_error_t error;
    CHECK (tly_msg_complete_order (&msg, slow->id, &error) == 0);
    it_expect_error (it_send (alice->sender, &msg), TALLY__ERROR_CODE__PERMISSION_DENIED, NULL);
    CHECK (tly_msg_fail_order (&msg, slow->id, "changed my mind", &error) == 0);
    it_expect_error (it_send (alice->sender, &msg), TALLY__ERROR_CODE__PERMISSION_DENIED, NULL);
    TH_WAIT_UNTIL (s_final (slow), TH_DEADLINE_MS, s_pump (test));
    CHECK (slow->status == TALLY__ORDER_STATUS__ORDER_COMPLETED);
    //  Once final, the worker's own repeat is refused and changes nothing.
    it_user_t worker = { .account = test->cluster->worker };
    tly_sender_t *w = it_sender (test->cluster->gateway, test->cluster->worker_id, &worker);
    CHECK (tly_msg_fail_order (&msg, slow->id, "too late", &error) == 0);
    it_expect_error (it_send (w, &msg), TALLY__ERROR_CODE__INVALID_TRANSITION, NULL);
    tly_sender_destroy (&w);

    th_step ("deadline: an order left processing past it while no processor ran is failed"
             " with no charge, its hold released");
    CHECK (th_process_stop (test->processor, TH_DEADLINE_MS) == 0);
    th_process_destroy (&test->processor);
    //  A deadline of 1 ms: past by the time a processor has started, with
    //  no wait here for time to pass.
    test->deadline_ms = "1";
    s_order_t *late = s_order (test, 0, "ok");
    TH_WAIT_UNTIL (late->status == TALLY__ORDER_STATUS__ORDER_PROCESSING, TH_DEADLINE_MS,
                   s_pump (test));
    s_start_processor (test, "2000", "3");
    TH_WAIT_UNTIL (s_final (late), TH_DEADLINE_MS, s_pump (test));
    CHECK (late->status == TALLY__ORDER_STATUS__ORDER_FAILED);
    CHECK (strcmp (late->error, "deadline passed") == 0);
    counts = s_counts (test, late->id);
    CHECK (counts.charges == 0);
    TH_WAIT_UNTIL (alice->held == 0, TH_DEADLINE_MS, s_pump (test));

    s_check_all (test);
}

static const char *s_kinds [] = { "ok", "ok", "fail", "flaky", "slow", "hang", "ok" };

static void
s_crash (s_test_t *test)
{
    uint64_t rng = 0x6f72646572730001ULL;
    if (getenv ("IT_ORDERS_SEED"))
        rng = strtoull (getenv ("IT_ORDERS_SEED"), NULL, 0);
    const uint64_t seed = rng;
    th_step ("seed %#" PRIx64, rng);
    const int users = 16, per_user = 9, restarts = 5;
    for (int i = 0; i < users; i++)
        s_add_user (test);
    s_start_processor (test, "1000", "3");
    //  Orders arrive in waves while the processor is killed at random
    //  points: when the service has seen a random number more requests.
    int next = 0;
    const int total = users * per_user;
    for (int restart = 0; restart < restarts; restart++) {
        int wave = total / restarts + (restart < total % restarts);
        for (int i = 0; i < wave; i++, next++)
            s_order (test, next % users, s_kinds [th_rng_below (&rng, 7)]);
        int64_t target = s_total_requests (test) + 1 + (int64_t) th_rng_below (&rng, 12);
        TH_WAIT_UNTIL (s_total_requests (test) >= target
                           || s_final_count (test) == test->order_count,
                       TH_DEADLINE_MS, s_pump (test));
        th_step ("kill -9 tally-orders (restart %d of %d, %d of %d final)", restart + 1, restarts,
                 s_final_count (test), test->order_count);
        th_process_kill (test->processor, SIGKILL);
        s_start_processor (test, "1000", "3");
    }
    TH_WAIT_UNTIL (s_final_count (test) == test->order_count, S_FINAL_MS, s_pump (test));
    s_check_all (test);
    int completed = 0;
    int64_t requests = 0, charges = 0, voided = 0;
    for (int i = 0; i < test->order_count; i++) {
        completed += test->orders [i].status == TALLY__ORDER_STATUS__ORDER_COMPLETED;
        s_counts_t counts = s_counts (test, test->orders [i].id);
        requests += counts.requests;
        charges += counts.charges;
        voided += counts.voids > 0;
    }
    //  The run's figures, always printed (docs/architecture.md "Orders").
    printf ("it_orders crash: seed %#" PRIx64 ": %d orders, %d kill -9 of the processor: %d"
            " completed, %d failed; the service saw %" PRId64 " requests, %" PRId64
            " successful charges, %" PRId64 " orders with a void\n",
            seed, test->order_count, restarts, completed, test->order_count - completed, requests,
            charges, voided);
}

//  One step of an order's course, the order that reaches it, and what the
//  order may be when the processor stops there: processing only, unless the
//  message that makes it final was already sent (completing, failing),
//  when it may be final as that message says, and nothing else.
typedef struct {
    const char *point;
    const char *kind;
    const char *timeout_ms, *attempts;
    Tally__OrderStatus sent;  //  the final status the step's message asks for
    Tally__OrderStatus final;
} s_step_t;

static const s_step_t s_steps_table [] = {
    { "orders.charge", "ok", "2000", "3", TALLY__ORDER_STATUS__ORDER_PROCESSING,
      TALLY__ORDER_STATUS__ORDER_COMPLETED },
    { "orders.charged", "ok", "2000", "3", TALLY__ORDER_STATUS__ORDER_PROCESSING,
      TALLY__ORDER_STATUS__ORDER_COMPLETED },
    { "orders.completing", "ok", "2000", "3", TALLY__ORDER_STATUS__ORDER_COMPLETED,
      TALLY__ORDER_STATUS__ORDER_COMPLETED },
    { "orders.failing", "fail", "2000", "3", TALLY__ORDER_STATUS__ORDER_FAILED,
      TALLY__ORDER_STATUS__ORDER_FAILED },
    { "orders.void", "hang", "300", "2", TALLY__ORDER_STATUS__ORDER_PROCESSING,
      TALLY__ORDER_STATUS__ORDER_FAILED },
};

//  Starts the processor and waits until it runs its loop: a SIGTERM sent
//  sooner may reach the child before it becomes tally-orders (the test's
//  own handler takes it there) and be lost, and th_process_stop would wait
//  in vain; the steps case stops processors that had nothing to do.
static void
s_start_running (s_test_t *test, const char *timeout_ms, const char *attempts)
{
    int starts = it_logged (test->cluster, "orders", "event=orders.start");
    s_start_processor (test, timeout_ms, attempts);
    TH_WAIT_UNTIL (it_logged (test->cluster, "orders", "event=orders.start") > starts,
                   TH_DEADLINE_MS, CHECK (th_process_running (test->processor)));
}

static void
s_steps (s_test_t *test)
{
    s_user_t *user = s_add_user (test);
    size_t steps = sizeof s_steps_table / sizeof s_steps_table [0];
    for (size_t i = 0; i < steps; i++) {
        const s_step_t *step = &s_steps_table [i];
        char faults [64];
        snprintf (faults, sizeof faults, "%s=exit@1", step->point);
        th_step ("%s: a %s order, the processor armed with %s", step->point, step->kind, faults);
        test->faults = faults;
        s_start_processor (test, step->timeout_ms, step->attempts);
        s_order_t *order = s_order (test, 0, step->kind);
        TH_WAIT_UNTIL (!th_process_running (test->processor), TH_DEADLINE_MS, s_pump (test));
        CHECK (th_process_status (test->processor) == TLY_FAULT_EXIT);
        CHECK (it_logged (test->cluster, "orders", "event=fault.injected") == (int) i + 1);
        th_process_destroy (&test->processor);
        //  A fresh read: the order as the cluster has it now, not as the
        //  watcher last delivered it.
        tly_watcher_unsubscribe (test->watcher, order->id, IT_SEND_TIMEOUT_MS);
        CHECK (
            tly_watcher_subscribe (test->watcher, order->id, s_on_order, order, IT_SEND_TIMEOUT_MS)
            == 0);
        Tally__OrderStatus at_crash = order->status;
        s_counts_t crashed = s_counts (test, order->id);
        th_step ("%s: stopped (%d) with the order in status %d; the service saw %" PRId64
                 " requests, %" PRId64 " charges, %" PRId64 " voids",
                 step->point, TLY_FAULT_EXIT, (int) at_crash, crashed.requests, crashed.charges,
                 crashed.voids);
        CHECK (at_crash == TALLY__ORDER_STATUS__ORDER_PROCESSING || at_crash == step->sent);
        //  Where the process stopped, as the service saw it.
        if (strcmp (step->point, "orders.charge") == 0)
            CHECK (crashed.requests == 0);
        else if (strcmp (step->point, "orders.void") == 0)
            CHECK (crashed.requests == atoi (step->attempts) && crashed.charges == 0
                   && crashed.voids == 0);
        else if (strcmp (step->kind, "ok") == 0)
            CHECK (crashed.requests == 1 && crashed.charges == 1);
        else
            CHECK (crashed.requests == 1 && crashed.charges == 0);

        th_step ("%s: restarted without faults", step->point);
        test->faults = NULL;
        s_start_running (test, step->timeout_ms, step->attempts);
        TH_WAIT_UNTIL (s_final (order), TH_DEADLINE_MS, s_pump (test));
        s_counts_t counts = s_counts (test, order->id);
        th_step ("%s: final status %d error '%s'; the service saw %" PRId64 " requests, %" PRId64
                 " charges, %" PRId64 " voids",
                 step->point, (int) order->status, order->error, counts.requests, counts.charges,
                 counts.voids);
        printf ("it_orders steps: %s: at the stop %s, then %s; requests %" PRId64
                ", charges %" PRId64 ", voids %" PRId64 "\n",
                step->point,
                at_crash == TALLY__ORDER_STATUS__ORDER_PROCESSING ? "processing" : "final",
                order->status == TALLY__ORDER_STATUS__ORDER_COMPLETED ? "completed" : "failed",
                counts.requests, counts.charges, counts.voids);
        CHECK (order->status == step->final);
        if (step->final == TALLY__ORDER_STATUS__ORDER_COMPLETED)
            CHECK (counts.charges == 1 && counts.voids == 0 && order->purchases == 2);
        else if (strcmp (step->kind, "fail") == 0)
            CHECK (counts.charges == 0 && strcmp (order->error, "card declined") == 0);
        else
            CHECK (counts.charges == 0 && counts.voids >= 1
                   && strncmp (order->error, "payment service unavailable: ", 29) == 0);
        TH_WAIT_UNTIL (user->held == 0, TH_DEADLINE_MS, s_pump (test));
        CHECK (th_process_stop (test->processor, TH_DEADLINE_MS) == 0);
        th_process_destroy (&test->processor);
    }
    s_check_all (test);
    //  The journal check below stops a running processor.
    s_start_running (test, "2000", "3");
}

int
main (int argc, char **argv)
{
    if (argc != 3
        || (strcmp (argv [1], "flow") != 0 && strcmp (argv [1], "crash") != 0
            && strcmp (argv [1], "steps") != 0)) {
        fprintf (stderr, "usage: it_orders flow|crash|steps BASE_PORT\n");
        return 2;
    }
#if !defined(TLY_FAULTS_BUILD)
    if (strcmp (argv [1], "steps") == 0) {
        fprintf (stderr, "it_orders steps: needs the fault points (-DTALLY_FAULTS=ON): skipped\n");
        return 77;
    }
#endif
    s_test_t *test = calloc (1, sizeof *test);
    CHECK (test);
    //  flow: slow orders take 1.5 s, within the processor's 2 s timeout;
    //  crash: 0.5 s, within 1 s.
    bool flow = strcmp (argv [1], "flow") == 0;
    s_setup (test, atoi (argv [2]), flow ? "1500" : "500");
    if (flow)
        s_flow (test);
    else if (strcmp (argv [1], "crash") == 0)
        s_crash (test);
    else
        s_steps (test);
    //  The processor stops cleanly on SIGTERM; the journal agrees with the actors.
    CHECK (th_process_stop (test->processor, TH_DEADLINE_MS) == 0);
    th_process_destroy (&test->processor);
    s_check_journal (test);
    s_teardown (test);
    free (test);
    return 0;
}
