//  tly_log - structured logging: one line per event, key=value, to stderr.
//  tly_log (TLY_INFO, "actor.start", "name=%s partitions=%u", name, n);
//  prints: ts=2026-11-27T07:00:00.123Z level=info proc=tally-balance event=actor.start name=...
#ifndef TLY_LOG_H_INCLUDED
#define TLY_LOG_H_INCLUDED

#include <stdbool.h>

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

#endif
