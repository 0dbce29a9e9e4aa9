//  tally.h - libtally, the C SDK for tally clients.
//
//  A sender talks to one gateway on behalf of one account, addressing one
//  worker inbox (like Jazz's InboxSender.load (workerId, account)):
//
//      tly_sender_t *sender = tly_sender_new ("tcp://127.0.0.1:7700", worker_id, &me);
//      tly_msg_t msg;
//      tly_msg_buy (&msg, "item-123", 0);     //  0: at the catalog price
//      tly_result_t result;
//      if (tly_sender_send_one (sender, &msg, 10000, &result) == 0 && result.ok)
//          printf ("balance after: %lld\n", (long long) result.balance_after);
//      tly_sender_destroy (&sender);
//
//  Every message carries a 16-byte ID chosen when it is built: the time it
//  was built (6 bytes) and 80 random bits. A send signs one envelope for all
//  its messages and, when a reply is late, resends the very same signed
//  bytes: the cluster deduplicates by message ID, so a retry never charges
//  twice. The cluster remembers an ID for its dedupe window (60 s by
//  default) from the time in it: a message resent after that is refused
//  STALE_MESSAGE_ID, never applied twice, so build messages when you send
//  them, not long before. A buy over the cluster's per-user rate limit is
//  refused RATE_LIMITED with result.retry_after_ms, the wait until it may
//  go through; that refusal is not remembered, so the same message may be
//  sent again once the wait is over.
//
//  Reads are subscriptions (like Jazz's UserBalance.subscribe (id, callback)).
//  A watcher keeps one connection to a gateway, checks the worker's signature
//  on everything it receives, and calls back with each version in order:
//
//      static void on_balance (const tly_object_t *object, void *arg) {
//          printf ("v%llu balance=%lld\n", (unsigned long long) object->version,
//                  (long long) object->balance.balance);
//      }
//      tly_watcher_t *watcher = tly_watcher_new ("tcp://127.0.0.1:7700", worker_id, &me);
//      char balance_id [TLY_ID_MAX];
//      tly_balance_id (me.sign_pk, TLY_PARTITIONS_DEFAULT, balance_id);
//      if (tly_watcher_subscribe (watcher, balance_id, on_balance, NULL, 10000) == 0)
//          while (tly_watcher_dispatch (watcher, 1000) >= 0)
//              ;
//      tly_watcher_destroy (&watcher);
#ifndef TALLY_H_INCLUDED
#define TALLY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tally.pb-c.h"
#include "tly_account_load.h"
#include "tly_object_id.h"
#include "tly_partition.h"
#include "tly_limits.h"
#include "tly_validate.h"

//  The SDK carries item IDs up to twice the server's limit, so that callers
//  can exercise the server's own check (INVALID_ITEM) at its edge. The same
//  for a credit's or debit's reference and note, though their constructors
//  refuse more than the server's limits: a test that wants the server's
//  check fills the field itself.
#define TLY_MSG_ITEM_CAP      (2 * TLY_ITEM_ID_MAX)
#define TLY_MSG_REFERENCE_CAP (2 * TLY_REFERENCE_MAX)
#define TLY_MSG_NOTE_CAP      (2 * TLY_NOTE_MAX)
#define TLY_ERROR_TEXT_MAX    256
//  Attempts a send makes within its timeout (each resends the same bytes).
#define TLY_SEND_ATTEMPTS     3
#define TLY_SEND_ATTEMPTS_MAX 16

typedef struct _tly_sender_t tly_sender_t;

typedef enum {
    TLY_MSG_CREATE_ACCOUNT = 1,
    TLY_MSG_BUY = 2,
    TLY_MSG_CREDIT = 3,        //  by the worker or an admin
    TLY_MSG_DEBIT = 4,         //  by the worker or an admin
    TLY_MSG_ADD_ADMIN = 5,     //  by the worker only
    TLY_MSG_REMOVE_ADMIN = 6,  //  by the worker only
    TLY_MSG_SET_PRICE = 7,     //  by the worker or an admin
    TLY_MSG_REFUND = 8,        //  by the worker or an admin
    TLY_MSG_CREATE_ORDER = 9,
    TLY_MSG_EDIT_ORDER = 10,      //  by the order's user
    TLY_MSG_SUBMIT_ORDER = 11,    //  by the order's user
    TLY_MSG_COMPLETE_ORDER = 12,  //  by the worker or an admin
    TLY_MSG_FAIL_ORDER = 13       //  by the worker or an admin
} tly_msg_kind_t;

