//  audit_export - `tally audit export --format jsonl`: one JSON object per
//  journal record, in global order (docs/journal.md lists every field).
#include "audit_commands.h"
#include "audit_journal.h"
#include "audit_progress.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>
#include "cli.h"
#include "tly_account.h"
#include "tly_validate.h"

#define S_COMMAND       "tally audit export"
#define S_OUTPUT_BUFFER (1 << 20)

typedef struct {
    FILE *out;
    tly_arena_t *arena;
    audit_progress_t progress;
    uint64_t from_seq;
    uint64_t exported;
    uint64_t undecodable;
    uint64_t partition_seq;  //  --partition: the last one read
    //  The last account ID written: base58 is slow, and a record's events
    //  are mostly its sender's.
    uint8_t cached_key [TLY_KEY_BYTES];
    char cached_id [TLY_ID_MAX];
} s_export_t;

//  ---------------------------------------------------------------- fields

static void
s_key (FILE *out, const char *name)
{
    fprintf (out, ",\"%s\":", name);
}

static void
s_string (FILE *out, const char *name, const char *text)
{
    s_key (out, name);
    cli_json_string (out, text ? text : "");
}

static void
s_int (FILE *out, const char *name, int64_t value)
{
    fprintf (out, ",\"%s\":%" PRId64, name, value);
}

static void
s_bool (FILE *out, const char *name, bool value)
{
    fprintf (out, ",\"%s\":%s", name, value ? "true" : "false");
}

//  Bytes as a hex string; only IDs, hashes and signatures are written so.
static void
s_hex_string (FILE *out, ProtobufCBinaryData bytes)
{
    char hex [2 * TLY_SIGNATURE_BYTES + 1];
    fputc ('"', out);
    for (size_t at = 0; at < bytes.len; at += TLY_SIGNATURE_BYTES) {
        size_t size = bytes.len - at < TLY_SIGNATURE_BYTES ? bytes.len - at : TLY_SIGNATURE_BYTES;
        sodium_bin2hex (hex, sizeof hex, bytes.data + at, size);
        fputs (hex, out);
    }
    fputc ('"', out);
}

static void
s_hex (FILE *out, const char *name, ProtobufCBinaryData bytes)
{
    s_key (out, name);
    s_hex_string (out, bytes);
}

//  An account as its ID when it is a key, else as hex.
static void
s_account (s_export_t *self, const char *name, ProtobufCBinaryData key)
{
    if (key.len != TLY_KEY_BYTES) {
        s_hex (self->out, name, key);
        return;
    }
    if (!*self->cached_id || memcmp (key.data, self->cached_key, TLY_KEY_BYTES) != 0) {
        memcpy (self->cached_key, key.data, TLY_KEY_BYTES);
        tly_account_id (key.data, self->cached_id);
    }
    fprintf (self->out, ",\"%s\":\"%s\"", name, self->cached_id);
}

//  ---------------------------------------------------------------- parts

//  A catalog item: {"itemId":…,"price":…,"active":…}.
static void
s_item (FILE *out, const Tally__CatalogItem *item)
{
    fputs ("{\"itemId\":", out);
    cli_json_string (out, item->item_id ? item->item_id : "");
    s_int (out, "price", item->price);
    s_bool (out, "active", item->active);
    fputc ('}', out);
}

//  The configuration a record carries: version, admins, items.
static void
s_config (s_export_t *self, const Tally__Config *config)
{
    FILE *out = self->out;
    fprintf (out, ",\"config\":{\"version\":%" PRIu64 ",\"admins\":[", config->version);
    for (size_t i = 0; i < config->n_admins; i++) {
        if (i)
            fputc (',', out);
        if (config->admins [i].len == TLY_KEY_BYTES) {
            char id [TLY_ID_MAX];
            tly_account_id (config->admins [i].data, id);
            fprintf (out, "\"%s\"", id);
        } else
            s_hex_string (out, config->admins [i]);
    }
    fputs ("],\"items\":[", out);
    for (size_t i = 0; i < config->n_items; i++) {
        if (i)
            fputc (',', out);
        s_item (out, config->items [i]);
    }
    fputs ("]}", out);
}

//  An order's lines: [{"itemId":…,"amount":…}, …].
static void
s_order_items (FILE *out, Tally__OrderItem *const *items, size_t n_items)
{
    fputs (",\"items\":[", out);
    for (size_t i = 0; i < n_items; i++) {
        if (i)
            fputc (',', out);
        fputs ("{\"itemId\":", out);
        cli_json_string (out, items [i] && items [i]->item_id ? items [i]->item_id : "");
        s_int (out, "amount", items [i] ? items [i]->amount : 0);
        fputc ('}', out);
    }
    fputc (']', out);
}

