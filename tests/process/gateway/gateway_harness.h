//  gateway_harness - runs the real tally-gateway binary for a test: starting
//  and stopping it, free loopback ports, and failing fast (the gateway is
//  killed so no test leaves a process behind).
#ifndef GATEWAY_HARNESS_H_INCLUDED
#define GATEWAY_HARNESS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CHECK(condition) \
    do { if (!(condition)) gateway_harness_fail (__FILE__, __LINE__, #condition); } while (0)

//  Set by the test's main (-v): steps and details are printed.
extern bool gateway_harness_verbose;

//  Prints the failed condition, kills the running gateway, exits 1.
void  gateway_harness_fail (const char *file, int line, const char *condition)
    __attribute__ ((noreturn));
//  Prints one step of the test when verbose.
void  gateway_harness_step (const char *text);
//  A loopback port nobody listens on right now.
int   gateway_harness_free_port (void);
//  Runs the gateway with argv (NULL-terminated, argv[0] ignored) to
//  completion; returns its exit code and its output in out. worker_env is the
//  TALLY_WORKER_ACCOUNT it sees (NULL: unset).
int   gateway_harness_run (char *argv [], const char *worker_env, char *out, size_t out_size);
//  Starts the gateway in the background; it becomes the running gateway.
void  gateway_harness_start (char *argv [], const char *worker_env);
//  SIGTERM to the running gateway: it must exit 0.
void  gateway_harness_stop (void);

#endif
