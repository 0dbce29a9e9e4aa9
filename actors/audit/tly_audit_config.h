//  tly_audit_config - tally-audit's command line: its flags and --help, into
//  the writer's config and the log level.
#ifndef TLY_AUDIT_CONFIG_H_INCLUDED
#define TLY_AUDIT_CONFIG_H_INCLUDED

#include "tly_audit_writer.h"
#include "tly_flags.h"
#include "tly_log.h"

#define TLY_AUDIT_PROCESS "tally-audit"

//  Fills config, health_file (--health-file, NULL when not given) and level
//  from argv; they point into argv.
tly_flags_parsed_t tly_audit_config_parse (tly_audit_writer_config_t *config,
                                           const char **health_file, tly_level_t *level, int argc,
                                           char *argv []);

#endif
