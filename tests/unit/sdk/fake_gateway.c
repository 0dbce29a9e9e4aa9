//  fake_gateway - see fake_gateway.h.
#include "fake_gateway.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tly_sign.h"
#include "tly_wire.h"

#define FAKE_OBJECTS_MAX     8
#define FAKE_QUEUE_MAX       16
#define FAKE_REBIND_MS       5000  //  a restart gives up binding after this
#define FAKE_REBIND_PAUSE_MS 10

typedef struct {
    int push;
    int code;
    zframe_t *object;  //  packed SignedObject, or empty
} s_push_t;

typedef struct {
    char object_id [TLY_ID_MAX];
    zframe_t *snapshot;    //  packed SignedObject, or NULL
    int deny;              //  error code, or 0
    zframe_t *subscriber;  //  identity of the latest subscriber
    uint64_t request_id;   //  of its subscribe
    int snapshots;
    s_push_t queued [FAKE_QUEUE_MAX];
    size_t queued_count;
} s_object_t;

typedef struct {
    zsock_t *pipe;
    zsock_t *router;
    int port;
    s_object_t objects [FAKE_OBJECTS_MAX];
    size_t object_count;
    bool mute;
    int pings;
    int unsubscribes;
} s_fake_t;

static s_object_t *
s_object (s_fake_t *self, const char *object_id, bool create)
{
    for (size_t i = 0; i < self->object_count; i++)
        if (streq (self->objects [i].object_id, object_id))
            return &self->objects [i];
    if (!create)
        return NULL;
    assert (self->object_count < FAKE_OBJECTS_MAX);
    s_object_t *object = &self->objects [self->object_count++];
    snprintf (object->object_id, sizeof object->object_id, "%s", object_id);
    return object;
}

static void
s_send (s_fake_t *self, zframe_t *identity, uint64_t request_id, int push, int code,
        zframe_t *object)
{
    Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
    Tally__Error error = TALLY__ERROR__INIT;
    reply.request_id = request_id;
    reply.push = push;
    if (code != TALLY__ERROR_CODE__OK) {
        error.code = code;
        reply.error = &error;
    }
    Tally__SignedObject *signed_object = object && zframe_size (object) > 0
                                             ? tally__signed_object__unpack (
                                                 NULL, zframe_size (object), zframe_data (object))
                                             : NULL;
    reply.object = signed_object;
    tly_wire_send (self->router, identity, &reply.base);
    tally__signed_object__free_unpacked (signed_object, NULL);
}

static void
s_on_subscribe (s_fake_t *self, zframe_t *identity, const Tally__ClientRequest *request)
{
    const Tally__SignedSubscribe *sealed = request->subscribe;
    Tally__Subscribe *subscribe = tally__subscribe__unpack (NULL, sealed->subscribe.len,
                                                            sealed->subscribe.data);
    assert (subscribe && subscribe->reader.len == TLY_KEY_BYTES);
    assert (tly_verify_domain (TLY_DOMAIN_SUBSCRIBE, subscribe->reader.data, sealed->subscribe.data,
                               sealed->subscribe.len, sealed->signature.data,
                               sealed->signature.len));
    assert (llabs (tly_now_ms () - subscribe->timestamp_ms) < TLY_SKEW_MS_DEFAULT);
    s_object_t *object = s_object (self, subscribe->object_id, false);
    if (!object || (!object->snapshot && !object->deny))
        s_send (self, identity, request->request_id, 0, TALLY__ERROR_CODE__NOT_FOUND, NULL);
    else if (object->deny)
        s_send (self, identity, request->request_id, 0, object->deny, NULL);
    else {
        zframe_destroy (&object->subscriber);
        object->subscriber = zframe_dup (identity);
        object->request_id = request->request_id;
        object->snapshots++;
        s_send (self, identity, request->request_id, 0, 0, object->snapshot);
        for (size_t i = 0; i < object->queued_count; i++) {
            s_push_t *push = &object->queued [i];
            s_send (self, identity, request->request_id, push->push, push->code, push->object);
            zframe_destroy (&push->object);
        }
        object->queued_count = 0;
    }
    tally__subscribe__free_unpacked (subscribe, NULL);
}

