//  audit_cli_support - what audit_cli_test runs the real `tally audit`
//  with, and reads its output and the journal's and ledgers' files with:
//  paths in its scratch directory (at_root), a run of the CLI and its
//  expected exit and text, raw LMDB on a copy (as someone tampering with
//  the files would) and a JSON syntax check.
#ifndef AUDIT_CLI_SUPPORT_H_INCLUDED
#define AUDIT_CLI_SUPPORT_H_INCLUDED

#include <lmdb.h>
#include <stdint.h>

//  The journal's one segment (tally up rolls at 256 MiB: these have one).
#define AT_SEGMENT "/segments/00000000000000000001.mdb"

extern char at_root [64];  //  the scratch directory

//  name in the scratch directory (one of 8 buffers, reused in turn).
char *at_path (const char *name);
//  Runs tally with args (args [0] is its name); returns its exit code and
//  its stdout (caller frees; NULL output: dropped).
int at_run (char **output, char *const args []);
//  Runs tally with args: it must exit expected_code with expected_text in
//  its stdout (NULL: any).
void at_expect (int expected_code, const char *expected_text, char *const args []);
//  A copy of journal from's one segment into the new directory to.
void at_copy_journal (const char *from, const char *to);

typedef struct {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
} at_raw_t;

//  An actor's ledger (an LMDB directory), or a copied journal's one
//  segment (an LMDB file): table open in a write transaction.
void at_raw_open (at_raw_t *raw, const char *dir, const char *table);
void at_raw_open_segment (at_raw_t *raw, const char *journal, const char *table);
//  Commits and closes.
void at_raw_close (at_raw_t *raw);
//  A journal record's key.
MDB_val at_seq_key (uint64_t seq, uint8_t bytes [8]);

//  Walks one JSON value; returns the position after it, or NULL.
const char *at_json_value (const char *at);
//  The number after "name": in a JSON object (it must be there).
uint64_t at_json_number (const char *json, const char *name);

#endif
