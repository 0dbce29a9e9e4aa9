//  tly_router_epoch_test - the epoch file and the data directory's lock.
#include "tly_router_epoch.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
tly_router_epoch_test (bool verbose)
{
    if (verbose)
        printf (" * tly_router_epoch: ");
    char dir [] = "/tmp/tly_router_epoch_XXXXXX";
    assert (mkdtemp (dir));
    char error [256];
    uint64_t epoch = 99;

    //  A missing file is epoch 0.
    assert (tly_router_epoch_load (dir, &epoch, error, sizeof error) == 0);
    assert (epoch == 0);

    assert (tly_router_epoch_save (dir, 1) == 0);
    assert (tly_router_epoch_load (dir, &epoch, error, sizeof error) == 0);
    assert (epoch == 1);
    assert (tly_router_epoch_save (dir, UINT64_MAX) == 0);
    assert (tly_router_epoch_load (dir, &epoch, error, sizeof error) == 0);
    assert (epoch == UINT64_MAX);

    //  Anything but one number and a newline is refused, never read as 0.
    char path [PATH_MAX];
    assert (snprintf (path, sizeof path, "%s/%s", dir, TLY_ROUTER_EPOCH_FILE) < (int) sizeof path);
    const char *bad [] = {
        "", "\n", "12", "12\nx", "-1\n", "x\n", " 1\n", "18446744073709551616\n"
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        FILE *file = fopen (path, "w");
        assert (file);
        fputs (bad [index], file);
        fclose (file);
        assert (tly_router_epoch_load (dir, &epoch, error, sizeof error) == -1);
        assert (strstr (error, TLY_ROUTER_EPOCH_FILE));
    }
    //  An unwritable place fails instead of pretending.
    assert (tly_router_epoch_save ("/nonexistent/tly_router_epoch", 2) == -1);

    //  One lock holder at a time; closing releases.
    int lock = tly_router_epoch_lock (dir, error, sizeof error);
    assert (lock >= 0);
    assert (tly_router_epoch_lock (dir, error, sizeof error) == -1);
    assert (strstr (error, "another tally-router"));
    close (lock);
    lock = tly_router_epoch_lock (dir, error, sizeof error);
    assert (lock >= 0);
    close (lock);
    assert (tly_router_epoch_lock ("/nonexistent/tly_router_epoch", error, sizeof error) == -1);

    unlink (path);
    assert (snprintf (path, sizeof path, "%s/%s", dir, TLY_ROUTER_LOCK_FILE) < (int) sizeof path);
    unlink (path);
    assert (rmdir (dir) == 0);
    if (verbose)
        printf ("OK\n");
}