static void
s_on_client (s_fake_t *self)
{
    zmsg_t *msg = zmsg_recv (self->router);
    assert (msg && zmsg_size (msg) == 2);
    zframe_t *identity = zmsg_pop (msg);
    zframe_t *data = zmsg_pop (msg);
    Tally__ClientRequest *request = tally__client_request__unpack (NULL, zframe_size (data),
                                                                   zframe_data (data));
    assert (request);
    if (request->body_case == TALLY__CLIENT_REQUEST__BODY_SUBSCRIBE)
        s_on_subscribe (self, identity, request);
    else if (request->body_case == TALLY__CLIENT_REQUEST__BODY_PING) {
        self->pings++;
        if (!self->mute)
            s_send (self, identity, request->request_id, 0, 0, NULL);
    } else {
        assert (request->body_case == TALLY__CLIENT_REQUEST__BODY_UNSUBSCRIBE);
        self->unsubscribes++;
        s_send (self, identity, request->request_id, 0, 0, NULL);
    }
    tally__client_request__free_unpacked (request, NULL);
    zframe_destroy (&identity);
    zframe_destroy (&data);
    zmsg_destroy (&msg);
}

static void
s_bind (s_fake_t *self)
{
    int64_t deadline = tly_mono_ms () + FAKE_REBIND_MS;
    while (true) {
        self->router = zsock_new (ZMQ_ROUTER);
        assert (self->router);
        if (self->port == 0) {
            self->port = zsock_bind (self->router, "tcp://127.0.0.1:*");
            assert (self->port > 0);
            return;
        }
        if (zsock_bind (self->router, "tcp://127.0.0.1:%d", self->port) == self->port)
            return;
        //  The old socket's port is released by libzmq's own thread.
        zsock_destroy (&self->router);
        assert (tly_mono_ms () < deadline);
        zclock_sleep (FAKE_REBIND_PAUSE_MS);
    }
}

//  One command from the test. Returns false on $TERM.
static bool
s_on_command (s_fake_t *self)
{
    char *command = NULL, *object_id = NULL;
    int push = 0, code = 0;
    zmsg_t *msg = zmsg_recv (self->pipe);
    assert (msg);
    command = zmsg_popstr (msg);
    bool go_on = true;
    if (streq (command, "$TERM"))
        go_on = false;
    else if (streq (command, "SERVE") || streq (command, "DENY") || streq (command, "PUSH")
             || streq (command, "QUEUE")) {
        object_id = zmsg_popstr (msg);
        char *text = zmsg_popstr (msg);
        push = atoi (text);
        zstr_free (&text);
        text = zmsg_popstr (msg);
        code = atoi (text);
        zstr_free (&text);
        zframe_t *frame = zmsg_pop (msg);
        s_object_t *object = s_object (self, object_id, true);
        if (streq (command, "SERVE")) {
            zframe_destroy (&object->snapshot);
            object->snapshot = frame;
            object->deny = 0;
            frame = NULL;
        } else if (streq (command, "DENY"))
            object->deny = code;
        else if (streq (command, "PUSH")) {
            assert (object->subscriber);
            s_send (self, object->subscriber, object->request_id, push, code, frame);
        } else {
            assert (object->queued_count < FAKE_QUEUE_MAX);
            object->queued [object->queued_count++] = (s_push_t) { push, code, frame };
            frame = NULL;
        }
        zframe_destroy (&frame);
    } else if (streq (command, "MUTE")) {
        char *text = zmsg_popstr (msg);
        self->mute = atoi (text) != 0;
        zstr_free (&text);
    } else if (streq (command, "SNAPSHOTS")) {
        object_id = zmsg_popstr (msg);
        s_object_t *object = s_object (self, object_id, false);
        zsock_send (self->pipe, "i", object ? object->snapshots : 0);
    } else if (streq (command, "COUNTS"))
        zsock_send (self->pipe, "ii", self->pings, self->unsubscribes);
    else {
        assert (streq (command, "RESTART"));
        zsock_destroy (&self->router);
        for (size_t i = 0; i < self->object_count; i++)
            zframe_destroy (&self->objects [i].subscriber);
        s_bind (self);
    }
    if (go_on && !streq (command, "SNAPSHOTS") && !streq (command, "COUNTS"))
        zsock_signal (self->pipe, 0);
    zstr_free (&command);
    zstr_free (&object_id);
    zmsg_destroy (&msg);
    return go_on;
}

