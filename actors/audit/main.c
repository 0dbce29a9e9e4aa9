//  tally-audit - the audit-log writer. Takes append and read requests from
//  balance actors, group-commits every append waiting on the socket in one
//  LMDB transaction (one fsync), then answers each requester. The journal it
//  keeps is tally's source of truth.
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tly_journal.h"
#include "tly_limits.h"
#include "tly_log.h"
#include "tly_validate.h"
#include "tly_wire.h"

#define PROCESS             "tally-audit"
#define BIND_DEFAULT        "tcp://127.0.0.1:7703"
#define MAP_SIZE_MIN        (1LL << 20)         //  smallest --map-size
#define MAP_SIZE_MAX        (1LL << 44)         //  largest --map-size (16 TiB)
#define SIGNAL_CHECK_MS     500                 //  longest wait before noticing a signal
#define PATH_LIMIT          4096

//  One request taken off the socket during a drain, answered after the commit.
typedef struct {
    zframe_t *identity;
    Tally__AuditRequest *request;
    Tally__AppendStatus *statuses;      //  one per record, for appends
    Tally__AppendStatus **status_pointers;  //  the reply's view of statuses
} s_pending_t;

//  What one drain collected. Appends are committed together, reads follow.
typedef struct {
    s_pending_t appends [TLY_AUDIT_DRAIN_MAX];
    size_t append_count;
    s_pending_t reads [TLY_AUDIT_DRAIN_MAX];
    size_t read_count;
    Tally__StoredRecord *records [TLY_READ_RECORDS_MAX];   //  one read's reply, reused
    size_t record_count;
} s_drain_t;

static volatile sig_atomic_t s_interrupted = 0;

static void
s_on_signal (int signum)
{
    (void) signum;
    s_interrupted = 1;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: " PROCESS " --data-dir DIR [options]\n"
        "  --data-dir DIR       where the journal lives (DIR/" TLY_JOURNAL_SUBDIR ")\n"
        "  --bind ENDPOINT      audit socket (default " BIND_DEFAULT ")\n"
        "  --map-size BYTES     LMDB map size, the journal's size limit (default %llu)\n"
        "  --log-level LEVEL    debug|info|warn|error (default info)\n"
        "  --help               this text\n",
        (unsigned long long) TLY_LMDB_MAP_DEFAULT);
}

typedef struct {
    const char *data_dir;
    const char *bind;
    size_t map_size;
    tly_level_t level;
} s_config_t;