//  An order as it now is: its fields after the opening brace's first one.
static void
s_order_fields (FILE *out, const Tally__Order *order)
{
    s_string (out, "id", order->id);
    s_string (out, "userId", order->user_id);
    s_string (out, "status", tly_order_status_name (order->status));
    s_order_items (out, order->items, order->n_items);
    s_int (out, "total", order->total);
    if (order->error && *order->error)
        s_string (out, "error", order->error);
    fprintf (out, ",\"version\":%" PRIu64, order->version);
    s_int (out, "createdAt", order->created_at);
    s_int (out, "updatedAt", order->updated_at);
    if (order->submitted_at)
        s_int (out, "submittedAt", order->submitted_at);
    if (order->finished_at)
        s_int (out, "finishedAt", order->finished_at);
    if (order->n_purchase_ids) {
        fputs (",\"purchaseIds\":[", out);
        for (size_t i = 0; i < order->n_purchase_ids; i++) {
            if (i)
                fputc (',', out);
            cli_json_string (out, order->purchase_ids [i] ? order->purchase_ids [i] : "");
        }
        fputc (']', out);
    }
}

//  The order messages: createOrder's items, editOrder's order and items,
//  submitOrder's and completeOrder's order, failOrder's order and error.
static bool
s_order_message (FILE *out, const Tally__InboxMessage *message)
{
    switch (message->body_case) {
        case TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER:
            s_string (out, "type", "createOrder");
            s_order_items (out, message->create_order->items, message->create_order->n_items);
            return true;
        case TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER:
            s_string (out, "type", "editOrder");
            s_string (out, "orderId", message->edit_order->order_id);
            s_order_items (out, message->edit_order->items, message->edit_order->n_items);
            return true;
        case TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER:
            s_string (out, "type", "submitOrder");
            s_string (out, "orderId", message->submit_order->order_id);
            return true;
        case TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER:
            s_string (out, "type", "completeOrder");
            s_string (out, "orderId", message->complete_order->order_id);
            return true;
        case TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER:
            s_string (out, "type", "failOrder");
            s_string (out, "orderId", message->fail_order->order_id);
            s_string (out, "error", message->fail_order->error);
            return true;
        default: return false;
    }
}

static void
s_message (s_export_t *self, const Tally__InboxMessage *message)
{
    FILE *out = self->out;
    fputs ("{\"messageId\":", out);
    s_hex_string (out, message->message_id);
    bool credit = message->body_case == TALLY__INBOX_MESSAGE__BODY_CREDIT;
    if (credit || message->body_case == TALLY__INBOX_MESSAGE__BODY_DEBIT) {
        const Tally__Adjustment *adjustment = credit ? message->credit : message->debit;
        s_string (out, "type", credit ? "credit" : "debit");
        s_account (self, "user", adjustment->user);
        s_int (out, "amount", adjustment->amount);
        s_string (out, "reference", adjustment->reference);
        s_string (out, "note", adjustment->note);
    } else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_BUY) {
        s_string (out, "type", "buy");
        s_string (out, "itemId", message->buy->item_id);
        s_int (out, "amount", message->buy->amount);
    } else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT) {
        s_string (out, "type", "createAccount");
        s_int (out, "initialBalance", message->create_account->initial_balance);
    } else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN
               || message->body_case == TALLY__INBOX_MESSAGE__BODY_REMOVE_ADMIN) {
        bool add = message->body_case == TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN;
        s_string (out, "type", add ? "addAdmin" : "removeAdmin");
        s_account (self, "account", (add ? message->add_admin : message->remove_admin)->account);
    } else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_SET_PRICE) {
        s_string (out, "type", "setPrice");
        s_string (out, "itemId", message->set_price->item_id);
        s_int (out, "price", message->set_price->price);
        s_bool (out, "active", message->set_price->active);
    } else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_REFUND) {
        s_string (out, "type", "refund");
        s_string (out, "purchaseId", message->refund->purchase_id);
        s_string (out, "reason", message->refund->reason);
    } else if (!s_order_message (out, message))
        fputs (",\"type\":null", out);
    fputc ('}', out);
}

