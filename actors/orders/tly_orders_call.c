//  tly_orders_call - the processor's requests and its reading of answers.
#include "tly_orders_call.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_validate.h"

//  A growing text buffer for the request body; an allocation failure
//  leaves it failed, and the body NULL.
typedef struct {
    char *data;
    size_t used, size;
    bool failed;
} s_text_t;

static void
s_text_add (s_text_t *text, const char *bytes, size_t size)
{
    if (text->failed)
        return;
    if (text->used + size + 1 > text->size) {
        size_t grown = (text->size ? text->size * 2 : 256) + size;
        char *data = realloc (text->data, grown);
        if (!data) {
            text->failed = true;
            return;
        }
        text->data = data;
        text->size = grown;
    }
    memcpy (text->data + text->used, bytes, size);
    text->used += size;
    text->data [text->used] = 0;
}

static void
s_text_put (s_text_t *text, const char *string)
{
    s_text_add (text, string, strlen (string));
}

static void
s_text_int (s_text_t *text, int64_t value)
{
    char digits [24];
    snprintf (digits, sizeof digits, "%" PRId64, value);
    s_text_put (text, digits);
}

//  A JSON string: quotes, and the characters JSON does not allow as they are.
static void
s_text_string (s_text_t *text, const char *string)
{
    s_text_add (text, "\"", 1);
    for (const char *p = string; *p; p++) {
        unsigned char c = (unsigned char) *p;
        if (c == '"' || c == '\\') {
            char escaped [2] = { '\\', (char) c };
            s_text_add (text, escaped, 2);
        } else if (c < 0x20) {
            char escaped [8];
            snprintf (escaped, sizeof escaped, "\\u%04x", c);
            s_text_put (text, escaped);
        } else
            s_text_add (text, p, 1);
    }
    s_text_add (text, "\"", 1);
}

char *
tly_orders_call_body (const char *order_id, const char *user_id, int64_t total,
                      const tly_orders_line_t *lines, size_t line_count)
{
    assert (order_id && user_id && (lines || line_count == 0));
    s_text_t text = { 0 };
    s_text_put (&text, "{\"orderId\":");
    s_text_string (&text, order_id);
    s_text_put (&text, ",\"userId\":");
    s_text_string (&text, user_id);
    s_text_put (&text, ",\"total\":");
    s_text_int (&text, total);
    s_text_put (&text, ",\"items\":[");
    for (size_t i = 0; i < line_count; i++) {
        s_text_put (&text, i ? ",{\"itemId\":" : "{\"itemId\":");
        s_text_string (&text, lines [i].item_id);
        s_text_put (&text, ",\"amount\":");
        s_text_int (&text, lines [i].amount);
        s_text_put (&text, "}");
    }
    s_text_put (&text, "]}");
    if (text.failed) {
        free (text.data);
        return NULL;
    }
    return text.data;
}

tly_orders_verdict_t
tly_orders_call_verdict (long status, bool answered)
{
    if (!answered)
        return TLY_ORDERS_RETRY;
    if (status >= 200 && status <= 299)
        return TLY_ORDERS_ACCEPTED;
    //  408 Request Timeout, 409 Conflict (e.g. the same key still being
    //  processed), 425 Too Early and 429 Too Many Requests all say "not
    //  now", never "no".
    if (status >= 400 && status <= 499 && status != 408 && status != 409 && status != 425
        && status != 429)
        return TLY_ORDERS_REFUSED;
    //  5xx, and statuses a payment API should not answer (1xx, 3xx: curl
    //  follows no redirect): the call's effect is unknown, so only another
    //  call with the same key can tell.
    return TLY_ORDERS_RETRY;
}

//  The length of the UTF-8 sequence at text (at most left bytes), or 0 when
//  it is not a valid one (overlong, a surrogate, past U+10FFFF, cut short):
//  the lead byte says how long it claims to be, tly_utf8_valid judges it.
static size_t
s_utf8_length (const unsigned char *text, size_t left)
{
    if (text [0] < 0x80)
        return 1;
    size_t length = text [0] >= 0xF0 ? 4 : text [0] >= 0xE0 ? 3 : 2;
    return length <= left && tly_utf8_valid ((const char *) text, length) ? length : 0;
}

