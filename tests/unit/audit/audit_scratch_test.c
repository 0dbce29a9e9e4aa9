//  audit_scratch_test - a scratch directory is made new and removed with
//  everything under it.
#include "audit_scratch.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
audit_scratch_test (bool verbose)
{
    if (verbose)
        printf (" * audit_scratch: ");
    char path [256], other [256];
    assert (audit_scratch_new ("audit_scratch_test", path, sizeof path) == 0);
    assert (audit_scratch_new ("audit_scratch_test", other, sizeof other) == 0);
    assert (strcmp (path, other) != 0);
    struct stat info;
    assert (stat (path, &info) == 0 && S_ISDIR (info.st_mode));
    char nested [300];
    snprintf (nested, sizeof nested, "%s/a", path);
    assert (mkdir (nested, 0700) == 0);
    snprintf (nested, sizeof nested, "%s/a/file", path);
    FILE *file = fopen (nested, "w");
    assert (file && fputs ("x", file) >= 0 && fclose (file) == 0);
    audit_scratch_remove (path);
    assert (access (path, F_OK) == -1);
    audit_scratch_remove (other);
    assert (access (other, F_OK) == -1);
    audit_scratch_remove ("");
    //  A name that does not fit is refused.
    char small [8];
    assert (audit_scratch_new ("audit_scratch_test", small, sizeof small) == -1);
    if (verbose)
        printf ("OK\n");
}
