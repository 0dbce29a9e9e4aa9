//  tly_bus - a balance actor's end of the update bus.
#include "tly_bus.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "tly_fault.h"
#include "tly_log.h"
#include "tly_sign.h"
#include "tly_wire.h"

#define S_PRUNE_MS    1000  //  how often expired leases are forgotten
#define S_PRUNE_MAX   4096  //  entries forgotten per prune
#define S_SUBSCRIBE   1
#define S_UNSUBSCRIBE 0

typedef struct s_interest_t s_interest_t;
struct s_interest_t {
    bool subscribed;
    int64_t lease_until;  //  monotonic ms; 0 when never leased
    uint8_t topic [TLY_BUS_TOPIC_BYTES];
    s_interest_t *prev;  //  in its partition's list
    s_interest_t *next;
    //  Published as an update and not since as its current state: in the
    //  settle list, oldest first, due at settle_at (monotonic ms).
    int64_t settle_at;
    bool settling;
    s_interest_t *settle_prev;
    s_interest_t *settle_next;
};

struct _tly_bus_t {
    zsock_t *sock;
    uint8_t sign_sk [TLY_SECRET_KEY_BYTES];
    int64_t lease_ms;
    zhashx_t *topics;             //  19-byte topic -> s_interest_t
    s_interest_t **by_partition;  //  TLY_PARTITIONS_MAX lists: each partition's entries
    size_t untracked;             //  subscriptions past TLY_BUS_TOPICS_MAX
    int64_t prune_at;
    uint8_t *buffer;  //  packed ObjectState, reused
    size_t buffer_size;
    uint64_t dropped;
    int64_t settle_ms;
    s_interest_t *settle_head;  //  due first
    s_interest_t *settle_tail;
};

//  Topic hashing is keyed: gateways pass client-chosen object IDs up.
static uint8_t s_hash_key [crypto_shorthash_KEYBYTES];

static size_t
s_hash (const void *key)
{
    uint8_t hash [crypto_shorthash_BYTES];
    crypto_shorthash (hash, key, TLY_BUS_TOPIC_BYTES, s_hash_key);
    size_t value;
    memcpy (&value, hash, sizeof value);
    return value;
}

static int
s_compare (const void *a, const void *b)
{
    return memcmp (a, b, TLY_BUS_TOPIC_BYTES);
}

static void *
s_duplicate (const void *key)
{
    void *copy = malloc (TLY_BUS_TOPIC_BYTES);
    assert (copy);
    memcpy (copy, key, TLY_BUS_TOPIC_BYTES);
    return copy;
}

