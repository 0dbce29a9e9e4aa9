// fake_charge - a stand-in for the external payment service that
// tally-orders calls (docs/architecture.md, "Orders"), for the tests. Node 20,
// no packages. Usage: node fake_charge.mjs [--port N] [--host 127.0.0.1]
// [--slow-ms MS] (port 0: any free one; slow-* orders' delay, 1500). It prints one line when it listens:
//   fake_charge: ready port=N
//
// POST /charge {"orderId","userId","total","items":[{"itemId","amount"}]}
// with header Idempotency-Key. The first item's ID chooses what happens:
//   ok-*     200 {"status":"charged"}: charged
//   fail-*   402 {"error":"card declined"}: refused
//   slow-*   200 after --slow-ms: charged (a second request meanwhile: 409;
//            voided meanwhile: 410, not charged)
//   hang-*   no answer at all, until the client gives up or we close
//   flaky-*  500 for the first 2 requests of a key, then 200: charged
//   other    as ok-*
// Charges are idempotent per key: once a key has a final answer (2xx or a
// refusal), every later request gets that same answer and charges nothing.
// A key being charged answers 409 {"error":"in progress"}.
// POST /void (same key): 200 {"status":"voided"}; the key is dead from then
// on: a charge it had is given back (counted in voids, charges stays the
// count of successful charges), and a later charge answers 410
// {"error":"charge voided"} without charging.
// POST /control {"down":true|false}: while down, /charge and /void answer 503.
// GET /counts: {"<key>":{"requests":N,"charges":N,"voids":N,"voided":bool,
//   "charged":bool,"behaviour":"ok"}, ...}; GET /count?key=K: that one entry
// (zeros for a key never seen); GET /total: {"requests":N,"charges":N,"voids":N}
// over every key.
import http from 'node:http';

const args = process.argv.slice(2);
function option(name, fallback) {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
}
const port = Number(option('--port', '0'));
const host = option('--host', '127.0.0.1');
const slowMs = Number(option('--slow-ms', '1500'));
const BODY_MAX = 1 << 20;

const keys = new Map();  // key -> { requests, charges, voids, voided, final, pending, behaviour }
let down = false;
const hanging = new Set();

function entry(key) {
  let e = keys.get(key);
  if (!e) {
    e = { requests: 0, charges: 0, voids: 0, voided: false, final: null, pending: false,
          behaviour: null };
    keys.set(key, e);
  }
  return e;
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json',
                          'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function behaviourOf(order) {
  const item = order && Array.isArray(order.items) && order.items[0]
    && typeof order.items[0].itemId === 'string' ? order.items[0].itemId : '';
  for (const b of ['ok', 'fail', 'slow', 'hang', 'flaky'])
    if (item.startsWith(b + '-')) return b;
  return 'ok';
}

function finish(res, e, status, body) {
  e.final = { status, body };
  e.pending = false;
  send(res, status, body);
}

function charge(req, res, key, order) {
  const e = entry(key);
  e.requests++;
  if (down) return send(res, 503, { error: 'service down' });
  if (e.voided) return send(res, 410, { error: 'charge voided' });
  if (e.final) return send(res, e.final.status, e.final.body);
  if (e.pending) return send(res, 409, { error: 'in progress' });
  if (!e.behaviour) e.behaviour = behaviourOf(order);
  switch (e.behaviour) {
  case 'fail':
    return finish(res, e, 402, { error: 'card declined' });
  case 'slow':
    e.pending = true;
    setTimeout(() => {
      if (e.voided) {  // voided while it ran: it never took effect
        e.pending = false;
        return send(res, 410, { error: 'charge voided' });
      }
      e.charges++;
      finish(res, e, 200, { status: 'charged' });
    }, slowMs);
    return;
  case 'hang':
    hanging.add(res);
    res.on('close', () => hanging.delete(res));
    return;
  case 'flaky':
    if (e.requests <= 2) return send(res, 500, { error: 'temporary failure' });
    e.charges++;
    return finish(res, e, 200, { status: 'charged' });
  default:
    e.charges++;
    return finish(res, e, 200, { status: 'charged' });
  }
}

function voidCharge(res, key) {
  const e = entry(key);
  if (down) return send(res, 503, { error: 'service down' });
  e.voids++;
  e.voided = true;
  send(res, 200, { status: 'voided', charged: e.charges > 0 });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > BODY_MAX) req.destroy();
    else chunks.push(chunk);
  });
  req.on('end', () => {
    const [path, query] = req.url.split('?');
    if (req.method === 'GET' && path === '/count') {
      const key = new URLSearchParams(query || '').get('key') || '';
      const e = keys.get(key) || { requests: 0, charges: 0, voids: 0, voided: false,
                                   behaviour: null };
      return send(res, 200, { requests: e.requests, charges: e.charges, voids: e.voids,
                              voided: e.voided, behaviour: e.behaviour });
    }
    if (req.method === 'GET' && path === '/total') {
      const total = { requests: 0, charges: 0, voids: 0 };
      for (const e of keys.values()) {
        total.requests += e.requests;
        total.charges += e.charges;
        total.voids += e.voids;
      }
      return send(res, 200, total);
    }
    if (req.method === 'GET' && path === '/counts') {
      const out = {};
      for (const [key, e] of keys)
        out[key] = { requests: e.requests, charges: e.charges, voids: e.voids, voided: e.voided,
                     charged: e.charges > 0, behaviour: e.behaviour };
      return send(res, 200, out);
    }
    if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' });
    let body = null;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
    } catch {
      return send(res, 400, { error: 'body is not JSON' });
    }
    if (path === '/control') {
      down = !!(body && body.down);
      return send(res, 200, { down });
    }
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0)
      return send(res, 400, { error: 'Idempotency-Key is required' });
    if (path.endsWith('/charge')) return charge(req, res, key, body);
    if (path.endsWith('/void')) return voidCharge(res, key);
    send(res, 404, { error: 'no such path' });
  });
});

function stop() {
  for (const res of hanging) res.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

server.listen(port, host, () => {
  console.log(`fake_charge: ready port=${server.address().port}`);
});
