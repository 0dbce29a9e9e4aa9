//  tly_gateway_rejects_test - refusals counted per peer and code, reported
//  once a window has ended (also with no refusal after it), at most
//  TLY_REJECT_PEERS_MAX peers by name and the rest as peer=others.
#include "tly_gateway_rejects.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tly_limits.h"
#include "tly_log.h"

//  What call wrote on stderr (the log), into text.
#define CATCH_STDERR(text, call)                                           \
    do {                                                                   \
        fflush (stderr);                                                   \
        FILE *file_ = tmpfile ();                                          \
        assert (file_);                                                    \
        int saved_ = dup (STDERR_FILENO);                                  \
        assert (saved_ >= 0 && dup2 (fileno (file_), STDERR_FILENO) >= 0); \
        call;                                                              \
        fflush (stderr);                                                   \
        assert (dup2 (saved_, STDERR_FILENO) >= 0);                        \
        close (saved_);                                                    \
        rewind (file_);                                                    \
        size_t size_ = fread ((text), 1, sizeof (text) - 1, file_);        \
        (text) [size_] = 0;                                                \
        fclose (file_);                                                    \
    } while (0)

static int
s_lines (const char *text, const char *part)
{
    int lines = 0;
    for (const char *at = text; (at = strstr (at, part)); at += strlen (part))
        lines++;
    return lines;
}

void
tly_gateway_rejects_test (bool verbose)
{
    if (verbose)
        printf (" * tly_gateway_rejects: ");
    tly_log_init ("tly_gateway_rejects_test", TLY_INFO);
    tly_gateway_rejects_t *rejects = tly_gateway_rejects_new (1000);
    assert (rejects);
    assert (tly_gateway_rejects_deadline (rejects) == INT64_MAX);

    //  A window opens with its first refusal and reports nothing before its end.
    static char text [16384];
    CATCH_STDERR (text, {
        for (int i = 0; i < 3; i++)
            tly_gateway_rejects_count (rejects, "10.0.0.1", TALLY__ERROR_CODE__BAD_REQUEST,
                                       5000 + i);
        tly_gateway_rejects_count (rejects, "10.0.0.1", TALLY__ERROR_CODE__BAD_SIGNATURE, 5100);
        tly_gateway_rejects_count (rejects, NULL, TALLY__ERROR_CODE__STALE_TIMESTAMP, 5200);
        tly_gateway_rejects_report (rejects, 5999);
    });
    assert (text [0] == 0);
    assert (tly_gateway_rejects_deadline (rejects) == 6000);

    //  At its end, one line per peer with the count of each code.
    CATCH_STDERR (text, tly_gateway_rejects_report (rejects, 6000));
    assert (s_lines (text, "event=client.rejections ") == 2);
    assert (
        strstr (text, "peer=10.0.0.1 rejected=4 window_ms=1000 BAD_REQUEST=3 BAD_SIGNATURE=1\n"));
    assert (strstr (text, "peer=unknown rejected=1 window_ms=1000 STALE_TIMESTAMP=1\n"));
    assert (tly_gateway_rejects_deadline (rejects) == INT64_MAX);
    CATCH_STDERR (text, tly_gateway_rejects_report (rejects, 9000));
    assert (text [0] == 0);  //  reported once

    //  A refusal after a window's end reports that window first and opens the next.
    CATCH_STDERR (text, {
        tly_gateway_rejects_count (rejects, "10.0.0.2", TALLY__ERROR_CODE__NOT_FOUND, 10000);
        tly_gateway_rejects_count (rejects, "10.0.0.2", TALLY__ERROR_CODE__NOT_FOUND, 11000);
    });
    assert (s_lines (text, "event=client.rejections ") == 1);
    assert (strstr (text, "peer=10.0.0.2 rejected=1 window_ms=1000 NOT_FOUND=1\n"));
    assert (tly_gateway_rejects_deadline (rejects) == 12000);
    CATCH_STDERR (text, tly_gateway_rejects_report (rejects, 12000));
    assert (strstr (text, "peer=10.0.0.2 rejected=1 window_ms=1000 NOT_FOUND=1\n"));

    //  Past TLY_REJECT_PEERS_MAX peers in a window, the rest are summed.
    CATCH_STDERR (text, {
        for (int peer = 0; peer < TLY_REJECT_PEERS_MAX + 5; peer++) {
            char address [32];
            snprintf (address, sizeof address, "10.1.0.%d", peer);
            for (int i = 0; i <= peer; i++)
                tly_gateway_rejects_count (rejects, address, TALLY__ERROR_CODE__BAD_REQUEST, 20000);
        }
        tly_gateway_rejects_report (rejects, 21000);
    });
    assert (s_lines (text, "event=client.rejections ") == TLY_REJECT_PEERS_MAX + 1);
    assert (strstr (text, "peer=10.1.0.0 rejected=1 "));
    //  Peers 16..20 sent 17 + 18 + 19 + 20 + 21 refusals.
    assert (strstr (text, "peer=others rejected=95 window_ms=1000 BAD_REQUEST=95\n"));
    assert (!strstr (text, "peer=10.1.0.16 "));

    tly_gateway_rejects_destroy (&rejects);
    assert (rejects == NULL);
    if (verbose)
        printf ("OK\n");
}
