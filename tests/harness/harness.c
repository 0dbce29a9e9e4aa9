//  harness - the one test harness. See harness.h.
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_PROCESSES_MAX 64  //  processes alive at once in one test
#define S_ENV_MAX       8   //  environment changes of one process
#define S_POLL_MS       2   //  how often a wait looks at a child

struct _th_process_t {
    char name [32];
    char **argv;                //  a copy, NULL-terminated
    char *log_path;             //  NULL: the test's stdout and stderr
    char *env [S_ENV_MAX + 1];  //  NULL-terminated changes
    size_t env_count;
    pid_t pid;   //  0 when not running
    int status;  //  exit code of the last run, -1 before
};

bool th_verbose = false;

//  Every process object alive, so that a failed check can kill them all.
static th_process_t *s_processes [S_PROCESSES_MAX];

void
th_fail (const char *file, int line, const char *format, ...)
{
    fflush (stdout);
    fprintf (stderr, "%s:%d: ", file, line);
    va_list args;
    va_start (args, format);
    vfprintf (stderr, format, args);
    va_end (args);
    fprintf (stderr, "\n");
    for (size_t at = 0; at < S_PROCESSES_MAX; at++) {
        th_process_t *process = s_processes [at];
        if (process && process->pid > 0) {
            fprintf (stderr, "harness: killing %s (pid %d)\n", process->name, (int) process->pid);
            kill (process->pid, SIGKILL);
            waitpid (process->pid, NULL, 0);
            process->pid = 0;
        }
    }
    abort ();
}

void
th_step (const char *format, ...)
{
    if (!th_verbose)
        return;
    printf (" * ");
    va_list args;
    va_start (args, format);
    vprintf (format, args);
    va_end (args);
    printf ("\n");
    fflush (stdout);
}

int64_t
th_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void
th_sleep_ms (int64_t ms)
{
    struct timespec pause = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
    while (nanosleep (&pause, &pause) == -1 && errno == EINTR)
        ;
}

//  ------------------------------------------------------------------ children

//  The exit code of a wait status: 128 + the signal when killed by one, as
//  a shell reports it.
static int
s_exit_code (int status)
{
    return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

//  Forks and execs argv with the environment changes in env (NULL-terminated,
//  may be NULL); the child's stdout and stderr become out_fd and err_fd
//  unless those are -1.
static pid_t
s_spawn (char *const argv [], char *const env [], int out_fd, int err_fd)
{
    CHECK (argv && argv [0]);
    pid_t parent = getpid ();
    fflush (NULL);
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid > 0)
        return pid;
    //  A test that dies must not leave its servers running.
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != parent)
        _exit (127);
    //  A test may block signals it waits for; the server must get them.
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    if (out_fd >= 0 && dup2 (out_fd, STDOUT_FILENO) == -1)
        _exit (126);
    if (err_fd >= 0 && dup2 (err_fd, STDERR_FILENO) == -1)
        _exit (126);
    for (size_t at = 0; env && env [at]; at++) {
        char *equals = strchr (env [at], '=');
        if (equals) {
            *equals = 0;
            setenv (env [at], equals + 1, 1);
        } else
            unsetenv (env [at]);
    }
    execv (argv [0], argv);
    fprintf (stderr, "harness: cannot exec %s: %s\n", argv [0], strerror (errno));
    _exit (127);
}

//  Copies a NULL-terminated argv.
static char **
s_argv_copy (char *const argv [])
{
    size_t count = 0;
    while (argv [count])
        count++;
    char **copy = calloc (count + 1, sizeof (char *));
    CHECK (copy);
    for (size_t at = 0; at < count; at++) {
        copy [at] = strdup (argv [at]);
        CHECK (copy [at]);
    }
    return copy;
}

static void
s_argv_free (char **argv)
{
    for (size_t at = 0; argv [at]; at++)
        free (argv [at]);
    free (argv);
}

//  ------------------------------------------------------------------ processes

