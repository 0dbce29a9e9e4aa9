//  tly_orders_call_test - the request body, the void URL, the verdicts, the
//  error texts (JSON, UTF-8, the 256-byte edge) and the backoff.
#include "tly_orders_call.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_validate.h"

static void
s_void_url (const char *url, const char *expected)
{
    char out [TLY_ORDER_URL_SIZE];
    int rc = tly_order_void_url (url, out, sizeof out);
    if (!expected) {
        assert (rc == -1);
        return;
    }
    assert (rc == 0);
    if (strcmp (out, expected) != 0) {
        fprintf (stderr, "void url of %s: %s, expected %s\n", url, out, expected);
        assert (false);
    }
}

static void
s_error_text (long status, const char *reason, const char *body, const char *expected)
{
    char out [TLY_ORDERS_ERROR_SIZE];
    tly_orders_call_error_text (status, reason, body, body ? strlen (body) : 0, out);
    if (strcmp (out, expected) != 0) {
        fprintf (stderr, "error text of %s: '%s', expected '%s'\n", body ? body : "(none)", out,
                 expected);
        assert (false);
    }
    assert (strlen (out) <= TLY_ORDER_ERROR_MAX && tly_utf8_valid (out, strlen (out)));
}

void
tly_orders_call_test (bool verbose)
{
    if (verbose)
        printf (" * tly_orders_call: ");

    //  The body: every field, strings escaped.
    tly_orders_line_t lines [] = { { "ok-1", 250 }, { "quote\"back\\slash\ttab", 1 } };
    char *body = tly_orders_call_body ("co_zOrder", "co_zUser", 251, lines, 2);
    assert (body);
    const char *expected = "{\"orderId\":\"co_zOrder\",\"userId\":\"co_zUser\",\"total\":251,"
                           "\"items\":[{\"itemId\":\"ok-1\",\"amount\":250},"
                           "{\"itemId\":\"quote\\\"back\\\\slash\\u0009tab\",\"amount\":1}]}";
    if (strcmp (body, expected) != 0) {
        fprintf (stderr, "body: %s\n", body);
        assert (false);
    }
    char field [64];
    assert (tly_orders_call_json_string (body, strlen (body), "orderId", field, sizeof field) == 0);
    assert (strcmp (field, "co_zOrder") == 0);
    free (body);
    body = tly_orders_call_body ("a", "b", 0, NULL, 0);
    assert (body
            && strcmp (body, "{\"orderId\":\"a\",\"userId\":\"b\",\"total\":0,\"items\":[]}") == 0);
    free (body);

    //  The void URL: the last segment replaced; query and fragment dropped.
    s_void_url ("http://127.0.0.1:8080/charge", "http://127.0.0.1:8080/void");
    s_void_url ("https://pay.example/v1/payments/charge?x=1#f",
                "https://pay.example/v1/payments/void");
    s_void_url ("http://h:1/v1/", "http://h:1/v1/void");
    s_void_url ("http://h:1", "http://h:1/void");
    s_void_url ("http://h:1?q=/a", "http://h:1/void");
    s_void_url ("http://h:1/", "http://h:1/void");
    s_void_url ("ftp://h/charge", NULL);
    s_void_url ("127.0.0.1:8080/charge", NULL);
    char small [8];
    assert (tly_order_void_url ("http://127.0.0.1/charge", small, sizeof small) == -1);

    //  Verdicts: 2xx done, 4xx refused but for "not now", the rest again.
    assert (tly_orders_call_verdict (200, true) == TLY_ORDERS_ACCEPTED);
    assert (tly_orders_call_verdict (201, true) == TLY_ORDERS_ACCEPTED);
    assert (tly_orders_call_verdict (299, true) == TLY_ORDERS_ACCEPTED);
    assert (tly_orders_call_verdict (400, true) == TLY_ORDERS_REFUSED);
    assert (tly_orders_call_verdict (402, true) == TLY_ORDERS_REFUSED);
    assert (tly_orders_call_verdict (404, true) == TLY_ORDERS_REFUSED);
    assert (tly_orders_call_verdict (410, true) == TLY_ORDERS_REFUSED);
    assert (tly_orders_call_verdict (499, true) == TLY_ORDERS_REFUSED);
    long again [] = { 408, 409, 425, 429, 500, 502, 503, 504, 599, 100, 301, 302, 0 };
    for (size_t i = 0; i < sizeof again / sizeof again [0]; i++)
        assert (tly_orders_call_verdict (again [i], true) == TLY_ORDERS_RETRY);
    assert (tly_orders_call_verdict (200, false) == TLY_ORDERS_RETRY);
    assert (tly_orders_call_verdict (402, false) == TLY_ORDERS_RETRY);

    //  Error texts: the body's "error", else the status line.
    s_error_text (402, "Payment Required", "{\"error\":\"card declined\"}", "card declined");
    s_error_text (402, "Payment Required",
                  " { \"code\" : 7, \"nested\": {\"error\": \"no\"},"
                  " \"list\": [1, \"x\", {\"a\": [true, null]}],"
                  " \"error\" : \"insufficient funds\" } ",
                  "insufficient funds");
    s_error_text (402, "Payment Required", "{\"error\":{\"message\":\"no\"}}",
                  "HTTP 402 Payment Required");
    s_error_text (400, "", "not json", "HTTP 400");
    s_error_text (403, NULL, NULL, "HTTP 403");
    s_error_text (402, "Payment Required", "{\"error\":\"\"}", "HTTP 402 Payment Required");
    s_error_text (402, "x", "{\"error\":\"caf\\u00e9 \\ud83d\\ude00 \\n line\"}",
                  "caf\xc3\xa9 \xf0\x9f\x98\x80   line");
    s_error_text (402, "x", "{\"error\":\"lone \\udc00\"}", "HTTP 402 x");
    s_error_text (402, "x", "{\"error\":\"bad \xff\xfe utf8 \xe2\x82\"}", "bad ?? utf8 ??");
    s_error_text (402, "x", "{\"error\":\"unterminated", "HTTP 402 x");
    s_error_text (
        402, "x",
        "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],"
        "\"error\":\"deep\"}",
        "HTTP 402 x");
    //  The depth's edge: the body TLY_ORDERS_JSON_DEPTH deep (the object
    //  and 31 arrays around a number) is read, one more is not.
    for (int arrays = TLY_ORDERS_JSON_DEPTH - 1; arrays <= TLY_ORDERS_JSON_DEPTH; arrays++) {
        char nested [128] = "{\"a\":";
        for (int i = 0; i < arrays; i++)
            strcat (nested, "[");
        strcat (nested, "1");
        for (int i = 0; i < arrays; i++)
            strcat (nested, "]");
        strcat (nested, ",\"error\":\"deep\"}");
        s_error_text (402, "x", nested, arrays < TLY_ORDERS_JSON_DEPTH ? "deep" : "HTTP 402 x");
    }

    //  The 256-byte edge: ASCII cut at 256, a 2-byte character that would
    //  straddle it left out whole.
    char long_body [1024];
    char ascii [400];
    memset (ascii, 'a', 300);
    ascii [300] = 0;
    snprintf (long_body, sizeof long_body, "{\"error\":\"%s\"}", ascii);
    char out [TLY_ORDERS_ERROR_SIZE];
    tly_orders_call_error_text (402, "", long_body, strlen (long_body), out);
    assert (strlen (out) == TLY_ORDER_ERROR_MAX);
    memset (ascii, 'a', 255);
    strcpy (ascii + 255, "\xc3\xa9tail");
    snprintf (long_body, sizeof long_body, "{\"error\":\"%s\"}", ascii);
    tly_orders_call_error_text (402, "", long_body, strlen (long_body), out);
    assert (strlen (out) == 255 && tly_utf8_valid (out, strlen (out)));
    //  A 3-byte and a 4-byte character straddling it, each left out whole;
    //  a 2-byte character ending exactly at 256 kept.
    memset (ascii, 'a', 254);
    strcpy (ascii + 254, "\xe2\x82\xactail");
    tly_orders_call_clean_text ("", ascii, strlen (ascii), out);
    assert (strlen (out) == 254 && tly_utf8_valid (out, strlen (out)));
    memset (ascii, 'a', 253);
    strcpy (ascii + 253, "\xf0\x9f\x98\x80tail");
    tly_orders_call_clean_text ("", ascii, strlen (ascii), out);
    assert (strlen (out) == 253 && tly_utf8_valid (out, strlen (out)));
    memset (ascii, 'a', 254);
    strcpy (ascii + 254, "\xc3\xa9tail");
    tly_orders_call_clean_text ("", ascii, strlen (ascii), out);
    assert (strlen (out) == TLY_ORDER_ERROR_MAX && strcmp (out + 254, "\xc3\xa9") == 0);
    //  Overlong, surrogate and past-U+10FFFF sequences, and a lone
    //  continuation byte: each invalid byte a '?'.
    const char *invalid = "\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\x80";
    tly_orders_call_clean_text ("", invalid, strlen (invalid), out);
    assert (strcmp (out, "??|???|????|?") == 0);
    tly_orders_call_clean_text ("payment service unavailable: ", ascii, strlen (ascii), out);
    assert (strlen (out) <= TLY_ORDER_ERROR_MAX && tly_utf8_valid (out, strlen (out)));
    assert (strncmp (out, "payment service unavailable: aaa", 32) == 0);
    tly_orders_call_clean_text ("", "", 0, out);
    assert (out [0] == 0);

    //  The backoff: doubling from the first wait, capped.
    assert (tly_orders_call_backoff (200, 1) == 200);
    assert (tly_orders_call_backoff (200, 2) == 400);
    assert (tly_orders_call_backoff (200, 5) == 3200);
    assert (tly_orders_call_backoff (200, 8) == 25600);
    assert (tly_orders_call_backoff (200, 9) == TLY_ORDERS_BACKOFF_CAP_MS);
    assert (tly_orders_call_backoff (200, 1000) == TLY_ORDERS_BACKOFF_CAP_MS);
    assert (tly_orders_call_backoff (TLY_ORDERS_BACKOFF_CAP_MS, 1) == TLY_ORDERS_BACKOFF_CAP_MS);
    assert (tly_orders_call_backoff (1, 3) == 4);

    if (verbose)
        printf ("OK\n");
}
