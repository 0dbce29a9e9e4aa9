//  tally-audit - the audit-log writer. Takes append and read requests from
//  balance actors, group-commits every append waiting on the socket in one
//  LMDB transaction (one fsync), then answers each requester. The journal it
//  keeps is tally's source of truth; the writer signs its head with the worker
//  key at checkpoints.
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tly_account_load.h"
#include "tly_arena.h"
#include "tly_journal.h"
#include "tly_limits.h"
#include "tly_log.h"
#include "tly_validate.h"
#include "tly_wire.h"
#include "tly_stop.h"

#define PROCESS             "tally-audit"
#define BIND_DEFAULT        "tcp://127.0.0.1:7703"
#define MAP_SIZE_MIN        (1LL << 20)         //  smallest --map-size
#define MAP_SIZE_MAX        (1LL << 44)         //  largest --map-size (16 TiB)
#define SIGNAL_CHECK_MS     500                 //  longest wait before noticing a signal
#define PATH_LIMIT          4096
#define ARENA_BLOCK         (1 << 20)           //  the drain arena's first block
#define CHECKPOINT_EVERY    1000                //  default --checkpoint-every (records)
#define CHECKPOINT_EVERY_MAX 1000000000LL
#define CHECKPOINT_MS       1000                //  default --checkpoint-ms
#define CHECKPOINT_MS_MAX   3600000LL

//  One request taken off the socket during a drain, answered after the commit.
typedef struct {
    zframe_t *identity;
    Tally__AuditRequest *request;       //  in the arena
    Tally__AppendStatus *statuses;      //  one per record, for appends (in the arena)
    Tally__AppendStatus **status_pointers;  //  the reply's view of statuses
} s_pending_t;

//  What one drain collected. Appends are committed together, reads follow.
//  Everything a drain decodes lives in its arena: protobuf-c makes a dozen
//  small allocations per record and all of them die together when the drain
//  is answered.
typedef struct {
    tly_arena_t *arena;
    s_pending_t appends [TLY_AUDIT_DRAIN_MAX];
    size_t append_count;
    s_pending_t reads [TLY_AUDIT_DRAIN_MAX];
    size_t read_count;
    Tally__StoredRecord *records [TLY_READ_RECORDS_MAX];   //  one read's reply
    size_t record_count;
} s_drain_t;

//  A zeroed array of count elements in the drain's arena.
static void *
s_arena_calloc (tly_arena_t *arena, size_t count, size_t size)
{
    assert (count > 0 && count <= SIZE_MAX / size);
    return tly_arena_alloc (arena, count * size);
}

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: " PROCESS " --data-dir DIR [options]\n"
        "  --data-dir DIR       where the journal lives (DIR/" TLY_JOURNAL_SUBDIR ")\n"
        "  --bind ENDPOINT      audit socket (default " BIND_DEFAULT ")\n"
        "  --map-size BYTES     LMDB map size, the journal's size limit (default %llu)\n"
        "  --worker ID          worker account that signs checkpoints\n"
        "                       (default $TALLY_WORKER_ACCOUNT)\n"
        "  --worker-secret S    its secret (default $TALLY_WORKER_SECRET)\n"
        "  --checkpoint-every N sign the chain head every N records (default %d)\n"
        "  --checkpoint-ms MS   and at most MS ms after a record is appended (default %d)\n"
        "  --log-level LEVEL    debug|info|warn|error (default info)\n"
        "  --help               this text\n",
        (unsigned long long) TLY_LMDB_MAP_DEFAULT, CHECKPOINT_EVERY, CHECKPOINT_MS);
}

typedef struct {
    const char *data_dir;
    const char *bind;
    size_t map_size;
    tly_level_t level;
    const char *worker;                 //  NULL: from the environment
    const char *worker_secret;
    uint64_t checkpoint_every;
    int64_t checkpoint_ms;
} s_config_t;