static void
s_free (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

tly_bus_t *
tly_bus_new (const char *endpoint, tly_curve_t *curve, const uint8_t sign_sk [TLY_SECRET_KEY_BYTES],
             int64_t lease_ms)
{
    assert (endpoint && sign_sk);
    assert (lease_ms > 0);
    if (sodium_init () < 0)
        return NULL;
    tly_bus_t *self = calloc (1, sizeof (tly_bus_t));
    if (!self)
        return NULL;
    static bool keyed = false;
    if (!keyed)
        crypto_shorthash_keygen (s_hash_key);
    keyed = true;
    memcpy (self->sign_sk, sign_sk, sizeof self->sign_sk);
    self->lease_ms = lease_ms;
    self->settle_ms = TLY_BUS_SETTLE_MS;
    self->prune_at = tly_mono_ms () + S_PRUNE_MS;
    self->topics = zhashx_new ();
    //  Untouched pages cost nothing: only the partitions watched are used.
    self->by_partition = calloc (TLY_PARTITIONS_MAX, sizeof (s_interest_t *));
    self->sock = zsock_new (ZMQ_XPUB);
    if (!self->topics || !self->by_partition || !self->sock) {
        tly_bus_destroy (&self);
        return NULL;
    }
    zhashx_set_key_hasher (self->topics, s_hash);
    zhashx_set_key_comparator (self->topics, s_compare);
    zhashx_set_key_duplicator (self->topics, s_duplicate);
    zhashx_set_key_destructor (self->topics, s_free);
    zhashx_set_destructor (self->topics, s_free);
    zsock_set_linger (self->sock, 0);
    zsock_set_sndhwm (self->sock, TLY_BUS_SEND_HWM);
    zsock_set_maxmsgsize (self->sock, TLY_FRAME_HARD_MAX);
    char error [512];
    if (curve
        && tly_curve_connect (curve, self->sock, endpoint, TLY_CURVE_ROUTER, error, sizeof error)) {
        tly_log (TLY_ERROR, "connect_failed", "endpoint=%s error=\"%s\"", endpoint, error);
        tly_bus_destroy (&self);
        return NULL;
    }
    if (zsock_connect (self->sock, "%s", endpoint) == -1) {
        tly_log (TLY_ERROR, "connect_failed", "endpoint=%s error=\"%s\"", endpoint,
                 zmq_strerror (zmq_errno ()));
        tly_bus_destroy (&self);
    }
    return self;
}

void
tly_bus_destroy (tly_bus_t **self_p)
{
    assert (self_p);
    tly_bus_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->sock);
    zhashx_destroy (&self->topics);
    free (self->by_partition);
    sodium_memzero (self->sign_sk, sizeof self->sign_sk);
    free (self->buffer);
    free (self);
    *self_p = NULL;
}

void *
tly_bus_socket (tly_bus_t *self)
{
    assert (self);
    return zsock_resolve (self->sock);
}

//  ---------------------------------------------------------------- interest

//  The entry of topic, made when there is room. NULL when there is none.
static s_interest_t *
s_entry (tly_bus_t *self, const uint8_t *topic)
{
    s_interest_t *interest = zhashx_lookup (self->topics, topic);
    if (interest || zhashx_size (self->topics) >= TLY_BUS_TOPICS_MAX)
        return interest;
    interest = calloc (1, sizeof *interest);
    assert (interest);
    memcpy (interest->topic, topic, TLY_BUS_TOPIC_BYTES);
    int rc = zhashx_insert (self->topics, topic, interest);
    assert (rc == 0);
    s_interest_t **head = &self->by_partition [tly_object_key_partition (topic)];
    interest->next = *head;
    if (*head)
        (*head)->prev = interest;
    *head = interest;
    return interest;
}

//  Takes the entry out of the settle list, if it is in it.
static void
s_settle_unlink (tly_bus_t *self, s_interest_t *interest)
{
    if (!interest->settling)
        return;
    if (interest->settle_prev)
        interest->settle_prev->settle_next = interest->settle_next;
    else
        self->settle_head = interest->settle_next;
    if (interest->settle_next)
        interest->settle_next->settle_prev = interest->settle_prev;
    else
        self->settle_tail = interest->settle_prev;
    interest->settle_prev = interest->settle_next = NULL;
    interest->settling = false;
}

//  The entry's object was just published as an update: it settles
//  settle_ms from now, after any later change (so at the list's tail).
static void
s_settle_later (tly_bus_t *self, s_interest_t *interest, int64_t now)
{
    s_settle_unlink (self, interest);
    interest->settle_at = now + self->settle_ms;
    interest->settling = true;
    interest->settle_prev = self->settle_tail;
    if (self->settle_tail)
        self->settle_tail->settle_next = interest;
    else
        self->settle_head = interest;
    self->settle_tail = interest;
}

//  Forgets the entry (and frees it).
static void
s_forget (tly_bus_t *self, s_interest_t *interest)
{
    s_settle_unlink (self, interest);
    if (interest->prev)
        interest->prev->next = interest->next;
    else
        self->by_partition [tly_object_key_partition (interest->topic)] = interest->next;
    if (interest->next)
        interest->next->prev = interest->prev;
    //  Deleting frees the entry: delete by a copy of its topic.
    uint8_t topic [TLY_BUS_TOPIC_BYTES];
    memcpy (topic, interest->topic, sizeof topic);
    zhashx_delete (self->topics, topic);
}

