//  cli_order - orders as the CLI prints them (a send's result, `tally order
//  show|list`, `tally watch`) and the --item flag of `tally order`.
#include "cli.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "tly_object_id.h"

int
cli_take_item (const char *command, const char *text, void *target)
{
    assert (command && text && target);
    cli_order_items_t *items = target;
    if (items->count == TLY_ORDER_ITEMS_MAX) {
        fprintf (stderr, "%s: --item: an order holds at most %d items\n", command,
                 TLY_ORDER_ITEMS_MAX);
        return -1;
    }
    tly_order_item_t *item = &items->items [items->count];
    //  The last '=' starts the amount: an item ID may hold '=' itself.
    const char *equals = strrchr (text, '=');
    size_t size = equals ? (size_t) (equals - text) : strlen (text);
    if (size > TLY_ITEM_ID_MAX) {
        fprintf (stderr, "%s: --item: item ID of %zu bytes exceeds %d bytes\n", command, size,
                 TLY_ITEM_ID_MAX);
        return -1;
    }
    int64_t amount = 0;
    if (equals && tly_flags_parse_int (equals + 1, INT64_MIN, INT64_MAX, &amount) == -1) {
        fprintf (stderr, "%s: --item: amount is not an integer in '%s' (ITEM or ITEM=AMOUNT)\n",
                 command, text);
        return -1;
    }
    memcpy (item->item_id, text, size);
    item->item_id [size] = 0;
    item->amount = amount;
    items->count++;
    return 0;
}

int
cli_order_operand (const char *command, int argc, char **argv, int operand, const char **order_id)
{
    assert (command && argv && order_id);
    if (operand >= argc) {
        fprintf (stderr, "%s: which order? %s ORDER_ID\n", command, command);
        return CLI_EXIT_USAGE;
    }
    if (operand + 1 < argc)
        return cli_unexpected (command, argv [operand + 1]);
    tly_object_kind_t kind;
    if (tly_object_id_parse (argv [operand], &kind, NULL, NULL) == -1 || kind != TLY_OBJ_ORDER) {
        fprintf (stderr, "%s: ORDER_ID: order '%.80s' is not an order's ID (co_z...)\n", command,
                 argv [operand]);
        return CLI_EXIT_USAGE;
    }
    *order_id = argv [operand];
    return -1;
}

void
cli_text_order (FILE *out, const tly_order_t *order)
{
    assert (out && order);
    fprintf (out, "order %s %s total %" PRId64 " items %zu", order->id,
             tly_order_status_name (order->status), order->total, order->item_count);
    if (*order->error)
        fprintf (out, " error %s", order->error);
}

void
cli_text_order_lines (FILE *out, const tly_order_t *order)
{
    assert (out && order);
    for (size_t i = 0; i < order->item_count; i++) {
        fprintf (out, "  item %s amount %" PRId64, order->items [i].item_id,
                 order->items [i].amount);
        if (i < order->purchase_count)
            fprintf (out, " purchase %s", order->purchase_ids [i]);
        fputc ('\n', out);
    }
}

void
cli_text_order_summary (FILE *out, const tly_order_summary_t *summary)
{
    assert (out && summary);
    fprintf (out, "order %s %s total %" PRId64 " version %" PRIu64, summary->id,
             tly_order_status_name (summary->status), summary->total, summary->version);
}

void
cli_json_order (FILE *out, const tly_order_t *order)
{
    assert (out && order);
    fputs ("{\"id\":", out);
    cli_json_string (out, order->id);
    fputs (",\"userId\":", out);
    cli_json_string (out, order->user_id);
    fprintf (out, ",\"status\":\"%s\",\"items\":[", tly_order_status_name (order->status));
    for (size_t i = 0; i < order->item_count; i++) {
        fputs (i > 0 ? ",{\"itemId\":" : "{\"itemId\":", out);
        cli_json_string (out, order->items [i].item_id);
        fprintf (out, ",\"amount\":%" PRId64 "}", order->items [i].amount);
    }
    fprintf (out, "],\"total\":%" PRId64 ",\"error\":", order->total);
    cli_json_string (out, order->error);
    fprintf (out,
             ",\"version\":%" PRIu64 ",\"createdAt\":%" PRId64 ",\"updatedAt\":%" PRId64
             ",\"submittedAt\":%" PRId64 ",\"finishedAt\":%" PRId64 ",\"purchaseIds\":[",
             order->version, order->created_at, order->updated_at, order->submitted_at,
             order->finished_at);
    for (size_t i = 0; i < order->purchase_count; i++) {
        if (i > 0)
            fputc (',', out);
        cli_json_string (out, order->purchase_ids [i]);
    }
    fputs ("]}", out);
}

void
cli_json_order_summaries (FILE *out, const tly_order_summary_t *summaries, size_t count)
{
    assert (out && (summaries || count == 0));
    fputc ('[', out);
    for (size_t i = 0; i < count; i++) {
        const tly_order_summary_t *summary = &summaries [i];
        fputs (i > 0 ? ",{\"id\":" : "{\"id\":", out);
        cli_json_string (out, summary->id);
        fputs (",\"userId\":", out);
        cli_json_string (out, summary->user_id);
        fprintf (out,
                 ",\"status\":\"%s\",\"total\":%" PRId64 ",\"version\":%" PRIu64
                 ",\"updatedAt\":%" PRId64 ",\"submittedAt\":%" PRId64 "}",
                 tly_order_status_name (summary->status), summary->total, summary->version,
                 summary->updated_at, summary->submitted_at);
    }
    fputc (']', out);
}
