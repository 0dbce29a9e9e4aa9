//  tly_curve_test - key files made and read back (modes, refusals), the TCP
//  rule with and without --insecure, and the handshake checker on real
//  sockets: a trusted key gets through, a stranger's does not, a key added
//  to the folder later does.
#include "tly_curve.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

//  Whether a DEALER with the key pair in secret_file reaches server (bound
//  at endpoint) within timeout_ms: it sends one frame and the server reads it.
//  A peer that must get through is given a long deadline (a handshake under
//  valgrind on a loaded machine took over 500 ms); one that must not, a short
//  wait, as its refusal comes at the handshake.
#define S_REACH_MS   20000
#define S_REFUSED_MS 500
static bool
s_reaches (zsock_t *server, const char *endpoint, const char *secret_file,
           const char *server_public, int timeout_ms)
{
    zsock_t *client = zsock_new (ZMQ_DEALER);
    assert (client);
    zsock_set_linger (client, 0);
    tly_curve_config_t config = { .secret_file = secret_file, .router_key = server_public };
    char error [512];
    tly_curve_t *curve = tly_curve_new ("test", &config, error, sizeof error);
    assert (curve);
    assert (tly_curve_connect (curve, client, endpoint, TLY_CURVE_ROUTER, error, sizeof error)
            == 0);
    assert (zsock_connect (client, "%s", endpoint) == 0);
    zstr_send (client, "hello");
    zpoller_t *poller = zpoller_new (server, NULL);
    bool reached = zpoller_wait (poller, timeout_ms) == server;
    if (reached) {
        zmsg_t *msg = zmsg_recv (server);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&client);
    tly_curve_destroy (&curve);
    return reached;
}

void
tly_curve_test (bool verbose)
{
    if (verbose)
        printf (" * tly_curve: ");
    char dir [256], path [512], other [512], error [512];
    th_dir_new (dir, sizeof dir, "tly-curve");

    //  Key files: modes, Z85 and file forms agree, no overwrite.
    char z85 [TLY_CURVE_Z85_CHARS + 1];
    assert (tly_curve_keygen (dir, "server", z85, error, sizeof error) == 0);
    assert (strlen (z85) == TLY_CURVE_Z85_CHARS);
    struct stat info;
    snprintf (path, sizeof path, "%s/server.key_secret", dir);
    assert (stat (path, &info) == 0 && (info.st_mode & 0777) == 0600);
    snprintf (path, sizeof path, "%s/server.key", dir);
    assert (stat (path, &info) == 0 && (info.st_mode & 0777) == 0644);
    uint8_t from_file [TLY_CURVE_KEY_BYTES], from_text [TLY_CURVE_KEY_BYTES];
    assert (tly_curve_public_parse (path, from_file, error, sizeof error) == 0);
    assert (tly_curve_public_parse (z85, from_text, error, sizeof error) == 0);
    assert (memcmp (from_file, from_text, sizeof from_file) == 0);
    assert (tly_curve_keygen (dir, "server", NULL, error, sizeof error) == -1);
    assert (strstr (error, "not overwritten"));
    assert (tly_curve_public_parse ("short", from_text, error, sizeof error) == -1);
    assert (strstr (error, "not a Z85 key"));
    assert (tly_curve_public_parse ("0123456789012345678901234567890123456789\"", from_text, error,
                                    sizeof error)
            == -1);

    //  A secret readable by others, a public file given as the secret.
    snprintf (other, sizeof other, "%s/server.key_secret", dir);
    assert (chmod (other, 0640) == 0);
    tly_curve_config_t config = { .secret_file = other };
    assert (tly_curve_new ("test", &config, error, sizeof error) == NULL);
    assert (strstr (error, "readable by others (mode 640)"));
    assert (chmod (other, 0600) == 0);
    config.secret_file = path;  //  server.key, 0644
    assert (tly_curve_new ("test", &config, error, sizeof error) == NULL);

    //  The TCP rule: no keys refuses TCP and lets Unix sockets be;
    //  --insecure lets TCP be too.
    config = (tly_curve_config_t) { 0 };
    tly_curve_t *none = tly_curve_new ("test", &config, error, sizeof error);
    assert (none);
    assert (tly_curve_serve (none, NULL, "tcp://127.0.0.1:1", TLY_CURVE_ACTORS, error, sizeof error)
            == -1);
    assert (strstr (error, "TCP without CURVE (no --curve-secret)"));
    assert (tly_curve_serve (none, NULL, "ipc:///tmp/x.sock", TLY_CURVE_ACTORS, error, sizeof error)
            == 0);
    assert (tly_curve_connect (none, NULL, "inproc://x", TLY_CURVE_AUDIT, error, sizeof error)
            == 0);
    tly_curve_destroy (&none);
    config.insecure = true;
    none = tly_curve_new ("test", &config, error, sizeof error);
    assert (tly_curve_serve (none, NULL, "tcp://127.0.0.1:1", TLY_CURVE_ACTORS, error, sizeof error)
            == 0);
    tly_curve_destroy (&none);

    //  The handshake checker: a trusted actor gets through, a stranger not,
    //  and one added to the folder later does.
    char actors [512];
    snprintf (actors, sizeof actors, "%s/actors", dir);
    assert (mkdir (actors, 0755) == 0);
    assert (tly_curve_keygen (actors, "friend", NULL, error, sizeof error) == 0);
    assert (tly_curve_keygen (dir, "stranger", NULL, error, sizeof error) == 0);
    config = (tly_curve_config_t) { .secret_file = other, .actor_keys = actors };
    tly_curve_t *curve = tly_curve_new ("test", &config, error, sizeof error);
    assert (curve);
    zsock_t *server = zsock_new (ZMQ_ROUTER);
    assert (server);
    zsock_set_linger (server, 0);
    assert (
        tly_curve_serve (curve, server, "tcp://127.0.0.1:*", TLY_CURVE_ACTORS, error, sizeof error)
        == 0);
    int port = zsock_bind (server, "tcp://127.0.0.1:*");
    assert (port > 0);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    char friend [600], stranger [600];
    snprintf (friend, sizeof friend, "%s/friend.key_secret", actors);
    snprintf (stranger, sizeof stranger, "%s/stranger.key_secret", dir);
    assert (s_reaches (server, endpoint, friend, z85, S_REACH_MS));
    assert (!s_reaches (server, endpoint, stranger, z85, S_REFUSED_MS));
    //  Trusted once its public key is in the folder (the folder is reread
    //  when it changes: its file count changes here).
    char command [1400];
    snprintf (command, sizeof command, "cp '%s/stranger.key' '%s/'", dir, actors);
    assert (system (command) == 0);
    assert (s_reaches (server, endpoint, stranger, z85, S_REACH_MS));
    zsock_destroy (&server);
    tly_curve_destroy (&curve);

    //  A folder that is not there.
    config.actor_keys = "/nonexistent";
    assert (tly_curve_new ("test", &config, error, sizeof error) == NULL);
    assert (strstr (error, "--actor-keys /nonexistent: not a readable folder"));

    th_dir_remove (dir);
    if (verbose)
        printf ("OK\n");
}
