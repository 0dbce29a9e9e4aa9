//  gateway_process - the real tally-gateway binary for a test, on the
//  harness: one gateway running at a time, started and stopped, or run to
//  completion with its output. A failed CHECK kills it (harness.h).
#ifndef GATEWAY_PROCESS_H_INCLUDED
#define GATEWAY_PROCESS_H_INCLUDED

#include <stddef.h>

#include "harness.h"

//  A gateway test's first step: -v makes it verbose (th_verbose), libsodium
//  and czmq are set up, and sockets do not linger at exit.
void gateway_process_init (int argc, char *argv []);

//  Runs the gateway with argv (NULL-terminated, argv[0] ignored) to
//  completion; returns its exit code and its output (stdout and stderr) in
//  out. worker_env is the TALLY_WORKER_ACCOUNT it sees (NULL: unset).
int gateway_run (char *argv [], const char *worker_env, char *out, size_t out_size);

//  Starts the gateway in the background; it becomes the running gateway.
void gateway_start (char *argv [], const char *worker_env);
//  The file the next gateways log to (stdout and stderr), or NULL for the test's own.
void gateway_set_log (const char *path);

//  SIGTERM to the running gateway: it must exit 0.
void gateway_stop (void);

#endif
