//  journal_forge - a journal rewritten as a writer with the worker's key could
//  (see journal_forge.h): raw LMDB on the segment file and on the snapshot
//  store, the formats of docs/journal.md, and the signatures of tly_sign.
#include "journal_forge.h"

#include <dirent.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "tly_bytes.h"
#include "tly_sign.h"
#include "tly_store.h"

#define S_HEAD_BYTES (8 + TLY_HASH_BYTES)  //  meta "head": seq, hash

typedef struct {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi records;
    MDB_dbi checkpoints;
    MDB_dbi meta;
} s_segment_t;

//  The journal's one segment file: DIR/segments/<first>.mdb.
static void
s_segment_path (const char *journal_dir, char *path, size_t size)
{
    char dir [600];
    snprintf (dir, sizeof dir, "%s/segments", journal_dir);
    DIR *listing = opendir (dir);
    CHECK (listing);
    int found = 0;
    struct dirent *entry;
    while ((entry = readdir (listing))) {
        size_t length = strlen (entry->d_name);
        if (length > 4 && strcmp (entry->d_name + length - 4, ".mdb") == 0) {
            snprintf (path, size, "%s/%s", dir, entry->d_name);
            found++;
        }
    }
    closedir (listing);
    CHECK (found == 1);
}

static void
s_open (s_segment_t *segment, const char *path)
{
    CHECK (mdb_env_create (&segment->env) == 0);
    CHECK (mdb_env_set_maxdbs (segment->env, 8) == 0);
    CHECK (mdb_env_set_mapsize (segment->env, 1ULL << 32) == 0);
    CHECK (mdb_env_open (segment->env, path, MDB_NOSUBDIR, 0600) == 0);
    CHECK (mdb_txn_begin (segment->env, NULL, 0, &segment->txn) == 0);
    CHECK (mdb_dbi_open (segment->txn, "records", 0, &segment->records) == 0);
    CHECK (mdb_dbi_open (segment->txn, "checkpoints", 0, &segment->checkpoints) == 0);
    CHECK (mdb_dbi_open (segment->txn, "meta", 0, &segment->meta) == 0);
}

static MDB_val
s_seq_key (uint64_t seq, uint8_t bytes [8])
{
    tly_put_be64 (bytes, seq);
    return (MDB_val) { 8, bytes };
}

//  Stores body (packed from it) as record seq, linked to prev, and its new
//  hash into hash.
static void
s_store (s_segment_t *segment, uint64_t seq, Tally__RecordBody *body,
         const uint8_t prev [TLY_HASH_BYTES], uint8_t hash [TLY_HASH_BYTES])
{
    body->prev_hash = (ProtobufCBinaryData) { TLY_HASH_BYTES, (uint8_t *) prev };
    size_t size = tally__record_body__get_packed_size (body);
    uint8_t *bytes = malloc (size);
    CHECK (bytes && tally__record_body__pack (body, bytes) == size);
    tly_record_hash (bytes, size, hash);
    Tally__StoredRecord stored = TALLY__STORED_RECORD__INIT;
    stored.body = (ProtobufCBinaryData) { size, bytes };
    stored.hash = (ProtobufCBinaryData) { TLY_HASH_BYTES, hash };
    size_t stored_size = tally__stored_record__get_packed_size (&stored);
    uint8_t *stored_bytes = malloc (stored_size);
    CHECK (stored_bytes && tally__stored_record__pack (&stored, stored_bytes) == stored_size);
    uint8_t key_bytes [8];
    MDB_val key = s_seq_key (seq, key_bytes), value = { stored_size, stored_bytes };
    CHECK (mdb_put (segment->txn, segment->records, &key, &value, 0) == 0);
    free (stored_bytes);
    free (bytes);
}

