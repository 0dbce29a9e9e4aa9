//  tly_objects - the objects a balance actor serves on the read path.
//
//  Builds the ObjectState of a UserBalance, UserPrivateRoot, PurchaseLog,
//  PurchaseRecord or ServiceInfo, with its owner group, either from what the
//  ledger holds (a snapshot) or from one committed event (an update), and
//  decides who may read it: the group's owner, any member with a role, or
//  anyone when `everyone` (an empty account) is a member; the worker reads
//  everything.
//
//  Groups follow from the object's user and the worker alone (so a rebuilt
//  state has exactly the same ones); each is owned by the worker:
//    UserBalance            kind 4, the user's partition, "balance-group" || user: user reader
//    UserPrivateRoot        kind 4, the user's partition, "root-group" || user:    user writer
//    PurchaseLog, -Record   the user's purchases group, tly_user_object_id
//                           (TLY_OBJ_GROUP) ("group" || user):                     user reader
//    ServiceInfo            kind 4, partition 0, "service-group" || worker:        everyone reader
//    Order, OrderList       the user's order group, tly_order_group_key:           user writer
//    OrderQueue             kind 4, the partition, "order-queue" || worker:        no members
//
//      tly_ledger_read_begin (ledger);
//      code = tly_objects_snapshot (objects, id, partition, reader, arena, &state, &reason);
//      tly_ledger_read_end (ledger);
#ifndef TLY_OBJECTS_H_INCLUDED
#define TLY_OBJECTS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_arena.h"
#include "tly_object_id.h"
#include "tly_ledger.h"
#include "tly_store.h"

//  Records in a PurchaseLog snapshot: the latest ones.
#define TLY_OBJECTS_LOG_WINDOW 100
//  Objects events change: a user's root, balance, purchase log and OrderList.
#define TLY_OBJECTS_REFS       4
_Static_assert(TLY_KEEP_PURCHASES_MIN >= TLY_OBJECTS_LOG_WINDOW,
               "the state keeps every record a PurchaseLog snapshot shows");

//  One object events change: its kind and its 19 ID bytes (the bus topic).
typedef struct {
    tly_object_kind_t kind;
    uint8_t key [TLY_STORE_OBJECT_BYTES];
} tly_object_ref_t;

typedef struct _tly_objects_t tly_objects_t;

//  worker is the account that owns every group. The ledger stays the caller's.
tly_objects_t *tly_objects_new (tly_ledger_t *ledger, const uint8_t worker [TLY_KEY_BYTES]);
void tly_objects_destroy (tly_objects_t **self_p);

//  The error message of a read of a purchase record the state no longer
//  keeps (tly_ledger.h, "Retention").
#define TLY_OBJECTS_DROPPED_REASON                                                  \
    "Purchase record no longer kept live: older than the latest ones kept per user" \
    " (--keep-purchases); it is in the journal (tally audit export)"

//  Builds the current state of object_id for reader, as the ledger reads it
//  (bracket with tly_ledger_read_begin/end for the committed state).
//  partition is the one the request was routed by. Returns OK with
//  *state_p (in arena), NOT_FOUND (no such object in that partition, or a
//  purchase record the state no longer keeps: then *reason_p is
//  TLY_OBJECTS_DROPPED_REASON), PERMISSION_DENIED (reader may not read it)
//  or INTERNAL (storage failed). *reason_p is NULL where the code's
//  default message says it all.
Tally__ErrorCode tly_objects_snapshot (tly_objects_t *self, const char *object_id,
                                       uint32_t partition, const uint8_t reader [TLY_KEY_BYTES],
                                       tly_arena_t *arena, Tally__ObjectState **state_p,
                                       const char **reason_p);
//  The user's objects that events change, in publication order: root,
//  balance, purchase log, OrderList (the user's partition given).
void tly_objects_refs (const uint8_t user [TLY_KEY_BYTES], uint32_t partition,
                       tly_object_ref_t refs [TLY_OBJECTS_REFS]);
//  Whether event changes ref's object: AccountCreated all four,
//  PurchaseRecorded and BalanceAdjusted the balance and the purchase log,
//  OrderChanged the OrderList, the balance when the hold or the balance
//  changed (submitted, completed, failed) and the purchase log when
//  completed.
bool tly_objects_changes (const Tally__Event *event, const tly_object_ref_t *ref);
//  The state of ref right after event, which brought the user's objects to
//  versions (tly_batch_versions). An update of a PurchaseLog holds only the
//  event's records. Built from the event and versions alone: nothing is
//  read.
Tally__ObjectState *tly_objects_update (tly_objects_t *self, const tly_object_ref_t *ref,
                                        const Tally__Event *event,
                                        const tly_ledger_versions_t *versions, tly_arena_t *arena);
//  An OrderChanged's Order as it now is, and the partition's OrderQueue as
//  versions has it (NULL when the event left it), in arena.
Tally__ObjectState *tly_objects_order (tly_objects_t *self, const Tally__OrderChanged *changed,
                                       tly_arena_t *arena);
Tally__ObjectState *tly_objects_queue (tly_objects_t *self, uint32_t partition,
                                       const tly_ledger_versions_t *versions, tly_arena_t *arena);
//  Whether reader may read an object of group.
bool tly_objects_may_read (tly_objects_t *self, const Tally__Group *group,
                           const uint8_t reader [TLY_KEY_BYTES]);
//  The Catalog object's ID (partition 0; docs/protocol.md "Admins and the
//  catalog").
const char *tly_objects_catalog_id (tly_objects_t *self);
//  Its raw key: its bus topic.
const uint8_t *tly_objects_catalog_key (tly_objects_t *self);
//  The Catalog object of configuration version's items (version + 1: one
//  more with each record that changed the configuration), in arena.
Tally__ObjectState *tly_objects_catalog (tly_objects_t *self, uint64_t version,
                                         Tally__CatalogItem **items, size_t n_items,
                                         tly_arena_t *arena);

#endif
