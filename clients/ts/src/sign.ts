// sign - Ed25519 signatures with a domain tag: each signs
// "tally/<name>/v1" 0x00 || bytes, so that a signature made for one purpose
// is never valid for another (lib/include/tly_sign.h). Ed25519 is
// deterministic: the same key and bytes give the same signature as
// libsodium's.
import { ed25519 } from "@noble/curves/ed25519.js";
import { concat, utf8 } from "./bytes.js";

export type Domain = "envelope" | "object" | "subscribe" | "checkpoint" | "snapshot";

export function domainTag(domain: Domain): Uint8Array {
  return concat(utf8(`tally/${domain}/v1`), new Uint8Array([0]));
}

// seed: the 32-byte Ed25519 seed (the signer part of a secret).
export function signDomain(domain: Domain, seed: Uint8Array, bytes: Uint8Array): Uint8Array {
  return ed25519.sign(concat(domainTag(domain), bytes), seed);
}

export function verifyDomain(domain: Domain, publicKey: Uint8Array, bytes: Uint8Array,
                             signature: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return ed25519.verify(signature, concat(domainTag(domain), bytes), publicKey,
                          { zip215: false });
  } catch {
    return false;
  }
}
