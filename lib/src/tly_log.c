//  tly_log - structured key=value log lines on stderr.
#include "tly_log.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char *s_process = "tally";
static tly_level_t s_level = TLY_INFO;
static const char *s_names [] = { "debug", "info", "warn", "error" };

void
tly_log_init (const char *process, tly_level_t level)
{
    s_process = process;
    s_level = level;
}

int
tly_log_parse_level (const char *text, tly_level_t *level)
{
    for (int i = 0; i < 4; i++)
        if (strcmp (text, s_names [i]) == 0) {
            *level = (tly_level_t) i;
            return 0;
        }
    return -1;
}

int
tly_log_level_flag (const char *process, const char *text, tly_level_t *level)
{
    if (tly_log_parse_level (text, level) == 0)
        return 0;
    fprintf (stderr, "%s: --log-level must be debug, info, warn or error, got '%s'\n", process,
             text);
    return -1;
}

static void
s_vlog (tly_level_t level, const char *event, const char *fmt, va_list args)
{
    struct timeval now;
    gettimeofday (&now, NULL);
    struct tm utc;
    gmtime_r (&now.tv_sec, &utc);
    char stamp [32];
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);

    char line [2048];
    int used = snprintf (line, sizeof line, "ts=%s.%03ldZ level=%s proc=%s event=%s", stamp,
                         (long) (now.tv_usec / 1000), s_names [level], s_process, event);
    if (fmt && *fmt && used > 0 && (size_t) used < sizeof line - 2) {
        line [used++] = ' ';
        vsnprintf (line + used, sizeof line - (size_t) used, fmt, args);
    }
    fprintf (stderr, "%s\n", line);
}

void
tly_log (tly_level_t level, const char *event, const char *fmt, ...)
{
    if (level < s_level)
        return;
    va_list args;
    va_start (args, fmt);
    s_vlog (level, event, fmt, args);
    va_end (args);
}

bool
tly_log_limit_admit (tly_log_limit_t *limit, int64_t now_ms, uint64_t *suppressed)
{
    assert (limit && limit->burst > 0 && limit->window_ms > 0 && suppressed);
    *suppressed = 0;
    if (limit->lines == 0 && limit->suppressed == 0)
        limit->window_start_ms = now_ms;  //  the first line opens a window
    else if (now_ms - limit->window_start_ms >= limit->window_ms) {
        *suppressed = limit->suppressed;
        limit->window_start_ms = now_ms;
        limit->lines = 0;
        limit->suppressed = 0;
    }
    if (limit->lines < limit->burst) {
        limit->lines++;
        return true;
    }
    limit->suppressed++;
    return false;
}

void
tly_log_limited (tly_log_limit_t *limit, tly_level_t level, const char *event, const char *fmt, ...)
{
    if (level < s_level)
        return;
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    int64_t now_ms = (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
    uint64_t suppressed;
    if (!tly_log_limit_admit (limit, now_ms, &suppressed))
        return;
    if (suppressed > 0)
        tly_log (level, "log.suppressed", "event=%s lines=%llu limit=%u window_ms=%lld", event,
                 (unsigned long long) suppressed, limit->burst, (long long) limit->window_ms);
    va_list args;
    va_start (args, fmt);
    s_vlog (level, event, fmt, args);
    va_end (args);
}
