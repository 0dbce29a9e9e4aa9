// The seed's demo on @tally/client: create (or load) an account, its
// balance live with what is pending, a cheap and an expensive buy, the
// purchase list (the account's PurchaseLog), and whether the gateway is
// reachable. Buys made while it is not are kept in the browser's outbox
// (IndexedDB) and sent once it is back; the account is kept in
// localStorage. serve.mjs bundles this file and serves it with the
// gateway's address and worker account as /config.json.
import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import {
  accountJson, balanceId, createAccount, IndexedDbOutboxStorage, loadAccount, OfflineClient, TallyError,
  type Account, type AdjustmentRecord, type PendingMessage, type PurchaseRecord,
} from "../src/index.js";
import { useBalance, useObject } from "../src/react.js";

interface Config {
  gateway: string;    // ws://127.0.0.1:PORT/tally
  worker: string;     // co_z...
}

const INITIAL_BALANCE = 100;
const ITEMS = [
  { id: "coffee", label: "Coffee", amount: 25 },
  { id: "castle", label: "Castle", amount: 1000 },
];

function accountKey(config: Config): string {
  return `tally-example/${config.worker}/account`;
}

function savedAccount(config: Config): Account | null {
  const json = localStorage.getItem(accountKey(config));
  if (!json) return null;
  try {
    return loadAccount(json);
  } catch {
    return null;
  }
}

function describe(message: PendingMessage): string {
  return message.type === "buy" ? `buy ${message.itemId} for ${message.amount}`
                                : `createAccount with ${message.initialBalance}`;
}

function Pending({ message }: { message: PendingMessage }) {
  const state = message.state === "queued"
    ? "queued, no message ID yet"
    : `sent ${message.transmissions}× as ${message.messageId!.slice(0, 12)}…`;
  return (
    <li data-testid="pending-message" data-state={message.state}>
      {describe(message)} <span className="muted">({state})</span>
    </li>
  );
}

