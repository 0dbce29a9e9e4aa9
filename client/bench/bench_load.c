//  bench_load - the clients of `tally bench`: each its own connection with one
//  signed envelope in flight, driven by one epoll loop per thread through
//  libtally's tly_sender_post / tly_sender_collect.
#include "bench.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cli.h"

//  One client: its users' senders and the one envelope it has in flight.
typedef struct {
    const bench_plan_t *plan;
    int64_t end_us;        //  a --duration run sends no envelope from here on; 0: by count
    int64_t next_us;       //  --rate: its next envelope goes no earlier than this
    int64_t gap_us;        //  --rate: between two of its envelopes
    bench_user_t **users;  //  the users this client sends for
    int user_count;
    tly_sender_t **senders;  //  [user_count]
    int64_t sent;            //  buys sent so far
    int64_t round;           //  envelopes sent so far
    int current;             //  user of the envelope in flight, -1 when idle
    uint64_t request_id;
    tly_msg_t *msgs;  //  [plan->batch]: the envelope in flight, kept for a resend
    size_t n;         //  its messages
    int attempt;      //  posts of it so far
    int64_t start_us;
    int64_t deadline_us;
    bench_latency_t latency;
    int64_t ok;
    int64_t refused;  //  per-message errors
    int64_t failed;   //  whole envelopes without an answer
    int64_t resent;   //  posts after a timeout
    char first_error [TLY_ERROR_TEXT_MAX + 64];
} s_client_t;

//  A thread that drives a share of the clients from one epoll loop, so the
//  load generator spends its CPU on signing and not on thread switches or
//  on polling every idle socket.
typedef struct {
    s_client_t *clients;
    int count;
    tly_result_t *results;  //  [plan->batch]
    bench_load_t *load;
    //  What was answered since the reporter last took it (--duration).
    pthread_mutex_t lock;
    bench_hist_t interval;
    int64_t interval_ok, interval_errors;
} s_worker_t;

struct _bench_load_t {
    s_client_t *pool;
    int clients;
    s_worker_t *workers;
    int threads;
    pthread_t *handles;
    int running;  //  worker threads not yet finished (atomic)
    int64_t start_us;
};

//  One answered (or given up) envelope: its round trip, acknowledged buys
//  and refused or lost messages. A --duration run hands them to the
//  reporter through the worker's interval instead of keeping each sample.
static void
s_record (s_worker_t *worker, s_client_t *client, int64_t micros, int64_t ok, int64_t errors)
{
    if (!client->plan->duration_ms) {
        bench_latency_add (&client->latency, micros);
        return;
    }
    pthread_mutex_lock (&worker->lock);
    bench_hist_add (&worker->interval, micros);
    worker->interval_ok += ok;
    worker->interval_errors += errors;
    pthread_mutex_unlock (&worker->lock);
}

//  Whether the client sends another envelope, by count or by the clock.
static bool
s_client_more (s_client_t *client, int64_t now)
{
    if (client->end_us)
        return now < client->end_us;
    return client->sent < client->plan->buys;
}

static void
s_client_error (s_client_t *client, const char *name, const char *message)
{
    if (!*client->first_error)
        snprintf (client->first_error, sizeof client->first_error, "%s: %s", name, message);
}

//  Signs and posts the client's next envelope, if it has buys left. Its
//  message IDs are made here, when it is sent (tly_msg_buy draws a fresh
//  one), never ahead for the whole run: an ID must be young when it
//  arrives, however long the run.
static void
s_client_post (s_client_t *client)
{
    const bench_plan_t *plan = client->plan;
    while (s_client_more (client, zclock_usecs ())) {
        int u = (int) (client->round++ % client->user_count);
        size_t n = (size_t) (client->end_us || plan->buys - client->sent >= plan->batch
                                 ? plan->batch
                                 : plan->buys - client->sent);
        //  With --catalog the buy names no amount (0): the catalog's price.
        for (size_t i = 0; i < n; i++)
            tly_msg_buy (&client->msgs [i], BENCH_ITEM, plan->catalog ? 0 : plan->amount);
        int64_t start = zclock_usecs ();
        if (client->gap_us) {
            //  Keep to the schedule, but after a stall catch up by at most
            //  a second's worth instead of bursting the whole backlog.
            if (client->next_us < start - 1000000)
                client->next_us = start - 1000000;
            client->next_us += client->gap_us;
        }
        bench_user_t *user = client->users [u];
        for (size_t i = 0; i < n && user->sent_us; i++)
            if (user->sent + 1 < user->sent_capacity)
                __atomic_store_n (&user->sent_us [++user->sent], start, __ATOMIC_RELEASE);
        client->sent += (int64_t) n;
        if (tly_sender_post (client->senders [u], client->msgs, n, &client->request_id) == 0) {
            client->current = u;
            client->n = n;
            client->attempt = 1;
            client->start_us = start;
            client->deadline_us = start + (int64_t) plan->timeout_ms * 1000;
            return;
        }
        client->failed++;
        const tly_error_t *error = tly_sender_error (client->senders [u]);
        s_client_error (client, tly_error_name (error->code), error->message);
    }
    client->current = -1;
}

