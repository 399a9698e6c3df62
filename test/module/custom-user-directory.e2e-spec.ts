import request from 'supertest';
import { AuthUser, AuthUserDirectory } from '../../src';
import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { createTestApp, TestApp } from '../support/test-app';

/** An app with its own user table: only the two finders, no management. */
class AppUsers implements AuthUserDirectory {
  readonly users = new Map<string, AuthUser>([
    ['u-1', { id: 'u-1', username: 'ext-admin', roles: ['admin'], active: true }],
    ['u-2', { id: 'u-2', username: 'ext-gone', roles: ['admin'], active: false }],
  ]);
  async findById(id: string): Promise<AuthUser | null> {
    return this.users.get(id) ?? null;
  }
  async findByUsername(username: string): Promise<AuthUser | null> {
    return [...this.users.values()].find((u) => u.username === username) ?? null;
  }
}

describe('a custom AuthUserDirectory (the app’s own users)', () => {
  let t: TestApp;
  const users = new AppUsers();
  const admin = testKey('ed25519', 0);
  const gone = testKey('ed25519', 1);

  beforeAll(async () => {
    t = await createTestApp({ adapter: 'fastify', database: 'sqlite', options: { users } });
    await t.registry.register(users.users.get('u-1')!, admin.publicPem, { keyId: 'ext-1' });
    await t.registry.register(users.users.get('u-2')!, gone.publicPem, { keyId: 'ext-2' });
  });
  afterAll(() => t.close());

  it('authenticates against the app’s users, roles included', async () => {
    const res = await request(t.server)
      .get('/probe/admin')
      .set({ Authorization: await jwtHeader(admin.privateKey, 'ext-admin', 'ext-1') });
    expect([res.status, res.body.admin]).toEqual([200, 'ext-admin']);
  });

  it('honours the app’s active flag', async () => {
    const res = await request(t.server)
      .get('/probe/whoami')
      .set({ Authorization: await jwtHeader(gone.privateKey, 'ext-gone', 'ext-2') });
    expect([res.status, res.body.code]).toEqual([401, 'USER_INACTIVE']);
  });

  it('answers 501 NOT_SUPPORTED for user management it cannot do, and still manages keys', async () => {
    const auth = async () => ({ Authorization: await jwtHeader(admin.privateKey, 'ext-admin', 'ext-1') });
    const res = await request(t.server)
      .post('/admin/users')
      .set(await auth())
      .send({ username: 'x', roles: [] });
    expect([res.status, res.body.code]).toEqual([501, 'NOT_SUPPORTED']);
    const keys = await request(t.server)
      .get('/admin/users/ext-admin/keys')
      .set(await auth());
    expect([keys.status, keys.body[0]?.keyId]).toEqual([200, 'ext-1']);
  });
});
