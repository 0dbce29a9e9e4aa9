//  tly_stop - SIGINT and SIGTERM as a flag for the main loop.
#include "tly_stop.h"

#include <czmq.h>
#include <signal.h>

static volatile sig_atomic_t s_requested = 0;

static void
s_on_signal (int signum)
{
    (void) signum;
    s_requested = 1;
}

void
tly_stop_install (void)
{
    zsys_handler_set (NULL);
    struct sigaction action = { .sa_handler = s_on_signal };
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
}

bool
tly_stop_requested (void)
{
    return s_requested != 0;
}