//  Takes every answer waiting on user u's sender. Draining to empty also
//  re-arms the socket's ZMQ_FD, which only signals a change of state.
static void
s_client_collect (s_worker_t *worker, s_client_t *client, int u)
{
    tly_sender_t *sender = client->senders [u];
    for (;;) {
        uint64_t request_id;
        size_t count;
        int rc = tly_sender_collect (sender, &request_id, worker->results,
                                     (size_t) client->plan->batch, &count);
        if (rc == TLY_COLLECT_NONE)
            return;
        if (u != client->current || request_id != client->request_id)
            continue;  //  the late answer to a timed-out envelope
        int64_t micros = zclock_usecs () - client->start_us;
        if (rc == TLY_COLLECT_ERROR || count != client->n) {
            s_record (worker, client, micros, 0, (int64_t) client->n);
            client->failed++;
            const tly_error_t *error = tly_sender_error (sender);
            s_client_error (
                client, rc == TLY_COLLECT_ERROR ? tly_error_name (error->code) : "INTERNAL",
                rc == TLY_COLLECT_ERROR ? error->message : "answer with the wrong result count");
        } else {
            int64_t spent = 0, ok = 0;
            for (size_t i = 0; i < count; i++) {
                if (worker->results [i].ok) {
                    client->ok++;
                    ok++;
                    spent += worker->results [i].amount;
                } else {
                    client->refused++;
                    s_client_error (client, tly_error_name (worker->results [i].code),
                                    worker->results [i].message);
                }
            }
            __atomic_fetch_add (&client->users [u]->bought, spent, __ATOMIC_RELAXED);
            s_record (worker, client, micros, ok, (int64_t) count - ok);
        }
        client->current = -1;
    }
}

//  Posts the envelope in flight again after its deadline, the same messages
//  under a new request ID, as a client that got no answer does: the cluster
//  applies each message ID once and answers a repeat with its first result,
//  so an envelope lost with a restarted router is answered, not counted
//  failed while its buys were applied. Its latency still runs from the first
//  post. Returns 0, or -1 when its attempts are spent (or the post failed).
static int
s_client_resend (s_client_t *client, int64_t now)
{
    const bench_plan_t *plan = client->plan;
    if (client->attempt >= plan->attempts)
        return -1;
    int u = client->current;
    if (tly_sender_post (client->senders [u], client->msgs, client->n, &client->request_id) == -1)
        return -1;
    client->attempt++;
    client->resent++;
    client->deadline_us = now + (int64_t) plan->timeout_ms * 1000;
    return 0;
}

//  Posts the client's next envelope, when one is due, then collects what
//  its socket already holds: a send processes the socket's pending signals,
//  so an answer that arrived meanwhile would not show on ZMQ_FD again.
static void
s_client_next (s_worker_t *worker, s_client_t *client)
{
    while (client->current < 0 && s_client_more (client, zclock_usecs ())
           && client->next_us <= zclock_usecs ()) {
        s_client_post (client);
        if (client->current < 0)
            break;
        int u = client->current;
        int events = 0;
        size_t events_size = sizeof events;
        int rc = zmq_getsockopt (tly_sender_socket (client->senders [u]), ZMQ_EVENTS, &events,
                                 &events_size);
        assert (rc == 0);
        if (events & ZMQ_POLLIN)
            s_client_collect (worker, client, u);
    }
}

