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
} s_worker_t;

static void
s_client_error (s_client_t *client, const char *name, const char *message)
{
    if (!*client->first_error)
        snprintf (client->first_error, sizeof client->first_error, "%s: %s", name, message);
}

//  Signs and posts the client's next envelope, if it has buys left.
static void
s_client_post (s_client_t *client)
{
    const bench_plan_t *plan = client->plan;
    while (client->sent < plan->buys) {
        int u = (int) (client->round++ % client->user_count);
        size_t n = (size_t) (plan->buys - client->sent < plan->batch ? plan->buys - client->sent
                                                                     : plan->batch);
        for (size_t i = 0; i < n; i++)
            tly_msg_buy (&client->msgs [i], "bench-item", plan->amount);
        int64_t start = zclock_usecs ();
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
        bench_latency_add (&client->latency, zclock_usecs () - client->start_us);
        if (rc == TLY_COLLECT_ERROR || count != client->n) {
            client->failed++;
            const tly_error_t *error = tly_sender_error (sender);
            s_client_error (
                client, rc == TLY_COLLECT_ERROR ? tly_error_name (error->code) : "INTERNAL",
                rc == TLY_COLLECT_ERROR ? error->message : "answer with the wrong result count");
        } else {
            int64_t spent = 0;
            for (size_t i = 0; i < count; i++) {
                if (worker->results [i].ok) {
                    client->ok++;
                    spent += worker->results [i].amount;
                } else {
                    client->refused++;
                    s_client_error (client, tly_error_name (worker->results [i].code),
                                    worker->results [i].message);
                }
            }
            __atomic_fetch_add (&client->users [u]->bought, spent, __ATOMIC_RELAXED);
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

//  Posts the client's next envelope, then collects what its socket already
//  holds: a send processes the socket's pending signals, so an answer that
//  arrived meanwhile would not show on ZMQ_FD again.
static void
s_client_next (s_worker_t *worker, s_client_t *client)
{
    while (client->current < 0 && client->sent < client->plan->buys) {
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
            client->senders [u] = tly_sender_new (plan->gateway, plan->worker_id,
                                                  &client->users [u]->account);
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
        int64_t next_deadline = INT64_MAX;
        bool busy = false;
        for (int c = 0; c < worker->count; c++) {
            s_client_t *client = &worker->clients [c];
            if (client->current < 0)
                continue;
            busy = true;
            if (client->deadline_us < next_deadline)
                next_deadline = client->deadline_us;
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
        int64_t now = zclock_usecs ();
        for (int c = 0; c < worker->count; c++) {
            s_client_t *client = &worker->clients [c];
            if (client->current >= 0 && client->deadline_us <= now
                && s_client_resend (client, now) == -1) {
                bench_latency_add (&client->latency, now - client->start_us);
                client->failed++;
                s_client_error (client, "TIMEOUT", "no answer within --timeout-ms");
                client->current = -1;
                s_client_next (worker, client);
            }
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
    return NULL;
}

void
bench_load_run (const bench_plan_t *plan, bench_user_t *users, int user_count, int clients,
                int threads, bench_run_t *run)
{
    if (threads > clients)
        threads = clients;
    s_client_t *pool = calloc ((size_t) clients, sizeof *pool);
    s_worker_t *workers = calloc ((size_t) threads, sizeof *workers);
    pthread_t *handles = calloc ((size_t) threads, sizeof *handles);
    assert (pool && workers && handles);
    for (int c = 0; c < clients; c++) {
        pool [c].plan = plan;
        pool [c].current = -1;
        int mine = user_count >= clients ? (user_count - c + clients - 1) / clients : 1;
        pool [c].users = calloc ((size_t) mine, sizeof *pool [c].users);
        assert (pool [c].users);
        for (int k = 0; k < mine; k++)
            pool [c].users [k] = &users [user_count >= clients ? c + k * clients : c % user_count];
        pool [c].user_count = mine;
    }
    //  Worker t drives clients [first, first + count), in contiguous shares.
    for (int t = 0, first = 0; t < threads; t++) {
        s_worker_t *worker = &workers [t];
        worker->count = clients / threads + (t < clients % threads);
        worker->clients = &pool [first];
        first += worker->count;
        worker->results = calloc ((size_t) plan->batch, sizeof *worker->results);
        assert (worker->results);
    }
    int64_t start = zclock_usecs ();
    for (int t = 0; t < threads; t++)
        if (pthread_create (&handles [t], NULL, s_worker_run, &workers [t]) != 0) {
            fprintf (stderr, "tally bench: cannot start client thread %d\n", t);
            exit (CLI_EXIT_USAGE);
        }
    memset (run, 0, sizeof *run);
    for (int t = 0; t < threads; t++)
        pthread_join (handles [t], NULL);
    run->seconds = (double) (zclock_usecs () - start) / 1e6;
    for (int c = 0; c < clients; c++) {
        run->ok += pool [c].ok;
        run->refused += pool [c].refused;
        run->failed += pool [c].failed;
        run->resent += pool [c].resent;
        bench_latency_merge (&run->latency, &pool [c].latency);
        if (pool [c].first_error [0] && run->refused + run->failed > 0)
            fprintf (stderr, "tally bench: client %d first error: %s\n", c, pool [c].first_error);
        bench_latency_free (&pool [c].latency);
        free (pool [c].users);
    }
    for (int t = 0; t < threads; t++) {
        free (workers [t].results);
    }
    free (pool);
    free (workers);
    free (handles);
}
