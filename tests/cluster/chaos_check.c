//  chaos_check - what a chaos run proves once its load has stopped: the
//  journal verifies, replay matches the actors, and the journal, read
//  through `tally audit export` (its format: docs/journal.md), holds every
//  acknowledged message exactly once with the result the client got, no
//  message twice, a balance that never went negative, and each credit's
//  reference applied at most once (every answer naming its one record).
#include "chaos.h"

#include <czmq.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tally.pb-c.h"
#include "tly_validate.h"

#define S_COMMAND_MS 600000  //  the longest one tally audit command may run

uint64_t
chaos_hash (const char *text)
{
    uint64_t hash = 14695981039346656037ULL;
    for (const unsigned char *at = (const unsigned char *) text; *at; at++)
        hash = (hash ^ *at) * 1099511628211ULL;
    return hash;
}

chaos_msg_t *
chaos_msgs_add (chaos_msgs_t *self)
{
    if (self->count == self->size) {
        self->size = self->size ? 2 * self->size : 4096;
        self->items = realloc (self->items, self->size * sizeof (chaos_msg_t));
        CHECK (self->items);
    }
    chaos_msg_t *msg = &self->items [self->count++];
    memset (msg, 0, sizeof *msg);
    return msg;
}

void
chaos_violation (chaos_report_t *report, const char *format, ...)
{
    if (report->violations++ > 0)
        return;
    va_list args;
    va_start (args, format);
    vsnprintf (report->first_violation, sizeof report->first_violation, format, args);
    va_end (args);
}

//  ---------------------------------------------------------------- tally audit

//  Runs `tally audit ARGS...` (NULL-terminated) with its output the run's own;
//  its exit code.
static int
s_audit (const char *first, ...)
{
    char *argv [16] = { TALLY_CLI_BIN, "audit" };
    int argc = 2;
    va_list args;
    va_start (args, first);
    for (const char *arg = first; arg; arg = va_arg (args, const char *)) {
        CHECK (argc < 15);
        argv [argc++] = (char *) arg;
    }
    va_end (args);
    printf ("chaos: $ tally audit %s ...\n", first);
    fflush (stdout);
    return th_run (argv, NULL, TH_OUTPUT_INHERIT, NULL, S_COMMAND_MS);
}

//  ---------------------------------------------------------------- the export

//  The value after `"key":` in [from, end), or NULL.
static const char *
s_find (const char *from, const char *end, const char *key)
{
    char pattern [64];
    int length = snprintf (pattern, sizeof pattern, "\"%s\":", key);
    CHECK (length > 0 && (size_t) length < sizeof pattern);
    const char *at = memmem (from, (size_t) (end - from), pattern, (size_t) length);
    return at ? at + length : NULL;
}

//  The string value of key in [from, end) into out (escapes kept: the
//  values read here are IDs and names, which have none); false when absent.
static bool
s_string (const char *from, const char *end, const char *key, char *out, size_t size)
{
    const char *at = s_find (from, end, key);
    if (!at || *at != '"')
        return false;
    at++;
    size_t length = 0;
    while (at + length < end && at [length] != '"') {
        if (at [length] == '\\')
            length++;
        length++;
    }
    if (at + length >= end || length >= size)
        return false;
    memcpy (out, at, length);
    out [length] = 0;
    return true;
}

static bool
s_int (const char *from, const char *end, const char *key, int64_t *value)
{
    const char *at = s_find (from, end, key);
    if (!at)
        return false;
    char *stop = NULL;
    *value = strtoll (at, &stop, 10);
    return stop != at;
}

//  The items of a JSON array segment: each starts with `{"first":`.
static const char *
s_next_item (const char *from, const char *end, const char *first)
{
    char pattern [64];
    snprintf (pattern, sizeof pattern, "{\"%s\":", first);
    return memmem (from, (size_t) (end - from), pattern, strlen (pattern));
}