static void *
s_worker_run (void *arg)
{
    s_worker_t *worker = arg;
    int epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
    assert (epoll_fd >= 0);
    int sockets = 0;
    for (int c = 0; c < worker->count; c++) {
        s_client_t *client = &worker->clients [c];
        const bench_plan_t *plan = client->plan;
        client->senders = calloc ((size_t) client->user_count, sizeof *client->senders);
        client->msgs = calloc ((size_t) plan->batch, sizeof *client->msgs);
        assert (client->senders && client->msgs);
        for (int u = 0; u < client->user_count; u++) {
            client->senders [u] = tly_sender_new_curve (
                plan->gateway, plan->gateway_key, plan->worker_id, &client->users [u]->account);
            assert (client->senders [u]);
            int fd;
            size_t fd_size = sizeof fd;
            int rc = zmq_getsockopt (tly_sender_socket (client->senders [u]), ZMQ_FD, &fd,
                                     &fd_size);
            assert (rc == 0);
            //  Client index and user index, to find the sender again.
            struct epoll_event event = { .events = EPOLLIN,
                                         .data.u64 = (uint64_t) c << 32 | (uint32_t) u };
            rc = epoll_ctl (epoll_fd, EPOLL_CTL_ADD, fd, &event);
            assert (rc == 0);
            sockets++;
        }
    }
    for (int c = 0; c < worker->count; c++)
        s_client_next (worker, &worker->clients [c]);
    struct epoll_event *events = calloc ((size_t) sockets, sizeof *events);
    assert (events);
    for (;;) {
        //  The loop waits for answers until the first envelope deadline or,
        //  under --rate, the first client's next send.
        int64_t next_deadline = INT64_MAX, now = zclock_usecs ();
        bool busy = false;
        for (int c = 0; c < worker->count; c++) {
            s_client_t *client = &worker->clients [c];
            int64_t due;
            if (client->current >= 0)
                due = client->deadline_us;
            else if (s_client_more (client, now))
                due = client->next_us;
            else
                continue;
            busy = true;
            if (due < next_deadline)
                next_deadline = due;
        }
        if (!busy)
            break;
        int64_t wait_us = next_deadline - zclock_usecs ();
        int timeout_ms = wait_us <= 0 ? 0 : (int) ((wait_us + 999) / 1000);
        int ready = epoll_wait (epoll_fd, events, sockets, timeout_ms);
        assert (ready >= 0 || errno == EINTR);
        for (int k = 0; k < ready; k++) {
            s_client_t *client = &worker->clients [events [k].data.u64 >> 32];
            s_client_collect (worker, client, (int) (uint32_t) events [k].data.u64);
            s_client_next (worker, client);
        }
        now = zclock_usecs ();
        for (int c = 0; c < worker->count; c++) {
            s_client_t *client = &worker->clients [c];
            if (client->current >= 0 && client->deadline_us <= now
                && s_client_resend (client, now) == -1) {
                s_record (worker, client, now - client->start_us, 0, (int64_t) client->n);
                client->failed++;
                s_client_error (client, "TIMEOUT", "no answer within --timeout-ms");
                client->current = -1;
            }
            if (client->current < 0)
                s_client_next (worker, client);
        }
    }
    free (events);
    close (epoll_fd);
    for (int c = 0; c < worker->count; c++) {
        s_client_t *client = &worker->clients [c];
        for (int u = 0; u < client->user_count; u++)
            tly_sender_destroy (&client->senders [u]);
        free (client->senders);
        free (client->msgs);
    }
    __atomic_fetch_sub (&worker->load->running, 1, __ATOMIC_RELEASE);
    return NULL;
}

