//  tly_router_epoch - the router's durable epoch counter, DIR/router.epoch.
//
//  The file holds one decimal u64 and a newline. It is replaced atomically:
//  write a temporary file, fsync it, rename it over the old one, fsync the
//  directory. The router saves a new value before it hands that epoch to any
//  actor, so after a crash or restart every epoch it gives out is higher than
//  every epoch it gave out before.
#ifndef TLY_ROUTER_EPOCH_H_INCLUDED
#define TLY_ROUTER_EPOCH_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLY_ROUTER_EPOCH_FILE "router.epoch"
#define TLY_ROUTER_LOCK_FILE  "router.lock"

//  Takes an exclusive lock on DIR/router.lock so that two routers never share
//  one counter. Returns the descriptor holding the lock (closing it releases
//  the lock), or -1 with one line in error.
int tly_router_epoch_lock (const char *dir, char *error, size_t error_size);

//  Reads the counter from dir; a missing file is epoch 0. Returns 0, or -1 with
//  one line in error (unreadable file, or content that is not a u64).
int tly_router_epoch_load (const char *dir, uint64_t *epoch, char *error, size_t error_size);
//  Durably replaces the counter. Returns 0, or -1 with errno set.
int tly_router_epoch_save (const char *dir, uint64_t epoch);

#endif