//  One line of an order (docs/protocol.md, "Orders"). In a message, amount
//  0 means "the catalog price"; in an order as the cluster keeps it, the
//  amount the line is charged.
typedef struct {
    char item_id [TLY_ITEM_ID_MAX + 1];
    int64_t amount;
} tly_order_item_t;

//  One inbox message, ready to be sealed into an envelope.
typedef struct {
    uint8_t id [TLY_MESSAGE_ID_BYTES];
    tly_msg_kind_t kind;
    int64_t initial_balance;                     //  TLY_MSG_CREATE_ACCOUNT
    char item_id [TLY_MSG_ITEM_CAP + 1];         //  TLY_MSG_BUY, _SET_PRICE
    int64_t amount;                              //  TLY_MSG_BUY: 0 the catalog price, or > 0;
                                                 //  TLY_MSG_CREDIT, _DEBIT: > 0
    uint8_t user [TLY_KEY_BYTES];                //  TLY_MSG_CREDIT, _DEBIT: the account adjusted;
                                                 //  TLY_MSG_ADD_ADMIN, _REMOVE_ADMIN: the admin
    char reference [TLY_MSG_REFERENCE_CAP + 1];  //  TLY_MSG_CREDIT, _DEBIT
    char note [TLY_MSG_NOTE_CAP + 1];            //  TLY_MSG_CREDIT, _DEBIT ("" for none);
                                                 //  TLY_MSG_REFUND: the reason ("" for none)
    int64_t price;                               //  TLY_MSG_SET_PRICE: > 0
    bool active;                                 //  TLY_MSG_SET_PRICE: false, not for sale
    char purchase_id [TLY_ID_MAX];               //  TLY_MSG_REFUND: the purchase's object ID
    //  The order messages: the order's object ID (all but TLY_MSG_CREATE_ORDER),
    //  its lines (TLY_MSG_CREATE_ORDER, _EDIT_ORDER); a failOrder's error
    //  text is in note.
    char order_id [TLY_ID_MAX];
    size_t item_count;
    tly_order_item_t items [TLY_ORDER_ITEMS_MAX];
} tly_msg_t;

//  An order as it now is (the Order object, kind 9, and the answer to every
//  order message). status is draft (editable), processing (total held on
//  the balance), completed (the hold captured, purchase_ids one purchase per
//  line, in order) or failed (the hold released, error says why).
typedef struct {
    char id [TLY_ID_MAX];
    char user_id [TLY_ID_MAX];
    Tally__OrderStatus status;
    size_t item_count;
    tly_order_item_t items [TLY_ORDER_ITEMS_MAX];  //  the amounts charged
    int64_t total;                                 //  their sum
    char error [TLY_ORDER_ERROR_MAX + 1];          //  failed: the reason
    uint64_t version;                              //  the object's version: 1 at createOrder
    int64_t created_at, updated_at, submitted_at, finished_at;  //  Unix ms (0: not yet)
    size_t purchase_count;
    char purchase_ids [TLY_ORDER_ITEMS_MAX][TLY_ID_MAX];
} tly_order_t;

//  An order in a user's OrderList or a partition's OrderQueue.
typedef struct {
    char id [TLY_ID_MAX];
    char user_id [TLY_ID_MAX];
    Tally__OrderStatus status;
    int64_t total;
    uint64_t version;  //  the Order's version it summarizes
    int64_t updated_at, submitted_at;
} tly_order_summary_t;

//  A user's orders (kind 10): count created in all, and the latest
//  TLY_ORDER_LIST_MAX created, oldest first. Every version is whole.
typedef struct {
    char id [TLY_ID_MAX];
    char user_id [TLY_ID_MAX];
    uint64_t count;
    size_t order_count;
    tly_order_summary_t *orders;
} tly_order_list_t;

//  A partition's orders processing (kind 11), oldest submitted first (ties
//  by ID), at most TLY_ORDER_QUEUE_MAX. Every version is whole. The worker
//  reads it: what an order processor follows.
typedef struct {
    char id [TLY_ID_MAX];
    uint32_t partition;
    size_t order_count;
    tly_order_summary_t *orders;
} tly_order_queue_t;

typedef enum {
    TLY_RESULT_ERROR = 0,
    TLY_RESULT_BALANCE = 1,     //  answer to createAccount: a UserBalance
    TLY_RESULT_PURCHASE = 2,    //  answer to buy: a PurchaseRecord
    TLY_RESULT_ADJUSTMENT = 3,  //  answer to credit, debit or refund: an AdjustmentRecord
    TLY_RESULT_CONFIG = 4,      //  answer to addAdmin, removeAdmin, setPrice: a ConfigChange
    TLY_RESULT_ORDER = 5        //  answer to the order messages: the Order as it now is
} tly_result_kind_t;