// The history: purchases, and the worker's credits and debits (a top-up,
// a correction), newest first.
function Purchases({ client }: { client: OfflineClient }) {
  const log = useObject(client, client.purchasesId);
  if (!log) return <p className="muted">Purchase list: not loaded yet.</p>;
  const entries: (PurchaseRecord | AdjustmentRecord)[] =
    [...(log.purchases?.records ?? []), ...(log.purchases?.adjustments ?? [])]
      .reverse().sort((a, b) => b.timestamp - a.timestamp);
  return (
    <section>
      <h2>Purchases (<span data-testid="purchase-count">{log.purchases?.count ?? 0}</span> entries)</h2>
      {entries.length === 0 ? <p className="muted">None yet.</p> : (
        <ul data-testid="purchases">
          {entries.map((entry) => "itemId" in entry ? (
            <li key={entry.id} data-testid="purchase" data-item={entry.itemId}>
              {entry.itemId} for {entry.amount}, balance after {entry.balanceAfter}{" "}
              <span className="muted">{new Date(entry.timestamp).toLocaleTimeString()}</span>
            </li>
          ) : (
            <li key={entry.id} data-testid="adjustment" data-reference={entry.reference}>
              {entry.amount > 0 ? `credit of ${entry.amount}` : `debit of ${-entry.amount}`}
              {entry.note ? ` (${entry.note})` : ""}, balance after {entry.balanceAfter}{" "}
              <span className="muted">{new Date(entry.timestamp).toLocaleTimeString()}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

// Another account's balance, asked for by its account ID: the gateway lets
// a user read only their own (and the worker everyone's), so this shows
// PERMISSION_DENIED for anyone else's.
function OtherBalance({ client }: { client: OfflineClient }) {
  const [other, setOther] = useState("");
  const [shown, setShown] = useState<string | null>(null);
  const watch = () => {
    let id: string;
    try {
      id = balanceId(other.trim());
    } catch (e) {
      setShown(e instanceof TallyError ? `${e.code}: ${e.message}` : String(e));
      return;
    }
    setShown("asking…");
    client.subscribe(id, (object) => {
      if (object?.balance) setShown(`balance ${object.balance.balance}`);
    }).then((stop) => stop(), (e) => {
      setShown(e instanceof TallyError ? `${e.code}: ${e.message}` : String(e));
    });
  };
  return (
    <section>
      <div>Another account's balance</div>
      <input data-testid="other-account" placeholder="co_z… account ID" value={other}
             onChange={(event) => setOther(event.target.value)} />
      <button data-testid="other-watch" onClick={watch}>Look</button>
      {shown && <div data-testid="other-result">{shown}</div>}
    </section>
  );
}

function Wallet({ client, onForget }: { client: OfflineClient; onForget: () => void }) {
  const state = useBalance(client);
  const buy = (itemId: string, amount: number) => {
    // The outbox keeps it; the hook shows it pending at once, then its
    // result or its error.
    client.buy(itemId, amount).catch(() => {});
  };
  return (
    <>
      <section>
        <span data-testid="status" className={`status ${state.online ? "online" : "offline"}`}>
          {state.online ? "online" : "offline"}
        </span>
        <div className="muted">account <span data-testid="account">{state.account}</span></div>
      </section>
      <section>
        <div>Balance</div>
        <div className="balance" data-testid="balance">{state.balance ?? "—"}</div>
        <div className="pending">
          Pending balance <span data-testid="pending-balance">{state.pendingBalance ?? "—"}</span>
          {" "}(<span data-testid="pending-count">{state.pending.length}</span> pending)
        </div>
      </section>
      <section>
        {ITEMS.map((item) => (
          <button key={item.id} data-testid={`buy-${item.id}`} onClick={() => buy(item.id, item.amount)}>
            Buy {item.label} ({item.amount})
          </button>
        ))}
        <button data-testid="create-balance"
                onClick={() => client.createAccount(INITIAL_BALANCE).catch(() => {})}>
          createAccount ({INITIAL_BALANCE})
        </button>
      </section>
      {state.lastError && (
        <section className="error" role="alert" data-testid="error" data-code={state.lastError.code}>
          {state.lastError.message}{" "}
          <span className="muted">({state.lastError.code})</span>{" "}
          <button onClick={() => client.clearError()}>dismiss</button>
        </section>
      )}
      {state.pending.length > 0 && (
        <section>
          <h2>Pending</h2>
          <ul data-testid="pending">{state.pending.map((m) => <Pending key={m.localId} message={m} />)}</ul>
        </section>
      )}
      <Purchases client={client} />
      <OtherBalance client={client} />
      <section>
        <button data-testid="forget" onClick={onForget}>Forget this account</button>
        <details>
          <summary>Account file (keep it secret)</summary>
          <textarea readOnly value={accountJson(client.account)} />
        </details>
      </section>
    </>
  );
}

function Start({ onAccount }: { onAccount: (account: Account, created: boolean) => void }) {
  const [json, setJson] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <section>
      <button data-testid="create-account" onClick={() => onAccount(createAccount("Demo User"), true)}>
        Create account
      </button>
      <p>or load one made by <code>tally account create --json</code>:</p>
      <textarea data-testid="account-json" value={json} onChange={(e) => setJson(e.target.value)} />
      <button data-testid="load-account" onClick={() => {
        try {
          onAccount(loadAccount(json), false);
        } catch (e) {
          setError((e as Error).message);
        }
      }}>Load account</button>
      {error && <div className="error" role="alert">{error}</div>}
    </section>
  );
}

function App({ config }: { config: Config }) {
  const [account, setAccount] = useState<{ account: Account; created: boolean } | null>(() => {
    const saved = savedAccount(config);
    return saved ? { account: saved, created: false } : null;
  });
  const [client, setClient] = useState<OfflineClient | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!account) return undefined;
    let closed = false;
    let made: OfflineClient | null = null;
    OfflineClient.open({
      url: config.gateway, worker: config.worker, account: account.account,
      storage: new IndexedDbOutboxStorage(`tally-outbox/${account.account.id}`),
    }).then((opened) => {
      if (closed) {
        opened.close();
        return;
      }
      made = opened;
      if (account.created) opened.createAccount(INITIAL_BALANCE).catch(() => {});
      setClient(opened);
    }, (e) => setError(e instanceof TallyError ? `${e.code}: ${e.message}` : String(e)));
    return () => {
      closed = true;
      made?.close();
      setClient(null);
    };
  }, [account, config]);

  const choose = (chosen: Account, created: boolean) => {
    localStorage.setItem(accountKey(config), accountJson(chosen));
    setAccount({ account: chosen, created });
  };
  const forget = () => {
    localStorage.removeItem(accountKey(config));
    setAccount(null);
  };

  return (
    <>
      <h1>tally example</h1>
      <div className="muted">gateway {config.gateway}, worker {config.worker}</div>
      {error && <div className="error" role="alert">{error}</div>}
      {!account ? <Start onAccount={choose} />
        : client ? <Wallet client={client} onForget={forget} />
        : <p>Opening the outbox…</p>}
    </>
  );
}

async function main(): Promise<void> {
  const root = createRoot(document.getElementById("root")!);
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) {
    root.render(<p className="error">/config.json: {response.status} {await response.text()}</p>);
    return;
  }
  const config = (await response.json()) as Config;
  root.render(<StrictMode><App config={config} /></StrictMode>);
}

void main();
