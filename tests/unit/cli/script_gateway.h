//  script_gateway - the loop of a scripted gateway for the CLI's tests, in
//  its own thread: a ROUTER on a free loopback port that answers each send
//  of one message with one result, decided by the test's callback. "COUNT"
//  on the actor's pipe is answered with the sends received so far; any
//  other command ends it.
#ifndef SCRIPT_GATEWAY_H_INCLUDED
#define SCRIPT_GATEWAY_H_INCLUDED

#include <czmq.h>

#include "tally.h"
#include "tly_wire.h"

//  Fills result (its message_id set) for message, the envelope's only one.
//  What result points into must outlive the call, until the reply is sent:
//  keep it in state.
typedef void (script_gateway_answer_fn) (void *state, const Tally__Envelope *envelope,
                                         const Tally__InboxMessage *message,
                                         Tally__MessageResult *result);

//  Runs the gateway on the actor's pipe: binds, sends the port ("i") on
//  pipe, then answers each send with answer (state passed through).
void script_gateway_run (zsock_t *pipe, script_gateway_answer_fn *answer, void *state);
//  Sends received so far.
int script_gateway_sends (zactor_t *gateway);

#endif
