//  tly_config - the admin group and the price catalog, and the decisions
//  made with them (see the header).
#include "tly_config.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tly_validate.h"

struct _tly_config_t {
    uint64_t version;
    uint8_t admins [TLY_ADMINS_MAX][TLY_KEY_BYTES];
    size_t admin_count;
    tly_config_item_t *items;  //  ascending by item_id bytes
    size_t item_count;
    size_t item_capacity;
};

tly_config_t *
tly_config_new (void)
{
    tly_config_t *self = calloc (1, sizeof *self);
    assert (self);
    return self;
}

void
tly_config_destroy (tly_config_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free ((*self_p)->items);
        free (*self_p);
        *self_p = NULL;
    }
}

static void
s_reserve (tly_config_t *self, size_t count)
{
    if (count <= self->item_capacity)
        return;
    size_t capacity = self->item_capacity ? self->item_capacity : 16;
    while (capacity < count)
        capacity *= 2;
    self->items = realloc (self->items, capacity * sizeof *self->items);
    assert (self->items);
    self->item_capacity = capacity;
}

void
tly_config_copy (tly_config_t *self, const tly_config_t *other)
{
    assert (self && other);
    if (self == other)
        return;
    self->version = other->version;
    memcpy (self->admins, other->admins, other->admin_count * TLY_KEY_BYTES);
    self->admin_count = other->admin_count;
    s_reserve (self, other->item_count);
    if (other->item_count)
        memcpy (self->items, other->items, other->item_count * sizeof *self->items);
    self->item_count = other->item_count;
}

void
tly_config_reset (tly_config_t *self)
{
    assert (self);
    self->version = 0;
    self->admin_count = 0;
    self->item_count = 0;
}

uint64_t
tly_config_version (const tly_config_t *self)
{
    return self->version;
}

void
tly_config_set_version (tly_config_t *self, uint64_t version)
{
    assert (self);
    self->version = version;
}

size_t
tly_config_admin_count (const tly_config_t *self)
{
    return self->admin_count;
}

const uint8_t *
tly_config_admin (const tly_config_t *self, size_t index)
{
    assert (index < self->admin_count);
    return self->admins [index];
}

size_t
tly_config_item_count (const tly_config_t *self)
{
    return self->item_count;
}

const tly_config_item_t *
tly_config_item_at (const tly_config_t *self, size_t index)
{
    assert (index < self->item_count);
    return &self->items [index];
}

//  Where item_id is, or would go: *found says which.
static size_t
s_item_place (const tly_config_t *self, const char *item_id, bool *found)
{
    size_t low = 0, high = self->item_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int order = strcmp (self->items [middle].item_id, item_id);
        if (order == 0) {
            *found = true;
            return middle;
        }
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    *found = false;
    return low;
}

static size_t
s_admin_place (const tly_config_t *self, const uint8_t key [TLY_KEY_BYTES], bool *found)
{
    size_t low = 0, high = self->admin_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int order = memcmp (self->admins [middle], key, TLY_KEY_BYTES);
        if (order == 0) {
            *found = true;
            return middle;
        }
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    *found = false;
    return low;
}

const tly_config_item_t *
tly_config_item (const tly_config_t *self, const char *item_id)
{
    assert (self);
    if (!item_id)
        return NULL;
    bool found;
    size_t at = s_item_place (self, item_id, &found);
    return found ? &self->items [at] : NULL;
}

bool
tly_config_is_admin (const tly_config_t *self, const uint8_t worker [TLY_KEY_BYTES],
                     const uint8_t key [TLY_KEY_BYTES])
{
    assert (self && worker && key);
    if (memcmp (worker, key, TLY_KEY_BYTES) == 0)
        return true;
    bool found;
    s_admin_place (self, key, &found);
    return found;
}

bool
tly_config_equal (const tly_config_t *self, const tly_config_t *other)
{
    if (self->version != other->version || self->admin_count != other->admin_count
        || self->item_count != other->item_count
        || memcmp (self->admins, other->admins, self->admin_count * TLY_KEY_BYTES) != 0)
        return false;
    for (size_t i = 0; i < self->item_count; i++) {
        const tly_config_item_t *a = &self->items [i], *b = &other->items [i];
        if (strcmp (a->item_id, b->item_id) != 0 || a->price != b->price || a->active != b->active)
            return false;
    }
    return true;
}

static Tally__ErrorCode
s_validate_price (int64_t price, const char **text)
{
    if (price <= 0) {
        *text = "price must be a positive whole number of minor units";
        return TALLY__ERROR_CODE__INVALID_PRICE;
    }
    if (price > TLY_BALANCE_MAX) {
        *text = "price exceeds the largest balance (2^53 - 1)";
        return TALLY__ERROR_CODE__INVALID_PRICE;
    }
    return TALLY__ERROR_CODE__OK;
}

