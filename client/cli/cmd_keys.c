//  tally keys - CurveZMQ key pairs for the servers: one (new), or a whole
//  cluster's set (cluster), as `tally up` makes them and docker-compose.yml
//  mounts them.
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
s_usage (FILE *out)
{
    fputs ("usage: tally keys new NAME [--dir DIR]\n"
           "       tally keys cluster DIR [--owner UID[:GID]]\n"
           "       tally keys show FILE\n"
           "\n"
           "new      writes DIR/NAME.key (the public key, to hand to peers) and\n"
           "         DIR/NAME.key_secret (mode 0600, for --curve-secret) and prints the\n"
           "         public key in Z85 (DIR default: .)\n"
           "cluster  makes, in DIR, what every server of one cluster needs, keeping any\n"
           "         key already there: audit, router, gateway and balance (one key for\n"
           "         every actor) .key and .key_secret, and the folders the servers trust,\n"
           "         actors/ (balance.key, for --actor-keys) and gateways/ (gateway.key,\n"
           "         for --gateway-keys). --owner gives the files to the user the\n"
           "         servers run as (the images run as 10001), as the secrets stay 0600.\n"
           "show     prints the public key of a .key or .key_secret file in Z85\n"
           "\n"
           "Secret keys are never printed. Rotation: add the new public key to the\n"
           "trusted folder, restart the peer with its new secret, remove the old key.\n",
           out);
}

static int
s_owner (const char *text, uid_t *uid, gid_t *gid)
{
    char *end;
    errno = 0;
    unsigned long user = strtoul (text, &end, 10);
    unsigned long group = user;
    if (*end == ':')
        group = strtoul (end + 1, &end, 10);
    if (errno || *end || end == text || user > 0xfffffffeUL || group > 0xfffffffeUL)
        return -1;
    *uid = (uid_t) user;
    *gid = (gid_t) group;
    return 0;
}

//  Copies the public certificate from into the trusted folder as to, once.
static int
s_trust (const char *from, const char *to, char *error, size_t error_size)
{
    if (access (to, F_OK) == 0)
        return 0;
    FILE *in = fopen (from, "r");
    char text [4096];
    size_t size = in ? fread (text, 1, sizeof text, in) : 0;
    if (in)
        fclose (in);
    FILE *out = size ? fopen (to, "w") : NULL;
    bool written = out && fwrite (text, 1, size, out) == size;
    if (out && fclose (out) != 0)
        written = false;
    if (!written) {
        snprintf (error, error_size, "cannot copy %s to %s: %s", from, to, strerror (errno));
        return -1;
    }
    return chmod (to, 0644);
}

