//  script_gateway - see script_gateway.h.
#include "script_gateway.h"

#include <assert.h>

void
script_gateway_run (zsock_t *pipe, script_gateway_answer_fn *answer, void *state)
{
    assert (pipe && answer);
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    assert (router);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    assert (port > 0);
    zsock_signal (pipe, 0);
    zsock_send (pipe, "i", port);
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    int sends = 0;
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool count = command && streq (command, "COUNT");
            zstr_free (&command);
            if (!count)
                break;
            zsock_send (pipe, "i", sends);
            continue;
        }
        zmsg_t *msg = zmsg_recv (router);
        zframe_t *identity = zmsg_pop (msg);
        zframe_t *data = zmsg_pop (msg);
        sends++;
        Tally__ClientRequest *request = tally__client_request__unpack (NULL, zframe_size (data),
                                                                       zframe_data (data));
        assert (request && request->body_case == TALLY__CLIENT_REQUEST__BODY_SEND);
        Tally__Envelope *envelope = tally__envelope__unpack (NULL, request->send->envelope.len,
                                                             request->send->envelope.data);
        assert (envelope && envelope->n_messages == 1);
        assert (envelope->inbox.len == TLY_KEY_BYTES && envelope->sender.len == TLY_KEY_BYTES);
        const Tally__InboxMessage *message = envelope->messages [0];
        Tally__MessageResult result = TALLY__MESSAGE_RESULT__INIT;
        result.message_id = message->message_id;
        answer (state, envelope, message, &result);
        Tally__MessageResult *results [1] = { &result };
        Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
        reply.request_id = request->request_id;
        reply.n_results = 1;
        reply.results = results;
        tly_wire_send (router, identity, &reply.base);
        tally__envelope__free_unpacked (envelope, NULL);
        tally__client_request__free_unpacked (request, NULL);
        zframe_destroy (&identity);
        zframe_destroy (&data);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&router);
}

int
script_gateway_sends (zactor_t *gateway)
{
    zstr_send (gateway, "COUNT");
    int sends = -1;
    zsock_recv (gateway, "i", &sends);
    return sends;
}
