//  it_bad_input - what the parts of the bad-input test share: the context
//  of a run (the cluster, the sockets, the subject, canary and victim
//  clients), what a row is and what it got, the byte buffer, the envelope
//  and subscribe a row alters, each kind of row's variants (the table in
//  it_bad_input.c names them), and the functions each file gives the
//  others. Names shared between the files start bad_.
#ifndef IT_BAD_INPUT_H_INCLUDED
#define IT_BAD_INPUT_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "it_client.h"
#include "it_cluster.h"
#include "tally.h"
#include "tly_sign.h"

#define BAD_TIMEOUT_MS 10000
//  Expected: no answer; the gateway's side closes the connection.
#define BAD_CLOSED     (-1)
//  How far inside, or past, a time limit the rows at its edge are: the
//  request's own trip to the gateway or actor must fit in it.
#define BAD_EDGE_MS    1000

//  Whether this is an AddressSanitizer build (gcc says so by a macro,
//  clang by a feature).
#if defined(__SANITIZE_ADDRESS__)
#define BAD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BAD_ASAN 1
#endif
#endif
#ifndef BAD_ASAN
#define BAD_ASAN 0
#endif
//  The servers' AddressSanitizer quarantine in a sanitizer build.
#define BAD_ASAN_QUARANTINE_MB 16

//  ---------------------------------------------------------------- context (it_bad_input_bytes.c)

//  A client of the test: a user with an account, and the balance it must have.
typedef struct {
    it_user_t user;
    tly_sender_t *sender;
    int64_t balance;  //  what it must be
} bad_client_t;

//  One run: the cluster, the sockets and clients the rows use.
typedef struct {
    it_cluster_t *cluster;
    zsock_t *probe;  //  raw DEALER to the gateway: the table's requests
    zsock_t *watch;  //  raw DEALER for subscribes
    uint64_t request_id;
    bad_client_t subject;  //  sends the rows' requests
    bad_client_t canary;   //  a valid client, served between rows
    bad_client_t victim;   //  another user: its objects, its money
    char victim_purchase [TLY_ID_MAX];
    char victim_order [TLY_ID_MAX];  //  a draft of the victim's ("": none yet)
    it_user_t stranger;              //  never has an account
    int subjects;                    //  subjects used
    int canary_buys;
    //  The limit of subscriptions per client, as the worker reading others'
    //  objects (the worker may read everything).
    zsock_t *many;
    char (*objects) [TLY_ID_MAX];
    size_t object_count;
    int http_fd;  //  an HTTP client's connection to the gateway's port
    int64_t http_opened_ms;
} bad_ctx_t;

//  What a row got.
typedef struct {
    int code;  //  Tally__ErrorCode, or BAD_CLOSED
    char message [TLY_ERROR_TEXT_MAX];
} bad_got_t;

typedef struct _bad_row_t bad_row_t;
typedef void (bad_run_fn) (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got);

struct _bad_row_t {
    const char *class;
    const char *request;
    int expected;
    int64_t debit;  //  what the row takes from the subject's balance
    bad_run_fn *run;
    int variant;
};

//  A growing byte buffer.
typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
} bad_buf_t;

//  A raw client socket, the gateway's CURVE client when the cluster runs
//  with CURVE (as deployed), not yet connected; and one connected.
zsock_t *bad_client_socket (void);
zsock_t *bad_dealer (const char *endpoint);
//  A new user with an account of the largest initial balance in client.
void bad_client_new (bad_ctx_t *ctx, bad_client_t *client);

//  Appends bytes, a varint, a length-delimited field.
void bad_put (bad_buf_t *buf, const void *bytes, size_t size);
void bad_put_varint (bad_buf_t *buf, uint64_t value);
void bad_put_field (bad_buf_t *buf, uint32_t field, const void *bytes, size_t size);
//  The bytes of a message.
bad_buf_t bad_packed (const ProtobufCMessage *message);
//  Replaces the last 'X' of the first occurrence of text (which holds one)
//  in buf.
void bad_patch_nul (bad_buf_t *buf, const char *text);

