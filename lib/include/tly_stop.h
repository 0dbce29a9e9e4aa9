//  tly_stop - SIGINT and SIGTERM as a flag each process's main loop checks:
//  the loop finishes its turn, then the process closes everything and exits.
//  czmq's own handlers are switched off so that the flag is ours to read.
#ifndef TLY_STOP_H_INCLUDED
#define TLY_STOP_H_INCLUDED

#include <stdbool.h>

void tly_stop_install (void);
bool tly_stop_requested (void);

#endif
