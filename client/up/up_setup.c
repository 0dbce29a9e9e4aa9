//  up_setup - the data directory of `tally up`: lock, worker account,
//  state files, and where the server binaries are.
#include "up.h"
#include "cli.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_WORKER_NAME "tally up worker"

extern char **environ;

int
up_mkdir_p (const char *dir, mode_t mode)
{
    assert (dir && *dir);
    char path [PATH_MAX];
    if (snprintf (path, sizeof path, "%s", dir) >= (int) sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *slash = strchr (path + 1, '/'); slash; slash = strchr (slash + 1, '/')) {
        *slash = 0;
        if (mkdir (path, mode) == -1 && errno != EEXIST)
            return -1;
        *slash = '/';
    }
    if (mkdir (path, mode) == -1 && errno != EEXIST)
        return -1;
    struct stat info;
    if (stat (path, &info) == -1)
        return -1;
    if (!S_ISDIR (info.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int
up_lock_dir (const char *dir)
{
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/up.lock", dir);
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd == -1)
        return -1;
    if (flock (fd, LOCK_EX | LOCK_NB) == -1) {
        int saved = errno;
        close (fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int
up_worker_account (const char *dir, tly_account_t *account, bool *created, char *error,
                   size_t error_size)
{
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/worker.json", dir);
    *created = false;
    if (access (path, F_OK) == 0) {
        struct stat info;
        if (stat (path, &info) == 0 && (info.st_mode & 077))
            fprintf (stderr, "tally up: warning: %s is readable by others; run chmod 600 on it\n",
                     path);
        return tly_account_from_file (path, account, error, error_size);
    }
    if (tly_account_generate (account) == -1) {
        snprintf (error, error_size, "cannot generate the worker account (libsodium failed)");
        return -1;
    }
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *file = fd == -1 ? NULL : fdopen (fd, "w");
    if (!file) {
        snprintf (error, error_size, "cannot create %s: %s", path, strerror (errno));
        if (fd != -1)
            close (fd);
        return -1;
    }
    char id [TLY_ID_MAX], secret [TLY_SECRET_MAX];
    tly_account_id (account->sign_pk, id);
    tly_account_secret (account, secret);
    cli_json_account (file, id, secret, S_WORKER_NAME);
    sodium_memzero (secret, sizeof secret);
    bool written = fflush (file) == 0 && fsync (fd) == 0;
    if (fclose (file) != 0 || !written) {
        snprintf (error, error_size, "cannot write %s: %s", path, strerror (errno));
        unlink (path);
        return -1;
    }
    *created = true;
    return 0;
}

static bool
s_executable (const char *dir, const char *name, char *out, size_t out_size)
{
    if (snprintf (out, out_size, "%s/%s", dir, name) >= (int) out_size)
        return false;
    struct stat info;
    return stat (out, &info) == 0 && S_ISREG (info.st_mode) && access (out, X_OK) == 0;
}

//  Appends ", place" to the list of searched places.
static void
s_searched (char *error, size_t error_size, const char *place)
{
    size_t used = strlen (error);
    if (used < error_size)
        snprintf (error + used, error_size - used, "%s%s", used ? ", " : "", place);
}

int
up_find_binary (const char *name, const char *build_subdir, const char *bin_dir, char *out,
                size_t out_size, char *error, size_t error_size)
{
    error [0] = 0;
    if (bin_dir) {
        if (s_executable (bin_dir, name, out, out_size))
            return 0;
        s_searched (error, error_size, bin_dir);
        return -1;
    }
    char self [PATH_MAX];
    ssize_t size = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (size > 0) {
        self [size] = 0;
        const char *exe_dir = dirname (self);
        if (s_executable (exe_dir, name, out, out_size))
            return 0;
        s_searched (error, error_size, exe_dir);
        char build_dir [PATH_MAX];
        snprintf (build_dir, sizeof build_dir, "%s/../%s", exe_dir, build_subdir);
        if (s_executable (build_dir, name, out, out_size))
            return 0;
        s_searched (error, error_size, build_dir);
    }
    const char *path = getenv ("PATH");
    if (path) {
        char *copy = strdup (path);
        assert (copy);
        char *cursor = copy;
        for (char *dir = strsep (&cursor, ":"); dir; dir = strsep (&cursor, ":"))
            if (*dir && s_executable (dir, name, out, out_size)) {
                free (copy);
                return 0;
            }
        free (copy);
        s_searched (error, error_size, "$PATH");
    }
    return -1;
}

int
up_write_file (const char *path, const char *text, mode_t mode)
{
    char temporary [PATH_MAX];
    if (snprintf (temporary, sizeof temporary, "%s.tmp", path) >= (int) sizeof temporary) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open (temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd == -1)
        return -1;
    size_t size = strlen (text);
    errno = 0;
    bool ok = write (fd, text, size) == (ssize_t) size;
    ok = close (fd) == 0 && ok;
    if (!ok) {
        int saved = errno ? errno : EIO;
        unlink (temporary);
        errno = saved;
        return -1;
    }
    return rename (temporary, path);
}

char **
up_env_new (const char *const *extra)
{
    size_t count = 0;
    for (char **at = environ; *at; at++)
        count++;
    for (const char *const *at = extra; *at; at++)
        count++;
    char **env = calloc (count + 1, sizeof *env);
    assert (env);
    size_t used = 0;
    for (char **at = environ; *at; at++)
        if (strncmp (*at, "TALLY_WORKER_", strlen ("TALLY_WORKER_")) != 0) {
            env [used] = strdup (*at);
            assert (env [used]);
            used++;
        }
    for (const char *const *at = extra; *at; at++) {
        env [used] = strdup (*at);
        assert (env [used]);
        used++;
    }
    assert (used <= count);
    return env;
}

void
up_env_destroy (char ***env_p)
{
    assert (env_p);
    char **env = *env_p;
    if (!env)
        return;
    for (char **at = env; *at; at++) {
        sodium_memzero (*at, strlen (*at));
        free (*at);
    }
    free (env);
    *env_p = NULL;
}

int
up_curve_keys (const char *dir, char gateway_key [TLY_CURVE_Z85_CHARS + 1], char *error,
               size_t error_size)
{
    char keys [PATH_MAX];
    snprintf (keys, sizeof keys, "%s/" UP_KEYS_SUBDIR, dir);
    return cli_keys_cluster (keys, -1, -1, gateway_key, error, error_size);
}
