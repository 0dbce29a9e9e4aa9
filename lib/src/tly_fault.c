//  tly_fault - storage failures injected at named points (see the header).
//  Built only with -DTALLY_FAULTS=ON.
#include "tly_fault.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tly_log.h"

#define S_POINT_MAX 32

//  Every point a call site names, and whether it can fail (the steps of a
//  roll only stop the process or wait): a spec naming another is refused,
//  so a typo cannot arm nothing and pass for a test that found no fault.
static const struct {
    const char *name;
    bool fails;
} s_points [] = { { "journal.commit", true },     { "journal.sync", true },
                  { "journal.roll", true },       { "journal.roll.sealed", false },
                  { "journal.roll.made", false }, { "journal.roll.renamed", false },
                  { "state.commit", true },       { "snapshot.save", true },
                  { "snapshot.load", true },      { "bus.publish", true },
                  { "orders.charge", false },     { "orders.charged", false },
                  { "orders.completing", false }, { "orders.failing", false },
                  { "orders.void", false },       { NULL, false } };
//  One entry per point at most.
#define S_ENTRIES_MAX (sizeof s_points / sizeof s_points [0] - 1)

static const struct {
    const char *name;
    int error;
} s_errors [] = { { "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EROFS", EROFS }, { NULL, 0 } };

typedef enum {
    S_FAIL,
    S_DELAY,
    S_EXIT
} s_action_t;

typedef struct {
    char point [S_POINT_MAX];
    s_action_t action;
    int error;     //  S_FAIL
    int delay_ms;  //  S_DELAY
    uint64_t from;
    uint64_t to;    //  fires for hits from..to (1-based)
    uint64_t hits;  //  since armed
    uint64_t fired;
} s_entry_t;

//  One armed set per process. Points are hit from one thread in each
//  server, but the lock keeps a test that hits them from several honest.
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static s_entry_t s_entries [S_ENTRIES_MAX];
static size_t s_count;
//  TALLY_FAULTS_FILE: its path, and what it was when last read.
static char s_file [PATH_MAX];
static struct stat s_file_seen;
static bool s_file_present;

//  The point's index in s_points, or -1.
static int
s_point (const char *name)
{
    for (int i = 0; s_points [i].name; i++)
        if (strcmp (s_points [i].name, name) == 0)
            return i;
    return -1;
}

static const char *
s_error_name (int error)
{
    for (size_t i = 0; s_errors [i].name; i++)
        if (s_errors [i].error == error)
            return s_errors [i].name;
    return "?";
}

//  A whole decimal number in min..max.
static bool
s_number (const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
    if (!isdigit ((unsigned char) *text))
        return false;
    errno = 0;
    char *end;
    unsigned long long parsed = strtoull (text, &end, 10);
    if (errno || *end || parsed < min || parsed > max)
        return false;
    *value = parsed;
    return true;
}

//  One entry, POINT=ACTION[@N[+]], into entry. Returns 0 or -1 (error set).
static int
s_parse_entry (char *text, s_entry_t *entry, char *error, size_t error_size)
{
    memset (entry, 0, sizeof *entry);
    char *action = strchr (text, '=');
    if (!action) {
        snprintf (error, error_size, "'%s' is not POINT=ACTION", text);
        return -1;
    }
    *action++ = 0;
    int point = s_point (text);
    if (point == -1) {
        char known [256] = "";
        for (size_t i = 0, used = 0; s_points [i].name && used < sizeof known; i++)
            used += (size_t) snprintf (known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                       s_points [i].name);
        snprintf (error, error_size, "unknown point '%s' (the points: %s)", text, known);
        return -1;
    }
    snprintf (entry->point, sizeof entry->point, "%s", text);
    entry->from = 1;
    entry->to = UINT64_MAX;
    char *at = strchr (action, '@');
    if (at) {
        *at++ = 0;
        size_t length = strlen (at);
        bool onwards = length > 0 && at [length - 1] == '+';
        if (onwards)
            at [length - 1] = 0;
        if (!s_number (at, 1, UINT32_MAX, &entry->from)) {
            snprintf (error, error_size, "%s: the hit after @ must be a number from 1, got '%s'",
                      entry->point, at);
            return -1;
        }
        entry->to = onwards ? UINT64_MAX : entry->from;
    }
    uint64_t value;
    if (strcmp (action, "exit") == 0)
        entry->action = S_EXIT;
    else if (strncmp (action, "delay:", 6) == 0
             && s_number (action + 6, 1, TLY_FAULT_DELAY_MAX_MS, &value)) {
        entry->action = S_DELAY;
        entry->delay_ms = (int) value;
    } else if (strcmp (action, "fail") == 0) {
        entry->action = S_FAIL;
        entry->error = EIO;
    } else if (strncmp (action, "fail:", 5) == 0) {
        entry->action = S_FAIL;
        for (size_t i = 0; s_errors [i].name; i++)
            if (strcmp (s_errors [i].name, action + 5) == 0)
                entry->error = s_errors [i].error;
        if (!entry->error) {
            snprintf (error, error_size, "%s: fail takes EIO, ENOSPC or EROFS, got '%s'",
                      entry->point, action + 5);
            return -1;
        }
    } else {
        snprintf (error, error_size,
                  "%s: the action must be fail, fail:ERRNO, delay:MS (1..%d) or exit, got '%s'",
                  entry->point, TLY_FAULT_DELAY_MAX_MS, action);
        return -1;
    }
    if (entry->action == S_FAIL && !s_points [point].fails) {
        snprintf (error, error_size, "%s is a step, not an operation: it takes exit or delay:MS",
                  entry->point);
        return -1;
    }
    return 0;
}

