// base58 - the text form of every tally ID and secret: the Bitcoin alphabet,
// each leading zero byte written as "1" (lib/include/tly_base58.h).

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const DIGIT = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

export function base58Encode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  let value = 0n;
  for (let i = zeros; i < bytes.length; i++) value = (value << 8n) | BigInt(bytes[i]);
  let digits = "";
  while (value > 0n) {
    digits = ALPHABET[Number(value % 58n)] + digits;
    value /= 58n;
  }
  return "1".repeat(zeros) + digits;
}

// The bytes of text, or null when it holds a character outside the alphabet
// (or is empty).
export function base58Decode(text: string): Uint8Array | null {
  if (text.length === 0) return null;
  let zeros = 0;
  while (zeros < text.length && text[zeros] === "1") zeros++;
  let value = 0n;
  for (let i = zeros; i < text.length; i++) {
    const digit = DIGIT.get(text[i]);
    if (digit === undefined) return null;
    value = value * 58n + BigInt(digit);
  }
  const body: number[] = [];
  while (value > 0n) {
    body.unshift(Number(value & 0xffn));
    value >>= 8n;
  }
  const out = new Uint8Array(zeros + body.length);
  out.set(body, zeros);
  return out;
}

// text must be prefix + base58 of exactly size bytes; the bytes, or null.
export function base58DecodePrefixed(text: string, prefix: string, size: number): Uint8Array | null {
  if (!text.startsWith(prefix) || text.length <= prefix.length) return null;
  const bytes = base58Decode(text.slice(prefix.length));
  return bytes && bytes.length === size ? bytes : null;
}
