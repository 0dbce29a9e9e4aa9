//  tly_router_epoch - the router's durable epoch counter.
//  See tly_router_epoch.h for the file format and the save order.
#include "tly_router_epoch.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

//  "18446744073709551615\n" and a NUL, with room to spot trailing junk.
#define EPOCH_TEXT_MAX 32

static int
s_path (const char *dir, const char *name, char *path)
{
    int size = snprintf (path, PATH_MAX, "%s/%s", dir, name);
    if (size < 0 || size >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

//  Writes all of text or fails; write() may stop early.
static int
s_write_all (int fd, const char *text, size_t size)
{
    while (size > 0) {
        ssize_t written = write (fd, text, size);
        if (written == -1) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        text += written;
        size -= (size_t) written;
    }
    return 0;
}

int
tly_router_epoch_lock (const char *dir, char *error, size_t error_size)
{
    assert (dir && error);
    char path [PATH_MAX];
    if (s_path (dir, TLY_ROUTER_LOCK_FILE, path) == -1) {
        snprintf (error, error_size, "data directory path too long: %s", dir);
        return -1;
    }
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd == -1) {
        snprintf (error, error_size, "cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    if (flock (fd, LOCK_EX | LOCK_NB) == -1) {
        snprintf (error, error_size, "%s is locked: another tally-router uses %s", path, dir);
        close (fd);
        return -1;
    }
    return fd;
}

int
tly_router_epoch_load (const char *dir, uint64_t *epoch, char *error, size_t error_size)
{
    assert (dir && epoch && error);
    char path [PATH_MAX];
    if (s_path (dir, TLY_ROUTER_EPOCH_FILE, path) == -1) {
        snprintf (error, error_size, "data directory path too long: %s", dir);
        return -1;
    }
    FILE *file = fopen (path, "r");
    if (!file) {
        if (errno == ENOENT) {
            *epoch = 0;
            return 0;
        }
        snprintf (error, error_size, "cannot read %s: %s", path, strerror (errno));
        return -1;
    }
    char text [EPOCH_TEXT_MAX];
    size_t size = fread (text, 1, sizeof text - 1, file);
    bool failed = ferror (file) != 0;
    fclose (file);
    text [size] = 0;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (failed || size == 0 || text [0] < '0' || text [0] > '9' || errno != 0
        || strcmp (end, "\n") != 0) {
        snprintf (error, error_size,
                  "%s is not an epoch counter (one decimal number and a newline); "
                  "restore it or remove it only if no actor ever ran",
                  path);
        return -1;
    }
    *epoch = (uint64_t) value;
    return 0;
}

int
tly_router_epoch_save (const char *dir, uint64_t epoch)
{
    assert (dir);
    char path [PATH_MAX];
    char temp [PATH_MAX];
    if (s_path (dir, TLY_ROUTER_EPOCH_FILE, path) == -1
        || s_path (dir, TLY_ROUTER_EPOCH_FILE ".tmp", temp) == -1)
        return -1;

    char text [EPOCH_TEXT_MAX];
    int size = snprintf (text, sizeof text, "%" PRIu64 "\n", epoch);
    assert (size > 0 && (size_t) size < sizeof text);

    int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd == -1)
        return -1;
    if (s_write_all (fd, text, (size_t) size) == -1 || fsync (fd) == -1) {
        int saved = errno;
        close (fd);
        unlink (temp);
        errno = saved;
        return -1;
    }
    if (close (fd) == -1 || rename (temp, path) == -1)
        return -1;
    //  The rename is only durable once the directory entry is.
    int dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd == -1)
        return -1;
    int rc = fsync (dir_fd);
    int saved = errno;
    close (dir_fd);
    errno = saved;
    return rc;
}
