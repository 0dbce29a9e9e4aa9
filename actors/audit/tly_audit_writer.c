//  tly_audit_writer - the audit-log writer (see tly_audit_writer.h).
#include "tly_audit_writer.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tly_account.h"
#include "tly_account_load.h"
#include "tly_audit_check.h"
#include "tly_audit_drain.h"
#include "tly_audit_snapshots.h"
#include "tly_journal.h"
#include "tly_limits.h"
#include "tly_log.h"
#include "tly_validate.h"
#include "tly_wire.h"

#define S_SIGNAL_CHECK_MS 500   //  longest wait before noticing a signal
#define S_RELEASE_MS      1000  //  how often the journal's mapped pages go back
#define S_PATH_MAX        4096

struct _tly_audit_writer_t {
    tly_journal_t *journal;
    tly_audit_retain_t retain;
    char archive_dir [S_PATH_MAX];
    int64_t retain_check_ms;
    int64_t retain_at;         //  monotonic ms of the next retention check
    int64_t release_at;        //  monotonic ms of the next tly_journal_release
    uint64_t retained_before;  //  the last needed seq logged
    uint32_t archived;         //  segment files in archive_dir, for status
    uint64_t archived_bytes;
    tly_audit_snapshots_t *snapshots;
    zsock_t *socket;
    tly_curve_t *curve;  //  the keys, and the checker of actors' handshakes
    tly_audit_drain_t *drain;
    tly_account_t worker;
    tly_journal_signer_t signer;  //  signs inside a group commit, every N records
    int64_t interval_ms;          //  longest time a record stays unsigned
    int64_t unsigned_since_ms;    //  monotonic time of the oldest unsigned record, or 0
    Tally__StoredRecord *records [TLY_READ_RECORDS_MAX];  //  one read's reply
    size_t record_count;
};

//  ---------------------------------------------------------------- checkpoints

//  After a commit that started at head seq head_before: the clock runs from
//  the commit of the oldest unsigned record, and stops once none is left.
//  (A checkpoint inside the commit restarts it for the records after it.)
static void
s_note_unsigned (tly_audit_writer_t *self, uint64_t head_before)
{
    uint64_t left = tly_journal_unsigned (self->journal);
    if (left == 0) {
        self->unsigned_since_ms = 0;
        return;
    }
    tly_journal_head_t head;
    tly_journal_head (self->journal, &head);
    if (head.seq - left >= head_before)
        self->unsigned_since_ms = tly_mono_ms ();
}

int
tly_audit_writer_sign (tly_audit_writer_t *self)
{
    assert (self);
    if (tly_journal_checkpoint (self->journal, self->worker.sign_sk, self->worker.sign_pk,
                                tly_now_ms ())
        == -1) {
        //  No room has its own line, once (journal.storage_full).
        if (!tly_journal_full (self->journal))
            tly_log (TLY_ERROR, "checkpoint.failed", "reason=\"see the journal line above\"");
        return -1;
    }
    return 0;
}

//  What archive_dir holds, counted at start and after each retirement.
static void
s_count_archive (tly_audit_writer_t *self)
{
    if (tly_journal_archive_usage (self->archive_dir, &self->archived, &self->archived_bytes) == -1)
        tly_log (TLY_WARN, "archive.unreadable", "path=%s error=\"%s\"", self->archive_dir,
                 strerror (errno));
}

