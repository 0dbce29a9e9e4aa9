//  tly_health_test - the health file: written at once, rewritten when the
//  state changes or a refresh is due, read back, judged stale, removed.
#include "tly_health.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tly_wire.h"

//  Writes line to path as a server would have.
static void
s_write (const char *path, const char *line)
{
    FILE *file = fopen (path, "w");
    assert (file);
    fputs (line, file);
    fclose (file);
}

void
tly_health_test (bool verbose)
{
    if (verbose)
        printf (" * tly_health: ");
    char dir [256], path [512], reason [1024], error [256];
    th_dir_new (dir, sizeof dir, "tly-health");
    snprintf (path, sizeof path, "%s/health", dir);

    //  No file yet: unreadable, and the reason names the path.
    int64_t now = tly_mono_ms ();
    assert (tly_health_check (path, 5000, now, reason, sizeof reason) == TLY_HEALTH_UNREADABLE);
    assert (strstr (reason, path));

    //  A new health says starting at once; a beat makes it ready at once.
    tly_health_t *health = tly_health_new (path, error, sizeof error);
    assert (health);
    assert (tly_health_check (path, 5000, tly_mono_ms (), reason, sizeof reason)
            == TLY_HEALTH_NOT_READY);
    assert (strncmp (reason, "starting", 8) == 0);
    assert (tly_health_beat (health, TLY_HEALTH_READY) == 0);
    assert (tly_health_check (path, 5000, tly_mono_ms (), reason, sizeof reason) == TLY_HEALTH_OK);
    assert (strncmp (reason, "ready", 5) == 0);

    //  The same state is not rewritten before the refresh is due; the poll
    //  timeout is cut down to the time left until then.
    FILE *file = fopen (path, "r");
    char first [TLY_HEALTH_LINE_MAX], second [TLY_HEALTH_LINE_MAX];
    assert (file && fgets (first, sizeof first, file));
    fclose (file);
    assert (strncmp (first, "state=ready mono_ms=", 20) == 0);
    assert (tly_health_beat (health, TLY_HEALTH_READY) == 0);
    long wait = tly_health_poll_ms (health, -1);
    assert (wait >= 0 && wait <= TLY_HEALTH_REFRESH_MS);
    assert (tly_health_poll_ms (health, 0) == 0);
    assert (tly_health_poll_ms (health, 10 * TLY_HEALTH_REFRESH_MS) <= TLY_HEALTH_REFRESH_MS);
    file = fopen (path, "r");
    assert (file && fgets (second, sizeof second, file));
    fclose (file);
    assert (strcmp (first, second) == 0);

    //  Once due, the same state is written again with a newer time.
    usleep ((useconds_t) (wait + 20) * 1000);
    assert (tly_health_poll_ms (health, -1) == 0);
    assert (tly_health_beat (health, TLY_HEALTH_READY) == 0);
    file = fopen (path, "r");
    assert (file && fgets (second, sizeof second, file));
    fclose (file);
    assert (strcmp (first, second) != 0);

    //  A stop request shows at once; the temporary file never stays behind.
    assert (tly_health_beat (health, TLY_HEALTH_STOPPING) == 0);
    assert (tly_health_check (path, 5000, tly_mono_ms (), reason, sizeof reason)
            == TLY_HEALTH_NOT_READY);
    assert (strncmp (reason, "stopping", 8) == 0);
    char temp [600];
    snprintf (temp, sizeof temp, "%s.tmp", path);
    assert (access (temp, F_OK) == -1);

    //  Judged by age against now: at the limit fresh, past it stale; a
    //  little in the future fresh, far in the future (another boot) stale.
    s_write (path, "state=ready mono_ms=100000 unix_ms=1 pid=7\n");
    assert (tly_health_check (path, 5000, 105000, reason, sizeof reason) == TLY_HEALTH_OK);
    assert (tly_health_check (path, 5000, 105001, reason, sizeof reason) == TLY_HEALTH_STALE);
    assert (strstr (reason, "stale") && strstr (reason, "5001 ms"));
    assert (tly_health_check (path, 5000, 100000 - TLY_HEALTH_SKEW_MS, reason, sizeof reason)
            == TLY_HEALTH_OK);
    assert (tly_health_check (path, 5000, 100000 - TLY_HEALTH_SKEW_MS - 1, reason, sizeof reason)
            == TLY_HEALTH_STALE);

    //  What is not a health file is unreadable, whatever its age.
    const char *bad [] = { "",
                           "ready\n",
                           "state=ready\n",
                           "state=done mono_ms=100000\n",
                           "state=ready mono_ms=-5\n",
                           "mono_ms=100000 state=ready\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        s_write (path, bad [i]);
        assert (tly_health_check (path, 5000, 100000, reason, sizeof reason)
                == TLY_HEALTH_UNREADABLE);
        assert (strstr (reason, "not a health file"));
    }

    //  Destroy removes the file (the server is gone, not stale) and is
    //  idempotent; NULL stands for a server without --health-file.
    tly_health_destroy (&health);
    assert (health == NULL);
    tly_health_destroy (&health);
    assert (access (path, F_OK) == -1);
    assert (tly_health_beat (NULL, TLY_HEALTH_READY) == 0);
    assert (tly_health_poll_ms (NULL, -1) == -1 && tly_health_poll_ms (NULL, 250) == 250);

    //  A file that cannot be written: NULL and one line naming it.
    char missing [600];
    snprintf (missing, sizeof missing, "%s/no-such-dir/health", dir);
    assert (tly_health_new (missing, error, sizeof error) == NULL);
    assert (strstr (error, "no-such-dir") && !strchr (error, '\n'));
    assert (tly_health_new ("", error, sizeof error) == NULL);
    assert (strcmp (tly_health_state_name (TLY_HEALTH_READY), "ready") == 0);

    th_dir_remove (dir);
    if (verbose)
        printf ("OK\n");
}
