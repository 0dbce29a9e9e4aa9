//  harness - the one test harness every tally test links (prefix th_, "test
//  harness"): a CHECK that names the failed condition, real processes
//  (start, signal, wait with a deadline, stop), commands run to completion
//  with their output captured, scratch directories, waits for a condition
//  with a deadline, free loopback ports, and the runner of a unit area.
//
//  A failed CHECK kills every process the harness started that still runs,
//  so no test leaves a server behind; children also die with the test
//  process (PR_SET_PDEATHSIG).
//
//  The binaries under test are known at build time, once, for every test:
//  TALLY_AUDIT_BIN, TALLY_ROUTER_BIN, TALLY_BALANCE_BIN, TALLY_GATEWAY_BIN
//  and TALLY_CLI_BIN (the `tally` CLI) are string macros.
//
//  A process test reads like this:
//
//      char dir [64];
//      th_dir_new (dir, sizeof dir, "tally-router-test");
//      char *argv [] = { TALLY_ROUTER_BIN, "--data-dir", dir, NULL };
//      th_process_t *router = th_process_new ("router", argv);
//      th_process_start (router);
//      TH_WAIT_UNTIL (s_router_ready (), 10000, th_sleep_ms (10));
//      CHECK (th_process_stop (router, TH_DEADLINE_MS) == 0);
//      th_process_destroy (&router);
//      th_dir_remove (dir);
#ifndef HARNESS_H_INCLUDED
#define HARNESS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  How long a test waits, by default, for a process to stop or a command to
//  end before it fails: generous, as sanitizer builds are slow.
#define TH_DEADLINE_MS 30000

//  ------------------------------------------------------------------ checks

//  Fails the test unless condition holds: prints file:line and the condition,
//  kills the harness's processes, aborts. Stays on in every build type.
#define CHECK(condition)                                                  \
    do {                                                                  \
        if (!(condition))                                                 \
            th_fail (__FILE__, __LINE__, "check failed: %s", #condition); \
    } while (0)

//  Evaluates condition until it holds, running step between tries (a
//  statement: a message pump, th_sleep_ms (10), ...); fails the test naming
//  the condition when timeout_ms pass first.
#define TH_WAIT_UNTIL(condition, timeout_ms, step)                                    \
    do {                                                                              \
        int64_t th_deadline_ = th_now_ms () + (timeout_ms);                           \
        while (!(condition)) {                                                        \
            if (th_now_ms () >= th_deadline_)                                         \
                th_fail (__FILE__, __LINE__, "timed out waiting for %s", #condition); \
            step;                                                                     \
        }                                                                             \
    } while (0)

//  Prints "file:line: " and the message, kills (SIGKILL) every process the
//  harness started that is still running, and aborts.
void th_fail (const char *file, int line, const char *format, ...)
    __attribute__ ((noreturn, format (printf, 3, 4)));

//  Set from the test's -v: th_step prints.
extern bool th_verbose;

//  Prints " * " and the step when verbose.
void th_step (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  Monotonic milliseconds, and a sleep.
int64_t th_now_ms (void);
void th_sleep_ms (int64_t ms);

//  ------------------------------------------------------------------ processes

typedef struct _th_process_t th_process_t;

//  A process to run argv (NULL-terminated; argv [0] is the binary's path),
//  not started yet. name appears in messages. argv is copied.
th_process_t *th_process_new (const char *name, char *const argv []);

//  Kills (SIGKILL) the process if it still runs, then frees it.
void th_process_destroy (th_process_t **self_p);

//  Its stdout and stderr go to the end of the file at path instead of the
//  test's own.
void th_process_set_log (th_process_t *self, const char *path);

//  Changes the child's environment only: "NAME=value" sets, "NAME" unsets.
void th_process_set_env (th_process_t *self, const char *entry);

//  Starts it (again, after it ended: same argv, log and environment).
void th_process_start (th_process_t *self);

//  True while it runs; an ended process is reaped (see th_process_status).
bool th_process_running (th_process_t *self);

//  The exit code of the last run (128 + the signal when killed by one).
int th_process_status (th_process_t *self);

//  Sends sig; the process must be running.
void th_process_signal (th_process_t *self, int sig);

//  A memory figure of the running process in kB, read from its
//  /proc/PID/status: field is "VmRSS", "RssAnon", "VmHWM", ...; -1 when the
//  file or the field is not there.
long th_process_memory_kb (th_process_t *self, const char *field);

//  Waits up to timeout_ms for the process to end: its exit code (128 + the
//  signal when killed by one), or -1 if it still runs.
int th_process_wait (th_process_t *self, int timeout_ms);

//  SIGTERM, then waits up to timeout_ms, then SIGKILL: the exit code as for
//  th_process_wait (137 when it had to be killed).
int th_process_stop (th_process_t *self, int timeout_ms);

//  Sends sig and waits (TH_DEADLINE_MS) until the process has ended.
int th_process_kill (th_process_t *self, int sig);

//  ------------------------------------------------------------------ commands

//  Where a command's output goes.
typedef enum {
    TH_OUTPUT_INHERIT,         //  the test's stdout and stderr
    TH_OUTPUT_DISCARD,         //  nowhere
    TH_OUTPUT_CAPTURE,         //  stdout and stderr into *captured
    TH_OUTPUT_CAPTURE_STDOUT,  //  stdout into *captured, stderr the test's
    TH_OUTPUT_CAPTURE_STDERR   //  stderr into *captured, stdout the test's
} th_output_t;

//  Runs argv to completion and returns its exit code (128 + the signal when
//  killed by one). env (NULL-terminated, may be NULL) changes the child's
//  environment as th_process_set_env does. When captured is not NULL it gets
//  the captured output, NUL-terminated (the caller frees it). Fails the
//  test when the command runs longer than timeout_ms.
int th_run (char *const argv [], const char *const env [], th_output_t output, char **captured,
            int timeout_ms);

//  ------------------------------------------------------------------ files and ports

//  Makes a fresh directory /tmp/<prefix>.XXXXXX and writes its path to dir.
void th_dir_new (char *dir, size_t size, const char *prefix);

//  Removes path and everything under it; a missing path is fine.
void th_dir_remove (const char *path);

//  Prints the last lines of the file at path to stderr, under a line naming
//  it: what a failed test shows of a server's log.
void th_log_tail (const char *path, int lines);

//  A loopback TCP port nobody listens on right now, as the kernel picks
//  them (from its ephemeral range).
int th_free_port (void);

//  The same, picked at random in first..last (a port outside the ephemeral
//  range cannot be taken by a connecting socket meanwhile).
int th_free_port_between (int first, int last);

//  A seeded pseudo-random stream (splitmix64) for tests that must replay
//  from a seed: th_rng_next gives the next 64 bits, th_rng_below a value in
//  [0, bound) (bound > 0).
uint64_t th_rng_next (uint64_t *state);
uint64_t th_rng_below (uint64_t *state, uint64_t bound);

//  ------------------------------------------------------------------ unit runner

//  One class's self-test, as a unit area's runner lists it.
typedef struct {
    const char *name;  //  the class, e.g. "tly_store"
    void (*test) (bool verbose);
} th_unit_t;

//  Runs the units named on the command line (all when none is), verbose
//  with -v; units ends with { NULL, NULL }. Returns main's exit code: 0, or
//  2 for a name not in the table.
int th_unit_run (const th_unit_t *units, int argc, char *argv []);

#endif
