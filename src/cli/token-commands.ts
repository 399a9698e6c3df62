import type { Command } from 'commander';
import { createAuthHeader } from '../client/create-auth-header';
import { TokenClient, TokenRequestError } from '../client/token-client';
import type { KeyAlgorithm } from '../keys/key-algorithm';
import {
  commaList,
  existingFile,
  httpUrlArgument,
  keyAlgorithmArgument,
  keyIdArgument,
  usernameArgument,
} from './cli-arguments';
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';
import { addKeyPasswordOptions, KeyPasswordOptions, keyPassword } from './key-password';
import { defaultKeyId, KEY_ID_OPTION_HELP } from './default-key-id';
import { reportingFetch } from './network-error';
import { loadPrivateKeyFile } from './private-key-file';
import { redactUrl } from '../client/redact-url';

const PRIVATE_KEY_FILE = 'a private key (NAME.key from keygen)';

interface TokenOptions extends KeyPasswordOptions {
  key: string;
  username: string;
  keyId?: string;
  alg?: KeyAlgorithm;
}

interface LoginOptions extends KeyPasswordOptions {
  key: string;
  keyId?: string;
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
    .requiredOption('--key <file>', 'private key file (PEM)', existingFile(PRIVATE_KEY_FILE))
    .requiredOption('--username <username>', 'the user the key belongs to', usernameArgument)
    .option('--key-id <id>', KEY_ID_OPTION_HELP, keyIdArgument)
    .option('--alg <algorithm>', 'algorithm the key was registered with (RSA keys)', keyAlgorithmArgument);
  addKeyPasswordOptions(token).action(async (opts: TokenOptions) => {
    const privateKey = loadPrivateKeyFile(opts.key, keyPassword(opts), (line) => io.err(line));
    io.out(
      await createAuthHeader({
        username: opts.username,
        privateKey,
        keyId: opts.keyId ?? defaultKeyId(privateKey),
        algorithm: opts.alg,
      }),
    );
  });

  const login = program
    .command('login')
    .description(
      'Prove a key to a server (challenge-response, or a signed request) and print the access and refresh tokens as JSON.',
    )
    .requiredOption('--key <file>', 'private key file (PEM)', existingFile(PRIVATE_KEY_FILE))
    .option('--key-id <id>', KEY_ID_OPTION_HELP, keyIdArgument)
    .requiredOption('--url <base>', 'base URL of the API, e.g. http://127.0.0.1:3000', httpUrlArgument)
    .option('--roles <roles>', "comma-separated roles to ask for (default: all of the key's)", commaList)
    .option('--signed-request', 'prove the key with an RFC 9421 signed token request instead of a challenge')
    .option('--dpop', 'bind the tokens to the key (DPoP, RFC 9449)')
    .option('--alg <algorithm>', 'algorithm the key is registered with (RSA keys)', keyAlgorithmArgument);
  addKeyPasswordOptions(login).action(async (opts: LoginOptions) => {
    const privateKey = loadPrivateKeyFile(opts.key, keyPassword(opts), (line) => io.err(line));
    const client = new TokenClient({
      baseUrl: opts.url,
      keyId: opts.keyId ?? defaultKeyId(privateKey),
      privateKey,
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
