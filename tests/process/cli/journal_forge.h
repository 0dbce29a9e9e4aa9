//  journal_forge - rewrites a journal as a writer that holds the worker's key
//  could: one record's draft changed, every record after it chained again
//  (prev_hash, hash), the head entry moved to the new hash, and every
//  checkpoint from the changed record on signed again with the worker key.
//  Chain and signatures then hold; only what the record says is false. And a
//  state snapshot's balance, signed again. For the tests of what `tally
//  audit verify` proves (audit_cli_test, it_forged).
//
//      uint64_t seq = journal_forge (journal_dir, s_change, &arg, &worker);
#ifndef JOURNAL_FORGE_H_INCLUDED
#define JOURNAL_FORGE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_account.h"

//  Called with each record's draft in seq order until it returns true: it
//  changed that draft, which is the record forged. It changes values in
//  place, and may drop an event (freed with tally__event__free_unpacked, the
//  array shortened): the draft is freed as it was unpacked.
typedef bool (journal_forge_fn) (uint64_t seq, Tally__RecordDraft *draft, void *arg);

//  Forges the journal in journal_dir (tally-audit's DATA/journal, with one
//  segment, not in use). Returns the seq of the record fn changed, or 0
//  when it changed none (nothing is written then). A file that does not
//  read as a journal fails the test.
uint64_t journal_forge (const char *journal_dir, journal_forge_fn *fn, void *arg,
                        const tly_account_t *worker);

//  Forges a state snapshot in snapshots_dir (tally-audit's DATA/snapshots,
//  not in use) as the writer could: in the first partition's latest
//  snapshot that holds an account, the first account's balance raised by
//  add, the digest of its parts and its header signed again with the worker
//  key. Fills user and partition with whose; returns the seq of the record
//  the snapshot names, or 0 when no snapshot holds an account.
uint64_t journal_forge_snapshot (const char *snapshots_dir, int64_t add,
                                 const tly_account_t *worker, uint8_t user [TLY_KEY_BYTES],
                                 uint32_t *partition);

#endif
