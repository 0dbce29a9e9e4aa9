//  tly_orders_http_test - POSTs against a small HTTP server in this thread:
//  the headers and body it sends, a 2xx and a refusal with their bodies, a
//  call that is never answered (the timeout), a closed port, the slots'
//  bound.
#include "tly_orders_http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define CLIENTS_MAX 8

//  The server: accepts, reads one request whole, answers by its path
//  (/ok 200, /refuse 402, /big 200 with a body past TLY_ORDERS_BODY_MAX,
//  /reason 402 with a reason phrase past TLY_ORDERS_REASON_MAX, /hang
//  nothing), remembers the last request.
typedef struct {
    int listener;
    int port;
    int clients [CLIENTS_MAX];
    char requests [CLIENTS_MAX][4096];
    size_t used [CLIENTS_MAX];
    char last [4096];
    int served;
} s_server_t;

static void
s_server_open (s_server_t *server)
{
    memset (server, 0, sizeof *server);
    for (int i = 0; i < CLIENTS_MAX; i++)
        server->clients [i] = -1;
    server->listener = socket (AF_INET, SOCK_STREAM, 0);
    assert (server->listener >= 0);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    assert (bind (server->listener, (struct sockaddr *) &address, sizeof address) == 0);
    assert (listen (server->listener, 16) == 0);
    socklen_t size = sizeof address;
    assert (getsockname (server->listener, (struct sockaddr *) &address, &size) == 0);
    server->port = ntohs (address.sin_port);
}

static void
s_server_close (s_server_t *server)
{
    for (int i = 0; i < CLIENTS_MAX; i++)
        if (server->clients [i] != -1)
            close (server->clients [i]);
    close (server->listener);
}

static void
s_answer (s_server_t *server, int i)
{
    const char *request = server->requests [i];
    snprintf (server->last, sizeof server->last, "%s", request);
    const char *reply = NULL;
    if (strncmp (request, "POST /ok ", 9) == 0)
        reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 22\r\n"
                "Connection: close\r\n\r\n{\"status\":\"charged\"}\r\n";
    else if (strncmp (request, "POST /refuse ", 13) == 0)
        reply = "HTTP/1.1 402 Payment Required\r\nContent-Type: application/json\r\n"
                "Content-Length: 25\r\nConnection: close\r\n\r\n{\"error\":\"card declined\"}";
    else if (strncmp (request, "POST /reason ", 13) == 0)
        //  A reason of 77 bytes: the client keeps TLY_ORDERS_REASON_MAX - 1.
        reply = "HTTP/1.1 402 Payment Required By The Bank Of A Very Long Name, Limited Company Of "
                "Far Away\r\n"
                "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
    else if (strncmp (request, "POST /big ", 10) == 0) {
        //  One byte more than the client keeps.
        static char big [TLY_ORDERS_BODY_MAX + 200];
        int head = snprintf (big, sizeof big,
                             "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
                             TLY_ORDERS_BODY_MAX + 1);
        memset (big + head, 'x', TLY_ORDERS_BODY_MAX + 1);
        big [head + TLY_ORDERS_BODY_MAX + 1] = 0;
        reply = big;
    }
    server->served++;
    if (!reply)
        return;  //  /hang: never answered
    assert (write (server->clients [i], reply, strlen (reply)) == (ssize_t) strlen (reply));
    close (server->clients [i]);
    server->clients [i] = -1;
}

//  Whether a request is whole: its headers, then Content-Length bytes.
static bool
s_whole (const char *request, size_t used)
{
    const char *end = strstr (request, "\r\n\r\n");
    if (!end)
        return false;
    const char *length = strcasestr (request, "Content-Length:");
    size_t body = length ? (size_t) atol (length + 15) : 0;
    return used >= (size_t) (end + 4 - request) + body;
}

static void
s_server_poll (s_server_t *server)
{
    struct pollfd item = { .fd = server->listener, .events = POLLIN };
    if (poll (&item, 1, 0) == 1)
        for (int i = 0; i < CLIENTS_MAX; i++)
            if (server->clients [i] == -1) {
                server->clients [i] = accept (server->listener, NULL, NULL);
                server->used [i] = 0;
                server->requests [i][0] = 0;
                break;
            }
    for (int i = 0; i < CLIENTS_MAX; i++) {
        if (server->clients [i] == -1)
            continue;
        struct pollfd client = { .fd = server->clients [i], .events = POLLIN };
        if (poll (&client, 1, 0) != 1)
            continue;
        ssize_t got = read (server->clients [i], server->requests [i] + server->used [i],
                            sizeof server->requests [i] - 1 - server->used [i]);
        if (got <= 0) {
            close (server->clients [i]);
            server->clients [i] = -1;
            continue;
        }
        server->used [i] += (size_t) got;
        server->requests [i][server->used [i]] = 0;
        if (s_whole (server->requests [i], server->used [i]))
            s_answer (server, i);
    }
}

//  Drives the client and the server until one reply comes; false at the
//  deadline.
static bool
s_reply (tly_orders_http_t *http, s_server_t *server, tly_orders_reply_t *reply, int limit_ms)
{
    int64_t deadline = th_now_ms () + limit_ms;
    while (th_now_ms () < deadline) {
        tly_orders_http_wait (http, 2);
        s_server_poll (server);
        if (tly_orders_http_next (http, reply))
            return true;
    }
    return false;
}

