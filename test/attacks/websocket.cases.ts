import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { signRequest } from '../../src/client';
import type { SendResult } from '../support/certificates';
import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { AdapterName, CapturingLogger } from '../support/test-app';
import {
  connect,
  createWsTestApp,
  Opened,
  pollingAnswer,
  seen,
  upgradeAnswer,
  WsFlavour,
  WsTestApp,
} from '../websockets/websocket-test-app';
import type { AttackCase } from './attack-harness';
import { attackSuite } from './attack-suite';

/**
 * WebSocket handshakes under attack (issue 17), on the `ws` adapter and the socket.io one
 * (KeypairAuthWsAdapter, KeypairAuthIoAdapter): credentials anywhere but the handshake's
 * headers, a replayed or misdirected signed handshake, socket.io's polling and session
 * ids, and messages after a revocation. A refused handshake is read from the HTTP answer
 * to the upgrade; a closed connection as its close code (4401 → 401) and reason (the code).
 */
interface WebSocketEnv {
  /** The `ws` app; its logger is shared with the socket.io app (the corpus checks it for errors). */
  readonly t: WsTestApp;
  readonly apps: Readonly<Record<WsFlavour, WsTestApp>>;
}

const ALICE = testKey('ed25519', 0);
const FLAVOURS: readonly WsFlavour[] = ['ws', 'socket.io'];

/** An open connection is no refusal: status 101 never passes the judge. */
function answerOf(result: Opened): SendResult {
  if (result.open) {
    result.client.close();
    return { status: 101, headers: {}, text: '', body: { code: 'OPENED' } };
  }
  return {
    status: result.status,
    headers: result.headers,
    text: '',
    body: result.body as SendResult['body'],
  };
}

/** Headers of a GET of `url`, signed (RFC 9421) by alice's key. */
const signedFor = (url: string) =>
  signRequest({ method: 'GET', url }, { keyId: 'alice-ed', privateKey: ALICE.privateKey }).headers;

/** The request path of a flavour's handshake, with `extra` query parameters. */
const handshakePath = (flavour: WsFlavour, extra = '') =>
  flavour === 'ws'
    ? `/ws${extra ? `?${extra}` : ''}`
    : `/socket.io/?EIO=4&transport=websocket${extra ? `&${extra}` : ''}`;