static void
s_subscribe (tly_bus_t *self, const uint8_t *topic)
{
    s_interest_t *interest = s_entry (self, topic);
    if (interest) {
        //  Newly watched: its current state goes out once it settles, as
        //  this actor may have decided changes of it before it knew (a new
        //  owner learns who watches what after it has started serving).
        if (!interest->subscribed)
            s_settle_later (self, interest, tly_mono_ms ());
        interest->subscribed = true;
        return;
    }
    if (self->untracked++ == 0)
        tly_log (TLY_WARN, "bus.topics_full",
                 "topics=%d hint=\"every object is published "
                 "while subscriptions exceed the limit\"",
                 TLY_BUS_TOPICS_MAX);
}

static void
s_unsubscribe (tly_bus_t *self, const uint8_t *topic)
{
    s_interest_t *interest = zhashx_lookup (self->topics, topic);
    if (interest && interest->subscribed) {
        interest->subscribed = false;
        if (interest->lease_until <= tly_mono_ms ())
            s_forget (self, interest);
    } else if (self->untracked > 0)
        self->untracked--;  //  one that did not fit
}

void
tly_bus_on_socket (tly_bus_t *self)
{
    assert (self);
    void *sock = zsock_resolve (self->sock);
    for (int i = 0; i < TLY_BUS_DRAIN_MAX; i++) {
        uint8_t message [1 + TLY_BUS_TOPIC_BYTES + 1];
        int size = zmq_recv (sock, message, sizeof message, ZMQ_DONTWAIT);
        if (size == -1)
            break;
        //  An empty topic is the router's subscription to everything: it
        //  says nothing about who watches what.
        if (size == 1 && (message [0] == S_SUBSCRIBE || message [0] == S_UNSUBSCRIBE))
            continue;
        if (size != 1 + TLY_BUS_TOPIC_BYTES
            || (message [0] != S_SUBSCRIBE && message [0] != S_UNSUBSCRIBE)) {
            tly_log (TLY_DEBUG, "bus.bad_subscription", "size=%d", size);
            continue;
        }
        if (message [0] == S_SUBSCRIBE)
            s_subscribe (self, message + 1);
        else
            s_unsubscribe (self, message + 1);
    }
}

bool
tly_bus_idle (tly_bus_t *self)
{
    assert (self);
    return zhashx_size (self->topics) == 0 && self->untracked == 0;
}

bool
tly_bus_watched (tly_bus_t *self, const uint8_t topic [TLY_BUS_TOPIC_BYTES])
{
    assert (self && topic);
    if (self->untracked > 0)
        return true;
    s_interest_t *interest = zhashx_lookup (self->topics, topic);
    return interest && (interest->subscribed || interest->lease_until > tly_mono_ms ());
}

void
tly_bus_tick (tly_bus_t *self)
{
    assert (self);
    int64_t now = tly_mono_ms ();
    if (now < self->prune_at)
        return;
    self->prune_at = now + S_PRUNE_MS;
    s_interest_t *expired [S_PRUNE_MAX];
    size_t count = 0;
    for (s_interest_t *interest = zhashx_first (self->topics); interest && count < S_PRUNE_MAX;
         interest = zhashx_next (self->topics))
        if (!interest->subscribed && interest->lease_until <= now)
            expired [count++] = interest;
    //  Not while walking the table: forgetting deletes from it.
    for (size_t i = 0; i < count; i++)
        s_forget (self, expired [i]);
}

void
tly_bus_each_watched (tly_bus_t *self, uint32_t partition, tly_bus_topic_fn *fn, void *arg)
{
    assert (self && fn);
    assert (partition < TLY_PARTITIONS_MAX);
    int64_t now = tly_mono_ms ();
    for (s_interest_t *interest = self->by_partition [partition]; interest;
         interest = interest->next)
        if (interest->subscribed || interest->lease_until > now)
            fn (interest->topic, arg);
}

