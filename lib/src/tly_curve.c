//  tly_curve - CurveZMQ keys, known peers and the TCP rule. See tly_curve.h.
#include "tly_curve.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tly_limits.h"
#include "tly_log.h"

//  libzmq asks the handler bound here about every handshake of a socket
//  that has a ZAP domain (RFC 27).
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

static const char *s_domains [] = { "anyone", "actors", "gateways" };

typedef struct {
    bool has;
    uint8_t key [TLY_CURVE_KEY_BYTES];
} s_public_t;

struct _tly_curve_t {
    char process [64];
    bool insecure;
    bool has_secret;
    uint8_t public_key [TLY_CURVE_KEY_BYTES];
    uint8_t secret_key [TLY_CURVE_KEY_BYTES];
    s_public_t servers [2];   //  by tly_curve_server_t
    const char *folders [3];  //  by tly_curve_peers_t; NULL: none given
    const char *flags [3];    //  the flag that names each folder
    zactor_t *zap;            //  the handshake checker, when a folder is given
};

bool
tly_curve_needed (const char *endpoint)
{
    assert (endpoint);
    return strncmp (endpoint, "ipc://", 6) != 0 && strncmp (endpoint, "inproc://", 9) != 0;
}

//  The 32 bytes of 40 Z85 characters, or -1.
static int
s_z85_key (const char *text, uint8_t key [TLY_CURVE_KEY_BYTES])
{
    if (!text || strlen (text) != TLY_CURVE_Z85_CHARS)
        return -1;
    return zmq_z85_decode (key, text) ? 0 : -1;
}

//  The value of "NAME = \"...\"" on a line of a certificate file (czmq's
//  zcert text format: ZPL), into value; false when the line is not NAME's.
static bool
s_cert_value (const char *line, const char *name, char *value, size_t size)
{
    line += strspn (line, " \t");
    size_t length = strlen (name);
    if (strncmp (line, name, length) != 0)
        return false;
    line += length;
    line += strspn (line, " \t");
    if (*line++ != '=')
        return false;
    line += strspn (line, " \t");
    char quote = (*line == '"' || *line == '\'') ? *line++ : 0;
    size_t used = quote ? strcspn (line, quote == '"' ? "\"" : "'") : strcspn (line, " \t\r\n#");
    if (used >= size)
        return false;
    memcpy (value, line, used);
    value [used] = 0;
    return true;
}

//  Reads a certificate file's public key and, when secret is not NULL, its
//  secret key too. error says which part is wrong, never a key.
static int
s_read_cert (const char *path, uint8_t public_key [TLY_CURVE_KEY_BYTES], uint8_t *secret,
             char *error, size_t error_size)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (error, error_size, "cannot read %s: %s", path, strerror (errno));
        return -1;
    }
    char line [512], public_text [64] = "", secret_text [64] = "";
    while (fgets (line, sizeof line, file)) {
        s_cert_value (line, "public-key", public_text, sizeof public_text);
        s_cert_value (line, "secret-key", secret_text, sizeof secret_text);
    }
    fclose (file);
    sodium_memzero (line, sizeof line);
    int rc = 0;
    if (s_z85_key (public_text, public_key) == -1) {
        snprintf (error, error_size, "%s has no valid curve public-key", path);
        rc = -1;
    } else if (secret && s_z85_key (secret_text, secret) == -1) {
        snprintf (error, error_size,
                  "%s has no valid curve secret-key (is it the .key_secret file?)", path);
        rc = -1;
    }
    sodium_memzero (secret_text, sizeof secret_text);
    return rc;
}

int
tly_curve_public_parse (const char *text, uint8_t key [TLY_CURVE_KEY_BYTES], char *error,
                        size_t error_size)
{
    assert (text && key && error);
    //  A file first: a path can be 40 characters of the Z85 alphabet too.
    if (access (text, F_OK) == 0)
        return s_read_cert (text, key, NULL, error, error_size);
    if (s_z85_key (text, key) == 0)
        return 0;
    if (strlen (text) == TLY_CURVE_Z85_CHARS)
        snprintf (error, error_size, "'%s' is not a Z85 key (40 characters of the Z85 alphabet)",
                  text);
    else
        snprintf (error, error_size, "no such key file, and not a Z85 key: %s", text);
    return -1;
}

//  The ZAP handler: one REP socket, answering each handshake from the
//  folder of the socket's domain.
typedef struct {
    tly_curve_t *curve;
    zcertstore_t *stores [3];
    tly_log_limit_t refused_log;
} s_zap_t;

