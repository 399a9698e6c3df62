import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';

/**
 * A key registered through self-service never outlives the credential that registers it
 * (found by the red team of issue 14: a key an admin gave one hour made itself a key
 * without expiry, which kept logging the account in after the hour).
 */
describe.each(ADAPTERS)('self-service keys expire with the key that registers them (%s)', (adapter) => {
  let t: TestApp;
  const shortLived = testKey('ed25519', 0);
  const added = testKey('ed25519', 1);
  const expiresAt = new Date(Date.now() + 3_600_000);

  beforeAll(async () => {
    t = await createTestApp({ adapter, database: 'sqlite' });
    const alice = await t.addUser('alice', ['reader']);
    await t.registry.register(alice, shortLived.publicPem, { keyId: 'alice-1h', expiresAt });
  });
  afterAll(() => t.close());

  const post = async (body: Record<string, unknown>) =>
    fetch(`${t.server}/keys`, {
      method: 'POST',
      headers: {
        authorization: await jwtHeader(shortLived.privateKey, 'alice', 'alice-1h'),
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });

  it('without expiresAt, the new key expires when the registering key does', async () => {
    const res = await post({ publicKey: added.publicPem, keyId: 'alice-added' });
    const body = (await res.json()) as { expiresAt: string | null };
    expect(res.status).toBe(201);
    expect(Date.parse(body.expiresAt!)).toBe(expiresAt.getTime());
  });

  it('a later expiresAt is refused with 403 KEY_OUTLIVES_CREDENTIAL; an earlier one is kept', async () => {
    const later = await post({
      publicKey: testKey('ed25519', 2).publicPem,
      expiresAt: '2099-01-01T00:00:00Z',
    });
    expect([later.status, ((await later.json()) as { code: string }).code]).toEqual([
      403,
      'KEY_OUTLIVES_CREDENTIAL',
    ]);
    const soon = new Date(Date.now() + 600_000).toISOString();
    const earlier = await post({ publicKey: testKey('ed25519', 3).publicPem, expiresAt: soon });
    expect(earlier.status).toBe(201);
    expect(((await earlier.json()) as { expiresAt: string }).expiresAt).toBe(soon);
  });
});
