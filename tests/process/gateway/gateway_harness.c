//  gateway_harness - runs the real tally-gateway binary for a test.
#include "gateway_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

bool gateway_harness_verbose = false;
static pid_t s_gateway_pid = 0;

void
gateway_harness_fail (const char *file, int line, const char *condition)
{
    fprintf (stderr, "FAIL %s:%d: %s\n", file, line, condition);
    if (s_gateway_pid > 0)
        kill (s_gateway_pid, SIGKILL);
    exit (1);
}

void
gateway_harness_step (const char *text)
{
    if (gateway_harness_verbose)
        printf (" * %s\n", text);
}

int
gateway_harness_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    struct sockaddr_in address = { .sin_family = AF_INET };
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    CHECK (bind (fd, (struct sockaddr *) &address, sizeof (address)) == 0);
    socklen_t length = sizeof (address);
    CHECK (getsockname (fd, (struct sockaddr *) &address, &length) == 0);
    close (fd);
    return ntohs (address.sin_port);
}

//  Starts the gateway; when output_fd is not NULL the child's stdout and
//  stderr go to a pipe read from *output_fd.
static pid_t
s_spawn (char *argv [], const char *worker_env, int *output_fd)
{
    int fds [2] = { -1, -1 };
    if (output_fd)
        CHECK (pipe (fds) == 0);
    fflush (stdout);
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        if (output_fd) {
            dup2 (fds [1], STDOUT_FILENO);
            dup2 (fds [1], STDERR_FILENO);
            close (fds [0]);
            close (fds [1]);
        }
        if (worker_env)
            setenv ("TALLY_WORKER_ACCOUNT", worker_env, 1);
        else
            unsetenv ("TALLY_WORKER_ACCOUNT");
        argv [0] = TALLY_GATEWAY_BIN;
        execv (argv [0], argv);
        _exit (127);
    }
    if (output_fd) {
        close (fds [1]);
        *output_fd = fds [0];
    }
    return pid;
}

int
gateway_harness_run (char *argv [], const char *worker_env, char *out, size_t out_size)
{
    int fd = -1;
    pid_t pid = s_spawn (argv, worker_env, &fd);
    size_t used = 0;
    ssize_t got;
    while (used + 1 < out_size && (got = read (fd, out + used, out_size - 1 - used)) > 0)
        used += (size_t) got;
    out [used] = 0;
    close (fd);
    int status = 0;
    CHECK (waitpid (pid, &status, 0) == pid);
    CHECK (WIFEXITED (status));
    if (gateway_harness_verbose)
        printf ("   exit %d: %.*s\n", WEXITSTATUS (status), (int) strcspn (out, "\n"), out);
    return WEXITSTATUS (status);
}

void
gateway_harness_start (char *argv [], const char *worker_env)
{
    CHECK (s_gateway_pid == 0);
    s_gateway_pid = s_spawn (argv, worker_env, NULL);
}

void
gateway_harness_stop (void)
{
    CHECK (s_gateway_pid > 0);
    CHECK (kill (s_gateway_pid, SIGTERM) == 0);
    int status = 0;
    CHECK (waitpid (s_gateway_pid, &status, 0) == s_gateway_pid);
    s_gateway_pid = 0;
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}
