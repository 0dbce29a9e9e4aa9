//  tly_curve - CurveZMQ on the hops that leave the host: key files, the
//  known-peer lists, and the rule that a TCP endpoint is encrypted and
//  authenticated unless the operator says --insecure.
//
//  Keys are czmq certificate files (zcert's text format): NAME.key holds the
//  public key, NAME.key_secret the public and the secret key and is mode 0600.
//  A process reads its own secret from a file (--curve-secret), never from
//  its command line, and never logs it. Public keys of the servers a process
//  connects to are given as a .key file or as 40 Z85 characters
//  (--router-key, --audit-key, $TALLY_GATEWAY_KEY). A server that accepts
//  only known peers reads their public keys from a folder of .key files
//  (--actor-keys, --gateway-keys), reread whenever the folder changes, so a
//  key is added or retired without a restart.
//
//      tly_curve_t *curve = tly_curve_new ("tally-router", &config, error, sizeof error);
//      zsock_t *backend = zsock_new (ZMQ_ROUTER);
//      if (tly_curve_serve (curve, backend, endpoint, TLY_CURVE_ACTORS, error, sizeof error))
//          ...  //  a TCP endpoint with no key and no --insecure: one line, exit 2
//      zsock_bind (backend, "%s", endpoint);
//
//  Unix sockets (ipc://) and inproc stay as they are: the file system's
//  permissions guard them, and `tally up` keeps its hops there.
#ifndef TLY_CURVE_H_INCLUDED
#define TLY_CURVE_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLY_CURVE_KEY_BYTES  32
#define TLY_CURVE_Z85_CHARS  40                   //  a key's Z85 text, without NUL
#define TLY_CURVE_PUBLIC_EXT ".key"               //  a public certificate's file name
#define TLY_CURVE_SECRET_EXT ".key_secret"        //  its secret twin, mode 0600
#define TLY_ENV_GATEWAY_KEY  "TALLY_GATEWAY_KEY"  //  the gateway's public key, for clients

//  Which peers a server socket lets in: one folder of public keys each.
typedef enum {
    TLY_CURVE_ANYONE,   //  any client key (the gateway's client edge: clients are
                        //  authenticated by their signatures, not their transport)
    TLY_CURVE_ACTORS,   //  balance actors: router backend, bus in, audit writer
    TLY_CURVE_GATEWAYS  //  gateways: router frontend, bus out
} tly_curve_peers_t;

//  The servers a process connects to, each with its own public key.
typedef enum {
    TLY_CURVE_ROUTER,
    TLY_CURVE_AUDIT
} tly_curve_server_t;

//  A process's CURVE flags; every field may be NULL (false) when the process
//  has no such flag or it was not given. The strings point into argv.
typedef struct {
    const char *secret_file;   //  --curve-secret: this process's own certificate
    const char *router_key;    //  --router-key: the router's public key
    const char *audit_key;     //  --audit-key: the audit writer's public key
    const char *actor_keys;    //  --actor-keys: folder of trusted actor keys
    const char *gateway_keys;  //  --gateway-keys: folder of trusted gateway keys
    bool insecure;             //  --insecure: TCP in clear text is allowed
} tly_curve_config_t;

typedef struct _tly_curve_t tly_curve_t;

//  Loads the keys config names and, when it names a folder of peers, starts
//  the handler that checks every handshake against it (before any socket
//  binds). NULL with one line in error (no key material in it) when a file
//  is missing, unreadable, malformed or readable by others.
tly_curve_t *tly_curve_new (const char *process, const tly_curve_config_t *config, char *error,
                            size_t error_size);
void tly_curve_destroy (tly_curve_t **self_p);

//  Makes sock, about to bind endpoint, a CURVE server letting in peers when
//  endpoint is TCP (or any transport that leaves the host). Returns -1 with
//  one line in error when it cannot: no own key, or no folder for peers,
//  and no --insecure. With --insecure it logs a warning and leaves sock in
//  clear text. With sock NULL it only checks, silently: a process calls
//  that first, to refuse at start before it opens anything.
int tly_curve_serve (tly_curve_t *self, zsock_t *sock, const char *endpoint,
                     tly_curve_peers_t peers, char *error, size_t error_size);

//  The same for a socket about to connect to server at endpoint.
int tly_curve_connect (tly_curve_t *self, zsock_t *sock, const char *endpoint,
                       tly_curve_server_t server, char *error, size_t error_size);

//  Whether endpoint's transport leaves the host (tcp, ws, ...): everything
//  but ipc:// and inproc://.
bool tly_curve_needed (const char *endpoint);

//  A public key from text: the path of a certificate file (public or
//  secret; only its public key is read) when such a file exists, else 40
//  Z85 characters. -1 with one line in error.
int tly_curve_public_parse (const char *text, uint8_t key [TLY_CURVE_KEY_BYTES], char *error,
                            size_t error_size);

//  Makes sock, about to connect to a gateway, a CURVE client of the gateway
//  whose public key is gateway_key (as tly_curve_public_parse reads it),
//  with a fresh key pair of its own. -1 with one line in error.
int tly_curve_client_of (zsock_t *sock, const char *gateway_key, char *error, size_t error_size);

//  Writes a new key pair as DIR/NAME.key (mode 0644) and DIR/NAME.key_secret
//  (mode 0600), refusing to overwrite either; puts the public key's Z85
//  text in public_z85 when not NULL. -1 with one line in error.
int tly_curve_keygen (const char *dir, const char *name, char public_z85 [TLY_CURVE_Z85_CHARS + 1],
                      char *error, size_t error_size);

#endif
