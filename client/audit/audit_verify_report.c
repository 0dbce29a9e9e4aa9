//  audit_verify_report - what `tally audit verify` prints when its walk is
//  done: the first failure (its seq and segment file) or what was checked
//  (records, checkpoints, segments, state snapshots, the records derived
//  from their envelopes and those that could not be), as text or one JSON
//  object. Apart from the walk: the report reads the walk's figures and
//  changes none.
#include "audit_verify_private.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include "cli.h"

//  Which records were checked against the state, and which could not be.
static void
s_report_derived (const audit_verify_t *self, const audit_derive_stats_t *derived)
{
    if (self->snapshots_checked || self->snapshots_started)
        printf ("verify: %" PRIu64 " state snapshots agree with the records; %" PRIu64
                " were where their partition starts, its records before them not kept (their"
                " balances are the saving actor's word)\n",
                self->snapshots_checked, self->snapshots_started);
    if (self->snapshots_unused)
        printf ("verify: %" PRIu64 " state snapshots not used (the first, of partition %" PRIu32
                ": %s)\n",
                self->snapshots_unused, self->first_unused->partition, self->first_unused_why);
    if (derived->not_derived == 0) {
        printf ("verify: every record's events and results follow from its signed envelope"
                " and the state before it (%" PRIu64 " resends answered as first decided, %" PRIu64
                " repeated references with their first adjustment)\n",
                derived->resends, derived->repeats);
        return;
    }
    printf ("verify: %" PRIu64 " records' events and results follow from their signed envelopes"
            " and the state before them; %" PRIu64 " records of %" PRIu32 " partitions could not"
            " be checked so, as the state before them is not known (the records before them are"
            " not kept, and no state snapshot gives it; the first: partition %" PRIu32
            ", partition seq %" PRIu64 ")\n",
            derived->derived, derived->not_derived, derived->partitions_not_derived,
            derived->first_not_derived_partition, derived->first_not_derived);
}

//  Refunds: what was checked of them, and what was taken as said.
static void
s_report_orders (const audit_derive_stats_t *derived)
{
    if (derived->orders_changed)
        printf ("verify: %" PRIu64 " order messages changed an order, each as its order's state"
                " and the balance allowed, its hold placed, captured or released\n",
                derived->orders_changed);
}

static void
s_report_refunds (const audit_derive_stats_t *derived)
{
    if (!derived->refunds && !derived->refunds_again && !derived->refund_lookups_taken)
        return;
    printf ("verify: %" PRIu64 " refunds, each of a purchase not refunded before, to its user for"
            " its amount as the purchase's record gives them; %" PRIu64
            " refused ALREADY_REFUNDED, each of a purchase refunded before\n",
            derived->refunds, derived->refunds_again);
    if (derived->refunds_taken)
        printf ("verify: %" PRIu64 " of those refunds' purchases' records are not kept: their"
                " amounts and users are as the refunds' records say\n",
                derived->refunds_taken);
    if (derived->refund_lookups_taken)
        printf ("verify: %" PRIu64 " refunds refused on the purchase as the actor's state held it"
                " (NOT_FOUND, NO_ACCOUNT, BALANCE_LIMIT) are as their records say: no event names"
                " the purchase's record, and verify keeps no index from a purchase ID to it\n",
                derived->refund_lookups_taken);
}

//  The configuration: what was checked of it, and what could not be.
static void
s_report_config (const audit_verify_t *self, const audit_derive_stats_t *derived)
{
    if (derived->config_from_snapshot)
        printf ("verify: the configuration in force at the first record checked (config version"
                " %" PRIu64 ") is partition 0's state snapshot's (the saving actor's word)\n",
                derived->config_first_version);
    if (derived->config_unknown)
        printf ("verify: prices not checked for %" PRIu64 " records before the first configuration"
                " in the kept journal (its first record names config version %" PRIu64 "; %s):"
                " their buys' prices, whether their senders were admins and their configuration"
                " messages are as the records say\n",
                derived->config_unknown, derived->config_first_version,
                audit_derive_config (self->derive) ? "a later record carries the configuration"
                                                   : "no record carries it");
    printf ("verify: every record names the configuration in force (config version %" PRIu64
            " at the last); %" PRIu64 " records changed it, each exactly as its configuration"
            " messages give (%" PRIu64 " decided)\n",
            derived->config_version, derived->config_changes, derived->config_messages);
}

