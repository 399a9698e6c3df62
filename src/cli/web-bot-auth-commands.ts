import type { Command } from 'commander';
import { webBotAuthDirectory } from '../client/web-bot-auth-signer';
import type { CliIo } from './cli-io';
import { addKeySourceOptions, KeySourceOptions, resolveKeySource } from './key-source';

/**
 * `web-bot-auth directory --key FILE`: the JWK Set an agent hosts at
 * https://<agent>/.well-known/http-message-signatures-directory, for the key that
 * `request --web-bot-auth` signs with (kid = its thumbprint, the keyid sent).
 */
export function addWebBotAuthCommands(program: Command, io: CliIo): void {
  const group = program
    .command('web-bot-auth')
    .description('Web Bot Auth (draft-ietf-webbotauth-httpsig-protocol-01) as an agent');
  const directory = group
    .command('directory')
    .description(
      'Print the key directory (JWK Set) to serve at https://AGENT/.well-known/http-message-signatures-directory ' +
        'as application/http-message-signatures-directory+json',
    );
  addKeySourceOptions(directory).action(async (opts: KeySourceOptions) => {
    const { signer } = await resolveKeySource(opts, io);
    io.out(JSON.stringify(webBotAuthDirectory([await signer.publicKey()]), null, 2));
  });
}
