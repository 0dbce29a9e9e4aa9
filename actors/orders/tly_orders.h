//  tly_orders - the order processor: as the worker, follows every
//  partition's OrderQueue, calls the external service for each order in
//  processing (the order's ID as the idempotency key), then completes or
//  fails the order. It keeps no state of its own: what is still processing
//  is in the queues, and the key makes a call made again safe
//  (docs/architecture.md, "Orders").
//
//      tly_orders_t *orders = tly_orders_new (&config, error, sizeof error);
//      while (!stop) {
//          if (!started)
//              started = tly_orders_start (orders) == 0;  //  waits for the gateway
//          else
//              tly_orders_turn (orders);                  //  at most ~20 ms
//      }
//      tly_orders_destroy (&orders);
//
//  One order's course (each step logged as order.<step>):
//
//      tracked ─► charge ─2xx─► complete                       ─► done
//                   │ ─refusal (4xx)─► fail with the service's error
//                   │ ─5xx/408/409/425/429/timeout─► again after a backoff
//                   └ attempts used up, or the deadline passed:
//                       void (until confirmed, or the deadline) ─► fail
#ifndef TLY_ORDERS_H_INCLUDED
#define TLY_ORDERS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tally.h"
#include "tly_orders_call.h"

#define TLY_ORDERS_PROCESS "tally-orders"

#define TLY_ORDERS_TIMEOUT_MS      5000    //  --timeout-ms: one HTTP call
#define TLY_ORDERS_ATTEMPTS        5       //  --attempts: charges per order
#define TLY_ORDERS_BACKOFF_MS      200     //  --backoff-ms: the first wait
#define TLY_ORDERS_DEADLINE_MS     300000  //  --deadline-ms: after submitted_at
#define TLY_ORDERS_CONCURRENCY     8       //  --concurrency: calls in flight
#define TLY_ORDERS_CONCURRENCY_MAX 1024
#define TLY_ORDERS_ATTEMPTS_MAX    100
#define TLY_ORDERS_SEND_TIMEOUT_MS 10000  //  a completeOrder or failOrder's answer
#define TLY_ORDERS_READ_TIMEOUT_MS 5000   //  a subscription's snapshot
#define TLY_ORDERS_RESUBSCRIBE_MS  1000   //  a queue not followed: try again after
#define TLY_ORDERS_TURN_MS         10     //  the longest wait on either side of a turn
#define TLY_ORDERS_STATS_MS        60000  //  an orders.stats line this often
//  The queues the processor follows, and the order it reads, on one
//  watcher: the gateway's limit per client.
#define TLY_ORDERS_QUEUES_MAX      (TLY_WATCH_SUBSCRIPTIONS_MAX - 2)

typedef struct {
    const char *gateway;      //  the gateway's endpoint
    const char *gateway_key;  //  its CURVE public key (Z85 or a file); NULL: none
    const char *worker;       //  the worker's account ID
    tly_account_t account;    //  the worker's account, with its secret
    const char *service_url;  //  POST target of a charge
    char void_url [TLY_ORDER_URL_SIZE];
    int64_t timeout_ms;
    int64_t attempts;
    int64_t backoff_ms;
    int64_t deadline_ms;
    int64_t concurrency;
    uint32_t shard_index;  //  only partitions p with p % shard_count == shard_index
    uint32_t shard_count;  //  1: all
    uint32_t partitions;   //  0: learn the count from the worker's ServiceInfo
} tly_orders_config_t;

//  Counts since start, for the orders.stats line and tests.
typedef struct {
    uint64_t tracked;      //  orders now tracked
    uint64_t charges;      //  charge calls made
    uint64_t voids;        //  void calls made
    uint64_t completed;    //  completeOrder accepted
    uint64_t failed;       //  failOrder accepted
    uint64_t already;      //  finished by someone else (INVALID_TRANSITION)
    uint64_t unconfirmed;  //  failed with the void not confirmed
} tly_orders_stats_t;

typedef struct _tly_orders_t tly_orders_t;

//  Builds the processor (no connection yet). NULL with one line in error.
//  The partitions shard index of count follows, of partitions: index,
//  index + count, ... below partitions.
size_t tly_orders_shard_partitions (uint32_t index, uint32_t count, uint32_t partitions);
tly_orders_t *tly_orders_new (const tly_orders_config_t *config, char *error, size_t error_size);
void tly_orders_destroy (tly_orders_t **self_p);

//  Learns the partition count (when not configured) and subscribes to the
//  queues. Returns 0 when following them, -1 when the gateway did not
//  answer in time (logged, at most once a minute; call again).
int tly_orders_start (tly_orders_t *self);

//  One turn of the loop: what the watcher received, the finished calls,
//  each order's next step. Waits at most about 2 * TLY_ORDERS_TURN_MS.
void tly_orders_turn (tly_orders_t *self);

void tly_orders_stats (tly_orders_t *self, tly_orders_stats_t *stats);

#endif