//  The outcome of one message. When ok, kind says which fields are set;
//  otherwise code and message say why the message was refused.
typedef struct {
    uint8_t message_id [TLY_MESSAGE_ID_BYTES];
    bool ok;
    tly_result_kind_t kind;
    Tally__ErrorCode code;
    char message [TLY_ERROR_TEXT_MAX];
    char id [TLY_ID_MAX];  //  object ID of the balance, purchase or adjustment
    char user_id [TLY_ID_MAX];
    int64_t balance;                             //  TLY_RESULT_BALANCE
    int64_t last_updated;                        //  TLY_RESULT_BALANCE, Unix ms
    char item_id [TLY_MSG_ITEM_CAP + 1];         //  TLY_RESULT_PURCHASE
    int64_t amount;                              //  TLY_RESULT_PURCHASE; TLY_RESULT_ADJUSTMENT
                                                 //  signed: > 0 a credit, < 0 a debit
    int64_t timestamp;                           //  TLY_RESULT_PURCHASE, _ADJUSTMENT, Unix ms
    int64_t balance_after;                       //  TLY_RESULT_PURCHASE, _ADJUSTMENT
    char reference [TLY_MSG_REFERENCE_CAP + 1];  //  TLY_RESULT_ADJUSTMENT
    char note [TLY_MSG_NOTE_CAP + 1];            //  TLY_RESULT_ADJUSTMENT
    char by [TLY_ID_MAX];                        //  TLY_RESULT_ADJUSTMENT: the sender
    int64_t retry_after_ms;                      //  RATE_LIMITED: wait this long, then send again
    //  TLY_RESULT_PURCHASE: the journal record that made the purchase (its
    //  partition's sequence), and once refunded the refund (see
    //  tly_purchase_t); a buy's own answer is never refunded.
    uint64_t partition_seq;
    char refund_id [TLY_ID_MAX];
    int64_t refunded_at;
    //  TLY_RESULT_CONFIG: the configuration's version the message left (its
    //  envelope's new one when it or a message before it in the envelope
    //  changed something: one version per envelope; else the current one),
    //  and what it named: the admin (addAdmin, removeAdmin: admin_id set) or
    //  the item as it now is (setPrice: has_item, with item_id, price and
    //  active).
    uint64_t config_version;
    char admin_id [TLY_ID_MAX];
    bool has_item;
    int64_t price;
    bool active;
    //  TLY_RESULT_ORDER: the order after the message (id and user_id above
    //  are its own too).
    tly_order_t order;
} tly_result_t;

//  Why a whole request failed. remote is true when the gateway answered with
//  this error (nothing was applied); false when the SDK gave up by itself
//  (TIMEOUT: no reply in time; UNAVAILABLE: cannot connect; INTERNAL: the
//  reply did not match the request; BAD_REQUEST: the call's arguments).
typedef struct {
    Tally__ErrorCode code;
    bool remote;
    char message [TLY_ERROR_TEXT_MAX];
} tly_error_t;

//  The audit writer's journal and state snapshots, as an actor last heard
//  them from it (SystemStatus.journal, docs/protocol.md).
typedef struct {
    bool known;                        //  false until an actor has passed them on
    int64_t reported_ms;               //  the writer's clock when it told them
    uint64_t head_seq;                 //  the last record
    uint32_t segments;                 //  live segments: the active one and sealed ones
    uint32_t sealed_segments;          //  of those, sealed
    uint64_t live_bytes;               //  their files
    uint64_t active_first_seq;         //  the active segment's first seq (its file name)
    uint32_t archived_segments;        //  in the archive folder
    uint64_t archived_bytes;           //  their files
    uint32_t snapshots;                //  partitions with a state snapshot
    uint64_t snapshot_bytes;           //  their parts
    uint64_t oldest_snapshot_seq;      //  the oldest one's journal seq (0: none)
    uint64_t last_snapshot_seq;        //  the one stored last: its journal seq,
    uint32_t last_snapshot_partition;  //  its partition
    int64_t last_snapshot_ms;          //  and when (0: none)
} tly_journal_status_t;

//  The router's view of the cluster, as the gateway reports it.
typedef struct {
    bool ready;  //  every partition has a live owner
    uint32_t partition_count;
    uint32_t partitions_owned;
    uint32_t actors;
    uint64_t epoch;
    bool journal_full;           //  buys are refused: the journal has no room
    uint32_t actors_state_full;  //  actors whose state storage has no room
    tly_journal_status_t journal;
} tly_status_t;

