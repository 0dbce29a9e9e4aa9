//  audit_journal - opening a journal for the `tally audit` tools (see audit_journal.h).
#include "audit_journal.h"

#include <stdio.h>
#include <sys/stat.h>

tly_journal_t *
audit_open_journal (const char *command, const char *journal_dir, const char *data_dir)
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
    tly_journal_t *journal = tly_journal_new_reader (path);
    if (!journal)
        fprintf (stderr, "%s: cannot read the journal in %s (see the log line above)\n", command,
                 path);
    return journal;
}