static void
s_zap_answer (zsock_t *handler, s_zap_t *zap)
{
    zmsg_t *request = zmsg_recv (handler);
    if (!request)
        return;
    char *version = zmsg_popstr (request);
    char *request_id = zmsg_popstr (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    zframe_t *routing_id = zmsg_pop (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *credential = zmsg_pop (request);

    const char *status = "400";
    const char *reason = "unknown key";
    char key_text [TLY_CURVE_Z85_CHARS + 1] = "";
    int peers = -1;
    for (int index = 0; domain && index < 3; index++)
        if (streq (domain, s_domains [index]))
            peers = index;
    if (!mechanism || !streq (mechanism, "CURVE"))
        reason = "CURVE is required";
    else if (!credential || zframe_size (credential) != TLY_CURVE_KEY_BYTES)
        reason = "no client key";
    else {
        zmq_z85_encode (key_text, zframe_data (credential), TLY_CURVE_KEY_BYTES);
        if (peers == TLY_CURVE_ANYONE
            || (peers > 0 && zap->stores [peers]
                && zcertstore_lookup (zap->stores [peers], key_text))) {
            status = "200";
            reason = "OK";
        }
    }
    if (*status != '2')
        //  A public key and an address are not secrets: the operator needs
        //  them to tell a misconfigured peer from a stranger.
        tly_log_limited (&zap->refused_log, TLY_WARN, "curve.refused",
                         "peers=%s key=%s address=%s reason=\"%s\"", peers >= 0 ? domain : "?",
                         *key_text ? key_text : "-", address ? address : "?", reason);
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, request_id ? request_id : "");
    zmsg_addstr (reply, status);
    zmsg_addstr (reply, reason);
    zmsg_addstr (reply, key_text);
    zmsg_addmem (reply, NULL, 0);
    zmsg_send (&reply, handler);

    zstr_free (&version);
    zstr_free (&request_id);
    zstr_free (&domain);
    zstr_free (&address);
    zframe_destroy (&routing_id);
    zstr_free (&mechanism);
    zframe_destroy (&credential);
    zmsg_destroy (&request);
}

static void
s_zap_actor (zsock_t *pipe, void *args)
{
    s_zap_t zap = { .curve = args,
                    .refused_log = TLY_LOG_LIMIT (TLY_REJECT_LOG_BURST, TLY_REJECT_LOG_WINDOW_MS) };
    zsock_t *handler = zsock_new (ZMQ_REP);
    if (!handler || zsock_bind (handler, ZAP_ENDPOINT) == -1) {
        zsock_destroy (&handler);
        zsock_signal (pipe, 1);
        return;
    }
    for (int peers = TLY_CURVE_ACTORS; peers <= TLY_CURVE_GATEWAYS; peers++)
        if (zap.curve->folders [peers])
            zap.stores [peers] = zcertstore_new (zap.curve->folders [peers]);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, handler, NULL);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe || !which) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            zstr_free (&command);
            if (term || !which)
                break;
        } else
            s_zap_answer (handler, &zap);
    }
    zpoller_destroy (&poller);
    for (int peers = TLY_CURVE_ACTORS; peers <= TLY_CURVE_GATEWAYS; peers++)
        zcertstore_destroy (&zap.stores [peers]);
    zsock_destroy (&handler);
}

static int
s_check_folder (const char *flag, const char *folder, char *error, size_t error_size)
{
    struct stat info;
    if (stat (folder, &info) == -1 || !S_ISDIR (info.st_mode) || access (folder, R_OK | X_OK)) {
        snprintf (error, error_size, "%s %s: not a readable folder of public keys", flag, folder);
        return -1;
    }
    return 0;
}

