//  audit_scratch - scratch directories of the audit tools (the replay
//  benchmark's journal, the workload's ledger): made new under $TMPDIR (else
//  /tmp), removed with everything in them when done.
#ifndef AUDIT_SCRATCH_H_INCLUDED
#define AUDIT_SCRATCH_H_INCLUDED

#include <stddef.h>

//  Makes a new directory named name.XXXXXX into path (path_size bytes).
//  Returns 0, or -1 with the directory's template in path.
int audit_scratch_new (const char *name, char *path, size_t path_size);
//  Removes path and everything under it; nothing when path is empty.
void audit_scratch_remove (const char *path);

#endif
