//  tly_journal_config_test - the journal's configuration rule: a draft
//  names the current configuration's version, one that changes it carries
//  a newer one; anything else is refused STALE_CONFIG, and the current one
//  is kept by an abort, a reopen and every roll to a new segment
//  (docs/protocol.md, "Admins and the catalog").
#include "tly_journal.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"
#include "tly_account.h"

//  A draft of one partition at epoch 1, with its request and no events
//  (nothing the journal looks into), without heap allocation.
typedef struct {
    Tally__RecordDraft draft;
    Tally__SignedEnvelope request;
    uint8_t envelope [16];
    uint8_t signature [TLY_SIGNATURE_BYTES];
} s_fixture_t;

static Tally__RecordDraft *
s_draft (s_fixture_t *fixture, uint32_t partition, uint64_t partition_seq)
{
    memset (fixture, 0, sizeof *fixture);
    tally__record_draft__init (&fixture->draft);
    tally__signed_envelope__init (&fixture->request);
    memset (fixture->envelope, (int) partition_seq, sizeof fixture->envelope);
    fixture->request.envelope = (ProtobufCBinaryData) { sizeof fixture->envelope,
                                                        fixture->envelope };
    fixture->request.signature = (ProtobufCBinaryData) { sizeof fixture->signature,
                                                         fixture->signature };
    fixture->draft.partition = partition;
    fixture->draft.partition_seq = partition_seq;
    fixture->draft.epoch = 1;
    fixture->draft.timestamp_ms = 1700000000000;
    fixture->draft.request = &fixture->request;
    return &fixture->draft;
}

//  The configuration rule (docs/protocol.md "Admins and the catalog"): a
//  draft names the current version, one that changes it carries a higher
//  one; any other is refused STALE_CONFIG, and the current one is kept by
//  an abort, a reopen and a roll to a new segment.
static uint64_t
s_config_append (tly_journal_t *journal, uint32_t partition, uint64_t partition_seq,
                 uint64_t config_version, const Tally__Config *config,
                 const tly_journal_signer_t *signer, Tally__AppendStatus *status)
{
    s_fixture_t fixture;
    Tally__RecordDraft *draft = s_draft (&fixture, partition, partition_seq);
    draft->config_version = config_version;
    draft->config = (Tally__Config *) config;
    assert (tly_journal_append_batch (journal, &draft, 1, status, signer) == 0);
    return status->code;
}

static void
s_test_config (const char *dir, const tly_account_t *worker)
{
    tly_journal_t *journal = tly_journal_new (dir, TLY_LMDB_MAP_DEFAULT);
    assert (journal);
    const uint8_t *bytes;
    size_t size;
    assert (tly_journal_config (journal, &bytes, &size) == 0 && size == 0);
    Tally__AppendStatus status;
    Tally__CatalogItem item = TALLY__CATALOG_ITEM__INIT;
    item.item_id = "sword";
    item.price = 10;
    item.active = true;
    Tally__CatalogItem *items [] = { &item };
    Tally__Config config = TALLY__CONFIG__INIT;
    config.version = 1;
    config.n_items = 1;
    config.items = items;
    assert (s_config_append (journal, 0, 1, 0, NULL, NULL, &status) == TALLY__ERROR_CODE__OK);
    //  Not newer than the one it was decided under: malformed.
    Tally__Config same = config;
    same.version = 0;
    assert (s_config_append (journal, 0, 2, 0, &same, NULL, &status)
            == TALLY__ERROR_CODE__BAD_REQUEST);
    assert (s_config_append (journal, 0, 2, 0, &config, NULL, &status) == TALLY__ERROR_CODE__OK);
    assert (tly_journal_config (journal, &bytes, &size) == 1 && size > 0);
    Tally__Config *kept = tally__config__unpack (NULL, size, bytes);
    assert (kept && kept->version == 1 && kept->n_items == 1 && kept->items [0]->price == 10);
    tally__config__free_unpacked (kept, NULL);
    //  Decided under version 0 or a future 2: refused, nothing written.
    assert (s_config_append (journal, 3, 1, 0, NULL, NULL, &status)
            == TALLY__ERROR_CODE__STALE_CONFIG);
    assert (s_config_append (journal, 3, 1, 2, NULL, NULL, &status)
            == TALLY__ERROR_CODE__STALE_CONFIG);
    uint64_t fence, last;
    tly_journal_partition (journal, 3, &fence, &last);
    assert (last == 0);
    assert (s_config_append (journal, 3, 1, 1, NULL, NULL, &status) == TALLY__ERROR_CODE__OK);

    //  Two drafts in one group commit: the second decided under the first's.
    s_fixture_t first, second;
    Tally__Config next = config;
    next.version = 3;
    Tally__RecordDraft *drafts [] = { s_draft (&first, 0, 3), s_draft (&second, 3, 2) };
    drafts [0]->config_version = 1;
    drafts [0]->config = &next;
    drafts [1]->config_version = 3;
    Tally__AppendStatus statuses [2];
    assert (tly_journal_append_batch (journal, drafts, 2, statuses, NULL) == 0);
    assert (statuses [0].code == TALLY__ERROR_CODE__OK
            && statuses [1].code == TALLY__ERROR_CODE__OK);
    assert (tly_journal_config (journal, NULL, NULL) == 3);
    //  A draft refused for its sequence changes nothing, not the configuration.
    Tally__Config later = config;
    later.version = 4;
    assert (s_config_append (journal, 0, 9, 3, &later, NULL, &status)
            == TALLY__ERROR_CODE__SEQUENCE_GAP);
    assert (tly_journal_config (journal, NULL, NULL) == 3);
    tly_journal_destroy (&journal);

    //  Kept by a reopen, and by every roll to a new segment.
    journal = tly_journal_new (dir, TLY_LMDB_MAP_DEFAULT);
    assert (journal && tly_journal_config (journal, NULL, NULL) == 3);
    tly_journal_signer_t sealer = { .sign_sk = worker->sign_sk,
                                    .sign_pk = worker->sign_pk,
                                    .every = 1 };
    tly_journal_set_segments (journal, 0, 2, &sealer);
    for (uint64_t seq = 3; seq < 9; seq++)
        assert (s_config_append (journal, 3, seq, 3, NULL, &sealer, &status)
                == TALLY__ERROR_CODE__OK);
    assert (tly_journal_segment_count (journal) > 1);
    assert (tly_journal_config (journal, NULL, NULL) == 3);
    tly_journal_destroy (&journal);
    journal = tly_journal_new (dir, TLY_LMDB_MAP_DEFAULT);
    assert (journal && tly_journal_config (journal, &bytes, &size) == 3 && size > 0);
    assert (s_config_append (journal, 3, 9, 1, NULL, NULL, &status)
            == TALLY__ERROR_CODE__STALE_CONFIG);
    tly_journal_destroy (&journal);
}

void
tly_journal_config_test (bool verbose)
{
    if (verbose)
        printf (" * tly_journal_config: ");
    tly_account_t worker;
    assert (tly_account_generate (&worker) == 0);
    char root [64];
    th_dir_new (root, sizeof root, "tly_journal_config_test");
    char dir [sizeof root + 16];
    snprintf (dir, sizeof dir, "%s/journal", root);
    s_test_config (dir, &worker);
    th_dir_remove (root);
    if (verbose)
        printf ("OK\n");
}