tly_curve_t *
tly_curve_new (const char *process, const tly_curve_config_t *config, char *error,
               size_t error_size)
{
    assert (process && config && error);
    tly_curve_t *self = calloc (1, sizeof *self);
    assert (self);
    snprintf (self->process, sizeof self->process, "%s", process);
    self->insecure = config->insecure;
    if (config->secret_file) {
        struct stat info;
        if (stat (config->secret_file, &info) == 0 && (info.st_mode & 077)) {
            snprintf (error, error_size,
                      "--curve-secret %s is readable by others (mode %03o): chmod 600 it",
                      config->secret_file, (unsigned) (info.st_mode & 0777));
            goto failed;
        }
        char reason [512];
        if (s_read_cert (config->secret_file, self->public_key, self->secret_key, reason,
                         sizeof reason)) {
            snprintf (error, error_size, "--curve-secret: %s", reason);
            goto failed;
        }
        self->has_secret = true;
    }
    const char *server_keys [2] = { config->router_key, config->audit_key };
    const char *server_flags [2] = { "--router-key", "--audit-key" };
    for (int server = 0; server < 2; server++) {
        if (!server_keys [server])
            continue;
        char reason [512];
        if (tly_curve_public_parse (server_keys [server], self->servers [server].key, reason,
                                    sizeof reason)) {
            snprintf (error, error_size, "%s: %s", server_flags [server], reason);
            goto failed;
        }
        self->servers [server].has = true;
    }
    self->folders [TLY_CURVE_ACTORS] = config->actor_keys;
    self->folders [TLY_CURVE_GATEWAYS] = config->gateway_keys;
    self->flags [TLY_CURVE_ACTORS] = "--actor-keys";
    self->flags [TLY_CURVE_GATEWAYS] = "--gateway-keys";
    for (int peers = TLY_CURVE_ACTORS; peers <= TLY_CURVE_GATEWAYS; peers++)
        if (self->folders [peers]
            && s_check_folder (self->flags [peers], self->folders [peers], error, error_size))
            goto failed;
    if (self->folders [TLY_CURVE_ACTORS] || self->folders [TLY_CURVE_GATEWAYS]) {
        //  Started before any socket binds, so no handshake goes unchecked.
        self->zap = zactor_new (s_zap_actor, self);
        if (!self->zap) {
            snprintf (error, error_size, "cannot start the CURVE handshake checker");
            goto failed;
        }
    }
    return self;
failed:
    tly_curve_destroy (&self);
    return NULL;
}

void
tly_curve_destroy (tly_curve_t **self_p)
{
    assert (self_p);
    tly_curve_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->zap);
    sodium_memzero (self->secret_key, sizeof self->secret_key);
    free (self);
    *self_p = NULL;
}

//  The --insecure case: allowed, and said once per endpoint.
static int
s_plain (tly_curve_t *self, zsock_t *sock, const char *endpoint, const char *missing, char *error,
         size_t error_size)
{
    if (!self->insecure) {
        snprintf (error, error_size,
                  "%s is TCP without CURVE (%s): give the keys (docs/architecture.md, "
                  "\"Security\") or --insecure to run it in clear text",
                  endpoint, missing);
        return -1;
    }
    if (sock)
        tly_log (TLY_WARN, "curve.insecure",
                 "endpoint=%s reason=\"--insecure: clear text, and any peer may connect\"",
                 endpoint);
    return 0;
}

int
tly_curve_serve (tly_curve_t *self, zsock_t *sock, const char *endpoint, tly_curve_peers_t peers,
                 char *error, size_t error_size)
{
    assert (self && endpoint && error);
    if (!tly_curve_needed (endpoint))
        return 0;
    if (!self->has_secret)
        return s_plain (self, sock, endpoint, "no --curve-secret", error, error_size);
    if (peers != TLY_CURVE_ANYONE && !self->folders [peers]) {
        char missing [64];
        snprintf (missing, sizeof missing, "no %s", self->flags [peers]);
        return s_plain (self, sock, endpoint, missing, error, error_size);
    }
    if (!sock)
        return 0;
    zsock_set_curve_server (sock, 1);
    zsock_set_curve_secretkey_bin (sock, self->secret_key);
    if (peers != TLY_CURVE_ANYONE) {
        //  Checked by our handler, and refused outright if it is not there.
        zsock_set_zap_domain (sock, s_domains [peers]);
        zsock_set_zap_enforce_domain (sock, 1);
    }
    return 0;
}

static void
s_client (zsock_t *sock, const uint8_t server [TLY_CURVE_KEY_BYTES],
          const uint8_t public_key [TLY_CURVE_KEY_BYTES],
          const uint8_t secret_key [TLY_CURVE_KEY_BYTES])
{
    zsock_set_curve_serverkey_bin (sock, server);
    zsock_set_curve_publickey_bin (sock, public_key);
    zsock_set_curve_secretkey_bin (sock, secret_key);
}

