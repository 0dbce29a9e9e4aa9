//  tly_account_load - an account from where processes and the CLI keep it:
//  two environment variables (or flags that override them), or an account
//  file as `tally account create` writes it.
#ifndef TLY_ACCOUNT_LOAD_H_INCLUDED
#define TLY_ACCOUNT_LOAD_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "tly_account.h"

//  The environment every process and the CLI read: the worker's account (and
//  its secret, for the processes that sign as the worker), a client's own
//  account, and the gateway a client talks to.
#define TLY_ENV_WORKER_ACCOUNT "TALLY_WORKER_ACCOUNT"
#define TLY_ENV_WORKER_SECRET  "TALLY_WORKER_SECRET"
#define TLY_ENV_ACCOUNT        "TALLY_ACCOUNT"
#define TLY_ENV_SECRET         "TALLY_SECRET"
#define TLY_ENV_GATEWAY        "TALLY_GATEWAY"
//  Where the order processor POSTs a charge (tally-orders, tally up's tally.env).
#define TLY_ENV_ORDER_SERVICE  "TALLY_ORDER_SERVICE_URL"

//  Reads an account from two environment variables (or from explicit values,
//  which win when not NULL). On failure writes one line naming the variable.
int tly_account_from_env (const char *id_var, const char *secret_var, const char *id_value,
                          const char *secret_value, tly_account_t *account, char *error,
                          size_t error_size);
//  The largest account file read; a larger one is refused.
#define TLY_ACCOUNT_FILE_MAX 4095

//  Loads {"account":..,"secret":..,"name":..} from a file (other fields are
//  passed over, also when one holds "account" or "secret" as its value).
int tly_account_from_file (const char *path, tly_account_t *account, char *error,
                           size_t error_size);

#endif
