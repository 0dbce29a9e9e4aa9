//  tly_mapping - gives the pages of a read-only shared file mapping back to
//  the kernel (see the header).
#include "tly_mapping.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int
tly_mapping_find (const void *inside, void **start, size_t *size, bool *shared_read_only)
{
    assert (inside && start && size && shared_read_only);
    FILE *maps = fopen ("/proc/self/maps", "re");
    if (!maps)
        return -1;
    uintptr_t address = (uintptr_t) inside;
    char *line = NULL;
    size_t capacity = 0;
    int rc = -1;
    //  Each line: "start-end perms offset dev inode [path]", in address
    //  order; read whole, as a path may be long.
    while (getline (&line, &capacity, maps) != -1) {
        uintptr_t low, high;
        char perms [8];
        unsigned long long inode;
        if (sscanf (line, "%" SCNxPTR "-%" SCNxPTR " %7s %*s %*s %llu", &low, &high, perms, &inode)
            != 4)
            continue;
        if (address < low || address >= high)
            continue;
        *start = (void *) low;
        *size = high - low;
        //  r--s, backed by a file (an inode): never anonymous memory.
        *shared_read_only = perms [0] == 'r' && perms [1] == '-' && perms [3] == 's' && inode != 0;
        rc = 0;
        break;
    }
    free (line);
    fclose (maps);
    if (rc == -1)
        errno = ENOENT;
    return rc;
}

int
tly_mapping_release (const void *inside)
{
    void *start;
    size_t size;
    bool shared_read_only;
    if (tly_mapping_find (inside, &start, &size, &shared_read_only) == -1)
        return -1;
    if (!shared_read_only) {
        errno = EINVAL;
        return -1;
    }
    return madvise (start, size, MADV_DONTNEED);
}
