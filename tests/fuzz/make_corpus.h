//  make_corpus - what the parts of fuzz_corpus (make_corpus.c and the files
//  beside it) share: the limits of a seed, fuzz_wire's message types,
//  writing seeds, and each command's entry point.
#ifndef MAKE_CORPUS_H_INCLUDED
#define MAKE_CORPUS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz_support.h"
#include "tally.h"

//  The largest seed kept, and how long an answer may take.
#define CORPUS_SEED_MAX     4096
#define CORPUS_WAIT_MS      10000
//  fuzz_wire's first byte: the index of a message type in its table.
#define CORPUS_WIRE_REQUEST 0
#define CORPUS_WIRE_REPLY   1
#define CORPUS_WIRE_SIGNED  2
#define CORPUS_WIRE_ENV     3
#define CORPUS_WIRE_AUDIT   11
#define CORPUS_WIRE_STORED  12
#define CORPUS_WIRE_BODY    13
#define CORPUS_WIRE_OBJECT  15
#define CORPUS_WIRE_STATE   16
#define CORPUS_WIRE_CKPT    17

//  Writes one seed, OUT/target/name, unless it is over CORPUS_SEED_MAX
//  (make_corpus.c).
void corpus_seed (const char *target, const char *name, const uint8_t *bytes, size_t size);
//  A seed for fuzz_wire: the type's index, then the bytes.
void corpus_wire_seed (uint8_t type, const char *name, const uint8_t *bytes, size_t size);

//  A seed made of chunks, built in memory.
typedef struct {
    char *bytes;
    size_t size;
    FILE *file;
} corpus_chunks_t;

//  Opens a seed whose first byte is first; adds a chunk (fuzz_chunk_write);
//  writes it as OUT/target/name.
void corpus_chunks_open (corpus_chunks_t *self, uint8_t first);
void corpus_chunks_add (corpus_chunks_t *self, uint8_t tag, const uint8_t *data, size_t size);
void corpus_chunks_close (corpus_chunks_t *self, const char *target, const char *name);

//  The commands that talk to a running cluster or read its journal; each
//  returns the exit code. The traffic (make_corpus_traffic.c):
int corpus_traffic (const char *gateway, const char *journal_dir, uint32_t partitions);

//  The traffic's connection and every reply it took (make_corpus_traffic.c),
//  for the parts of the traffic in files of their own.
typedef struct corpus_traffic corpus_traffic_t;
//  A send of msgs from account who, with seeds of what was sent named name
//  (NULL: none); its answer's index.
size_t corpus_send (corpus_traffic_t *self, const char *name, fuzz_account_t who,
                    const tly_msg_t *msgs, size_t n);
//  The answer at index, decoded (tally__client_reply__free_unpacked it).
Tally__ClientReply *corpus_reply (corpus_traffic_t *self, size_t index);
//  The answer at index as seeds of sdk_reply and wire.
void corpus_reply_seed (corpus_traffic_t *self, size_t index, const char *name);
//  Stops the run unless every result of the answer at index has outcome
//  (an error: of code); copies the first result's purchase or order ID
//  into id when it is not NULL.
void corpus_expect (corpus_traffic_t *self, size_t index, const char *name,
                    Tally__MessageResult__OutcomeCase outcome, Tally__ErrorCode code, char *id);
//  corpus_send, corpus_reply_seed and corpus_expect of its answer.
void corpus_step (corpus_traffic_t *self, const char *name, fuzz_account_t who,
                  const tly_msg_t *msgs, size_t n, Tally__MessageResult__OutcomeCase outcome,
                  Tally__ErrorCode code, char *id);
//  A subscription by who to object_id (seeds named name); its request ID,
//  and its answer's index in *answer.
uint64_t corpus_subscribe (corpus_traffic_t *self, const char *name, fuzz_account_t who,
                           const char *object_id, size_t *answer);

//  A subscription whose pushes are seeds once the traffic is over.
typedef struct {
    uint64_t request_id;
    size_t answer;
    const char *name;
} corpus_sub_t;

//  The orders (make_corpus_orders.c), with its subscriptions: client B's
//  order and order list, and the worker's order queue of their partition.
#define CORPUS_ORDER_SUBS 3
void corpus_orders (corpus_traffic_t *self, uint32_t partitions,
                    corpus_sub_t subs [CORPUS_ORDER_SUBS]);
//  The audit writer's snapshots and journal (make_corpus_audit.c):
int corpus_snapshots (const char *endpoint, uint32_t partitions);
int corpus_journal (const char *dir);

#endif