//  Parses spec into entries; counts them. Returns 0 or -1 (error set).
static int
s_parse (const char *spec, s_entry_t *entries, size_t *count, char *error, size_t error_size)
{
    *count = 0;
    if (strlen (spec) >= TLY_FAULT_SPEC_MAX) {
        snprintf (error, error_size, "longer than %d bytes", TLY_FAULT_SPEC_MAX - 1);
        return -1;
    }
    char copy [TLY_FAULT_SPEC_MAX];
    snprintf (copy, sizeof copy, "%s", spec);
    //  A comment runs from # to the end of its line.
    for (char *hash = strchr (copy, '#'); hash; hash = strchr (hash, '#'))
        while (*hash && *hash != '\n')
            *hash++ = ' ';
    char *save = NULL;
    for (char *item = strtok_r (copy, ",\n", &save); item; item = strtok_r (NULL, ",\n", &save)) {
        while (isspace ((unsigned char) *item))
            item++;
        size_t length = strlen (item);
        while (length > 0 && isspace ((unsigned char) item [length - 1]))
            item [--length] = 0;
        if (length == 0)
            continue;
        s_entry_t entry;
        if (s_parse_entry (item, &entry, error, error_size) == -1)
            return -1;
        for (size_t i = 0; i < *count; i++)
            if (strcmp (entries [i].point, entry.point) == 0) {
                snprintf (error, error_size, "%s is named twice", entry.point);
                return -1;
            }
        //  Each point at most once: there is room for every entry.
        assert (*count < S_ENTRIES_MAX);
        entries [(*count)++] = entry;
    }
    return 0;
}

static void
s_describe (const s_entry_t *entry, char *out, size_t size)
{
    char when [48] = "";
    if (entry->from != 1 || entry->to != UINT64_MAX)
        snprintf (when, sizeof when, "@%" PRIu64 "%s", entry->from,
                  entry->to == UINT64_MAX ? "+" : "");
    if (entry->action == S_FAIL)
        snprintf (out, size, "%s=fail:%s%s", entry->point, s_error_name (entry->error), when);
    else if (entry->action == S_DELAY)
        snprintf (out, size, "%s=delay:%d%s", entry->point, entry->delay_ms, when);
    else
        snprintf (out, size, "%s=exit%s", entry->point, when);
}

//  Replaces the armed set (the lock held) and says what is armed now.
static void
s_install (const s_entry_t *entries, size_t count, const char *source)
{
    for (size_t i = 0; i < s_count; i++)
        if (s_entries [i].fired > 0)
            tly_log (TLY_INFO, "fault.disarmed", "point=%s hits=%" PRIu64 " fired=%" PRIu64,
                     s_entries [i].point, s_entries [i].hits, s_entries [i].fired);
    if (count > 0)
        memcpy (s_entries, entries, count * sizeof *entries);
    s_count = count;
    char armed [TLY_FAULT_SPEC_MAX] = "";
    size_t used = 0;
    for (size_t i = 0; i < count && used < sizeof armed; i++) {
        char one [128];
        s_describe (&entries [i], one, sizeof one);
        used += (size_t) snprintf (armed + used, sizeof armed - used, "%s%s", i ? "," : "", one);
    }
    tly_log (count ? TLY_WARN : TLY_INFO, "fault.armed", "from=%s faults=\"%s\"", source, armed);
}

int
tly_fault_arm (const char *spec, char *error, size_t error_size)
{
    assert (spec && error && error_size > 0);
    s_entry_t entries [S_ENTRIES_MAX];
    size_t count;
    pthread_mutex_lock (&s_lock);
    s_file [0] = 0;  //  a call takes over from a faults file
    int rc = s_parse (spec, entries, &count, error, error_size);
    s_install (entries, rc == 0 ? count : 0, "call");
    pthread_mutex_unlock (&s_lock);
    return rc;
}

