//  fake_gateway - a scripted gateway for the watcher's tests, in its own
//  thread: it answers subscribes with the signed objects the test serves,
//  pushes what the test asks for, answers pings (unless muted) and
//  unsubscribes, and can restart (a new ROUTER socket on the same port).
//  Every subscribe it receives must carry a valid reader signature.
#ifndef FAKE_GATEWAY_H_INCLUDED
#define FAKE_GATEWAY_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

#include "tally.h"

//  Starts the fake on a free port of 127.0.0.1, written to *port.
zactor_t *fake_gateway_new (int *port);

//  Subscribes to object_id are answered with this packed SignedObject from now on.
void fake_gateway_serve (zactor_t *self, const char *object_id, const uint8_t *object, size_t size);
//  Subscribes to object_id are refused with code from now on.
void fake_gateway_deny (zactor_t *self, const char *object_id, Tally__ErrorCode code);
//  Sends ClientReply {request_id of the latest subscribe to object_id, push,
//  error = code unless OK, object unless size is 0} to its subscriber now.
void fake_gateway_push (zactor_t *self, const char *object_id, Tally__PushKind push,
                        Tally__ErrorCode code, const uint8_t *object, size_t size);
//  The same, sent right after the next snapshot answer for object_id.
void fake_gateway_queue (zactor_t *self, const char *object_id, Tally__PushKind push,
                         Tally__ErrorCode code, const uint8_t *object, size_t size);
void fake_gateway_mute_pings (zactor_t *self, bool mute);
//  Subscribes answered with a snapshot for object_id so far.
int fake_gateway_snapshots (zactor_t *self, const char *object_id);
//  Pings and unsubscribes received so far.
void fake_gateway_counts (zactor_t *self, int *pings, int *unsubscribes);
void fake_gateway_restart (zactor_t *self);

#endif
