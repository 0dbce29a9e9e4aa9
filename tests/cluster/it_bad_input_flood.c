//  it_bad_input_flood - after the table, one client (from its own loopback
//  address) floods the gateway with 100,000 junk frames: every one is
//  answered, the gateway's memory and its log stay bounded, its
//  client.rejections lines count every rejection of that peer, and a valid
//  client is still served. Apart from the table: it measures the gateway
//  under load rather than one request's answer.
#include "it_bad_input.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_wire.h"

//  ---------------------------------------------------------------- the flood

//  Junk frames from one client, how many may wait for their answers, and
//  the client's own address (a second loopback address, so that the
//  gateway's per-peer report of it holds the flood alone).
#define S_FLOOD             100000
#define S_FLOOD_OUTSTANDING 5000
#define S_FLOOD_PEER        "127.0.0.2"
#define S_FLOOD_TIMEOUT_MS  180000

//  How much the gateway's anonymous memory (RssAnon) may grow under the
//  flood. What it may hold for one flooding client is bounded by queues,
//  not by the frames it is sent: CLIENT_REQUEST_QUEUE (1000) frames read
//  ahead, here of at most 64 bytes but for one in 1000 of 128 KiB, and at
//  most S_FLOOD_OUTSTANDING answers of about 300 bytes on their way back:
//  under 2 MiB, and 4 MiB allows for what malloc keeps. A sanitizer build
//  adds its quarantine and the shadow of it (an eighth). Over the flood's
//  second half it may grow 1 MiB at most: a leak of 21 bytes a frame would
//  pass that.
#define S_FLOOD_RSS_MAX_KB  (4096 + BAD_ASAN * BAD_ASAN_QUARANTINE_MB * 1024 * 9 / 8)
#define S_FLOOD_HALF_MAX_KB 1024

//  The flood's kinds of junk, every one refused by the gateway.
enum {
    JUNK_WIRE_7,        //  0x07 and random bytes: wire type 7, never decodes
    JUNK_EMPTY,         //  no body
    JUNK_UNKNOWN_BODY,  //  body field 7
    JUNK_FLIPPED,       //  a buy whose signature does not verify (costs a verify)
    JUNK_STALE,         //  a buy signed 31 s ago
    JUNK_INBOX,         //  a buy for another worker
    JUNK_NUL,           //  a buy whose item holds a NUL
    JUNK_PARTITION,     //  a subscribe to partition 300 of 256 (the stream's refusal)
    JUNK_UNSUBSCRIBE,   //  an unsubscribe of no object ID (the stream's refusal)
    JUNK_OVERSIZED,     //  131073 bytes, one frame in 1000
    JUNK_KINDS
};

//  Frame number frame's kind: one in 1000 oversized; of the rest, half
//  junk bytes and half the other kinds in turn.
static int
s_junk_kind (int frame)
{
    if (frame % 1000 == 999)
        return JUNK_OVERSIZED;
    static const int turns [] = { JUNK_FLIPPED,     JUNK_STALE, JUNK_INBOX,        JUNK_PARTITION,
                                  JUNK_UNSUBSCRIBE, JUNK_NUL,   JUNK_UNKNOWN_BODY, JUNK_EMPTY };
    int turn = frame % 16;
    return turn < (int) (sizeof turns / sizeof turns [0]) ? turns [turn] : JUNK_WIRE_7;
}