//  Sends bytes as one frame.
void bad_send (zsock_t *sock, const void *bytes, size_t size);
//  Waits for the direct answer (not a push) to request_id, or to request_id
//  0 (a frame the gateway did not decode).
Tally__ClientReply *bad_await (zsock_t *sock, uint64_t request_id);
//  The reply's code: the whole request's error, else the first message's
//  error, else OK.
void bad_got_reply (bad_got_t *got, const Tally__ClientReply *reply);
//  Sends bytes as one frame on the probe and takes the answer.
Tally__ClientReply *bad_exchange (bad_ctx_t *ctx, const bad_buf_t *frame, uint64_t request_id,
                                  bad_got_t *got);

//  ---------------------------------------------------------------- requests (it_bad_input_frames.c)

//  An envelope as the SDK makes it (tly_codec_seal), and what to alter.
typedef struct {
    const tly_account_t *signer;  //  signs; NULL: 64 zero bytes
    tly_domain_t domain;
    uint8_t sender [48];
    size_t sender_len;
    uint8_t inbox [48];
    size_t inbox_len;
    int64_t timestamp_ms;
    tly_msg_t *msgs;
    size_t count;
    const char *item;           //  the first buy's item ID instead of its own (any length)
    size_t id_len;              //  bytes of each message ID as sent
    bool no_body;               //  the first message has no body
    bool unknown_body;          //  ... but an unknown field (9) where the body goes
    const uint8_t *tail;        //  bytes appended to the Envelope before signing
    size_t tail_len;            //
    const char *nul;            //  text of the envelope whose 'X' becomes NUL (signed)
    const char *after_signing;  //  text of the envelope changed after signing
    bool cut_envelope;          //  the Envelope's last byte cut off before signing
    size_t signature_len;
    bool flip;           //  one bit of the signature flipped
    size_t pad_to;       //  the ClientRequest padded to this many bytes
    size_t user_len;     //  bytes of the first credit's or debit's user as sent (0: 32)
    size_t order_lines;  //  lines of the first order message as sent (0: its own; more: "line-N")
} bad_env_t;

typedef struct {
    const tly_account_t *signer;  //  NULL: 64 zero bytes
    tly_domain_t domain;
    uint8_t reader [48];
    size_t reader_len;
    const char *object_id;
    int64_t timestamp_ms;
    size_t signature_len;
    bool flip;
    const char *nul;  //  text of the Subscribe whose 'X' becomes NUL (signed)
    bool garbage;     //  Subscribe bytes that are no Subscribe
} bad_sub_t;

//  A valid buy of 1 from the subject, as the SDK would seal it.
void bad_env_default (bad_ctx_t *ctx, bad_env_t *env, tly_msg_t *msg);
//  The SignedEnvelope bytes of env.
bad_buf_t bad_env_sealed (const bad_env_t *env);
//  The ClientRequest frame of a send of sealed bytes; padded to pad_to bytes
//  with an unknown field (15) when pad_to is not 0.
bad_buf_t bad_send_frame (const bad_buf_t *sealed, uint64_t request_id, size_t pad_to);
//  A ping's ClientRequest, request_id first; an unsubscribe's.
bad_buf_t bad_ping_frame (uint64_t request_id);
bad_buf_t bad_unsubscribe_frame (uint64_t request_id, const char *object_id);
//  A subscribe's ClientRequest; a valid subscribe of object_id by reader.
bad_buf_t bad_subscribe_frame (const bad_sub_t *sub, uint64_t request_id);
void bad_sub_default (const it_user_t *reader, const char *object_id, bad_sub_t *sub);
//  Subscribes on sock and takes the answer; an accepted subscription must
//  have brought the object's snapshot. Unsubscribes, which must be answered.
void bad_subscribe (zsock_t *sock, const bad_sub_t *sub, uint64_t request_id, bad_got_t *got);
void bad_unsubscribe (zsock_t *sock, const char *object_id, uint64_t request_id);

//  ---------------------------------------------------------------- rows

