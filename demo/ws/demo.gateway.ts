import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { CurrentSecurityContext, SecurityContext } from '../../src';
import { DemoIdentity, identityOf } from '../identity';

/**
 * `/ws`: a `whoami` message is answered with the caller's identity, the JSON of `GET /whoami`.
 * The connection is authenticated once, by its handshake (KeypairAuthWsAdapter); the global
 * guard holds each message to that context and never authenticates from a message.
 */
@WebSocketGateway({ path: '/ws' })
export class DemoGateway {
  @SubscribeMessage('whoami')
  whoami(@CurrentSecurityContext() ctx: SecurityContext): { event: 'whoami'; data: DemoIdentity } {
    return { event: 'whoami', data: identityOf(ctx) };
  }
}