static void
s_junk_templates (bad_ctx_t *ctx, bad_buf_t *junk)
{
    memset (junk, 0, JUNK_KINDS * sizeof *junk);
    bad_put (&junk [JUNK_UNKNOWN_BODY], "\x08\x2a\x3a\x00", 4);
    for (int kind = JUNK_FLIPPED; kind <= JUNK_NUL; kind++) {
        bad_env_t env;
        tly_msg_t msg;
        bad_env_default (ctx, &env, &msg);
        if (kind == JUNK_FLIPPED)
            env.flip = true;
        else if (kind == JUNK_STALE)
            env.timestamp_ms -= TLY_SKEW_MS_DEFAULT + BAD_EDGE_MS;
        else if (kind == JUNK_INBOX)
            memcpy (env.inbox, ctx->stranger.account.sign_pk, TLY_KEY_BYTES);
        else {
            env.item = "abXcd";
            env.nul = "abXcd";
        }
        bad_buf_t sealed = bad_env_sealed (&env);
        junk [kind] = bad_send_frame (&sealed, 42, 0);
        free (sealed.data);
    }
    uint8_t tail [TLY_OBJECT_TAIL_BYTES] = { 0 };
    char object_id [TLY_ID_MAX];
    tly_object_id (TLY_OBJ_BALANCE, 300, tail, object_id);
    bad_sub_t sub;
    bad_sub_default (&ctx->subject.user, object_id, &sub);
    junk [JUNK_PARTITION] = bad_subscribe_frame (&sub, 43);
    junk [JUNK_UNSUBSCRIBE] = bad_unsubscribe_frame (44, "co_zjunk");
    junk [JUNK_OVERSIZED].data = calloc (1, TLY_FRAME_MAX_DEFAULT + 1);
    CHECK (junk [JUNK_OVERSIZED].data);
    junk [JUNK_OVERSIZED].size = TLY_FRAME_MAX_DEFAULT + 1;
}

//  Counts of each code, and in all.
typedef struct {
    uint64_t codes [32];
    uint64_t total;
} s_counts_t;

//  The gateway's client.rejections lines about peer, from offset on, summed.
static void
s_reported (const char *log_path, long offset, const char *peer, s_counts_t *counts, int *lines)
{
    memset (counts, 0, sizeof *counts);
    *lines = 0;
    FILE *file = fopen (log_path, "r");
    CHECK (file);
    CHECK (fseek (file, offset, SEEK_SET) == 0);
    char pattern [64];
    snprintf (pattern, sizeof pattern, "event=client.rejections peer=%s ", peer);
    char line [4096];
    while (fgets (line, sizeof line, file)) {
        char *at = strstr (line, pattern);
        if (!at)
            continue;
        (*lines)++;
        char *rejected = strstr (at, " rejected=");
        CHECK (rejected);
        counts->total += strtoull (rejected + strlen (" rejected="), NULL, 10);
        for (int code = 0; code < 32; code++) {
            char name [64];
            snprintf (name, sizeof name, " %s=", tly_error_name ((Tally__ErrorCode) code));
            char *count = strstr (at, name);
            if (count)
                counts->codes [code] += strtoull (count + strlen (name), NULL, 10);
        }
    }
    fclose (file);
}

static int
s_log_lines (const char *log_path, long offset, const char *part)
{
    FILE *file = fopen (log_path, "r");
    CHECK (file);
    CHECK (fseek (file, offset, SEEK_SET) == 0);
    char line [4096];
    int lines = 0;
    while (fgets (line, sizeof line, file))
        lines += strstr (line, part) != NULL;
    fclose (file);
    return lines;
}

static long
s_file_size (const char *path)
{
    FILE *file = fopen (path, "r");
    CHECK (file);
    CHECK (fseek (file, 0, SEEK_END) == 0);
    long size = ftell (file);
    fclose (file);
    return size;
}

typedef struct {
    long rss_kb;
    long anon_kb;
} s_memory_t;

static s_memory_t
s_memory (th_process_t *process)
{
    s_memory_t memory = { th_process_memory_kb (process, "VmRSS"),
                          th_process_memory_kb (process, "RssAnon") };
    CHECK (memory.rss_kb > 0 && memory.anon_kb > 0);
    return memory;
}

