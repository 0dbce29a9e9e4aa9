//  audit_derive_config - the configuration in verify's derivation (see
//  audit_derive.h): the version every record names, the configuration
//  messages of partition 0 decided in order on a working copy of the one
//  in force (tly_config_decide, as the actor decides them; those of a
//  record that change something make one new version together), the
//  configuration a record carries against the one they leave, and who may
//  act as an admin.
//
//  The working copy is made at a record's first configuration message, so
//  the records of other partitions (nearly all) copy nothing.
#include "audit_derive_private.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "tly_account.h"

#define S_DIFFERENCE_MAX 320  //  what differs between two configurations, as a reason says
#define S_ITEM_TEXT_MAX  96   //  an item as a reason names it

//  No one's key: the worker where an envelope names none (an actor would
//  have refused it UNKNOWN_INBOX) and verify is told none.
static const uint8_t s_no_worker [TLY_KEY_BYTES];

void
audit_derive_start_within (audit_derive_t *self)
{
    assert (self);
    self->version_known = false;
    self->config_known = false;
    tly_config_reset (self->config);
}

const tly_config_t *
audit_derive_config (audit_derive_t *self)
{
    assert (self);
    return self->config_known ? self->config : NULL;
}

//  ---------------------------------------------------------------- reasons

static void
s_account (const ProtobufCBinaryData *key, char id [TLY_ID_MAX])
{
    if (key->len == TLY_KEY_BYTES)
        tly_account_id (key->data, id);
    else
        snprintf (id, TLY_ID_MAX, "a malformed key");
}

void
audit_derive_describe_config (const Tally__InboxMessage *message, char *described, size_t size)
{
    char id [TLY_ID_MAX], shown [AUDIT_DERIVE_SHOWN + 4];
    const Tally__AdminChange *admin = NULL;
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_SET_PRICE) {
        const Tally__CatalogItem *item = message->set_price;
        audit_derive_shown (item->item_id, shown);
        snprintf (described, size, "setPrice \"%s\" price %" PRId64 " %s", shown, item->price,
                  item->active ? "on sale" : "off sale");
        return;
    }
    bool add = message->body_case == TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN;
    admin = add ? message->add_admin : message->remove_admin;
    if (admin)
        s_account (&admin->account, id);
    else
        snprintf (id, sizeof id, "no account");
    snprintf (described, size, "%s %s", add ? "addAdmin" : "removeAdmin", id);
}

static void
s_item_text (const tly_config_item_t *item, char text [S_ITEM_TEXT_MAX])
{
    char shown [AUDIT_DERIVE_SHOWN + 4];
    if (!item) {
        snprintf (text, S_ITEM_TEXT_MAX, "none");
        return;
    }
    audit_derive_shown (item->item_id, shown);
    snprintf (text, S_ITEM_TEXT_MAX, "\"%s\" price %" PRId64 " %s", shown, item->price,
              item->active ? "on sale" : "off sale");
}

//  The first difference between the configuration a record (or a state
//  snapshot) says and the one giver gives, as a reason says it.
static void
s_difference (const tly_config_t *said, const tly_config_t *given, const char *giver, char *text,
              size_t size)
{
    if (tly_config_version (said) != tly_config_version (given)) {
        snprintf (text, size, "it says version %" PRIu64 "; %s %" PRIu64, tly_config_version (said),
                  giver, tly_config_version (given));
        return;
    }
    size_t said_count = tly_config_admin_count (said), given_count = tly_config_admin_count (given);
    for (size_t i = 0; i < said_count || i < given_count; i++) {
        const uint8_t *a = i < said_count ? tly_config_admin (said, i) : NULL;
        const uint8_t *b = i < given_count ? tly_config_admin (given, i) : NULL;
        if (a && b && memcmp (a, b, TLY_KEY_BYTES) == 0)
            continue;
        char a_id [TLY_ID_MAX] = "none", b_id [TLY_ID_MAX] = "none";
        if (a)
            tly_account_id (a, a_id);
        if (b)
            tly_account_id (b, b_id);
        snprintf (text, size, "its admin %zu is %s; %s %s", i + 1, a_id, giver, b_id);
        return;
    }
    said_count = tly_config_item_count (said);
    given_count = tly_config_item_count (given);
    for (size_t i = 0; i < said_count || i < given_count; i++) {
        const tly_config_item_t *a = i < said_count ? tly_config_item_at (said, i) : NULL;
        const tly_config_item_t *b = i < given_count ? tly_config_item_at (given, i) : NULL;
        if (a && b && strcmp (a->item_id, b->item_id) == 0 && a->price == b->price
            && a->active == b->active)
            continue;
        char a_text [S_ITEM_TEXT_MAX], b_text [S_ITEM_TEXT_MAX];
        s_item_text (a, a_text);
        s_item_text (b, b_text);
        snprintf (text, size, "its item %zu is %s; %s %s", i + 1, a_text, giver, b_text);
        return;
    }
    snprintf (text, size, "they differ");
}