function casesFor(flavour: WsFlavour): AttackCase<WebSocketEnv>[] {
  const app = (env: WebSocketEnv) => env.apps[flavour];
  return [
    {
      name: `${flavour}/credentials-only-in-first-message`,
      attack: 'open without credentials, meaning to authenticate with the first message',
      request: 'handshake without Authorization or signature',
      expect: { status: 401, code: 'CREDENTIALS_MISSING' },
      run: async (env) => answerOf(await connect(app(env), {})),
    },
    {
      name: `${flavour}/credentials-in-query-string`,
      attack: 'a client JWT in the query string of the handshake (access_token=, authorization=)',
      request: `GET ${handshakePath(flavour, 'access_token=…&authorization=JWT%20…')}`,
      expect: { status: 401, code: 'CREDENTIALS_MISSING' },
      run: async (env) => {
        const jwt = await jwtHeader(ALICE.privateKey, 'alice', 'alice-ed');
        const query = `access_token=${encodeURIComponent(jwt.slice(4))}&authorization=${encodeURIComponent(jwt)}`;
        return answerOf(await connect(app(env), {}, { query: flavour === 'ws' ? `?${query}` : query }));
      },
    },
    {
      name: `${flavour}/replayed-signed-handshake`,
      attack:
        'capture the signed headers of a handshake that connected, and open a second connection with them',
      request: 'the same Signature-Input/Signature (same nonce) twice',
      expect: { status: 401, code: 'REPLAYED' },
      run: async (env) => {
        const headers = signedFor(app(env).handshakeUrl);
        const first = await connect(app(env), headers);
        if (!first.open) throw new Error(`the legitimate handshake was refused: ${first.status}`);
        first.client.close();
        return answerOf(await connect(app(env), headers));
      },
    },
    {
      name: `${flavour}/handshake-signed-for-another-path`,
      attack: 'a signed GET of another path of this server, sent as the handshake',
      request: 'signature over @path /other, upgrade request to the gateway',
      expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
      run: async (env) => {
        const url = new URL(app(env).handshakeUrl);
        url.pathname = '/other/';
        return answerOf(await connect(app(env), signedFor(url.toString())));
      },
    },
    {
      name: `${flavour}/handshake-signed-for-another-authority`,
      attack: 'a signed handshake captured on another service (its @authority), replayed to this one',
      request: 'signature over @authority ws.other.example, sent here',
      expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
      run: async (env) => {
        const url = new URL(app(env).handshakeUrl);
        url.host = 'ws.other.example';
        return answerOf(await connect(app(env), signedFor(url.toString())));
      },
    },
    {
      name: `${flavour}/messages-after-revocation`,
      attack: 'keep using an open connection after its key was revoked',
      request: 'revoke the key, then send messages on the connection',
      expect: { status: 401, code: 'KEY_REVOKED' },
      run: async (env) => {
        const t = app(env);
        const key = testKey('p256', 7);
        const user = await t.addUser(`mallory-${Date.now()}`, ['reader']);
        const keyId = `mallory-${Math.random().toString(36).slice(2)}`;
        await t.registry.register(user, key.publicPem, { keyId });
        const headers = signRequest(
          { method: 'GET', url: t.handshakeUrl },
          { keyId, privateKey: key.privateKey },
        ).headers;
        const result = await connect(t, headers);
        if (!result.open) throw new Error(`the legitimate handshake was refused: ${result.status}`);
        await result.client.request('whoami');
        await t.registry.revoke(keyId);
        seen.handled.length = 0;
        // Messages sent while the close is on its way must not reach a handler.
        void result.client.request('whoami');
        const closed = await result.client.closed;
        await new Promise((r) => setTimeout(r, 50));
        if (seen.handled.length > 0) return { status: 200, headers: {}, text: '', body: { code: 'HANDLED' } };
        return {
          status: closed.code === 4401 ? 401 : closed.code,
          headers: {},
          text: '',
          body: { code: closed.reason },
        };
      },
    },
  ];
}