//  Who signs checkpoints, and when the next one is due.
typedef struct {
    tly_account_t worker;
    uint64_t every;                     //  records between checkpoints
    int64_t interval_ms;                //  longest time a record stays unsigned
    int64_t unsigned_since_ms;          //  monotonic time of the oldest unsigned record, or 0
} s_signer_t;

//  Parses a flag's whole value as an integer in [min, max]; one line on stderr if not.
static int
s_parse_flag (const char *flag, const char *text, long long min, long long max, long long *value)
{
    char *end = NULL;
    errno = 0;
    long long parsed = strtoll (text, &end, 10);
    if (errno || end == text || *end || parsed < min || parsed > max) {
        fprintf (stderr, PROCESS ": %s must be an integer in %lld..%lld, got '%s'\n",
                 flag, min, max, text);
        return -1;
    }
    *value = parsed;
    return 0;
}

//  Returns 0 to run, 1 when --help was served, -1 after one line on stderr.
static int
s_parse_args (int argc, char *argv [], s_config_t *config)
{
    enum { DATA_DIR = 1, BIND, MAP_SIZE, LOG_LEVEL, WORKER, WORKER_SECRET, CHECKPOINT_EVERY_FLAG,
           CHECKPOINT_MS_FLAG, HELP };
    static const struct option options [] = {
        { "data-dir", required_argument, NULL, DATA_DIR },
        { "bind", required_argument, NULL, BIND },
        { "map-size", required_argument, NULL, MAP_SIZE },
        { "log-level", required_argument, NULL, LOG_LEVEL },
        { "worker", required_argument, NULL, WORKER },
        { "worker-secret", required_argument, NULL, WORKER_SECRET },
        { "checkpoint-every", required_argument, NULL, CHECKPOINT_EVERY_FLAG },
        { "checkpoint-ms", required_argument, NULL, CHECKPOINT_MS_FLAG },
        { "help", no_argument, NULL, HELP },
        { NULL, 0, NULL, 0 }
    };
    *config = (s_config_t) {
        .bind = BIND_DEFAULT, .map_size = TLY_LMDB_MAP_DEFAULT, .level = TLY_INFO,
        .checkpoint_every = CHECKPOINT_EVERY, .checkpoint_ms = CHECKPOINT_MS
    };
    int option;
    long long value;
    opterr = 0;                         //  one error line, ours
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (option) {
            case DATA_DIR:  config->data_dir = optarg; break;
            case BIND:      config->bind = optarg; break;
            case WORKER:    config->worker = optarg; break;
            case WORKER_SECRET: config->worker_secret = optarg; break;
            case MAP_SIZE:
                if (s_parse_flag ("--map-size", optarg, MAP_SIZE_MIN, MAP_SIZE_MAX, &value) == -1)
                    return -1;
                config->map_size = (size_t) value;
                break;
            case CHECKPOINT_EVERY_FLAG:
                if (s_parse_flag ("--checkpoint-every", optarg, 1, CHECKPOINT_EVERY_MAX,
                                  &value) == -1)
                    return -1;
                config->checkpoint_every = (uint64_t) value;
                break;
            case CHECKPOINT_MS_FLAG:
                if (s_parse_flag ("--checkpoint-ms", optarg, 1, CHECKPOINT_MS_MAX, &value) == -1)
                    return -1;
                config->checkpoint_ms = value;
                break;
            case LOG_LEVEL:
                if (tly_log_level_flag (PROCESS, optarg, &config->level) == -1)
                    return -1;
                break;
            case HELP:
                s_usage (stdout);
                return 1;
            default:
                fprintf (stderr, PROCESS ": option '%s' is unknown or needs a value; see --help\n",
                         argv [optind - 1]);
                return -1;
        }
    }
    if (optind < argc) {
        fprintf (stderr, PROCESS ": unexpected argument '%s'; see --help\n", argv [optind]);
        return -1;
    }
    if (!config->data_dir || !*config->data_dir) {
        fprintf (stderr, PROCESS ": --data-dir is required\n");
        return -1;
    }
    return 0;
}