//  ---------------------------------------------------------------- publishing

static int
s_publish (tly_bus_t *self, const uint8_t topic [TLY_BUS_TOPIC_BYTES],
           const Tally__ObjectState *state, const ProtobufCBinaryData *requester, bool current)
{
    assert (self && topic && state);
    assert (!requester || requester->len <= TLY_BUS_REQUESTER_MAX);
    if (requester && requester->len > 0) {
        s_interest_t *interest = s_entry (self, topic);
        if (interest)
            interest->lease_until = tly_mono_ms () + self->lease_ms;
    } else {
        //  An update settles later; the current state has settled now.
        s_interest_t *interest = zhashx_lookup (self->topics, topic);
        if (interest && current)
            s_settle_unlink (self, interest);
        else if (interest)
            s_settle_later (self, interest, tly_mono_ms ());
    }
    //  A fault test drops an update here, as a full high-water mark on any
    //  hop would: silently.
    if (!current && !(requester && requester->len > 0) && TLY_FAULT ("bus.publish"))
        return 0;
    size_t size = tally__object_state__get_packed_size (state);
    if (size > self->buffer_size) {
        free (self->buffer);
        self->buffer = malloc (size);
        assert (self->buffer);
        self->buffer_size = size;
    }
    size_t packed = tally__object_state__pack (state, self->buffer);
    assert (packed == size);
    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_domain (TLY_DOMAIN_OBJECT, self->sign_sk, self->buffer, size, signature);
    Tally__SignedObject object = TALLY__SIGNED_OBJECT__INIT;
    object.state = (ProtobufCBinaryData) { size, self->buffer };
    object.signature = (ProtobufCBinaryData) { sizeof signature, signature };
    Tally__BusObject bus = TALLY__BUS_OBJECT__INIT;
    bus.object = &object;
    if (requester)
        bus.requester = *requester;
    bus.current = current;
    zmq_msg_t body;
    int rc = zmq_msg_init_size (&body, tally__bus_object__get_packed_size (&bus));
    assert (rc == 0);
    tally__bus_object__pack (&bus, zmq_msg_data (&body));
    void *sock = zsock_resolve (self->sock);
    if (zmq_send (sock, topic, TLY_BUS_TOPIC_BYTES, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1
        || zmq_msg_send (&body, sock, ZMQ_DONTWAIT) == -1) {
        zmq_msg_close (&body);
        if (self->dropped++ % 1000 == 0)
            tly_log (TLY_WARN, "bus.send_failed", "dropped=%" PRIu64 " error=\"%s\"", self->dropped,
                     zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
}

size_t
tly_bus_each_settled (tly_bus_t *self, tly_bus_settled_fn *fn, void *arg)
{
    assert (self && fn);
    int64_t now = tly_mono_ms ();
    size_t count = 0;
    while (self->settle_head && self->settle_head->settle_at <= now && count < TLY_BUS_SETTLE_MAX) {
        s_interest_t *interest = self->settle_head;
        s_settle_unlink (self, interest);
        count++;
        if (interest->subscribed || interest->lease_until > now)
            fn (interest->topic, tly_object_key_partition (interest->topic), arg);
    }
    return count;
}

void
tly_bus_set_settle_ms (tly_bus_t *self, int64_t settle_ms)
{
    assert (self);
    assert (settle_ms > 0);
    self->settle_ms = settle_ms;
}

int
tly_bus_publish (tly_bus_t *self, const uint8_t topic [TLY_BUS_TOPIC_BYTES],
                 const Tally__ObjectState *state, const ProtobufCBinaryData *requester)
{
    return s_publish (self, topic, state, requester, false);
}

int
tly_bus_publish_current (tly_bus_t *self, const uint8_t topic [TLY_BUS_TOPIC_BYTES],
                         const Tally__ObjectState *state)
{
    return s_publish (self, topic, state, NULL, true);
}
