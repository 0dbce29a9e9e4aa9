//  tly_account_load - an account from the environment or an account file.
#include "tly_account_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
tly_account_from_env (const char *id_var, const char *secret_var, const char *id_value,
                      const char *secret_value, tly_account_t *account, char *error,
                      size_t error_size)
{
    const char *id = id_value ? id_value : getenv (id_var);
    const char *secret = secret_value ? secret_value : getenv (secret_var);
    if (!id || !*id) {
        snprintf (error, error_size, "%s is not set (expected co_z...)", id_var);
        return -1;
    }
    if (!secret || !*secret) {
        snprintf (error, error_size, "%s is not set (expected sealerSecret_z.../signerSecret_z...)",
                  secret_var);
        return -1;
    }
    uint8_t key [TLY_KEY_BYTES];
    if (tly_account_id_parse (id, key) == -1) {
        snprintf (error, error_size, "%s is malformed: not co_z + base58 of an Ed25519 key",
                  id_var);
        return -1;
    }
    char reason [128];
    if (tly_account_parse (id, secret, account, reason, sizeof reason) == -1) {
        snprintf (error, error_size, "%s is malformed: %s", secret_var, reason);
        return -1;
    }
    return 0;
}

static const char *
s_skip_space (const char *at)
{
    while (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r')
        at++;
    return at;
}

//  Finds "key": "value" in a small flat JSON object; value has no escapes.
//  Only a key counts: "key" after the opening brace or a comma and before
//  a colon, so the same text as another field's value is passed over.
static int
s_json_string (const char *json, const char *key, char *out, size_t out_size)
{
    char quoted [32];
    snprintf (quoted, sizeof quoted, "\"%s\"", key);
    const char *at = NULL;
    for (const char *found = strstr (json, quoted); found && !at;
         found = strstr (found + 1, quoted)) {
        const char *before = found;
        while (before > json
               && (before [-1] == ' ' || before [-1] == '\t' || before [-1] == '\n'
                   || before [-1] == '\r'))
            before--;
        const char *after = s_skip_space (found + strlen (quoted));
        if (before > json && (before [-1] == '{' || before [-1] == ',') && *after == ':')
            at = after + 1;
    }
    if (!at)
        return -1;
    at = s_skip_space (at);
    if (*at++ != '"')
        return -1;
    const char *end = strchr (at, '"');
    if (!end || (size_t) (end - at) >= out_size)
        return -1;
    memcpy (out, at, (size_t) (end - at));
    out [end - at] = 0;
    return 0;
}

int
tly_account_from_file (const char *path, tly_account_t *account, char *error, size_t error_size)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (error, error_size, "cannot read account file %s: %s", path, strerror (errno));
        return -1;
    }
    //  An account file is about 200 bytes; one past the buffer is refused,
    //  never read in part.
    char json [TLY_ACCOUNT_FILE_MAX + 1];
    size_t size = fread (json, 1, sizeof json, file);
    fclose (file);
    if (size > TLY_ACCOUNT_FILE_MAX) {
        snprintf (error, error_size, "account file %s: larger than %d bytes", path,
                  TLY_ACCOUNT_FILE_MAX);
        return -1;
    }
    json [size] = 0;
    char id [TLY_ID_MAX], secret [TLY_SECRET_MAX];
    if (s_json_string (json, "account", id, sizeof id) == -1
        || s_json_string (json, "secret", secret, sizeof secret) == -1) {
        snprintf (error, error_size,
                  "account file %s: expected {\"account\":\"co_z...\",\"secret\":\"...\"}", path);
        return -1;
    }
    char reason [128];
    if (tly_account_parse (id, secret, account, reason, sizeof reason) == -1) {
        snprintf (error, error_size, "account file %s: %s", path, reason);
        return -1;
    }
    return 0;
}