//  Retention: sealed segments whose records no partition needs any more
//  (each partition's latest snapshot is past them) are archived or
//  deleted, as the operator chose. Never the active segment, never a record
//  a partition without a snapshot still needs.
static void
s_retain (tly_audit_writer_t *self)
{
    self->retain_at = tly_mono_ms () + self->retain_check_ms;
    uint64_t needed;
    uint32_t without;
    if (tly_audit_snapshots_needed (self->snapshots, self->journal, &needed, &without) == -1)
        return;
    int retired = tly_journal_retire (
        self->journal, needed, self->retain == TLY_AUDIT_RETAIN_ARCHIVE ? self->archive_dir : NULL);
    if (retired > 0 || needed != self->retained_before)
        tly_log (retired > 0 ? TLY_INFO : TLY_DEBUG, "retention",
                 "policy=%s needed_from_seq=%" PRIu64 " partitions_without_snapshot=%" PRIu32
                 " segments_retired=%d",
                 self->retain == TLY_AUDIT_RETAIN_ARCHIVE ? "archive" : "delete", needed, without,
                 retired);
    self->retained_before = needed;
    if (retired > 0 && self->retain == TLY_AUDIT_RETAIN_ARCHIVE)
        s_count_archive (self);
}

void
tly_audit_writer_tick (tly_audit_writer_t *self)
{
    assert (self);
    if (self->retain != TLY_AUDIT_RETAIN_KEEP && tly_mono_ms () >= self->retain_at) {
        s_retain (self);
        self->release_at = 0;  //  it read a record of every partition: give them back now
    }
    //  The journal's pages this process read (serving actors' reads, finding
    //  the record a snapshot names, appending) would stay in its RSS up to
    //  a whole segment; the snapshot store gives its pages back itself.
    if (tly_mono_ms () >= self->release_at) {
        tly_journal_release (self->journal);
        self->release_at = tly_mono_ms () + S_RELEASE_MS;
    }
    if (self->unsigned_since_ms == 0
        || tly_mono_ms () - self->unsigned_since_ms < self->interval_ms)
        return;
    if (tly_audit_writer_sign (self) == -1)
        //  Try again an interval later, not in a tight loop.
        self->unsigned_since_ms = tly_mono_ms ();
    else
        s_note_unsigned (self, tly_audit_writer_head_seq (self));
}

int
tly_audit_writer_wait_ms (tly_audit_writer_t *self)
{
    assert (self);
    if (self->unsigned_since_ms == 0)
        return S_SIGNAL_CHECK_MS;
    int64_t left = self->unsigned_since_ms + self->interval_ms - tly_mono_ms ();
    return left <= 0 ? 0 : left < S_SIGNAL_CHECK_MS ? (int) left : S_SIGNAL_CHECK_MS;
}

//  ---------------------------------------------------------------- appends

static void
s_send (tly_audit_writer_t *self, zframe_t *identity, const Tally__AuditReply *reply)
{
    if (tly_wire_send (self->socket, identity, &reply->base) == -1)
        tly_log (TLY_WARN, "reply.lost", "error=\"%s\"", zmq_strerror (zmq_errno ()));
}

static void
s_log_commit (tly_audit_writer_t *self, int rc, size_t records, const Tally__AppendStatus *statuses,
              int64_t start_ms)
{
    size_t requests = self->drain->append_count;
    if (rc == -1) {
        //  Storage full has its own line (journal.storage_full), once.
        if (!tly_journal_full (self->journal))
            tly_log (TLY_ERROR, "append.failed", "requests=%zu records=%zu", requests, records);
        return;
    }
    size_t counts [TALLY__ERROR_CODE__CONFIG_LIMIT + 1] = { 0 };
    for (size_t i = 0; i < records; i++) {
        assert (statuses [i].code < sizeof counts / sizeof counts [0]);
        counts [statuses [i].code]++;
    }
    tly_log (TLY_DEBUG, "append.commit",
             "requests=%zu records=%zu accepted=%zu"
             " stale_epoch=%zu sequence_gap=%zu stale_config=%zu ms=%" PRId64,
             requests, records, counts [TALLY__ERROR_CODE__OK],
             counts [TALLY__ERROR_CODE__STALE_EPOCH], counts [TALLY__ERROR_CODE__SEQUENCE_GAP],
             counts [TALLY__ERROR_CODE__STALE_CONFIG], tly_mono_ms () - start_ms);
    if (counts [TALLY__ERROR_CODE__BAD_REQUEST] > 0)
        tly_log (TLY_WARN, "append.bad_records", "records=%zu",
                 counts [TALLY__ERROR_CODE__BAD_REQUEST]);
}

