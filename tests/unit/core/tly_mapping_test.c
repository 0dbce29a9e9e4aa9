//  tly_mapping_test - a read-only shared file mapping read whole, then
//  released: its resident pages are gone, its bytes read the same again;
//  private, writable and anonymous memory, and no mapping at all, refused.
#include "tly_mapping.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"

#define S_FILE_BYTES (4 << 20)

//  Resident KiB of the mapping that starts at start (/proc/self/smaps).
static long
s_resident_kb (const void *start)
{
    FILE *smaps = fopen ("/proc/self/smaps", "re");
    assert (smaps);
    char line [512];
    bool inside = false;
    long kb = -1;
    while (fgets (line, sizeof line, smaps)) {
        uintptr_t low, high;
        //  A mapping's first line starts "low-high "; its fields' lines
        //  ("Rss:", "Anonymous:") never parse as two numbers.
        if (sscanf (line, "%" SCNxPTR "-%" SCNxPTR " ", &low, &high) == 2) {
            inside = low == (uintptr_t) start;
            continue;
        }
        if (inside && sscanf (line, "Rss: %ld kB", &kb) == 1)
            break;
    }
    fclose (smaps);
    return kb;
}

static uint64_t
s_sum (const uint8_t *bytes, size_t size)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < size; i += 512)
        sum = sum * 31 + bytes [i];
    return sum;
}

void
tly_mapping_test (bool verbose)
{
    if (verbose)
        printf (" * tly_mapping: ");
    char dir [256], path [512];
    th_dir_new (dir, sizeof dir, "tly-mapping");
    snprintf (path, sizeof path, "%s/data", dir);
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    assert (fd != -1);
    uint8_t *block = malloc (S_FILE_BYTES);
    assert (block);
    for (size_t i = 0; i < S_FILE_BYTES; i++)
        block [i] = (uint8_t) (i * 7 + i / 4096);
    assert (write (fd, block, S_FILE_BYTES) == S_FILE_BYTES);

    //  Read whole through a read-only shared map, as LMDB reads: resident.
    uint8_t *map = mmap (NULL, S_FILE_BYTES, PROT_READ, MAP_SHARED, fd, 0);
    assert (map != MAP_FAILED);
    uint64_t sum = s_sum (map, S_FILE_BYTES);
    assert (sum == s_sum (block, S_FILE_BYTES));
    assert (s_resident_kb (map) >= S_FILE_BYTES / 1024 / 2);
    void *start;
    size_t size;
    bool shared_read_only;
    assert (tly_mapping_find (map + 12345, &start, &size, &shared_read_only) == 0);
    assert (start == map && size == S_FILE_BYTES && shared_read_only);

    //  Released from any address inside: nothing resident; the same bytes.
    assert (tly_mapping_release (map + S_FILE_BYTES - 1) == 0);
    assert (s_resident_kb (map) == 0);
    assert (s_sum (map, S_FILE_BYTES) == sum);
    assert (s_resident_kb (map) > 0);
    assert (tly_mapping_release (map) == 0);
    assert (s_resident_kb (map) == 0);

    //  A private map of the same file, a writable shared one, the heap and
    //  the stack: refused, their pages left alone.
    uint8_t *private = mmap (NULL, S_FILE_BYTES, PROT_READ, MAP_PRIVATE, fd, 0);
    uint8_t *writable = mmap (NULL, S_FILE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert (private != MAP_FAILED && writable != MAP_FAILED);
    writable [0] = 42;
    errno = 0;
    assert (tly_mapping_release (private) == -1 && errno == EINVAL);
    assert (tly_mapping_release (writable) == -1 && errno == EINVAL);
    assert (writable [0] == 42);
    assert (tly_mapping_release (block) == -1 && errno == EINVAL);
    assert (block [1] == 7);
    int local = 5;
    assert (tly_mapping_release (&local) == -1 && errno == EINVAL);
    assert (local == 5);
    //  No mapping at all holds the first page.
    assert (tly_mapping_find ((void *) 16, &start, &size, &shared_read_only) == -1);
    assert (tly_mapping_release ((void *) 16) == -1 && errno == ENOENT);

    munmap (private, S_FILE_BYTES);
    munmap (writable, S_FILE_BYTES);
    munmap (map, S_FILE_BYTES);
    close (fd);
    free (block);
    th_dir_remove (dir);
    if (verbose)
        printf ("OK\n");
}