//  Fill msg with a fresh message ID made now. Return 0, or -1 when item does
//  not fit TLY_MSG_ITEM_CAP bytes. Values are not validated here: the
//  cluster is the authority and answers INVALID_AMOUNT and the like.
//  A buy's amount 0 means "the catalog price": the cluster charges the
//  item's price in the catalog (docs/protocol.md, "Admins and the catalog");
//  an amount > 0 must be that price (else PRICE_MISMATCH), or, for an item
//  not in the catalog where the cluster runs with open prices, is charged as
//  named. An item not for sale is refused UNKNOWN_ITEM.
int tly_msg_create_account (tly_msg_t *msg, int64_t initial_balance);
int tly_msg_buy (tly_msg_t *msg, const char *item_id, int64_t amount);

//  Fill msg with a credit (adds amount to the balance of user_id, an
//  account ID "co_z...") or a debit (takes amount from it), with a fresh
//  message ID made now. Only the worker or an admin may send them: seal
//  them with that account, in an envelope of their own or with other
//  messages for the same user's partition. reference names the payment or event (one
//  adjustment per user and reference: the same reference again is answered
//  with the first adjustment, applied once); note (NULL: none) is shown to
//  the user. Returns 0, or -1 when user_id is not an account ID
//  (BAD_REQUEST), reference is longer than TLY_REFERENCE_MAX bytes
//  (INVALID_REFERENCE) or note longer than TLY_NOTE_MAX (INVALID_NOTE); then
//  error, when not NULL, says which (not remote) and msg is untouched. The
//  amount, an empty reference and UTF-8 are left to the cluster, which
//  answers INVALID_AMOUNT, INVALID_REFERENCE, INVALID_NOTE (a reference
//  starting with "refund:" is a refund's: INVALID_REFERENCE).
int tly_msg_credit (tly_msg_t *msg, const char *user_id, int64_t amount, const char *reference,
                    const char *note, tly_error_t *error);
int tly_msg_debit (tly_msg_t *msg, const char *user_id, int64_t amount, const char *reference,
                   const char *note, tly_error_t *error);

//  Configuration messages (docs/protocol.md, "Admins and the catalog"),
//  with a fresh message ID made now. The cluster decides them in partition
//  0: seal each in an envelope of configuration messages only. The answer
//  is a TLY_RESULT_CONFIG.
//
//  Add account_id ("co_z...") to the admin group, or remove it: the worker
//  only. An admin may credit, debit and set prices. Returns 0, or -1 when
//  account_id is not an account ID (BAD_REQUEST in error, when not NULL;
//  msg untouched). The worker itself (INVALID_ADMIN), the group's limit
//  (CONFIG_LIMIT) and the sender (PERMISSION_DENIED) are the cluster's to
//  refuse; adding an admin twice, or removing one who is not, changes
//  nothing and answers the current version.
int tly_msg_add_admin (tly_msg_t *msg, const char *account_id, tly_error_t *error);
int tly_msg_remove_admin (tly_msg_t *msg, const char *account_id, tly_error_t *error);
//  Set an item's catalog price (minor units) and whether it is for sale
//  (active false: kept in the catalog, its buys refused UNKNOWN_ITEM): the
//  worker or an admin. Returns 0, or -1 when item_id does not fit
//  TLY_MSG_ITEM_CAP bytes (INVALID_ITEM in error; msg untouched). The
//  item's own rules (INVALID_ITEM), the price (INVALID_PRICE: 1 .. 2^53 - 1)
//  and the catalog's limit (CONFIG_LIMIT) are the cluster's.
int tly_msg_set_price (tly_msg_t *msg, const char *item_id, int64_t price, bool active,
                       tly_error_t *error);

//  Fill msg with a refund of purchase_id (a purchase's object ID "co_z...",
//  as a buy's result.id names it), with a fresh message ID made now
//  (docs/protocol.md, "Refunds"): the worker or an admin gives the
//  purchase's amount back to its user, once. The cluster sends it to the
//  purchase's partition: seal it in an envelope of its own, or with other
//  messages for that partition. reason (NULL or "": none) is shown to the
//  user, as the note of the refund's record (msg->note). The answer is a
//  TLY_RESULT_ADJUSTMENT, the refund's AdjustmentRecord: a credit of the
//  purchase's user for its amount, reference "refund:" + purchase_id; the
//  purchase's record gets version 2 naming it (tly_purchase_t). Returns 0,
//  or -1 when purchase_id is not a purchase's object ID (BAD_REQUEST) or
//  reason is longer than TLY_NOTE_MAX bytes (INVALID_NOTE); then error,
//  when not NULL, says which (not remote) and msg is untouched. UTF-8 and
//  the rest are the cluster's: a sender neither the worker nor an admin
//  (PERMISSION_DENIED), a purchase it does not hold (NOT_FOUND), one
//  refunded before (ALREADY_REFUNDED), a balance past 2^53 - 1
//  (BALANCE_LIMIT).
int tly_msg_refund (tly_msg_t *msg, const char *purchase_id, const char *reason,
                    tly_error_t *error);

