//  tly_partition_test - partitions are stable, in range and spread.
#include "tly_partition.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include "tly_account.h"

void
tly_partition_test (bool verbose)
{
    if (verbose)
        printf (" * tly_partition: ");
    assert (sodium_init () >= 0);

    //  Partitions are stable, in range and spread.
    unsigned counts [16] = { 0 };
    for (int round = 0; round < 1600; round++) {
        tly_account_t user;
        tly_account_generate (&user);
        uint32_t partition = tly_partition_of (user.sign_pk, 16);
        assert (partition < 16);
        assert (partition == tly_partition_of (user.sign_pk, 16));
        char user_id [TLY_ID_MAX];
        tly_account_id (user.sign_pk, user_id);
        assert (partition == tly_partition_of_id (user_id, 16));
        counts [partition]++;
    }
    for (int i = 0; i < 16; i++)
        assert (counts [i] > 50);
    if (verbose)
        printf ("OK\n");
}
