//  audit_progress - a progress bar on stderr (see audit_progress.h).
#include "audit_progress.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tly_wire.h"

#define S_PROGRESS_WIDTH 30  //  characters of the bar itself

void
audit_progress_start (audit_progress_t *self, const char *label, uint64_t total)
{
    assert (self && label);
    *self = (audit_progress_t) { .enabled = isatty (STDERR_FILENO) == 1,
                                 .label = label,
                                 .total = total,
                                 .start_ms = tly_mono_ms () };
    self->drawn_ms = self->start_ms;
}

void
audit_progress_update (audit_progress_t *self, uint64_t done)
{
    if (!self || !self->enabled)
        return;
    int64_t now = tly_mono_ms ();
    if (now - self->drawn_ms < AUDIT_PROGRESS_MS)
        return;
    self->drawn_ms = now;
    double seconds = (double) (now - self->start_ms) / 1000.0;
    double rate = seconds > 0 ? (double) done / seconds : 0;
    if (self->total > 0) {
        uint64_t shown = done < self->total ? done : self->total;
        int filled = (int) (shown * S_PROGRESS_WIDTH / self->total);
        char bar [S_PROGRESS_WIDTH + 1];
        memset (bar, '#', (size_t) filled);
        memset (bar + filled, '.', (size_t) (S_PROGRESS_WIDTH - filled));
        bar [S_PROGRESS_WIDTH] = 0;
        fprintf (stderr, "\r%s [%s] %3d%% %lu/%lu records, %.0f/s ", self->label, bar,
                 (int) (shown * 100 / self->total), (unsigned long) done,
                 (unsigned long) self->total, rate);
    } else
        fprintf (stderr, "\r%s %lu records, %.0f/s ", self->label, (unsigned long) done, rate);
    fflush (stderr);
}

void
audit_progress_end (audit_progress_t *self)
{
    if (!self || !self->enabled)
        return;
    //  Erases the line the bar was drawn on (only if one was drawn).
    if (self->drawn_ms != self->start_ms)
        fputs ("\r\033[K", stderr);
    self->enabled = false;
}

double
audit_seconds (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}