static void
s_event (s_export_t *self, const Tally__Event *event)
{
    FILE *out = self->out;
    if (event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED) {
        const Tally__AccountCreated *created = event->account_created;
        fputs ("{\"type\":\"AccountCreated\"", out);
        s_account (self, "user", created->user);
        s_string (out, "balanceId", created->balance_id);
        s_int (out, "initialBalance", created->initial_balance);
        s_int (out, "timestamp", created->timestamp);
    } else if (event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED) {
        const Tally__PurchaseRecorded *recorded = event->purchase_recorded;
        fputs ("{\"type\":\"PurchaseRecorded\"", out);
        s_account (self, "user", recorded->user);
        s_string (out, "purchaseId", recorded->purchase_id);
        s_string (out, "itemId", recorded->item_id);
        s_int (out, "amount", recorded->amount);
        s_int (out, "timestamp", recorded->timestamp);
        s_int (out, "balanceAfter", recorded->balance_after);
    } else if (event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED) {
        const Tally__BalanceAdjusted *adjusted = event->balance_adjusted;
        fputs ("{\"type\":\"BalanceAdjusted\"", out);
        s_account (self, "user", adjusted->user);
        s_string (out, "adjustmentId", adjusted->adjustment_id);
        s_int (out, "amount", adjusted->amount);
        s_string (out, "reference", adjusted->reference);
        s_string (out, "note", adjusted->note);
        s_int (out, "timestamp", adjusted->timestamp);
        s_int (out, "balanceAfter", adjusted->balance_after);
        s_account (self, "by", adjusted->by);
        if (adjusted->refund_of && *adjusted->refund_of) {
            s_string (out, "refundOf", adjusted->refund_of);
            fprintf (out, ",\"purchasePartitionSeq\":%" PRIu64, adjusted->purchase_partition_seq);
        }
    } else if (event->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED && event->order_changed) {
        const Tally__OrderChanged *changed = event->order_changed;
        fputs ("{\"type\":\"OrderChanged\"", out);
        s_account (self, "user", changed->user);
        if (changed->order) {
            fputs (",\"order\":{\"type\":\"order\"", out);
            s_order_fields (out, changed->order);
            fputc ('}', out);
        } else
            fputs (",\"order\":null", out);
        s_int (out, "balanceAfter", changed->balance_after);
        s_int (out, "heldAfter", changed->held_after);
        if (changed->n_purchases) {
            fputs (",\"purchases\":[", out);
            for (size_t i = 0; i < changed->n_purchases; i++) {
                const Tally__PurchaseRecorded *recorded = changed->purchases [i];
                fputs (i ? ",{" : "{", out);
                fputs ("\"type\":\"PurchaseRecorded\"", out);
                s_account (self, "user", recorded->user);
                s_string (out, "purchaseId", recorded->purchase_id);
                s_string (out, "itemId", recorded->item_id);
                s_int (out, "amount", recorded->amount);
                s_int (out, "timestamp", recorded->timestamp);
                s_int (out, "balanceAfter", recorded->balance_after);
                fputc ('}', out);
            }
            fputc (']', out);
        }
    } else
        fputs ("{\"type\":null", out);
    fputc ('}', out);
}

static void
s_result (FILE *out, const Tally__MessageResult *result)
{
    fputs ("{\"messageId\":", out);
    s_hex_string (out, result->message_id);
    if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_BALANCE) {
        const Tally__UserBalance *balance = result->balance;
        fputs (",\"ok\":true,\"result\":{\"type\":\"balance\"", out);
        s_string (out, "id", balance->id);
        s_string (out, "userId", balance->user_id);
        s_int (out, "balance", balance->balance);
        s_int (out, "lastUpdated", balance->last_updated);
        s_int (out, "held", balance->held);
        fputc ('}', out);
    } else if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE) {
        const Tally__PurchaseRecord *purchase = result->purchase;
        fputs (",\"ok\":true,\"result\":{\"type\":\"purchase\"", out);
        s_string (out, "id", purchase->id);
        s_string (out, "userId", purchase->user_id);
        s_string (out, "itemId", purchase->item_id);
        s_int (out, "amount", purchase->amount);
        s_int (out, "timestamp", purchase->timestamp);
        s_int (out, "balanceAfter", purchase->balance_after);
        fprintf (out, ",\"partitionSeq\":%" PRIu64, purchase->partition_seq);
        if (purchase->refund_id && *purchase->refund_id) {
            s_string (out, "refundId", purchase->refund_id);
            s_int (out, "refundedAt", purchase->refunded_at);
        }
        fputc ('}', out);
    } else if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT) {
        const Tally__AdjustmentRecord *adjustment = result->adjustment;
        fputs (",\"ok\":true,\"result\":{\"type\":\"adjustment\"", out);
        s_string (out, "id", adjustment->id);
        s_string (out, "userId", adjustment->user_id);
        s_int (out, "amount", adjustment->amount);
        s_string (out, "reference", adjustment->reference);
        s_string (out, "note", adjustment->note);
        s_int (out, "timestamp", adjustment->timestamp);
        s_int (out, "balanceAfter", adjustment->balance_after);
        s_string (out, "by", adjustment->by);
        fputc ('}', out);
    } else if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_CONFIG) {
        const Tally__ConfigChange *change = result->config;
        fprintf (out, ",\"ok\":true,\"result\":{\"type\":\"config\",\"version\":%" PRIu64,
                 change->version);
        if (change->admin_id && *change->admin_id)
            s_string (out, "adminId", change->admin_id);
        if (change->item) {
            fputs (",\"item\":", out);
            s_item (out, change->item);
        }
        fputc ('}', out);
    } else if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ORDER && result->order) {
        fputs (",\"ok\":true,\"result\":{\"type\":\"order\"", out);
        s_order_fields (out, result->order);
        fputc ('}', out);
    } else if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR) {
        fputs (",\"ok\":false,\"error\":{\"code\":", out);
        cli_json_string (out, tly_error_name (result->error->code));
        s_string (out, "message", result->error->message);
        if (result->error->retry_after_ms)
            s_int (out, "retryAfterMs", result->error->retry_after_ms);
        fputc ('}', out);
    } else
        fputs (",\"ok\":null", out);
    fputc ('}', out);
}