int
tly_config_from_proto (tly_config_t *self, const Tally__Config *config, const uint8_t *worker,
                       char *reason, size_t reason_size)
{
    assert (self && config && reason);
    if (config->n_admins > TLY_ADMINS_MAX || config->n_items > TLY_CATALOG_MAX) {
        snprintf (reason, reason_size, "%zu admins and %zu items: over the limits (%d, %d)",
                  config->n_admins, config->n_items, TLY_ADMINS_MAX, TLY_CATALOG_MAX);
        return -1;
    }
    for (size_t i = 0; i < config->n_admins; i++) {
        const ProtobufCBinaryData *admin = &config->admins [i];
        if (admin->len != TLY_KEY_BYTES) {
            snprintf (reason, reason_size, "admin %zu is not a 32-byte key", i + 1);
            return -1;
        }
        if (i > 0 && memcmp (config->admins [i - 1].data, admin->data, TLY_KEY_BYTES) >= 0) {
            snprintf (reason, reason_size, "admin %zu out of order or repeated", i + 1);
            return -1;
        }
        if (worker && memcmp (worker, admin->data, TLY_KEY_BYTES) == 0) {
            snprintf (reason, reason_size, "admin %zu is the worker", i + 1);
            return -1;
        }
    }
    for (size_t i = 0; i < config->n_items; i++) {
        const Tally__CatalogItem *item = config->items [i];
        const char *text = NULL;
        Tally__ErrorCode code = tly_validate_item_id (item->item_id, &text);
        if (code == TALLY__ERROR_CODE__OK)
            code = s_validate_price (item->price, &text);
        if (code != TALLY__ERROR_CODE__OK) {
            snprintf (reason, reason_size, "item %zu: %s", i + 1, text);
            return -1;
        }
        if (i > 0 && strcmp (config->items [i - 1]->item_id, item->item_id) >= 0) {
            snprintf (reason, reason_size, "item %zu out of order or repeated", i + 1);
            return -1;
        }
    }
    self->version = config->version;
    for (size_t i = 0; i < config->n_admins; i++)
        memcpy (self->admins [i], config->admins [i].data, TLY_KEY_BYTES);
    self->admin_count = config->n_admins;
    s_reserve (self, config->n_items);
    for (size_t i = 0; i < config->n_items; i++) {
        tly_config_item_t *item = &self->items [i];
        snprintf (item->item_id, sizeof item->item_id, "%s", config->items [i]->item_id);
        item->price = config->items [i]->price;
        item->active = config->items [i]->active;
    }
    self->item_count = config->n_items;
    return 0;
}

Tally__CatalogItem **
tly_config_items_to_proto (const tly_config_t *self, tly_arena_t *arena)
{
    size_t count = self->item_count;
    Tally__CatalogItem **items = tly_arena_alloc (arena, (count ? count : 1) * sizeof *items);
    Tally__CatalogItem *each = tly_arena_alloc (arena, (count ? count : 1) * sizeof *each);
    for (size_t i = 0; i < count; i++) {
        tally__catalog_item__init (&each [i]);
        each [i].item_id = tly_arena_strdup (arena, self->items [i].item_id);
        each [i].price = self->items [i].price;
        each [i].active = self->items [i].active;
        items [i] = &each [i];
    }
    return items;
}

Tally__Config *
tly_config_to_proto (const tly_config_t *self, tly_arena_t *arena)
{
    assert (self && arena);
    Tally__Config *config = tly_arena_alloc (arena, sizeof *config);
    tally__config__init (config);
    config->version = self->version;
    config->n_admins = self->admin_count;
    config->admins = tly_arena_alloc (arena, (self->admin_count ? self->admin_count : 1)
                                                 * sizeof *config->admins);
    for (size_t i = 0; i < self->admin_count; i++) {
        uint8_t *key = tly_arena_alloc (arena, TLY_KEY_BYTES);
        memcpy (key, self->admins [i], TLY_KEY_BYTES);
        config->admins [i] = (ProtobufCBinaryData) { TLY_KEY_BYTES, key };
    }
    config->n_items = self->item_count;
    config->items = tly_config_items_to_proto (self, arena);
    return config;
}

bool
tly_config_message (const Tally__InboxMessage *message)
{
    return message->body_case == TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN
           || message->body_case == TALLY__INBOX_MESSAGE__BODY_REMOVE_ADMIN
           || message->body_case == TALLY__INBOX_MESSAGE__BODY_SET_PRICE;
}

