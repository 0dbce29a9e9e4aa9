//  audit_journal - how the `tally audit` tools find and read a journal:
//  opening it read-only from --journal DIR or a `tally up` --data-dir (with
//  the archive folders its sealed segments may have been moved to), what it
//  holds on disk, and the arena each record decodes into.
#ifndef AUDIT_JOURNAL_H_INCLUDED
#define AUDIT_JOURNAL_H_INCLUDED

#include <stdint.h>
#include "tly_arena.h"
#include "tly_journal.h"

#define AUDIT_PATH_MAX     4096
#define AUDIT_DATA_SUBDIR  "audit"  //  tally up: DIR/audit is tally-audit's --data-dir
#define AUDIT_ARCHIVES_MAX 16       //  --archive flags one command takes

//  Records decode into a tly_arena (lib/include/tly_arena.h) whose first
//  block is this large; everything one record needs is dropped at once.
#define AUDIT_ARENA_BLOCK (1 << 20)

//  The --archive folders given (none: the journal's own archive/ folder,
//  when it exists).
typedef struct {
    const char *dirs [AUDIT_ARCHIVES_MAX];
    size_t count;
} audit_archives_t;

//  --archive DIR, for TLY_FLAG_CALL with an audit_archives_t target: DIR
//  must be a folder. Returns 0, or -1 with one line printed.
int audit_take_archive (const char *program, const char *text, void *target);

//  Opens the journal read-only: journal_dir itself, else data_dir/audit/journal
//  (a `tally up` data directory). Exactly one must be set. Reads the
//  segments in archives too (NULL or none given: the journal's archive/
//  folder when it exists). On failure prints one line naming command and
//  returns NULL.
tly_journal_t *audit_open_journal (const char *command, const char *journal_dir,
                                   const char *data_dir, const audit_archives_t *archives);

//  Bytes of every segment file found, and of those in archives.
uint64_t audit_journal_bytes (tly_journal_t *journal, uint64_t *archived);

//  When the journal misses segments before its head, prints
//  "<command>: gap: records A..B missing (segment not found)" on stderr and
//  returns true.
bool audit_journal_gap (const char *command, tly_journal_t *journal);

#endif
