//  tly_object - checks and decodes the objects the worker signs.
//  Internal to libtally (and its unit test); the public API is tally.h.
#ifndef TLY_OBJECT_H_INCLUDED
#define TLY_OBJECT_H_INCLUDED

#include "tally.h"
#include "tally.pb-c.h"

//  Where a version stands against the last one delivered.
typedef enum {
    TLY_SEQUENCE_NEXT = 0,  //  last + 1: deliver it
    TLY_SEQUENCE_OLD = 1,   //  delivered already: drop it
    TLY_SEQUENCE_GAP = 2    //  a version is missing: resync
} tly_sequence_t;

//  Verifies the worker's signature over signed_object->state (domain
//  object), decodes the ObjectState into object and checks it: the object
//  ID is one (and equals expected_id when that is not NULL), the version is
//  at least 1, the value's kind is the ID's kind, every field fits. Returns
//  0, or -1 with object cleared and error set (BAD_SIGNATURE, or INTERNAL for
//  a malformed object; never remote). Free with tly_object_clear.
int tly_object_decode (const Tally__SignedObject *signed_object,
                       const uint8_t worker [TLY_KEY_BYTES], const char *expected_id,
                       tly_object_t *object, tly_error_t *error);
//  Frees what decode allocated and zeroes object. Safe on a zeroed object.
void tly_object_clear (tly_object_t *object);

//  The canonical spelling of an object ID (as the cluster writes it) into
//  out (TLY_ID_MAX bytes). Returns 0, or -1 when text is not an object ID.
int tly_object_canonical_id (const char *text, char *out, tly_object_kind_t *kind);

tly_sequence_t tly_object_sequence (uint64_t last, uint64_t version);

#endif