void
tly_orders_call_clean_text (const char *prefix, const char *text, size_t text_size, char *out)
{
    size_t used = 0;
    const size_t room = TLY_ORDER_ERROR_MAX;
    for (int part = 0; part < 2; part++) {
        const unsigned char *bytes = (const unsigned char *) (part ? text : prefix);
        size_t size = part ? text_size : strlen (prefix);
        for (size_t i = 0; i < size;) {
            size_t length = s_utf8_length (bytes + i, size - i);
            if (used + (length ? length : 1) > room) {
                out [used] = 0;
                return;
            }
            if (length == 0) {
                out [used++] = '?';
                i++;
            } else if (length == 1 && (bytes [i] < 0x20 || bytes [i] == 0x7F)) {
                out [used++] = ' ';
                i++;
            } else {
                memcpy (out + used, bytes + i, length);
                used += length;
                i += length;
            }
        }
    }
    out [used] = 0;
}

void
tly_orders_call_error_text (long status, const char *reason, const char *body, size_t body_size,
                            char *out)
{
    char error [TLY_ORDERS_ERROR_SIZE * 4];
    if (body && tly_orders_call_json_string (body, body_size, "error", error, sizeof error) == 0
        && error [0]) {
        tly_orders_call_clean_text ("", error, strlen (error), out);
        return;
    }
    char line [TLY_ORDERS_ERROR_SIZE];
    snprintf (line, sizeof line, "HTTP %ld%s%s", status, reason && *reason ? " " : "",
              reason ? reason : "");
    tly_orders_call_clean_text ("", line, strlen (line), out);
}

//  ---------------------------------------------------------------- JSON
//  Just enough of a reader to find one top-level string field of an error
//  body; anything it does not understand makes the field "not there".

typedef struct {
    const char *p, *end;
} s_json_t;

static void
s_json_space (s_json_t *json)
{
    while (json->p < json->end
           && (*json->p == ' ' || *json->p == '\t' || *json->p == '\n' || *json->p == '\r'))
        json->p++;
}

