//  fuzz_account_load - libFuzzer target: any bytes as an account file
//  (tly_account_from_file, which `tally up` reads the worker from and the
//  CLI its --account file), and as the two values tly_account_from_env
//  takes (the first line the ID, the rest the secret).
//
//  Refused: one error line that names the file. Accepted: the account's
//  keys belong together (the secret's public halves are the ones loaded, a
//  signature made with it verifies), and since base58 is one to one, the
//  file holds the account ID and the secret exactly as tally formats them,
//  each in quotes; the canonical file loads back the same account, and so
//  do the ID and secret given as values.
#include <assert.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tly_account_load.h"
#include "tly_sign.h"

#define S_ERROR_MAX 512
//  What the loader reads of a file.
#define S_READ_MAX  TLY_ACCOUNT_FILE_MAX

static char s_path [64];
static int s_fd = -1;

//  The input as a file: one in-memory file, rewritten for each input.
static void
s_write_file (const uint8_t *data, size_t size)
{
    if (s_fd == -1) {
        s_fd = memfd_create ("fuzz-account", 0);
        assert (s_fd >= 0);
        snprintf (s_path, sizeof s_path, "/proc/self/fd/%d", s_fd);
    }
    int rc = ftruncate (s_fd, 0);
    assert (rc == 0);
    assert (pwrite (s_fd, data, size, 0) == (ssize_t) size);
}

//  The keys of an accepted account belong together.
static void
s_check_keys (const tly_account_t *account)
{
    uint8_t box_pk [TLY_KEY_BYTES];
    assert (crypto_scalarmult_base (box_pk, account->box_sk) == 0);
    assert (memcmp (box_pk, account->box_pk, TLY_KEY_BYTES) == 0);
    assert (memcmp (account->sign_sk + TLY_SECRET_KEY_BYTES - TLY_KEY_BYTES, account->sign_pk,
                    TLY_KEY_BYTES)
            == 0);
    static const uint8_t message [] = "tally";
    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_envelope (account->sign_sk, message, sizeof message, signature);
    assert (tly_verify_envelope (account->sign_pk, message, sizeof message, signature,
                                 sizeof signature));
}

static void
s_from_file (const uint8_t *data, size_t size)
{
    s_write_file (data, size);
    tly_account_t account;
    char error [S_ERROR_MAX] = "";
    if (tly_account_from_file (s_path, &account, error, sizeof error) == -1) {
        assert (error [0] && strstr (error, s_path));
        return;
    }
    s_check_keys (&account);
    char id [TLY_ID_MAX], secret [TLY_SECRET_MAX];
    tly_account_id (account.sign_pk, id);
    tly_account_secret (&account, secret);
    //  A larger file is refused whole; what the loader read, as the C
    //  string it parsed.
    assert (size <= S_READ_MAX);
    char json [S_READ_MAX + 1];
    size_t read = size;
    memcpy (json, data, read);
    json [read] = 0;
    char quoted [TLY_SECRET_MAX + 2];
    snprintf (quoted, sizeof quoted, "\"%s\"", id);
    assert (strstr (json, quoted));
    snprintf (quoted, sizeof quoted, "\"%s\"", secret);
    assert (strstr (json, quoted));

    //  The canonical file, as `tally account create` writes it, loads back.
    char canonical [512];
    int length = snprintf (canonical, sizeof canonical,
                           "{\"account\":\"%s\",\"secret\":\"%s\",\"name\":\"fuzz\"}\n", id,
                           secret);
    assert (length > 0 && (size_t) length < sizeof canonical);
    s_write_file ((const uint8_t *) canonical, (size_t) length);
    tly_account_t again;
    assert (tly_account_from_file (s_path, &again, error, sizeof error) == 0);
    assert (memcmp (&again, &account, sizeof account) == 0);
    assert (tly_account_from_env ("FUZZ_ID", "FUZZ_SECRET", id, secret, &again, error, sizeof error)
            == 0);
    assert (memcmp (&again, &account, sizeof account) == 0);
}

static void
s_from_values (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    assert (text);
    memcpy (text, data, size);
    text [size] = 0;
    char *secret = strchr (text, '\n');
    if (secret)
        *secret++ = 0;
    else
        secret = text + strlen (text);
    tly_account_t account;
    char error [S_ERROR_MAX] = "";
    if (tly_account_from_env ("FUZZ_ID", "FUZZ_SECRET", text, secret, &account, error, sizeof error)
        == -1)
        assert (strstr (error, "FUZZ_ID") || strstr (error, "FUZZ_SECRET"));
    else {
        s_check_keys (&account);
        char id [TLY_ID_MAX], formatted [TLY_SECRET_MAX];
        tly_account_id (account.sign_pk, id);
        tly_account_secret (&account, formatted);
        assert (strcmp (id, text) == 0 && strcmp (formatted, secret) == 0);
    }
    free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_from_file (data, size);
    s_from_values (data, size);
    return 0;
}