//  Takes every answer waiting on sock; counts each (none may be OK).
static void
s_flood_answers (zsock_t *sock, s_counts_t *answers)
{
    zframe_t *frame;
    while ((frame = zframe_recv_nowait (sock))) {
        Tally__ClientReply *reply = tally__client_reply__unpack (NULL, zframe_size (frame),
                                                                 zframe_data (frame));
        zframe_destroy (&frame);
        CHECK (reply && reply->error && reply->push == TALLY__PUSH_KIND__NOT_PUSHED);
        CHECK (reply->error->code > 0 && reply->error->code < 32);
        answers->codes [reply->error->code]++;
        answers->total++;
        tally__client_reply__free_unpacked (reply, NULL);
    }
}

//  One client floods the gateway with junk: all of it answered, memory and
//  log bounded, every refusal in the per-peer report, a valid client served.
void
bad_flood (bad_ctx_t *ctx)
{
    it_cluster_t *cluster = ctx->cluster;
    th_process_t *gateway = NULL;
    for (int i = 0; i < cluster->child_count; i++)
        if (streq (cluster->children [i].name, "gateway-1"))
            gateway = cluster->children [i].process;
    CHECK (gateway && th_process_running (gateway));
    char log_path [512];
    snprintf (log_path, sizeof log_path, "%s/gateway-1.log", cluster->dir);

    bad_buf_t junk [JUNK_KINDS];
    s_junk_templates (ctx, junk);
    uint8_t random_junk [64];
    zsock_t *flooder = bad_client_socket ();
    zsock_set_sndhwm (flooder, S_FLOOD_OUTSTANDING * 2);
    zsock_set_rcvhwm (flooder, S_FLOOD_OUTSTANDING * 2);
    CHECK (zsock_connect (flooder, "tcp://%s:0;127.0.0.1:%d", S_FLOOD_PEER, cluster->base_port)
           == 0);
    //  Connected, and the gateway's memory settled after the table, first.
    bad_buf_t ping = bad_ping_frame (7);
    bad_send (flooder, ping.data, ping.size);
    free (ping.data);
    tally__client_reply__free_unpacked (bad_await (flooder, 7), NULL);

    long log_before = s_file_size (log_path);
    s_memory_t before = s_memory (gateway);
    s_memory_t half = { 0, 0 };
    s_counts_t answers;
    memset (&answers, 0, sizeof answers);
    zpoller_t *poller = zpoller_new (flooder, NULL);
    CHECK (poller);
    int64_t started_ms = tly_mono_ms ();
    int sent = 0;
    while (answers.total < S_FLOOD) {
        if (tly_mono_ms () - started_ms > S_FLOOD_TIMEOUT_MS)
            th_fail (__FILE__, __LINE__, "flood: %" PRIu64 " answers of %d within %d ms",
                     answers.total, S_FLOOD, S_FLOOD_TIMEOUT_MS);
        while (sent < S_FLOOD && (uint64_t) sent - answers.total < S_FLOOD_OUTSTANDING) {
            int kind = s_junk_kind (sent);
            const void *bytes = junk [kind].data;
            size_t size = junk [kind].size;
            if (kind == JUNK_WIRE_7) {
                random_junk [0] = 0x07;
                size = 1 + (size_t) randombytes_uniform (sizeof random_junk - 1);
                randombytes_buf (random_junk + 1, size - 1);
                bytes = random_junk;
            }
            if (zmq_send (zsock_resolve (flooder), bytes, size, ZMQ_DONTWAIT) == -1) {
                CHECK (zmq_errno () == EAGAIN);
                break;
            }
            sent++;
        }
        if (zpoller_wait (poller, 1000))
            s_flood_answers (flooder, &answers);
        if (half.rss_kb == 0 && answers.total >= S_FLOOD / 2)
            half = s_memory (gateway);
    }
    int64_t flood_ms = tly_mono_ms () - started_ms;
    s_memory_t after = s_memory (gateway);
    zpoller_destroy (&poller);
    zsock_destroy (&flooder);
    for (int kind = 0; kind < JUNK_KINDS; kind++)
        free (junk [kind].data);

    //  The last window's report comes once it has ended, with nothing after it.
    s_counts_t reported;
    int report_lines = 0;
    TH_WAIT_UNTIL ((s_reported (log_path, log_before, S_FLOOD_PEER, &reported, &report_lines),
                    reported.total >= S_FLOOD),
                   3 * TLY_REJECT_LOG_WINDOW_MS + BAD_TIMEOUT_MS, th_sleep_ms (50));
    int64_t reported_ms = tly_mono_ms () - started_ms;
    long log_bytes = s_file_size (log_path) - log_before;
    int detail_lines = s_log_lines (log_path, log_before, "event=request.rejected ")
                       + s_log_lines (log_path, log_before, "event=subscribe.rejected ");
    int suppressed_lines = s_log_lines (log_path, log_before, "event=log.suppressed ");
    s_memory_t settled = s_memory (gateway);

    printf ("\nflood: %d junk frames from %s in %" PRId64 " ms (%.0f frames/s), %" PRIu64
            " answered:",
            S_FLOOD, S_FLOOD_PEER, flood_ms, S_FLOOD * 1000.0 / (double) (flood_ms ? flood_ms : 1),
            answers.total);
    for (int code = 0; code < 32; code++)
        if (answers.codes [code])
            printf (" %s %" PRIu64, tly_error_name ((Tally__ErrorCode) code), answers.codes [code]);
    printf ("\nflood: gateway VmRSS %ld kB before, %ld at half, %ld after, %ld settled;"
            " RssAnon %ld, %ld, %ld, %ld kB\n",
            before.rss_kb, half.rss_kb, after.rss_kb, settled.rss_kb, before.anon_kb, half.anon_kb,
            after.anon_kb, settled.anon_kb);
    printf ("flood: gateway.log grew %ld bytes (%.2f a frame): %d detail lines, %d log.suppressed,"
            " %d client.rejections lines for %s summing to %" PRIu64 " (all reported %" PRId64
            " ms after the first frame)\n",
            log_bytes, (double) log_bytes / S_FLOOD, detail_lines, suppressed_lines, report_lines,
            S_FLOOD_PEER, reported.total, reported_ms);

    //  Every refusal reported, under its own code.
    CHECK (answers.total == S_FLOOD && reported.total == S_FLOOD);
    for (int code = 0; code < 32; code++)
        CHECK (reported.codes [code] == answers.codes [code]);
    //  The log grows with time, not with frames: per window (a second) at
    //  most the detail budget of request.rejected and of
    //  subscribe.rejected, a log.suppressed line for each, and a report
    //  line per peer, each line at most tly_log's 2 KiB. This flood lasts
    //  about a second in a release build: under 64 KiB (a sanitizer build
    //  takes several, within the same bound per window).
    int64_t windows = reported_ms / TLY_REJECT_LOG_WINDOW_MS + 2;
    CHECK (detail_lines <= 2 * TLY_REJECT_LOG_BURST * windows);
    CHECK (report_lines <= windows);
    CHECK (log_bytes
           <= windows * (2 * (TLY_REJECT_LOG_BURST + 1) + TLY_REJECT_PEERS_MAX + 1) * 2048);
    if (!BAD_ASAN)
        CHECK (log_bytes < 64 * 1024);
    //  Memory, bounded by queues (S_FLOOD_RSS_MAX_KB).
    CHECK (settled.anon_kb - before.anon_kb < S_FLOOD_RSS_MAX_KB);
    CHECK (settled.anon_kb - half.anon_kb < S_FLOOD_HALF_MAX_KB);

    //  And the service goes on.
    CHECK (th_process_running (gateway));
    bad_canary (ctx);
    CHECK (it_buy (ctx->subject.sender, "item-after", 1).balance_after == ctx->subject.balance - 1);
    ctx->subject.balance--;
}
