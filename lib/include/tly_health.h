//  tly_health - a server's liveness and readiness as a small file that its
//  main loop rewrites about once a second, for a container's healthcheck
//  (`tally health --file PATH`): a FROM scratch image has no shell to run a
//  probe and the servers have no port that answers one.
//
//      tly_health_t *health = tly_health_new (path, error, sizeof error);
//      while (!tly_stop_requested ()) {                //  the file says starting
//          zmq_poll (items, n, tly_health_poll_ms (health, timeout_ms));
//          ...                                         //  the loop's work
//          tly_health_beat (health, TLY_HEALTH_READY); //  rewritten when due
//      }
//      tly_health_destroy (&health);                   //  the file is removed
//
//  A server run without --health-file passes NULL to beat, poll_ms and
//  destroy, which then do nothing. The file is one line, written whole to
//  PATH.tmp and renamed over PATH, so a reader sees the old line or the
//  new one, never a part of either:
//
//      state=ready mono_ms=81234567 unix_ms=1764968400123 pid=1
//
//  mono_ms is CLOCK_MONOTONIC, the same clock for every process of a host
//  (containers included), so a file's age does not jump with the wall
//  clock; unix_ms is for people reading the file.
#ifndef TLY_HEALTH_H_INCLUDED
#define TLY_HEALTH_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define TLY_HEALTH_REFRESH_MS 1000  //  a server rewrites its file this often
#define TLY_HEALTH_MAX_AGE_MS 5000  //  `tally health`: older is stale (default)
#define TLY_HEALTH_SKEW_MS    1000  //  a file this far in the future is still fresh
#define TLY_HEALTH_LINE_MAX   128   //  the file's one line, newline included
#define TLY_HEALTH_PATH_MAX   4000  //  --health-file, so that PATH.tmp fits PATH_MAX

_Static_assert(TLY_HEALTH_REFRESH_MS < TLY_HEALTH_MAX_AGE_MS,
               "a healthy server's file is never older than the default limit");

typedef enum {
    TLY_HEALTH_STARTING,  //  up, not serving yet
    TLY_HEALTH_READY,     //  the main loop runs and serves
    TLY_HEALTH_STOPPING   //  a stop was requested: finishing, then exiting
} tly_health_state_t;

//  What a reader makes of a file (tly_health_check).
typedef enum {
    TLY_HEALTH_OK,         //  ready and fresh
    TLY_HEALTH_NOT_READY,  //  fresh, but starting or stopping
    TLY_HEALTH_STALE,      //  not rewritten for longer than the limit: the loop is
                           //  stuck, or the server is gone without removing it
    TLY_HEALTH_UNREADABLE  //  missing, unreadable or not a health file
} tly_health_check_t;

typedef struct _tly_health_t tly_health_t;

//  Writes path at once with state starting. Returns NULL, with one line in
//  error, when the path is too long or the file cannot be written.
tly_health_t *tly_health_new (const char *path, char *error, size_t error_size);
//  Removes the file, so that a stopped server reads as gone at once.
void tly_health_destroy (tly_health_t **self_p);

//  Records state and rewrites the file when the state changed or
//  TLY_HEALTH_REFRESH_MS have passed since the last write. Returns 0, or -1
//  when the write failed (logged once until a write succeeds again; the
//  next beat tries again).
int tly_health_beat (tly_health_t *self, tly_health_state_t state);

//  timeout_ms (-1: forever) cut down so that the loop turns before the next
//  write is due.
long tly_health_poll_ms (tly_health_t *self, long timeout_ms);

//  "starting", "ready" or "stopping".
const char *tly_health_state_name (tly_health_state_t state);

//  Reads the file at path and judges it against now_ms (tly_mono_ms) and
//  max_age_ms; writes one line into reason (the state and the file's age,
//  or what is wrong).
tly_health_check_t tly_health_check (const char *path, int64_t max_age_ms, int64_t now_ms,
                                     char *reason, size_t reason_size);

#endif