//  Takes one message off the socket and files it under appends or reads.
//  Anything that is not [identity, AuditRequest] is logged and dropped: there
//  is no request ID to answer it with.
static void
s_receive (zsock_t *socket, s_drain_t *drain)
{
    zmsg_t *msg = zmsg_recv (socket);
    if (!msg)
        return;
    if (zmsg_size (msg) != 2) {
        tly_log (TLY_WARN, "request.bad", "reason=\"expected 2 frames\" frames=%zu",
                 zmsg_size (msg));
        zmsg_destroy (&msg);
        return;
    }
    zframe_t *identity = zmsg_pop (msg);
    zframe_t *data = zmsg_pop (msg);
    zmsg_destroy (&msg);
    Tally__AuditRequest *request = tally__audit_request__unpack (tly_arena_allocator (drain->arena),
                                                                 zframe_size (data),
                                                                 zframe_data (data));
    size_t size = zframe_size (data);
    zframe_destroy (&data);
    if (!request
    ||  (request->body_case != TALLY__AUDIT_REQUEST__BODY_APPEND
    &&   request->body_case != TALLY__AUDIT_REQUEST__BODY_READ)) {
        tly_log (TLY_WARN, "request.bad", "reason=\"not an AuditRequest\" bytes=%zu", size);
        zframe_destroy (&identity);
        return;
    }
    s_pending_t *pending;
    if (request->body_case == TALLY__AUDIT_REQUEST__BODY_APPEND) {
        assert (drain->append_count < TLY_AUDIT_DRAIN_MAX);
        pending = &drain->appends [drain->append_count++];
        size_t count = request->append->n_records? request->append->n_records: 1;
        pending->statuses = s_arena_calloc (drain->arena, count, sizeof (Tally__AppendStatus));
        pending->status_pointers = s_arena_calloc (drain->arena, count,
                                                   sizeof (Tally__AppendStatus *));
    }
    else {
        assert (drain->read_count < TLY_AUDIT_DRAIN_MAX);
        pending = &drain->reads [drain->read_count++];
    }
    pending->identity = identity;
    pending->request = request;
}

//  Takes what is waiting on the socket, up to TLY_AUDIT_DRAIN_MAX messages.
static void
s_drain (zsock_t *socket, s_drain_t *drain)
{
    for (size_t taken = 0; taken < TLY_AUDIT_DRAIN_MAX; taken++) {
        if (taken > 0 && (zsock_events (socket) & ZMQ_POLLIN) == 0)
            break;
        s_receive (socket, drain);
    }
}

static void
s_send (zsock_t *socket, zframe_t *identity, const Tally__AuditReply *reply)
{
    if (tly_wire_send (socket, identity, &reply->base) == -1)
        tly_log (TLY_WARN, "reply.lost", "error=\"%s\"", zmq_strerror (zmq_errno ()));
}

//  Signs the head now, on its own or inside the open append transaction.
static int
s_sign (tly_journal_t *journal, const s_signer_t *signer)
{
    return tly_journal_checkpoint (journal, signer->worker.sign_sk, signer->worker.sign_pk,
                                   tly_now_ms ());
}

//  After a commit: starts the clock for the oldest unsigned record, or stops it.
static void
s_note_unsigned (tly_journal_t *journal, s_signer_t *signer)
{
    if (tly_journal_unsigned (journal) == 0)
        signer->unsigned_since_ms = 0;
    else
    if (signer->unsigned_since_ms == 0)
        signer->unsigned_since_ms = tly_mono_ms ();
}

//  The timer: signs the head once a record has waited interval_ms unsigned.
//  Runs between drains, after every reply went out, so it never delays an ack.
static void
s_sign_when_due (tly_journal_t *journal, s_signer_t *signer)
{
    if (signer->unsigned_since_ms == 0
    ||  tly_mono_ms () - signer->unsigned_since_ms < signer->interval_ms)
        return;
    if (s_sign (journal, signer) == -1) {
        //  Try again an interval later, not in a tight loop.
        tly_log (TLY_ERROR, "checkpoint.failed", "reason=\"see the journal line above\"");
        signer->unsigned_since_ms = tly_mono_ms ();
    }
    else
        s_note_unsigned (journal, signer);
}

