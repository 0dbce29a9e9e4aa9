//  tly_gateway_index - what the subscription registry is built from:
//
//    lists    intrusive, doubly linked and circular, with a sentinel link in
//             the owner. A record holds one link per list it can be in, so it
//             sits in several ordered lists at once and leaves any in O(1).
//    indexes  zhashx tables whose keys point into the records they index:
//             the table neither copies nor frees a key.
#ifndef TLY_GATEWAY_INDEX_H_INCLUDED
#define TLY_GATEWAY_INDEX_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _tly_gateway_link_t tly_gateway_link_t;

struct _tly_gateway_link_t {
    tly_gateway_link_t *prev;
    tly_gateway_link_t *next;
};

//  The record of type `type` whose field `member` is link.
#define TLY_GATEWAY_ENTRY(link, type, member) ((type *) ((char *) (link) -offsetof (type, member)))

//  An empty list (for a sentinel) or an unlinked link (for a record).
void tly_gateway_link_init (tly_gateway_link_t *link);
//  For a sentinel: the list is not empty; for a record: it is in a list.
bool tly_gateway_link_linked (const tly_gateway_link_t *link);
//  Inserts the unlinked link before `at` (at the back when `at` is a sentinel).
void tly_gateway_link_before (tly_gateway_link_t *at, tly_gateway_link_t *link);
//  Takes link out of its list (a no-op when it is in none).
void tly_gateway_link_remove (tly_gateway_link_t *link);

//  A table whose keys live in the records (never copied nor freed).
//  Returns NULL on allocation failure.
zhashx_t *tly_gateway_index_new (zhashx_hash_fn *hasher, zhashx_comparator_fn *comparator);
//  FNV-1a of bytes: keys are small and not chosen by an attacker who can see the table.
size_t tly_gateway_index_hash_bytes (const uint8_t *bytes, size_t size);
//  Hasher and comparator for keys that are uint64_t.
size_t tly_gateway_index_hash_u64 (const void *key);
int tly_gateway_index_compare_u64 (const void *left, const void *right);

#endif