static void
s_actor (zsock_t *pipe, void *args)
{
    (void) args;
    s_fake_t self = { .pipe = pipe };
    s_bind (&self);
    zsock_signal (pipe, 0);
    zsock_send (pipe, "i", self.port);
    bool running = true;
    while (running) {
        zmq_pollitem_t items [] = { { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 },
                                    { zsock_resolve (self.router), 0, ZMQ_POLLIN, 0 } };
        if (zmq_poll (items, 2, -1) == -1)
            continue;
        if (items [0].revents & ZMQ_POLLIN)
            running = s_on_command (&self);
        else if (items [1].revents & ZMQ_POLLIN)
            s_on_client (&self);
    }
    for (size_t i = 0; i < self.object_count; i++) {
        s_object_t *object = &self.objects [i];
        zframe_destroy (&object->snapshot);
        zframe_destroy (&object->subscriber);
        for (size_t q = 0; q < object->queued_count; q++)
            zframe_destroy (&object->queued [q].object);
    }
    zsock_destroy (&self.router);
}

zactor_t *
fake_gateway_new (int *port)
{
    zactor_t *self = zactor_new (s_actor, NULL);
    assert (self);
    zsock_recv (self, "i", port);
    return self;
}

static void
s_command (zactor_t *self, const char *command, const char *object_id, int push, int code,
           const uint8_t *object, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, command);
    zmsg_addstr (msg, object_id);
    zmsg_addstrf (msg, "%d", push);
    zmsg_addstrf (msg, "%d", code);
    zmsg_addmem (msg, object, size);
    zmsg_send (&msg, self);
    zsock_wait (self);
}

void
fake_gateway_serve (zactor_t *self, const char *object_id, const uint8_t *object, size_t size)
{
    s_command (self, "SERVE", object_id, 0, 0, object, size);
}

void
fake_gateway_deny (zactor_t *self, const char *object_id, Tally__ErrorCode code)
{
    s_command (self, "DENY", object_id, 0, code, NULL, 0);
}

void
fake_gateway_push (zactor_t *self, const char *object_id, Tally__PushKind push,
                   Tally__ErrorCode code, const uint8_t *object, size_t size)
{
    s_command (self, "PUSH", object_id, push, code, object, size);
}

void
fake_gateway_queue (zactor_t *self, const char *object_id, Tally__PushKind push,
                    Tally__ErrorCode code, const uint8_t *object, size_t size)
{
    s_command (self, "QUEUE", object_id, push, code, object, size);
}

void
fake_gateway_mute_pings (zactor_t *self, bool mute)
{
    zstr_sendx (self, "MUTE", mute ? "1" : "0", NULL);
    zsock_wait (self);
}

int
fake_gateway_snapshots (zactor_t *self, const char *object_id)
{
    zstr_sendx (self, "SNAPSHOTS", object_id, NULL);
    int snapshots = 0;
    zsock_recv (self, "i", &snapshots);
    return snapshots;
}

void
fake_gateway_counts (zactor_t *self, int *pings, int *unsubscribes)
{
    zstr_send (self, "COUNTS");
    zsock_recv (self, "ii", pings, unsubscribes);
}

void
fake_gateway_restart (zactor_t *self)
{
    zstr_send (self, "RESTART");
    zsock_wait (self);
}