bench_load_t *
bench_load_start (const bench_plan_t *plan, bench_user_t *users, int user_count, int clients,
                  int threads)
{
    assert (plan && users && user_count >= 1 && clients >= 1 && threads >= 1);
    if (threads > clients)
        threads = clients;
    bench_load_t *self = calloc (1, sizeof *self);
    assert (self);
    self->clients = clients;
    self->threads = threads;
    self->pool = calloc ((size_t) clients, sizeof *self->pool);
    self->workers = calloc ((size_t) threads, sizeof *self->workers);
    self->handles = calloc ((size_t) threads, sizeof *self->handles);
    assert (self->pool && self->workers && self->handles);
    self->start_us = zclock_usecs ();
    //  --rate R over C clients: each sends an envelope of B every B*C/R s,
    //  the clients' first sends spread over one such gap.
    int64_t gap_us = plan->rate > 0 ? (int64_t) ((double) plan->batch * clients * 1e6 / plan->rate)
                                    : 0;
    for (int c = 0; c < clients; c++) {
        s_client_t *client = &self->pool [c];
        client->plan = plan;
        client->current = -1;
        client->end_us = plan->duration_ms ? self->start_us + plan->duration_ms * 1000 : 0;
        client->gap_us = gap_us;
        client->next_us = gap_us ? self->start_us + gap_us * c / clients : 0;
        int mine = user_count >= clients ? (user_count - c + clients - 1) / clients : 1;
        client->users = calloc ((size_t) mine, sizeof *client->users);
        assert (client->users);
        for (int k = 0; k < mine; k++)
            client->users [k] = &users [user_count >= clients ? c + k * clients : c % user_count];
        client->user_count = mine;
    }
    //  Worker t drives clients [first, first + count), in contiguous shares.
    for (int t = 0, first = 0; t < threads; t++) {
        s_worker_t *worker = &self->workers [t];
        worker->count = clients / threads + (t < clients % threads);
        worker->clients = &self->pool [first];
        first += worker->count;
        worker->results = calloc ((size_t) plan->batch, sizeof *worker->results);
        assert (worker->results);
        worker->load = self;
        pthread_mutex_init (&worker->lock, NULL);
    }
    self->running = threads;
    for (int t = 0; t < threads; t++)
        if (pthread_create (&self->handles [t], NULL, s_worker_run, &self->workers [t]) != 0) {
            fprintf (stderr, "tally bench: cannot start client thread %d\n", t);
            exit (CLI_EXIT_USAGE);
        }
    return self;
}

void
bench_load_take (bench_load_t *self, bench_hist_t *hist, int64_t *ok, int64_t *errors)
{
    assert (self && hist && ok && errors);
    for (int t = 0; t < self->threads; t++) {
        s_worker_t *worker = &self->workers [t];
        pthread_mutex_lock (&worker->lock);
        bench_hist_merge (hist, &worker->interval);
        bench_hist_reset (&worker->interval);
        *ok += worker->interval_ok;
        *errors += worker->interval_errors;
        worker->interval_ok = worker->interval_errors = 0;
        pthread_mutex_unlock (&worker->lock);
    }
}

bool
bench_load_done (bench_load_t *self)
{
    assert (self);
    return __atomic_load_n (&self->running, __ATOMIC_ACQUIRE) == 0;
}

void
bench_load_join (bench_load_t **self_p, bench_run_t *run)
{
    assert (self_p && *self_p && run);
    bench_load_t *self = *self_p;
    memset (run, 0, sizeof *run);
    for (int t = 0; t < self->threads; t++)
        pthread_join (self->handles [t], NULL);
    run->seconds = (double) (zclock_usecs () - self->start_us) / 1e6;
    for (int c = 0; c < self->clients; c++) {
        s_client_t *client = &self->pool [c];
        run->ok += client->ok;
        run->refused += client->refused;
        run->failed += client->failed;
        run->resent += client->resent;
        bench_latency_merge (&run->latency, &client->latency);
        if (client->first_error [0] && run->refused + run->failed > 0)
            fprintf (stderr, "tally bench: client %d first error: %s\n", c, client->first_error);
        bench_latency_free (&client->latency);
        free (client->users);
    }
    for (int t = 0; t < self->threads; t++) {
        free (self->workers [t].results);
        pthread_mutex_destroy (&self->workers [t].lock);
    }
    free (self->pool);
    free (self->workers);
    free (self->handles);
    free (self);
    *self_p = NULL;
}

void
bench_load_run (const bench_plan_t *plan, bench_user_t *users, int user_count, int clients,
                int threads, bench_run_t *run)
{
    bench_load_t *load = bench_load_start (plan, users, user_count, clients, threads);
    bench_load_join (&load, run);
}
