//  tly_journal_roll - the writer's segment roll: sealing the active segment
//  (a signed checkpoint of its last record and the sealed mark, one
//  commit) and making the next one (written whole under a temporary name,
//  then renamed into place), and when a roll is due
//  (tly_journal_set_segments). The writer core (tly_journal.c) rolls at
//  the start of a group commit, and the opening (tly_journal_open.c) when
//  a crash left the journal mid-roll.
#include "tly_journal_private.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tly_fault.h"
#include "tly_log.h"
#include "tly_wire.h"

//  Makes the segment after the head: written whole under a temporary name
//  (meta, the partition table and its bases), fsync'd, then renamed into
//  place; a crash before the rename leaves only a temporary file, which the
//  next open removes. Then opens it for writing.
int
tly_journal_make_next (tly_journal_t *self, const uint8_t *seal, size_t seal_size)
{
    uint64_t first = self->head.seq + 1;
    char dir [PATH_MAX + 32], path [PATH_MAX + 64], temporary [PATH_MAX + 80], lock [PATH_MAX + 96];
    snprintf (dir, sizeof dir, "%s/" TLY_JOURNAL_SEGMENTS_SUBDIR, self->path);
    tly_journal_segment_path (path, sizeof path, dir, first);
    snprintf (temporary, sizeof temporary, "%s" TLY_JOURNAL_NEW_SUFFIX, path);
    snprintf (lock, sizeof lock, "%s-lock", temporary);
    unlink (temporary);
    unlink (lock);
    MDB_env *env = NULL;
    if (tly_journal_env_open (self, &env, temporary, self->map_size0) == -1)
        return -1;
    tly_journal_segment_t fresh = { .first = first };
    snprintf (fresh.path, sizeof fresh.path, "%.*s", (int) sizeof fresh.path - 1, temporary);
    MDB_txn *txn;
    int rc = mdb_txn_begin (env, NULL, 0, &txn);
    if (rc) {
        tly_journal_lmdb_error (self, "txn_begin", rc);
        mdb_env_close (env);
        return -1;
    }
    int ok = tly_journal_segment_dbis (self, &fresh, txn, true);
    uint8_t format [4], first_bytes [8];
    tly_put_be32 (format, TLY_JOURNAL_FORMAT);
    tly_put_be64 (first_bytes, first);
    rc = ok == 0 ? 0 : EINVAL;
    if (rc == 0)
        rc = tly_journal_put_meta (txn, fresh.meta, "format", format, sizeof format);
    if (rc == 0)
        rc = tly_journal_put_meta (txn, fresh.meta, "first", first_bytes, sizeof first_bytes);
    if (rc == 0)
        rc = tly_journal_put_head (txn, fresh.meta, "base", &self->head);
    if (rc == 0)
        rc = tly_journal_put_head (txn, fresh.meta, TLY_JOURNAL_HEAD_KEY, &self->head);
    if (rc == 0 && seal_size > 0)
        rc = tly_journal_put_meta (txn, fresh.meta, "base_checkpoint", seal, seal_size);
    if (rc == 0 && self->config_version > 0)
        rc = tly_journal_put_meta (txn, fresh.meta, TLY_JOURNAL_CONFIG_KEY, self->config,
                                   self->config_size);
    //  Partition states as of the end of the segment before: the table the
    //  writer goes on updating, and the frozen bases a partition read
    //  finds its segment by.
    for (uint32_t partition = 0; rc == 0 && partition < TLY_PARTITIONS_MAX; partition++) {
        const tly_journal_state_t *state = &self->committed [partition];
        if (state->fence == 0 && state->last_pseq == 0)
            continue;
        rc = tly_journal_put_partition (txn, fresh.partitions, partition, state, MDB_APPEND);
        if (rc == 0)
            rc = tly_journal_put_partition (txn, fresh.bases, partition, state, MDB_APPEND);
    }
    //  An injected failure (tly_fault.h) fails the commit as LMDB does: aborted.
    if (rc == 0 && (rc = TLY_FAULT ("journal.roll")) == 0)
        rc = mdb_txn_commit (txn);
    else
        mdb_txn_abort (txn);
    mdb_env_close (env);
    unlink (lock);
    if (rc) {
        tly_journal_lmdb_error (self, "make_segment", rc);
        unlink (temporary);
        return -1;
    }
    (void) TLY_FAULT ("journal.roll.made");
    if (rename (temporary, path) == -1 || tly_journal_sync_dir (dir) == -1) {
        self->failure = errno;
        tly_log (TLY_ERROR, "journal.roll", "path=%s error=\"%s\"", path, strerror (errno));
        unlink (temporary);
        return -1;
    }
    (void) TLY_FAULT ("journal.roll.renamed");
    if (tly_journal_segments_scan (self) == -1
        || self->segments [self->segment_count - 1]->first != first)
        return -1;
    if (tly_journal_open_active (self) == -1)
        return -1;
    //  What the journal holds on disk now, for operators watching it grow.
    uint64_t live_bytes = 0;
    for (size_t i = 0; i < self->segment_count; i++) {
        struct stat info;
        if (stat (self->segments [i]->path, &info) == 0)
            live_bytes += (uint64_t) info.st_size;
    }
    tly_log (TLY_INFO, "journal.segment_opened",
             "path=%s first=%" PRIu64 " segments=%zu live_bytes=%" PRIu64, path, first,
             self->segment_count, live_bytes);
    return 0;
}

