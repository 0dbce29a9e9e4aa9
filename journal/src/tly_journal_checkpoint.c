//  tly_journal_checkpoint - the writer's signed chain heads.
//
//  A checkpoint is the worker's Ed25519 signature over a Checkpoint{seq, hash,
//  timestamp_ms, worker} naming the head of the chain. Holding only the
//  worker's account ID, a verifier can then tell that the chain up to seq is
//  the one the writer wrote, and not one rebuilt by whoever had the files.
#include "tly_journal_private.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>
#include "tly_log.h"
#include "tly_sign.h"

//  A serialized Checkpoint: four small fields, well under this.
#define S_CHECKPOINT_MAX 128
#define S_SIGNED_MAX     (S_CHECKPOINT_MAX + TLY_SIGNATURE_BYTES + 8)

int
tly_journal_load_checkpoint_seq (tly_journal_t *self, tly_journal_segment_t *segment, MDB_txn *txn,
                                 uint64_t *seq)
{
    *seq = 0;
    if (!segment->has_checkpoints)
        return 0;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, segment->checkpoints, &cursor);
    if (rc) {
        tly_journal_lmdb_error (self, "cursor_open", rc);
        return -1;
    }
    MDB_val key, value;
    rc = mdb_cursor_get (cursor, &key, &value, MDB_LAST);
    mdb_cursor_close (cursor);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc || key.mv_size != 8) {
        tly_log (TLY_ERROR, "journal.corrupt", "path=%s reason=\"bad checkpoint entry\"",
                 segment->path);
        return -1;
    }
    *seq = tly_get_be64 (key.mv_data);
    return 0;
}

uint64_t
tly_journal_unsigned (tly_journal_t *self)
{
    assert (self);
    assert (!self->read_only);
    assert (self->pending_head.seq >= self->pending_checkpoint_seq);
    return self->pending_head.seq - self->pending_checkpoint_seq;
}

//  Signs the pending head and stores it inside the open transaction.
static int
s_put_checkpoint (tly_journal_t *self, const uint8_t sign_sk [TLY_SECRET_KEY_BYTES],
                  const uint8_t worker_pk [TLY_KEY_BYTES], int64_t now_ms)
{
    Tally__Checkpoint checkpoint = TALLY__CHECKPOINT__INIT;
    checkpoint.seq = self->pending_head.seq;
    checkpoint.hash = (ProtobufCBinaryData) { TLY_HASH_BYTES, self->pending_head.hash };
    checkpoint.timestamp_ms = now_ms;
    checkpoint.worker = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) worker_pk };
    uint8_t checkpoint_bytes [S_CHECKPOINT_MAX];
    assert (tally__checkpoint__get_packed_size (&checkpoint) <= sizeof checkpoint_bytes);
    size_t checkpoint_size = tally__checkpoint__pack (&checkpoint, checkpoint_bytes);
    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_domain (TLY_DOMAIN_CHECKPOINT, sign_sk, checkpoint_bytes, checkpoint_size, signature);

    Tally__SignedCheckpoint signed_checkpoint = TALLY__SIGNED_CHECKPOINT__INIT;
    signed_checkpoint.checkpoint = (ProtobufCBinaryData) { checkpoint_size, checkpoint_bytes };
    signed_checkpoint.signature = (ProtobufCBinaryData) { sizeof signature, signature };
    uint8_t signed_bytes [S_SIGNED_MAX];
    assert (tally__signed_checkpoint__get_packed_size (&signed_checkpoint) <= sizeof signed_bytes);
    size_t signed_size = tally__signed_checkpoint__pack (&signed_checkpoint, signed_bytes);

    uint8_t seq_bytes [8];
    tly_put_be64 (seq_bytes, checkpoint.seq);
    MDB_val key = { sizeof seq_bytes, seq_bytes };
    MDB_val value = { signed_size, signed_bytes };
    //  Checkpoint seqs only grow, like record seqs.
    int rc = mdb_put (self->txn, self->active->checkpoints, &key, &value, MDB_APPEND);
    if (rc) {
        tly_journal_lmdb_error (self, "put_checkpoint", rc);
        return -1;
    }
    self->pending_checkpoint_seq = checkpoint.seq;
    tly_log (TLY_DEBUG, "checkpoint", "seq=%" PRIu64, checkpoint.seq);
    return 0;
}

int
tly_journal_checkpoint (tly_journal_t *self, const uint8_t sign_sk [TLY_SECRET_KEY_BYTES],
                        const uint8_t worker_pk [TLY_KEY_BYTES], int64_t now_ms)
{
    assert (self);
    assert (!self->read_only);
    assert (sign_sk && worker_pk);
    //  The secret key carries its public half: a checkpoint names its signer.
    assert (memcmp (sign_sk + TLY_SECRET_KEY_BYTES - TLY_KEY_BYTES, worker_pk, TLY_KEY_BYTES) == 0);
    if (tly_journal_unsigned (self) == 0)
        return 0;
    if (self->txn)
        return s_put_checkpoint (self, sign_sk, worker_pk, now_ms);
    if (tly_journal_begin (self) == -1)
        return -1;
    if (s_put_checkpoint (self, sign_sk, worker_pk, now_ms) == -1) {
        tly_journal_abort (self);
        tly_journal_note_space (self, false);
        return -1;
    }
    int rc = tly_journal_commit (self);
    tly_journal_note_space (self, rc == 0);
    return rc;
}

int
tly_journal_checkpoint_decode (const uint8_t *bytes, size_t size, const uint8_t *worker,
                               tly_journal_checkpoint_t *checkpoint)
{
    assert (checkpoint);
    memset (checkpoint, 0, sizeof *checkpoint);
    Tally__SignedCheckpoint *signed_checkpoint = tally__signed_checkpoint__unpack (NULL, size,
                                                                                   bytes);
    Tally__Checkpoint *decoded = signed_checkpoint ? tally__checkpoint__unpack (
                                     NULL, signed_checkpoint->checkpoint.len,
                                     signed_checkpoint->checkpoint.data)
                                                   : NULL;
    int rc = -1;
    if (decoded && decoded->hash.len == TLY_HASH_BYTES) {
        checkpoint->seq = decoded->seq;
        memcpy (checkpoint->hash, decoded->hash.data, TLY_HASH_BYTES);
        checkpoint->timestamp_ms = decoded->timestamp_ms;
        checkpoint->signed_by_worker = worker && decoded->worker.len == TLY_KEY_BYTES
                                       && memcmp (decoded->worker.data, worker, TLY_KEY_BYTES) == 0
                                       && tly_verify_domain (TLY_DOMAIN_CHECKPOINT, worker,
                                                             signed_checkpoint->checkpoint.data,
                                                             signed_checkpoint->checkpoint.len,
                                                             signed_checkpoint->signature.data,
                                                             signed_checkpoint->signature.len);
        rc = 0;
    }
    if (decoded)
        tally__checkpoint__free_unpacked (decoded, NULL);
    if (signed_checkpoint)
        tally__signed_checkpoint__free_unpacked (signed_checkpoint, NULL);
    return rc;
}
