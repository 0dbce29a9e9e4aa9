//  derive_fixture - test helpers for verify's derivation: a journal's
//  drafts in global order, the messages they carry, drafts decided by the
//  balance actor's own ledger (in a scratch directory) and fed to a
//  derivation. For the audit_derive self-tests only.
#ifndef DERIVE_FIXTURE_H_INCLUDED
#define DERIVE_FIXTURE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "audit_derive.h"
#include "tally.pb-c.h"
#include "tly_arena.h"
#include "tly_ledger.h"

#define DERIVE_FIXTURE_PARTITIONS 16
#define DERIVE_FIXTURE_RECORDS    16

//  The drafts of a test, in global order, and the ledger that decides them
//  (none when the test drafts them by hand).
typedef struct {
    char dir [256];
    tly_ledger_t *ledger;
    tly_arena_t *arena;  //  every draft of the test
    uint64_t next_id;
    uint64_t partition_seqs [DERIVE_FIXTURE_PARTITIONS];  //  the last drafted, of each partition
    Tally__RecordDraft *drafts [DERIVE_FIXTURE_RECORDS];
    Tally__Envelope *envelopes [DERIVE_FIXTURE_RECORDS];
    size_t count;
} derive_fixture_t;

//  A fixture with a ledger of limits in a scratch directory named after
//  name, or, when limits is NULL, none.
void derive_fixture_new (derive_fixture_t *fixture, const char *name,
                         const tly_ledger_limits_t *limits);
void derive_fixture_destroy (derive_fixture_t *fixture);

//  A message with a fresh ID made at made_ms, and those of each kind.
Tally__InboxMessage *derive_fixture_message (derive_fixture_t *fixture, int64_t made_ms);
Tally__InboxMessage *derive_fixture_create (derive_fixture_t *fixture, int64_t made_ms,
                                            int64_t initial);
Tally__InboxMessage *derive_fixture_buy (derive_fixture_t *fixture, int64_t made_ms,
                                         const char *item, int64_t amount);
Tally__InboxMessage *derive_fixture_set_price (derive_fixture_t *fixture, int64_t made_ms,
                                               const char *item, int64_t price, bool active);
Tally__InboxMessage *derive_fixture_add_admin (derive_fixture_t *fixture, int64_t made_ms,
                                               const uint8_t *account);

//  user's envelope of messages, routed to user->route, decided at now_ms by
//  the ledger into the fixture's next draft, as an actor's batch decides
//  it: the draft names the configuration it was decided under (and the new
//  one, when its messages changed it) and the rate limit, if any.
Tally__RecordDraft *derive_fixture_decide (derive_fixture_t *fixture, const tly_ledger_user_t *user,
                                           int64_t now_ms, Tally__InboxMessage **messages,
                                           size_t count);

//  The fixture's drafts first .. last fed to derive: the last's outcome
//  (every one before it must follow).
int derive_fixture_derive (const derive_fixture_t *fixture, audit_derive_t *derive, size_t first,
                           size_t last, char *reason);
//  Checks that rc is a failure whose reason names text.
void derive_fixture_named (int rc, const char *reason, const char *text);

#endif
