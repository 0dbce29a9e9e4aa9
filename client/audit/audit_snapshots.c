//  audit_snapshots - the writer's state snapshots, read for verify (see the
//  header). The store's layout is the writer's (actors/audit/
//  tly_audit_snapshots.h); the rows are in the actors' state layout
//  (actors/balance/tly_store.h), whose accounts and dedupe rows are read
//  here: an account row is user (32) -> balance, last update, created
//  (i64 BE), purchases (u64 BE), ID length (1), ID; a dedupe row is
//  partition u16 BE | message ID (16) | user (32) -> MessageResult bytes;
//  an adjustment row is its object ID bytes (19) -> AdjustmentRecord bytes;
//  an account row may go on with the rate limit's bucket (2 x 8) and then
//  the user's orders: held (i64 BE), the UserBalance's and the PurchaseLog's
//  versions, orders created (u64 BE each), orders open (u32 BE), the
//  OrderList's version (u64 BE); an order row is its object ID bytes (19)
//  -> Order bytes; partition 0's configuration row is tly_store_config_key
//  -> Config bytes.
#include "audit_snapshots.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tally.pb-c.h"
#include "tly_bytes.h"
#include "tly_sign.h"
#include "tly_store.h"

#define S_PART_KEY       16  //  partition u32 | partition_seq u64 | part u32
#define S_ACCOUNT_FIXED  33  //  balance, last update, created, purchases (8 each), ID length
#define S_ACCOUNT_BUCKET 16  //  then the bucket: tokens, time
#define S_ACCOUNT_ORDERS 44  //  then the orders: held, 3 x u64, open (u32), list version
#define S_DEDUPE_KEY     (2 + TLY_MESSAGE_ID_BYTES + TLY_KEY_BYTES)
#define S_PARTS_MAX      4096  //  the writer's limit
_Static_assert(S_DEDUPE_KEY == TLY_STORE_DEDUPE_KEY_BYTES, "the dedupe key is the store's");

typedef struct {
    MDB_txn *txn;
    MDB_dbi parts;
    const uint8_t *worker;
} s_reader_t;