//  How long the loop may wait: until the next signal check or checkpoint due.
static int
s_wait_ms (const s_signer_t *signer)
{
    if (signer->unsigned_since_ms == 0)
        return SIGNAL_CHECK_MS;
    int64_t left = signer->unsigned_since_ms + signer->interval_ms - tly_mono_ms ();
    return left <= 0? 0: left < SIGNAL_CHECK_MS? (int) left: SIGNAL_CHECK_MS;
}

//  Group commit: every record of every append in one transaction, one fsync,
//  then one reply per request. If the commit fails nothing was written and
//  every record is answered INTERNAL, which the actor may retry. Every
//  signer->every records the head is signed inside the same transaction.
static void
s_commit_appends (tly_journal_t *journal, zsock_t *socket, s_drain_t *drain,
                  s_signer_t *signer)
{
    if (drain->append_count == 0)
        return;
    size_t records = 0;
    size_t counts [TALLY__ERROR_CODE__DUPLICATE_MESSAGE_ID + 1] = { 0 };
    bool signed_now = false;
    int64_t start_ms = tly_mono_ms ();
    int rc = tly_journal_begin (journal);
    for (size_t i = 0; rc == 0 && i < drain->append_count; i++) {
        Tally__AppendRequest *append = drain->appends [i].request->append;
        for (size_t r = 0; rc == 0 && r < append->n_records; r++) {
            Tally__AppendStatus *status = &drain->appends [i].statuses [r];
            rc = tly_journal_append (journal, append->records [r], status);
            assert (status->code < sizeof counts / sizeof counts [0]);
            counts [status->code]++;
            records++;
            if (rc == 0 && tly_journal_unsigned (journal) >= signer->every) {
                rc = s_sign (journal, signer);
                signed_now = true;
            }
        }
    }
    if (rc == 0)
        rc = tly_journal_commit (journal);
    else
        tly_journal_abort (journal);
    //  Records signed here restart the clock for the ones after them.
    if (rc == 0 && signed_now)
        signer->unsigned_since_ms = 0;
    s_note_unsigned (journal, signer);
    if (rc == 0)
        tly_log (TLY_DEBUG, "append.commit", "requests=%zu records=%zu accepted=%zu"
                 " stale_epoch=%zu sequence_gap=%zu ms=%" PRId64, drain->append_count, records,
                 counts [TALLY__ERROR_CODE__OK], counts [TALLY__ERROR_CODE__STALE_EPOCH],
                 counts [TALLY__ERROR_CODE__SEQUENCE_GAP], tly_mono_ms () - start_ms);
    else
        tly_log (TLY_ERROR, "append.failed", "requests=%zu records=%zu",
                 drain->append_count, records);
    if (rc == 0 && counts [TALLY__ERROR_CODE__BAD_REQUEST] > 0)
        tly_log (TLY_WARN, "append.bad_records", "records=%zu",
                 counts [TALLY__ERROR_CODE__BAD_REQUEST]);

    for (size_t i = 0; i < drain->append_count; i++) {
        s_pending_t *pending = &drain->appends [i];
        Tally__AppendRequest *append = pending->request->append;
        for (size_t r = 0; r < append->n_records; r++) {
            if (rc != 0) {
                tally__append_status__init (&pending->statuses [r]);
                pending->statuses [r].code = TALLY__ERROR_CODE__INTERNAL;
            }
            pending->status_pointers [r] = &pending->statuses [r];
        }
        Tally__AppendReply append_reply = TALLY__APPEND_REPLY__INIT;
        append_reply.request_id = append->request_id;
        append_reply.n_statuses = append->n_records;
        append_reply.statuses = pending->status_pointers;
        Tally__AuditReply reply = TALLY__AUDIT_REPLY__INIT;
        reply.body_case = TALLY__AUDIT_REPLY__BODY_APPEND;
        reply.append = &append_reply;
        s_send (socket, pending->identity, &reply);
    }
}