//  Envelope rows (it_bad_input_envelope.c).
enum {
    ENV_VALID,
    ENV_SENDER_0,
    ENV_SENDER_31,
    ENV_SENDER_33,
    ENV_INBOX_31,
    ENV_INBOX_33,
    ENV_SIGNATURE_0,
    ENV_SIGNATURE_63,
    ENV_SIGNATURE_65,
    ENV_ID_0,
    ENV_ID_15,
    ENV_ID_17,
    ENV_BATCH_0,
    ENV_BATCH_MAX,
    ENV_BATCH_OVER,
    ENV_DUPLICATE_ID,
    ENV_NO_BODY,
    ENV_UNKNOWN_BODY,
    ENV_FRAME_MAX,
    ENV_FRAME_OVER,
    ENV_ITEM_EMPTY,
    ENV_ITEM_MAX,
    ENV_ITEM_OVER,
    ENV_ITEM_MAX_UTF8,
    ENV_ITEM_OVER_UTF8,
    ENV_ITEM_HUGE,
    ENV_ITEM_NUL,
    ENV_ITEM_ONLY_NUL,
    ENV_ITEM_CONTINUATION,
    ENV_ITEM_OVERLONG,
    ENV_ITEM_SURROGATE,
    ENV_ITEM_ABOVE_MAX,
    ENV_ITEM_TRUNCATED,
    ENV_ITEM_FF,
    ENV_TAIL_FIELD_0,
    ENV_TAIL_WIRE_7,
    ENV_TAIL_GROUP,
    ENV_TAIL_FIELD_HUGE,
    ENV_TAIL_VARINT_11,
    ENV_TAIL_OVERRUN,
    ENV_TAIL_WRONG_TYPE,
    ENV_TAIL_UNKNOWN,
    ENV_CUT,
    ENV_SKEW_PAST_EDGE,
    ENV_SKEW_PAST,
    ENV_SKEW_FUTURE_EDGE,
    ENV_SKEW_FUTURE,
    ENV_SKEW_ZERO,
    ENV_SKEW_MIN,
    ENV_SKEW_MAX,
    ENV_ID_OLD_EDGE,
    ENV_ID_OLD,
    ENV_ID_AHEAD_EDGE,
    ENV_ID_AHEAD,
    ENV_INBOX_STRANGER,
    ENV_INBOX_SELF,
    ENV_NO_ACCOUNT,
    ENV_FLIP,
    ENV_ZERO_SIGNATURE,
    ENV_OTHER_KEY,
    ENV_VICTIM_SENDER,
    ENV_OTHER_DOMAIN,
    ENV_ALTERED,
    ENV_ZERO_SENDER,
    ENV_AMOUNT_ZERO,
    ENV_AMOUNT_MINUS,
    ENV_AMOUNT_MIN,
    ENV_AMOUNT_MAX,
    ENV_AMOUNT_OVER,
    ENV_AMOUNT_INT64_MAX,
    ENV_AMOUNT_BALANCE_OVER,
    ENV_INITIAL_MAX,
    ENV_INITIAL_ZERO,
    ENV_INITIAL_OVER,
    ENV_INITIAL_MINUS,
    ENV_INITIAL_MIN,
    ENV_INITIAL_AGAIN,
    ENV_CREDIT_NOT_WORKER,
    ENV_CREDIT_USER_31,
    ENV_CREDIT_ZERO,
    ENV_CREDIT_NO_REFERENCE,
    ENV_CREDIT_REFERENCE_OVER,
    ENV_CREDIT_NOTE_OVER,
    ENV_CREDIT_NO_ACCOUNT,
    ENV_CREDIT_LIMIT,
    ENV_DEBIT_OVER,
    ENV_PRICE_NOT_ADMIN,
    ENV_PRICE_ZERO,
    ENV_PRICE_OVER,
    ENV_ADMIN_WORKER,
    ENV_ADMIN_NOT_WORKER,
    ENV_ADMIN_MIXED,
    ENV_BUY_MISMATCH,
    ENV_BUY_INACTIVE,
    ENV_REFUND_NOT_ADMIN,
    ENV_REFUND_TWICE,
    ENV_REFUND_UNKNOWN,
    ENV_REFUND_NOT_PURCHASE,
    ENV_ORDER_LINES_0,
    ENV_ORDER_LINES_MAX,
    ENV_ORDER_LINES_OVER,
    ENV_ORDER_ITEM_OVER,
    ENV_ORDER_AMOUNT_MINUS,
    ENV_ORDER_ID_PURCHASE,
    ENV_ORDER_ERROR_OVER,
    ENV_ORDER_ERROR_MAX,
    ENV_ORDER_OTHERS,
    ENV_ORDER_ID_NUL
};