//  ---------------------------------------------------------------- records

static tly_journal_step_t
s_export_record (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    s_export_t *self = arg;
    audit_progress_update (&self->progress, self->exported);
    ProtobufCAllocator *allocator = tly_arena_allocator (self->arena);
    Tally__StoredRecord *stored = tally__stored_record__unpack (allocator, size, bytes);
    Tally__RecordBody *body = stored ? tally__record_body__unpack (allocator, stored->body.len,
                                                                   stored->body.data)
                                     : NULL;
    const Tally__RecordDraft *draft = body ? body->draft : NULL;
    self->partition_seq = draft ? draft->partition_seq : self->partition_seq + 1;
    if (seq < self->from_seq) {
        tly_arena_reset (self->arena);
        return TLY_JOURNAL_NEXT;
    }
    if (!draft || !draft->request) {
        fprintf (stderr, S_COMMAND ": seq %" PRIu64 ": the record does not decode; skipped\n", seq);
        self->undecodable++;
        tly_arena_reset (self->arena);
        return TLY_JOURNAL_NEXT;
    }
    const Tally__SignedEnvelope *request = draft->request;
    Tally__Envelope *envelope = tally__envelope__unpack (allocator, request->envelope.len,
                                                         request->envelope.data);
    FILE *out = self->out;
    fprintf (out, "{\"seq\":%" PRIu64, seq);
    s_hex (out, "hash", stored->hash);
    s_hex (out, "prevHash", body->prev_hash);
    fprintf (out, ",\"partition\":%" PRIu32 ",\"partitionSeq\":%" PRIu64 ",\"epoch\":%" PRIu64,
             draft->partition, draft->partition_seq, draft->epoch);
    s_int (out, "timestamp", draft->timestamp_ms);
    if (draft->rate_limit)
        fprintf (out, ",\"rateLimit\":{\"perMinute\":%" PRIu32 ",\"burst\":%" PRIu32 "}",
                 draft->rate_limit->per_minute, draft->rate_limit->burst);
    fprintf (out, ",\"configVersion\":%" PRIu64, draft->config_version);
    s_bool (out, "openPrices", draft->open_prices);
    if (draft->config)
        s_config (self, draft->config);
    if (envelope) {
        s_account (self, "sender", envelope->sender);
        s_account (self, "inbox", envelope->inbox);
        s_int (out, "envelopeTimestamp", envelope->timestamp_ms);
    } else
        fputs (",\"sender\":null,\"inbox\":null,\"envelopeTimestamp\":null", out);
    s_hex (out, "signature", request->signature);
    fputs (",\"messages\":", out);
    if (envelope) {
        fputc ('[', out);
        for (size_t i = 0; i < envelope->n_messages; i++) {
            if (i)
                fputc (',', out);
            s_message (self, envelope->messages [i]);
        }
        fputc (']', out);
    } else
        fputs ("null", out);
    fputs (",\"events\":[", out);
    for (size_t i = 0; i < draft->n_events; i++) {
        if (i)
            fputc (',', out);
        s_event (self, draft->events [i]);
    }
    fputs ("],\"results\":[", out);
    for (size_t i = 0; i < draft->n_results; i++) {
        if (i)
            fputc (',', out);
        s_result (out, draft->results [i]);
    }
    fputs ("]}\n", out);
    self->exported++;
    tly_arena_reset (self->arena);
    return ferror (out) ? TLY_JOURNAL_FAIL : TLY_JOURNAL_NEXT;
}

