//  tally-audit - the audit-log writer process: keeps tally's journal, taking
//  balance actors' appends and reads (tly_audit_writer).
#include "tly_audit_config.h"
#include "tly_audit_writer.h"
#include "tly_fault.h"
#include "tly_health.h"
#include "tly_log.h"
#include "tly_stop.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>

int
main (int argc, char *argv [])
{
    tly_audit_writer_config_t config;
    const char *health_file;
    tly_level_t level;
    tly_flags_parsed_t parsed = tly_audit_config_parse (&config, &health_file, &level, argc, argv);
    if (parsed != TLY_FLAGS_RUN)
        return tly_flags_exit_status (parsed);
    tly_log_init (TLY_AUDIT_PROCESS, level);
    tly_stop_install ();

    char error [TLY_AUDIT_WRITER_ERROR_MAX];
    //  Test builds only (tly_fault.h): the storage failures to inject.
    if (TLY_FAULT_INIT (error, sizeof error) == -1) {
        fprintf (stderr, TLY_AUDIT_PROCESS ": %s\n", error);
        return 2;
    }
    tly_health_t *health = NULL;
    if (health_file && !(health = tly_health_new (health_file, error, sizeof error))) {
        fprintf (stderr, TLY_AUDIT_PROCESS ": %s\n", error);
        return 2;
    }
    tly_audit_writer_t *writer = tly_audit_writer_new (&config, error, sizeof error);
    if (!writer) {
        fprintf (stderr, TLY_AUDIT_PROCESS ": %s\n", error);
        tly_health_destroy (&health);
        return 2;
    }
    zsock_t *socket = tly_audit_writer_socket (writer);
    zpoller_t *poller = zpoller_new (socket, NULL);
    assert (poller);

    //  The loop: serve what waits on the socket (appends committed together,
    //  then reads), then sign the head if a record has waited long enough;
    //  then say it runs (--health-file).
    while (!tly_stop_requested ()) {
        int wait_ms = (int) tly_health_poll_ms (health, tly_audit_writer_wait_ms (writer));
        if (zpoller_wait (poller, wait_ms) == socket)
            tly_audit_writer_serve (writer);
        tly_audit_writer_tick (writer);
        tly_health_beat (health, TLY_HEALTH_READY);
    }
    tly_health_beat (health, TLY_HEALTH_STOPPING);
    //  A clean stop leaves the whole chain signed.
    tly_audit_writer_sign (writer);
    tly_log (TLY_INFO, "stopped", "head_seq=%" PRIu64, tly_audit_writer_head_seq (writer));
    zpoller_destroy (&poller);
    tly_audit_writer_destroy (&writer);
    tly_health_destroy (&health);
    return 0;
}