//  The seal checkpoint of the active segment (the signed checkpoint of its
//  last record), copied into seal. Returns its size, or 0 when it has none.
static size_t
s_seal_checkpoint (tly_journal_t *self, uint8_t seal [TLY_JOURNAL_CHECKPOINT_MAX])
{
    tly_journal_segment_t *segment = self->active;
    if (self->head.seq == segment->base.seq) {
        if (segment->base_checkpoint_size)
            memcpy (seal, segment->base_checkpoint, segment->base_checkpoint_size);
        return segment->base_checkpoint_size;
    }
    MDB_txn *txn;
    if (mdb_txn_begin (segment->env, NULL, MDB_RDONLY, &txn))
        return 0;
    uint8_t key_bytes [8];
    tly_put_be64 (key_bytes, self->head.seq);
    MDB_val key = { sizeof key_bytes, key_bytes }, value;
    size_t size = 0;
    if (mdb_get (txn, segment->checkpoints, &key, &value) == 0
        && value.mv_size <= TLY_JOURNAL_CHECKPOINT_MAX) {
        memcpy (seal, value.mv_data, value.mv_size);
        size = value.mv_size;
    }
    mdb_txn_abort (txn);
    return size;
}

//  Seals the active segment (a signed checkpoint of its last record and the
//  sealed mark, one commit), closes it for good and makes the next one.
//  Also finishes a roll a crash interrupted (the last segment sealed).
int
tly_journal_roll (tly_journal_t *self)
{
    tly_journal_segment_t *segment = self->active;
    if (segment->env && !segment->sealed) {
        int rc = mdb_txn_begin (segment->env, NULL, 0, &self->txn);
        if (rc) {
            self->txn = NULL;
            tly_journal_lmdb_error (self, "txn_begin", rc);
            return -1;
        }
        uint8_t last [8];
        tly_put_be64 (last, self->head.seq);
        if (tly_journal_checkpoint (self, self->sealer.sign_sk, self->sealer.sign_pk, tly_now_ms ())
            == -1) {
            tly_journal_abort (self);
            return -1;
        }
        rc = tly_journal_put_meta (self->txn, segment->meta, "sealed", last, sizeof last);
        if (rc) {
            tly_journal_lmdb_error (self, "put_sealed", rc);
            tly_journal_abort (self);
            return -1;
        }
        if (tly_journal_commit (self) == -1)
            return -1;
        segment->sealed = true;
        struct stat info;
        segment->bytes = stat (segment->path, &info) == 0 ? (uint64_t) info.st_size : 0;
        tly_log (TLY_INFO, "journal.segment_sealed",
                 "path=%s first=%" PRIu64 " last=%" PRIu64 " bytes=%" PRIu64, segment->path,
                 segment->first, self->head.seq, segment->bytes);
        (void) TLY_FAULT ("journal.roll.sealed");
    }
    uint8_t seal [TLY_JOURNAL_CHECKPOINT_MAX];
    size_t seal_size = segment->env ? s_seal_checkpoint (self, seal) : 0;
    if (!segment->env) {
        //  A roll that failed after the seal: read the seal back read-only.
        if (tly_journal_segment_use (self, segment) == -1)
            return -1;
        uint8_t key_bytes [8];
        tly_put_be64 (key_bytes, self->head.seq);
        MDB_val key = { sizeof key_bytes, key_bytes }, value;
        if (self->head.seq == segment->base.seq) {
            seal_size = segment->base_checkpoint_size;
            memcpy (seal, segment->base_checkpoint, seal_size);
        } else if (mdb_get (segment->snapshot, segment->checkpoints, &key, &value) == 0
                   && value.mv_size <= sizeof seal) {
            memcpy (seal, value.mv_data, value.mv_size);
            seal_size = value.mv_size;
        }
    }
    tly_journal_segment_close (segment);
    return tly_journal_make_next (self, seal, seal_size);
}

//  Whether the active segment is due to roll before the next commit.
bool
tly_journal_roll_due (tly_journal_t *self)
{
    tly_journal_segment_t *segment = self->active;
    if (!segment->env)
        return true;  //  a roll left unfinished
    if (!self->sealer.sign_sk || self->head.seq == segment->base.seq)
        return false;
    if (self->segment_records && self->head.seq - segment->base.seq >= self->segment_records)
        return true;
    if (self->segment_bytes) {
        MDB_envinfo info;
        MDB_stat stat;
        if (mdb_env_info (segment->env, &info) == 0 && mdb_env_stat (segment->env, &stat) == 0
            && (uint64_t) (info.me_last_pgno + 1) * stat.ms_psize >= self->segment_bytes)
            return true;
    }
    return false;
}

void
tly_journal_set_segments (tly_journal_t *self, uint64_t bytes, uint64_t records,
                          const tly_journal_signer_t *sealer)
{
    assert (self);
    assert (!self->read_only);
    assert (sealer && sealer->sign_sk && sealer->sign_pk);
    self->segment_bytes = bytes;
    self->segment_records = records;
    self->sealer = *sealer;
}
