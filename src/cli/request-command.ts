import type { Command } from 'commander';
import { resolvePrivateKey } from '../client/create-auth-header';
import { createSignedFetch } from '../client/signed-fetch';
import { parsePublicKey, publicKeyFromPrivate } from '../keys/key-formats';
import { isKeyAlgorithm, KeyAlgorithm } from '../keys/key-algorithm';
import type { CliIo } from './cli-program';

interface RequestOptions {
  key: string;
  keyId?: string;
  data?: string;
  header: string[];
  cavage?: boolean;
  alg?: string;
  include?: boolean;
  verifyWith?: string;
  password?: string;
}

/** `request METHOD URL --key K --key-id ID`: sends a signed request like curl and prints the response. */
export function addRequestCommand(program: Command, io: CliIo): void {
  program
    .command('request <method> <url>')
    .description('Send an HTTP-signed request (RFC 9421, or --cavage) and print the response body.')
    .requiredOption('--key <file>', 'private key file (PEM)')
    .option(
      '--key-id <id>',
      'the registered keyId (default: the key fingerprint, the keyId a key gets when none is given)',
    )
    .option('-d, --data <body>', 'request body (sent with Content-Type: application/json unless -H sets one)')
    .option(
      '-H, --header <header>',
      'extra header "Name: value" (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option('--cavage', 'sign with draft-cavage-12 (Signature header, hs2019) instead of RFC 9421')
    .option('--alg <algorithm>', 'algorithm the key is registered with (RSA keys)')
    .option('-i, --include', 'print the status line and headers too')
    .option('--verify-with <jwksUrl>', "verify the response signature with the server's JWK Set")
    .option('--password <password>', 'passphrase of an encrypted key')
    .action(async (method: string, url: string, opts: RequestOptions) => {
      if (opts.alg !== undefined && !isKeyAlgorithm(opts.alg))
        throw new Error(`unknown algorithm ${JSON.stringify(opts.alg)}`);
      const headers: Record<string, string> = {};
      for (const line of opts.header) {
        const colon = line.indexOf(':');
        if (colon <= 0) throw new Error(`header ${JSON.stringify(line)} is not "Name: value"`);
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      if (opts.data !== undefined) headers['content-type'] ??= 'application/json';
      const privateKey = resolvePrivateKey({ keyFile: opts.key, keyPassword: opts.password });
      const keyId =
        opts.keyId ??
        parsePublicKey(publicKeyFromPrivate(privateKey).export({ type: 'spki', format: 'pem' }).toString())
          .thumbprint;
      const signedFetch = createSignedFetch({
        keyId,
        privateKey,
        algorithm: opts.alg as KeyAlgorithm | undefined,
        format: opts.cavage ? 'cavage' : 'rfc9421',
        verifyResponses: opts.verifyWith ? { jwksUrl: opts.verifyWith } : undefined,
      });
      const res = await signedFetch(url, { method, headers, body: opts.data });
      if (opts.include) {
        io.out(`HTTP ${res.status} ${res.statusText}`);
        res.headers.forEach((value, name) => io.out(`${name}: ${value}`));
        io.out('');
      }
      io.out(await res.text());
      if (!res.ok) process.exitCode = 22; // like curl --fail
    });
}
