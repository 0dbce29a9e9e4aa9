//  tly_account_load_test - accounts from the environment and from account files.
#include "tly_account_load.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
tly_account_load_test (bool verbose)
{
    if (verbose)
        printf (" * tly_account_load: ");
    assert (sodium_init () >= 0);

    tly_account_t account, parsed;
    assert (tly_account_generate (&account) == 0);
    char id [TLY_ID_MAX], secret [TLY_SECRET_MAX], error [128];
    tly_account_id (account.sign_pk, id);
    tly_account_secret (&account, secret);

    //  Environment: missing and malformed values name the variable.
    unsetenv ("TLY_TEST_ID");
    unsetenv ("TLY_TEST_SECRET");
    assert (tly_account_from_env ("TLY_TEST_ID", "TLY_TEST_SECRET", NULL, NULL, &parsed, error,
                                  sizeof error)
            == -1);
    assert (strstr (error, "TLY_TEST_ID is not set"));
    setenv ("TLY_TEST_ID", id, 1);
    setenv ("TLY_TEST_SECRET", "sealerSecret_zabc", 1);
    assert (tly_account_from_env ("TLY_TEST_ID", "TLY_TEST_SECRET", NULL, NULL, &parsed, error,
                                  sizeof error)
            == -1);
    assert (strstr (error, "TLY_TEST_SECRET is malformed"));
    setenv ("TLY_TEST_SECRET", secret, 1);
    assert (tly_account_from_env ("TLY_TEST_ID", "TLY_TEST_SECRET", NULL, NULL, &parsed, error,
                                  sizeof error)
            == 0);
    assert (memcmp (&parsed, &account, sizeof account) == 0);
    unsetenv ("TLY_TEST_ID");
    unsetenv ("TLY_TEST_SECRET");

    //  Account file.
    char path [] = "/tmp/tly-id-test-XXXXXX";
    int fd = mkstemp (path);
    assert (fd >= 0);
    FILE *file = fdopen (fd, "w");
    fprintf (file, "{\"account\": \"%s\",\n \"secret\":\"%s\",\"name\":\"t\"}\n", id, secret);
    fclose (file);
    assert (tly_account_from_file (path, &parsed, error, sizeof error) == 0);
    assert (memcmp (&parsed, &account, sizeof account) == 0);
    //  A field whose value reads "account" or "secret" is not taken for the key.
    file = fopen (path, "w");
    fprintf (file,
             "{\"name\": \"account\", \"note\":\"secret\" ,\n \"secret\" : \"%s\", "
             "\"account\":\"%s\"}",
             secret, id);
    fclose (file);
    assert (tly_account_from_file (path, &parsed, error, sizeof error) == 0);
    assert (memcmp (&parsed, &account, sizeof account) == 0);
    //  Larger than TLY_ACCOUNT_FILE_MAX: refused, not read in part.
    file = fopen (path, "w");
    fprintf (file, "{\"account\": \"%s\", \"secret\": \"%s\", \"pad\": \"", id, secret);
    for (int i = 0; i < TLY_ACCOUNT_FILE_MAX; i++)
        fputc ('x', file);
    fprintf (file, "\"}");
    fclose (file);
    assert (tly_account_from_file (path, &parsed, error, sizeof error) == -1);
    assert (strstr (error, "larger than 4095 bytes"));
    file = fopen (path, "w");
    fprintf (file, "{\"account\": \"%s\"}", id);
    fclose (file);
    assert (tly_account_from_file (path, &parsed, error, sizeof error) == -1);
    unlink (path);
    assert (tly_account_from_file (path, &parsed, error, sizeof error) == -1);
    assert (strstr (error, "cannot read"));
    if (verbose)
        printf ("OK\n");
}
