//  bench_stats - latency quantiles and /proc figures for `tally bench`.
#include "bench.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
