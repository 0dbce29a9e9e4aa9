//  tly_orders_http - POSTs through curl multi, one easy handle per slot.
#include "tly_orders_http.h"

#include <assert.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_log.h"
#include "tly_wire.h"

typedef struct {
    CURL *easy;
    struct curl_slist *headers;
    bool busy;
    void *tag;
    int64_t started_ms;
    char *body;  //  the answer so far
    size_t body_size;
    char reason [TLY_ORDERS_REASON_MAX];  //  of the last status line (a 100 Continue comes first)
    char error [CURL_ERROR_SIZE];
} s_slot_t;

struct _tly_orders_http_t {
    CURLM *multi;
    size_t slot_count;
    s_slot_t *slots;
    int64_t timeout_ms;
    char *last_body;  //  the body the last reply pointed to
};

static size_t
s_on_body (char *data, size_t size, size_t count, void *arg)
{
    s_slot_t *slot = arg;
    size_t bytes = size * count;
    size_t keep = bytes;
    if (slot->body_size + keep > TLY_ORDERS_BODY_MAX)
        keep = TLY_ORDERS_BODY_MAX - slot->body_size;
    if (keep > 0) {
        char *body = realloc (slot->body, slot->body_size + keep + 1);
        if (!body)
            return 0;  //  curl ends the call: CURLE_WRITE_ERROR, retried
        slot->body = body;
        memcpy (slot->body + slot->body_size, data, keep);
        slot->body_size += keep;
        slot->body [slot->body_size] = 0;
    }
    return bytes;
}

//  The status line's reason phrase ("HTTP/1.1 402 Payment Required").
static size_t
s_on_header (char *data, size_t size, size_t count, void *arg)
{
    s_slot_t *slot = arg;
    size_t bytes = size * count;
    if (bytes > 5 && memcmp (data, "HTTP/", 5) == 0) {
        const char *space = memchr (data, ' ', bytes);
        const char *reason = space ? memchr (space + 1, ' ', bytes - (size_t) (space + 1 - data))
                                   : NULL;
        slot->reason [0] = 0;
        if (reason) {
            size_t length = bytes - (size_t) (reason + 1 - data);
            if (length >= sizeof slot->reason)
                length = sizeof slot->reason - 1;
            memcpy (slot->reason, reason + 1, length);
            slot->reason [length] = 0;
            slot->reason [strcspn (slot->reason, "\r\n")] = 0;
        }
    }
    return bytes;
}

tly_orders_http_t *
tly_orders_http_new (size_t slots, int64_t timeout_ms)
{
    assert (slots >= 1 && timeout_ms >= 1);
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        tly_log (TLY_ERROR, "http.init", "reason=curl_global_init");
        return NULL;
    }
    tly_orders_http_t *self = calloc (1, sizeof *self);
    assert (self);
    self->multi = curl_multi_init ();
    self->slots = calloc (slots, sizeof *self->slots);
    assert (self->multi && self->slots);
    self->slot_count = slots;
    self->timeout_ms = timeout_ms;
    //  One connection per call at most: the calls are few and long, and a
    //  service that keeps connections alive is reused through the cache.
    curl_multi_setopt (self->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) slots);
    return self;
}

static void
s_slot_reset (s_slot_t *slot)
{
    if (slot->easy)
        curl_easy_cleanup (slot->easy);
    curl_slist_free_all (slot->headers);
    free (slot->body);
    *slot = (s_slot_t) { 0 };
}

void
tly_orders_http_destroy (tly_orders_http_t **self_p)
{
    assert (self_p);
    tly_orders_http_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->slot_count; i++) {
        if (self->slots [i].busy)
            curl_multi_remove_handle (self->multi, self->slots [i].easy);
        s_slot_reset (&self->slots [i]);
    }
    curl_multi_cleanup (self->multi);
    free (self->slots);
    free (self->last_body);
    free (self);
    curl_global_cleanup ();
    *self_p = NULL;
}

