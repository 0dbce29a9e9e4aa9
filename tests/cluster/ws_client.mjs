// ws_client - a browser's way to the gateway: the WebSocket API (Node's
// built-in one, run with --experimental-websocket: the same constructor,
// subprotocol rules and events as a browser's) speaking ZWS 2.0 without a
// security mechanism, as docs/protocol.md "WebSocket" says: each side's
// first message is its routing ID, then every WebSocket message is one
// frame, a flags byte (0x00 last, 0x01 more) before its bytes. It asks for
// the status (ClientRequest{request_id: 7, status: {}}) and sends bytes
// that are no ClientRequest; the first must come back as a ClientReply for
// request 7 holding a status, the second as BAD_REQUEST. Exit 0 when both
// did, 1 otherwise (saying what came), 2 on no answer within 10 s.
// Usage: node --experimental-websocket ws_client.mjs ws://HOST:PORT/PATH
if (typeof WebSocket === 'undefined') {
  console.log(`ws_client: Node ${process.version} has no WebSocket API; this test needs`
              + ' Node 20 (run with --experimental-websocket) or later');
  process.exit(3);
}
const endpoint = process.argv[2];
const socket = new WebSocket(endpoint, ['ZWS2.0']);
socket.binaryType = 'arraybuffer';
const timer = setTimeout(() => {
  console.log('ws_client: no answer within 10 s');
  process.exit(2);
}, 10000);

function frame(bytes) {
  const out = new Uint8Array(bytes.length + 1);
  out[0] = 0x00;
  out.set(bytes, 1);
  return out;
}

// The fields of one protobuf message at the top level: number -> bytes
// (length-delimited) or value (varint).
function fields(bytes) {
  const out = new Map();
  let at = 0;
  const varint = () => {
    let value = 0, shift = 0, byte;
    do {
      byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  while (at < bytes.length) {
    const key = varint();
    const number = Math.floor(key / 8), type = key % 8;
    if (type === 0) out.set(number, varint());
    else if (type === 2) {
      const size = varint();
      out.set(number, bytes.subarray(at, at + size));
      at += size;
    } else throw new Error(`wire type ${type}`);
  }
  return out;
}

let seen = 0, status = false, refused = false;
socket.addEventListener('open', () => {
  console.log(`ws_client: open, subprotocol ${socket.protocol}`);
  socket.send(frame(new Uint8Array(0)));  // our routing ID: none, the gateway picks one
  socket.send(frame(new Uint8Array([0x08, 0x07, 0x1a, 0x00])));
  socket.send(frame(new TextEncoder().encode('not a ClientRequest')));
});
socket.addEventListener('message', (event) => {
  const data = new Uint8Array(event.data);
  if (seen++ === 0) return;  // the gateway's routing ID
  if (data[0] !== 0x00) {
    console.log(`ws_client: a frame with flags ${data[0]}`);
    process.exit(1);
  }
  const reply = fields(data.subarray(1));
  if (reply.get(1) === 7 && reply.has(4)) {
    const ready = fields(reply.get(4)).get(1) === 1;
    console.log(`ws_client: status for request 7, ready ${ready}`);
    status = true;
  } else if (reply.has(2)) {
    const error = fields(reply.get(2));
    const message = new TextDecoder().decode(error.get(2));
    console.log(`ws_client: refused, code ${error.get(1)}: ${message}`);
    refused = error.get(1) === 1;  // BAD_REQUEST
  } else {
    console.log(`ws_client: an answer it did not expect (${data.length} bytes)`);
    process.exit(1);
  }
  if (status && refused) {
    clearTimeout(timer);
    socket.close();
    console.log('ws_client: OK');
    process.exit(0);
  }
});
socket.addEventListener('error', () => {
  console.log('ws_client: the WebSocket failed');
  process.exit(1);
});