static Tally__ErrorCode
s_decide_admin (tly_config_t *self, const uint8_t worker [TLY_KEY_BYTES],
                const uint8_t sender [TLY_KEY_BYTES], const Tally__AdminChange *change, bool add,
                bool *changed, const char **text)
{
    if (memcmp (sender, worker, TLY_KEY_BYTES) != 0) {
        *text = "Only the worker may add or remove an admin";
        return TALLY__ERROR_CODE__PERMISSION_DENIED;
    }
    if (!change || change->account.len != TLY_KEY_BYTES) {
        *text = "account must be a 32-byte account key";
        return TALLY__ERROR_CODE__INVALID_ADMIN;
    }
    if (memcmp (change->account.data, worker, TLY_KEY_BYTES) == 0) {
        *text = "the worker is always an admin";
        return TALLY__ERROR_CODE__INVALID_ADMIN;
    }
    bool found;
    size_t at = s_admin_place (self, change->account.data, &found);
    if (add && !found) {
        if (self->admin_count == TLY_ADMINS_MAX) {
            *text = "the admin group is full (64 admins)";
            return TALLY__ERROR_CODE__CONFIG_LIMIT;
        }
        memmove (self->admins [at + 1], self->admins [at],
                 (self->admin_count - at) * TLY_KEY_BYTES);
        memcpy (self->admins [at], change->account.data, TLY_KEY_BYTES);
        self->admin_count++;
        *changed = true;
    } else if (!add && found) {
        memmove (self->admins [at], self->admins [at + 1],
                 (self->admin_count - at - 1) * TLY_KEY_BYTES);
        self->admin_count--;
        *changed = true;
    }
    return TALLY__ERROR_CODE__OK;
}

static Tally__ErrorCode
s_decide_price (tly_config_t *self, const uint8_t worker [TLY_KEY_BYTES],
                const uint8_t sender [TLY_KEY_BYTES], const Tally__CatalogItem *set, bool *changed,
                const char **text)
{
    if (!tly_config_is_admin (self, worker, sender)) {
        *text = "Only an admin may set a price";
        return TALLY__ERROR_CODE__PERMISSION_DENIED;
    }
    Tally__ErrorCode code = tly_validate_item_id (set->item_id, text);
    if (code == TALLY__ERROR_CODE__OK)
        code = s_validate_price (set->price, text);
    if (code != TALLY__ERROR_CODE__OK)
        return code;
    bool found;
    size_t at = s_item_place (self, set->item_id, &found);
    if (found) {
        tly_config_item_t *item = &self->items [at];
        if (item->price != set->price || item->active != set->active) {
            item->price = set->price;
            item->active = set->active;
            *changed = true;
        }
        return TALLY__ERROR_CODE__OK;
    }
    if (self->item_count == TLY_CATALOG_MAX) {
        *text = "the catalog is full (1024 items)";
        return TALLY__ERROR_CODE__CONFIG_LIMIT;
    }
    s_reserve (self, self->item_count + 1);
    memmove (&self->items [at + 1], &self->items [at],
             (self->item_count - at) * sizeof *self->items);
    tly_config_item_t *item = &self->items [at];
    snprintf (item->item_id, sizeof item->item_id, "%s", set->item_id);
    item->price = set->price;
    item->active = set->active;
    self->item_count++;
    *changed = true;
    return TALLY__ERROR_CODE__OK;
}

Tally__ErrorCode
tly_config_decide (tly_config_t *self, const uint8_t worker [TLY_KEY_BYTES],
                   const uint8_t sender [TLY_KEY_BYTES], const Tally__InboxMessage *message,
                   bool *changed, const char **text)
{
    assert (self && worker && sender && message && changed && text);
    *changed = false;
    *text = NULL;
    Tally__ErrorCode code;
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN)
        code = s_decide_admin (self, worker, sender, message->add_admin, true, changed, text);
    else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_REMOVE_ADMIN)
        code = s_decide_admin (self, worker, sender, message->remove_admin, false, changed, text);
    else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_SET_PRICE)
        code = s_decide_price (self, worker, sender, message->set_price, changed, text);
    else {
        *text = "not a configuration message";
        code = TALLY__ERROR_CODE__BAD_REQUEST;
    }
    return code;
}

Tally__ErrorCode
tly_config_price (const tly_config_t *self, bool open_prices, int64_t amount_max,
                  const Tally__Buy *buy, int64_t *charge, const char **text)
{
    assert (self && buy && charge && text);
    *charge = 0;
    Tally__ErrorCode code = tly_validate_item_id (buy->item_id, text);
    if (code != TALLY__ERROR_CODE__OK)
        return code;
    const tly_config_item_t *item = tly_config_item (self, buy->item_id);
    if (item && !item->active) {
        *text = "Unknown item: not for sale";
        return TALLY__ERROR_CODE__UNKNOWN_ITEM;
    }
    if (item) {
        if (buy->amount != 0 && buy->amount != item->price) {
            *text = "Price mismatch: the amount is not the catalog price";
            return TALLY__ERROR_CODE__PRICE_MISMATCH;
        }
        *charge = item->price;
        return TALLY__ERROR_CODE__OK;
    }
    if (!open_prices) {
        *text = "Unknown item: not in the catalog";
        return TALLY__ERROR_CODE__UNKNOWN_ITEM;
    }
    if (buy->amount == 0) {
        *text = "amount must be given for an item not in the catalog";
        return TALLY__ERROR_CODE__INVALID_AMOUNT;
    }
    code = tly_validate_amount (buy->amount, amount_max, text);
    if (code == TALLY__ERROR_CODE__OK)
        *charge = buy->amount;
    return code;
}