static int32_t
s_code (const char *name)
{
    for (int32_t code = 0; code < 256; code++)
        if (streq (tly_error_name ((Tally__ErrorCode) code), name))
            return code;
    return -1;
}

//  One account as the journal's events leave it, in journal order.
typedef struct {
    bool created;
    int64_t balance;
} s_account_t;

typedef struct {
    chaos_report_t *report;
    chaos_msgs_t *journal;
    zhashx_t *accounts;     //  user ID -> s_account_t
    zhashx_t *adjustments;  //  adjustment ID -> the seq of the record that applied it
    uint64_t seq;
    const char *sender;
    const char *events;  //  the events segment of the record
    const char *events_end;
    const char *event;  //  the next event not yet matched to a result
} s_record_t;

static s_account_t *
s_account_of (s_record_t *self, const char *user)
{
    s_account_t *account = zhashx_lookup (self->accounts, user);
    if (!account) {
        account = calloc (1, sizeof *account);
        CHECK (account);
        zhashx_insert (self->accounts, user, account);
    }
    return account;
}

static s_account_t *
s_account (s_record_t *self)
{
    return s_account_of (self, self->sender);
}

//  The next event when it has type and key = value (a string), consumed;
//  NULL and nothing consumed otherwise. *end is the event's end.
static const char *
s_take_event (s_record_t *self, const char *type, const char *key, const char *value,
              const char **end)
{
    if (!self->event)
        return NULL;
    const char *next = s_next_item (self->event + 1, self->events_end, "type");
    *end = next ? next : self->events_end;
    char text [TLY_ID_MAX];
    char user [TLY_ID_MAX];
    if (!s_string (self->event, *end, "type", text, sizeof text) || !streq (text, type)
        || !s_string (self->event, *end, key, text, sizeof text) || !streq (text, value))
        return NULL;
    //  A credit's user is the one credited; every other event's the sender.
    bool credit = streq (type, "BalanceAdjusted");
    if (!s_string (self->event, *end, credit ? "by" : "user", user, sizeof user)
        || !streq (user, self->sender))
        chaos_violation (self->report, "seq %" PRIu64 ": an event for %s in a record of %s",
                         self->seq, user, self->sender);
    const char *event = self->event;
    self->event = next;
    return event;
}

