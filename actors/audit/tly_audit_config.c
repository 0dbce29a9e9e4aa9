//  tly_audit_config - tally-audit's flags, their defaults and ranges.
#include "tly_audit_config.h"
#include "tly_account_load.h"

#include <stdio.h>
#include <string.h>
#include "tly_endpoints.h"
#include "tly_flags.h"
#include "tly_journal.h"
#include "tly_limits.h"

//  Accepted flag ranges.
#define MAP_SIZE_MIN         ((long long) TLY_LMDB_MAP_MIN)
#define MAP_SIZE_MAX         (1LL << 44)  //  16 TiB
#define CHECKPOINT_EVERY_MAX 1000000000LL
#define CHECKPOINT_MS_MAX    3600000LL
#define SEGMENT_BYTES_MIN    ((long long) TLY_JOURNAL_SEGMENT_BYTES_MIN)
#define SEGMENT_RECORDS_MAX  (1LL << 48)

//  Every default is inside the range its flag accepts.
_Static_assert(TLY_LMDB_MAP_DEFAULT >= MAP_SIZE_MIN && TLY_LMDB_MAP_DEFAULT <= MAP_SIZE_MAX,
               "--map-size default");
_Static_assert(TLY_LMDB_MAP_MAX_DEFAULT >= MAP_SIZE_MIN && TLY_LMDB_MAP_MAX_DEFAULT <= MAP_SIZE_MAX,
               "--map-max default");
_Static_assert(TLY_AUDIT_CHECKPOINT_EVERY >= 1
                   && TLY_AUDIT_CHECKPOINT_EVERY <= CHECKPOINT_EVERY_MAX,
               "--checkpoint-every default");
_Static_assert(TLY_JOURNAL_SEGMENT_BYTES_DEFAULT >= SEGMENT_BYTES_MIN
                   && TLY_JOURNAL_SEGMENT_BYTES_DEFAULT <= MAP_SIZE_MAX,
               "--segment-bytes default");
_Static_assert(TLY_AUDIT_CHECKPOINT_MS >= 1 && TLY_AUDIT_CHECKPOINT_MS <= CHECKPOINT_MS_MAX,
               "--checkpoint-ms default");

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: " TLY_AUDIT_PROCESS " --data-dir DIR [options]\n"
             "  --data-dir DIR       where the journal lives (DIR/" TLY_JOURNAL_SUBDIR ")\n"
             "  --bind ENDPOINT      audit socket (default " TLY_ENDPOINT_AUDIT ")\n"
             "  --map-size BYTES     LMDB map size at first (default %llu)\n"
             "  --map-max BYTES      the map doubles when full up to this, the journal's\n"
             "                       size limit (default %llu, or --map-size if larger)\n"
             "  --segment-bytes N    roll the journal to a new segment file when the active\n"
             "                       one uses N bytes (default %llu, at least %llu)\n"
             "  --segment-records N  or when it holds N records (default 0: no limit)\n"
             "  --retain POLICY      sealed segments every partition's latest state snapshot\n"
             "                       is past: keep (default), archive, or delete\n"
             "  --archive-dir DIR    where archive moves them (default DIR/" TLY_JOURNAL_SUBDIR
             "/" TLY_JOURNAL_ARCHIVE_SUBDIR ")\n"
             "  --retain-check-ms MS how often retention looks (default %d)\n"
             "  --worker ID          worker account that signs checkpoints\n"
             "                       (default $" TLY_ENV_WORKER_ACCOUNT ")\n"
             "  --worker-secret S    its secret (default $" TLY_ENV_WORKER_SECRET ")\n"
             "  --checkpoint-every N sign the chain head every N records (default %d)\n"
             "  --checkpoint-ms MS   and at most MS ms after a record is appended (default %d)\n"
             "  --curve-secret FILE  this server's CURVE certificate (NAME.key_secret, mode\n"
             "                       0600); needed when --bind is TCP\n"
             "  --actor-keys DIR     the balance actors' public keys (*.key) that may connect\n"
             "  --insecure           allow a TCP --bind without CURVE (clear text, any peer)\n"
             "  --health-file PATH   rewrite PATH about once a second with this process's\n"
             "                       state, for `tally health` (default: none)\n"
             "  --log-level LEVEL    debug|info|warn|error (default info)\n"
             "  --help               this text\n",
             (unsigned long long) TLY_LMDB_MAP_DEFAULT,
             (unsigned long long) TLY_LMDB_MAP_MAX_DEFAULT,
             (unsigned long long) TLY_JOURNAL_SEGMENT_BYTES_DEFAULT,
             (unsigned long long) TLY_JOURNAL_SEGMENT_BYTES_MIN, TLY_AUDIT_RETAIN_CHECK_MS,
             TLY_AUDIT_CHECKPOINT_EVERY, TLY_AUDIT_CHECKPOINT_MS);
}