//  --partition: the partition's records through the partition index, in pages.
static int
s_export_partition (s_export_t *self, tly_journal_t *journal, uint32_t partition)
{
    tly_journal_query_t query = { .partition = partition,
                                  .max_records = TLY_READ_RECORDS_MAX,
                                  .max_bytes = SIZE_MAX };
    bool end = false;
    while (!end) {
        if (tly_journal_read (journal, &query, s_export_record, self, &end)
            != TALLY__ERROR_CODE__OK)
            return -1;
        assert (end || self->partition_seq > query.after_partition_seq);
        query.after_partition_seq = self->partition_seq;
    }
    return 0;
}

static void
s_usage (FILE *out)
{
    fputs ("usage: tally audit export (--journal DIR | --data-dir DIR) --format jsonl\n"
           "                          [--from SEQ] [--partition P] [--archive DIR]...\n"
           "\n"
           "Writes one JSON object per record to stdout, in global order: seq, hash,\n"
           "prevHash, partition, partitionSeq, epoch, timestamp, [rateLimit,]\n"
           "configVersion, openPrices, [config,] sender, inbox, envelopeTimestamp,\n"
           "signature, messages, events, results.\n"
           "\n"
           "  --format jsonl   the only format (JSON lines)\n"
           "  --from SEQ       start at global seq SEQ (default 1)\n"
           "  --partition P    only partition P's records\n"
           "  --archive DIR    read archived segments in DIR too (repeatable; default:\n"
           "                   the journal's archive/ folder, when it exists)\n"
           "\n"
           "Exit status: 0 every record exported, 1 some record did not decode (named on\n"
           "stderr, skipped), 2 usage error or unreadable journal.\n",
           out);
}

int
audit_export (int argc, char **argv)
{
    const char *journal_dir = NULL, *data_dir = NULL, *format = NULL;
    int64_t from_seq = 1, partition = -1;
    audit_archives_t archives = { .count = 0 };
    tly_flag_t flags [] = { TLY_FLAG_CALL ("--archive", audit_take_archive, &archives, NULL),
                            TLY_FLAG_TEXT ("--journal", &journal_dir),
                            TLY_FLAG_TEXT ("--data-dir", &data_dir),
                            TLY_FLAG_TEXT ("--format", &format),
                            TLY_FLAG_INT ("--from", &from_seq, 1, INT64_MAX),
                            TLY_FLAG_INT ("--partition", &partition, 0, TLY_PARTITIONS_MAX - 1),
                            TLY_FLAG_HELP };
    int parsed = cli_parse_flags (S_COMMAND, s_usage, flags, sizeof flags / sizeof flags [0], argc,
                                  argv, NULL);
    if (parsed != -1)
        return parsed;
    if (!format || strcmp (format, "jsonl") != 0) {
        fprintf (stderr, S_COMMAND ": --format jsonl is required (the only format)\n");
        return CLI_EXIT_USAGE;
    }
    tly_journal_t *journal = audit_open_journal (S_COMMAND, journal_dir, data_dir, &archives);
    if (!journal)
        return CLI_EXIT_USAGE;
    setvbuf (stdout, NULL, _IOFBF, S_OUTPUT_BUFFER);
    s_export_t self = { .out = stdout,
                        .arena = tly_arena_new (AUDIT_ARENA_BLOCK),
                        .from_seq = (uint64_t) from_seq };
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    audit_progress_start (&self.progress, "export", head.seq);
    int rc = partition >= 0 ? s_export_partition (&self, journal, (uint32_t) partition)
                            : tly_journal_iterate (journal, self.from_seq, s_export_record, &self);
    audit_progress_end (&self.progress);
    if (rc == -1 && partition < 0 && audit_journal_gap (S_COMMAND, journal))
        ;
    else if (fflush (stdout) == EOF || rc == -1)
        fprintf (stderr, S_COMMAND ": export failed after %" PRIu64 " records (see above)\n",
                 self.exported);
    tly_arena_destroy (&self.arena);
    tly_journal_destroy (&journal);
    return rc == -1 || ferror (stdout) ? CLI_EXIT_USAGE
           : self.undecodable          ? CLI_EXIT_REJECTED
                                       : CLI_EXIT_OK;
}
