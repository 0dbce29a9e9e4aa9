//  audit_journal - opening a journal for the `tally audit` tools (see audit_journal.h).
#include "audit_journal.h"

#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

int
audit_take_archive (const char *program, const char *text, void *target)
{
    audit_archives_t *archives = target;
    struct stat info;
    if (archives->count == AUDIT_ARCHIVES_MAX) {
        fprintf (stderr, "%s: at most %d --archive folders\n", program, AUDIT_ARCHIVES_MAX);
        return -1;
    }
    if (stat (text, &info) == -1 || !S_ISDIR (info.st_mode)) {
        fprintf (stderr, "%s: --archive %s is not a folder\n", program, text);
        return -1;
    }
    archives->dirs [archives->count++] = text;
    return 0;
}

tly_journal_t *
audit_open_journal (const char *command, const char *journal_dir, const char *data_dir,
                    const audit_archives_t *archives)
{
    if ((journal_dir == NULL) == (data_dir == NULL)) {
        fprintf (stderr, "%s: give exactly one of --journal DIR or --data-dir DIR\n", command);
        return NULL;
    }
    char path [AUDIT_PATH_MAX];
    if (journal_dir)
        snprintf (path, sizeof path, "%s", journal_dir);
    else if ((size_t) snprintf (path, sizeof path, "%s/" AUDIT_DATA_SUBDIR "/" TLY_JOURNAL_SUBDIR,
                                data_dir)
             >= sizeof path) {
        fprintf (stderr, "%s: --data-dir is too long\n", command);
        return NULL;
    }
    struct stat info;
    if (stat (path, &info) == -1 || !S_ISDIR (info.st_mode)) {
        fprintf (stderr, "%s: no journal directory at %s\n", command, path);
        return NULL;
    }
    tly_journal_t *journal = archives && archives->count
                                 ? tly_journal_new_reader_in (path, archives->dirs, archives->count)
                                 : tly_journal_new_reader (path);
    if (!journal)
        fprintf (stderr, "%s: cannot read the journal in %s (see the log line above)\n", command,
                 path);
    return journal;
}

uint64_t
audit_journal_bytes (tly_journal_t *journal, uint64_t *archived)
{
    uint64_t total = 0, in_archives = 0;
    for (size_t i = 0; i < tly_journal_segment_count (journal); i++) {
        tly_journal_segment_info_t info;
        if (tly_journal_segment_info (journal, i, &info) == -1)
            continue;
        total += info.bytes;
        in_archives += info.archived ? info.bytes : 0;
    }
    if (archived)
        *archived = in_archives;
    return total;
}

bool
audit_journal_gap (const char *command, tly_journal_t *journal)
{
    uint64_t from, to;
    if (!tly_journal_gap (journal, &from, &to))
        return false;
    fprintf (stderr, "%s: gap: records %" PRIu64 "..%" PRIu64 " missing (segment not found)\n",
             command, from, to);
    return true;
}
