//  tly_gateway_index - intrusive lists and record-keyed hash indexes. See
//  tly_gateway_index.h.
#include "tly_gateway_index.h"

#include <assert.h>

void
tly_gateway_link_init (tly_gateway_link_t *link)
{
    assert (link);
    link->prev = link;
    link->next = link;
}

bool
tly_gateway_link_linked (const tly_gateway_link_t *link)
{
    assert (link);
    return link->next != link;
}

void
tly_gateway_link_before (tly_gateway_link_t *at, tly_gateway_link_t *link)
{
    assert (at && link);
    assert (!tly_gateway_link_linked (link));
    link->prev = at->prev;
    link->next = at;
    at->prev->next = link;
    at->prev = link;
}

void
tly_gateway_link_remove (tly_gateway_link_t *link)
{
    assert (link);
    link->prev->next = link->next;
    link->next->prev = link->prev;
    tly_gateway_link_init (link);
}

zhashx_t *
tly_gateway_index_new (zhashx_hash_fn *hasher, zhashx_comparator_fn *comparator)
{
    assert (hasher && comparator);
    zhashx_t *index = zhashx_new ();
    if (!index)
        return NULL;
    zhashx_set_key_duplicator (index, NULL);
    zhashx_set_key_destructor (index, NULL);
    zhashx_set_key_hasher (index, hasher);
    zhashx_set_key_comparator (index, comparator);
    return index;
}

size_t
tly_gateway_index_hash_bytes (const uint8_t *bytes, size_t size)
{
    assert (bytes || size == 0);
    uint64_t hash = 14695981039346656037ULL;
    for (size_t index = 0; index < size; index++)
        hash = (hash ^ bytes [index]) * 1099511628211ULL;
    return (size_t) hash;
}

size_t
tly_gateway_index_hash_u64 (const void *key)
{
    return (size_t) (*(const uint64_t *) key * 0x9E3779B97F4A7C15ULL);
}

int
tly_gateway_index_compare_u64 (const void *left, const void *right)
{
    return *(const uint64_t *) left == *(const uint64_t *) right ? 0 : 1;
}