size_t
tly_orders_http_busy (tly_orders_http_t *self)
{
    size_t busy = 0;
    for (size_t i = 0; i < self->slot_count; i++)
        busy += self->slots [i].busy;
    return busy;
}

size_t
tly_orders_http_free (tly_orders_http_t *self)
{
    return self->slot_count - tly_orders_http_busy (self);
}

int
tly_orders_http_post (tly_orders_http_t *self, const char *url, const char *key, const char *body,
                      void *tag)
{
    s_slot_t *slot = NULL;
    for (size_t i = 0; i < self->slot_count && !slot; i++)
        if (!self->slots [i].busy)
            slot = &self->slots [i];
    assert (slot);
    s_slot_reset (slot);
    slot->easy = curl_easy_init ();
    char header [512];
    snprintf (header, sizeof header, "Idempotency-Key: %s", key);
    slot->headers = curl_slist_append (NULL, "Content-Type: application/json");
    slot->headers = curl_slist_append (slot->headers, header);
    //  No "Expect: 100-continue" round trip before the body.
    slot->headers = curl_slist_append (slot->headers, "Expect:");
    if (!slot->easy || !slot->headers) {
        tly_log (TLY_ERROR, "http.refused", "url=%s reason=out_of_memory", url);
        s_slot_reset (slot);
        return -1;
    }
    CURL *easy = slot->easy;
    curl_easy_setopt (easy, CURLOPT_URL, url);
    curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (easy, CURLOPT_HTTPHEADER, slot->headers);
    curl_easy_setopt (easy, CURLOPT_COPYPOSTFIELDS, body);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, (long) self->timeout_ms);
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, slot);
    curl_easy_setopt (easy, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (easy, CURLOPT_HEADERDATA, slot);
    curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, slot->error);
    curl_easy_setopt (easy, CURLOPT_PRIVATE, slot);
    if (curl_multi_add_handle (self->multi, easy) != CURLM_OK) {
        tly_log (TLY_ERROR, "http.refused", "url=%s reason=curl_multi_add_handle", url);
        s_slot_reset (slot);
        return -1;
    }
    slot->busy = true;
    slot->tag = tag;
    slot->started_ms = tly_mono_ms ();
    return 0;
}

void
tly_orders_http_wait (tly_orders_http_t *self, int timeout_ms)
{
    int running = 0;
    curl_multi_perform (self->multi, &running);
    if (timeout_ms > 0) {
        curl_multi_poll (self->multi, NULL, 0, timeout_ms, NULL);
        curl_multi_perform (self->multi, &running);
    }
}

bool
tly_orders_http_next (tly_orders_http_t *self, tly_orders_reply_t *reply)
{
    free (self->last_body);
    self->last_body = NULL;
    int left;
    CURLMsg *message;
    while ((message = curl_multi_info_read (self->multi, &left))) {
        if (message->msg != CURLMSG_DONE)
            continue;
        s_slot_t *slot = NULL;
        curl_easy_getinfo (message->easy_handle, CURLINFO_PRIVATE, (char **) &slot);
        assert (slot && slot->busy);
        CURLcode code = message->data.result;
        *reply = (tly_orders_reply_t) { .tag = slot->tag,
                                        .elapsed_ms = tly_mono_ms () - slot->started_ms };
        if (code == CURLE_OK) {
            reply->answered = true;
            curl_easy_getinfo (slot->easy, CURLINFO_RESPONSE_CODE, &reply->status);
            snprintf (reply->reason, sizeof reply->reason, "%s", slot->reason);
        } else
            snprintf (reply->detail, sizeof reply->detail, "%s",
                      slot->error [0] ? slot->error : curl_easy_strerror (code));
        //  The body outlives the slot until the next call.
        self->last_body = slot->body;
        reply->body = slot->body ? slot->body : "";
        reply->body_size = slot->body_size;
        slot->body = NULL;
        curl_multi_remove_handle (self->multi, slot->easy);
        s_slot_reset (slot);
        return true;
    }
    return false;
}