th_process_t *
th_process_new (const char *name, char *const argv [])
{
    CHECK (name && argv && argv [0]);
    th_process_t *self = calloc (1, sizeof *self);
    CHECK (self);
    snprintf (self->name, sizeof self->name, "%s", name);
    self->argv = s_argv_copy (argv);
    self->status = -1;
    size_t at = 0;
    while (at < S_PROCESSES_MAX && s_processes [at])
        at++;
    CHECK (at < S_PROCESSES_MAX);
    s_processes [at] = self;
    return self;
}

void
th_process_destroy (th_process_t **self_p)
{
    CHECK (self_p);
    th_process_t *self = *self_p;
    if (!self)
        return;
    if (self->pid > 0) {
        kill (self->pid, SIGKILL);
        waitpid (self->pid, NULL, 0);
    }
    for (size_t at = 0; at < S_PROCESSES_MAX; at++)
        if (s_processes [at] == self)
            s_processes [at] = NULL;
    s_argv_free (self->argv);
    free (self->log_path);
    for (size_t at = 0; at < self->env_count; at++)
        free (self->env [at]);
    free (self);
    *self_p = NULL;
}

void
th_process_set_log (th_process_t *self, const char *path)
{
    CHECK (self && path);
    free (self->log_path);
    self->log_path = strdup (path);
    CHECK (self->log_path);
}

void
th_process_set_env (th_process_t *self, const char *entry)
{
    CHECK (self && entry && self->env_count < S_ENV_MAX);
    self->env [self->env_count] = strdup (entry);
    CHECK (self->env [self->env_count]);
    self->env_count++;
}