//  Signs every checkpoint from seq from on again, over the new hashes
//  (hashes [seq - first], first the segment's first seq).
static void
s_sign_again (s_segment_t *segment, uint64_t first, uint64_t from, uint64_t last,
              const uint8_t (*hashes) [TLY_HASH_BYTES], const tly_account_t *worker)
{
    MDB_cursor *cursor;
    CHECK (mdb_cursor_open (segment->txn, segment->checkpoints, &cursor) == 0);
    uint8_t key_bytes [8];
    MDB_val key = s_seq_key (from, key_bytes), value;
    int rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    while (rc == 0) {
        uint64_t seq = tly_get_be64 (key.mv_data);
        CHECK (seq >= from && seq <= last);
        Tally__SignedCheckpoint *signed_checkpoint = tally__signed_checkpoint__unpack (
            NULL, value.mv_size, value.mv_data);
        CHECK (signed_checkpoint);
        Tally__Checkpoint *checkpoint = tally__checkpoint__unpack (
            NULL, signed_checkpoint->checkpoint.len, signed_checkpoint->checkpoint.data);
        CHECK (checkpoint && checkpoint->seq == seq);
        ProtobufCBinaryData signed_hash = checkpoint->hash;
        checkpoint->hash = (ProtobufCBinaryData) { TLY_HASH_BYTES,
                                                   (uint8_t *) hashes [seq - first] };
        size_t size = tally__checkpoint__get_packed_size (checkpoint);
        uint8_t *bytes = malloc (size);
        CHECK (bytes && tally__checkpoint__pack (checkpoint, bytes) == size);
        uint8_t signature [TLY_SIGNATURE_BYTES];
        tly_sign_domain (TLY_DOMAIN_CHECKPOINT, worker->sign_sk, bytes, size, signature);
        Tally__SignedCheckpoint again = TALLY__SIGNED_CHECKPOINT__INIT;
        again.checkpoint = (ProtobufCBinaryData) { size, bytes };
        again.signature = (ProtobufCBinaryData) { TLY_SIGNATURE_BYTES, signature };
        size_t again_size = tally__signed_checkpoint__get_packed_size (&again);
        uint8_t *again_bytes = malloc (again_size);
        CHECK (again_bytes && tally__signed_checkpoint__pack (&again, again_bytes) == again_size);
        MDB_val stored = { again_size, again_bytes };
        CHECK (mdb_cursor_put (cursor, &key, &stored, MDB_CURRENT) == 0);
        free (again_bytes);
        free (bytes);
        checkpoint->hash = signed_hash;  //  freed with its message
        tally__checkpoint__free_unpacked (checkpoint, NULL);
        tally__signed_checkpoint__free_unpacked (signed_checkpoint, NULL);
        rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
    }
    CHECK (rc == MDB_NOTFOUND);
    mdb_cursor_close (cursor);
}

uint64_t
journal_forge (const char *journal_dir, journal_forge_fn *fn, void *arg,
               const tly_account_t *worker)
{
    char path [700];
    s_segment_path (journal_dir, path, sizeof path);
    s_segment_t segment;
    s_open (&segment, path);
    MDB_val key = { 4, "head" }, value;
    CHECK (mdb_get (segment.txn, segment.meta, &key, &value) == 0 && value.mv_size == S_HEAD_BYTES);
    uint64_t head = tly_get_be64 (value.mv_data);
    key = (MDB_val) { 5, "first" };
    uint64_t first = 1;
    if (mdb_get (segment.txn, segment.meta, &key, &value) == 0 && value.mv_size == 8)
        first = tly_get_be64 (value.mv_data);
    CHECK (head >= first);

    uint8_t (*hashes) [TLY_HASH_BYTES] = calloc (head - first + 1, TLY_HASH_BYTES);
    CHECK (hashes);
    uint8_t prev [TLY_HASH_BYTES];
    uint64_t forged = 0;
    for (uint64_t seq = first; seq <= head; seq++) {
        uint8_t key_bytes [8];
        key = s_seq_key (seq, key_bytes);
        CHECK (mdb_get (segment.txn, segment.records, &key, &value) == 0);
        Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, value.mv_size,
                                                                    value.mv_data);
        CHECK (stored && stored->hash.len == TLY_HASH_BYTES);
        Tally__RecordBody *body = tally__record_body__unpack (NULL, stored->body.len,
                                                              stored->body.data);
        CHECK (body && body->draft && body->seq == seq);
        uint8_t *original_prev = body->prev_hash.data;
        if (!forged && fn (seq, body->draft, arg))
            forged = seq;
        if (forged)
            //  The forged record, and every one after it, chained again.
            s_store (&segment, seq, body, seq == forged ? original_prev : prev,
                     hashes [seq - first]);
        else
            memcpy (hashes [seq - first], stored->hash.data, TLY_HASH_BYTES);
        memcpy (prev, hashes [seq - first], TLY_HASH_BYTES);
        body->prev_hash.data = original_prev;  //  freed with its message
        tally__stored_record__free_unpacked (stored, NULL);
        tally__record_body__free_unpacked (body, NULL);
    }
    if (forged) {
        uint8_t head_bytes [S_HEAD_BYTES];
        tly_put_be64 (head_bytes, head);
        memcpy (head_bytes + 8, prev, TLY_HASH_BYTES);
        key = (MDB_val) { 4, "head" };
        value = (MDB_val) { sizeof head_bytes, head_bytes };
        CHECK (mdb_put (segment.txn, segment.meta, &key, &value, 0) == 0);
        s_sign_again (&segment, first, forged, head, (const uint8_t (*) [TLY_HASH_BYTES]) hashes,
                      worker);
        CHECK (mdb_txn_commit (segment.txn) == 0);
    } else
        mdb_txn_abort (segment.txn);
    mdb_env_close (segment.env);
    free (hashes);
    return forged;
}

//  ---------------------------------------------------------------- state snapshots

#define S_PART_KEY 16  //  partition u32 | partition_seq u64 | part u32

//  Raises the first account row's balance in rows; whether it held one.
static bool
s_raise (Tally__SnapshotRows *rows, int64_t add, uint8_t user [TLY_KEY_BYTES])
{
    for (size_t i = 0; i < rows->n_rows; i++) {
        Tally__SnapshotRow *row = rows->rows [i];
        if (row->table != TLY_STORE_ROW_ACCOUNT || row->key.len != TLY_KEY_BYTES
            || row->value.len < 8)
            continue;
        tly_put_be64 (row->value.data, tly_get_be64 (row->value.data) + (uint64_t) add);
        memcpy (user, row->key.data, TLY_KEY_BYTES);
        return true;
    }
    return false;
}

