import type { AttackCase } from './attack-harness';
import { rawRequest } from './attack-harness';
import type { AttackEnv } from './attack-env';
import { seedClaims } from '../support/tokens';

type Case = AttackCase<AttackEnv>;

export const TRANSPORT_CASES: Case[] = [
  {
    name: 'http/no-credentials',
    attack: 'an authenticated route without any credential',
    request: 'GET /probe/whoami',
    expect: { status: 401, code: 'CREDENTIALS_MISSING' },
    run: (env) => env.send('/probe/whoami'),
  },
  {
    name: 'http/unknown-scheme',
    attack: 'Basic credentials, hoping for a fallback',
    request: 'Authorization: Basic YWRtaW46YWRtaW4=',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => env.send('/probe/whoami', { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } }),
  },
  {
    name: 'http/two-authorization-headers',
    attack: 'two Authorization headers: Node keeps one, a proxy may read the other',
    request: 'Authorization: JWT <valid>, Authorization: JWT x',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: async (env) =>
      env.send('/probe/whoami', {
        headers: [
          'Authorization',
          await env.jwt(env.keys.ed, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice')),
          'Authorization',
          'JWT x',
        ],
      }),
  },
  {
    name: 'http/oversized-authorization',
    attack: 'a 12 KB Authorization header',
    request: 'Authorization: JWT aaaa…(12 KB).b.c',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => env.send('/probe/whoami', { headers: { authorization: `JWT ${'a'.repeat(12_000)}.b.c` } }),
  },
  {
    name: 'http/headers-over-node-limit',
    attack: '70 KB of headers, over the server’s --max-http-header-size (64 KB)',
    request: 'X-Pad: 70 KB',
    expect: { status: 431, code: null },
    run: (env) => env.send('/probe/whoami', { headers: { 'x-pad': 'p'.repeat(70_000) } }),
  },
  {
    name: 'http/nul-in-header',
    attack: 'a NUL byte inside the Authorization header (C-string truncation)',
    request: 'Authorization: JWT abc<NUL>def (raw bytes)',
    expect: { status: 400, code: null },
    run: (env) =>
      rawRequest(
        env.port,
        `GET /probe/whoami HTTP/1.1\r\nHost: 127.0.0.1:${env.port}\r\nAuthorization: JWT abc\u0000def\r\nConnection: close\r\n\r\n`,
      ),
  },
];
