//  tly_ledger_private - what the ledger's source files share: tly_ledger.c
//  (deciding and replaying) and tly_ledger_state.c (reads of the state, and
//  a partition's rows for state snapshots). Include tly_ledger.h instead.
#ifndef TLY_LEDGER_PRIVATE_H_INCLUDED
#define TLY_LEDGER_PRIVATE_H_INCLUDED

#include "tly_ledger.h"

struct _tly_ledger_t {
    tly_store_t *store;
    tly_ledger_limits_t limits;
    bool read_only;
    uint64_t snapshot_every;  //  applied records between flushes to disk
    uint64_t pending;         //  records in the open transaction
    uint64_t unflushed;       //  records committed since the last flush
    int64_t clock;            //  the dedupe clock: latest decision or record time
    int64_t stored_clock;     //  the clock as the committed state has it
    uint64_t results;         //  results stored in the open transaction
};

//  Moves the dedupe clock forward (never back) to time_ms.
void tly_ledger_clock_see (tly_ledger_t *self, int64_t time_ms);

#endif
