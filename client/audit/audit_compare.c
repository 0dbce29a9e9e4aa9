//  audit_compare - `tally audit replay --compare`: the replayed balances
//  against the balance actors' ledgers, read beside the live actors.
//
//  Partitions move between actors, so a ledger may keep a stale copy of a
//  partition it no longer owns: for each partition the ledger that applied
//  the most of it speaks for it. A partition whose ledger is not at exactly
//  the journal's partition seq (the actor is behind, or records came after
//  the journal snapshot) is "in flux", not different; the comparison reads
//  the journal again and retries while any partition is in flux.
//
//  Each account's held amount is compared with its balance, and every
//  order (status, total, version) the ledgers hold with the one the
//  journal's OrderChanged events leave (tly_ledger_each_order).
//
//  The configuration partition 0's ledger keeps (a row of its state) is
//  compared with the one the journal's records leave. The reader reads it
//  when it opens, a moment before the accounts and progress: one behind
//  the journal's is read again like a partition in flux, and is a
//  difference only at the last attempt.
#include "audit_compare.h"
#include "audit_journal.h"

#include <assert.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "tly_account.h"
#include "tly_object_id.h"
#include "tly_ledger.h"

#define S_FIND_DEPTH  3    //  tally up DIR / balance-N / balance / balance-N
#define S_RETRY_MS    250  //  pause before reading a moving system again
#define S_LEDGER_FILE "data.mdb"

//  One account as a ledger holds it.
typedef struct {
    uint8_t user [TLY_KEY_BYTES];
    int64_t balance;
    int64_t held;       //  held for its orders processing
    int32_t partition;  //  -1: its balance ID does not parse
} s_held_t;

//  One order as a ledger holds it.
typedef struct {
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    Tally__OrderStatus status;
    int64_t total;
    uint64_t version;
} s_order_t;

typedef struct {
    const char *dir;
    tly_ledger_t *ledger;
    s_held_t *accounts;
    size_t count;
    size_t capacity;
    s_order_t *orders;
    size_t order_count;
    size_t order_capacity;
    bool orders_malformed;  //  an order whose ID does not parse
    uint64_t *applied;      //  [TLY_PARTITIONS_MAX]
    tly_config_t *config;   //  the configuration its partition 0 state keeps
} s_ledger_t;

typedef struct {
    audit_state_t *state;
    tly_journal_t *journal;
    s_ledger_t *ledgers;
    size_t ledger_count;
    bool json;
    bool report;     //  the last attempt prints what it finds
    int32_t *owner;  //  [TLY_PARTITIONS_MAX]: the ledger speaking, or -1
    bool *in_flux;   //  [TLY_PARTITIONS_MAX]
    audit_compare_result_t result;
} s_compare_t;

//  ---------------------------------------------------------------- finding ledgers

static bool
s_is_ledger (const char *dir)
{
    char file [AUDIT_PATH_MAX + sizeof S_LEDGER_FILE + 1];
    snprintf (file, sizeof file, "%s/%s", dir, S_LEDGER_FILE);
    struct stat info;
    return stat (file, &info) == 0 && S_ISREG (info.st_mode);
}

static int
s_find (const char *dir, int depth, char **dirs, size_t *count)
{
    if (s_is_ledger (dir)) {
        if (*count == AUDIT_LEDGERS_MAX)
            return -1;
        dirs [(*count)++] = strdup (dir);
        return 0;
    }
    DIR *listing = depth < S_FIND_DEPTH ? opendir (dir) : NULL;
    if (!listing)
        return 0;
    int rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir (listing))) {
        //  Every level tally up and tally-balance make is named balance...
        //  A state the actor moved aside (NAME.corrupt-<ms>) is not live state.
        if (strncmp (entry->d_name, "balance", strlen ("balance")) != 0
            || strstr (entry->d_name, ".corrupt-"))
            continue;
        char child [AUDIT_PATH_MAX];
        if ((size_t) snprintf (child, sizeof child, "%s/%s", dir, entry->d_name) < sizeof child)
            rc = s_find (child, depth + 1, dirs, count);
    }
    closedir (listing);
    return rc;
}

