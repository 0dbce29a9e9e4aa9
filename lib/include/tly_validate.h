//  tly_validate - stateless checks of inbox message fields.
//  Each returns TALLY__ERROR_CODE__OK or the error code, with the user-facing
//  message in *message (a static string).
#ifndef TLY_VALIDATE_H_INCLUDED
#define TLY_VALIDATE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tally.pb-c.h"

bool tly_utf8_valid (const char *text, size_t size);
Tally__ErrorCode tly_validate_initial_balance (int64_t initial, int64_t max, const char **message);
Tally__ErrorCode tly_validate_amount (int64_t amount, int64_t max, const char **message);
Tally__ErrorCode tly_validate_item_id (const char *item_id, const char **message);

//  The stable text name of a code ("INSUFFICIENT_BALANCE") and its default message.
const char *tly_error_name (Tally__ErrorCode code);
const char *tly_error_default_message (Tally__ErrorCode code);

#endif