//  One result of the record, with the event it caused.
static void
s_result (s_record_t *self, const char *at, const char *end)
{
    chaos_report_t *report = self->report;
    chaos_msg_t *msg = chaos_msgs_add (self->journal);
    msg->sender = chaos_hash (self->sender);
    msg->seq = self->seq;
    char hex [2 * TLY_MESSAGE_ID_BYTES + 1];
    size_t size = 0;
    if (!s_string (at, end, "messageId", hex, sizeof hex)
        || sodium_hex2bin (msg->id, sizeof msg->id, hex, strlen (hex), NULL, &size, NULL) != 0
        || size != TLY_MESSAGE_ID_BYTES) {
        chaos_violation (report, "seq %" PRIu64 ": a result without a message ID", self->seq);
        return;
    }
    report->journaled++;
    char text [TLY_ID_MAX];
    if (memmem (at, (size_t) (end - at), "\"ok\":false", 10)) {
        msg->state = CHAOS_REFUSED;
        msg->code = s_string (at, end, "code", text, sizeof text) ? s_code (text) : -1;
        return;
    }
    char id [TLY_ID_MAX];
    if (s_string (at, end, "type", text, sizeof text) && streq (text, "config")) {
        //  A price change: its version, as the client saw it.
        CHECK (s_int (at, end, "version", &msg->value));
        msg->state = CHAOS_OK;
        msg->result_id = chaos_hash (CHAOS_CONFIG_RESULT);
        report->config_results++;
        return;
    }
    if (!s_string (at, end, "type", text, sizeof text)
        || !s_string (at, end, "id", id, sizeof id)) {
        chaos_violation (report, "seq %" PRIu64 ": message %s: a result without a type or ID",
                         self->seq, hex);
        return;
    }
    msg->state = CHAOS_OK;
    msg->result_id = chaos_hash (id);
    s_account_t *account = s_account (self);
    const char *event_end = NULL;
    if (streq (text, "purchase")) {
        msg->purchase = 1;
        char item [TLY_ITEM_ID_MAX + 1];
        if (s_string (at, end, "itemId", item, sizeof item) && streq (item, CHAOS_PRICED_ITEM))
            report->priced_buys++;
        int64_t amount = 0;
        CHECK (s_int (at, end, "balanceAfter", &msg->value) && s_int (at, end, "amount", &amount));
        const char *event = s_take_event (self, "PurchaseRecorded", "purchaseId", id, &event_end);
        int64_t after = -1;
        if (!event || !s_int (event, event_end, "balanceAfter", &after) || after != msg->value)
            chaos_violation (report,
                             "seq %" PRIu64 ": purchase %s has no PurchaseRecorded event with "
                             "its balanceAfter",
                             self->seq, id);
        else if (!account->created)
            chaos_violation (report, "seq %" PRIu64 ": purchase %s before %s had an account",
                             self->seq, id, self->sender);
        else if (after != account->balance - amount || after < 0)
            chaos_violation (report,
                             "seq %" PRIu64 ": purchase %s of %" PRId64 " takes %s from %" PRId64
                             " to %" PRId64,
                             self->seq, id, amount, self->sender, account->balance, after);
        account->balance = after;
        report->purchases++;
    } else if (streq (text, "balance")) {
        CHECK (s_int (at, end, "balance", &msg->value));
        const char *event = s_take_event (self, "AccountCreated", "balanceId", id, &event_end);
        if (event) {
            int64_t initial = -1;
            CHECK (s_int (event, event_end, "initialBalance", &initial));
            if (account->created)
                chaos_violation (report, "seq %" PRIu64 ": %s created a second time", self->seq,
                                 self->sender);
            if (initial < 0)
                chaos_violation (report, "seq %" PRIu64 ": %s created with %" PRId64, self->seq,
                                 self->sender, initial);
            account->created = true;
            account->balance = initial;
            report->accounts++;
        }
        if (!account->created || account->balance != msg->value)
            chaos_violation (report,
                             "seq %" PRIu64 ": %s answered balance %" PRId64
                             " where the journal's events make %" PRId64,
                             self->seq, self->sender, msg->value, account->balance);
    } else if (streq (text, "adjustment")) {
        CHECK (s_int (at, end, "balanceAfter", &msg->value));
        const char *event = s_take_event (self, "BalanceAdjusted", "adjustmentId", id, &event_end);
        uint64_t *applied = zhashx_lookup (self->adjustments, id);
        if (!event) {
            //  Its reference was credited before: the answer is that record.
            if (!applied)
                chaos_violation (report,
                                 "seq %" PRIu64 ": message %s answered with adjustment %s, "
                                 "which no record applied",
                                 self->seq, hex, id);
            return;
        }
        if (applied) {
            chaos_violation (report,
                             "seq %" PRIu64 ": adjustment %s applied again (first at seq %" PRIu64
                             "): a reference counted twice",
                             self->seq, id, *applied);
            return;
        }
        uint64_t *seq = malloc (sizeof *seq);
        CHECK (seq);
        *seq = self->seq;
        zhashx_insert (self->adjustments, id, seq);
        char user [TLY_ID_MAX];
        int64_t amount = 0, after = -1;
        CHECK (s_string (event, event_end, "user", user, sizeof user)
               && s_int (event, event_end, "amount", &amount)
               && s_int (event, event_end, "balanceAfter", &after));
        bool refund = s_find (event, event_end, "refundOf") != NULL;
        s_account_t *credited = s_account_of (self, user);
        if (!credited->created || after != credited->balance + amount || after != msg->value
            || after < 0)
            chaos_violation (report,
                             "seq %" PRIu64 ": adjustment %s of %" PRId64 " takes %s from %" PRId64
                             " to %" PRId64 " (answered %" PRId64 ")",
                             self->seq, id, amount, user, credited->balance, after, msg->value);
        credited->balance = after;
        if (refund)
            report->refunds++;
        else
            report->credits++;
    } else
        chaos_violation (report, "seq %" PRIu64 ": message %s: a result of type %s", self->seq, hex,
                         text);
}