//  Order messages (docs/protocol.md, "Orders"), with a fresh message ID
//  made now. The answer to each is a TLY_RESULT_ORDER: the order as it now
//  is. A user creates an order in draft with 1..TLY_ORDER_ITEMS_MAX lines
//  (each amount 0: the catalog price, or the price named), may edit it
//  (its lines replaced) and submits it: the total is then held on the
//  balance while the order processor has it done. The worker or an admin
//  completes it (the hold captured, one purchase per line) or fails it
//  (the hold released; error_text, NULL or "" for none, shown to the user).
//  createOrder goes to the sender's partition, the others to the order's:
//  seal each in an envelope of its own, or with other messages for that
//  partition.
//
//  Each checks its arguments as the cluster does and returns 0, or -1 with
//  msg untouched and error, when not NULL, saying which (not remote): n
//  not 1..TLY_ORDER_ITEMS_MAX or order_id not an order's object ID
//  (BAD_REQUEST), an item ID empty, too long or not UTF-8 (INVALID_ITEM),
//  an amount below 0 or above 2^53 - 1 (INVALID_AMOUNT), an error text over
//  TLY_ORDER_ERROR_MAX bytes or not UTF-8 (INVALID_NOTE). Prices, the
//  sender, the order's status and the limits are the cluster's: see the
//  protocol for PRICE_MISMATCH, UNKNOWN_ITEM, NOT_FOUND, PERMISSION_DENIED,
//  INVALID_TRANSITION, ORDER_LIMIT, INSUFFICIENT_BALANCE.
int tly_msg_create_order (tly_msg_t *msg, const tly_order_item_t *items, size_t n,
                          tly_error_t *error);
int tly_msg_edit_order (tly_msg_t *msg, const char *order_id, const tly_order_item_t *items,
                        size_t n, tly_error_t *error);
int tly_msg_submit_order (tly_msg_t *msg, const char *order_id, tly_error_t *error);
int tly_msg_complete_order (tly_msg_t *msg, const char *order_id, tly_error_t *error);
int tly_msg_fail_order (tly_msg_t *msg, const char *order_id, const char *error_text,
                        tly_error_t *error);
//  "draft", "processing", "completed", "failed"; "none" for any other value.
const char *tly_order_status_name (Tally__OrderStatus status);

//  Creates a sender connected to gateway_endpoint. worker_id is the inbox
//  ("co_z..."), account the signing identity (copied). Both may be NULL for
//  a sender that only asks for status. Returns NULL on a malformed worker ID
//  or endpoint; the reason is logged through tly_log.
tly_sender_t *tly_sender_new (const char *gateway_endpoint, const char *worker_id,
                              const tly_account_t *account);
//  The same for a gateway that requires CURVE: gateway_key is its public key
//  (40 Z85 characters, or the path of its .key file; NULL: no CURVE). The
//  connection's own key pair is fresh, anyone's. A gateway that refuses the
//  handshake (a wrong key, CURVE required or not offered) ends a send at
//  once with UNAVAILABLE saying so.
tly_sender_t *tly_sender_new_curve (const char *gateway_endpoint, const char *gateway_key,
                                    const char *worker_id, const tly_account_t *account);
void tly_sender_destroy (tly_sender_t **self_p);

//  Attempts per send within the send's timeout (1..TLY_SEND_ATTEMPTS_MAX).
void tly_sender_set_attempts (tly_sender_t *self, int attempts);

//  Signs one envelope for msgs [0..n) and sends it, waiting at most
//  timeout_ms. Returns 0 when the gateway answered with one result per
//  message (each result says ok or why not), -1 otherwise (see
//  tly_sender_error). n must be 1..TLY_BATCH_MAX.
int tly_sender_send (tly_sender_t *self, const tly_msg_t *msgs, size_t n, int timeout_ms,
                     tly_result_t *results);
