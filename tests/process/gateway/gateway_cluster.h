//  gateway_cluster - a fake cluster for the read-path tests of the real
//  tally-gateway, and the client side of those tests.
//
//  The fake router is a ROUTER bound where the gateway expects the router.
//  It answers a SnapshotRequest as an actor behind a router does: with a
//  SnapshotReply{version} and with the snapshot on the bus as
//  BusObject{object, requester copied from the request}, in the order the
//  test asks for, objects signed by a test worker key. The fake bus is an
//  XPUB bound where the gateway's SUB connects; it applies the gateway's
//  subscriptions by hand (ZMQ_XPUB_MANUAL) when it reads them, so a test can
//  publish before a subscription "arrived", and it sees every topic the
//  gateway subscribes or drops, in order. That is how a test knows what the
//  gateway did, with no sleeps: every wait is a poll with a deadline, and a
//  failed expectation fails the test (CHECK).
#ifndef GATEWAY_CLUSTER_H_INCLUDED
#define GATEWAY_CLUSTER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include "gateway_process.h"
#include "tally.pb-c.h"
#include "tly_account.h"

//  The longest any expected message may take: a deadline, reached only
//  when something is wrong. A sanitizer build on a loaded machine once took
//  over 10 s to show the gateway's bus subscription.
#define CLUSTER_WAIT_MS         30000
#define CLUSTER_PARTITIONS      256
#define CLUSTER_TOPIC_BYTES     19
#define CLUSTER_INSTANCE_BYTES  8
#define CLUSTER_REQUESTER_BYTES 16
#define CLUSTER_OBJECTS_MAX     16
#define CLUSTER_TOPICS_MAX      64  //  topics subscribed at once
#define CLUSTER_EVENTS_MAX      64  //  (un)subscriptions read, not yet expected

#define NOT_PUSHED TALLY__PUSH_KIND__NOT_PUSHED
#define UPDATE     TALLY__PUSH_KIND__UPDATE
#define SNAPSHOT   TALLY__PUSH_KIND__SNAPSHOT
#define ENDED      TALLY__PUSH_KIND__ENDED
#define OK         TALLY__ERROR_CODE__OK

//  How the fake answers a SnapshotRequest it grants.
typedef enum {
    CLUSTER_REPLY_FIRST = 1,  //  SnapshotReply, then the snapshot on the bus
    CLUSTER_BUS_FIRST = 2,    //  the snapshot on the bus, then SnapshotReply
    CLUSTER_BUS_EARLY = 3,    //  the snapshot on the bus before the gateway's
                              //  subscription is applied (so it is lost), then
                              //  SnapshotReply
    CLUSTER_BUS_NEVER = 4     //  SnapshotReply only
} cluster_order_t;

typedef struct {
    char id [TLY_ID_MAX];
    uint64_t version;  //  newest published
} cluster_object_t;

typedef struct {
    uint8_t topic [CLUSTER_TOPIC_BYTES];
    bool subscribe;
} cluster_event_t;

typedef struct {
    zsock_t *router;  //  ROUTER: the gateway's --router
    zsock_t *bus;     //  XPUB (manual): the gateway's --bus
    char router_endpoint [64];
    char bus_endpoint [64];
    const tly_account_t *worker;                //  signs every object
    const tly_account_t *owner;                 //  the user the objects belong to
    bool answer;                                //  answer snapshot requests while waiting
    cluster_order_t order;                      //  ... this way (and in cluster_subscribe_answered)
    size_t answered;                            //  snapshot requests answered while waiting
    uint8_t instance [CLUSTER_INSTANCE_BYTES];  //  the gateway's, from its first request
    bool instance_known;
    uint64_t last_number;  //  snapshot number of the newest request
    cluster_object_t objects [CLUSTER_OBJECTS_MAX];
    size_t object_count;
    uint8_t topics [CLUSTER_TOPICS_MAX][CLUSTER_TOPIC_BYTES];  //  subscriptions applied
    size_t topic_count;
    cluster_event_t events [CLUSTER_EVENTS_MAX];
    size_t event_count;
} cluster_t;

cluster_t *cluster_new (const tly_account_t *worker, const tly_account_t *owner);
void cluster_destroy (cluster_t **cluster_p);
//  Starts the gateway on cluster, with extra flags (NULL-terminated); its
//  client endpoint goes to endpoint.
void cluster_start (cluster_t *cluster, const char *worker_id, char *endpoint, size_t size,
                    char *flags []);
