//  tly_mapping - gives the pages of a read-only shared file mapping back to
//  the kernel, for a process that reads an LMDB file through its map.
//
//  LMDB without MDB_WRITEMAP maps its data file read-only and shared, and
//  writes with pwrite. Every page it reads through the map stays mapped in
//  the process, counted in its RSS, until the kernel wants the memory back;
//  a server that reads a little of a large file now and then ends up with
//  most of the file resident. On a file system that caches files in large
//  folios (ext4 on Linux 6.x) one read of one page may map the whole folio
//  around it.
//
//      tly_mapping_release (value.mv_data);   //  any address inside the map
//
//  It is MADV_DONTNEED over the whole mapping that holds the address, which
//  for a shared file mapping only removes page-table entries: the pages stay
//  in the page cache (and the file), and the next read through the map
//  faults them in again, with the same bytes. So it is safe at any time,
//  with read transactions open and in any thread; it only costs the faults
//  of the pages read again. It refuses every other kind of mapping (private
//  or writable, where MADV_DONTNEED would drop data) with -1.
#ifndef TLY_MAPPING_H_INCLUDED
#define TLY_MAPPING_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  Releases the mapping that holds inside. Returns 0, or -1 when inside is
//  in no mapping, the mapping is not a read-only shared one of a file, or
//  madvise failed (errno set).
int tly_mapping_release (const void *inside);
//  The mapping that holds inside: its start and size, and whether it is a
//  read-only shared mapping of a file. Returns 0, or -1 when none holds it.
int tly_mapping_find (const void *inside, void **start, size_t *size, bool *shared_read_only);

#endif