//  One line of the export: one journal record.
static void
s_record (s_record_t *self, const char *line, const char *end)
{
    int64_t seq = 0;
    char sender [TLY_ID_MAX];
    const char *events = s_find (line, end, "events");
    const char *results = s_find (line, end, "results");
    if (!s_int (line, end, "seq", &seq) || !s_string (line, end, "sender", sender, sizeof sender)
        || !events || !results || results < events) {
        chaos_violation (self->report, "an export line that is not a record: %.100s", line);
        return;
    }
    self->report->records++;
    self->seq = (uint64_t) seq;
    self->sender = sender;
    self->events = events;
    self->events_end = results;
    self->event = s_next_item (events, results, "type");
    for (const char *at = s_next_item (results, end, "messageId"); at;) {
        const char *next = s_next_item (at + 1, end, "messageId");
        s_result (self, at, next ? next : end);
        at = next;
    }
    if (self->event)
        chaos_violation (self->report, "seq %" PRIu64 ": an event no result accounts for: %.100s",
                         self->seq, self->event);
}

//  Exports the journal to DIR/export.jsonl and reads every record of it.
static void
s_read_journal (it_cluster_t *cluster, chaos_msgs_t *journal, chaos_report_t *report)
{
    char path [512];
    snprintf (path, sizeof path, "%s/export.jsonl", cluster->dir);
    char *command = NULL;
    CHECK (asprintf (&command, "exec '%s' audit export --data-dir '%s' --format jsonl > '%s'",
                     TALLY_CLI_BIN, cluster->dir, path)
           > 0);
    char *argv [] = { "/bin/sh", "-c", command, NULL };
    printf ("chaos: $ tally audit export --data-dir %s --format jsonl > %s\n", cluster->dir, path);
    fflush (stdout);
    int code = th_run (argv, NULL, TH_OUTPUT_INHERIT, NULL, S_COMMAND_MS);
    free (command);
    if (code != 0) {
        chaos_violation (report, "tally audit export exited %d", code);
        return;
    }
    FILE *file = fopen (path, "r");
    CHECK (file);
    s_record_t record = { .report = report,
                          .journal = journal,
                          .accounts = zhashx_new (),
                          .adjustments = zhashx_new () };
    zhashx_set_destructor (record.accounts, (zhashx_destructor_fn *) zstr_free);
    zhashx_set_destructor (record.adjustments, (zhashx_destructor_fn *) zstr_free);
    char *line = NULL;
    size_t size = 0;
    ssize_t length;
    while ((length = getline (&line, &size, file)) > 0)
        s_record (&record, line, line + length);
    free (line);
    fclose (file);
    zhashx_destroy (&record.accounts);
    zhashx_destroy (&record.adjustments);
}

//  ---------------------------------------------------------------- the join

