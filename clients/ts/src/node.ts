// @tally/client/node: what only Node has. FileOutboxStorage keeps an
// outbox (outbox.ts) in one JSON file, so that queued messages and the IDs
// of sent ones survive a restart of the process.
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import type { OutboxEntry, OutboxStorage } from "./outbox.js";

// One file, rewritten whole on each change (write a temporary file, sync
// it, rename it over the old one), so a crash leaves either the old file
// or the new one. One process at a time per file.
export class FileOutboxStorage implements OutboxStorage {
  readonly path: string;
  private entries: Map<string, OutboxEntry> | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  private async read(): Promise<Map<string, OutboxEntry>> {
    if (this.entries) return this.entries;
    let text: string | null = null;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    const entries = new Map<string, OutboxEntry>();
    if (text !== null) {
      const parsed = JSON.parse(text) as { version?: number; entries?: OutboxEntry[] };
      if (parsed.version !== 1 || !Array.isArray(parsed.entries))
        throw new Error(`${this.path}: not a tally outbox file (version 1)`);
      for (const entry of parsed.entries) entries.set(entry.localId, entry);
    }
    this.entries = entries;
    return entries;
  }

  private async write(entries: Map<string, OutboxEntry>): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.tmp`;
    const file = await open(temporary, "w", 0o600);
    try {
      await file.writeFile(JSON.stringify({ version: 1, entries: [...entries.values()] }) + "\n");
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, this.path);
  }

  // Changes go one after another, each on the file before it resolves.
  private change(apply: (entries: Map<string, OutboxEntry>) => void): Promise<void> {
    const next = this.queue.then(async () => {
      const entries = await this.read();
      apply(entries);
      await this.write(entries);
    });
    this.queue = next.catch(() => {});
    return next;
  }

  async load(): Promise<OutboxEntry[]> {
    await this.queue;
    this.entries = null;
    return [...(await this.read()).values()].map((entry) => ({ ...entry }));
  }

  put(entry: OutboxEntry): Promise<void> {
    return this.change((entries) => entries.set(entry.localId, { ...entry }));
  }

  remove(localId: string): Promise<void> {
    return this.change((entries) => entries.delete(localId));
  }
}
