//  audit - what the `tally audit` subcommands share: opening a journal,
//  progress on a terminal, a decode arena, a protobuf wire scanner, and the
//  state a replay rebuilds.
#ifndef AUDIT_H_INCLUDED
#define AUDIT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "cli.h"
#include "tly_arena.h"
#include "tly_journal.h"
#include "tly_limits.h"

#define AUDIT_PATH_MAX          4096
#define AUDIT_PROGRESS_MS       100     //  a progress bar redraws at most 10 times a second
#define AUDIT_PROBLEMS_KEPT     100     //  inconsistencies a replay keeps the text of
#define AUDIT_PROBLEM_MAX       256     //  bytes of one inconsistency's text
#define AUDIT_DATA_SUBDIR       "audit" //  tally up: DIR/audit is tally-audit's --data-dir
#define AUDIT_LEDGERS_MAX       256     //  balance actor ledgers one comparison reads

//  ---------------------------------------------------------------- the journal

//  Opens the journal read-only: journal_dir itself, else data_dir/audit/journal
//  (a `tally up` data directory). Exactly one must be set. On failure prints
//  one line naming command and returns NULL.
tly_journal_t *audit_open_journal (const char *command, const char *journal_dir,
                                   const char *data_dir);

//  ---------------------------------------------------------------- progress

//  A progress bar on stderr, only when stderr is a terminal.
typedef struct {
    bool enabled;
    const char *label;
    uint64_t total;                     //  records expected (0: unknown)
    int64_t start_ms;
    int64_t drawn_ms;
} audit_progress_t;

void audit_progress_start (audit_progress_t *self, const char *label, uint64_t total);
//  Cheap when no redraw is due.
void audit_progress_update (audit_progress_t *self, uint64_t done);
//  Clears the bar.
void audit_progress_end (audit_progress_t *self);

//  ---------------------------------------------------------------- decoding

//  Records decode into a tly_arena (lib/include/tly_arena.h) whose first
//  block is this large; everything one record needs is dropped at once.
#define AUDIT_ARENA_BLOCK  (1 << 20)

//  The protobuf wire format, read field by field without decoding, so a
//  reader can pick the fields it needs out of a record and skip the rest.
typedef struct {
    const uint8_t *at;
    const uint8_t *end;
} audit_wire_t;

typedef struct {
    uint32_t number;
    uint32_t type;                      //  0 varint, 1 fixed64, 2 length-delimited, 5 fixed32
    uint64_t varint;                    //  type 0 (and the value of types 1 and 5)
    const uint8_t *data;                //  type 2
    size_t size;
} audit_field_t;

#define AUDIT_WIRE_VARINT       0
#define AUDIT_WIRE_BYTES        2

//  Reads the next field. Returns 1 with a field, 0 at the end, -1 when the
//  bytes are not protobuf.
int  audit_wire_next (audit_wire_t *wire, audit_field_t *field);

//  Lowercase hex of bytes into out (2 * size + 1 bytes).
void audit_hex (const uint8_t *bytes, size_t size, char *out);

//  ---------------------------------------------------------------- replayed state

typedef struct {
    uint8_t user [TLY_KEY_BYTES];
    int64_t balance;
    uint32_t partition;                 //  of the record that created it
    bool used;                          //  the slot holds an account
    bool matched;                       //  compare: an actor's ledger has it
} audit_account_t;

typedef struct {
    uint64_t records;
    uint64_t events;
    uint64_t accounts;
    uint64_t purchases;
    uint64_t last_seq;                  //  the last record applied
    int64_t balance_sum;
    bool sum_overflows;                 //  balance_sum is meaningless then
    uint64_t problems;                  //  inconsistencies found
} audit_stats_t;

//  Balances rebuilt from nothing by applying every event in journal order,
//  in an open-addressing table keyed by user key (no allocation per event).
typedef struct _audit_state_t audit_state_t;

audit_state_t *audit_state_new (void);
void audit_state_destroy (audit_state_t **self_p);
//  Applies every record of the journal's snapshot after the last one applied
//  (so after a refresh it continues). Inconsistent events (a purchase that
//  does not follow the balance, ...) are counted and kept as problems.
//  Returns 0, or -1 when the journal could not be read or a record does not
//  decode (one line on stderr).
int  audit_state_replay (audit_state_t *self, tly_journal_t *journal, audit_progress_t *progress);
//  NULL when the user has no account.
audit_account_t *audit_state_find (audit_state_t *self, const uint8_t user [TLY_KEY_BYTES]);
//  Slots 0 .. capacity - 1; a slot holds an account when ->used.
size_t audit_state_capacity (audit_state_t *self);
audit_account_t *audit_state_slot (audit_state_t *self, size_t index);
//  The last partition seq applied for partition (0 when none).
uint64_t audit_state_partition_seq (audit_state_t *self, uint32_t partition);
void audit_state_stats (audit_state_t *self, audit_stats_t *stats);
//  The text of problem index (< min (stats.problems, AUDIT_PROBLEMS_KEPT)).
const char *audit_state_problem (audit_state_t *self, size_t index);

//  ---------------------------------------------------------------- subcommands

//  argv [0] is the subcommand's name.
int  audit_verify (int argc, char **argv);
int  audit_replay (int argc, char **argv);
int  audit_export (int argc, char **argv);
int  audit_bench_replay (int argc, char **argv);

typedef struct {
    uint64_t partitions;                //  partitions the journal or a ledger has
    uint64_t accounts;                  //  accounts that match
    uint64_t differences;
    uint64_t in_flux;                   //  partitions not compared
    int attempts;                       //  journal reads it took
} audit_compare_result_t;

//  Compares the replayed state with the balance actors' ledgers in dirs (each
//  a ledger directory), printing every difference and every partition in
//  flux (text lines, or JSON lines). While partitions are in flux it reads
//  the journal again (continuing the replay) and the ledgers, up to attempts
//  times in all. Returns 0, or -1 when a ledger or the journal could not be
//  read (one line on stderr).
int  audit_compare (audit_state_t *state, tly_journal_t *journal, char **dirs, size_t dir_count,
                    int attempts, bool json, audit_compare_result_t *result);
//  Adds to dirs (AUDIT_LEDGERS_MAX slots, *count used) the ledger directories
//  (holding data.mdb) at or under dir: a ledger itself, an actor's --data-dir
//  (DIR/balance/NAME), or a `tally up` data directory (DIR/balance-*/balance/
//  NAME). Returns 0, or -1 after one line on stderr (none found, or too
//  many). The caller frees each string added.
int  audit_find_ledgers (const char *command, const char *dir, char **dirs, size_t *count);

#endif
