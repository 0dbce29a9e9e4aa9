// account - an account's keys and their text forms (docs/protocol.md,
// "Identity and signing"):
//   Account ID:  "co_z" + base58(Ed25519 public key)
//   Secret:      "sealerSecret_z" + base58(X25519 secret key)
//                + "/signerSecret_z" + base58(Ed25519 seed)
// the same as `tally account create --json` prints and the C SDK reads.
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { base58DecodePrefixed, base58Encode } from "./base58.js";
import { randomBytes } from "./bytes.js";
import { TallyError } from "./errors.js";

export const ID_PREFIX = "co_z";
const SEALER_PREFIX = "sealerSecret_z";
const SIGNER_PREFIX = "signerSecret_z";
// An account file is about 200 bytes; the C SDK reads at most this many.
export const ACCOUNT_JSON_MAX = 4095;

export interface Account {
  readonly id: string;                // co_z...
  readonly publicKey: Uint8Array;     // Ed25519, 32 bytes
  readonly seed: Uint8Array;          // Ed25519 seed, 32 bytes: signs
  readonly sealerSecret: Uint8Array;  // X25519 secret key, 32 bytes
  readonly sealerPublic: Uint8Array;  // X25519 public key
  readonly name?: string;
}

export function accountId(publicKey: Uint8Array): string {
  return ID_PREFIX + base58Encode(publicKey);
}

export function accountSecret(account: Account): string {
  return `${SEALER_PREFIX}${base58Encode(account.sealerSecret)}/`
         + `${SIGNER_PREFIX}${base58Encode(account.seed)}`;
}

// The account as `tally account create --json` prints it.
export function accountJson(account: Account): string {
  return JSON.stringify({ account: account.id, secret: accountSecret(account),
                          name: account.name ?? "" });
}

// An account from its two secret keys (32 bytes each).
export function accountFromKeys(seed: Uint8Array, sealerSecret: Uint8Array, name?: string): Account {
  if (seed.length !== 32 || sealerSecret.length !== 32)
    throw new TallyError("BAD_REQUEST", "an account's seed and sealer secret are 32 bytes each");
  const publicKey = ed25519.getPublicKey(seed);
  return { id: accountId(publicKey), publicKey, seed: seed.slice(), sealerSecret: sealerSecret.slice(),
           sealerPublic: x25519.getPublicKey(sealerSecret), name };
}

// A new account with fresh random keys.
export function createAccount(name?: string): Account {
  return accountFromKeys(randomBytes(32), randomBytes(32), name);
}

// The public key of "co_z..." text, or null when it is not an account ID
// (not base58 of 32 bytes, or not a point that can ever verify: off the
// curve, of small order or outside the prime-order subgroup, as libsodium's
// crypto_core_ed25519_is_valid_point).
export function parseAccountId(text: string): Uint8Array | null {
  const key = typeof text === "string" ? base58DecodePrefixed(text, ID_PREFIX, 32) : null;
  if (!key) return null;
  try {
    const point = ed25519.Point.fromBytes(key);
    if (point.isSmallOrder() || !point.isTorsionFree()) return null;
  } catch {
    return null;
  }
  return key;
}

// Parses a secret and rebuilds every key; when id is given the secret must
// belong to it. Throws TallyError BAD_REQUEST saying what is wrong.
export function parseSecret(secret: string, id?: string, name?: string): Account {
  const slash = typeof secret === "string" ? secret.indexOf("/") : -1;
  if (slash < 0)
    throw new TallyError("BAD_REQUEST", "expected sealerSecret_z.../signerSecret_z...");
  const sealer = base58DecodePrefixed(secret.slice(0, slash), SEALER_PREFIX, 32);
  if (!sealer)
    throw new TallyError("BAD_REQUEST", "sealer part is not sealerSecret_z + base58 of 32 bytes");
  const seed = base58DecodePrefixed(secret.slice(slash + 1), SIGNER_PREFIX, 32);
  if (!seed)
    throw new TallyError("BAD_REQUEST", "signer part is not signerSecret_z + base58 of 32 bytes");
  const account = accountFromKeys(seed, sealer, name);
  if (id !== undefined) {
    if (!parseAccountId(id))
      throw new TallyError("BAD_REQUEST", "account ID is not co_z + base58 of an Ed25519 key");
    if (id !== account.id)
      throw new TallyError("BAD_REQUEST", `secret does not belong to account ${id}`);
  }
  return account;
}

// An account from the JSON `tally account create --json` prints
// ({"account":"co_z...","secret":"...","name":"..."}), as text or as the
// parsed object. Throws TallyError BAD_REQUEST with one line saying why.
export function loadAccount(json: string | { account?: unknown; secret?: unknown; name?: unknown })
    : Account {
  let value: unknown = json;
  if (typeof json === "string") {
    if (json.length > ACCOUNT_JSON_MAX)
      throw new TallyError("BAD_REQUEST", `account file: larger than ${ACCOUNT_JSON_MAX} bytes`);
    try {
      value = JSON.parse(json);
    } catch {
      throw new TallyError("BAD_REQUEST",
                           'account file: not JSON; expected {"account":"co_z...","secret":"..."}');
    }
  }
  const fields = value as { account?: unknown; secret?: unknown; name?: unknown } | null;
  if (!fields || typeof fields !== "object" || typeof fields.account !== "string"
      || typeof fields.secret !== "string")
    throw new TallyError("BAD_REQUEST",
                         'account file: expected {"account":"co_z...","secret":"..."}');
  try {
    return parseSecret(fields.secret, fields.account,
                       typeof fields.name === "string" ? fields.name : undefined);
  } catch (error) {
    throw new TallyError("BAD_REQUEST", `account file: ${(error as Error).message}`);
  }
}
