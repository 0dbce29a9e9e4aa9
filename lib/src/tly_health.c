//  tly_health - the health file a server's loop rewrites, and its reader.
#include "tly_health.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "tly_log.h"
#include "tly_wire.h"

struct _tly_health_t {
    char path [TLY_HEALTH_PATH_MAX];
    char temp [TLY_HEALTH_PATH_MAX + 8];  //  path + ".tmp"
    tly_health_state_t state;             //  as last written
    int64_t written_ms;                   //  tly_mono_ms of the last write
    bool failing;                         //  the last write failed (and was logged)
};

static const char *s_names [] = { "starting", "ready", "stopping" };

const char *
tly_health_state_name (tly_health_state_t state)
{
    assert (state >= TLY_HEALTH_STARTING && state <= TLY_HEALTH_STOPPING);
    return s_names [state];
}

static int64_t
s_unix_ms (void)
{
    struct timeval now;
    gettimeofday (&now, NULL);
    return (int64_t) now.tv_sec * 1000 + now.tv_usec / 1000;
}

//  Writes the line to the temporary file and renames it over the path; no
//  fsync: the file describes this boot's process and lives in /tmp.
static int
s_write (tly_health_t *self, tly_health_state_t state, char *error, size_t error_size)
{
    int64_t now = tly_mono_ms ();
    char line [TLY_HEALTH_LINE_MAX];
    int size = snprintf (line, sizeof line,
                         "state=%s mono_ms=%" PRId64 " unix_ms=%" PRId64 " pid=%ld\n",
                         tly_health_state_name (state), now, s_unix_ms (), (long) getpid ());
    assert (size > 0 && size < (int) sizeof line);
    int fd = open (self->temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1) {
        snprintf (error, error_size, "cannot write %s: %s", self->temp, strerror (errno));
        return -1;
    }
    ssize_t wrote = write (fd, line, (size_t) size);
    int saved = errno;
    if (close (fd) == -1 && wrote == size) {
        wrote = -1;
        saved = errno;
    }
    if (wrote != size) {
        snprintf (error, error_size, "cannot write %s: %s", self->temp,
                  wrote < 0 ? strerror (saved) : "short write");
        unlink (self->temp);
        return -1;
    }
    if (rename (self->temp, self->path) == -1) {
        snprintf (error, error_size, "cannot rename %s to %s: %s", self->temp, self->path,
                  strerror (errno));
        unlink (self->temp);
        return -1;
    }
    self->state = state;
    self->written_ms = now;
    return 0;
}

tly_health_t *
tly_health_new (const char *path, char *error, size_t error_size)
{
    assert (path && error && error_size > 0);
    size_t length = strlen (path);
    if (length == 0 || length >= TLY_HEALTH_PATH_MAX) {
        snprintf (error, error_size, "--health-file must be 1..%d bytes, got %zu",
                  TLY_HEALTH_PATH_MAX - 1, length);
        return NULL;
    }
    tly_health_t *self = calloc (1, sizeof *self);
    assert (self);
    memcpy (self->path, path, length + 1);
    snprintf (self->temp, sizeof self->temp, "%s.tmp", path);
    if (s_write (self, TLY_HEALTH_STARTING, error, error_size) == -1) {
        free (self);
        return NULL;
    }
    return self;
}

void
tly_health_destroy (tly_health_t **self_p)
{
    assert (self_p);
    tly_health_t *self = *self_p;
    if (!self)
        return;
    if (unlink (self->path) == -1 && errno != ENOENT)
        tly_log (TLY_WARN, "health.remove_failed", "path=%s error=\"%s\"", self->path,
                 strerror (errno));
    free (self);
    *self_p = NULL;
}

int
tly_health_beat (tly_health_t *self, tly_health_state_t state)
{
    if (!self)
        return 0;
    assert (state >= TLY_HEALTH_STARTING && state <= TLY_HEALTH_STOPPING);
    if (state == self->state && tly_mono_ms () - self->written_ms < TLY_HEALTH_REFRESH_MS)
        return 0;
    char error [TLY_HEALTH_PATH_MAX * 2 + 64];
    if (s_write (self, state, error, sizeof error) == -1) {
        //  Retried at the next beat; said once, not once a loop turn.
        if (!self->failing)
            tly_log (TLY_WARN, "health.write_failed", "error=\"%s\"", error);
        self->failing = true;
        return -1;
    }
    if (self->failing)
        tly_log (TLY_INFO, "health.written", "path=%s state=%s", self->path,
                 tly_health_state_name (state));
    self->failing = false;
    return 0;
}

long
tly_health_poll_ms (tly_health_t *self, long timeout_ms)
{
    assert (timeout_ms >= -1);
    if (!self)
        return timeout_ms;
    int64_t due = self->written_ms + TLY_HEALTH_REFRESH_MS - tly_mono_ms ();
    if (due < 0)
        due = 0;
    return timeout_ms == -1 || due < timeout_ms ? (long) due : timeout_ms;
}

//  Parses "state=NAME mono_ms=N ..." into state and mono_ms. Returns 0 or -1.
static int
s_parse (const char *line, tly_health_state_t *state, int64_t *mono_ms)
{
    char name [16];
    long long mono;
    if (sscanf (line, "state=%15s mono_ms=%lld ", name, &mono) != 2 || mono < 0)
        return -1;
    for (int i = TLY_HEALTH_STARTING; i <= TLY_HEALTH_STOPPING; i++)
        if (strcmp (name, s_names [i]) == 0) {
            *state = (tly_health_state_t) i;
            *mono_ms = mono;
            return 0;
        }
    return -1;
}

tly_health_check_t
tly_health_check (const char *path, int64_t max_age_ms, int64_t now_ms, char *reason,
                  size_t reason_size)
{
    assert (path && reason && reason_size > 0);
    assert (max_age_ms >= 0);
    FILE *file = fopen (path, "re");
    if (!file) {
        snprintf (reason, reason_size,
                  "cannot read %s: %s (is the server running with"
                  " --health-file %s?)",
                  path, strerror (errno), path);
        return TLY_HEALTH_UNREADABLE;
    }
    char line [TLY_HEALTH_LINE_MAX];
    bool got = fgets (line, sizeof line, file) != NULL;
    fclose (file);
    tly_health_state_t state;
    int64_t mono_ms;
    if (!got || s_parse (line, &state, &mono_ms) == -1) {
        snprintf (reason, reason_size,
                  "%s is not a health file (expected \"state=... mono_ms=...\")", path);
        return TLY_HEALTH_UNREADABLE;
    }
    int64_t age = now_ms - mono_ms;
    if (age > max_age_ms || age < -TLY_HEALTH_SKEW_MS) {
        //  From the future: written before this host's monotonic clock began (a reboot).
        snprintf (reason, reason_size,
                  "stale: %s was written %" PRId64 " ms ago (limit %" PRId64
                  " ms): the server's loop is stuck or the server is gone",
                  path, age, max_age_ms);
        return TLY_HEALTH_STALE;
    }
    snprintf (reason, reason_size, "%s (written %" PRId64 " ms ago)", tly_health_state_name (state),
              age < 0 ? 0 : age);
    return state == TLY_HEALTH_READY ? TLY_HEALTH_OK : TLY_HEALTH_NOT_READY;
}
