import type { Command } from 'commander';
import { createSignedFetch, type SignedFetch } from '../client/signed-fetch';
import { signWebBotAuthRequestAsync } from '../client/web-bot-auth-signer';
import type { KeyAlgorithm } from '../keys/key-algorithm';
import {
  headerArgument,
  httpMethodArgument,
  httpUrlArgument,
  keyAlgorithmArgument,
  keyIdArgument,
} from './cli-arguments';
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';
import { KEY_ID_OPTION_HELP } from './default-key-id';
import { addKeySourceOptions, KeySource, KeySourceOptions, resolveKeySource } from './key-source';
import { reportingFetch } from './network-error';

interface RequestOptions extends KeySourceOptions {
  data?: string;
  header?: string[];
  cavage?: boolean;
  alg?: KeyAlgorithm;
  include?: boolean;
  verifyWith?: string;
  webBotAuth?: string;
}

/**
 * The fetch of `--web-bot-auth AGENT`: a Web Bot Auth signature (keyid = the key's
 * thumbprint, Signature-Agent naming AGENT) instead of the registry-key signature. The
 * options that only mean something for a registered key are refused, not ignored.
 */
function webBotAuthFetch(opts: RequestOptions, source: KeySource): SignedFetch {
  const agent = opts.webBotAuth!;
  // With --agent, --key-id picks the ssh-agent key: it is not sent, so it stays allowed.
  const conflicting = (['keyId', 'cavage', 'alg', 'verifyWith'] as const).find(
    (o) => opts[o] !== undefined && !(o === 'keyId' && opts.agent),
  );
  if (conflicting !== undefined) {
    const flag = { keyId: '--key-id', cavage: '--cavage', alg: '--alg', verifyWith: '--verify-with' }[
      conflicting
    ];
    throw new CliError(
      `${flag} does not apply with --web-bot-auth: the keyid is the key's thumbprint and the algorithm ` +
        "the key's own (RSA: rsa-pss-sha512). Leave " +
        flag +
        ' out.',
    );
  }
  return async (url, init = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    let headers: Record<string, string>;
    try {
      ({ headers } = await signWebBotAuthRequestAsync(
        { method, url, headers: init.headers, body: init.body },
        { ...(source.privateKey ? { privateKey: source.privateKey } : { signer: source.signer }), agent },
      ));
    } catch (error) {
      if (error instanceof TypeError) throw new CliError(`--web-bot-auth: ${error.message}`);
      throw error;
    }
    // Not followed, like curl without -L: the signature would go to wherever the Location
    // points (another origin could spend its nonce where it was meant to go).
    return reportingFetch(url, { method, headers, body: init.body, redirect: 'manual' });
  };
}

/** A non-2xx answer to the signed request: printed and exit 22 before any signature check. */
class ErrorStatus extends Error {
  constructor(readonly response: Response) {
    super(`HTTP ${response.status}`);
  }
}

/**
 * reportingFetch, except that an error status on the signed request itself (the call that
 * passes init; the JWK Set fetch passes none) stops before the response signature is
 * checked: an error answer is reported as one (exit 22, body printed), not as a missing
 * signature. A 2xx answer is still verified.
 */
const stopOnErrorStatus: typeof fetch = async (input, init) => {
  const response = await reportingFetch(input, init);
  if (init !== undefined && !response.ok) throw new ErrorStatus(response);
  return response;
};

/** `request METHOD URL --key K`: sends a signed request like curl and prints the response. */
export function addRequestCommand(program: Command, io: CliIo): void {
  const command = program
    .command('request')
    .description(
      'Send an HTTP-signed request (RFC 9421, or --cavage) and print the response body; exit 22 on an HTTP error status, like curl --fail.',
    )
    .argument('<method>', 'HTTP method: GET, POST, PUT, PATCH, DELETE, …', httpMethodArgument)
    .argument('<url>', 'absolute http:// or https:// URL', httpUrlArgument)
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
    .option(
      '--web-bot-auth <agentUrl>',
      'sign as a Web Bot Auth agent (draft-ietf-webbotauth-httpsig-protocol-01): keyid = the key thumbprint, ' +
        'Signature-Agent = this https origin (or its /.well-known/http-message-signatures-directory)',
    );
  addKeySourceOptions(command).action(async (method: string, url: string, opts: RequestOptions) => {
    const headers: Record<string, string> = {};
    for (const line of opts.header ?? []) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    if (opts.data !== undefined) headers['content-type'] ??= 'application/json';
    const source = await resolveKeySource(opts, io);
    const { signer, privateKey, keyId } = source;
    const signedFetch =
      opts.webBotAuth !== undefined
        ? webBotAuthFetch(opts, source)
        : createSignedFetch({
            keyId,
            ...(privateKey ? { privateKey } : { signer }),
            algorithm: opts.alg,
            format: opts.cavage ? 'cavage' : 'rfc9421',
            verifyResponses: opts.verifyWith ? { jwksUrl: opts.verifyWith } : undefined,
            fetch: opts.verifyWith ? stopOnErrorStatus : reportingFetch,
          });
    let res: Response;
    try {
      res = await signedFetch(url, { method, headers, body: opts.data });
    } catch (error) {
      if (!(error instanceof ErrorStatus)) throw error;
      res = error.response;
    }
    if (opts.include) {
      io.out(`HTTP ${res.status} ${res.statusText}`);
      res.headers.forEach((value, name) => io.out(`${name}: ${value}`));
      io.out('');
    }
    io.out(await res.text());
    if (res.status === 401 && opts.keyId === undefined && opts.webBotAuth === undefined)
      io.err(
        `note: sent keyId ${keyId} (the key fingerprint, as --key-id was not given); ` +
          'if the key was registered with --key-id, pass the same --key-id.',
      );
    if (!res.ok && opts.verifyWith)
      io.err(
        `note: HTTP ${res.status}: the response signature was not checked (only 2xx answers are verified).`,
      );
    if (!res.ok) process.exitCode = 22; // like curl --fail
  });
}