//  A draft whose events do not follow from its envelope (tly_audit_check):
//  refused, logged, never written.
static bool
s_refuse_draft (tly_audit_writer_t *self, const Tally__RecordDraft *draft,
                Tally__AppendStatus *status)
{
    const char *reason = tly_audit_check_draft (draft, self->drain->arena);
    if (!reason)
        reason = tly_audit_check_config (draft, self->worker.sign_pk, self->drain->arena);
    if (!reason)
        return false;
    tly_log (TLY_WARN, "append.does_not_follow",
             "partition=%" PRIu32 " partition_seq=%" PRIu64 " epoch=%" PRIu64 " reason=\"%s\"",
             draft->partition, draft->partition_seq, draft->epoch, reason);
    status->code = TALLY__ERROR_CODE__BAD_REQUEST;
    return true;
}

//  Group commit: every record of every append in one transaction, one fsync
//  (with a checkpoint every signer.every records), then one reply per
//  request. A draft whose events do not follow from its envelope is left out
//  and answered BAD_REQUEST. If the commit fails nothing was written and
//  every record is answered UNAVAILABLE when the journal has no room (the
//  map at --map-max, or the disk full: the actor tells its clients "journal
//  storage full"), else INTERNAL; the actor may retry either.
static void
s_commit_appends (tly_audit_writer_t *self)
{
    tly_audit_drain_t *drain = self->drain;
    if (drain->append_count == 0)
        return;
    size_t records = 0;
    for (size_t i = 0; i < drain->append_count; i++)
        records += drain->appends [i].request->append->n_records;
    //  Every request's records in one list, in the order they came, but for
    //  those refused (statuses holds every record's, in that order).
    Tally__RecordDraft **drafts = tly_audit_drain_alloc (drain, records ? records : 1,
                                                         sizeof (Tally__RecordDraft *));
    size_t *places = tly_audit_drain_alloc (drain, records ? records : 1, sizeof (size_t));
    Tally__AppendStatus *statuses = tly_audit_drain_alloc (drain, records ? records : 1,
                                                           sizeof (Tally__AppendStatus));
    Tally__AppendStatus *appended = tly_audit_drain_alloc (drain, records ? records : 1,
                                                           sizeof (Tally__AppendStatus));
    size_t passed = 0;
    for (size_t i = 0, at = 0; i < drain->append_count; i++) {
        Tally__AppendRequest *append = drain->appends [i].request->append;
        for (size_t r = 0; r < append->n_records; r++, at++) {
            tally__append_status__init (&statuses [at]);
            if (s_refuse_draft (self, append->records [r], &statuses [at]))
                continue;
            places [passed] = at;
            drafts [passed++] = append->records [r];
        }
    }
    uint64_t head_before = tly_audit_writer_head_seq (self);
    int64_t start_ms = tly_mono_ms ();
    int rc = tly_journal_append_batch (self->journal, drafts, passed, appended, &self->signer);
    s_note_unsigned (self, head_before);
    //  If the commit failed nothing was written: every record it held is
    //  answered so, the refused ones still BAD_REQUEST.
    Tally__ErrorCode failed = tly_journal_full (self->journal) ? TALLY__ERROR_CODE__UNAVAILABLE
                                                               : TALLY__ERROR_CODE__INTERNAL;
    for (size_t i = 0; i < passed; i++) {
        statuses [places [i]] = appended [i];
        if (rc != 0) {
            tally__append_status__init (&statuses [places [i]]);
            statuses [places [i]].code = failed;
        }
    }
    s_log_commit (self, rc, records, statuses, start_ms);

    //  A draft decided under another configuration is refused STALE_CONFIG
    //  with the current one, which its actor takes before deciding again.
    Tally__Config *config = NULL;
    Tally__AppendStatus *status = statuses;
    for (size_t i = 0; i < drain->append_count; i++) {
        Tally__AppendRequest *append = drain->appends [i].request->append;
        size_t count = append->n_records;
        Tally__AppendStatus **pointers = tly_audit_drain_alloc (drain, count ? count : 1,
                                                                sizeof (Tally__AppendStatus *));
        bool stale_config = false;
        for (size_t r = 0; r < count; r++, status++) {
            pointers [r] = status;
            stale_config |= status->code == TALLY__ERROR_CODE__STALE_CONFIG;
        }
        Tally__AppendReply append_reply = TALLY__APPEND_REPLY__INIT;
        append_reply.request_id = append->request_id;
        if (stale_config && !config) {
            const uint8_t *bytes = NULL;
            size_t size = 0;
            tly_journal_config (self->journal, &bytes, &size);
            config = tally__config__unpack (tly_arena_allocator (drain->arena), size, bytes);
            assert (config);  //  the journal packed it, or it is empty (version 0)
        }
        append_reply.config = stale_config ? config : NULL;
        append_reply.n_statuses = count;
        append_reply.statuses = pointers;
        Tally__AuditReply reply = TALLY__AUDIT_REPLY__INIT;
        reply.body_case = TALLY__AUDIT_REPLY__BODY_APPEND;
        reply.append = &append_reply;
        s_send (self, drain->appends [i].identity, &reply);
    }
}

