//  audit_compare - `tally audit replay --compare`: the replayed balances
//  against the balance actors' ledgers, read beside the live actors, and
//  finding those ledgers on disk.
#ifndef AUDIT_COMPARE_H_INCLUDED
#define AUDIT_COMPARE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "audit_state.h"
#include "tly_journal.h"

#define AUDIT_LEDGERS_MAX 256  //  balance actor ledgers one comparison reads

//  What became of the comparison of partition 0's configuration.
typedef enum {
    AUDIT_COMPARE_CONFIG_NO_LEDGER = 0,  //  not compared: no ledger holds partition 0
    AUDIT_COMPARE_CONFIG_IN_FLUX,        //  not compared: partition 0 is in flux
    AUDIT_COMPARE_CONFIG_MATCHES,
    AUDIT_COMPARE_CONFIG_DIFFERS
} audit_compare_config_t;

typedef struct {
    uint64_t partitions;  //  partitions the journal or a ledger has
    uint64_t accounts;    //  accounts that match (balance and held)
    uint64_t orders;      //  orders that match (status, total, version)
    uint64_t differences;
    uint64_t in_flux;               //  partitions not compared
    int attempts;                   //  journal reads it took
    audit_compare_config_t config;  //  partition 0's configuration
} audit_compare_result_t;

//  Compares the replayed state with the balance actors' ledgers in dirs (each
//  a ledger directory): every account's balance and held amount, every
//  order's status, total and version, and the configuration
//  partition 0's ledger keeps against the one the records leave; printing
//  every difference and every partition in flux (text lines, or JSON
//  lines). While partitions are in flux it reads
//  the journal again (continuing the replay) and the ledgers, up to attempts
//  times in all. Returns 0, or -1 when a ledger or the journal could not be
//  read (one line on stderr).
int audit_compare (audit_state_t *state, tly_journal_t *journal, char **dirs, size_t dir_count,
                   int attempts, bool json, audit_compare_result_t *result);
//  Adds to dirs (AUDIT_LEDGERS_MAX slots, *count used) the ledger directories
//  (holding data.mdb) at or under dir: a ledger itself, an actor's --data-dir
//  (DIR/balance/NAME), or a `tally up` data directory (DIR/balance-*/balance/
//  NAME). Returns 0, or -1 after one line on stderr (none found, or too
//  many). The caller frees each string added.
int audit_find_ledgers (const char *command, const char *dir, char **dirs, size_t *count);

#endif