static int s_problem (audit_snapshot_t *snapshot, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
s_problem (audit_snapshot_t *snapshot, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (snapshot->problem, sizeof snapshot->problem, format, args);
    va_end (args);
    audit_snapshots_drop_rows (snapshot);
    return -1;
}

//  The rows verify needs: accounts, remembered results, adjustments and
//  the configuration.
static int
s_take_rows (audit_snapshot_t *snapshot, const Tally__SnapshotRows *rows)
{
    for (size_t i = 0; i < rows->n_rows; i++) {
        const Tally__SnapshotRow *row = rows->rows [i];
        if (row->table == TLY_STORE_ROW_ACCOUNT) {
            if (row->key.len != TLY_KEY_BYTES || row->value.len < S_ACCOUNT_FIXED)
                return s_problem (snapshot, "an account row is malformed");
            snapshot->accounts = realloc (snapshot->accounts, (snapshot->account_count + 1)
                                                                  * sizeof *snapshot->accounts);
            assert (snapshot->accounts);
            audit_snapshot_account_t *account = &snapshot->accounts [snapshot->account_count++];
            memcpy (account->user, row->key.data, TLY_KEY_BYTES);
            account->balance = (int64_t) tly_get_be64 (row->value.data);
            account->last_updated = (int64_t) tly_get_be64 (row->value.data + 8);
            //  After the balance ID, once the rate limit took a token or the
            //  user had an order: the bucket; then, once the user had an
            //  order, the held amount and the open orders.
            size_t plain = S_ACCOUNT_FIXED + row->value.data [S_ACCOUNT_FIXED - 1];
            bool orders = row->value.len == plain + S_ACCOUNT_BUCKET + S_ACCOUNT_ORDERS;
            bool bucket = orders || row->value.len == plain + S_ACCOUNT_BUCKET;
            if (!bucket && row->value.len != plain)
                return s_problem (snapshot, "an account row is malformed");
            account->bucket_tokens = bucket ? (int64_t) tly_get_be64 (row->value.data + plain) : 0;
            account->bucket_ms = bucket ? (int64_t) tly_get_be64 (row->value.data + plain + 8) : 0;
            const uint8_t *held = row->value.data + plain + S_ACCOUNT_BUCKET;
            account->held = orders ? (int64_t) tly_get_be64 (held) : 0;
            account->orders_open = orders ? tly_get_be32 (held + 32) : 0;
        } else if (row->table == TLY_STORE_ROW_DEDUPE) {
            if (row->key.len != S_DEDUPE_KEY)
                return s_problem (snapshot, "a dedupe row is malformed");
            snapshot->results = realloc (snapshot->results,
                                         (snapshot->result_count + 1) * sizeof *snapshot->results);
            assert (snapshot->results);
            audit_snapshot_result_t *result = &snapshot->results [snapshot->result_count++];
            memcpy (result->message_id, row->key.data + 2, TLY_MESSAGE_ID_BYTES);
            memcpy (result->user, row->key.data + 2 + TLY_MESSAGE_ID_BYTES, TLY_KEY_BYTES);
            result->result_size = row->value.len;
            result->result = malloc (row->value.len ? row->value.len : 1);
            assert (result->result);
            memcpy (result->result, row->value.data, row->value.len);
        } else if (row->table == TLY_STORE_ROW_ADJUSTMENT) {
            if (row->key.len != TLY_OBJECT_KEY_BYTES || row->key.data [0] != TLY_OBJ_ADJUSTMENT)
                return s_problem (snapshot, "an adjustment row is malformed");
            snapshot->adjustments = realloc (snapshot->adjustments,
                                             (snapshot->adjustment_count + 1)
                                                 * sizeof *snapshot->adjustments);
            assert (snapshot->adjustments);
            audit_snapshot_adjustment_t *adjustment =
                &snapshot->adjustments [snapshot->adjustment_count++];
            memcpy (adjustment->key, row->key.data, TLY_OBJECT_KEY_BYTES);
            adjustment->record_size = row->value.len;
            adjustment->record = malloc (row->value.len ? row->value.len : 1);
            assert (adjustment->record);
            memcpy (adjustment->record, row->value.data, row->value.len);
        } else if (row->table == TLY_STORE_ROW_ORDER) {
            if (row->key.len != TLY_OBJECT_KEY_BYTES || row->key.data [0] != TLY_OBJ_ORDER)
                return s_problem (snapshot, "an order row is malformed");
            snapshot->orders = realloc (snapshot->orders,
                                        (snapshot->order_count + 1) * sizeof *snapshot->orders);
            assert (snapshot->orders);
            audit_snapshot_order_t *order = &snapshot->orders [snapshot->order_count++];
            memcpy (order->key, row->key.data, TLY_OBJECT_KEY_BYTES);
            order->record_size = row->value.len;
            order->record = malloc (row->value.len ? row->value.len : 1);
            assert (order->record);
            memcpy (order->record, row->value.data, row->value.len);
        } else if (row->table == TLY_STORE_ROW_CONFIG) {
            uint8_t key [TLY_STORE_OBJECT_BYTES];
            tly_store_config_key (key);
            if (snapshot->partition != 0 || snapshot->has_config || row->key.len != sizeof key
                || memcmp (row->key.data, key, sizeof key) != 0)
                return s_problem (snapshot, "a configuration row is malformed, repeated or not"
                                            " of partition 0");
            snapshot->has_config = true;
            snapshot->config_size = row->value.len;
            snapshot->config = malloc (row->value.len ? row->value.len : 1);
            assert (snapshot->config);
            memcpy (snapshot->config, row->value.data, row->value.len);
        }
    }
    return 0;
}

//  Every part in order: their digest must be the header's, then their rows.
static int
s_read_parts (s_reader_t *reader, audit_snapshot_t *snapshot, const Tally__SnapshotHeader *header)
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, (const uint8_t *) TLY_SNAPSHOT_DIGEST_KEY,
                             strlen (TLY_SNAPSHOT_DIGEST_KEY), TLY_HASH_BYTES);
    for (uint32_t part = 0; part < header->parts; part++) {
        uint8_t key_bytes [S_PART_KEY];
        tly_put_be32 (key_bytes, header->partition);
        tly_put_be64 (key_bytes + 4, header->partition_seq);
        tly_put_be32 (key_bytes + 12, part);
        MDB_val key = { sizeof key_bytes, key_bytes }, value;
        if (mdb_get (reader->txn, reader->parts, &key, &value) != 0)
            return s_problem (snapshot, "part %" PRIu32 " is missing", part);
        crypto_generichash_update (&state, value.mv_data, value.mv_size);
        Tally__SnapshotRows *rows = tally__snapshot_rows__unpack (NULL, value.mv_size,
                                                                  value.mv_data);
        if (!rows)
            return s_problem (snapshot, "part %" PRIu32 " does not decode", part);
        int rc = s_take_rows (snapshot, rows);
        tally__snapshot_rows__free_unpacked (rows, NULL);
        if (rc == -1)
            return -1;
    }
    uint8_t digest [TLY_HASH_BYTES];
    crypto_generichash_final (&state, digest, sizeof digest);
    if (sodium_memcmp (digest, header->digest.data, TLY_HASH_BYTES) != 0)
        return s_problem (snapshot, "its parts are not the ones its header signs (digest)");
    return 0;
}