//  ---------------------------------------------------------------- reads

static tly_journal_step_t
s_collect_record (uint64_t seq, const uint8_t *stored, size_t size, void *arg)
{
    tly_audit_writer_t *self = arg;
    assert (self->record_count < TLY_READ_RECORDS_MAX);
    Tally__StoredRecord *record = tally__stored_record__unpack (
        tly_arena_allocator (self->drain->arena), size, stored);
    if (!record) {
        tly_log (TLY_ERROR, "journal.corrupt", "seq=%" PRIu64 " reason=\"record does not decode\"",
                 seq);
        return TLY_JOURNAL_FAIL;
    }
    self->records [self->record_count++] = record;
    return TLY_JOURNAL_NEXT;
}

static void
s_serve_read (tly_audit_writer_t *self, const tly_audit_request_t *taken)
{
    const Tally__ReadRequest *read = taken->request->read;
    uint32_t max_records = read->max_records;
    if (max_records == 0 || max_records > TLY_READ_RECORDS_MAX)
        max_records = TLY_READ_RECORDS_MAX;
    tly_journal_query_t query = { .partition = read->partition,
                                  .claim_epoch = read->epoch,
                                  .after_partition_seq = read->after_partition_seq,
                                  .max_records = max_records,
                                  .max_bytes = TLY_JOURNAL_READ_BYTES };
    bool end = false;
    self->record_count = 0;
    Tally__ErrorCode code = tly_journal_read (self->journal, &query, s_collect_record, self, &end);

    Tally__ReadReply read_reply = TALLY__READ_REPLY__INIT;
    Tally__Error error = TALLY__ERROR__INIT;
    char message [128];
    read_reply.request_id = read->request_id;
    if (code == TALLY__ERROR_CODE__OK) {
        read_reply.n_records = self->record_count;
        read_reply.records = self->records;
        read_reply.end = end;
    } else {
        uint64_t fence = 0;
        if (read->partition < TLY_PARTITIONS_MAX)
            tly_journal_partition (self->journal, read->partition, &fence, NULL);
        if (code == TALLY__ERROR_CODE__STALE_EPOCH)
            snprintf (message, sizeof message, "partition %" PRIu32 " is fenced at epoch %" PRIu64,
                      read->partition, fence);
        else
            snprintf (message, sizeof message, "%s", tly_error_default_message (code));
        error.code = code;
        error.message = message;
        read_reply.error = &error;
        tly_log (TLY_INFO, "read.refused",
                 "partition=%" PRIu32 " epoch=%" PRIu64 " fence=%" PRIu64 " code=%s",
                 read->partition, read->epoch, fence, tly_error_name (code));
    }
    Tally__AuditReply reply = TALLY__AUDIT_REPLY__INIT;
    reply.body_case = TALLY__AUDIT_REPLY__BODY_READ;
    reply.read = &read_reply;
    s_send (self, taken->identity, &reply);
    self->record_count = 0;
}

