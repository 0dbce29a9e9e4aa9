//  tally - the command line client: accounts, inbox messages, status, and a
//  local cluster (`tally up`).
#include "bench.h"
#include "cli.h"
#include "cli_audit.h"
#include "up.h"

#include <czmq.h>
#include <string.h>

#include "tly_log.h"

static void
s_usage (FILE *out)
{
    fputs (
        "usage: tally <command> [options]\n"
        "\n"
        "commands:\n"
        "  account create --name NAME [--json]   make an account (key pairs) and print it\n"
        "  send create-account --initial N        ask the worker to open your balance\n"
        "  send buy --item ITEM [--amount N]      buy an item from your balance (at the\n"
        "                                          catalog price when no amount is given)\n"
        "  admin credit --user ID --amount N --reference REF [--note TEXT]\n"
        "                                          add to a user's balance, as an admin\n"
        "  admin debit --user ID --amount N --reference REF [--note TEXT]\n"
        "                                          take from a user's balance, as an admin\n"
        "  admin refund --purchase ID [--reason TEXT]\n"
        "                                          give a purchase's amount back, as an admin\n"
        "  admin complete|fail ORDER_ID [--error TEXT]\n"
        "                                          end an order processing, as the worker\n"
        "  admin add|remove --account ID           change the admin group, as the worker\n"
        "  order create --item ITEM[=N] [--item ..] an order in draft (1..16 items)\n"
        "  order edit|submit|show ORDER_ID         change, submit or read one of your orders\n"
        "  order list                              your latest orders\n"
        "  catalog set ITEM --price N [--inactive] set an item's price, as an admin\n"
        "  catalog list                            the price catalog\n"
        "  watch balance|purchases|catalog|orders|co_z...\n"
        "                                          follow an object: snapshot, then each change\n"
        "  status                                  the cluster's readiness, via a gateway\n"
        "  health --file PATH                      a server's health file: ready and fresh?\n"
        "  keys new|cluster|show                   CURVE key pairs for the servers\n"
        "  up --data-dir DIR                       run a whole cluster locally\n"
        "  audit verify|replay|export|bench-replay   check and rebuild state from the journal\n"
        "  bench [options]                         measure throughput, latency and resources\n"
        "\n"
        "Run `tally <command> --help` for the options of each command.\n"
        "Exit status: 0 success, 1 request refused, 2 usage error or no answer.\n",
        out);
}

int
main (int argc, char **argv)
{
    //  The CLI handles its own signals (see `tally up`); czmq must not.
    zsys_handler_set (NULL);
    tly_log_init ("tally", TLY_WARN);
    static const cli_command_t commands [] = { { "account", cli_account },
                                               { "send", cli_send },
                                               { "admin", cli_admin },
                                               { "order", cli_order },
                                               { "catalog", cli_catalog },
                                               { "watch", cli_watch },
                                               { "status", cli_status },
                                               { "up", cli_up },
                                               { "audit", cli_audit },
                                               { "bench", cli_bench },
                                               { "health", cli_health },
                                               { "keys", cli_keys },
                                               { NULL, NULL } };
    return cli_dispatch ("tally", commands, s_usage, argc, argv);
}