int tly_sender_send_one (tly_sender_t *self, const tly_msg_t *msg, int timeout_ms,
                         tly_result_t *result);

//  Lower level, for tests and tools. Seal returns a serialized SignedEnvelope
//  for msgs [0..n) stamped timestamp_ms (tly_now_ms () for now), freshly
//  allocated in *bytes_p (caller frees). No limit is enforced on n, so the
//  gateway's own checks can be exercised. Returns 0 or -1.
int tly_sender_seal (tly_sender_t *self, const tly_msg_t *msgs, size_t n, int64_t timestamp_ms,
                     uint8_t **bytes_p, size_t *size_p);
//  Sends signed_envelope bytes verbatim as ClientRequest.send (they need not
//  decode: the gateway then answers BAD_REQUEST to request_id 0, which the
//  sender takes as its answer) and waits like tly_sender_send. On 0, *count
//  results were stored (the count the gateway sent, at most results_max).
int tly_sender_send_raw (tly_sender_t *self, const uint8_t *signed_envelope, size_t size,
                         int timeout_ms, tly_result_t *results, size_t results_max, size_t *count);

//  Pipelined sending, for event loops that drive many senders from one
//  thread. tly_sender_post signs one envelope for msgs [0..n) and queues it
//  for the gateway without waiting; *request_id names it. When the socket
//  from tly_sender_socket polls readable (ZMQ_POLLIN), tly_sender_collect
//  takes one answer without blocking (see tly_collect_t). Post never
//  resends: a caller that gets no answer in time may post the same msgs
//  again, whose message IDs make the cluster apply each at most once and
//  answer a repeat with the first result.
typedef enum {
    TLY_COLLECT_ANSWER = 0,  //  an answer: its *request_id and *count results
                             //  (at most results_max)
    TLY_COLLECT_NONE = 1,    //  no answer is waiting
    TLY_COLLECT_ERROR = -1   //  the answer refused the whole envelope
                             //  (*request_id set; see tly_sender_error), or
                             //  could not be read (*request_id 0)
} tly_collect_t;

int tly_sender_post (tly_sender_t *self, const tly_msg_t *msgs, size_t n, uint64_t *request_id);
tly_collect_t tly_sender_collect (tly_sender_t *self, uint64_t *request_id, tly_result_t *results,
                                  size_t results_max, size_t *count);
void *tly_sender_socket (tly_sender_t *self);

//  Asks the gateway for SystemStatus. Returns 0 or -1.
int tly_sender_status (tly_sender_t *self, int timeout_ms, tly_status_t *status);

//  The error of the last call that returned -1.
const tly_error_t *tly_sender_error (tly_sender_t *self);

//  ---------------------------------------------------------------- watcher
//  Subscriptions: a snapshot, then every later version, verified and in order.

//  Per watcher: the gateway's default limit per client.
#define TLY_WATCH_SUBSCRIPTIONS_MAX TLY_SUBSCRIPTIONS_DEFAULT
#define TLY_WATCH_PING_MS           5000  //  ping interval while subscribed (protocol: <= 10 s)
#define TLY_WATCH_PING_TIMEOUT_MS   3000  //  an unanswered ping means: subscribe again
#define TLY_WATCH_PING_MS_MAX       10000
#define TLY_OBJECT_RECORDS_MAX      1024  //  entries one PurchaseLog version may carry
#define TLY_GROUP_MEMBERS_MAX       1024  //  members of one object's group

typedef struct _tly_watcher_t tly_watcher_t;

//  One purchase record (also the records of a PurchaseLog). Version 1 of a
//  PurchaseRecord object is the purchase; version 2, the only other, is the
//  purchase refunded: refund_id and refunded_at set (docs/protocol.md,
//  "Refunds").
typedef struct {
    char id [TLY_ID_MAX];
    char user_id [TLY_ID_MAX];
    char item_id [TLY_MSG_ITEM_CAP + 1];
    int64_t amount;
    int64_t timestamp;  //  Unix ms
    int64_t balance_after;
    uint64_t partition_seq;       //  the journal record that made it, in its partition
    char refund_id [TLY_ID_MAX];  //  once refunded: the refund's AdjustmentRecord ID ("" before)
    int64_t refunded_at;          //  once refunded: Unix ms (0 before)
} tly_purchase_t;