static int
s_compare (const void *a, const void *b)
{
    const chaos_msg_t *x = a, *y = b;
    if (x->sender != y->sender)
        return x->sender < y->sender ? -1 : 1;
    int order = memcmp (x->id, y->id, TLY_MESSAGE_ID_BYTES);
    if (order)
        return order;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static bool
s_same_key (const chaos_msg_t *x, const chaos_msg_t *y)
{
    return x->sender == y->sender && memcmp (x->id, y->id, TLY_MESSAGE_ID_BYTES) == 0;
}

static void
s_hex (const chaos_msg_t *msg, char *out)
{
    sodium_bin2hex (out, 2 * TLY_MESSAGE_ID_BYTES + 1, msg->id, TLY_MESSAGE_ID_BYTES);
}

//  The history's answer against the journal's result.
static bool
s_same_result (const chaos_msg_t *answered, const chaos_msg_t *journaled)
{
    if (answered->state != journaled->state)
        return false;
    if (answered->state == CHAOS_REFUSED)
        return answered->code == journaled->code;
    return answered->purchase == journaled->purchase && answered->value == journaled->value
           && answered->result_id == journaled->result_id;
}

static void
s_join (chaos_msgs_t *history, chaos_msgs_t *journal, chaos_report_t *report)
{
    qsort (history->items, history->count, sizeof (chaos_msg_t), s_compare);
    qsort (journal->items, journal->count, sizeof (chaos_msg_t), s_compare);
    char hex [2 * TLY_MESSAGE_ID_BYTES + 1];
    //  No message ID of a sender is in the journal twice.
    for (size_t j = 1; j < journal->count; j++)
        if (s_same_key (&journal->items [j - 1], &journal->items [j])) {
            report->twice++;
            s_hex (&journal->items [j], hex);
            chaos_violation (report, "message %s applied twice: seq %" PRIu64 " and %" PRIu64, hex,
                             journal->items [j - 1].seq, journal->items [j].seq);
        }
    size_t j = 0;
    for (size_t h = 0; h < history->count; h++) {
        const chaos_msg_t *sent = &history->items [h];
        if (h > 0 && s_same_key (&history->items [h - 1], sent))
            chaos_violation (report, "two messages of one sender with one ID in the histories");
        while (j < journal->count && s_compare (&journal->items [j], sent) < 0
               && !s_same_key (&journal->items [j], sent)) {
            s_hex (&journal->items [j], hex);
            chaos_violation (report, "seq %" PRIu64 ": message %s that no client sent",
                             journal->items [j].seq, hex);
            j++;
        }
        const chaos_msg_t *found = j < journal->count && s_same_key (&journal->items [j], sent)
                                       ? &journal->items [j]
                                       : NULL;
        while (j < journal->count && s_same_key (&journal->items [j], sent))
            j++;
        report->sent++;
        s_hex (sent, hex);
        if (sent->state == CHAOS_UNANSWERED) {
            report->unanswered++;
            report->unanswered_applied += found != NULL;
            continue;
        }
        report->acknowledged++;
        if (!found) {
            report->lost++;
            chaos_violation (report, "message %s acknowledged (%s) and not in the journal", hex,
                             sent->state == CHAOS_OK ? "ok" : "refused");
        } else if (!s_same_result (sent, found)) {
            report->different++;
            chaos_violation (report,
                             "message %s answered %s %" PRId64 ", journaled at seq %" PRIu64
                             " as %s %" PRId64,
                             hex, sent->state == CHAOS_OK ? "ok" : "refused",
                             sent->state == CHAOS_OK ? sent->value : sent->code, found->seq,
                             found->state == CHAOS_OK ? "ok" : "refused",
                             found->state == CHAOS_OK ? found->value : found->code);
        }
    }
    for (; j < journal->count; j++) {
        s_hex (&journal->items [j], hex);
        chaos_violation (report, "seq %" PRIu64 ": message %s that no client sent",
                         journal->items [j].seq, hex);
    }
}

void
chaos_check (it_cluster_t *cluster, chaos_msgs_t *history, chaos_report_t *report)
{
    if (s_audit ("verify", "--data-dir", cluster->dir, "--worker", cluster->worker_id, NULL) != 0)
        chaos_violation (report, "tally audit verify failed");
    if (s_audit ("replay", "--data-dir", cluster->dir, "--compare", NULL) != 0)
        chaos_violation (report, "tally audit replay --compare found a difference");
    chaos_msgs_t journal = { 0 };
    s_read_journal (cluster, &journal, report);
    s_join (history, &journal, report);
    free (journal.items);
}