enum {
    REPLAY_SAME_BYTES,
    REPLAY_AFTER_OTHERS,
    REPLAY_RESIGNED
};

//  Fills item with length fill characters, then end.
void bad_item_of (char *item, size_t size, char fill, size_t length, const char *end);
void bad_run_envelope (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got);
void bad_run_amount_varint (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got);
void bad_run_replay (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got);

//  Raw frames and connections the gateway closes (it_bad_input_raw.c).
enum {
    RAW_EMPTY,
    RAW_NOT_PROTOBUF,
    RAW_CUT_ONE,
    RAW_CUT_HALF,
    RAW_FIELD_0,
    RAW_WIRE_7,
    RAW_GROUP,
    RAW_FIELD_HUGE,
    RAW_VARINT_11,
    RAW_OVERRUN,
    RAW_WRONG_TYPE,
    RAW_NO_BODY,
    RAW_UNKNOWN_BODY,
    RAW_ENVELOPE_JUNK,
    RAW_UNKNOWN_FIELD,
    RAW_PING,
    RAW_STATUS,
    RAW_TWO_FRAMES,
    RAW_HARD_MAX,
    RAW_UNSUBSCRIBE_NUL,
    RAW_UNSUBSCRIBE_UTF8,
    RAW_UNSUBSCRIBE_GARBAGE,
    RAW_UNSUBSCRIBE_UNFOLLOWED
};

//  Frames the gateway's connection cannot carry: one byte over
//  ZMQ_MAXMSGSIZE on a ZeroMQ socket, and bytes that are not ZMTP at all.
//  Either way libzmq closes the connection, with no answer.
enum {
    CLOSED_OVER_HARD_MAX,
    CLOSED_NOT_ZMTP,
    CLOSED_HTTP
};

//  A plain TCP connection to the gateway's port, which has sent bytes.
int bad_tcp_connect (bad_ctx_t *ctx, const void *bytes, size_t size);
void bad_run_raw (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got);
void bad_run_closed (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got);

//  Subscribes and the limit per client (it_bad_input_subscribe.c).
enum {
    SUB_OWN,
    SUB_SERVICE,
    SUB_FLIP,
    SUB_OTHER_KEY,
    SUB_OTHER_DOMAIN,
    SUB_ZERO_SIGNATURE,
    SUB_READER_31,
    SUB_READER_33,
    SUB_SIGNATURE_63,
    SUB_GARBAGE,
    SUB_SKEW_PAST_EDGE,
    SUB_SKEW_PAST,
    SUB_SKEW_FUTURE_EDGE,
    SUB_SKEW_FUTURE,
    SUB_VICTIM_BALANCE,
    SUB_VICTIM_ROOT,
    SUB_VICTIM_PURCHASE,
    SUB_NEVER_CREATED,
    SUB_NO_PURCHASE,
    SUB_PARTITION_LAST,
    SUB_PARTITION_OVER,
    SUB_PARTITION_MAX,
    SUB_KIND_UNKNOWN,
    SUB_GROUP,
    SUB_ID_MAX,
    SUB_ID_HUGE,
    SUB_ID_UTF8,
    SUB_ID_NUL,
    SUB_ID_EMPTY
};

enum {
    MANY_AT_LIMIT,
    MANY_OVER,
    MANY_AGAIN
};

void bad_run_subscribe (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got);
void bad_run_many (bad_ctx_t *ctx, const bad_row_t *row, bad_got_t *got);

//  ---------------------------------------------------------------- the table and the flood

//  A valid client buys 1 and must get the balance it should have
//  (it_bad_input.c).
void bad_canary (bad_ctx_t *ctx);
//  One client floods the gateway with junk: all of it answered, memory and
//  log bounded, every refusal in the per-peer report, a valid client served
//  (it_bad_input_flood.c).
void bad_flood (bad_ctx_t *ctx);

#endif