//  The fake router dies and a new one takes its place at the same
//  endpoints: both sockets closed and bound again. None of the gateway's bus
//  subscriptions is applied on the new bus until it sends them again, and
//  the (un)subscriptions not yet expected are forgotten.
void cluster_restart (cluster_t *cluster);
//  The bus topic of an object: the 19 raw bytes of its ID.
void cluster_topic (const char *id, uint8_t topic [CLUSTER_TOPIC_BYTES]);

//  Publishes version `version` of object id on the bus for requester (NULL,
//  0: an update).
void cluster_publish_for (cluster_t *cluster, const char *id, uint64_t version,
                          const uint8_t *requester, size_t requester_size);
//  Publishes an update.
void cluster_publish (cluster_t *cluster, const char *id, uint64_t version);
//  Publishes version `version` as the owner's whole current state
//  (BusObject.current), as an actor does when it starts serving a partition.
void cluster_publish_current (cluster_t *cluster, const char *id, uint64_t version);
//  Publishes a data frame that is not a BusObject on id's topic.
void cluster_publish_garbage (cluster_t *cluster, const char *id);

//  The next SnapshotRequest the gateway sent (checked: its partition,
//  reader size, requester: the gateway's instance and a number newer than
//  any before); the caller frees it or hands it to cluster_answer.
Tally__GatewayToRouter *cluster_request (cluster_t *cluster, zframe_t **identity_p);
//  The same, and checks its object and reader.
Tally__GatewayToRouter *cluster_expect_request (cluster_t *cluster, zframe_t **identity_p,
                                                const char *id, const tly_account_t *reader);
//  Answers a SnapshotRequest: with error `code` when it is not OK, else with
//  version `version`, as `order` says. Consumes the request and the identity.
//  When the snapshot goes on the bus (REPLY_FIRST, BUS_FIRST) it first waits
//  until the gateway's subscription to the topic is applied.
void cluster_answer (cluster_t *cluster, zframe_t **identity_p, Tally__GatewayToRouter **request_p,
                     uint64_t version, Tally__ErrorCode code, cluster_order_t order);
//  Waits until sock has a message (sock NULL: until a bus (un)subscription
//  is waiting for cluster_expect_bus). Meanwhile applies the gateway's bus
//  subscriptions, and when the cluster answers, answers every snapshot
//  request with the object's newest version.
bool cluster_wait (cluster_t *cluster, zsock_t *sock, int timeout_ms);
//  The next thing the gateway did on the bus: (un)subscribed object id.
void cluster_expect_bus (cluster_t *cluster, const char *id, bool subscribe);

//  A client DEALER; receive_queue and receive_buffer 0 leave the defaults.
zsock_t *client_new (const char *endpoint, int receive_queue, int receive_buffer);
//  Sends a packed request; frees it.
void client_send (zsock_t *client, uint8_t *bytes, size_t size);
void client_subscribe (zsock_t *client, const tly_account_t *reader, const char *id,
                       uint64_t request_id, bool forge);
//  The next reply; the caller frees it.
Tally__ClientReply *client_reply (cluster_t *cluster, zsock_t *client);
//  The version of a reply's object, after checking the worker's signature.
uint64_t client_version_of (cluster_t *cluster, const Tally__ClientReply *reply, const char *id);
//  The next reply is object id at `version`, as `push`, for request_id, with
//  error `code` (OK: no error).
void client_expect_object (cluster_t *cluster, zsock_t *client, uint64_t request_id,
                           Tally__PushKind push, const char *id, uint64_t version,
                           Tally__ErrorCode code);
//  The next reply is error `code` (and no object) for request_id, as `push`,
//  its text holding part (NULL: any).
void client_expect_error (cluster_t *cluster, zsock_t *client, uint64_t request_id,
                          Tally__PushKind push, Tally__ErrorCode code, const char *part);
//  The next reply is a bare ClientReply{request_id}.
void client_expect_empty (cluster_t *cluster, zsock_t *client, uint64_t request_id);
//  Nothing is waiting for the client: a ping's answer is the next it gets.
void client_expect_quiet (cluster_t *cluster, zsock_t *client, uint64_t request_id);
//  Everything the fake router sent the gateway so far has been handled: a
//  status request from client, answered by the fake, comes back after it
//  (one connection, in order). The fake router must not be answering.
void client_barrier (cluster_t *cluster, zsock_t *client, uint64_t request_id);
//  A subscribe all the way: the topic (when new), the snapshot request, and
//  the snapshot at `version` (answered as cluster->order says) as the answer.
void client_subscribe_answered (cluster_t *cluster, zsock_t *client, const tly_account_t *reader,
                                const char *id, uint64_t request_id, bool new_topic,
                                uint64_t version);

#endif
