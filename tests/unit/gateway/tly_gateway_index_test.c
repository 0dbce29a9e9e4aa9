//  tly_gateway_index_test - the intrusive lists and the hash indexes.
#include "tly_gateway_index.h"

#include <assert.h>
#include <stdio.h>

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
