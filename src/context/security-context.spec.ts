import { SecurityContext } from './security-context';

const account = (roles: string[]) => ({ id: 'u1', username: 'alice', roles, active: true });

describe('SecurityContext', () => {
  it('counts a role only if the account has it and the key subset allows it', () => {
    const user = account(['admin', 'reader']);
    const ctx = new SecurityContext(user, 'k1', 'jwt', ['reader', 'writer']);
    expect(ctx.roles).toEqual(['reader']);
    expect(ctx.hasRole('reader')).toBe(true);
    expect(ctx.hasRole('admin')).toBe(false);
    expect(ctx.hasRole('writer')).toBe(false);
    expect(new SecurityContext(user, 'k2', 'jwt', null).roles).toEqual(['admin', 'reader']);
    expect(new SecurityContext(user, 'k3', 'jwt', []).roles).toEqual([]);
  });

  it('is frozen, roles included', () => {
    const ctx = new SecurityContext(account(['reader']), 'k1', 'jwt', null);
    expect(Object.isFrozen(ctx)).toBe(true);
    expect(Object.isFrozen(ctx.roles)).toBe(true);
    expect(() => (ctx.roles as string[]).push('admin')).toThrow(TypeError);
  });

  it('notices role arrays changed in place between requests (no stale cached roles)', () => {
    const roles = ['admin', 'reader'];
    const keyRoles = ['admin', 'reader'];
    const user = account(roles);
    expect(new SecurityContext(user, 'k1', 'jwt', keyRoles).hasRole('admin')).toBe(true);
    roles.splice(0, 1); // the directory removed admin from the same array
    const after = new SecurityContext(user, 'k1', 'jwt', keyRoles);
    expect(after.hasRole('admin')).toBe(false);
    expect(after.roles).toEqual(['reader']);
    keyRoles.splice(1, 1); // and the key's subset lost reader
    expect(new SecurityContext(user, 'k1', 'jwt', keyRoles).roles).toEqual([]);
  });
});
