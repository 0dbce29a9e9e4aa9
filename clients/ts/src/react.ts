// @tally/client/react: React hooks as thin as the seed's useCoState.
//
//   const { balance, pendingBalance, pending, lastError, online } = useBalance (client);
//   const log = useObject (client, client.purchasesId);   // a TallyObject, or null
//
// React is a peer dependency (18 or later: useSyncExternalStore).
import { useEffect, useState, useSyncExternalStore } from "react";
import type { BalanceState, OfflineClient } from "./offline.js";
import type { TallyObject } from "./objects.js";

// The client's balance state (offline.ts, BalanceState), re-rendering on
// each change.
export function useBalance(client: OfflineClient): BalanceState {
  return useSyncExternalStore((listener) => client.onChange(listener), () => client.getState());
}

// The next copy of an object from the one before and a version: a snapshot
// replaces it; a PurchaseLog's update carries only the entry it added (a
// purchase, or a credit or debit), which joins the ones before (each once,
// by ID); any other update replaces it.
export function mergeObject(previous: TallyObject | null, next: TallyObject): TallyObject {
  if (next.snapshot || !previous || !previous.purchases || !next.purchases) return next;
  return { ...next, purchases: { ...next.purchases,
                                 records: joined(previous.purchases.records,
                                                 next.purchases.records),
                                 adjustments: joined(previous.purchases.adjustments,
                                                     next.purchases.adjustments) } };
}

function joined<T extends { id: string }>(before: T[], added: T[]): T[] {
  const seen = new Set(before.map((entry) => entry.id));
  return [...before, ...added.filter((entry) => !seen.has(entry.id))];
}

// The latest verified copy of objectId (null until its snapshot comes, or
// with no ID), followed for as long as the component is mounted: across
// reconnects, and again after a refusal (client.follow).
export function useObject(client: OfflineClient, objectId: string | null | undefined)
    : TallyObject | null {
  const [object, setObject] = useState<{ id: string; object: TallyObject } | null>(null);
  useEffect(() => {
    if (!objectId) return undefined;
    return client.follow(objectId, (next) =>
      setObject((previous) => ({
        id: objectId,
        object: mergeObject(previous && previous.id === objectId ? previous.object : null, next),
      })));
  }, [client, objectId]);
  return object && object.id === objectId ? object.object : null;
}
