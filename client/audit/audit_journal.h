//  audit_journal - how the `tally audit` tools find and read a journal:
//  opening it read-only from --journal DIR or a `tally up` --data-dir, and
//  the arena each record decodes into.
#ifndef AUDIT_JOURNAL_H_INCLUDED
#define AUDIT_JOURNAL_H_INCLUDED

#include "tly_arena.h"
#include "tly_journal.h"

#define AUDIT_PATH_MAX    4096
#define AUDIT_DATA_SUBDIR "audit"  //  tally up: DIR/audit is tally-audit's --data-dir

//  Records decode into a tly_arena (lib/include/tly_arena.h) whose first
//  block is this large; everything one record needs is dropped at once.
#define AUDIT_ARENA_BLOCK (1 << 20)

//  Opens the journal read-only: journal_dir itself, else data_dir/audit/journal
//  (a `tally up` data directory). Exactly one must be set. On failure prints
//  one line naming command and returns NULL.
tly_journal_t *audit_open_journal (const char *command, const char *journal_dir,
                                   const char *data_dir);

#endif
