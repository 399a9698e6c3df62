import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  computeContentDigest,
  createAuthHeader,
  createSignedFetch,
  ResponseVerificationError,
  ServerKeys,
  serverKeysFromJwks,
  verifySignedResponse,
} from '../../src/client';
import { ResponseSigner } from '../../src/response-signing/response-signer';
import { testKey } from '../support/keys';
import { DIST_CLI } from '../support/processes';
import { SignedProbeController } from '../support/probe.controller';
import { createTestApp, TestApp } from '../support/test-app';

/**
 * A man in the middle: it forwards requests to the app, keeps the signed answer to the
 * first POST /probe/signed-echo, and answers every later one with that kept answer.
 */
async function startReplayingProxy(upstream: string): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(upstream);
  let kept: { status: number; headers: http.IncomingHttpHeaders; body: Buffer } | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const isEcho = req.method === 'POST' && req.url?.startsWith('/probe/signed-echo');
      if (kept && isEcho) {
        res.writeHead(kept.status, kept.headers);
        res.end(kept.body);
        return;
      }
      const up = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (upRes) => {
          const body: Buffer[] = [];
          upRes.on('data', (c: Buffer) => body.push(c));
          upRes.on('end', () => {
            const b = Buffer.concat(body);
            if (isEcho && upRes.statusCode === 200 && !kept)
              kept = { status: upRes.statusCode, headers: upRes.headers, body: b };
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            res.end(b);
          });
        },
      );
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('signed responses: a proxy cannot pass the answer to one request off as the answer to another', () => {
  let t: TestApp;
  let keys: ServerKeys;
  const client = testKey('ed25519', 0);

  beforeAll(async () => {
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      jwksEndpoint: true,
      controllers: [SignedProbeController],
      options: {
        responseSigning: {
          keys: [{ keyId: 'server-1', privateKey: generateKeyPairSync('ed25519').privateKey }],
        },
      },
    });
    const user = await t.addUser('client', ['reader']);
    await t.registry.register(user, client.publicPem, { keyId: 'c1' });
    keys = serverKeysFromJwks((await (await fetch(`${t.server}/.well-known/jwks.json`)).json()) as object);
  });
  afterAll(() => t.close());

  for (const format of ['cavage', 'rfc9421'] as const) {
    it(`red2 F1 (${format}): createSignedFetch with verifyResponses refuses the replayed answer to an earlier POST`, async () => {
      const proxy = await startReplayingProxy(t.server);
      try {
        const signedFetch = createSignedFetch({
          keyId: 'c1',
          privateKey: client.privateKey,
          format,
          verifyResponses: { keys },
        });
        const post = (n: number) =>
          signedFetch(`${proxy.url}/probe/signed-echo`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ n }),
          });
        const first = await post(1);
        expect([first.status, await first.text()]).toEqual([200, '{"echo":{"n":1}}']);
        await expect(post(2)).rejects.toThrow(ResponseVerificationError);
        // Straight to the server, the second request verifies: the refusal is the swap.
        const direct = await signedFetch(`${t.server}/probe/signed-echo`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"n":2}',
        });
        expect(await direct.text()).toBe('{"echo":{"n":2}}');
      } finally {
        await proxy.close();
      }
    });
  }

  it('red2 F1 (CLI): request --cavage --verify-with exits 1 on the replayed answer to an earlier POST', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpa-swap-'));
    const proxy = await startReplayingProxy(t.server);
    const cli = (data: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [
            DIST_CLI,
            'request',
            'POST',
            `${proxy.url}/probe/signed-echo`,
            '--key',
            join(dir, 'c1.key'),
            '--key-id',
            'c1',
            '--cavage',
            '-d',
            data,
            '--verify-with',
            `${t.server}/.well-known/jwks.json`,
          ],
          { timeout: 30_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        );
      });
    try {
      writeFileSync(join(dir, 'c1.key'), client.privatePem, { mode: 0o600 });
      const first = await cli('{"n":1}');
      expect([first.code, first.stdout]).toEqual([0, '{"echo":{"n":1}}\n']);
      const second = await cli('{"n":2}');
      expect([second.code, second.stdout]).toEqual([1, '']);
      expect(second.stderr).toMatch(/response signature does not verify/);
    } finally {
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('red2 F1 (JWT): verifySignedResponse refuses the replayed answer to an earlier JWT-authenticated POST', async () => {
    const proxy = await startReplayingProxy(t.server);
    try {
      const post = async (n: number) => {
        const body = JSON.stringify({ n });
        const headers = {
          authorization: await createAuthHeader({
            username: 'client',
            privateKey: client.privateKey,
            keyId: 'c1',
          }),
          'content-type': 'application/json',
          // Without it the request body is not bound and the client refuses the answer (red3 F1).
          'content-digest': computeContentDigest(Buffer.from(body), ['sha-256']),
        };
        const res = await fetch(`${proxy.url}/probe/signed-echo`, {
          method: 'POST',
          headers,
          body,
        });
        const received = new Uint8Array(await res.arrayBuffer());
        verifySignedResponse(
          { status: res.status, headers: res.headers.entries(), body: received },
          {
            method: 'POST',
            scheme: 'http',
            authority: new URL(proxy.url).host,
            target: '/probe/signed-echo',
            rawHeaders: Object.entries(headers).flat(),
          },
          keys,
        );
        return Buffer.from(received).toString();
      };
      await expect(post(1)).resolves.toBe('{"echo":{"n":1}}');
      await expect(post(2)).rejects.toThrow(ResponseVerificationError);
    } finally {
      await proxy.close();
    }
  });

  it('red2 F1: an answer is refused for a request with another query, Authorization or Content-Digest, and when it does not cover them', () => {
    const key = generateKeyPairSync('ed25519').privateKey;
    const signer = new ResponseSigner({ keys: [{ keyId: 's', privateKey: key }] });
    const serverKeys = serverKeysFromJwks(signer.jwks());
    const request = {
      method: 'POST',
      scheme: 'http',
      authority: 'example.test',
      target: '/echo?page=2',
      rawHeaders: ['Authorization', 'JWT a.b.c', 'Content-Digest', 'sha-256=:AAAA:'],
    };
    const body = Buffer.from('{}');
    const sign = (req: typeof request) => ({
      status: 200,
      headers: Object.entries(
        signer.sign({ status: 200, rawHeaders: ['Content-Type', 'application/json'], body }, req),
      ).concat([['content-type', 'application/json']]) as [string, string][],
      body,
    });
    expect(() => verifySignedResponse(sign(request), request, serverKeys)).not.toThrow();
    for (const other of [
      { ...request, target: '/echo?page=3' },
      { ...request, rawHeaders: ['Authorization', 'JWT a.b.d', 'Content-Digest', 'sha-256=:AAAA:'] },
      { ...request, rawHeaders: ['Authorization', 'JWT a.b.c', 'Content-Digest', 'sha-256=:BBBB:'] },
    ]) {
      expect(() => verifySignedResponse(sign(request), other, serverKeys)).toThrow(ResponseVerificationError);
    }
    // Fail closed: a response signed for a request without these fields is refused for one with them.
    const bare = { ...request, target: '/echo', rawHeaders: [] };
    expect(() => verifySignedResponse(sign(bare), request, serverKeys)).toThrow(
      /not bound to the request's Authorization header/,
    );
  });

  describe('red3 F1: requests without their own signature', () => {
    const key = generateKeyPairSync('ed25519').privateKey;
    const signer = new ResponseSigner({ keys: [{ keyId: 's', privateKey: key }] });
    const serverKeys = serverKeysFromJwks(signer.jwks());
    const view = (method: string, target: string, rawHeaders: string[], authority = 'bank.example') => ({
      method,
      scheme: 'https',
      authority,
      target,
      rawHeaders,
    });
    const answer = (req: ReturnType<typeof view>, status: number, text: string) => {
      const body = Buffer.from(text);
      const headers = signer.sign(
        { status, rawHeaders: ['Content-Type', 'application/json; charset=utf-8'], body },
        req,
      );
      return {
        status,
        headers: [['content-type', 'application/json; charset=utf-8'], ...Object.entries(headers)] as [
          string,
          string,
        ][],
        body,
      };
    };
    const bearer = [
      'Authorization',
      'Bearer eyJhbGciOiJFZERTQSJ9.e30.sig',
      'Content-Type',
      'application/json',
    ];

    it('red3 F1 (bearer POST, other body): an answer to a POST with a body but no Content-Digest is not verified', () => {
      const res = answer(view('POST', '/transfers', bearer), 201, '{"id":"t1","amount":1}');
      expect(() =>
        verifySignedResponse(
          res,
          { ...view('POST', '/transfers', bearer), body: '{"amount":5000}' },
          serverKeys,
        ),
      ).toThrow(/request body is not bound.*Content-Digest/);
      // Its headers say it had a body (Content-Type) even when the caller does not pass it.
      expect(() => verifySignedResponse(res, view('POST', '/transfers', bearer), serverKeys)).toThrow(
        /request body is not bound.*Content-Digest/,
      );
      // With Content-Digest the body is bound: another body's digest is refused, the same verifies.
      const digested = (d: string) => view('POST', '/transfers', [...bearer, 'Content-Digest', d]);
      const bound = answer(digested('sha-256=:AAAA:'), 201, '{"id":"t1"}');
      expect(() => verifySignedResponse(bound, digested('sha-256=:AAAA:'), serverKeys)).not.toThrow();
      expect(() => verifySignedResponse(bound, digested('sha-256=:BBBB:'), serverKeys)).toThrow(
        ResponseVerificationError,
      );
    });

    it('red3 F1 (client-certificate POST): an answer to a POST with a body and no Content-Digest is not verified', () => {
      const plain = view('POST', '/transfers', ['Content-Type', 'application/json']);
      const res = answer(plain, 201, '{"id":"t9"}');
      expect(() => verifySignedResponse(res, plain, serverKeys)).toThrow(/request body is not bound/);
    });

    it('red3 F1 (other authority): an answer from bank.example is refused for a request to other.example', () => {
      const get = view('GET', '/balance', bearer.slice(0, 2));
      const res = answer(get, 200, '{"balance":100}');
      expect(() => verifySignedResponse(res, get, serverKeys)).not.toThrow();
      expect(() =>
        verifySignedResponse(res, view('GET', '/balance', bearer.slice(0, 2), 'other.example'), serverKeys),
      ).toThrow(ResponseVerificationError);
      expect(res.headers.find(([n]) => n === 'signature-input')?.[1]).toContain('"@authority";req');
    });

    it('red3 F1 (other authority, end to end): verifySignedResponse refuses an answer the server signed for another authority', async () => {
      // A proxy that forwards with Host rewritten: the server answers for the authority it saw.
      const target = new URL(t.server);
      const server = http.createServer((req, res) => {
        const up = http.request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: 'other.example' },
          },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        req.pipe(up);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      try {
        // A JWT does not cover the host, so the server accepts the request and signs its answer.
        const body = '{"n":4}';
        const headers = {
          authorization: await createAuthHeader({
            username: 'client',
            privateKey: client.privateKey,
            keyId: 'c1',
          }),
          'content-type': 'application/json',
          'content-digest': computeContentDigest(Buffer.from(body), ['sha-256']),
        };
        const res = await fetch(`http://127.0.0.1:${port}/probe/signed-echo`, {
          method: 'POST',
          headers,
          body,
        });
        const received = new Uint8Array(await res.arrayBuffer());
        expect([res.status, Buffer.from(received).toString()]).toEqual([200, '{"echo":{"n":4}}']);
        const verify = (authority: string) =>
          verifySignedResponse(
            { status: res.status, headers: res.headers, body: received },
            {
              method: 'POST',
              scheme: 'http',
              authority,
              target: '/probe/signed-echo',
              rawHeaders: Object.entries(headers).flat(),
            },
            keys,
          );
        expect(() => verify('other.example')).not.toThrow();
        expect(() => verify(`127.0.0.1:${port}`)).toThrow(ResponseVerificationError);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
});