//  ---------------------------------------------------------------- the version

//  Partition 0's state snapshot's configuration is in force from now on.
static void
s_adopt_snapshot (audit_derive_t *self)
{
    tly_config_copy (self->config, self->snapshot_config);
    self->config_known = true;
    self->snapshot_pending = false;
    self->stats.config_from_snapshot = true;
}

int
audit_derive_load_config (audit_derive_t *self, const Tally__Config *config, char *reason,
                          size_t reason_size)
{
    assert (self && reason && reason_size > 0);
    char why [AUDIT_DERIVE_REASON_MAX / 2];
    tly_config_reset (self->snapshot_config);
    if (config
        && tly_config_from_proto (self->snapshot_config, config,
                                  self->has_worker ? self->worker : NULL, why, sizeof why)
               == -1) {
        snprintf (reason, reason_size,
                  "the state snapshot of partition 0 holds a configuration that breaks the"
                  " rules: %s",
                  why);
        return -1;
    }
    uint64_t version = tly_config_version (self->snapshot_config);
    if (self->config_known) {
        if (!tly_config_equal (self->snapshot_config, self->config)) {
            char difference [S_DIFFERENCE_MAX];
            s_difference (self->snapshot_config, self->config, "the records give", difference,
                          sizeof difference);
            snprintf (reason, reason_size,
                      "the state snapshot of partition 0 holds another configuration than the"
                      " records give: %s",
                      difference);
            return -1;
        }
        return 0;
    }
    if (!self->version_known)
        self->snapshot_pending = true;  //  the first record walked names the version
    else if (version == self->version)
        s_adopt_snapshot (self);
    return 0;
}

int
audit_derive_config_begin (audit_derive_record_t *record)
{
    audit_derive_t *self = record->self;
    const Tally__RecordDraft *draft = record->draft;
    if (!self->version_known) {
        //  The first record walked, after records not kept: its version is
        //  the one in force; version 0 is the empty one.
        self->version_known = true;
        self->version = draft->config_version;
        self->stats.config_first_version = self->version;
        self->config_known = self->version == 0;
        if (!self->config_known && self->snapshot_pending
            && tly_config_version (self->snapshot_config) == self->version)
            s_adopt_snapshot (self);
    }
    if (draft->config_version != self->version)
        return audit_derive_fail (
            record, "the record was decided under config version %" PRIu64 ", current %" PRIu64,
            draft->config_version, self->version);
    if (draft->config && draft->partition != 0)
        return audit_derive_fail (record,
                                  "the record carries a configuration (version %" PRIu64
                                  "): only partition 0's records change it",
                                  draft->config->version);
    record->config = self->config_known ? self->config : NULL;
    return 0;
}

//  The configuration the record carries, read into self->said by the rules
//  of a Config. Returns 0, or -1 (reason set).
static int
s_read_said (audit_derive_record_t *record)
{
    audit_derive_t *self = record->self;
    const Tally__Config *config = record->draft->config;
    char why [AUDIT_DERIVE_REASON_MAX / 2];
    if (tly_config_from_proto (self->said, config, record->worker, why, sizeof why) == -1)
        return audit_derive_fail (
            record, "the record's configuration (version %" PRIu64 ") breaks the rules: %s",
            config->version, why);
    return 0;
}

//  The configuration read (self->said) is in force from now on.
static void
s_adopt_said (audit_derive_t *self)
{
    tly_config_t *config = self->config;
    self->config = self->said;
    self->said = config;
    self->config_known = true;
    self->version = tly_config_version (self->config);
}

int
audit_derive_config_take (audit_derive_record_t *record)
{
    audit_derive_t *self = record->self;
    const Tally__Config *config = record->draft->config;
    if (!config)
        return 0;
    //  A record that changes the configuration makes the next version.
    if (config->version != self->version + 1)
        return audit_derive_fail (record,
                                  "the record carries config version %" PRIu64
                                  ", not the one after the one in force (%" PRIu64 ")",
                                  config->version, self->version);
    if (s_read_said (record) == -1)
        return -1;
    s_adopt_said (self);
    return 0;
}

