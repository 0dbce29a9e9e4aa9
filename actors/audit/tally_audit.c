//  tally-audit - the audit-log writer process: keeps tally's journal, taking
//  balance actors' appends and reads (tly_audit_writer).
#include "tly_audit_config.h"
#include "tly_audit_writer.h"
#include "tly_log.h"
#include "tly_stop.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>

int
main (int argc, char *argv [])
{
    tly_audit_writer_config_t config;
    tly_level_t level;
    tly_flags_parsed_t parsed = tly_audit_config_parse (&config, &level, argc, argv);
    if (parsed != TLY_FLAGS_RUN)
        return tly_flags_exit_status (parsed);
    tly_log_init (TLY_AUDIT_PROCESS, level);
    tly_stop_install ();

    char error [TLY_AUDIT_WRITER_ERROR_MAX];
    tly_audit_writer_t *writer = tly_audit_writer_new (&config, error, sizeof error);
    if (!writer) {
        fprintf (stderr, TLY_AUDIT_PROCESS ": %s\n", error);
        return 2;
    }
    zsock_t *socket = tly_audit_writer_socket (writer);
    zpoller_t *poller = zpoller_new (socket, NULL);
    assert (poller);

    //  The loop: serve what waits on the socket (appends committed together,
    //  then reads), then sign the head if a record has waited long enough.
    while (!tly_stop_requested ()) {
        if (zpoller_wait (poller, tly_audit_writer_wait_ms (writer)) == socket)
            tly_audit_writer_serve (writer);
        tly_audit_writer_tick (writer);
    }
    //  A clean stop leaves the whole chain signed.
    tly_audit_writer_sign (writer);
    tly_log (TLY_INFO, "stopped", "head_seq=%" PRIu64, tly_audit_writer_head_seq (writer));
    zpoller_destroy (&poller);
    tly_audit_writer_destroy (&writer);
    return 0;
}