//  Returns 0 to run, 1 when --help was served, -1 after one line on stderr.
static int
s_parse_args (int argc, char *argv [], s_config_t *config)
{
    enum { DATA_DIR = 1, BIND, MAP_SIZE, LOG_LEVEL, HELP };
    static const struct option options [] = {
        { "data-dir", required_argument, NULL, DATA_DIR },
        { "bind", required_argument, NULL, BIND },
        { "map-size", required_argument, NULL, MAP_SIZE },
        { "log-level", required_argument, NULL, LOG_LEVEL },
        { "help", no_argument, NULL, HELP },
        { NULL, 0, NULL, 0 }
    };
    *config = (s_config_t) {
        .bind = BIND_DEFAULT, .map_size = TLY_LMDB_MAP_DEFAULT, .level = TLY_INFO
    };
    int option;
    opterr = 0;                         //  one error line, ours
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (option) {
            case DATA_DIR:  config->data_dir = optarg; break;
            case BIND:      config->bind = optarg; break;
            case MAP_SIZE: {
                char *end = NULL;
                errno = 0;
                long long parsed = strtoll (optarg, &end, 10);
                if (errno || end == optarg || *end || parsed < MAP_SIZE_MIN || parsed > MAP_SIZE_MAX) {
                    fprintf (stderr, PROCESS ": --map-size must be a byte count in %lld..%lld,"
                             " got '%s'\n", MAP_SIZE_MIN, MAP_SIZE_MAX, optarg);
                    return -1;
                }
                config->map_size = (size_t) parsed;
                break;
            }
            case LOG_LEVEL:
                if (tly_log_parse_level (optarg, &config->level) == -1) {
                    fprintf (stderr, PROCESS ": --log-level must be debug, info, warn or error,"
                             " got '%s'\n", optarg);
                    return -1;
                }
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

static void
s_pending_destroy (s_pending_t *pending)
{
    zframe_destroy (&pending->identity);
    if (pending->request)
        tally__audit_request__free_unpacked (pending->request, NULL);
    free (pending->statuses);
    free (pending->status_pointers);
    memset (pending, 0, sizeof *pending);
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
    Tally__AuditRequest *request = tally__audit_request__unpack (NULL, zframe_size (data),
                                                                 zframe_data (data));
    size_t size = zframe_size (data);
    zframe_destroy (&data);
    if (!request
    ||  (request->body_case != TALLY__AUDIT_REQUEST__BODY_APPEND
    &&   request->body_case != TALLY__AUDIT_REQUEST__BODY_READ)) {
        tly_log (TLY_WARN, "request.bad", "reason=\"not an AuditRequest\" bytes=%zu", size);
        if (request)
            tally__audit_request__free_unpacked (request, NULL);
        zframe_destroy (&identity);
        return;
    }
    s_pending_t *pending;
    if (request->body_case == TALLY__AUDIT_REQUEST__BODY_APPEND) {
        assert (drain->append_count < TLY_AUDIT_DRAIN_MAX);
        pending = &drain->appends [drain->append_count++];
        size_t count = request->append->n_records? request->append->n_records: 1;
        pending->statuses = calloc (count, sizeof (Tally__AppendStatus));
        pending->status_pointers = calloc (count, sizeof (Tally__AppendStatus *));
        assert (pending->statuses && pending->status_pointers);
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

//  Group commit: every record of every append in one transaction, one fsync,
//  then one reply per request. If the commit fails nothing was written and
//  every record is answered INTERNAL, which the actor may retry.
static void
s_commit_appends (tly_journal_t *journal, zsock_t *socket, s_drain_t *drain)
{
    if (drain->append_count == 0)
        return;
    size_t records = 0, accepted = 0;
    int64_t start_ms = tly_mono_ms ();
    int rc = tly_journal_begin (journal);
    for (size_t i = 0; rc == 0 && i < drain->append_count; i++) {
        Tally__AppendRequest *append = drain->appends [i].request->append;
        for (size_t r = 0; rc == 0 && r < append->n_records; r++) {
            Tally__AppendStatus *status = &drain->appends [i].statuses [r];
            rc = tly_journal_append (journal, append->records [r], status);
            records++;
            accepted += rc == 0 && status->code == TALLY__ERROR_CODE__OK;
        }
    }
    int64_t mid_ms = tly_mono_ms ();
    fprintf (stderr, "TMP appends_ms=%ld\n", (long) (mid_ms - start_ms));
    if (rc == 0)
        rc = tly_journal_commit (journal);
    else
        tly_journal_abort (journal);
    if (rc == 0)
        tly_log (TLY_DEBUG, "append.commit", "requests=%zu records=%zu accepted=%zu ms=%" PRId64,
                 drain->append_count, records, accepted, tly_mono_ms () - start_ms);
    else
        tly_log (TLY_ERROR, "append.failed", "requests=%zu records=%zu",
                 drain->append_count, records);

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

static int
s_collect_record (uint64_t seq, const uint8_t *stored, size_t size, void *arg)
{
    s_drain_t *drain = arg;
    assert (drain->record_count < TLY_READ_RECORDS_MAX);
    Tally__StoredRecord *record = tally__stored_record__unpack (NULL, size, stored);
    if (!record) {
        tly_log (TLY_ERROR, "journal.corrupt", "seq=%" PRIu64 " reason=\"record does not decode\"",
                 seq);
        return -1;
    }
    drain->records [drain->record_count++] = record;
    return 0;
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
    for (size_t i = 0; i < drain->record_count; i++)
        tally__stored_record__free_unpacked (drain->records [i], NULL);
    drain->record_count = 0;
}

static void
s_drain_clear (s_drain_t *drain)
{
    for (size_t i = 0; i < drain->append_count; i++)
        s_pending_destroy (&drain->appends [i]);
    for (size_t i = 0; i < drain->read_count; i++)
        s_pending_destroy (&drain->reads [i]);
    drain->append_count = 0;
    drain->read_count = 0;
}

int
main (int argc, char *argv [])
{
    s_config_t config;
    int rc = s_parse_args (argc, argv, &config);
    if (rc != 0)
        return rc == 1? 0: 2;
    tly_log_init (PROCESS, config.level);
    zsys_handler_set (NULL);
    struct sigaction action = { .sa_handler = s_on_signal };
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);

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
        fprintf (stderr, PROCESS ": cannot bind %s: %s\n", config.bind, zmq_strerror (zmq_errno ()));
        zsock_destroy (&socket);
        tly_journal_destroy (&journal);
        return 2;
    }
    zpoller_t *poller = zpoller_new (socket, NULL);
    assert (poller);
    s_drain_t *drain = calloc (1, sizeof *drain);
    assert (drain);
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    tly_log (TLY_INFO, "ready", "bind=%s journal=%s head_seq=%" PRIu64 " map_size=%zu",
             config.bind, journal_path, head.seq, config.map_size);

    //  The loop: drain what waits, commit every append at once, answer, then
    //  serve reads (after the commit, so a claim sees every acknowledged record).
    while (!s_interrupted) {
        if (zpoller_wait (poller, SIGNAL_CHECK_MS) != socket)
            continue;
        s_drain (socket, drain);
        s_commit_appends (journal, socket, drain);
        for (size_t i = 0; i < drain->read_count; i++)
            s_serve_read (journal, socket, drain, &drain->reads [i]);
        s_drain_clear (drain);
    }

    tly_journal_head (journal, &head);
    tly_log (TLY_INFO, "stopped", "head_seq=%" PRIu64, head.seq);
    free (drain);
    zpoller_destroy (&poller);
    zsock_destroy (&socket);
    tly_journal_destroy (&journal);
    return 0;
}