//  One partition's latest snapshot: its signed header, then its parts.
static void
s_read_one (s_reader_t *reader, uint32_t partition, const MDB_val *value,
            audit_snapshot_t *snapshot)
{
    memset (snapshot, 0, sizeof *snapshot);
    snapshot->partition = partition;
    Tally__SignedSnapshotHeader *signed_header = tally__signed_snapshot_header__unpack (
        NULL, value->mv_size, value->mv_data);
    Tally__SnapshotHeader *header = NULL;
    if (!signed_header)
        s_problem (snapshot, "its header does not decode");
    else if (!reader->worker)
        s_problem (snapshot, "no worker to check its signature");
    else if (!tly_verify_domain (TLY_DOMAIN_SNAPSHOT, reader->worker, signed_header->header.data,
                                 signed_header->header.len, signed_header->signature.data,
                                 signed_header->signature.len))
        s_problem (snapshot, "its header is not signed by the worker");
    else if (!(header = tally__snapshot_header__unpack (NULL, signed_header->header.len,
                                                        signed_header->header.data)))
        s_problem (snapshot, "its header does not decode");
    else if (header->partition != partition || header->record_hash.len != TLY_HASH_BYTES
             || header->digest.len != TLY_HASH_BYTES || header->parts == 0
             || header->parts > S_PARTS_MAX || header->partition_seq == 0 || header->seq == 0)
        s_problem (snapshot, "its header is out of range");
    else if (header->schema != TLY_STORE_SCHEMA)
        s_problem (snapshot, "its rows are in state layout %" PRIu32 ", not %d", header->schema,
                   TLY_STORE_SCHEMA);
    else {
        snapshot->partition_seq = header->partition_seq;
        snapshot->seq = header->seq;
        memcpy (snapshot->record_hash, header->record_hash.data, TLY_HASH_BYTES);
        snapshot->clock_ms = header->clock_ms;
        s_read_parts (reader, snapshot, header);
    }
    if (header)
        tally__snapshot_header__free_unpacked (header, NULL);
    if (signed_header)
        tally__signed_snapshot_header__free_unpacked (signed_header, NULL);
}

static int
s_by_seq (const void *a, const void *b)
{
    const audit_snapshot_t *left = a, *right = b;
    return left->seq < right->seq ? -1 : left->seq > right->seq ? 1 : 0;
}

static int
s_lmdb_failed (const char *command, const char *dir, MDB_env *env, int rc)
{
    fprintf (stderr, "%s: cannot read the state snapshots in %s: %s\n", command, dir,
             mdb_strerror (rc));
    mdb_env_close (env);
    return -1;
}