//  ---------------------------------------------------------------- status

//  What the journal and the snapshot store hold, for an actor to pass on
//  to the router (`tally status`). No file is opened: the figures are kept
//  as segments roll and retire and as snapshots are stored.
static void
s_serve_status (tly_audit_writer_t *self, const tly_audit_request_t *taken)
{
    tly_journal_usage_t usage;
    tly_journal_usage (self->journal, &usage);
    tly_audit_snapshots_stats_t stats;
    tly_audit_snapshots_stats (self->snapshots, &stats);
    Tally__JournalStatus status = TALLY__JOURNAL_STATUS__INIT;
    status.reported_ms = tly_now_ms ();
    status.head_seq = tly_audit_writer_head_seq (self);
    status.segments = usage.segments;
    status.sealed_segments = usage.sealed;
    status.live_bytes = usage.bytes;
    status.active_first_seq = usage.active_first;
    status.archived_segments = self->archived;
    status.archived_bytes = self->archived_bytes;
    status.snapshots = stats.count;
    status.snapshot_bytes = stats.bytes;
    status.oldest_snapshot_seq = stats.oldest_seq;
    status.last_snapshot_seq = stats.last_seq;
    status.last_snapshot_partition = stats.last_partition;
    status.last_snapshot_ms = stats.last_ms;
    Tally__AuditReply reply = TALLY__AUDIT_REPLY__INIT;
    reply.body_case = TALLY__AUDIT_REPLY__BODY_STATUS;
    reply.status = &status;
    s_send (self, taken->identity, &reply);
}

//  ---------------------------------------------------------------- state snapshots

static void
s_serve_snapshot (tly_audit_writer_t *self, const tly_audit_request_t *taken)
{
    Tally__AuditReply reply = TALLY__AUDIT_REPLY__INIT;
    Tally__SnapshotSaveReply save = TALLY__SNAPSHOT_SAVE_REPLY__INIT;
    Tally__SnapshotLoadReply load = TALLY__SNAPSHOT_LOAD_REPLY__INIT;
    if (taken->request->body_case == TALLY__AUDIT_REQUEST__BODY_SAVE_SNAPSHOT) {
        tly_audit_snapshots_save (self->snapshots, self->journal, taken->request->save_snapshot,
                                  self->drain->arena, &save);
        reply.body_case = TALLY__AUDIT_REPLY__BODY_SAVE_SNAPSHOT;
        reply.save_snapshot = &save;
    } else {
        tly_audit_snapshots_load (self->snapshots, taken->request->load_snapshot,
                                  self->drain->arena, &load);
        reply.body_case = TALLY__AUDIT_REPLY__BODY_LOAD_SNAPSHOT;
        reply.load_snapshot = &load;
    }
    s_send (self, taken->identity, &reply);
}

//  The fences the drain's claiming reads raise, in one commit: an actor
//  taking its share sends a claim for every partition at once, and each
//  read raising its own fence would be one fsync after another. A claim the
//  commit leaves out (at or below the fence) or a failed commit is decided
//  by the read itself, as before.
static void
s_raise_fences (tly_audit_writer_t *self)
{
    uint32_t partitions [TLY_AUDIT_DRAIN_MAX];
    uint64_t epochs [TLY_AUDIT_DRAIN_MAX];
    size_t count = 0;
    for (size_t i = 0; i < self->drain->read_count; i++) {
        const Tally__AuditRequest *request = self->drain->reads [i].request;
        if (request->body_case != TALLY__AUDIT_REQUEST__BODY_READ || request->read->epoch == 0
            || request->read->partition >= TLY_PARTITIONS_MAX)
            continue;
        partitions [count] = request->read->partition;
        epochs [count++] = request->read->epoch;
    }
    if (count > 1)
        tly_journal_raise_fences (self->journal, partitions, epochs, count);
}