//  Reads the faults file again when it changed since last read (the lock
//  held). Returns 0, or -1 with error set (nothing is armed then).
static int
s_file_read (bool force, char *error, size_t error_size)
{
    struct stat info;
    bool present = stat (s_file, &info) == 0;
    if (!present && errno != ENOENT && force) {
        snprintf (error, error_size, "%.160s: %s", s_file, strerror (errno));
        s_install (NULL, 0, "file");
        return -1;
    }
    //  Later, a file that cannot be looked at is one that is not there.
    if (!force && present == s_file_present
        && (!present
            || (info.st_ino == s_file_seen.st_ino && info.st_size == s_file_seen.st_size
                && info.st_mtim.tv_sec == s_file_seen.st_mtim.tv_sec
                && info.st_mtim.tv_nsec == s_file_seen.st_mtim.tv_nsec
                && info.st_ctim.tv_sec == s_file_seen.st_ctim.tv_sec
                && info.st_ctim.tv_nsec == s_file_seen.st_ctim.tv_nsec)))
        return 0;
    s_file_present = present;
    s_file_seen = info;
    char spec [TLY_FAULT_SPEC_MAX] = "";
    if (present) {
        FILE *file = fopen (s_file, "r");
        size_t got = file ? fread (spec, 1, sizeof spec - 1, file) : 0;
        bool whole = file && !ferror (file) && feof (file);
        if (file)
            fclose (file);
        if (!whole) {
            snprintf (error, error_size, "%.160s: cannot read it whole (at most %d bytes)", s_file,
                      TLY_FAULT_SPEC_MAX - 1);
            s_install (NULL, 0, "file");
            return -1;
        }
        spec [got] = 0;
    }
    s_entry_t entries [S_ENTRIES_MAX];
    size_t count;
    char reason [TLY_FAULT_ERROR_MAX];
    if (s_parse (spec, entries, &count, reason, sizeof reason) == -1) {
        snprintf (error, error_size, "%.160s: %.90s", s_file, reason);
        s_install (NULL, 0, "file");
        return -1;
    }
    s_install (entries, count, "file");
    return 0;
}

int
tly_fault_init (char *error, size_t error_size)
{
    assert (error && error_size > 0);
    const char *spec = getenv (TLY_FAULTS_ENV);
    const char *file = getenv (TLY_FAULTS_FILE_ENV);
    if (spec && file) {
        snprintf (error, error_size, "set one of %s and %s, not both", TLY_FAULTS_ENV,
                  TLY_FAULTS_FILE_ENV);
        return -1;
    }
    char reason [TLY_FAULT_ERROR_MAX];
    if (spec) {
        if (tly_fault_arm (spec, reason, sizeof reason) == -1) {
            snprintf (error, error_size, "%s: %s", TLY_FAULTS_ENV, reason);
            return -1;
        }
        return 0;
    }
    if (!file)
        return 0;
    if (strlen (file) == 0 || strlen (file) >= sizeof s_file) {
        snprintf (error, error_size, "%s must be a path of 1..%zu bytes", TLY_FAULTS_FILE_ENV,
                  sizeof s_file - 1);
        return -1;
    }
    pthread_mutex_lock (&s_lock);
    snprintf (s_file, sizeof s_file, "%s", file);
    int rc = s_file_read (true, reason, sizeof reason);
    pthread_mutex_unlock (&s_lock);
    if (rc == -1)
        snprintf (error, error_size, "%s: %s", TLY_FAULTS_FILE_ENV, reason);
    return rc;
}

int
tly_fault_hit (const char *point)
{
    //  A call site naming no point would never fire.
    assert (point && s_point (point) >= 0);
    pthread_mutex_lock (&s_lock);
    char reason [TLY_FAULT_ERROR_MAX];
    if (s_file [0] && s_file_read (false, reason, sizeof reason) == -1)
        tly_log (TLY_ERROR, "fault.bad_file", "reason=\"%s\" hint=\"nothing is armed\"", reason);
    s_entry_t *entry = NULL;
    for (size_t i = 0; i < s_count && !entry; i++)
        if (strcmp (s_entries [i].point, point) == 0)
            entry = &s_entries [i];
    if (!entry || ++entry->hits < entry->from || entry->hits > entry->to) {
        pthread_mutex_unlock (&s_lock);
        return 0;
    }
    entry->fired++;
    s_entry_t fired = *entry;
    pthread_mutex_unlock (&s_lock);
    if (fired.action == S_DELAY) {
        if (fired.fired == 1)
            tly_log (TLY_WARN, "fault.injected",
                     "point=%s hit=%" PRIu64 " action=delay ms=%d note=\"logged at its first"
                     " firing only\"",
                     point, fired.hits, fired.delay_ms);
        struct timespec wait = { fired.delay_ms / 1000, (long) (fired.delay_ms % 1000) * 1000000 };
        while (nanosleep (&wait, &wait) == -1 && errno == EINTR)
            ;
        return 0;
    }
    if (fired.action == S_EXIT) {
        tly_log (TLY_WARN, "fault.injected", "point=%s hit=%" PRIu64 " action=exit code=%d", point,
                 fired.hits, TLY_FAULT_EXIT);
        _exit (TLY_FAULT_EXIT);
    }
    tly_log (TLY_WARN, "fault.injected", "point=%s hit=%" PRIu64 " action=fail error=%s", point,
             fired.hits, s_error_name (fired.error));
    return fired.error;
}
