//  tly_audit_writer - the audit-log writer: takes append and read requests
//  from balance actors on one ROUTER socket, group-commits every append
//  waiting on the socket in one journal transaction (one fsync), then
//  answers each requester. The journal it keeps is tally's source of truth;
//  the writer signs its head with the worker key at checkpoints: every
//  checkpoint_every records, and checkpoint_ms at most after a record was
//  committed. It also keeps the actors' state snapshots (tly_audit_snapshots)
//  and answers their JournalStatusRequests with what the journal and the
//  snapshots hold (for `tally status`).
//
//  The process's loop (actors/audit/tally_audit.c) waits on the socket for
//  tly_audit_writer_wait_ms, calls tly_audit_writer_serve when it is
//  readable and tly_audit_writer_tick every time round, and signs the whole
//  chain with tly_audit_writer_sign when it stops.
#ifndef TLY_AUDIT_WRITER_H_INCLUDED
#define TLY_AUDIT_WRITER_H_INCLUDED

#include <czmq.h>
#include "tly_curve.h"
#include <stddef.h>
#include <stdint.h>

#define TLY_AUDIT_CHECKPOINT_EVERY 1000  //  records between checkpoints
#define TLY_AUDIT_CHECKPOINT_MS    1000  //  longest time a record stays unsigned
//  Room for one line naming what failed, a --data-dir of PATH_MAX included.
#define TLY_AUDIT_WRITER_ERROR_MAX (4096 + 256)

//  What the writer does with sealed segments no partition needs any more
//  (every partition's latest state snapshot is past them).
typedef enum {
    TLY_AUDIT_RETAIN_KEEP = 0,  //  nothing: the journal keeps every record
    TLY_AUDIT_RETAIN_ARCHIVE,   //  moves them to the archive folder
    TLY_AUDIT_RETAIN_DELETE     //  deletes them
} tly_audit_retain_t;

#define TLY_AUDIT_RETAIN_CHECK_MS 10000  //  how often retention looks

typedef struct {
    const char *data_dir;       //  created if needed; the journal is in DIR/journal
    const char *bind;           //  the endpoint balance actors connect to
    size_t map_size;            //  LMDB map size at first
    size_t map_max;             //  how far the map may grow (>= map_size; 0: never grows)
    const char *worker;         //  the account that signs checkpoints (NULL:
                                //  $TALLY_WORKER_ACCOUNT)
    const char *worker_secret;  //  its secret (NULL: $TALLY_WORKER_SECRET)
    uint64_t checkpoint_every;  //  >= 1
    int64_t checkpoint_ms;      //  >= 1
    uint64_t segment_bytes;     //  roll the journal to a new segment at this size (0: never)
    uint64_t segment_records;   //  or at this many records (0: no record limit)
    tly_audit_retain_t retain;
    const char *archive_dir;   //  where ARCHIVE moves segments (NULL: DIR/journal/archive)
    int64_t retain_check_ms;   //  >= 1
    tly_curve_config_t curve;  //  --curve-secret, --actor-keys, --insecure
} tly_audit_writer_config_t;

typedef struct _tly_audit_writer_t tly_audit_writer_t;

//  Creates the data directory, loads the worker's key, opens the journal
//  (one writer per journal) and binds the socket, then logs "ready".
//  Returns NULL with one line in error (error_size bytes,
//  TLY_AUDIT_WRITER_ERROR_MAX is enough) on failure.
tly_audit_writer_t *tly_audit_writer_new (const tly_audit_writer_config_t *config, char *error,
                                          size_t error_size);
void tly_audit_writer_destroy (tly_audit_writer_t **self_p);

//  The socket to poll.
zsock_t *tly_audit_writer_socket (tly_audit_writer_t *self);
//  How long the loop may wait: until the next signal check or checkpoint due.
int tly_audit_writer_wait_ms (tly_audit_writer_t *self);
//  One turn, when the socket is readable: drains what waits, commits every
//  append at once and answers them, then serves the reads (after the
//  commit, so a claim sees every acknowledged record).
void tly_audit_writer_serve (tly_audit_writer_t *self);
//  Signs the head once a record has waited checkpoint_ms unsigned, and
//  every retain_check_ms applies the retention policy. Call it every time
//  round, after serve: it never delays an ack.
void tly_audit_writer_tick (tly_audit_writer_t *self);
//  Signs the head now, if a record is unsigned. Returns 0, or -1 (logged).
int tly_audit_writer_sign (tly_audit_writer_t *self);
//  The seq of the last committed record (0: none).
uint64_t tly_audit_writer_head_seq (tly_audit_writer_t *self);

#endif
