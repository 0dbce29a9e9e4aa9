//  up_child - one server process supervised by `tally up`.
#include "up.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

struct _up_child_t {
    char name [UP_NAME_MAX];
    char *binary;
    char *argv [UP_ARGS_MAX + 1];  //  NULL-terminated copies
    char *const *envp;             //  borrowed
    char *log_path;
    char *exec_failed;  //  preformatted: the child may only call async-signal-safe code
    pid_t pid;          //  0 when not running
    int64_t restarts [UP_RESTARTS_MAX];  //  monotonic ms of the latest restarts, a ring
    size_t restart_next;
    size_t restart_count;
};

up_child_t *
up_child_new (const char *name, const char *binary, const char *const *argv, char *const *envp,
              const char *log_path)
{
    assert (name && binary && argv && envp && log_path);
    assert (strlen (name) < UP_NAME_MAX);
    up_child_t *self = calloc (1, sizeof *self);
    assert (self);
    snprintf (self->name, sizeof self->name, "%s", name);
    self->binary = strdup (binary);
    self->log_path = strdup (log_path);
    assert (self->binary && self->log_path);
    self->argv [0] = strdup (binary);
    assert (self->argv [0]);
    for (size_t i = 1; argv [i]; i++) {
        assert (i < UP_ARGS_MAX);
        self->argv [i] = strdup (argv [i]);
        assert (self->argv [i]);
    }
    self->envp = envp;
    int size = asprintf (&self->exec_failed, "tally up: cannot execute %s\n", binary);
    assert (size > 0);
    return self;
}

void
up_child_destroy (up_child_t **self_p)
{
    assert (self_p);
    up_child_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; self->argv [i]; i++)
        free (self->argv [i]);
    free (self->binary);
    free (self->log_path);
    free (self->exec_failed);
    free (self);
    *self_p = NULL;
}

//  Runs in the forked child: only async-signal-safe calls until exec.
static void
s_exec (up_child_t *self, int log_fd, int null_fd, pid_t parent)
{
    setpgid (0, 0);
    //  If `tally up` dies without stopping us (SIGKILL), we stop too.
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    if (getppid () != parent)
        _exit (1);
    dup2 (null_fd, STDIN_FILENO);
    dup2 (log_fd, STDOUT_FILENO);
    dup2 (log_fd, STDERR_FILENO);
    struct sigaction dfl;
    memset (&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    int reset [] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD };
    for (size_t i = 0; i < sizeof reset / sizeof reset [0]; i++)
        sigaction (reset [i], &dfl, NULL);
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    execve (self->binary, self->argv, self->envp);
    ssize_t written = write (STDERR_FILENO, self->exec_failed, strlen (self->exec_failed));
    (void) written;
    _exit (127);
}

int
up_child_start (up_child_t *self)
{
    assert (self);
    assert (self->pid == 0);
    int log_fd = open (self->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd == -1)
        return -1;
    int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd == -1) {
        close (log_fd);
        return -1;
    }
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid == 0)
        s_exec (self, log_fd, null_fd, parent);
    int saved = errno;
    close (log_fd);
    close (null_fd);
    if (pid == -1) {
        errno = saved;
        return -1;
    }
    //  Also set from the parent, so a signal sent right away hits the right group.
    setpgid (pid, pid);
    self->pid = pid;
    return 0;
}

void
up_child_exited (up_child_t *self, int status)
{
    assert (self);
    assert (self->pid > 0);
    assert (WIFEXITED (status) || WIFSIGNALED (status));
    self->pid = 0;
}

bool
up_child_may_restart (up_child_t *self, int64_t now_ms)
{
    assert (self);
    if (self->restart_count == UP_RESTARTS_MAX) {
        //  The ring is full: its oldest entry is the one about to be overwritten.
        int64_t oldest = self->restarts [self->restart_next];
        if (now_ms - oldest < UP_RESTART_WINDOW_MS)
            return false;
    } else
        self->restart_count++;
    self->restarts [self->restart_next] = now_ms;
    self->restart_next = (self->restart_next + 1) % UP_RESTARTS_MAX;
    return true;
}

int
up_child_signal (up_child_t *self, int sig)
{
    assert (self);
    if (self->pid == 0)
        return 0;
    return kill (self->pid, sig);
}

pid_t
up_child_pid (up_child_t *self)
{
    assert (self);
    return self->pid;
}

const char *
up_child_name (up_child_t *self)
{
    assert (self);
    return self->name;
}

const char *
up_child_log (up_child_t *self)
{
    assert (self);
    return self->log_path;
}

void
up_describe_status (int status, char *out, size_t out_size)
{
    if (WIFEXITED (status))
        snprintf (out, out_size, "exited with status %d", WEXITSTATUS (status));
    else if (WIFSIGNALED (status))
        snprintf (out, out_size, "killed by signal %d (%s)", WTERMSIG (status),
                  strsignal (WTERMSIG (status)));
    else
        snprintf (out, out_size, "changed state (status 0x%x)", (unsigned) status);
}