int
audit_derive_config_end (audit_derive_record_t *record)
{
    audit_derive_t *self = record->self;
    const Tally__Config *config = record->draft->config;
    if (!record->config) {
        //  Decided under a configuration not known: the one it carries, if
        //  any, is known from now on.
        self->stats.config_unknown++;
        return audit_derive_config_take (record);
    }
    uint64_t version = tly_config_version (record->config);
    if (version == self->version) {
        if (config)
            return audit_derive_fail (record,
                                      "the record carries a configuration (version %" PRIu64
                                      "), but its messages change nothing",
                                      config->version);
        return 0;
    }
    assert (record->config == self->working && version > self->version);
    if (!config)
        return audit_derive_fail (record,
                                  "its configuration messages make config version %" PRIu64
                                  "; the record carries no configuration",
                                  version);
    if (s_read_said (record) == -1)
        return -1;
    if (!tly_config_equal (self->said, self->working)) {
        char difference [S_DIFFERENCE_MAX];
        s_difference (self->said, self->working, "its messages give", difference,
                      sizeof difference);
        return audit_derive_fail (
            record, "the record's configuration is not the one its messages give: %s", difference);
    }
    s_adopt_said (self);
    self->stats.config_changes++;
    return 0;
}

//  ---------------------------------------------------------------- messages

void
audit_derive_expect_config (audit_derive_record_t *record, const Tally__InboxMessage *message,
                            audit_derive_expected_t *expected)
{
    audit_derive_t *self = record->self;
    if (record->partition != 0) {
        expected->error = TALLY__ERROR_CODE__BAD_REQUEST;
        return;
    }
    if (!record->config) {
        expected->unknown_config = true;
        return;
    }
    //  The record's first: from here on, its messages are decided under
    //  the working copy.
    if (record->config != self->working) {
        tly_config_copy (self->working, self->config);
        record->config = self->working;
    }
    bool changed;
    const char *text = NULL;
    const uint8_t *worker = record->worker ? record->worker : s_no_worker;
    expected->error = tly_config_decide (self->working, worker, record->user, message, &changed,
                                         &text);
    //  One new version for the record, however many of its messages change.
    if (changed)
        tly_config_set_version (self->working, self->version + 1);
    self->stats.config_messages++;
}

int
audit_derive_check_configured (audit_derive_record_t *record, const Tally__InboxMessage *message,
                               const Tally__MessageResult *result)
{
    const Tally__ConfigChange *change = result->config;
    const tly_config_t *config = record->config;
    assert (change && config);
    AUDIT_DERIVE_SAME (record, "the result says version", change->version,
                       tly_config_version (config));
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_SET_PRICE) {
        const tly_config_item_t *item = tly_config_item (config, message->set_price->item_id);
        assert (item);  //  a price set keeps its item
        char text [S_ITEM_TEXT_MAX];
        s_item_text (item, text);
        if (!change->item)
            return audit_derive_fail (
                record, "the result names no item; the envelope and the configuration give %s",
                text);
        AUDIT_DERIVE_SAME_TEXT (record, "the result's item_id", change->item->item_id,
                                item->item_id);
        AUDIT_DERIVE_SAME (record, "the result's item says price", change->item->price,
                           item->price);
        AUDIT_DERIVE_SAME (record, "the result's item says active", change->item->active,
                           item->active);
        if (!audit_derive_same_text (change->admin_id, ""))
            return audit_derive_fail (record, "the result names an admin for a setPrice");
        return 0;
    }
    const Tally__AdminChange *admin = message->body_case == TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN
                                          ? message->add_admin
                                          : message->remove_admin;
    char id [TLY_ID_MAX];
    s_account (&admin->account, id);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's admin ID", change->admin_id, id);
    if (change->item)
        return audit_derive_fail (record, "the result names an item for an addAdmin or"
                                          " removeAdmin");
    return 0;
}

int
audit_derive_admin (const audit_derive_record_t *record)
{
    if (!record->worker)
        return 0;
    if (memcmp (record->user, record->worker, TLY_KEY_BYTES) == 0)
        return 1;
    if (!record->config)
        return -1;
    return tly_config_is_admin (record->config, record->worker, record->user) ? 1 : 0;
}
