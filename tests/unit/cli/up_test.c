//  up_test - `tally up`'s helpers: the restart budget of a child, how an
//  exit status reads, and where a server binary is found.
#include <assert.h>
#include <czmq.h>
#include <stdio.h>
#include <string.h>

#include "up.h"

static void
s_test_up_helpers (void)
{
    up_child_t *child = up_child_new ("balance-1", "/bin/true", (const char *[]) { "x", NULL },
                                      (char *[]) { NULL }, "/dev/null");
    for (int i = 0; i < UP_RESTARTS_MAX; i++)
        assert (up_child_may_restart (child, 1000 + i));
    assert (!up_child_may_restart (child, 1000 + UP_RESTART_WINDOW_MS - 1));
    assert (up_child_may_restart (child, 1000 + UP_RESTART_WINDOW_MS));
    assert (!up_child_may_restart (child, 1000 + UP_RESTART_WINDOW_MS));
    assert (up_child_may_restart (child, 1001 + UP_RESTART_WINDOW_MS));
    up_child_destroy (&child);
    up_child_destroy (&child);

    char how [96];
    up_describe_status (1 << 8, how, sizeof how);
    assert (streq (how, "exited with status 1"));
    up_describe_status (9, how, sizeof how);
    assert (strncmp (how, "killed by signal 9", 18) == 0);

    char path [64], error [256];
    assert (up_find_binary ("sh", "nowhere", "/bin", path, sizeof path, error, sizeof error) == 0);
    assert (streq (path, "/bin/sh"));
    assert (
        up_find_binary ("tally-nothing", "nowhere", "/bin", path, sizeof path, error, sizeof error)
        == -1);
    assert (streq (error, "/bin"));
}

void
up_test (bool verbose)
{
    if (verbose)
        printf (" * up: ");
    s_test_up_helpers ();
    if (verbose)
        printf ("OK\n");
}
