//  tly_partition - the partition of an account, from a hash of its ID text.
#include "tly_partition.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

#include "tly_account.h"

uint32_t
tly_partition_of_id (const char *account_id, uint32_t partition_count)
{
    assert (account_id);
    assert (partition_count > 0 && partition_count <= TLY_PARTITIONS_MAX);
    uint8_t hash [TLY_HASH_BYTES];
    crypto_generichash (hash, sizeof hash, (const unsigned char *) account_id, strlen (account_id),
                        NULL, 0);
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = (value << 8) | hash [i];
    return (uint32_t) (value % partition_count);
}

uint32_t
tly_partition_of (const uint8_t sign_pk [TLY_KEY_BYTES], uint32_t partition_count)
{
    char id [TLY_ID_MAX];
    tly_account_id (sign_pk, id);
    return tly_partition_of_id (id, partition_count);
}