void
tly_audit_writer_serve (tly_audit_writer_t *self)
{
    assert (self);
    tly_audit_drain_take (self->drain, self->socket);
    s_commit_appends (self);
    s_raise_fences (self);
    for (size_t i = 0; i < self->drain->read_count; i++)
        if (self->drain->reads [i].request->body_case == TALLY__AUDIT_REQUEST__BODY_READ)
            s_serve_read (self, &self->drain->reads [i]);
        else if (self->drain->reads [i].request->body_case == TALLY__AUDIT_REQUEST__BODY_STATUS)
            s_serve_status (self, &self->drain->reads [i]);
        else
            s_serve_snapshot (self, &self->drain->reads [i]);
    tly_audit_drain_clear (self->drain);
}

//  ---------------------------------------------------------------- the class

//  What the journal's segment files hold on disk, for the ready line.
static uint64_t
s_live_bytes (tly_journal_t *journal)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < tly_journal_segment_count (journal); i++) {
        tly_journal_segment_info_t info;
        if (tly_journal_segment_info (journal, i, &info) == 0)
            bytes += info.bytes;
    }
    return bytes;
}

tly_audit_writer_t *
tly_audit_writer_new (const tly_audit_writer_config_t *config, char *error, size_t error_size)
{
    assert (config && config->data_dir && config->bind);
    assert (config->checkpoint_every >= 1 && config->checkpoint_ms >= 1);
    assert (config->map_max == 0 || config->map_max >= config->map_size);
    assert (error && error_size > 0);
    char journal_path [S_PATH_MAX];
    if ((size_t) snprintf (journal_path, sizeof journal_path, "%s/%s", config->data_dir,
                           TLY_JOURNAL_SUBDIR)
        >= sizeof journal_path) {
        snprintf (error, error_size, "--data-dir is too long");
        return NULL;
    }
    if (mkdir (config->data_dir, 0700) == -1 && errno != EEXIST) {
        snprintf (error, error_size, "cannot create --data-dir %s: %s", config->data_dir,
                  strerror (errno));
        return NULL;
    }
    tly_audit_writer_t *self = calloc (1, sizeof *self);
    assert (self);
    if (tly_account_from_env (TLY_ENV_WORKER_ACCOUNT, TLY_ENV_WORKER_SECRET, config->worker,
                              config->worker_secret, &self->worker, error, error_size)
        == -1) {
        tly_audit_writer_destroy (&self);
        return NULL;
    }
    //  The keys, and the rule for --bind, before the journal is touched.
    self->curve = tly_curve_new ("tally-audit", &config->curve, error, error_size);
    if (!self->curve
        || tly_curve_serve (self->curve, NULL, config->bind, TLY_CURVE_ACTORS, error, error_size)) {
        tly_audit_writer_destroy (&self);
        return NULL;
    }
    self->signer = (tly_journal_signer_t) { .sign_sk = self->worker.sign_sk,
                                            .sign_pk = self->worker.sign_pk,
                                            .every = config->checkpoint_every };
    self->interval_ms = config->checkpoint_ms;
    self->retain = config->retain;
    self->retain_check_ms = config->retain_check_ms > 0 ? config->retain_check_ms
                                                        : TLY_AUDIT_RETAIN_CHECK_MS;
    self->retain_at = tly_mono_ms () + self->retain_check_ms;
    snprintf (self->archive_dir, sizeof self->archive_dir, "%s",
              config->archive_dir ? config->archive_dir : "");
    if (!config->archive_dir
        && (size_t) snprintf (self->archive_dir, sizeof self->archive_dir, "%s/%s", journal_path,
                              TLY_JOURNAL_ARCHIVE_SUBDIR)
               >= sizeof self->archive_dir) {
        snprintf (error, error_size, "--data-dir is too long");
        tly_audit_writer_destroy (&self);
        return NULL;
    }
    self->journal = tly_journal_new (journal_path, config->map_size);
    if (!self->journal) {
        snprintf (error, error_size, "cannot open the journal in %s (see the log line above)",
                  journal_path);
        tly_audit_writer_destroy (&self);
        return NULL;
    }
    tly_journal_set_map_max (self->journal, config->map_max ? config->map_max : config->map_size);
    if (config->segment_bytes || config->segment_records)
        tly_journal_set_segments (self->journal, config->segment_bytes, config->segment_records,
                                  &self->signer);
    char snapshots_path [S_PATH_MAX];
    snprintf (snapshots_path, sizeof snapshots_path, "%s/%s", config->data_dir,
              TLY_SNAPSHOTS_SUBDIR);
    self->snapshots = tly_audit_snapshots_new (snapshots_path, config->map_size,
                                               config->map_max ? config->map_max : config->map_size,
                                               &self->worker);
    if (!self->snapshots) {
        snprintf (error, error_size,
                  "cannot open the state snapshots in %s (see the log line above)", snapshots_path);
        tly_audit_writer_destroy (&self);
        return NULL;
    }
    self->socket = zsock_new (ZMQ_ROUTER);
    assert (self->socket);
    zsock_set_maxmsgsize (self->socket, TLY_FRAME_HARD_MAX);
    zsock_set_linger (self->socket, 0);
    //  Only known actors may append: an unknown key fails the handshake.
    if (tly_curve_serve (self->curve, self->socket, config->bind, TLY_CURVE_ACTORS, error,
                         error_size)) {
        tly_audit_writer_destroy (&self);
        return NULL;
    }
    if (zsock_bind (self->socket, "%s", config->bind) == -1) {
        snprintf (error, error_size, "cannot bind %s: %s", config->bind,
                  zmq_strerror (zmq_errno ()));
        tly_audit_writer_destroy (&self);
        return NULL;
    }
    self->drain = tly_audit_drain_new ();
    s_count_archive (self);
    //  Records left unsigned by an earlier run are signed within the interval.
    s_note_unsigned (self, 0);
    char worker_id [TLY_ID_MAX];
    tly_account_id (self->worker.sign_pk, worker_id);
    //  The endpoint as bound: a wildcard port shows the port it got.
    tly_log (
        TLY_INFO, "ready",
        "bind=%s journal=%s head_seq=%" PRIu64 " map_size=%zu map_max=%zu"
        " worker=%s checkpoint_every=%" PRIu64 " checkpoint_ms=%" PRId64
        " segments=%zu live_bytes=%" PRIu64 " segment_bytes=%" PRIu64 " segment_records=%" PRIu64,
        zsock_endpoint (self->socket), journal_path, tly_audit_writer_head_seq (self),
        tly_journal_map_size (self->journal), config->map_max ? config->map_max : config->map_size,
        worker_id, self->signer.every, self->interval_ms, tly_journal_segment_count (self->journal),
        s_live_bytes (self->journal), config->segment_bytes, config->segment_records);
    return self;
}

void
tly_audit_writer_destroy (tly_audit_writer_t **self_p)
{
    assert (self_p);
    tly_audit_writer_t *self = *self_p;
    if (!self)
        return;
    tly_audit_drain_destroy (&self->drain);
    zsock_destroy (&self->socket);
    tly_curve_destroy (&self->curve);
    tly_journal_destroy (&self->journal);
    tly_audit_snapshots_destroy (&self->snapshots);
    sodium_memzero (&self->worker, sizeof self->worker);
    free (self);
    *self_p = NULL;
}

zsock_t *
tly_audit_writer_socket (tly_audit_writer_t *self)
{
    assert (self);
    return self->socket;
}

uint64_t
tly_audit_writer_head_seq (tly_audit_writer_t *self)
{
    assert (self);
    tly_journal_head_t head;
    tly_journal_head (self->journal, &head);
    return head.seq;
}
