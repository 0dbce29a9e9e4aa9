//  audit_scratch - scratch directories of the audit tools (see audit_scratch.h).
#include "audit_scratch.h"

#include <assert.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#define S_OPEN_FILES 16  //  nftw's descriptor budget

int
audit_scratch_new (const char *name, char *path, size_t path_size)
{
    assert (name && path && path_size > 0);
    const char *base = getenv ("TMPDIR");
    if ((size_t) snprintf (path, path_size, "%s/%s.XXXXXX", base && *base ? base : "/tmp", name)
        >= path_size)
        return -1;
    return mkdtemp (path) ? 0 : -1;
}

static int
s_remove (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void) info;
    (void) flag;
    (void) ftw;
    return remove (path);
}

void
audit_scratch_remove (const char *path)
{
    assert (path);
    if (*path)
        nftw (path, s_remove, S_OPEN_FILES, FTW_DEPTH | FTW_PHYS);
}
