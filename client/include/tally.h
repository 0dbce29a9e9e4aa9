//  tally.h - libtally, the C SDK for tally clients.
//
//  A sender talks to one gateway on behalf of one account, addressing one
//  worker inbox (like Jazz's InboxSender.load (workerId, account)):
//
//      tly_sender_t *sender = tly_sender_new ("tcp://127.0.0.1:7700", worker_id, &me);
//      tly_msg_t msg;
//      tly_msg_buy (&msg, "item-123", 25);
//      tly_result_t result;
//      if (tly_sender_send_one (sender, &msg, 10000, &result) == 0 && result.ok)
//          printf ("balance after: %lld\n", (long long) result.balance_after);
//      tly_sender_destroy (&sender);
//
//  Every message carries a random 16-byte ID chosen when it is built. A send
//  signs one envelope for all its messages and, when a reply is late, resends
//  the very same signed bytes: the cluster deduplicates by message ID, so a
//  retry never charges twice.
#ifndef TALLY_H_INCLUDED
#define TALLY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tly_id.h"
#include "tly_limits.h"
#include "tly_validate.h"

//  The SDK carries item IDs up to twice the server's limit, so that callers
//  can exercise the server's own check (INVALID_ITEM) at its edge.
#define TLY_MSG_ITEM_CAP         (2 * TLY_ITEM_ID_MAX)
#define TLY_ERROR_TEXT_MAX       256
//  Attempts a send makes within its timeout (each resends the same bytes).
#define TLY_SEND_ATTEMPTS        3
#define TLY_SEND_ATTEMPTS_MAX    16

typedef struct _tly_sender_t tly_sender_t;

typedef enum {
    TLY_MSG_CREATE_ACCOUNT = 1,
    TLY_MSG_BUY = 2
} tly_msg_kind_t;

//  One inbox message, ready to be sealed into an envelope.
typedef struct {
    uint8_t id [TLY_MESSAGE_ID_BYTES];
    tly_msg_kind_t kind;
    int64_t initial_balance;                //  TLY_MSG_CREATE_ACCOUNT
    char item_id [TLY_MSG_ITEM_CAP + 1];    //  TLY_MSG_BUY
    int64_t amount;                         //  TLY_MSG_BUY
} tly_msg_t;

typedef enum {
    TLY_RESULT_ERROR = 0,
    TLY_RESULT_BALANCE = 1,                 //  answer to createAccount: a UserBalance
    TLY_RESULT_PURCHASE = 2                 //  answer to buy: a PurchaseRecord
} tly_result_kind_t;

//  The outcome of one message. When ok, kind says which fields are set;
//  otherwise code and message say why the message was refused.
typedef struct {
    uint8_t message_id [TLY_MESSAGE_ID_BYTES];
    bool ok;
    tly_result_kind_t kind;
    Tally__ErrorCode code;
    char message [TLY_ERROR_TEXT_MAX];
    char id [TLY_ID_MAX];                   //  object ID of the balance or purchase
    char user_id [TLY_ID_MAX];
    int64_t balance;                        //  TLY_RESULT_BALANCE
    int64_t last_updated;                   //  TLY_RESULT_BALANCE, Unix ms
    char item_id [TLY_MSG_ITEM_CAP + 1];    //  TLY_RESULT_PURCHASE
    int64_t amount;                         //  TLY_RESULT_PURCHASE
    int64_t timestamp;                      //  TLY_RESULT_PURCHASE, Unix ms
    int64_t balance_after;                  //  TLY_RESULT_PURCHASE
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

//  The router's view of the cluster, as the gateway reports it.
typedef struct {
    bool ready;                             //  every partition has a live owner
    uint32_t partition_count;
    uint32_t partitions_owned;
    uint32_t actors;
    uint64_t epoch;
} tly_status_t;

//  Fill msg with a fresh random message ID. Return 0, or -1 when item does
//  not fit TLY_MSG_ITEM_CAP bytes. Values are not validated here: the
//  cluster is the authority and answers INVALID_AMOUNT and the like.
int  tly_msg_create_account (tly_msg_t *msg, int64_t initial_balance);
int  tly_msg_buy (tly_msg_t *msg, const char *item_id, int64_t amount);

//  Creates a sender connected to gateway_endpoint. worker_id is the inbox
//  ("co_z..."), account the signing identity (copied). Both may be NULL for
//  a sender that only asks for status. Returns NULL on a malformed worker ID
//  or endpoint; the reason is logged through tly_log.
tly_sender_t *tly_sender_new (const char *gateway_endpoint, const char *worker_id,
                              const tly_account_t *account);
void tly_sender_destroy (tly_sender_t **self_p);

//  Attempts per send within the send's timeout (1..TLY_SEND_ATTEMPTS_MAX).
void tly_sender_set_attempts (tly_sender_t *self, int attempts);

//  Signs one envelope for msgs [0..n) and sends it, waiting at most
//  timeout_ms. Returns 0 when the gateway answered with one result per
//  message (each result says ok or why not), -1 otherwise (see
//  tly_sender_error). n must be 1..TLY_BATCH_MAX.
int  tly_sender_send (tly_sender_t *self, const tly_msg_t *msgs, size_t n, int timeout_ms,
                      tly_result_t *results);
int  tly_sender_send_one (tly_sender_t *self, const tly_msg_t *msg, int timeout_ms,
                          tly_result_t *result);

//  Lower level, for tests and tools. Seal returns a serialized SignedEnvelope
//  for msgs [0..n) stamped timestamp_ms (tly_now_ms () for now), freshly
//  allocated in *bytes_p (caller frees). No limit is enforced on n, so the
//  gateway's own checks can be exercised. Returns 0 or -1.
int  tly_sender_seal (tly_sender_t *self, const tly_msg_t *msgs, size_t n, int64_t timestamp_ms,
                      uint8_t **bytes_p, size_t *size_p);
//  Sends signed_envelope bytes verbatim as ClientRequest.send (they need not
//  decode: the gateway then answers BAD_REQUEST to request_id 0, which the
//  sender takes as its answer) and waits like tly_sender_send. On 0, *count
//  results were stored (the count the gateway sent, at most results_max).
int  tly_sender_send_raw (tly_sender_t *self, const uint8_t *signed_envelope, size_t size,
                          int timeout_ms, tly_result_t *results, size_t results_max,
                          size_t *count);

//  Asks the gateway for SystemStatus. Returns 0 or -1.
int  tly_sender_status (tly_sender_t *self, int timeout_ms, tly_status_t *status);

//  The error of the last call that returned -1.
const tly_error_t *tly_sender_error (tly_sender_t *self);

#endif