const SOCKET_IO_CASES: AttackCase<WebSocketEnv>[] = [
  {
    name: 'socket.io/namespace-joined-after-revocation',
    attack:
      'open a signed engine.io connection, join no namespace, wait for the key to be revoked, then join and send',
    request: 'engine.io open; revoke; "40" then 42["whoami"]',
    expect: { status: 401, code: 'KEY_REVOKED' },
    run: async (env) => {
      const t = env.apps['socket.io'];
      const key = testKey('p256', 8);
      const user = await t.addUser(`idle-${Date.now()}`, ['reader']);
      const keyId = `idle-${Math.random().toString(36).slice(2)}`;
      await t.registry.register(user, key.publicPem, { keyId });
      const headers = signRequest(
        { method: 'GET', url: t.handshakeUrl },
        { keyId, privateKey: key.privateKey },
      ).headers;
      const socket = new WebSocket(t.handshakeUrl.replace(/^http/, 'ws'), { headers });
      const frames: string[] = [];
      socket.on('message', (raw: Buffer) => {
        const frame = raw.toString();
        if (frame === '2') socket.send('3'); // engine.io ping
        frames.push(frame);
      });
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
      await pause(100);
      // Revoked while the engine.io connection has no namespace Socket to watch yet.
      await t.registry.revoke(keyId);
      seen.handled.length = 0;
      socket.send('40');
      await pause(100);
      socket.send('42["whoami",null]');
      await pause(300);
      socket.terminate();
      if (seen.handled.length > 0) return { status: 200, headers: {}, text: '', body: { code: 'HANDLED' } };
      const notice = frames.find((f) => f.startsWith('42["exception"'));
      const exception = notice
        ? (JSON.parse(notice.slice(2)) as [string, { status: number; code: string }])[1]
        : undefined;
      return {
        status: exception?.status ?? 200,
        headers: {},
        text: '',
        body: { code: exception?.code ?? 'NO_REFUSAL' },
      };
    },
  },
  {
    name: 'socket.io/credentials-in-auth-payload',
    attack: "the credential in socket.io's `auth` payload (the CONNECT packet), none on the handshake",
    request: "io(url, { auth: { token: 'JWT …' } })",
    expect: { status: 401, code: 'CREDENTIALS_MISSING' },
    run: async (env) => {
      const token = await jwtHeader(ALICE.privateKey, 'alice', 'alice-ed');
      return answerOf(await connect(env.apps['socket.io'], {}, { auth: { token, authorization: token } }));
    },
  },
  {
    name: 'socket.io/signed-polling-handshake',
    attack: 'a signed handshake over the polling transport, whose later requests would carry only the sid',
    request: 'GET /socket.io/?EIO=4&transport=polling, signed',
    expect: { status: 400, code: 'WS_TRANSPORT_REFUSED' },
    run: async (env) => {
      const t = env.apps['socket.io'];
      const path = '/socket.io/?EIO=4&transport=polling';
      const res = await pollingAnswer(t, path, signedFor(`${t.server}${path}`));
      return { status: res.status, headers: {}, text: '', body: res.body as SendResult['body'] };
    },
  },
  {
    name: 'socket.io/upgrade-of-a-session-without-credentials',
    attack: "learn an authenticated session's sid, and upgrade it with a request that carries no credentials",
    request: 'GET /socket.io/?EIO=4&transport=websocket&sid=<sid of alice>, Upgrade: websocket, unsigned',
    expect: { status: 400, code: 'WS_TRANSPORT_REFUSED' },
    run: async (env) => {
      const t = env.apps['socket.io'];
      const socket = io(t.server, {
        transports: ['websocket'],
        extraHeaders: signedFor(t.handshakeUrl),
        reconnection: false,
        forceNew: true,
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const sid = (socket.io.engine as unknown as { id: string }).id;
      try {
        const res = await upgradeAnswer(t, `/socket.io/?EIO=4&transport=websocket&sid=${sid}`, {});
        return { status: res.status, headers: {}, text: '', body: res.body as SendResult['body'] };
      } finally {
        socket.close();
      }
    },
  },
  {
    name: 'socket.io/polling-request-with-a-session-id',
    attack: "poll an authenticated session's sid without credentials",
    request: 'GET /socket.io/?EIO=4&transport=polling&sid=<sid of alice>, unsigned',
    expect: { status: 400, code: 'WS_TRANSPORT_REFUSED' },
    run: async (env) => {
      const t = env.apps['socket.io'];
      const socket = io(t.server, {
        transports: ['websocket'],
        extraHeaders: signedFor(t.handshakeUrl),
        reconnection: false,
        forceNew: true,
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const sid = (socket.io.engine as unknown as { id: string }).id;
      try {
        const res = await pollingAnswer(t, `/socket.io/?EIO=4&transport=polling&sid=${sid}`, {});
        return { status: res.status, headers: {}, text: '', body: res.body as SendResult['body'] };
      } finally {
        socket.close();
      }
    },
  },
];

export const WEBSOCKET_SUITE = attackSuite<WebSocketEnv>({
  name: 'websockets',
  setup: async (http: AdapterName) => {
    const logs = new CapturingLogger();
    const [ws, socketIo] = await Promise.all(
      FLAVOURS.map((flavour) => createWsTestApp({ http, flavour, logs })),
    );
    for (const t of [ws, socketIo]) {
      await t.registry.register(await t.addUser('alice', ['reader']), ALICE.publicPem, { keyId: 'alice-ed' });
    }
    return { t: ws, apps: { ws, 'socket.io': socketIo } };
  },
  teardown: async (env) => {
    await Promise.all([env.apps.ws.close(), env.apps['socket.io'].close()]);
  },
  cases: [...FLAVOURS.flatMap(casesFor), ...SOCKET_IO_CASES],
});