int
audit_snapshots_read (const char *command, const char *dir, const uint8_t *worker,
                      audit_snapshot_t **snapshots, size_t *count)
{
    assert (command && dir && snapshots && count);
    *snapshots = NULL;
    *count = 0;
    struct stat status;
    if (stat (dir, &status) == -1 && errno == ENOENT)
        return 0;
    MDB_env *env;
    int rc = mdb_env_create (&env);
    if (rc) {
        fprintf (stderr, "%s: cannot read the state snapshots in %s: %s\n", command, dir,
                 mdb_strerror (rc));
        return -1;
    }
    if ((rc = mdb_env_set_maxdbs (env, 4))
        || (rc = mdb_env_open (env, dir, MDB_RDONLY | MDB_NOTLS, 0)))
        return s_lmdb_failed (command, dir, env, rc);
    s_reader_t reader = { .worker = worker };
    MDB_dbi latest;
    rc = mdb_txn_begin (env, NULL, MDB_RDONLY, &reader.txn);
    if (rc == MDB_MAP_RESIZED && (rc = mdb_env_set_mapsize (env, 0)) == 0)
        rc = mdb_txn_begin (env, NULL, MDB_RDONLY, &reader.txn);  //  the writer grew it
    if (rc)
        return s_lmdb_failed (command, dir, env, rc);
    if ((rc = mdb_dbi_open (reader.txn, "latest", 0, &latest))
        || (rc = mdb_dbi_open (reader.txn, "parts", 0, &reader.parts))) {
        mdb_txn_abort (reader.txn);
        return s_lmdb_failed (command, dir, env, rc);
    }
    MDB_cursor *cursor;
    if ((rc = mdb_cursor_open (reader.txn, latest, &cursor))) {
        mdb_txn_abort (reader.txn);
        return s_lmdb_failed (command, dir, env, rc);
    }
    size_t capacity = 0;
    MDB_val key, value;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size != 4)
            continue;
        if (*count == capacity) {
            capacity = capacity ? 2 * capacity : 64;
            *snapshots = realloc (*snapshots, capacity * sizeof **snapshots);
            assert (*snapshots);
        }
        s_read_one (&reader, tly_get_be32 (key.mv_data), &value, &(*snapshots) [(*count)++]);
    }
    mdb_cursor_close (cursor);
    mdb_txn_abort (reader.txn);
    mdb_env_close (env);
    if (rc != MDB_NOTFOUND) {
        audit_snapshots_free (snapshots, *count);
        *count = 0;
        fprintf (stderr, "%s: cannot read the state snapshots in %s: %s\n", command, dir,
                 mdb_strerror (rc));
        return -1;
    }
    if (*count > 1)
        qsort (*snapshots, *count, sizeof **snapshots, s_by_seq);
    return 0;
}

void
audit_snapshots_drop_rows (audit_snapshot_t *snapshot)
{
    assert (snapshot);
    for (size_t i = 0; i < snapshot->result_count; i++)
        free (snapshot->results [i].result);
    for (size_t i = 0; i < snapshot->adjustment_count; i++)
        free (snapshot->adjustments [i].record);
    for (size_t i = 0; i < snapshot->order_count; i++)
        free (snapshot->orders [i].record);
    free (snapshot->orders);
    snapshot->orders = NULL;
    snapshot->order_count = 0;
    free (snapshot->results);
    free (snapshot->accounts);
    free (snapshot->adjustments);
    free (snapshot->config);
    snapshot->config = NULL;
    snapshot->config_size = 0;
    snapshot->has_config = false;
    snapshot->results = NULL;
    snapshot->accounts = NULL;
    snapshot->adjustments = NULL;
    snapshot->result_count = 0;
    snapshot->account_count = 0;
    snapshot->adjustment_count = 0;
}

void
audit_snapshots_free (audit_snapshot_t **snapshots, size_t count)
{
    assert (snapshots);
    for (size_t i = 0; *snapshots && i < count; i++)
        audit_snapshots_drop_rows (&(*snapshots) [i]);
    free (*snapshots);
    *snapshots = NULL;
}
