//  tly_limits - every fixed limit in tally, in one place.
//  Configurable limits have a default here and a flag in the owning process.
#ifndef TLY_LIMITS_H_INCLUDED
#define TLY_LIMITS_H_INCLUDED

#define TLY_KEY_BYTES        32  //  Ed25519 / X25519 public key
#define TLY_SECRET_KEY_BYTES 64  //  Ed25519 secret key, libsodium form: seed | public key
#define TLY_SIGNATURE_BYTES  64
#define TLY_MESSAGE_ID_BYTES 16
#define TLY_HASH_BYTES       32    //  BLAKE2b-256
#define TLY_ID_MAX           64    //  "co_z" + base58(32 bytes) + NUL fits
#define TLY_SECRET_MAX       160   //  "sealerSecret_z.../signerSecret_z..." + NUL
#define TLY_ITEM_ID_MAX      128   //  bytes of UTF-8
#define TLY_REFERENCE_MAX    128   //  bytes of UTF-8: a credit's or debit's reference
#define TLY_NOTE_MAX         256   //  bytes of UTF-8: a credit's or debit's note
#define TLY_ADMINS_MAX       64    //  accounts in the admin group, besides the worker
#define TLY_CATALOG_MAX      1024  //  items in the price catalog
//  Orders (docs/protocol.md "Orders").
#define TLY_ORDER_ITEMS_MAX  16   //  lines of one order
#define TLY_ORDER_OPEN_MAX   16   //  a user's orders in draft or processing at once
#define TLY_ORDER_QUEUE_MAX  256  //  orders processing in one partition at once
#define TLY_ORDER_LIST_MAX   32   //  orders an OrderList shows: the latest created
#define TLY_ORDER_ERROR_MAX  256  //  bytes of UTF-8: a failed order's error
//  The largest balance, and so the largest credit or debit: 2^53 - 1, the
//  largest integer every client language reads exactly (a JavaScript
//  number). A credit that would pass it is refused BALANCE_LIMIT.
#define TLY_BALANCE_MAX      9007199254740991LL
#define TLY_ACTOR_NAME_MAX   64  //  bytes of a balance actor's --name, sent in every hello

#define TLY_PARTITIONS_DEFAULT 256
#define TLY_PARTITIONS_MAX     65536

#define TLY_BATCH_MAX             256                //  messages in one envelope
#define TLY_FRAME_MAX_DEFAULT     (128 * 1024)       //  bytes of one client frame
#define TLY_FRAME_HARD_MAX        (4 * 1024 * 1024)  //  ZMQ_MAXMSGSIZE on every socket
//  The largest --max-frame: a client frame the gateway takes must cross
//  every hop after it inside another message (a Route, boxed by CURVE) and
//  fit one journal draft with its results and events (tly_batch.h checks).
#define TLY_FRAME_CLIENT_MAX      (512 * 1024)
#define TLY_SKEW_MS_DEFAULT       30000  //  accepted |gateway clock - envelope timestamp|
//  Gateway: subscriptions per client; an SDK watcher follows at most this many.
#define TLY_SUBSCRIPTIONS_DEFAULT 1024

//  Balance actor: how long a message ID is remembered (and taken), by the
//  time it carries (tly_message_id.h): IDs older than the window, or further
//  ahead of the actor's clock, are refused STALE_MESSAGE_ID. At least an
//  envelope's life at the gateway (timestamp within +-skew) on both sides.
#define TLY_DEDUPE_WINDOW_MS_DEFAULT 60000
#define TLY_DEDUPE_WINDOW_MS_MIN     1000
#define TLY_DEDUPE_WINDOW_MS_MAX     (7LL * 24 * 3600 * 1000)

//  State snapshots (docs/journal.md): a served partition is saved once it
//  has this many new records, or has had one waiting this long.
#define TLY_STATE_SNAPSHOT_RECORDS_DEFAULT 2000
#define TLY_STATE_SNAPSHOT_MS_DEFAULT      60000

//  Balance actor: purchase records each user keeps in the live state
//  (--keep-purchases N): recording a user's purchase number k drops number
//  k - N, so the state holds at most N records a user; the journal keeps
//  every one. At least a PurchaseLog snapshot's records (tly_objects.h
//  checks it), so that a log snapshot is always whole.
#define TLY_KEEP_PURCHASES_DEFAULT 1000
#define TLY_KEEP_PURCHASES_MIN     100
#define TLY_KEEP_PURCHASES_MAX     1000000

//  Balance actor: the per-user rate limit on buys (--rate-per-minute N,
//  --rate-burst B; docs/architecture.md "Rate limit"): a token bucket of B
//  tokens, N added a minute; 0 (the default) turns it off.
#define TLY_RATE_PER_MINUTE_MAX 6000000  //  100,000 a second
#define TLY_RATE_BURST_MAX      1000000
//  A token, in the bucket's units: a minute's worth of ms, so that N a
//  minute adds exactly N units each ms.
#define TLY_RATE_TOKEN          60000

