//  tly_fault_test - the fault points (a build with -DTALLY_FAULTS=ON): specs
//  parsed or refused with a reason, the Nth hit, every hit from the Nth,
//  every hit, a delay, an exit, and arming from the environment or from a
//  file that changes while the process runs.
#include "tly_fault.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "tly_wire.h"

//  Arming spec is refused with a reason holding words.
static void
s_refused (const char *spec, const char *words)
{
    char error [TLY_FAULT_ERROR_MAX] = "";
    assert (tly_fault_arm (spec, error, sizeof error) == -1);
    if (!strstr (error, words)) {
        fprintf (stderr, "'%s' refused with '%s', not '%s'\n", spec, error, words);
        assert (false);
    }
    //  Nothing stays armed after a refusal.
    assert (tly_fault_hit ("journal.commit") == 0);
}

static void
s_arm (const char *spec)
{
    char error [TLY_FAULT_ERROR_MAX];
    assert (tly_fault_arm (spec, error, sizeof error) == 0);
}

//  Writes spec to path whole, as a test arms a running process: another
//  file renamed over it.
static void
s_write (const char *path, const char *spec)
{
    char temporary [600];
    snprintf (temporary, sizeof temporary, "%s.new", path);
    FILE *file = fopen (temporary, "w");
    assert (file);
    fputs (spec, file);
    assert (fclose (file) == 0);
    assert (rename (temporary, path) == 0);
}

void
tly_fault_test (bool verbose)
{
    if (verbose)
        printf (" * tly_fault: ");
    char error [TLY_FAULT_ERROR_MAX];

    //  Refusals, each with its reason.
    s_refused ("journal.comit=fail", "unknown point 'journal.comit'");
    s_refused ("journal.commit", "is not POINT=ACTION");
    s_refused ("journal.commit=explode", "the action must be");
    s_refused ("journal.commit=fail:EBADF", "fail takes EIO, ENOSPC or EROFS");
    s_refused ("journal.commit=fail@0", "must be a number from 1");
    s_refused ("journal.commit=fail@x+", "must be a number from 1");
    s_refused ("journal.sync=delay:0", "delay:MS");
    s_refused ("journal.sync=delay:60001", "delay:MS");
    s_refused ("journal.roll.sealed=fail", "takes exit or delay:MS");
    s_refused ("state.commit=fail,state.commit=fail@2", "state.commit is named twice");
    s_refused ("journal.commit=fail,journal.sync=fail,journal.roll=fail,journal.roll.sealed=exit,"
               "journal.roll.made=exit,journal.roll.renamed=exit,state.commit=fail,"
               "snapshot.save=fail,journal.sync=delay:1",
               "journal.sync is named twice");
    char huge [TLY_FAULT_SPEC_MAX + 8];
    memset (huge, ' ', sizeof huge - 1);
    huge [sizeof huge - 1] = 0;
    s_refused (huge, "longer than");

    //  The Nth hit only; the Nth and after; every hit. Each point counts its own.
    s_arm ("journal.commit=fail@3, state.commit=fail:EROFS@2+\n snapshot.save=fail:ENOSPC");
    assert (tly_fault_hit ("journal.commit") == 0);
    assert (tly_fault_hit ("journal.commit") == 0);
    assert (tly_fault_hit ("journal.commit") == EIO);
    assert (tly_fault_hit ("journal.commit") == 0);
    assert (tly_fault_hit ("state.commit") == 0);
    for (int i = 0; i < 5; i++)
        assert (tly_fault_hit ("state.commit") == EROFS);
    for (int i = 0; i < 3; i++)
        assert (tly_fault_hit ("snapshot.save") == ENOSPC);
    assert (tly_fault_hit ("journal.sync") == 0);  //  not armed
    //  Arming again starts the counts again; "" disarms.
    s_arm ("journal.commit=fail@1");
    assert (tly_fault_hit ("journal.commit") == EIO);
    s_arm ("");
    assert (tly_fault_hit ("journal.commit") == 0);

    //  A delay waits and goes on; only the hits it names wait.
    s_arm ("journal.sync=delay:50@2");
    int64_t start = tly_mono_ms ();
    assert (tly_fault_hit ("journal.sync") == 0);
    assert (tly_mono_ms () - start < 50);
    assert (tly_fault_hit ("journal.sync") == 0);
    assert (tly_mono_ms () - start >= 50);

    //  exit ends the process with TLY_FAULT_EXIT.
    pid_t child = fork ();
    assert (child >= 0);
    if (child == 0) {
        s_arm ("journal.roll.made=exit@2");
        tly_fault_hit ("journal.roll.made");
        tly_fault_hit ("journal.roll.made");
        _exit (0);
    }
    int status;
    assert (waitpid (child, &status, 0) == child && WIFEXITED (status)
            && WEXITSTATUS (status) == TLY_FAULT_EXIT);

    //  From the environment: one of the two names, a spec that parses.
    s_arm ("");
    setenv (TLY_FAULTS_ENV, "journal.commit=fail:ENOSPC@1", 1);
    assert (tly_fault_init (error, sizeof error) == 0);
    assert (tly_fault_hit ("journal.commit") == ENOSPC);
    setenv (TLY_FAULTS_ENV, "journal.commit=later", 1);
    assert (tly_fault_init (error, sizeof error) == -1);
    assert (strncmp (error, "TALLY_FAULTS: journal.commit: the action", 40) == 0);
    char dir [256], path [512];
    th_dir_new (dir, sizeof dir, "tly-fault");
    snprintf (path, sizeof path, "%s/faults", dir);
    setenv (TLY_FAULTS_FILE_ENV, path, 1);
    assert (tly_fault_init (error, sizeof error) == -1);
    assert (strstr (error, "not both"));

    //  From a file: missing arms nothing; written, it is armed at the next
    //  hit; replaced, armed again from hit 1; bad, nothing is armed (and
    //  the process goes on); removed, nothing.
    unsetenv (TLY_FAULTS_ENV);
    assert (tly_fault_init (error, sizeof error) == 0);
    assert (tly_fault_hit ("state.commit") == 0);
    s_write (path, "state.commit=fail\n");
    assert (tly_fault_hit ("state.commit") == EIO);
    assert (tly_fault_hit ("state.commit") == EIO);
    s_write (path, "# a comment line is not an entry\nstate.commit=fail:EROFS@2\n");
    assert (tly_fault_hit ("state.commit") == 0);
    assert (tly_fault_hit ("state.commit") == EROFS);
    assert (tly_fault_hit ("state.commit") == 0);
    s_write (path, "state.commit=soon\n");
    assert (tly_fault_hit ("state.commit") == 0);
    s_write (path, "state.commit=fail:ENOSPC\n");
    assert (tly_fault_hit ("state.commit") == ENOSPC);
    assert (unlink (path) == 0);
    assert (tly_fault_hit ("state.commit") == 0);
    //  A bad file at start is refused.
    s_write (path, "state.commit=fail@0\n");
    assert (tly_fault_init (error, sizeof error) == -1);
    assert (strstr (error, "TALLY_FAULTS_FILE") && strstr (error, "must be a number from 1"));
    unsetenv (TLY_FAULTS_FILE_ENV);
    s_arm ("");
    th_dir_remove (dir);
    if (verbose)
        printf ("OK\n");
}
