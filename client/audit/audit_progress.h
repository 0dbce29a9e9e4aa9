//  audit_progress - a progress bar on stderr for the `tally audit` tools,
//  drawn only when stderr is a terminal.
//
//      audit_progress_t progress;
//      audit_progress_start (&progress, "verify", head.seq);
//      audit_progress_update (&progress, records);     //  per record: cheap
//      audit_progress_end (&progress);                 //  clears the bar
#ifndef AUDIT_PROGRESS_H_INCLUDED
#define AUDIT_PROGRESS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#define AUDIT_PROGRESS_MS 100  //  a progress bar redraws at most 10 times a second

typedef struct {
    bool enabled;
    const char *label;
    uint64_t total;  //  records expected (0: unknown)
    int64_t start_ms;
    int64_t drawn_ms;
} audit_progress_t;

void audit_progress_start (audit_progress_t *self, const char *label, uint64_t total);
//  Cheap when no redraw is due. self may be NULL.
void audit_progress_update (audit_progress_t *self, uint64_t done);
//  Clears the bar. self may be NULL.
void audit_progress_end (audit_progress_t *self);

//  A monotonic clock in seconds, to the nanosecond: the timings the tools
//  print (replay and bench-replay rates).
double audit_seconds (void);

#endif