int
cli_keys_cluster (const char *dir, int64_t uid, int64_t gid,
                  char gateway_key [TLY_CURVE_Z85_CHARS + 1], char *error, size_t error_size)
{
    static const char *names [] = { "router", "audit", "gateway", "balance" };
    static const char *folders [][2] = { { "actors", "balance" }, { "gateways", "gateway" } };
    char path [4200], trusted [4300];
    //  0755: the secrets guard themselves (0600), and clients read gateway.key.
    if ((mkdir (dir, 0755) == -1 && errno != EEXIST) || chmod (dir, 0755) == -1) {
        snprintf (error, error_size, "cannot create %s: %s", dir, strerror (errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof names / sizeof names [0]; i++) {
        snprintf (path, sizeof path, "%s/%s" TLY_CURVE_SECRET_EXT, dir, names [i]);
        if (access (path, F_OK) == -1
            && tly_curve_keygen (dir, names [i], NULL, error, error_size) == -1)
            return -1;
    }
    for (size_t i = 0; i < 2; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, folders [i][0]);
        if (mkdir (path, 0755) == -1 && errno != EEXIST) {
            snprintf (error, error_size, "cannot create %s: %s", path, strerror (errno));
            return -1;
        }
        snprintf (path, sizeof path, "%s/%s" TLY_CURVE_PUBLIC_EXT, dir, folders [i][1]);
        snprintf (trusted, sizeof trusted, "%s/%s/%s" TLY_CURVE_PUBLIC_EXT, dir, folders [i][0],
                  folders [i][1]);
        if (s_trust (path, trusted, error, error_size) == -1)
            return -1;
    }
    if (uid >= 0) {
        //  The servers read their secrets as this user; the rest stays readable.
        const char *owned [] = { "", "/actors", "/gateways", "/actors/balance.key",
                                 "/gateways/gateway.key" };
        for (size_t i = 0; i < sizeof owned / sizeof owned [0]; i++) {
            snprintf (path, sizeof path, "%s%s", dir, owned [i]);
            if (chown (path, (uid_t) uid, (gid_t) gid) == -1)
                goto failed;
        }
        for (size_t i = 0; i < sizeof names / sizeof names [0]; i++)
            for (int secret = 0; secret < 2; secret++) {
                snprintf (path, sizeof path, "%s/%s%s", dir, names [i],
                          secret ? TLY_CURVE_SECRET_EXT : TLY_CURVE_PUBLIC_EXT);
                if (chown (path, (uid_t) uid, (gid_t) gid) == -1)
                    goto failed;
            }
    }
    snprintf (path, sizeof path, "%s/gateway" TLY_CURVE_PUBLIC_EXT, dir);
    uint8_t key [TLY_CURVE_KEY_BYTES];
    if (tly_curve_public_parse (path, key, error, error_size) == -1)
        return -1;
    if (gateway_key)
        zmq_z85_encode (gateway_key, key, sizeof key);
    return 0;
failed:
    snprintf (error, error_size, "cannot give %s to %lld:%lld: %s", path, (long long) uid,
              (long long) gid, strerror (errno));
    return -1;
}

int
cli_keys (int argc, char **argv)
{
    if (argc >= 2 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0)) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    const char *verb = argc >= 2 ? argv [1] : "";
    if (strcmp (verb, "new") != 0 && strcmp (verb, "cluster") != 0 && strcmp (verb, "show") != 0) {
        fprintf (stderr, "tally keys: expected 'new', 'cluster' or 'show'; see --help\n");
        return CLI_EXIT_USAGE;
    }
    char command [32];
    snprintf (command, sizeof command, "tally keys %s", verb);
    const char *dir = ".", *owner = NULL;
    tly_flag_t flags [] = { TLY_FLAG_TEXT ("--dir", &dir), TLY_FLAG_TEXT ("--owner", &owner),
                            TLY_FLAG_HELP };
    int operand;
    int rc = cli_parse_flags (command, s_usage, flags, sizeof flags / sizeof flags [0], argc - 1,
                              argv + 1, &operand);
    if (rc != -1)
        return rc;
    //  One operand: NAME, DIR or FILE.
    int operands = argc - 1 - operand;
    if (operands != 1) {
        fprintf (stderr, "%s: expected one %s; see --help\n", command,
                 strcmp (verb, "new") == 0    ? "NAME"
                 : strcmp (verb, "show") == 0 ? "FILE"
                                              : "DIR");
        return CLI_EXIT_USAGE;
    }
    const char *what = argv [operand + 1];
    char error [4400];
    char z85 [TLY_CURVE_Z85_CHARS + 1];
    if (strcmp (verb, "new") == 0) {
        if (owner || !*what || strchr (what, '/')) {
            fprintf (stderr, "%s: %s\n", command,
                     owner ? "--owner is for `tally keys cluster`"
                           : "NAME is a file name (no '/'); give the folder with --dir");
            return CLI_EXIT_USAGE;
        }
        if (tly_curve_keygen (dir, what, z85, error, sizeof error) == -1) {
            fprintf (stderr, "%s: %s\n", command, error);
            return CLI_EXIT_USAGE;
        }
        printf ("%s\n", z85);
        return CLI_EXIT_OK;
    }
    if (strcmp (verb, "show") == 0) {
        uint8_t key [TLY_CURVE_KEY_BYTES];
        if (access (what, R_OK) == -1) {
            fprintf (stderr, "%s: cannot read %s: %s\n", command, what, strerror (errno));
            return CLI_EXIT_USAGE;
        }
        if (tly_curve_public_parse (what, key, error, sizeof error) == -1) {
            fprintf (stderr, "%s: %s\n", command, error);
            return CLI_EXIT_USAGE;
        }
        zmq_z85_encode (z85, key, sizeof key);
        printf ("%s\n", z85);
        return CLI_EXIT_OK;
    }
    uid_t uid = 0;
    gid_t gid = 0;
    if (owner && s_owner (owner, &uid, &gid) == -1) {
        fprintf (stderr, "%s: --owner must be UID or UID:GID, got '%s'\n", command, owner);
        return CLI_EXIT_USAGE;
    }
    if (cli_keys_cluster (what, owner ? (int64_t) uid : -1, owner ? (int64_t) gid : -1, z85, error,
                          sizeof error)
        == -1) {
        fprintf (stderr, "%s: %s\n", command, error);
        return CLI_EXIT_USAGE;
    }
    printf ("gateway key %s\n", z85);
    return CLI_EXIT_OK;
}
