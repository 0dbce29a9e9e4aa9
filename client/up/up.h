//  up - `tally up`: a whole cluster on this machine, its supervised children
//  and its data directory.
#ifndef UP_H_INCLUDED
#define UP_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tly_curve.h"
#include "tally.h"

#define UP_RESTARTS_MAX      5      //  restarts of one child ...
#define UP_RESTART_WINDOW_MS 60000  //  ... within this window, then give up
#define UP_NAME_MAX          32
#define UP_ARGS_MAX          40

//  The command: argv [0] is "up". Returns its exit status (cli.h's CLI_EXIT_*).
int cli_up (int argc, char **argv);

//  ---------------------------------------------------------------- up_child
//  One supervised server process: how to start it, its pid while it runs,
//  and its recent restarts.
typedef struct _up_child_t up_child_t;

//  argv [0] is replaced by binary; argv is NULL-terminated and copied. envp is
//  borrowed and must outlive the child object. stdout and stderr go to
//  log_path (appended).
up_child_t *up_child_new (const char *name, const char *binary, const char *const *argv,
                          char *const *envp, const char *log_path);
void up_child_destroy (up_child_t **self_p);
//  Forks and executes the child in its own process group, so a terminal's
//  Ctrl-C reaches only `tally up`, which then stops the children itself.
//  Returns 0, or -1 with errno set (log file or fork failure).
int up_child_start (up_child_t *self);
//  Records that the process ended with the given waitpid status.
void up_child_exited (up_child_t *self, int status);
//  True, and counts the restart, when another restart is allowed now.
bool up_child_may_restart (up_child_t *self, int64_t now_ms);
//  Sends sig when the child runs. Returns 0 or -1.
int up_child_signal (up_child_t *self, int sig);
pid_t up_child_pid (up_child_t *self);
const char *up_child_name (up_child_t *self);
const char *up_child_log (up_child_t *self);

//  "exited with status 1" / "killed by signal 9" for a waitpid status.
void up_describe_status (int status, char *out, size_t out_size);

//  ---------------------------------------------------------------- setup
//  Creates dir (and parents) with mode. Returns 0 or -1 with errno.
int up_mkdir_p (const char *dir, mode_t mode);
//  Takes an exclusive lock on dir/up.lock for the process's lifetime.
//  Returns the lock fd, or -1 (errno EWOULDBLOCK when another `tally up` holds it).
int up_lock_dir (const char *dir);
//  Loads dir/worker.json, or creates it (mode 0600) with a fresh account.
//  Returns 0, or -1 with a one-line reason.
int up_worker_account (const char *dir, tly_account_t *account, bool *created, char *error,
                       size_t error_size);
//  Finds an executable: in bin_dir only when given; else beside the running
//  `tally`, then in the build tree (exe_dir/../build_subdir), then in $PATH.
//  Returns 0 with the path in out, or -1 with the places searched in error.
int up_find_binary (const char *name, const char *build_subdir, const char *bin_dir, char *out,
                    size_t out_size, char *error, size_t error_size);
//  Writes text to path through a temporary file and rename, with mode.
//  Returns 0 or -1 with errno.
int up_write_file (const char *path, const char *text, mode_t mode);

//  The CURVE keys of a cluster in DIR/keys (mode 0700), made on first use:
//  NAME.key and NAME.key_secret for the router, the audit writer, the
//  gateway and the balance actors (one key for all of them), and the
//  folders the servers trust: actors/ (balance.key) and gateways/
//  (gateway.key). gateway_key gets the gateway's public key as Z85 text.
//  -1 with one line in error.
#define UP_KEYS_SUBDIR "keys"
int up_curve_keys (const char *dir, char gateway_key [TLY_CURVE_Z85_CHARS + 1], char *error,
                   size_t error_size);
//  A copy of the environment without TALLY_WORKER_*, plus the given lines
//  ("NAME=value", NULL-terminated). Free with up_env_destroy.
char **up_env_new (const char *const *extra);
void up_env_destroy (char ***env_p);

#endif