//  One credit, debit or refund (an AdjustmentRecord object, also in a
//  PurchaseLog). A refund's reference is "refund:" + the purchase's ID, its
//  note the reason; no credit or debit may take such a reference.
typedef struct {
    char id [TLY_ID_MAX];
    char user_id [TLY_ID_MAX];
    int64_t amount;  //  > 0 a credit, < 0 a debit
    char reference [TLY_MSG_REFERENCE_CAP + 1];
    char note [TLY_MSG_NOTE_CAP + 1];
    int64_t timestamp;  //  Unix ms
    int64_t balance_after;
    char by [TLY_ID_MAX];  //  account ID of the sender (the worker or an admin)
} tly_adjustment_t;

//  A user's balance: all their funds, held ones included; the amount
//  available to spend is balance - held (held: the totals of their orders
//  processing).
typedef struct {
    char id [TLY_ID_MAX];
    char user_id [TLY_ID_MAX];
    int64_t balance;
    int64_t last_updated;  //  Unix ms
    int64_t held;
} tly_balance_t;

typedef struct {
    char id [TLY_ID_MAX];
    char user_id [TLY_ID_MAX];
    char balance_id [TLY_ID_MAX];
    char purchases_id [TLY_ID_MAX];
} tly_root_t;

//  A user's history: purchases and adjustments (credits and debits). In a
//  snapshot: the latest entries (at most 100); in an update: only the
//  entries this version added. They come as two lists, each oldest first:
//  records (the purchases) and adjustments; merge them by timestamp for one
//  history. count is the total of entries ever, of both kinds, so
//  record_count + adjustment_count <= count.
typedef struct {
    char id [TLY_ID_MAX];
    char user_id [TLY_ID_MAX];
    uint64_t count;
    size_t record_count;
    tly_purchase_t *records;
    size_t adjustment_count;
    tly_adjustment_t *adjustments;
} tly_purchase_log_t;

typedef struct {
    char id [TLY_ID_MAX];
    char worker_id [TLY_ID_MAX];
    int64_t max_initial_balance;
    int64_t max_amount;
    uint32_t partition_count;
    uint32_t rate_per_minute;  //  the per-user rate limit on buys (0: none)
    uint32_t rate_burst;
    bool open_prices;  //  a buy of an item not in the catalog may name its price
} tly_service_info_t;

//  One item of the price catalog.
typedef struct {
    char item_id [TLY_MSG_ITEM_CAP + 1];
    int64_t price;  //  minor units
    bool active;    //  false: not for sale
} tly_catalog_item_t;

//  The price catalog (readable by everyone): every item ever priced,
//  ascending by item ID bytes, at most TLY_CATALOG_MAX. Each version is the
//  whole catalog (a snapshot or an update alike).
typedef struct {
    char id [TLY_ID_MAX];
    uint64_t config_version;  //  the configuration it is part of
    size_t item_count;
    tly_catalog_item_t *items;
} tly_catalog_t;

typedef struct {
    bool everyone;                    //  the member is everyone (public access)
    uint8_t account [TLY_KEY_BYTES];  //  when not everyone
    Tally__Role role;
} tly_member_t;

//  Who may read the object: the owner, and every member with any role.
typedef struct {
    bool present;
    char id [TLY_ID_MAX];
    bool has_owner;
    uint8_t owner [TLY_KEY_BYTES];
    size_t member_count;
    tly_member_t *members;
} tly_group_t;

//  One verified version of one object, as a callback sees it (valid during
//  the call only). kind says which of the value fields is set. When ended is
//  true the gateway ended the subscription: only kind, id, code and message
//  are set, and no further callback comes for it.
typedef struct {
    tly_object_kind_t kind;
    char id [TLY_ID_MAX];
    uint64_t version;
    int64_t updated_ms;  //  Unix ms
    bool snapshot;       //  a whole state (first, or after a resync):
                         //  replaces the copy; else an update
    bool ended;
    Tally__ErrorCode code;  //  OK; SLOW_CONSUMER on a resync snapshot;
                            //  why, when ended
    char message [TLY_ERROR_TEXT_MAX];
    tly_balance_t balance;          //  TLY_OBJ_BALANCE
    tly_purchase_t purchase;        //  TLY_OBJ_PURCHASE
    tly_root_t root;                //  TLY_OBJ_ROOT
    tly_purchase_log_t purchases;   //  TLY_OBJ_PURCHASE_LOG
    tly_service_info_t service;     //  TLY_OBJ_SERVICE
    tly_adjustment_t adjustment;    //  TLY_OBJ_ADJUSTMENT
    tly_catalog_t catalog;          //  TLY_OBJ_CATALOG
    tly_order_t order;              //  TLY_OBJ_ORDER
    tly_order_list_t orders;        //  TLY_OBJ_ORDER_LIST
    tly_order_queue_t order_queue;  //  TLY_OBJ_ORDER_QUEUE
    tly_group_t group;
} tly_object_t;