void
tly_orders_http_test (bool verbose)
{
    if (verbose)
        printf (" * tly_orders_http: ");
    s_server_t server;
    s_server_open (&server);
    tly_orders_http_t *http = tly_orders_http_new (2, 500);
    assert (http);
    assert (tly_orders_http_free (http) == 2 && tly_orders_http_busy (http) == 0);
    char url [128];
    int tag = 0;
    tly_orders_reply_t reply;

    //  A 2xx: status, body, and what the server got.
    snprintf (url, sizeof url, "http://127.0.0.1:%d/ok", server.port);
    assert (tly_orders_http_post (http, url, "co_zKey1", "{\"a\":1}", &tag) == 0);
    assert (tly_orders_http_free (http) == 1);
    assert (s_reply (http, &server, &reply, 5000));
    assert (reply.tag == &tag && reply.answered && reply.status == 200);
    assert (strcmp (reply.reason, "OK") == 0);
    assert (strstr (reply.body, "\"charged\"") && reply.body_size == 22);
    assert (strstr (server.last, "\r\nIdempotency-Key: co_zKey1\r\n"));
    assert (strcasestr (server.last, "\r\nContent-Type: application/json\r\n"));
    assert (!strcasestr (server.last, "Expect:"));
    assert (strstr (server.last, "\r\n\r\n{\"a\":1}"));
    assert (tly_orders_http_free (http) == 2);
    assert (!tly_orders_http_next (http, &reply));

    //  A refusal: its status line's reason and its body.
    snprintf (url, sizeof url, "http://127.0.0.1:%d/refuse", server.port);
    assert (tly_orders_http_post (http, url, "co_zKey2", "{}", &tag) == 0);
    assert (s_reply (http, &server, &reply, 5000));
    assert (reply.answered && reply.status == 402);
    assert (strcmp (reply.reason, "Payment Required") == 0);
    assert (strcmp (reply.body, "{\"error\":\"card declined\"}") == 0);

    //  A reason phrase past TLY_ORDERS_REASON_MAX: its first 63 bytes kept.
    snprintf (url, sizeof url, "http://127.0.0.1:%d/reason", server.port);
    assert (tly_orders_http_post (http, url, "co_zKey3", "{}", &tag) == 0);
    assert (s_reply (http, &server, &reply, 5000));
    assert (reply.answered && reply.status == 402);
    assert (strlen (reply.reason) == TLY_ORDERS_REASON_MAX - 1);
    assert (
        strncmp (reply.reason,
                 "Payment Required By The Bank Of A Very Long Name, Limited Company Of Far Away",
                 TLY_ORDERS_REASON_MAX - 1)
        == 0);

    //  A body one byte past TLY_ORDERS_BODY_MAX: the rest dropped.
    snprintf (url, sizeof url, "http://127.0.0.1:%d/big", server.port);
    assert (tly_orders_http_post (http, url, "co_zKey8", "{}", &tag) == 0);
    assert (s_reply (http, &server, &reply, 5000));
    assert (reply.answered && reply.status == 200);
    assert (reply.body_size == TLY_ORDERS_BODY_MAX && strlen (reply.body) == TLY_ORDERS_BODY_MAX);

    //  Never answered: the timeout (500 ms) ends it, unanswered.
    snprintf (url, sizeof url, "http://127.0.0.1:%d/hang", server.port);
    int64_t start = th_now_ms ();
    assert (tly_orders_http_post (http, url, "co_zKey3", "{}", &tag) == 0);
    assert (s_reply (http, &server, &reply, 5000));
    int64_t took = th_now_ms () - start;
    assert (!reply.answered && reply.detail [0]);
    assert (took >= 450 && took < 3000);

    //  A closed port: a connection error, at once.
    int closed = th_free_port ();
    snprintf (url, sizeof url, "http://127.0.0.1:%d/ok", closed);
    assert (tly_orders_http_post (http, url, "co_zKey4", "{}", &tag) == 0);
    assert (s_reply (http, &server, &reply, 5000));
    assert (!reply.answered && reply.detail [0]);

    //  Two slots: both busy, then each call ends with its own reply.
    snprintf (url, sizeof url, "http://127.0.0.1:%d/hang", server.port);
    int first = 1, second = 2;
    assert (tly_orders_http_post (http, url, "co_zKey5", "{}", &first) == 0);
    assert (tly_orders_http_post (http, url, "co_zKey6", "{}", &second) == 0);
    assert (tly_orders_http_free (http) == 0 && tly_orders_http_busy (http) == 2);
    assert (s_reply (http, &server, &reply, 5000));
    void *one = reply.tag;
    assert (!reply.answered && tly_orders_http_free (http) >= 1);
    assert (s_reply (http, &server, &reply, 5000));
    assert (!reply.answered && reply.tag != one && (reply.tag == &first || reply.tag == &second));
    assert (one == &first || one == &second);
    assert (tly_orders_http_free (http) == 2);
    assert (!tly_orders_http_next (http, &reply));

    //  Destroyed with a call in flight.
    assert (tly_orders_http_post (http, url, "co_zKey7", "{}", &tag) == 0);
    tly_orders_http_destroy (&http);
    assert (http == NULL);
    tly_orders_http_destroy (&http);
    s_server_close (&server);
    if (verbose)
        printf ("OK\n");
}
