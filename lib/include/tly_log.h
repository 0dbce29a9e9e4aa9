//  tly_log - structured logging: one line per event, key=value, to stderr.
//  tly_log (TLY_INFO, "actor.start", "name=%s partitions=%u", name, n);
//  prints: ts=2026-11-27T07:00:00.123Z level=info proc=tally-balance event=actor.start name=...
#ifndef TLY_LOG_H_INCLUDED
#define TLY_LOG_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    TLY_DEBUG = 0,
    TLY_INFO = 1,
    TLY_WARN = 2,
    TLY_ERROR = 3
} tly_level_t;

//  Sets the process name shown in every line and the minimum level.
void tly_log_init (const char *process, tly_level_t level);
//  Parses "debug", "info", "warn", "error". Returns 0 or -1.
int tly_log_parse_level (const char *text, tly_level_t *level);
//  Parses a --log-level value; on failure prints "<process>: --log-level must
//  be debug, info, warn or error, got '<text>'" to stderr. Returns 0 or -1.
int tly_log_level_flag (const char *process, const char *text, tly_level_t *level);
void tly_log (tly_level_t level, const char *event, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

//  A budget of lines per window for an event that strangers can cause (a
//  rejected frame, a refused subscribe), so that they cannot grow the log
//  without bound: at most `burst` lines per `window_ms`; the lines over it
//  are counted, and the first line of a later window is preceded by one
//  `log.suppressed event=E lines=N` line. Zero-initialise the counters.
typedef struct {
    uint32_t burst;
    int64_t window_ms;
    int64_t window_start_ms;
    uint32_t lines;       //  logged in the current window
    uint64_t suppressed;  //  counted instead, in the current window
} tly_log_limit_t;

#define TLY_LOG_LIMIT(burst, window_ms) \
    {                                   \
        (burst), (window_ms), 0, 0, 0   \
    }

//  The budget's decision at now_ms (monotonic): true when the line may be
//  logged; *suppressed gets the count of a window that just ended (else 0).
bool tly_log_limit_admit (tly_log_limit_t *limit, int64_t now_ms, uint64_t *suppressed);
//  tly_log within limit's budget.
void tly_log_limited (tly_log_limit_t *limit, tly_level_t level, const char *event, const char *fmt,
                      ...) __attribute__ ((format (printf, 4, 5)));

#endif