static int
s_json_hex4 (s_json_t *json, uint32_t *value)
{
    if (json->end - json->p < 4)
        return -1;
    *value = 0;
    for (int i = 0; i < 4; i++) {
        char c = *json->p++;
        uint32_t digit;
        if (c >= '0' && c <= '9')
            digit = (uint32_t) (c - '0');
        else if (c >= 'a' && c <= 'f')
            digit = (uint32_t) (c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            digit = (uint32_t) (c - 'A' + 10);
        else
            return -1;
        *value = *value << 4 | digit;
    }
    return 0;
}

//  Appends code point code as UTF-8 when it fits (out keeps its NUL).
static void
s_json_put (char *out, size_t out_size, size_t *used, uint32_t code)
{
    char bytes [4];
    size_t length;
    if (code < 0x80)
        bytes [0] = (char) code, length = 1;
    else if (code < 0x800)
        bytes [0] = (char) (0xC0 | code >> 6), bytes [1] = (char) (0x80 | (code & 0x3F)),
              length = 2;
    else if (code < 0x10000)
        bytes [0] = (char) (0xE0 | code >> 12), bytes [1] = (char) (0x80 | ((code >> 6) & 0x3F)),
              bytes [2] = (char) (0x80 | (code & 0x3F)), length = 3;
    else
        bytes [0] = (char) (0xF0 | code >> 18), bytes [1] = (char) (0x80 | ((code >> 12) & 0x3F)),
              bytes [2] = (char) (0x80 | ((code >> 6) & 0x3F)),
              bytes [3] = (char) (0x80 | (code & 0x3F)), length = 4;
    if (out && *used + length < out_size) {
        memcpy (out + *used, bytes, length);
        *used += length;
        out [*used] = 0;
    }
}

//  A string at json->p (its opening quote), decoded into out when out is
//  not NULL (cut short when out is full).
static int
s_json_string (s_json_t *json, char *out, size_t out_size)
{
    size_t used = 0;
    if (out)
        out [0] = 0;
    if (json->p >= json->end || *json->p != '"')
        return -1;
    json->p++;
    while (json->p < json->end) {
        unsigned char c = (unsigned char) *json->p++;
        if (c == '"')
            return 0;
        if (c < 0x20)
            return -1;
        if (c != '\\') {
            //  Raw bytes pass as they are: the caller cleans the UTF-8.
            if (out && used + 1 < out_size) {
                out [used++] = (char) c;
                out [used] = 0;
            }
            continue;
        }
        if (json->p >= json->end)
            return -1;
        char escape = *json->p++;
        uint32_t code;
        switch (escape) {
            case '"': code = '"'; break;
            case '\\': code = '\\'; break;
            case '/': code = '/'; break;
            case 'b': code = '\b'; break;
            case 'f': code = '\f'; break;
            case 'n': code = '\n'; break;
            case 'r': code = '\r'; break;
            case 't': code = '\t'; break;
            case 'u':
                if (s_json_hex4 (json, &code) == -1)
                    return -1;
                if (code >= 0xD800 && code <= 0xDBFF) {
                    uint32_t low;
                    if (json->end - json->p < 6 || json->p [0] != '\\' || json->p [1] != 'u')
                        return -1;
                    json->p += 2;
                    if (s_json_hex4 (json, &low) == -1 || low < 0xDC00 || low > 0xDFFF)
                        return -1;
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                } else if (code >= 0xDC00 && code <= 0xDFFF)
                    return -1;
                break;
            default: return -1;
        }
        s_json_put (out, out_size, &used, code);
    }
    return -1;
}

//  Passes over one value of any kind.
static int
s_json_skip (s_json_t *json, int depth)
{
    if (depth > TLY_ORDERS_JSON_DEPTH)
        return -1;
    s_json_space (json);
    if (json->p >= json->end)
        return -1;
    char c = *json->p;
    if (c == '"')
        return s_json_string (json, NULL, 0);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        json->p++;
        s_json_space (json);
        if (json->p < json->end && *json->p == close) {
            json->p++;
            return 0;
        }
        while (true) {
            if (c == '{') {
                s_json_space (json);
                if (s_json_string (json, NULL, 0) == -1)
                    return -1;
                s_json_space (json);
                if (json->p >= json->end || *json->p++ != ':')
                    return -1;
            }
            if (s_json_skip (json, depth + 1) == -1)
                return -1;
            s_json_space (json);
            if (json->p >= json->end)
                return -1;
            char next = *json->p++;
            if (next == close)
                return 0;
            if (next != ',')
                return -1;
        }
    }
    //  A number or a literal: the characters they are made of.
    const char *start = json->p;
    while (json->p < json->end && strchr ("0123456789+-.eEtruefalsn", *json->p))
        json->p++;
    return json->p > start ? 0 : -1;
}

int
tly_orders_call_json_string (const char *body, size_t body_size, const char *name, char *out,
                             size_t out_size)
{
    assert (out && out_size > 0);
    out [0] = 0;
    s_json_t json = { body, body + body_size };
    s_json_space (&json);
    if (json.p >= json.end || *json.p++ != '{')
        return -1;
    char key [64];
    while (true) {
        s_json_space (&json);
        if (s_json_string (&json, key, sizeof key) == -1)
            return -1;
        s_json_space (&json);
        if (json.p >= json.end || *json.p++ != ':')
            return -1;
        s_json_space (&json);
        if (strcmp (key, name) == 0 && json.p < json.end && *json.p == '"')
            return s_json_string (&json, out, out_size);
        if (s_json_skip (&json, 1) == -1)
            return -1;
        s_json_space (&json);
        if (json.p >= json.end || *json.p != ',')
            return -1;
        json.p++;
    }
}

int64_t
tly_orders_call_backoff (int64_t first_ms, int attempt)
{
    assert (first_ms >= 0 && attempt >= 1);
    int64_t wait = first_ms;
    for (int i = 1; i < attempt && wait < TLY_ORDERS_BACKOFF_CAP_MS; i++)
        wait *= 2;
    return wait < TLY_ORDERS_BACKOFF_CAP_MS ? wait : TLY_ORDERS_BACKOFF_CAP_MS;
}
