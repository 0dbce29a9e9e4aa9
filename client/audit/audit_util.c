//  audit_util - opening a journal, the progress bar, the decode arena, the
//  wire scanner and hex: the pieces every `tally audit` subcommand uses.
#include "audit.h"

#include <assert.h>
#include <sodium.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tly_wire.h"

#define S_PROGRESS_WIDTH    30          //  characters of the bar itself
#define S_VARINT_MAX        10          //  bytes of the longest varint

//  ---------------------------------------------------------------- the journal

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
    else
    if ((size_t) snprintf (path, sizeof path, "%s/" AUDIT_DATA_SUBDIR "/" TLY_JOURNAL_SUBDIR,
                           data_dir) >= sizeof path) {
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
        fprintf (stderr, "%s: cannot read the journal in %s (see the log line above)\n",
                 command, path);
    return journal;
}

//  ---------------------------------------------------------------- progress

void
audit_progress_start (audit_progress_t *self, const char *label, uint64_t total)
{
    assert (self && label);
    *self = (audit_progress_t) {
        .enabled = isatty (STDERR_FILENO) == 1, .label = label, .total = total,
        .start_ms = tly_mono_ms ()
    };
    self->drawn_ms = self->start_ms;
}

void
audit_progress_update (audit_progress_t *self, uint64_t done)
{
    if (!self || !self->enabled)
        return;
    int64_t now = tly_mono_ms ();
    if (now - self->drawn_ms < AUDIT_PROGRESS_MS)
        return;
    self->drawn_ms = now;
    double seconds = (double) (now - self->start_ms) / 1000.0;
    double rate = seconds > 0? (double) done / seconds: 0;
    if (self->total > 0) {
        uint64_t shown = done < self->total? done: self->total;
        int filled = (int) (shown * S_PROGRESS_WIDTH / self->total);
        char bar [S_PROGRESS_WIDTH + 1];
        memset (bar, '#', (size_t) filled);
        memset (bar + filled, '.', (size_t) (S_PROGRESS_WIDTH - filled));
        bar [S_PROGRESS_WIDTH] = 0;
        fprintf (stderr, "\r%s [%s] %3d%% %lu/%lu records, %.0f/s ", self->label, bar,
                 (int) (shown * 100 / self->total), (unsigned long) done,
                 (unsigned long) self->total, rate);
    }
    else
        fprintf (stderr, "\r%s %lu records, %.0f/s ", self->label, (unsigned long) done, rate);
    fflush (stderr);
}

void
audit_progress_end (audit_progress_t *self)
{
    if (!self || !self->enabled)
        return;
    //  Erases the line the bar was drawn on (only if one was drawn).
    if (self->drawn_ms != self->start_ms)
        fputs ("\r\033[K", stderr);
    self->enabled = false;
}

//  ---------------------------------------------------------------- the arena

//  ---------------------------------------------------------------- the wire

static int
s_varint (audit_wire_t *wire, uint64_t *value)
{
    uint64_t result = 0;
    for (int i = 0; i < S_VARINT_MAX; i++) {
        if (wire->at >= wire->end)
            return -1;
        uint8_t byte = *wire->at++;
        result |= (uint64_t) (byte & 0x7f) << (7 * i);
        if ((byte & 0x80) == 0) {
            *value = result;
            return 0;
        }
    }
    return -1;
}

int
audit_wire_next (audit_wire_t *wire, audit_field_t *field)
{
    assert (wire && field);
    if (wire->at >= wire->end)
        return 0;
    uint64_t tag;
    if (s_varint (wire, &tag) == -1 || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX)
        return -1;
    memset (field, 0, sizeof *field);
    field->number = (uint32_t) (tag >> 3);
    field->type = (uint32_t) (tag & 7);
    size_t left;
    switch (field->type) {
        case AUDIT_WIRE_VARINT:
            return s_varint (wire, &field->varint) == 0? 1: -1;
        case AUDIT_WIRE_BYTES:
            if (s_varint (wire, &field->varint) == -1
            ||  field->varint > (uint64_t) (wire->end - wire->at))
                return -1;
            field->data = wire->at;
            field->size = (size_t) field->varint;
            wire->at += field->size;
            return 1;
        case 1:
        case 5:
            left = field->type == 1? 8: 4;
            if (left > (size_t) (wire->end - wire->at))
                return -1;
            for (size_t i = 0; i < left; i++)
                field->varint |= (uint64_t) wire->at [i] << (8 * i);
            wire->at += left;
            return 1;
        default:
            return -1;                  //  groups (3, 4) are not proto3
    }
}

void
audit_hex (const uint8_t *bytes, size_t size, char *out)
{
    sodium_bin2hex (out, 2 * size + 1, bytes, size);
}
