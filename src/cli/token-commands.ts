import type { Command } from 'commander';
import { createAuthHeader } from '../client/create-auth-header';
import { TokenClient, TokenRequestError } from '../client/token-client';
import type { KeyAlgorithm } from '../keys/key-algorithm';
import {
  commaList,
  httpUrlArgument,
  keyAlgorithmArgument,
  keyIdArgument,
  usernameArgument,
} from './cli-arguments';
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';
import { KEY_ID_OPTION_HELP } from './default-key-id';
import { addKeySourceOptions, KeySourceOptions, resolveKeySource } from './key-source';
import { reportingFetch } from './network-error';
import { redactUrl } from '../client/redact-url';

interface TokenOptions extends KeySourceOptions {
  username: string;
  alg?: KeyAlgorithm;
}

interface LoginOptions extends KeySourceOptions {
  url: string;
  roles?: string[];
  signedRequest?: boolean;
  dpop?: boolean;
  alg?: KeyAlgorithm;
}

/** A refused login, with what to check. */
function loginError(error: unknown, opts: LoginOptions): unknown {
  if (!(error instanceof TokenRequestError)) return error;
  if (error.status === 404)
    return new CliError(
      `${error.message} — does ${redactUrl(opts.url)} serve the token API (POST /auth/challenge, /auth/token)? Check --url.`,
    );
  if (error.status === 401 && opts.keyId === undefined)
    return new CliError(
      `${error.message} — the keyId sent was the key fingerprint, as --key-id was not given; ` +
        'if the key was registered with --key-id, pass the same --key-id.',
    );
  return new CliError(error.message);
}

/** `token` (a JWT Authorization value) and `login` (an access and refresh token pair from a server). */
export function addTokenCommands(program: Command, io: CliIo): void {
  const token = program
    .command('token')
    .description('Print an Authorization header value (JWT <token>) for the asymmetric-JWT strategy.')
    .requiredOption('--username <username>', 'the user the key belongs to', usernameArgument)
    .option('--key-id <id>', KEY_ID_OPTION_HELP, keyIdArgument)
    .option('--alg <algorithm>', 'algorithm the key was registered with (RSA keys)', keyAlgorithmArgument);
  addKeySourceOptions(token).action(async (opts: TokenOptions) => {
    const { signer, privateKey, keyId } = await resolveKeySource(opts, io);
    io.out(
      await createAuthHeader({
        username: opts.username,
        ...(privateKey ? { privateKey } : { signer }),
        keyId,
        algorithm: opts.alg,
      }),
    );
  });

  const login = program
    .command('login')
    .description(
      'Prove a key to a server (challenge-response, or a signed request) and print the access and refresh tokens as JSON.',
    )
    .option('--key-id <id>', KEY_ID_OPTION_HELP, keyIdArgument)
    .requiredOption('--url <base>', 'base URL of the API, e.g. http://127.0.0.1:3000', httpUrlArgument)
    .option('--roles <roles>', "comma-separated roles to ask for (default: all of the key's)", commaList)
    .option('--signed-request', 'prove the key with an RFC 9421 signed token request instead of a challenge')
    .option('--dpop', 'bind the tokens to the key (DPoP, RFC 9449)')
    .option('--alg <algorithm>', 'algorithm the key is registered with (RSA keys)', keyAlgorithmArgument);
  addKeySourceOptions(login).action(async (opts: LoginOptions) => {
    if (opts.agent && opts.dpop)
      throw new CliError(
        '--dpop signs each call with the private key in this process, so it does not work with --agent: use --key.',
      );
    const { signer, privateKey, keyId } = await resolveKeySource(opts, io);
    const client = new TokenClient({
      baseUrl: opts.url,
      keyId,
      ...(privateKey ? { privateKey } : { signer }),
      algorithm: opts.alg,
      roles: opts.roles,
      login: opts.signedRequest ? 'signed-request' : 'challenge',
      dpop: opts.dpop,
      fetch: reportingFetch,
    });
    try {
      io.out(JSON.stringify(await client.login()));
    } catch (error) {
      throw loginError(error, opts);
    }
  });
}