//  A callback may not call the watcher that called it.
typedef void (tly_object_fn) (const tly_object_t *object, void *arg);

//  What a watcher refused or repaired, since it was created.
typedef struct {
    uint64_t rejected;      //  bad signature or malformed: dropped
    uint64_t duplicates;    //  versions already delivered: dropped
    uint64_t gaps;          //  a version missing: that object resubscribed
    uint64_t resubscribes;  //  rounds of subscribing everything again
} tly_watcher_stats_t;

//  The IDs of an account's own objects, in a cluster of partition_count
//  partitions (TLY_PARTITIONS_DEFAULT unless configured otherwise), and of
//  the worker's public ServiceInfo and Catalog. out holds TLY_ID_MAX bytes.
void tly_balance_id (const uint8_t account [TLY_KEY_BYTES], uint32_t partition_count, char *out);
void tly_root_id (const uint8_t account [TLY_KEY_BYTES], uint32_t partition_count, char *out);
void tly_purchases_id (const uint8_t account [TLY_KEY_BYTES], uint32_t partition_count, char *out);
void tly_service_id (const uint8_t worker [TLY_KEY_BYTES], char *out);
void tly_catalog_id (const uint8_t worker [TLY_KEY_BYTES], char *out);
//  The account's OrderList (its orders, in its partition). A partition's
//  OrderQueue is tly_order_queue_id (worker, partition, out) (lib).
void tly_orders_id (const uint8_t account [TLY_KEY_BYTES], uint32_t partition_count, char *out);

//  Creates a watcher with its own connection to gateway_endpoint, reading as
//  account (copied), trusting objects signed by worker_id ("co_z..."). Returns
//  NULL on a malformed worker ID or endpoint; the reason is logged.
tly_watcher_t *tly_watcher_new (const char *gateway_endpoint, const char *worker_id,
                                const tly_account_t *account);
//  The same for a gateway that requires CURVE (gateway_key as for
//  tly_sender_new_curve; NULL: no CURVE).
tly_watcher_t *tly_watcher_new_curve (const char *gateway_endpoint, const char *gateway_key,
                                      const char *worker_id, const tly_account_t *account);
void tly_watcher_destroy (tly_watcher_t **self_p);

//  Ping every interval_ms (1..TLY_WATCH_PING_MS_MAX) while subscribed; a ping
//  unanswered after timeout_ms (1..interval_ms) makes the watcher subscribe
//  everything again, as does a new connection to the gateway.
void tly_watcher_set_ping (tly_watcher_t *self, int interval_ms, int timeout_ms);

//  Subscribes to object_id and waits at most timeout_ms for the snapshot,
//  meanwhile dispatching other subscriptions. On 0, fn was called with the
//  verified snapshot, and is called later with each update, and with a fresh
//  snapshot after any resync. Returns -1 (see tly_watcher_error) when refused
//  (PERMISSION_DENIED, NOT_FOUND, ...), on no answer (TIMEOUT, not remote), a
//  bad signature (BAD_SIGNATURE, not remote), or an object ID that is not
//  one, or already followed (BAD_REQUEST, not remote).
int tly_watcher_subscribe (tly_watcher_t *self, const char *object_id, tly_object_fn *fn, void *arg,
                           int timeout_ms);
//  Stops following object_id at once and tells the gateway, waiting at most
//  timeout_ms for its answer. Returns 0, or -1 when it could not be sent
//  (UNAVAILABLE: not connected) or no answer came (TIMEOUT).
int tly_watcher_unsubscribe (tly_watcher_t *self, const char *object_id, int timeout_ms);

//  Receives and checks pushes for at most timeout_ms (-1: no limit), and
//  returns as soon as a callback was made: the number made, 0 when none in
//  time, -1 when interrupted by a signal. Call it often: it also pings the
//  gateway and subscribes again after a gateway restart (fn then gets a
//  fresh snapshot), after a version gap, and after a transient refusal
//  (UNAVAILABLE, TIMEOUT). A push whose signature does not verify is
//  dropped and counted, never passed to fn.
int tly_watcher_dispatch (tly_watcher_t *self, int timeout_ms);

size_t tly_watcher_subscriptions (tly_watcher_t *self);
void tly_watcher_stats (tly_watcher_t *self, tly_watcher_stats_t *stats);
//  The error of the last call that returned -1.
const tly_error_t *tly_watcher_error (tly_watcher_t *self);

#endif