void
audit_verify_report (const audit_verify_t *self, bool json)
{
    audit_derive_stats_t derived;
    audit_derive_stats (self->derive, &derived);
    char hash_hex [AUDIT_VERIFY_HEX_HASH];
    sodium_bin2hex (hash_hex, sizeof hash_hex, self->prev_hash, TLY_HASH_BYTES);
    uint64_t head = self->next_seq - 1;
    uint64_t signed_seq = self->checkpoint_count
                              ? self->checkpoints [self->checkpoint_count - 1].seq
                              : 0;
    size_t sealed = 0, archived = 0;
    for (size_t i = 0; i < self->segment_count; i++) {
        sealed += self->segments [i].sealed;
        archived += self->segments [i].archived;
    }
    if (json) {
        if (self->failed) {
            printf ("{\"ok\":false,\"seq\":%" PRIu64 ",\"segment\":", self->failed_seq);
            cli_json_string (stdout, self->segment);
            printf (",\"error\":");
            cli_json_string (stdout, self->reason);
            printf ("}\n");
        } else
            printf ("{\"ok\":true,\"records\":%" PRIu64 ",\"checkpoints\":%zu,\"headSeq\":%" PRIu64
                    ",\"headHash\":\"%s\",\"lastCheckpointSeq\":%" PRIu64 ",\"segments\":%zu"
                    ",\"sealed\":%zu,\"archived\":%zu,\"derived\":%" PRIu64
                    ",\"notDerived\":%" PRIu64 ",\"resends\":%" PRIu64 ",\"repeats\":%" PRIu64
                    ",\"snapshotsChecked\":%" PRIu64 ",\"snapshotsStarted\":%" PRIu64
                    ",\"snapshotsUnused\":%" PRIu64 ",\"configVersion\":%" PRIu64
                    ",\"configChanges\":%" PRIu64 ",\"configMessages\":%" PRIu64
                    ",\"pricesNotChecked\":%" PRIu64 ",\"configFromSnapshot\":%s"
                    ",\"refunds\":%" PRIu64 ",\"refundsTakenAsSaid\":%" PRIu64
                    ",\"refundsRefusedAgain\":%" PRIu64 ",\"refundLookupsTakenAsSaid\":%" PRIu64
                    ",\"orderChanges\":%" PRIu64 "}\n",
                    self->records, self->checkpoint_count, head, hash_hex, signed_seq,
                    self->segment_count, sealed, archived, derived.derived, derived.not_derived,
                    derived.resends, derived.repeats, self->snapshots_checked,
                    self->snapshots_started, self->snapshots_unused, derived.config_version,
                    derived.config_changes, derived.config_messages, derived.config_unknown,
                    derived.config_from_snapshot ? "true" : "false", derived.refunds,
                    derived.refunds_taken, derived.refunds_again, derived.refund_lookups_taken,
                    derived.orders_changed);
        return;
    }
    if (self->failed && self->failed_seq && self->segment [0])
        printf ("verify: FAILED: segment %s: record %" PRIu64 ": %s\n", self->segment,
                self->failed_seq, self->reason);
    else if (self->failed && self->failed_seq)
        printf ("verify: FAILED at seq %" PRIu64 ": %s\n", self->failed_seq, self->reason);
    else if (self->failed)
        printf ("verify: FAILED: %s\n", self->reason);
    else if (self->one_segment) {
        const tly_journal_segment_info_t *info = &self->segments [0];
        printf ("verify: OK segment %s: records %" PRIu64 "..%" PRIu64 ", %zu checkpoints,"
                " %s start, %s\n",
                info->path, info->first, info->last, self->checkpoint_count,
                info->base.seq ? "signed" : "genesis",
                info->sealed ? "sealed with a signed end" : "not sealed (still being written)");
        s_report_derived (self, &derived);
        s_report_refunds (&derived);
        s_report_orders (&derived);
        s_report_config (self, &derived);
    } else {
        printf ("verify: OK %" PRIu64 " records, %zu checkpoints, head seq %" PRIu64 " hash %s\n",
                self->records, self->checkpoint_count, head, hash_hex);
        if (self->kept && self->segment_count > 0 && self->segments [0].first > 1)
            printf ("verify: records 1..%" PRIu64 " are not kept (retired, or in an archive not"
                    " given); checked from the signed seal of seq %" PRIu64 " on\n",
                    self->segments [0].first - 1, self->segments [0].first - 1);
        printf ("verify: %zu segments (%zu sealed, %zu archived)\n", self->segment_count, sealed,
                archived);
        s_report_derived (self, &derived);
        s_report_refunds (&derived);
        s_report_orders (&derived);
        s_report_config (self, &derived);
        if (signed_seq < head)
            printf ("verify: the last %" PRIu64 " records are not signed by a checkpoint yet\n",
                    head - signed_seq);
    }
}
