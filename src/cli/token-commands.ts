import { Command } from 'commander';
import { resolvePrivateKey } from '../client/create-auth-header';
import { TokenClient } from '../client/token-client';
import type { KeyAlgorithm } from '../keys/key-algorithm';
import { parsePublicKey, publicKeyFromPrivate } from '../keys/key-formats';
import type { CliIo } from './cli-program';
import { commaList, keyAlgorithmArgument } from './cli-arguments';

interface LoginOptions {
  key: string;
  keyId?: string;
  url: string;
  roles?: string[];
  signedRequest?: boolean;
  dpop?: boolean;
  alg?: KeyAlgorithm;
  password?: string;
}

/** `login --key K --key-id ID --url BASE`: proves the key once and prints the token pair as JSON. */
export function addTokenCommands(program: Command, io: CliIo): void {
  program
    .command('login')
    .description(
      'Prove a key to a server (challenge-response, or a signed request) and print the access and refresh tokens as JSON.',
    )
    .requiredOption('--key <file>', 'private key file (PEM)')
    .option('--key-id <id>', 'the registered keyId (default: the key fingerprint)')
    .requiredOption('--url <base>', 'base URL of the API, e.g. http://127.0.0.1:3000')
    .option('--roles <roles>', "comma-separated roles to ask for (default: all of the key's)", commaList)
    .option('--signed-request', 'prove the key with an RFC 9421 signed token request instead of a challenge')
    .option('--dpop', 'bind the tokens to the key (DPoP, RFC 9449)')
    .option('--alg <algorithm>', 'algorithm the key is registered with (RSA keys)', keyAlgorithmArgument)
    .option('--password <password>', 'passphrase of an encrypted key')
    .action(async (opts: LoginOptions) => {
      const privateKey = resolvePrivateKey({ keyFile: opts.key, keyPassword: opts.password });
      const keyId =
        opts.keyId ??
        parsePublicKey(publicKeyFromPrivate(privateKey).export({ type: 'spki', format: 'pem' }).toString())
          .thumbprint;
      const client = new TokenClient({
        baseUrl: opts.url,
        keyId,
        privateKey,
        algorithm: opts.alg,
        roles: opts.roles,
        login: opts.signedRequest ? 'signed-request' : 'challenge',
        dpop: opts.dpop,
      });
      io.out(JSON.stringify(await client.login()));
    });
}