void
th_process_start (th_process_t *self)
{
    CHECK (self && self->pid == 0);
    int log = -1;
    if (self->log_path) {
        log = open (self->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (log < 0)
            th_fail (__FILE__, __LINE__, "cannot open %s: %s", self->log_path, strerror (errno));
    }
    self->pid = s_spawn (self->argv, self->env, log, log);
    if (log >= 0)
        close (log);
}

int
th_process_status (th_process_t *self)
{
    CHECK (self);
    return self->status;
}

//  Reaps the process if it has ended: true then.
static bool
s_reap (th_process_t *self)
{
    int status = 0;
    pid_t pid = waitpid (self->pid, &status, WNOHANG);
    if (pid == 0)
        return false;
    if (pid != self->pid)
        th_fail (__FILE__, __LINE__, "cannot wait for %s: %s", self->name, strerror (errno));
    self->status = s_exit_code (status);
    self->pid = 0;
    return true;
}

bool
th_process_running (th_process_t *self)
{
    CHECK (self);
    return self->pid > 0 && !s_reap (self);
}

void
th_process_signal (th_process_t *self, int sig)
{
    CHECK (self && self->pid > 0);
    CHECK (kill (self->pid, sig) == 0);
}

long
th_process_memory_kb (th_process_t *self, const char *field)
{
    CHECK (self && self->pid > 0 && field);
    char path [64];
    snprintf (path, sizeof path, "/proc/%d/status", (int) self->pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    size_t length = strlen (field);
    char line [256];
    long kb = -1;
    while (kb == -1 && fgets (line, sizeof line, file))
        if (strncmp (line, field, length) == 0 && line [length] == ':')
            kb = strtol (line + length + 1, NULL, 10);
    fclose (file);
    return kb;
}

int
th_process_wait (th_process_t *self, int timeout_ms)
{
    CHECK (self && self->pid > 0);
    int64_t deadline = th_now_ms () + timeout_ms;
    while (!s_reap (self)) {
        if (th_now_ms () >= deadline)
            return -1;
        th_sleep_ms (S_POLL_MS);
    }
    return self->status;
}

int
th_process_stop (th_process_t *self, int timeout_ms)
{
    th_process_signal (self, SIGTERM);
    int code = th_process_wait (self, timeout_ms);
    if (code == -1) {
        fprintf (stderr, "harness: %s still runs %d ms after SIGTERM, killing it\n", self->name,
                 timeout_ms);
        th_process_signal (self, SIGKILL);
        code = th_process_wait (self, TH_DEADLINE_MS);
        CHECK (code != -1);
    }
    return code;
}

int
th_process_kill (th_process_t *self, int sig)
{
    th_process_signal (self, sig);
    int code = th_process_wait (self, TH_DEADLINE_MS);
    if (code == -1)
        th_fail (__FILE__, __LINE__, "%s still runs %d ms after signal %d", self->name,
                 TH_DEADLINE_MS, sig);
    return code;
}

//  ------------------------------------------------------------------ commands

//  Reads what fd has until it closes, into *text (grown as needed).
static void
s_read_all (int fd, char **text, size_t *size, size_t *capacity, int64_t deadline,
            const char *command)
{
    while (true) {
        int64_t left = deadline - th_now_ms ();
        if (left <= 0)
            th_fail (__FILE__, __LINE__, "%s did not end in time", command);
        struct pollfd item = { .fd = fd, .events = POLLIN };
        int ready = poll (&item, 1, (int) left);
        if (ready == -1 && errno == EINTR)
            continue;
        CHECK (ready >= 0);
        if (ready == 0)
            continue;
        if (*size + 4096 + 1 > *capacity) {
            *capacity = *capacity * 2 + 4096 + 1;
            *text = realloc (*text, *capacity);
            CHECK (*text);
        }
        ssize_t got = read (fd, *text + *size, *capacity - 1 - *size);
        if (got == -1 && errno == EINTR)
            continue;
        CHECK (got >= 0);
        if (got == 0)
            return;
        *size += (size_t) got;
    }
}

int
th_run (char *const argv [], const char *const env [], th_output_t output, char **captured,
        int timeout_ms)
{
    CHECK (argv && argv [0] && timeout_ms > 0);
    bool capture = output == TH_OUTPUT_CAPTURE || output == TH_OUTPUT_CAPTURE_STDOUT
                   || output == TH_OUTPUT_CAPTURE_STDERR;
    int fds [2] = { -1, -1 };
    if (capture)
        CHECK (pipe2 (fds, O_CLOEXEC) == 0);
    else if (output == TH_OUTPUT_DISCARD) {
        fds [1] = open ("/dev/null", O_WRONLY | O_CLOEXEC);
        CHECK (fds [1] >= 0);
    }
    int out_fd = output == TH_OUTPUT_CAPTURE_STDERR ? -1 : fds [1];
    int err_fd = output == TH_OUTPUT_CAPTURE_STDOUT ? -1 : fds [1];
    char **env_copy = s_argv_copy (env ? (char *const *) env : (char *const []) { NULL });
    int64_t deadline = th_now_ms () + timeout_ms;
    pid_t pid = s_spawn (argv, env_copy, out_fd, err_fd);
    s_argv_free (env_copy);
    if (fds [1] >= 0)
        close (fds [1]);

    char *text = NULL;
    size_t size = 0, capacity = 0;
    if (capture) {
        s_read_all (fds [0], &text, &size, &capacity, deadline, argv [0]);
        close (fds [0]);
    }
    int status = 0;
    pid_t ended = 0;
    while ((ended = waitpid (pid, &status, WNOHANG)) == 0) {
        if (th_now_ms () >= deadline) {
            kill (pid, SIGKILL);
            waitpid (pid, NULL, 0);
            th_fail (__FILE__, __LINE__, "%s did not end within %d ms", argv [0], timeout_ms);
        }
        th_sleep_ms (S_POLL_MS);
    }
    CHECK (ended == pid);
    if (captured) {
        if (!text) {
            text = malloc (1);
            CHECK (text);
        }
        text [size] = 0;
        *captured = text;
    } else
        free (text);
    return s_exit_code (status);
}

//  ------------------------------------------------------------------ files and ports

void
th_dir_new (char *dir, size_t size, const char *prefix)
{
    CHECK (dir && prefix);
    int length = snprintf (dir, size, "/tmp/%s.XXXXXX", prefix);
    CHECK (length > 0 && (size_t) length < size);
    CHECK (mkdtemp (dir));
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
th_dir_remove (const char *path)
{
    CHECK (path);
    if (access (path, F_OK) == -1 && errno == ENOENT)
        return;
    if (nftw (path, s_remove, 16, FTW_DEPTH | FTW_PHYS) != 0)
        th_fail (__FILE__, __LINE__, "cannot remove %s: %s", path, strerror (errno));
}

void
th_log_tail (const char *path, int lines)
{
    CHECK (path && lines > 0);
    fprintf (stderr, "--- %s\n", path);
    FILE *file = fopen (path, "r");
    if (!file) {
        fprintf (stderr, "(cannot read: %s)\n", strerror (errno));
        return;
    }
    char *text = NULL;
    size_t size = 0;
    FILE *copy = open_memstream (&text, &size);
    CHECK (copy);
    char buffer [4096];
    size_t got;
    while ((got = fread (buffer, 1, sizeof buffer, file)) > 0)
        CHECK (fwrite (buffer, 1, got, copy) == got);
    fclose (file);
    fclose (copy);
    //  Back from the end over `lines` line ends (a last one without a
    //  newline counts too).
    size_t start = size;
    int seen = 0;
    if (start > 0 && text [start - 1] == '\n')
        start--;
    while (start > 0 && seen < lines) {
        if (text [start - 1] == '\n')
            seen++;
        if (seen < lines)
            start--;
    }
    fwrite (text + start, 1, size - start, stderr);
    free (text);
}

//  Binds a TCP socket to port on loopback (0: the kernel picks) and returns
//  the port it got, or 0 when the port is taken. The socket is closed at
//  once: nothing can connect to it meanwhile.
static int
s_probe_port (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_port = htons ((uint16_t) port),
                                   .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    int got = 0;
    if (bind (fd, (struct sockaddr *) &address, sizeof address) == 0) {
        socklen_t length = sizeof address;
        CHECK (getsockname (fd, (struct sockaddr *) &address, &length) == 0);
        got = ntohs (address.sin_port);
    }
    close (fd);
    return got;
}

int
th_free_port (void)
{
    int port = s_probe_port (0);
    CHECK (port > 0);
    return port;
}

int
th_free_port_between (int first, int last)
{
    CHECK (first > 0 && first < last && last < 65536);
    int span = last - first + 1;
    for (int attempt = 0; attempt < span; attempt++) {
        uint32_t random = 0;
        CHECK (getrandom (&random, sizeof random, 0) == sizeof random);
        int port = s_probe_port (first + (int) (random % (uint32_t) span));
        if (port > 0)
            return port;
    }
    th_fail (__FILE__, __LINE__, "no free port in %d..%d", first, last);
}

//  ------------------------------------------------------------------ seeded streams

uint64_t
th_rng_next (uint64_t *state)
{
    CHECK (state);
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t
th_rng_below (uint64_t *state, uint64_t bound)
{
    CHECK (bound > 0);
    return th_rng_next (state) % bound;
}

//  ------------------------------------------------------------------ unit runner

int
th_unit_run (const th_unit_t *units, int argc, char *argv [])
{
    CHECK (units && argc >= 1);
    bool named = false;
    for (int at = 1; at < argc; at++) {
        if (strcmp (argv [at], "-v") == 0)
            th_verbose = true;
        else
            named = true;
    }
    //  Every name must be known before anything runs.
    for (int at = 1; at < argc; at++) {
        if (strcmp (argv [at], "-v") == 0)
            continue;
        const th_unit_t *unit = units;
        while (unit->name && strcmp (unit->name, argv [at]) != 0)
            unit++;
        if (!unit->name) {
            fprintf (stderr, "%s: no unit named %s\n", argv [0], argv [at]);
            return 2;
        }
    }
    for (const th_unit_t *unit = units; unit->name; unit++) {
        bool wanted = !named;
        for (int at = 1; at < argc && !wanted; at++)
            wanted = strcmp (argv [at], unit->name) == 0;
        if (wanted)
            unit->test (th_verbose);
    }
    return 0;
}