tly_flags_parsed_t
tly_audit_config_parse (tly_audit_writer_config_t *config, const char **health_file,
                        tly_level_t *level, int argc, char *argv [])
{
    *config = (tly_audit_writer_config_t) { .bind = TLY_ENDPOINT_AUDIT,
                                            .map_size = TLY_LMDB_MAP_DEFAULT,
                                            .checkpoint_every = TLY_AUDIT_CHECKPOINT_EVERY,
                                            .checkpoint_ms = TLY_AUDIT_CHECKPOINT_MS,
                                            .segment_bytes = TLY_JOURNAL_SEGMENT_BYTES_DEFAULT,
                                            .retain_check_ms = TLY_AUDIT_RETAIN_CHECK_MS };
    const char *retain = "keep";
    *health_file = NULL;
    *level = TLY_INFO;
    tly_flag_t flags [] = {
        TLY_FLAG_TEXT ("--data-dir", &config->data_dir),
        TLY_FLAG_TEXT ("--bind", &config->bind),
        TLY_FLAG_INT ("--map-size", &config->map_size, MAP_SIZE_MIN, MAP_SIZE_MAX),
        TLY_FLAG_INT ("--map-max", &config->map_max, MAP_SIZE_MIN, MAP_SIZE_MAX),
        TLY_FLAG_LEVEL (level),
        TLY_FLAG_INT ("--segment-bytes", &config->segment_bytes, SEGMENT_BYTES_MIN, MAP_SIZE_MAX),
        TLY_FLAG_INT ("--segment-records", &config->segment_records, 0, SEGMENT_RECORDS_MAX),
        TLY_FLAG_TEXT ("--retain", &retain),
        TLY_FLAG_TEXT ("--archive-dir", &config->archive_dir),
        TLY_FLAG_INT ("--retain-check-ms", &config->retain_check_ms, 1, CHECKPOINT_MS_MAX),
        TLY_FLAG_TEXT ("--worker", &config->worker),
        TLY_FLAG_TEXT ("--worker-secret", &config->worker_secret),
        TLY_FLAG_INT ("--checkpoint-every", &config->checkpoint_every, 1, CHECKPOINT_EVERY_MAX),
        TLY_FLAG_INT ("--checkpoint-ms", &config->checkpoint_ms, 1, CHECKPOINT_MS_MAX),
        TLY_FLAG_TEXT ("--curve-secret", &config->curve.secret_file),
        TLY_FLAG_TEXT ("--actor-keys", &config->curve.actor_keys),
        TLY_FLAG_BOOL ("--insecure", &config->curve.insecure),
        TLY_FLAG_TEXT ("--health-file", health_file),
        TLY_FLAG_HELP
    };
    tly_flags_spec_t spec = { TLY_AUDIT_PROCESS,
                              s_usage,
                              TLY_FLAGS_ONE_LINE,
                              flags,
                              sizeof flags / sizeof flags [0],
                              "unexpected argument '%s'; see --help" };
    tly_flags_parsed_t parsed = tly_flags_parse (&spec, argc, argv, NULL);
    if (parsed != TLY_FLAGS_RUN)
        return parsed;
    if (!config->data_dir || !*config->data_dir) {
        fprintf (stderr, TLY_AUDIT_PROCESS ": --data-dir is required\n");
        return TLY_FLAGS_USAGE;
    }
    if (strcmp (retain, "keep") == 0)
        config->retain = TLY_AUDIT_RETAIN_KEEP;
    else if (strcmp (retain, "archive") == 0)
        config->retain = TLY_AUDIT_RETAIN_ARCHIVE;
    else if (strcmp (retain, "delete") == 0)
        config->retain = TLY_AUDIT_RETAIN_DELETE;
    else {
        fprintf (stderr, TLY_AUDIT_PROCESS ": --retain must be keep, archive or delete, got '%s'\n",
                 retain);
        return TLY_FLAGS_USAGE;
    }
    if (config->archive_dir
        && (!*config->archive_dir || config->retain != TLY_AUDIT_RETAIN_ARCHIVE)) {
        fprintf (stderr, TLY_AUDIT_PROCESS ": --archive-dir needs --retain archive and a path\n");
        return TLY_FLAGS_USAGE;
    }
    if (config->map_max == 0)
        config->map_max = config->map_size > TLY_LMDB_MAP_MAX_DEFAULT ? config->map_size
                                                                      : TLY_LMDB_MAP_MAX_DEFAULT;
    else if (config->map_max < config->map_size) {
        fprintf (stderr,
                 TLY_AUDIT_PROCESS ": --map-max %zu is below --map-size %zu; give a maximum"
                                   " at least as large as the first size\n",
                 config->map_max, config->map_size);
        return TLY_FLAGS_USAGE;
    }
    return TLY_FLAGS_RUN;
}