int
tly_curve_connect (tly_curve_t *self, zsock_t *sock, const char *endpoint,
                   tly_curve_server_t server, char *error, size_t error_size)
{
    assert (self && endpoint && error);
    if (!tly_curve_needed (endpoint))
        return 0;
    if (!self->has_secret)
        return s_plain (self, sock, endpoint, "no --curve-secret", error, error_size);
    if (!self->servers [server].has)
        return s_plain (self, sock, endpoint,
                        server == TLY_CURVE_ROUTER ? "no --router-key" : "no --audit-key", error,
                        error_size);
    if (sock)
        s_client (sock, self->servers [server].key, self->public_key, self->secret_key);
    return 0;
}

int
tly_curve_client_of (zsock_t *sock, const char *gateway_key, char *error, size_t error_size)
{
    assert (sock && gateway_key && error);
    uint8_t server [TLY_CURVE_KEY_BYTES];
    if (tly_curve_public_parse (gateway_key, server, error, error_size))
        return -1;
    //  The transport key is anyone's: the client's signatures say who it is.
    uint8_t public_key [TLY_CURVE_KEY_BYTES], secret_key [TLY_CURVE_KEY_BYTES];
    crypto_box_keypair (public_key, secret_key);
    s_client (sock, server, public_key, secret_key);
    sodium_memzero (secret_key, sizeof secret_key);
    return 0;
}

int
tly_curve_keygen (const char *dir, const char *name, char public_z85 [TLY_CURVE_Z85_CHARS + 1],
                  char *error, size_t error_size)
{
    assert (dir && name && error);
    char public_path [1024], secret_path [1024];
    if ((size_t) snprintf (public_path, sizeof public_path, "%s/%s" TLY_CURVE_PUBLIC_EXT, dir, name)
            >= sizeof public_path
        || (size_t) snprintf (secret_path, sizeof secret_path, "%s/%s" TLY_CURVE_SECRET_EXT, dir,
                              name)
               >= sizeof secret_path) {
        snprintf (error, error_size, "%s/%s: path too long", dir, name);
        return -1;
    }
    if (access (public_path, F_OK) == 0 || access (secret_path, F_OK) == 0) {
        snprintf (error, error_size, "%s already has keys named %s; not overwritten", dir, name);
        return -1;
    }
    uint8_t public_key [TLY_CURVE_KEY_BYTES], secret_key [TLY_CURVE_KEY_BYTES];
    crypto_box_keypair (public_key, secret_key);
    char public_text [TLY_CURVE_Z85_CHARS + 1], secret_text [TLY_CURVE_Z85_CHARS + 1];
    zmq_z85_encode (public_text, public_key, TLY_CURVE_KEY_BYTES);
    zmq_z85_encode (secret_text, secret_key, TLY_CURVE_KEY_BYTES);
    sodium_memzero (secret_key, sizeof secret_key);

    int rc = -1;
    const char *head = "#   ZeroMQ CURVE %s Certificate (tally)\n"
                       "#   Exchange the public one (.key) freely;"
                       " keep the secret one (.key_secret) to this process.\n\n"
                       "metadata\n    name = \"%s\"\ncurve\n    public-key = \"%s\"\n";
    //  The secret file is created 0600 and must not exist: no window in
    //  which it is readable by others, no following a planted link.
    int fd = open (secret_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    FILE *secret = fd == -1 ? NULL : fdopen (fd, "w");
    if (!secret) {
        snprintf (error, error_size, "cannot create %s: %s", secret_path, strerror (errno));
        if (fd != -1)
            close (fd);
        goto done;
    }
    fprintf (secret, head, "Secret", name, public_text);
    fprintf (secret, "    secret-key = \"%s\"\n", secret_text);
    if (fclose (secret) != 0) {
        snprintf (error, error_size, "cannot write %s: %s", secret_path, strerror (errno));
        unlink (secret_path);
        goto done;
    }
    fd = open (public_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
    FILE *public = fd == -1 ? NULL : fdopen (fd, "w");
    if (!public) {
        snprintf (error, error_size, "cannot create %s: %s", public_path, strerror (errno));
        if (fd != -1)
            close (fd);
        unlink (secret_path);
        goto done;
    }
    fprintf (public, head, "Public", name, public_text);
    if (fclose (public) != 0) {
        snprintf (error, error_size, "cannot write %s: %s", public_path, strerror (errno));
        unlink (public_path);
        unlink (secret_path);
        goto done;
    }
    if (public_z85)
        memcpy (public_z85, public_text, sizeof public_text);
    rc = 0;
done:
    sodium_memzero (secret_text, sizeof secret_text);
    return rc;
}