static tly_journal_step_t
s_collect_record (uint64_t seq, const uint8_t *stored, size_t size, void *arg)
{
    s_drain_t *drain = arg;
    assert (drain->record_count < TLY_READ_RECORDS_MAX);
    Tally__StoredRecord *record = tally__stored_record__unpack (tly_arena_allocator (drain->arena),
                                                                size, stored);
    if (!record) {
        tly_log (TLY_ERROR, "journal.corrupt", "seq=%" PRIu64 " reason=\"record does not decode\"",
                 seq);
        return TLY_JOURNAL_FAIL;
    }
    drain->records [drain->record_count++] = record;
    return TLY_JOURNAL_NEXT;
}

static void
s_serve_read (tly_journal_t *journal, zsock_t *socket, s_drain_t *drain, s_pending_t *pending)
{
    const Tally__ReadRequest *read = pending->request->read;
    uint32_t max_records = read->max_records;
    if (max_records == 0 || max_records > TLY_READ_RECORDS_MAX)
        max_records = TLY_READ_RECORDS_MAX;
    tly_journal_query_t query = {
        .partition = read->partition, .claim_epoch = read->epoch,
        .after_partition_seq = read->after_partition_seq,
        .max_records = max_records, .max_bytes = TLY_JOURNAL_READ_BYTES
    };
    bool end = false;
    drain->record_count = 0;
    Tally__ErrorCode code = tly_journal_read (journal, &query, s_collect_record, drain, &end);

    Tally__ReadReply read_reply = TALLY__READ_REPLY__INIT;
    Tally__Error error = TALLY__ERROR__INIT;
    char message [128];
    read_reply.request_id = read->request_id;
    if (code == TALLY__ERROR_CODE__OK) {
        read_reply.n_records = drain->record_count;
        read_reply.records = drain->records;
        read_reply.end = end;
    }
    else {
        uint64_t fence = 0;
        if (read->partition < TLY_PARTITIONS_MAX)
            tly_journal_partition (journal, read->partition, &fence, NULL);
        if (code == TALLY__ERROR_CODE__STALE_EPOCH)
            snprintf (message, sizeof message, "partition %" PRIu32 " is fenced at epoch %" PRIu64,
                      read->partition, fence);
        else
            snprintf (message, sizeof message, "%s", tly_error_default_message (code));
        error.code = code;
        error.message = message;
        read_reply.error = &error;
        tly_log (TLY_INFO, "read.refused", "partition=%" PRIu32 " epoch=%" PRIu64
                 " fence=%" PRIu64 " code=%s", read->partition, read->epoch, fence,
                 tly_error_name (code));
    }
    Tally__AuditReply reply = TALLY__AUDIT_REPLY__INIT;
    reply.body_case = TALLY__AUDIT_REPLY__BODY_READ;
    reply.read = &read_reply;
    s_send (socket, pending->identity, &reply);
    drain->record_count = 0;
}

static s_drain_t *
s_drain_new (void)
{
    s_drain_t *drain = calloc (1, sizeof *drain);
    assert (drain);
    drain->arena = tly_arena_new (ARENA_BLOCK);
    assert (drain->arena);
    return drain;
}

//  Forgets the answered requests and everything decoded for them.
static void
s_drain_clear (s_drain_t *drain)
{
    for (size_t i = 0; i < drain->append_count; i++)
        zframe_destroy (&drain->appends [i].identity);
    for (size_t i = 0; i < drain->read_count; i++)
        zframe_destroy (&drain->reads [i].identity);
    memset (drain->appends, 0, drain->append_count * sizeof (s_pending_t));
    memset (drain->reads, 0, drain->read_count * sizeof (s_pending_t));
    drain->append_count = 0;
    drain->read_count = 0;
    tly_arena_reset (drain->arena);
}

static void
s_drain_destroy (s_drain_t **drain_p)
{
    s_drain_t *drain = *drain_p;
    if (!drain)
        return;
    s_drain_clear (drain);
    tly_arena_destroy (&drain->arena);
    free (drain);
    *drain_p = NULL;
}

