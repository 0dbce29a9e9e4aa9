//  tly_orders_private - the processor's state, shared by tly_orders.c (the
//  queues and the loop) and tly_orders_step.c (one order's course).
#ifndef TLY_ORDERS_PRIVATE_H_INCLUDED
#define TLY_ORDERS_PRIVATE_H_INCLUDED

#include <czmq.h>

#include "tly_orders.h"
#include "tly_log.h"
#include "tly_orders_http.h"

//  Where one order stands in this process.
typedef enum {
    ORDER_CHARGE,    //  a charge is due at next_ms (the first, or again)
    ORDER_CHARGING,  //  a charge in flight
    ORDER_VOID,      //  a void is due at next_ms
    ORDER_VOIDING,   //  a void in flight
    ORDER_FINISH,    //  completeOrder or failOrder is due at next_ms
    ORDER_DONE       //  final: forgotten once its queue no longer lists it
} s_order_state_t;

typedef struct {
    char id [TLY_ID_MAX];
    char user_id [TLY_ID_MAX];
    uint32_t partition;
    int64_t total;
    int64_t submitted_at;  //  Unix ms, from the queue
    bool listed;           //  in its queue's latest version
    s_order_state_t state;
    int64_t next_ms;  //  monotonic: when the due step may run
    int attempts;     //  charges made
    int void_attempts;
    int finish_attempts;
    bool charged;                        //  a charge was answered 2xx
    bool fail_after_void;                //  the void precedes a failOrder (else: nothing follows)
    bool complete;                       //  ORDER_FINISH: completeOrder (else failOrder with error)
    char error [TLY_ORDERS_ERROR_SIZE];  //  failOrder's text
    char last [TLY_ORDERS_ERROR_SIZE];   //  the last call's outcome, for logs
    //  The lines, read from the Order before the first charge.
    bool have_lines;
    size_t line_count;
    char *item_ids [TLY_ORDER_ITEMS_MAX];
    int64_t amounts [TLY_ORDER_ITEMS_MAX];
} s_order_t;

//  One partition's queue, as the watcher last delivered it: copied in the
//  callback (which may not touch the table: it runs inside the watcher),
//  applied to the table in the next turn.
typedef struct {
    uint32_t partition;
    char queue_id [TLY_ID_MAX];
    bool subscribed;
    int64_t retry_ms;  //  monotonic: when to subscribe again
    bool dirty;        //  a version not applied yet
    size_t count;
    struct {
        char id [TLY_ID_MAX];
        char user_id [TLY_ID_MAX];
        int64_t total;
        int64_t submitted_at;
    } orders [TLY_ORDER_QUEUE_MAX];
} s_queue_t;

struct _tly_orders_t {
    tly_orders_config_t config;
    tly_watcher_t *watcher;
    tly_sender_t *sender;
    tly_orders_http_t *http;
    size_t queue_count;  //  the partitions of this shard
    s_queue_t *queues;
    zhashx_t *orders;  //  order ID -> s_order_t, every order tracked
    tly_orders_stats_t stats;
    int64_t stats_ms;
    int64_t waiting_log_ms;
    tly_log_limit_t limit;  //  the lines one bad order may repeat
};

//  tly_orders_step.c: one order's next step, when due; a finished call.
void tly_orders_step (tly_orders_t *self, s_order_t *order, int64_t now_ms);
void tly_orders_on_reply (tly_orders_t *self, const tly_orders_reply_t *reply);
void tly_orders_order_destroy (void **item);
//  Reads the order whole (subscribe, copy, unsubscribe); sets its lines
//  and *status. -1 when the gateway refused or did not answer (logged).
int tly_orders_read (tly_orders_t *self, s_order_t *order, Tally__OrderStatus *status, char *error,
                     size_t error_size);
//  The order is to be voided now; then, when fail is set, failed with
//  prefix and reason as its error.
void tly_orders_to_void (s_order_t *order, bool fail, const char *prefix, const char *reason,
                         int64_t now_ms);

#endif