int
audit_find_ledgers (const char *command, const char *dir, char **dirs, size_t *count)
{
    assert (command && dir && dirs && count);
    size_t before = *count;
    if (s_find (dir, 0, dirs, count) == -1) {
        fprintf (stderr, "%s: more than %d ledger directories\n", command, AUDIT_LEDGERS_MAX);
        return -1;
    }
    if (*count == before) {
        fprintf (stderr, "%s: no balance actor state (balance*/.../" S_LEDGER_FILE ") in %s\n",
                 command, dir);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------- reading ledgers

static tly_store_walk_t
s_hold (const uint8_t user [TLY_KEY_BYTES], const tly_account_state_t *state, void *arg)
{
    s_ledger_t *ledger = arg;
    if (ledger->count == ledger->capacity) {
        ledger->capacity = ledger->capacity ? 2 * ledger->capacity : 1024;
        ledger->accounts = realloc (ledger->accounts, ledger->capacity * sizeof (s_held_t));
        assert (ledger->accounts);
    }
    s_held_t *held = &ledger->accounts [ledger->count++];
    memcpy (held->user, user, TLY_KEY_BYTES);
    held->balance = state->balance;
    held->held = state->held;
    tly_object_kind_t kind;
    uint32_t partition;
    held->partition = tly_object_id_parse (state->balance_id, &kind, &partition, NULL) == 0
                              && kind == TLY_OBJ_BALANCE
                          ? (int32_t) partition
                          : -1;
    return TLY_STORE_WALK_NEXT;
}

static int
s_hold_order (const Tally__Order *order, void *arg)
{
    s_ledger_t *ledger = arg;
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    if (!order->id || tly_object_key_parse (order->id, key) == -1 || key [0] != TLY_OBJ_ORDER) {
        ledger->orders_malformed = true;
        return 0;
    }
    if (ledger->order_count == ledger->order_capacity) {
        ledger->order_capacity = ledger->order_capacity ? 2 * ledger->order_capacity : 1024;
        ledger->orders = realloc (ledger->orders, ledger->order_capacity * sizeof (s_order_t));
        assert (ledger->orders);
    }
    s_order_t *held = &ledger->orders [ledger->order_count++];
    memcpy (held->key, key, sizeof key);
    held->status = order->status;
    held->total = order->total;
    held->version = order->version;
    return 0;
}

//  Reads one ledger in one read transaction (a consistent state, even while
//  its actor writes): its accounts, and the applied seq of every partition
//  the journal or the ledger has.
static int
s_read_ledger (s_compare_t *self, s_ledger_t *ledger)
{
    ledger->ledger = tly_ledger_new_reader (ledger->dir);
    if (!ledger->ledger || tly_ledger_read_begin (ledger->ledger) == -1) {
        fprintf (stderr,
                 "tally audit replay: cannot read the ledger in %s (see the log line"
                 " above)\n",
                 ledger->dir);
        tly_ledger_destroy (&ledger->ledger);
        return -1;
    }
    ledger->count = 0;
    ledger->order_count = 0;
    ledger->orders_malformed = false;
    memset (ledger->applied, 0, TLY_PARTITIONS_MAX * sizeof (uint64_t));
    tly_config_copy (ledger->config, tly_ledger_config (ledger->ledger));
    int rc = tly_ledger_each_account (ledger->ledger, s_hold, ledger);
    if (rc == 0)
        rc = tly_ledger_each_order (ledger->ledger, s_hold_order, ledger);
    uint64_t epoch;
    for (uint32_t p = 0; rc == 0 && p < TLY_PARTITIONS_MAX; p++)
        if (audit_state_partition_seq (self->state, p) > 0)
            rc = tly_ledger_progress (ledger->ledger, p, &ledger->applied [p], &epoch);
    for (size_t i = 0; rc == 0 && i < ledger->count; i++) {
        int32_t p = ledger->accounts [i].partition;
        if (p >= 0 && audit_state_partition_seq (self->state, (uint32_t) p) == 0)
            rc = tly_ledger_progress (ledger->ledger, (uint32_t) p, &ledger->applied [p], &epoch);
    }
    tly_ledger_read_end (ledger->ledger);
    tly_ledger_destroy (&ledger->ledger);
    if (rc == -1)
        fprintf (stderr,
                 "tally audit replay: reading the ledger in %s failed (see the log line"
                 " above)\n",
                 ledger->dir);
    return rc;
}

//  ---------------------------------------------------------------- judging

static void
s_difference (s_compare_t *self, uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
              const int64_t *journal, const int64_t *actor)
{
    self->result.differences++;
    if (!self->report)
        return;
    char id [TLY_ID_MAX], journal_text [24] = "missing", actor_text [24] = "missing";
    tly_account_id (user, id);
    if (self->json) {
        snprintf (journal_text, sizeof journal_text, "null");
        snprintf (actor_text, sizeof actor_text, "null");
    }
    if (journal)
        snprintf (journal_text, sizeof journal_text, "%" PRId64, *journal);
    if (actor)
        snprintf (actor_text, sizeof actor_text, "%" PRId64, *actor);
    if (self->json)
        printf ("{\"partition\":%" PRIu32 ",\"user\":\"%s\",\"journal\":%s,\"actor\":%s}\n",
                partition, id, journal_text, actor_text);
    else
        printf ("compare: partition %" PRIu32 " user %s journal %s actor %s\n", partition, id,
                journal_text, actor_text);
}

//  An account whose balance matches and whose held amount does not.
static void
s_held_difference (s_compare_t *self, uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
                   int64_t journal, int64_t actor)
{
    self->result.differences++;
    if (!self->report)
        return;
    char id [TLY_ID_MAX];
    tly_account_id (user, id);
    if (self->json)
        printf ("{\"partition\":%" PRIu32 ",\"user\":\"%s\",\"held\":{\"journal\":%" PRId64
                ",\"actor\":%" PRId64 "}}\n",
                partition, id, journal, actor);
    else
        printf ("compare: partition %" PRIu32 " user %s held: journal %" PRId64 " actor %" PRId64
                "\n",
                partition, id, journal, actor);
}

//  An order that differs (journal or actor NULL: missing there).
static void
s_order_difference (s_compare_t *self, uint32_t partition, const uint8_t key [TLY_OBJECT_KEY_BYTES],
                    const audit_order_t *journal, const s_order_t *actor)
{
    self->result.differences++;
    if (!self->report)
        return;
    char id [TLY_ID_MAX], journal_text [96] = "missing", actor_text [96] = "missing";
    tly_object_id_of_key (key, id);
    const char *format = self->json ? "{\"status\":\"%s\",\"total\":%" PRId64
                                      ",\"version\":%" PRIu64 "}"
                                    : "%s total %" PRId64 " version %" PRIu64;
    if (self->json) {
        snprintf (journal_text, sizeof journal_text, "null");
        snprintf (actor_text, sizeof actor_text, "null");
    }
    if (journal)
        snprintf (journal_text, sizeof journal_text, format,
                  tly_order_status_name (journal->status), journal->total, journal->version);
    if (actor)
        snprintf (actor_text, sizeof actor_text, format, tly_order_status_name (actor->status),
                  actor->total, actor->version);
    if (self->json)
        printf ("{\"partition\":%" PRIu32 ",\"order\":\"%s\",\"journal\":%s,\"actor\":%s}\n",
                partition, id, journal_text, actor_text);
    else
        printf ("compare: partition %" PRIu32 " order %s journal %s actor %s\n", partition, id,
                journal_text, actor_text);
}

//  Every order the speaking ledgers hold against the journal's (status,
//  total, version), and every journal order no speaking ledger holds.
static void
s_judge_orders (s_compare_t *self)
{
    audit_orders_t *orders = audit_state_orders (self->state);
    size_t capacity = audit_orders_capacity (orders);
    for (size_t i = 0; i < capacity; i++)
        audit_orders_slot (orders, i)->matched = false;
    for (size_t l = 0; l < self->ledger_count; l++) {
        const s_ledger_t *ledger = &self->ledgers [l];
        if (ledger->orders_malformed) {
            self->result.differences++;
            if (self->report)
                fprintf (stdout,
                         self->json ? "{\"ledger\":\"%s\",\"malformedOrder\":true}\n"
                                    : "compare: the ledger in %s holds an order with a malformed"
                                      " ID\n",
                         ledger->dir);
        }
        for (size_t i = 0; i < ledger->order_count; i++) {
            const s_order_t *held = &ledger->orders [i];
            uint32_t p = tly_object_key_partition (held->key);
            if (p >= TLY_PARTITIONS_MAX || self->in_flux [p]
                || (self->owner [p] >= 0 && self->owner [p] != (int32_t) l))
                continue;
            audit_order_t *order = audit_orders_find (orders, held->key);
            if (order)
                order->matched = true;
            if (!order || order->status != held->status || order->total != held->total
                || order->version != held->version)
                s_order_difference (self, p, held->key, order, held);
            else
                self->result.orders++;
        }
    }
    for (size_t i = 0; i < capacity; i++) {
        const audit_order_t *order = audit_orders_slot (orders, i);
        uint32_t p = order->used ? tly_object_key_partition (order->key) : 0;
        if (order->used && !order->matched && p < TLY_PARTITIONS_MAX && !self->in_flux [p])
            s_order_difference (self, p, order->key, order, NULL);
    }
}

//  Picks the ledger for each partition, and which partitions are in flux.
static void
s_choose_owners (s_compare_t *self)
{
    for (uint32_t p = 0; p < TLY_PARTITIONS_MAX; p++) {
        self->owner [p] = -1;
        uint64_t best = 0;
        for (size_t i = 0; i < self->ledger_count; i++)
            if (self->ledgers [i].applied [p] > best) {
                best = self->ledgers [i].applied [p];
                self->owner [p] = (int32_t) i;
            }
        uint64_t journal_seq = audit_state_partition_seq (self->state, p);
        self->in_flux [p] = best != journal_seq;
        if (journal_seq > 0 || best > 0)
            self->result.partitions++;
        if (!self->in_flux [p])
            continue;
        self->result.in_flux++;
        if (!self->report)
            continue;
        const char *why = best < journal_seq
                              ? "the actor is behind the journal"
                              : "the actor applied records after the journal snapshot";
        if (self->json)
            printf ("{\"partition\":%" PRIu32 ",\"inFlux\":true,\"actorSeq\":%" PRIu64
                    ",\"journalSeq\":%" PRIu64 "}\n",
                    p, best, journal_seq);
        else
            printf ("compare: partition %" PRIu32 " in flux: actor at partition seq %" PRIu64
                    ", journal at %" PRIu64 " (%s)\n",
                    p, best, journal_seq, why);
    }
}

//  Partition 0's configuration, as the ledger speaking for it keeps it,
//  against the one the journal's records leave (see the top).
static void
s_judge_config (s_compare_t *self)
{
    int32_t owner = self->owner [0];
    if (self->in_flux [0] || owner < 0) {
        self->result.config = self->in_flux [0] ? AUDIT_COMPARE_CONFIG_IN_FLUX
                                                : AUDIT_COMPARE_CONFIG_NO_LEDGER;
        return;
    }
    const tly_config_t *journal = audit_state_config (self->state);
    const tly_config_t *actor = self->ledgers [owner].config;
    if (tly_config_equal (journal, actor)) {
        self->result.config = AUDIT_COMPARE_CONFIG_MATCHES;
        return;
    }
    uint64_t journal_version = tly_config_version (journal);
    uint64_t actor_version = tly_config_version (actor);
    if (!self->report && actor_version < journal_version) {
        self->result.config = AUDIT_COMPARE_CONFIG_IN_FLUX;
        self->result.in_flux++;  //  read again
        return;
    }
    self->result.config = AUDIT_COMPARE_CONFIG_DIFFERS;
    self->result.differences++;
    if (!self->report)
        return;
    if (self->json)
        printf ("{\"partition\":0,\"config\":{\"journal\":%" PRIu64 ",\"actor\":%" PRIu64 "}}\n",
                journal_version, actor_version);
    else
        printf ("compare: partition 0 configuration: journal version %" PRIu64
                " (%zu admins, %zu items) actor version %" PRIu64 " (%zu admins, %zu items)%s\n",
                journal_version, tly_config_admin_count (journal), tly_config_item_count (journal),
                actor_version, tly_config_admin_count (actor), tly_config_item_count (actor),
                journal_version == actor_version ? ", another configuration" : "");
}

static void
s_judge (s_compare_t *self)
{
    self->result = (audit_compare_result_t) { 0 };
    s_choose_owners (self);
    size_t capacity = audit_state_capacity (self->state);
    for (size_t i = 0; i < capacity; i++)
        audit_state_slot (self->state, i)->matched = false;
    //  Every account the speaking ledgers hold, against the journal's.
    for (size_t l = 0; l < self->ledger_count; l++) {
        const s_ledger_t *ledger = &self->ledgers [l];
        for (size_t i = 0; i < ledger->count; i++) {
            const s_held_t *held = &ledger->accounts [i];
            if (held->partition < 0) {
                self->result.differences++;
                if (self->report)
                    fprintf (stdout,
                             self->json
                                 ? "{\"ledger\":\"%s\",\"malformedAccount\":true}\n"
                                 : "compare: the ledger in %s holds an account with a malformed"
                                   " balance ID\n",
                             ledger->dir);
                continue;
            }
            //  A partition no ledger applied anything of has no speaker: every
            //  account in it is a difference (the journal has none there).
            uint32_t p = (uint32_t) held->partition;
            if (self->in_flux [p] || (self->owner [p] >= 0 && self->owner [p] != (int32_t) l))
                continue;
            audit_account_t *account = audit_state_find (self->state, held->user);
            if (account)
                account->matched = true;
            if (!account || account->partition != p)
                s_difference (self, p, held->user, NULL, &held->balance);
            else if (account->balance != held->balance)
                s_difference (self, p, held->user, &account->balance, &held->balance);
            else if (account->held != held->held)
                s_held_difference (self, p, held->user, account->held, held->held);
            else
                self->result.accounts++;
        }
    }
    //  ... and every journal account no speaking ledger holds.
    for (size_t i = 0; i < capacity; i++) {
        const audit_account_t *account = audit_state_slot (self->state, i);
        if (account->used && !account->matched && !self->in_flux [account->partition])
            s_difference (self, account->partition, account->user, &account->balance, NULL);
    }
    s_judge_orders (self);
    s_judge_config (self);
}

int
audit_compare (audit_state_t *state, tly_journal_t *journal, char **dirs, size_t dir_count,
               int attempts, bool json, audit_compare_result_t *result)
{
    assert (state && journal && dirs && result);
    assert (dir_count > 0 && dir_count <= AUDIT_LEDGERS_MAX && attempts >= 1);
    s_compare_t self = { .state = state,
                         .journal = journal,
                         .ledger_count = dir_count,
                         .json = json,
                         .ledgers = calloc (dir_count, sizeof (s_ledger_t)),
                         .owner = calloc (TLY_PARTITIONS_MAX, sizeof (int32_t)),
                         .in_flux = calloc (TLY_PARTITIONS_MAX, sizeof (bool)) };
    assert (self.ledgers && self.owner && self.in_flux);
    for (size_t i = 0; i < dir_count; i++) {
        self.ledgers [i].dir = dirs [i];
        self.ledgers [i].applied = calloc (TLY_PARTITIONS_MAX, sizeof (uint64_t));
        self.ledgers [i].config = tly_config_new ();
        assert (self.ledgers [i].applied);
    }
    int rc = 0;
    for (int attempt = 1; rc == 0 && attempt <= attempts; attempt++) {
        //  A moving system: read the journal again, then the ledgers.
        if (attempt > 1) {
            nanosleep (&(struct timespec) { 0, S_RETRY_MS * 1000000L }, NULL);
            rc = tly_journal_refresh (journal);
            if (rc == 0)
                rc = audit_state_replay (state, journal, NULL);
        }
        for (size_t i = 0; rc == 0 && i < dir_count; i++)
            rc = s_read_ledger (&self, &self.ledgers [i]);
        if (rc == -1)
            break;
        self.report = false;
        s_judge (&self);
        if (self.result.in_flux > 0 && attempt < attempts)
            continue;
        self.report = true;
        s_judge (&self);
        self.result.attempts = attempt;
        break;
    }
    *result = self.result;
    for (size_t i = 0; i < dir_count; i++) {
        free (self.ledgers [i].accounts);
        free (self.ledgers [i].orders);
        free (self.ledgers [i].applied);
        tly_config_destroy (&self.ledgers [i].config);
    }
    free (self.ledgers);
    free (self.owner);
    free (self.in_flux);
    return rc;
}
