//  tly_audit_check - what the writer checks of a draft before it appends it,
//  beyond its place in the partition (the journal's epochs and sequences):
//  that each event follows from a message of the signed envelope where no
//  state is needed to tell. A draft whose events do not is refused
//  (BAD_REQUEST) and logged, and nothing of it is written.
//
//  Each event must be the sender's (a BalanceAdjusted: made by the sender),
//  stamped with the draft's time, and match a message of the envelope after
//  the one the event before it matched, answered with a result that says
//  the same:
//    AccountCreated    a createAccount with the same initialBalance, answered
//                      with that balance (at most one per draft: a user has
//                      one account)
//    PurchaseRecorded  a buy with the same item and amount (or amount 0: the
//                      catalog price, which verify checks), answered with a
//                      purchase of the same item, amount and balance_after
//                      (never negative)
//    BalanceAdjusted   a credit (amount > 0) or debit (< 0) of the same user,
//                      amount, reference and note, answered with an
//                      adjustment of the same ID, amount and balance_after
//                      (0 .. TLY_BALANCE_MAX); or a refund of the purchase
//                      it names (refund_of), its reference "refund:" + that
//                      ID, its note the reason, its amount > 0
//  What needs the partition's state (the balance a purchase leaves, a
//  resend's first result, whether the account already existed) is for
//  `tally audit verify`, which derives every record from the one before
//  (client/audit/audit_derive.h). The writer does not check the envelope's
//  signature either: verify does, for the whole journal, off the write path.
//
//      const char *reason = tly_audit_check_draft (draft, arena);
//      if (reason) ... refuse it, logging reason ...
#ifndef TLY_AUDIT_CHECK_H_INCLUDED
#define TLY_AUDIT_CHECK_H_INCLUDED

#include "tally.pb-c.h"
#include "tly_arena.h"
#include "tly_limits.h"

//  NULL when the draft's events follow from its envelope, else why not (a
//  static string, or one in arena, which also holds the decoded envelope).
const char *tly_audit_check_draft (const Tally__RecordDraft *draft, tly_arena_t *arena);
//  NULL when the draft carries no configuration, or one of partition 0 that
//  follows the rules of a Config (tly_config.h: sorted, within the limits,
//  the worker never in the admin list), else why not.
const char *tly_audit_check_config (const Tally__RecordDraft *draft,
                                    const uint8_t worker [TLY_KEY_BYTES], tly_arena_t *arena);

#endif