#define TLY_INITIAL_MAX_DEFAULT 100           //  createAccount initialBalance limit
#define TLY_AMOUNT_MAX_DEFAULT  1000000000LL  //  buy amount limit

#define TLY_REQUEST_TIMEOUT_MS   10000  //  gateway: give up on a routed envelope
//  Gateway: rejection lines logged per window (of requests, of subscribes);
//  the rest are counted in one log.suppressed line (tly_log_limited).
#define TLY_REJECT_LOG_BURST     20
#define TLY_REJECT_LOG_WINDOW_MS 1000
//  Gateway: every refusal is also counted, per peer address, and reported
//  once a window in one client.rejections line per peer, for this many
//  peers; one peer=others line sums the rest (tly_gateway_rejects).
#define TLY_REJECT_PEERS_MAX     16
#define TLY_ROUTE_ATTEMPT_MS     3000  //  router: one delivery attempt
#define TLY_ROUTE_ATTEMPTS       3     //  router: delivery attempts per envelope
#define TLY_HEARTBEAT_MS         500   //  actor: hello interval
#define TLY_HEARTBEAT_LIVENESS   6     //  actor: silent intervals before the router is gone

//  Whether an actor is there is watched below the application, by the
//  ZMTP heartbeats of both I/O threads, so that a long batch never delays
//  it: each side PINGs the other every TLY_LINK_PING_MS, and the router's
//  I/O thread closes an actor's link when nothing at all (PING, PONG or
//  message) came back within TLY_LINK_TIMEOUT_MS of one of its PINGs: a
//  killed, stopped or cut-off actor. The router heartbeats every actor
//  every TLY_ROUTER_HEARTBEAT_MS, and a closed link refuses that send
//  (EHOSTUNREACH): the actor is lost then. An actor whose link is up but
//  whose loop sends no hello for TLY_ROUTER_LIVENESS heartbeats (a hung
//  loop) is lost too, much later.
#define TLY_LINK_PING_MS        100
#define TLY_LINK_TIMEOUT_MS     500
#define TLY_ROUTER_HEARTBEAT_MS 100
#define TLY_ROUTER_LIVENESS     100  //  x 100 ms: 10 s without a hello

#define TLY_ACTOR_BATCH_MAX  1024  //  envelopes drained into one journal append
#define TLY_AUDIT_DRAIN_MAX  256   //  append requests group-committed together
#define TLY_READ_RECORDS_MAX 1024  //  records in one ReadReply

#define TLY_LMDB_MAP_DEFAULT     (4ULL << 30)  //  bytes of address space per LMDB env, at first
//  How far an LMDB map may grow (--map-max): on MDB_MAP_FULL the journal and
//  the actors' state double their map up to this, then report storage full.
#define TLY_LMDB_MAP_MAX_DEFAULT (256ULL << 30)
//  The smallest map (--map-size, --map-max) a server accepts.
#define TLY_LMDB_MAP_MIN         (1ULL << 20)
_Static_assert(TLY_LMDB_MAP_MIN <= TLY_LMDB_MAP_DEFAULT
                   && TLY_LMDB_MAP_DEFAULT <= TLY_LMDB_MAP_MAX_DEFAULT,
               "the default map starts at or below its default maximum");

//  A stored journal record (StoredRecord bytes) at most: the audit writer
//  refuses a larger one, so that any single record fits in one ReadReply
//  under the hard frame cap. The balance actor sizes its drafts below it.
#define TLY_JOURNAL_RECORD_MAX (TLY_FRAME_HARD_MAX / 2)

_Static_assert(TLY_PARTITIONS_DEFAULT >= 1 && TLY_PARTITIONS_DEFAULT <= TLY_PARTITIONS_MAX,
               "the default partition count is a valid one");
_Static_assert(TLY_FRAME_MAX_DEFAULT <= TLY_FRAME_CLIENT_MAX
                   && TLY_FRAME_CLIENT_MAX + 64 * 1024 <= TLY_FRAME_HARD_MAX,
               "a client frame the gateway accepts passes every socket, wrapped for the"
               " router and the actor and boxed by CURVE on the way");
_Static_assert(TLY_DEDUPE_WINDOW_MS_DEFAULT >= 2 * TLY_SKEW_MS_DEFAULT,
               "an envelope the gateway takes at the edge of its skew still carries IDs the"
               " actors remember, for the whole time the gateway may take it");
_Static_assert(TLY_KEEP_PURCHASES_MIN <= TLY_KEEP_PURCHASES_DEFAULT
                   && TLY_KEEP_PURCHASES_DEFAULT <= TLY_KEEP_PURCHASES_MAX,
               "the default of --keep-purchases is inside its range");
_Static_assert(TLY_ROUTE_ATTEMPTS *TLY_ROUTE_ATTEMPT_MS < TLY_REQUEST_TIMEOUT_MS,
               "the router's last attempt ends before the gateway answers TIMEOUT, so a"
               " client hears the router's own answer");

#endif
