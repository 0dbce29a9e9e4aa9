//  bench_stats - latency quantiles and /proc figures for `tally bench`.
#include "bench.h"

#include <assert.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
bench_procs_load (const char *path, bench_proc_t *procs, int max)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    int count = 0;
    char name [32];
    long pid;
    while (count < max && fscanf (file, "%31s %ld", name, &pid) == 2) {
        memset (&procs [count], 0, sizeof procs [count]);
        snprintf (procs [count].name, sizeof procs [count].name, "%s", name);
        procs [count].pid = (pid_t) pid;
        count++;
    }
    fclose (file);
    return count;
}

double
bench_proc_cpu (pid_t pid)
{
    char path [64];
    snprintf (path, sizeof path, "/proc/%ld/stat", (long) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char line [1024];
    char *ok = fgets (line, sizeof line, file);
    fclose (file);
    //  Fields after the command name (which may hold spaces) start after ')'.
    char *at = ok ? strrchr (line, ')') : NULL;
    if (!at)
        return -1;
    unsigned long utime = 0, stime = 0;
    //  state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    if (sscanf (at + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
}

long
bench_proc_status_kb (pid_t pid, const char *field)
{
    char path [64];
    snprintf (path, sizeof path, "/proc/%ld/status", (long) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char line [256];
    long value = -1;
    size_t field_size = strlen (field);
    while (fgets (line, sizeof line, file))
        if (strncmp (line, field, field_size) == 0 && line [field_size] == ':') {
            value = strtol (line + field_size + 1, NULL, 10);
            break;
        }
    fclose (file);
    return value;
}

long
bench_proc_pss_kb (pid_t pid)
{
    char path [64];
    snprintf (path, sizeof path, "/proc/%ld/smaps_rollup", (long) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char line [256];
    long value = -1;
    while (fgets (line, sizeof line, file))
        if (strncmp (line, "Pss:", 4) == 0) {
            value = strtol (line + 4, NULL, 10);
            break;
        }
    fclose (file);
    return value;
}

void
bench_latency_add (bench_latency_t *self, int64_t micros)
{
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 4096;
        self->samples = realloc (self->samples, self->capacity * sizeof *self->samples);
        assert (self->samples);
    }
    self->samples [self->count++] = micros;
}

static int
s_compare (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

int64_t
bench_latency_quantile (bench_latency_t *self, double q)
{
    assert (q >= 0 && q <= 1);
    if (self->count == 0)
        return 0;
    qsort (self->samples, self->count, sizeof *self->samples, s_compare);
    //  Nearest rank: the smallest sample with at least q of all at or below it.
    size_t rank = (size_t) (q * (double) self->count + 0.999999);
    if (rank == 0)
        rank = 1;
    if (rank > self->count)
        rank = self->count;
    return self->samples [rank - 1];
}

void
bench_latency_merge (bench_latency_t *into, const bench_latency_t *from)
{
    for (size_t i = 0; i < from->count; i++)
        bench_latency_add (into, from->samples [i]);
}

void
bench_latency_free (bench_latency_t *self)
{
    free (self->samples);
    memset (self, 0, sizeof *self);
}

//  Values below BENCH_HIST_SUB index themselves; from there each power of
//  two 2^e gets BENCH_HIST_SUB buckets of width 2^(e - BENCH_HIST_BITS).
static size_t
s_hist_index (int64_t micros)
{
    if (micros < 0)
        micros = 0;
    if (micros < BENCH_HIST_SUB)
        return (size_t) micros;
    int e = 63 - __builtin_clzll ((unsigned long long) micros);
    if (e > BENCH_HIST_TOP) {
        e = BENCH_HIST_TOP;
        micros = ((int64_t) 2 << BENCH_HIST_TOP) - 1;
    }
    int64_t sub = (micros >> (e - BENCH_HIST_BITS)) - BENCH_HIST_SUB;
    size_t index = (size_t) BENCH_HIST_SUB * (size_t) (e - BENCH_HIST_BITS + 1) + (size_t) sub;
    assert (index < BENCH_HIST_BUCKETS);
    return index;
}

//  The largest value that falls into bucket index.
static int64_t
s_hist_top (size_t index)
{
    if (index < BENCH_HIST_SUB)
        return (int64_t) index;
    int e = (int) (index / BENCH_HIST_SUB) - 1 + BENCH_HIST_BITS;
    int64_t sub = (int64_t) (index % BENCH_HIST_SUB) + BENCH_HIST_SUB;
    return ((sub + 1) << (e - BENCH_HIST_BITS)) - 1;
}

void
bench_hist_add (bench_hist_t *self, int64_t micros)
{
    self->counts [s_hist_index (micros)]++;
    self->total++;
}

void
bench_hist_merge (bench_hist_t *into, const bench_hist_t *from)
{
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++)
        into->counts [i] += from->counts [i];
    into->total += from->total;
}

int64_t
bench_hist_quantile (const bench_hist_t *self, double q)
{
    assert (q >= 0 && q <= 1);
    if (self->total == 0)
        return 0;
    //  Nearest rank, as bench_latency_quantile.
    int64_t rank = (int64_t) (q * (double) self->total + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > self->total)
        rank = self->total;
    int64_t seen = 0;
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += self->counts [i];
        if (seen >= rank)
            return s_hist_top (i);
    }
    assert (false);
    return 0;
}

void
bench_hist_reset (bench_hist_t *self)
{
    memset (self, 0, sizeof *self);
}

#define S_DISK_DEPTH_MAX 8  //  tally's data dirs nest three deep

static int64_t
s_disk_bytes (const char *path, const char *skip, bool only, bool inside, int depth)
{
    struct stat info;
    if (lstat (path, &info) == -1)
        return -1;
    if (!S_ISDIR (info.st_mode))
        return only && !inside ? 0 : (int64_t) info.st_blocks * 512;
    DIR *dir = opendir (path);
    if (!dir)
        return -1;
    int64_t total = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
            continue;
        char child [4096];
        if (snprintf (child, sizeof child, "%s/%s", path, entry->d_name) >= (int) sizeof child
            || depth >= S_DISK_DEPTH_MAX)
            continue;
        bool below = inside || (skip && strcmp (entry->d_name, skip) == 0);
        if (!only && below)
            continue;
        int64_t bytes = s_disk_bytes (child, skip, only, below, depth + 1);
        if (bytes > 0)
            total += bytes;
    }
    closedir (dir);
    return total;
}

int64_t
bench_disk_bytes (const char *path, const char *skip, bool only)
{
    assert (path);
    assert (!only || skip);
    return s_disk_bytes (path, skip, only, false, 0);
}
