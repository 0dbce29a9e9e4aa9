//  tly_config - the service's configuration (the admin group and the price
//  catalog) and the decisions made with it: one configuration message
//  applied to it, one buy priced by it. The balance actor decides with
//  these functions, and `tally audit verify` derives every record with the
//  same ones, so both reach the same answer from the journal
//  (docs/protocol.md, "Admins and the catalog").
//
//  A configuration is a version, the admins (at most TLY_ADMINS_MAX keys,
//  ascending, never the worker) and the items (at most TLY_CATALOG_MAX,
//  ascending by item ID bytes). Version 0 is the first: no admins but the
//  worker, no items. Each journal record (one envelope) that changes
//  something adds one, however many of its messages did: the caller counts
//  (tly_config_set_version), so that the Catalog object's versions go 1, 2,
//  3, ... with the records.
//
//      tly_config_t *config = tly_config_new ();
//      const char *text;
//      bool changed;
//      Tally__ErrorCode code = tly_config_decide (config, worker, sender, message,
//                                                 &changed, &text);
//      ...
//      int64_t charge;
//      code = tly_config_price (config, open_prices, amount_max, buy, &charge, &text);
//      tly_config_destroy (&config);
#ifndef TLY_CONFIG_H_INCLUDED
#define TLY_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_arena.h"
#include "tly_limits.h"

typedef struct _tly_config_t tly_config_t;

typedef struct {
    char item_id [TLY_ITEM_ID_MAX + 1];
    int64_t price;
    bool active;
} tly_config_item_t;

//  Version 0: no admins, no items.
tly_config_t *tly_config_new (void);
void tly_config_destroy (tly_config_t **self_p);
//  Makes self a copy of other.
void tly_config_copy (tly_config_t *self, const tly_config_t *other);
//  Back to version 0.
void tly_config_reset (tly_config_t *self);

uint64_t tly_config_version (const tly_config_t *self);
void tly_config_set_version (tly_config_t *self, uint64_t version);
size_t tly_config_admin_count (const tly_config_t *self);
const uint8_t *tly_config_admin (const tly_config_t *self, size_t index);
size_t tly_config_item_count (const tly_config_t *self);
const tly_config_item_t *tly_config_item_at (const tly_config_t *self, size_t index);
//  The item with that ID, or NULL.
const tly_config_item_t *tly_config_item (const tly_config_t *self, const char *item_id);
//  Whether key may act as an admin: the worker's or an admin's.
bool tly_config_is_admin (const tly_config_t *self, const uint8_t worker [TLY_KEY_BYTES],
                          const uint8_t key [TLY_KEY_BYTES]);
//  Whether two configurations say the same (version included).
bool tly_config_equal (const tly_config_t *self, const tly_config_t *other);

//  Reads a Config as journaled or sent: 0, or -1 with why in reason when it
//  breaks a rule above (a key of another size, an item that fails the
//  message checks, out of order, a repeat, over a limit, the worker an
//  admin when worker is not NULL). self is unchanged on -1.
int tly_config_from_proto (tly_config_t *self, const Tally__Config *config, const uint8_t *worker,
                           char *reason, size_t reason_size);
//  The Config of self, in arena.
Tally__Config *tly_config_to_proto (const tly_config_t *self, tly_arena_t *arena);
//  Its items as CatalogItems, in arena (for the Catalog object).
Tally__CatalogItem **tly_config_items_to_proto (const tly_config_t *self, tly_arena_t *arena);

//  Whether message is a configuration message (addAdmin, removeAdmin,
//  setPrice): those go to partition 0.
bool tly_config_message (const Tally__InboxMessage *message);

//  Decides a configuration message of sender against self: OK with *changed
//  when it changed self (its version untouched: the caller's to count), or
//  the error and its text (self unchanged): PERMISSION_DENIED,
//  INVALID_ADMIN, INVALID_ITEM, INVALID_PRICE, CONFIG_LIMIT, BAD_REQUEST
//  for any other message.
Tally__ErrorCode tly_config_decide (tly_config_t *self, const uint8_t worker [TLY_KEY_BYTES],
                                    const uint8_t sender [TLY_KEY_BYTES],
                                    const Tally__InboxMessage *message, bool *changed,
                                    const char **text);

//  Prices a buy (docs/protocol.md's table): OK with what to charge, or
//  INVALID_ITEM, UNKNOWN_ITEM, PRICE_MISMATCH, INVALID_AMOUNT with the text.
//  open_prices lets an item not in the catalog be bought at the amount it
//  names (1..amount_max).
Tally__ErrorCode tly_config_price (const tly_config_t *self, bool open_prices, int64_t amount_max,
                                   const Tally__Buy *buy, int64_t *charge, const char **text);

#endif
