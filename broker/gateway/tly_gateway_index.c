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
    return *(const uint64_t *) left == *(const uint64_t *) right? 0: 1;
}

//  --------------------------------------------------------------------------
//  Self-test

typedef struct {
    uint64_t key;
    tly_gateway_link_t in_list;
} s_record_t;

void
tly_gateway_index_test (bool verbose)
{
    if (verbose)
        printf (" * tly_gateway_index: ");
    tly_gateway_link_t list;
    tly_gateway_link_init (&list);
    assert (!tly_gateway_link_linked (&list));
    s_record_t records [3] = { { .key = 10 }, { .key = 20 }, { .key = 30 } };
    for (size_t at = 0; at < 3; at++) {
        tly_gateway_link_init (&records [at].in_list);
        tly_gateway_link_before (&list, &records [at].in_list);
    }
    //  In insertion order; a record leaves from the middle in O(1).
    assert (TLY_GATEWAY_ENTRY (list.next, s_record_t, in_list) == &records [0]);
    tly_gateway_link_remove (&records [1].in_list);
    assert (!tly_gateway_link_linked (&records [1].in_list));
    tly_gateway_link_remove (&records [1].in_list);
    assert (list.next->next == &records [2].in_list && list.prev == &records [2].in_list);
    //  Inserting before a record puts it in front of that record.
    tly_gateway_link_before (&records [0].in_list, &records [1].in_list);
    assert (list.next == &records [1].in_list && records [1].in_list.next == &records [0].in_list);
    for (size_t at = 0; at < 3; at++)
        tly_gateway_link_remove (&records [at].in_list);
    assert (!tly_gateway_link_linked (&list));

    //  Keys stay in the records: the table finds them by value.
    zhashx_t *index = tly_gateway_index_new (tly_gateway_index_hash_u64,
                                             tly_gateway_index_compare_u64);
    assert (index);
    for (size_t at = 0; at < 3; at++)
        assert (zhashx_insert (index, &records [at].key, &records [at]) == 0);
    uint64_t probe = 20;
    assert (zhashx_lookup (index, &probe) == &records [1]);
    assert (zhashx_insert (index, &probe, &records [0]) == -1);
    zhashx_delete (index, &probe);
    assert (zhashx_lookup (index, &probe) == NULL && zhashx_size (index) == 2);
    zhashx_destroy (&index);
    assert (tly_gateway_index_hash_bytes ((const uint8_t *) "a", 1)
            != tly_gateway_index_hash_bytes ((const uint8_t *) "b", 1));
    if (verbose)
        printf ("OK\n");
}