int
main (int argc, char *argv [])
{
    s_config_t config;
    int rc = s_parse_args (argc, argv, &config);
    if (rc != 0)
        return rc == 1? 0: 2;
    tly_log_init (PROCESS, config.level);
    tly_stop_install ();

    char journal_path [PATH_LIMIT];
    if ((size_t) snprintf (journal_path, sizeof journal_path, "%s/%s", config.data_dir,
                           TLY_JOURNAL_SUBDIR) >= sizeof journal_path) {
        fprintf (stderr, PROCESS ": --data-dir is too long\n");
        return 2;
    }
    if (mkdir (config.data_dir, 0700) == -1 && errno != EEXIST) {
        fprintf (stderr, PROCESS ": cannot create --data-dir %s: %s\n", config.data_dir,
                 strerror (errno));
        return 2;
    }
    s_signer_t signer = {
        .every = config.checkpoint_every, .interval_ms = config.checkpoint_ms
    };
    char error [256];
    if (tly_account_from_env ("TALLY_WORKER_ACCOUNT", "TALLY_WORKER_SECRET", config.worker,
                              config.worker_secret, &signer.worker, error, sizeof error) == -1) {
        fprintf (stderr, PROCESS ": %s\n", error);
        return 2;
    }
    tly_journal_t *journal = tly_journal_new (journal_path, config.map_size);
    if (!journal) {
        fprintf (stderr, PROCESS ": cannot open the journal in %s (see the log line above)\n",
                 journal_path);
        return 2;
    }
    zsock_t *socket = zsock_new (ZMQ_ROUTER);
    assert (socket);
    zsock_set_maxmsgsize (socket, TLY_FRAME_HARD_MAX);
    zsock_set_linger (socket, 0);
    if (zsock_bind (socket, "%s", config.bind) == -1) {
        fprintf (stderr, PROCESS ": cannot bind %s: %s\n", config.bind,
                 zmq_strerror (zmq_errno ()));
        zsock_destroy (&socket);
        tly_journal_destroy (&journal);
        return 2;
    }
    zpoller_t *poller = zpoller_new (socket, NULL);
    assert (poller);
    s_drain_t *drain = s_drain_new ();
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    //  Records left unsigned by an earlier run are signed within the interval.
    s_note_unsigned (journal, &signer);
    char worker_id [TLY_ID_MAX];
    tly_account_id (signer.worker.sign_pk, worker_id);
    //  The endpoint as bound: a wildcard port shows the port it got.
    tly_log (TLY_INFO, "ready", "bind=%s journal=%s head_seq=%" PRIu64 " map_size=%zu"
             " worker=%s checkpoint_every=%" PRIu64 " checkpoint_ms=%" PRId64,
             zsock_endpoint (socket), journal_path, head.seq, config.map_size, worker_id,
             signer.every, signer.interval_ms);

    //  The loop: drain what waits, commit every append at once, answer, then
    //  serve reads (after the commit, so a claim sees every acknowledged record),
    //  then sign the head if a record has waited long enough.
    while (!tly_stop_requested ()) {
        if (zpoller_wait (poller, s_wait_ms (&signer)) == socket) {
            s_drain (socket, drain);
            s_commit_appends (journal, socket, drain, &signer);
            for (size_t i = 0; i < drain->read_count; i++)
                s_serve_read (journal, socket, drain, &drain->reads [i]);
            s_drain_clear (drain);
        }
        s_sign_when_due (journal, &signer);
    }

    //  A clean stop leaves the whole chain signed.
    if (s_sign (journal, &signer) == -1)
        tly_log (TLY_ERROR, "checkpoint.failed", "reason=\"see the journal line above\"");
    tly_journal_head (journal, &head);
    tly_log (TLY_INFO, "stopped", "head_seq=%" PRIu64, head.seq);
    s_drain_destroy (&drain);
    zpoller_destroy (&poller);
    zsock_destroy (&socket);
    tly_journal_destroy (&journal);
    return 0;
}
