//  sdk_unit - runs the self-test of every libtally class, each against a
//  scripted in-process gateway where it needs one:
//      sdk_unit [-v] [CLASS]...        (all classes when none is named)
#include <assert.h>
#include <czmq.h>
#include <sodium.h>

#include "harness.h"

void tly_codec_test (bool verbose);
void tly_sender_test (bool verbose);
void tly_object_test (bool verbose);
void tly_order_test (bool verbose);
void tly_watcher_test (bool verbose);

static const th_unit_t s_units [] = {
    { "tly_codec", tly_codec_test },     { "tly_sender", tly_sender_test },
    { "tly_object", tly_object_test },   { "tly_order", tly_order_test },
    { "tly_watcher", tly_watcher_test }, { NULL, NULL }
};

int
main (int argc, char *argv [])
{
    zsys_handler_set (NULL);
    assert (sodium_init () >= 0);
    return th_unit_run (s_units, argc, argv);
}