//  Rewrites the parts of the snapshot header names, the first account's
//  balance raised, into the header's digest. Whether it held an account.
static bool
s_forge_parts (MDB_txn *txn, MDB_dbi parts, Tally__SnapshotHeader *header, int64_t add,
               uint8_t user [TLY_KEY_BYTES])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, (const uint8_t *) TLY_SNAPSHOT_DIGEST_KEY,
                             strlen (TLY_SNAPSHOT_DIGEST_KEY), TLY_HASH_BYTES);
    bool raised = false;
    for (uint32_t part = 0; part < header->parts; part++) {
        uint8_t key_bytes [S_PART_KEY];
        tly_put_be32 (key_bytes, header->partition);
        tly_put_be64 (key_bytes + 4, header->partition_seq);
        tly_put_be32 (key_bytes + 12, part);
        MDB_val key = { sizeof key_bytes, key_bytes }, value;
        CHECK (mdb_get (txn, parts, &key, &value) == 0);
        Tally__SnapshotRows *rows = tally__snapshot_rows__unpack (NULL, value.mv_size,
                                                                  value.mv_data);
        CHECK (rows);
        if (!raised && s_raise (rows, add, user)) {
            raised = true;
            size_t size = tally__snapshot_rows__get_packed_size (rows);
            uint8_t *bytes = malloc (size);
            CHECK (bytes && tally__snapshot_rows__pack (rows, bytes) == size);
            value = (MDB_val) { size, bytes };
            CHECK (mdb_put (txn, parts, &key, &value, 0) == 0);
            crypto_generichash_update (&state, bytes, size);
            free (bytes);
        } else
            crypto_generichash_update (&state, value.mv_data, value.mv_size);
        tally__snapshot_rows__free_unpacked (rows, NULL);
    }
    crypto_generichash_final (&state, header->digest.data, TLY_HASH_BYTES);
    return raised;
}

uint64_t
journal_forge_snapshot (const char *snapshots_dir, int64_t add, const tly_account_t *worker,
                        uint8_t user [TLY_KEY_BYTES], uint32_t *partition)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi latest, parts;
    CHECK (mdb_env_create (&env) == 0);
    CHECK (mdb_env_set_maxdbs (env, 4) == 0);
    CHECK (mdb_env_open (env, snapshots_dir, 0, 0600) == 0);
    CHECK (mdb_txn_begin (env, NULL, 0, &txn) == 0);
    CHECK (mdb_dbi_open (txn, "latest", 0, &latest) == 0);
    CHECK (mdb_dbi_open (txn, "parts", 0, &parts) == 0);
    MDB_cursor *cursor;
    CHECK (mdb_cursor_open (txn, latest, &cursor) == 0);
    MDB_val key, value;
    uint64_t seq = 0;
    for (int rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0 && !seq;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        Tally__SignedSnapshotHeader *signed_header = tally__signed_snapshot_header__unpack (
            NULL, value.mv_size, value.mv_data);
        CHECK (signed_header);
        Tally__SnapshotHeader *header = tally__snapshot_header__unpack (
            NULL, signed_header->header.len, signed_header->header.data);
        CHECK (header && header->digest.len == TLY_HASH_BYTES);
        if (s_forge_parts (txn, parts, header, add, user)) {
            seq = header->seq;
            *partition = header->partition;
            size_t size = tally__snapshot_header__get_packed_size (header);
            uint8_t *bytes = malloc (size);
            CHECK (bytes && tally__snapshot_header__pack (header, bytes) == size);
            uint8_t signature [TLY_SIGNATURE_BYTES];
            tly_sign_domain (TLY_DOMAIN_SNAPSHOT, worker->sign_sk, bytes, size, signature);
            Tally__SignedSnapshotHeader again = TALLY__SIGNED_SNAPSHOT_HEADER__INIT;
            again.header = (ProtobufCBinaryData) { size, bytes };
            again.signature = (ProtobufCBinaryData) { TLY_SIGNATURE_BYTES, signature };
            size_t again_size = tally__signed_snapshot_header__get_packed_size (&again);
            uint8_t *again_bytes = malloc (again_size);
            CHECK (again_bytes
                   && tally__signed_snapshot_header__pack (&again, again_bytes) == again_size);
            MDB_val stored = { again_size, again_bytes };
            CHECK (mdb_cursor_put (cursor, &key, &stored, MDB_CURRENT) == 0);
            free (again_bytes);
            free (bytes);
        }
        tally__snapshot_header__free_unpacked (header, NULL);
        tally__signed_snapshot_header__free_unpacked (signed_header, NULL);
    }
    mdb_cursor_close (cursor);
    CHECK (mdb_txn_commit (txn) == 0);
    mdb_env_close (env);
    return seq;
}
