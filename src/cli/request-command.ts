import type { Command } from 'commander';
import { createSignedFetch } from '../client/signed-fetch';
import type { KeyAlgorithm } from '../keys/key-algorithm';
import {
  existingFile,
  headerArgument,
  httpMethodArgument,
  httpUrlArgument,
  keyAlgorithmArgument,
  keyIdArgument,
} from './cli-arguments';
import type { CliIo } from './cli-io';
import { defaultKeyId, KEY_ID_OPTION_HELP } from './default-key-id';
import { reportingFetch } from './network-error';
import { loadPrivateKeyFile } from './private-key-file';

interface RequestOptions {
  key: string;
  keyId?: string;
  data?: string;
  header?: string[];
  cavage?: boolean;
  alg?: KeyAlgorithm;
  include?: boolean;
  verifyWith?: string;
  password?: string;
}

/** `request METHOD URL --key K`: sends a signed request like curl and prints the response. */
export function addRequestCommand(program: Command, io: CliIo): void {
  program
    .command('request')
    .description(
      'Send an HTTP-signed request (RFC 9421, or --cavage) and print the response body; exit 22 on an HTTP error status, like curl --fail.',
    )
    .argument('<method>', 'HTTP method: GET, POST, PUT, PATCH, DELETE, …', httpMethodArgument)
    .argument('<url>', 'absolute http:// or https:// URL', httpUrlArgument)
    .requiredOption(
      '--key <file>',
      'private key file (PEM)',
      existingFile('a private key (NAME.key from keygen)'),
    )
    .option('--key-id <id>', KEY_ID_OPTION_HELP, keyIdArgument)
    .option('-d, --data <body>', 'request body (sent with Content-Type: application/json unless -H sets one)')
    .option('-H, --header <header>', 'extra header "Name: value" (repeatable)', headerArgument)
    .option('--cavage', 'sign with draft-cavage-12 (Signature header, hs2019) instead of RFC 9421')
    .option('--alg <algorithm>', 'algorithm the key is registered with (RSA keys)', keyAlgorithmArgument)
    .option('-i, --include', 'print the status line and headers too')
    .option(
      '--verify-with <jwksUrl>',
      "verify the response signature with the server's JWK Set at this URL",
      httpUrlArgument,
    )
    .option('--password <password>', 'passphrase of an encrypted key')
    .action(async (method: string, url: string, opts: RequestOptions) => {
      const headers: Record<string, string> = {};
      for (const line of opts.header ?? []) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      if (opts.data !== undefined) headers['content-type'] ??= 'application/json';
      const privateKey = loadPrivateKeyFile(opts.key, opts.password);
      const keyId = opts.keyId ?? defaultKeyId(privateKey);
      const signedFetch = createSignedFetch({
        keyId,
        privateKey,
        algorithm: opts.alg,
        format: opts.cavage ? 'cavage' : 'rfc9421',
        verifyResponses: opts.verifyWith ? { jwksUrl: opts.verifyWith } : undefined,
        fetch: reportingFetch,
      });
      const res = await signedFetch(url, { method, headers, body: opts.data });
      if (opts.include) {
        io.out(`HTTP ${res.status} ${res.statusText}`);
        res.headers.forEach((value, name) => io.out(`${name}: ${value}`));
        io.out('');
      }
      io.out(await res.text());
      if (res.status === 401 && opts.keyId === undefined)
        io.err(
          `note: sent keyId ${keyId} (the key fingerprint, as --key-id was not given); ` +
            'if the key was registered with --key-id, pass the same --key-id.',
        );
      if (!res.ok) process.exitCode = 22; // like curl --fail
    });
}
