//  tly_fault - storage failures injected at named points, for the fault
//  tests (tests/cluster/it_faults.c) and the chaos run: an LMDB commit that
//  fails, a slow fsync, a roll that stops half-way; and crashes of the
//  order processor between the steps of an order (it_orders steps).
//
//  Compiled in only when CMake's TALLY_FAULTS option is on (`make test`
//  turns it on; the default, and so release, image and package builds,
//  leave it off). Off, TLY_FAULT (point) is the constant 0, TLY_FAULT_INIT
//  is 0 too, and this module is not built at all: no fault symbol or
//  environment name is in the binaries.
//
//  A process arms its points at start (TLY_FAULT_INIT) from one of:
//    TALLY_FAULTS="journal.commit=fail@3,journal.sync=delay:200"
//    TALLY_FAULTS_FILE=path   the same text in a file, looked at (stat) at
//                             every hit and read again when it changed: a
//                             test arms and disarms a running process by
//                             replacing it (write another file, rename it
//                             over); a missing or empty file arms nothing.
//                             The hit that finds a change counts as the
//                             first hit of what the file now arms.
//  Entries are separated by commas or newlines (a # starts a comment to the
//  end of its line); each is POINT=ACTION[@N[+]]:
//    fail[:ERRNO]  the operation fails with ERRNO: EIO (the default), ENOSPC
//                  or EROFS, as LMDB or the kernel would report it
//    delay:MS      the operation waits MS ms first (1..TLY_FAULT_DELAY_MAX_MS)
//    exit          the process ends at once with TLY_FAULT_EXIT, as a crash would
//    @N            only the Nth hit of the point after arming; @N+ the Nth and
//                  every later one; neither: every hit
//  Points (the call sites name them; docs/architecture.md, "Injected
//  storage failures", says what each failure does):
//    journal.commit        the audit writer's commit of a write transaction
//                          (a group commit, a checkpoint on its own, a seal)
//    journal.sync          the fsync inside that commit: delay is a slow disk
//    journal.roll          the write of the next segment in a roll
//    journal.roll.sealed, journal.roll.made, journal.roll.renamed
//                          the steps of a roll, for `exit`: after the seal,
//                          after the next segment is made, after its rename
//    state.commit          a balance actor's state commit after the journal
//                          acknowledged a batch (the batch is answered first)
//    snapshot.save         the audit writer's write of a state snapshot part
//    snapshot.load         a balance actor's commit of a state snapshot part
//                          it loads (before it: `exit` cuts a load short)
//    bus.publish           a balance actor's publication of an update on the
//                          bus: `fail` drops it, as a full high-water mark on
//                          a hop would (silently)
//    orders.charge, orders.charged, orders.completing, orders.failing,
//    orders.void           the steps of the order processor's course, for
//                          `exit`: just before a charge is handed to
//                          libcurl; after a 2xx charge, before completeOrder
//                          is sent; completeOrder (failOrder) sent, before
//                          its answer is read; just before a void is sent
//  A fault that fires is logged (fault.injected, warn): every fail and exit,
//  and the first firing of a delay.
//
//      int error = TLY_FAULT ("journal.commit");   //  0, or the errno to fail with
//      if (error)
//          ... fail the operation as it would fail with error ...
#ifndef TLY_FAULT_H_INCLUDED
#define TLY_FAULT_H_INCLUDED

#include <stddef.h>

#define TLY_FAULTS_ENV         "TALLY_FAULTS"
#define TLY_FAULTS_FILE_ENV    "TALLY_FAULTS_FILE"
//  The exit code of `exit`: what a test waits for.
#define TLY_FAULT_EXIT         86
//  Bounds of a spec.
#define TLY_FAULT_SPEC_MAX     1024
#define TLY_FAULT_DELAY_MAX_MS 60000
#define TLY_FAULT_ERROR_MAX    256

#if defined(TLY_FAULTS_BUILD)

//  Arms from TALLY_FAULTS or TALLY_FAULTS_FILE (not both). Returns 0, or -1
//  with a one-line reason in error (the process should refuse to start).
int tly_fault_init (char *error, size_t error_size);
//  Arms spec in place of whatever was armed (counts start again; a faults
//  file is no longer read); "" disarms. Returns 0, or -1 with a reason in
//  error and nothing armed.
int tly_fault_arm (const char *spec, char *error, size_t error_size);
//  One hit of point: 0 to go on (after the delay, if one fires), or the
//  errno the operation is to fail with. Does not return for `exit`.
int tly_fault_hit (const char *point);

#define TLY_FAULT(point)                  tly_fault_hit (point)
#define TLY_FAULT_INIT(error, error_size) tly_fault_init (error, error_size)

#else

#define TLY_FAULT(point)                  0
#define TLY_FAULT_INIT(error, error_size) 0

#endif

#endif
