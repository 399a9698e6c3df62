import { KeypairStrategy } from '../guards/keypair-strategy';
import type { StrategyEntry } from '../guards/passport-registry';
import { requestAddresses } from '../signature-strategy/http-signature.strategy';
import { WebBotAuthAuthenticator } from './web-bot-auth.authenticator';

export const KEYPAIR_WEB_BOT_AUTH_STRATEGY = 'keypair-web-bot-auth';

/**
 * The guard routes requests with a Signature-Agent header, or a Signature-Input naming the
 * `web-bot-auth` tag, here (before the RFC 9421 strategy, which would look the thumbprint
 * up among registered keys and answer only "unknown key").
 */
export const webBotAuthEntry: StrategyEntry = {
  name: KEYPAIR_WEB_BOT_AUTH_STRATEGY,
  claims: (request) => WebBotAuthAuthenticator.claims(request.rawHeaders),
  challenge: 'Signature realm="keypair-auth"',
  headers: {
    // draft-ietf-webbotauth-httpsig-protocol-01 §"Requesting a Message Signature".
    'Accept-Signature':
      'sig1=("@authority" "signature-agent";key="sig1");created;expires;keyid;nonce;tag="web-bot-auth"',
  },
};

/** Passport strategy (`keypair-web-bot-auth`): the request's address, then the authenticator. */
export class WebBotAuthStrategy extends KeypairStrategy {
  constructor(authenticator: WebBotAuthAuthenticator, configuredOrigin: string | null) {
    const addressOf = requestAddresses(configuredOrigin);
    super((request) => authenticator.authenticate(request, addressOf(request)));
  }
}
