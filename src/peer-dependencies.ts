/**
 * The peer dependencies of the server entry point (`nestjs-keypair-auth`). They are
 * optional in package.json so that a client-only install (`nestjs-keypair-auth/client`)
 * pulls in no Nest, no ORM and no native module; the server entry checks for them
 * first, so a missing one fails at import with the command that installs it.
 */
export interface PeerDependencyGroup {
  readonly packages: readonly string[];
  /** What the library needs them for, completing "nestjs-keypair-auth needs A and B …". */
  readonly purpose: string;
}

export const SERVER_PEER_DEPENDENCIES: readonly PeerDependencyGroup[] = [
  { packages: ['@nestjs/common', '@nestjs/core', 'reflect-metadata', 'rxjs'], purpose: 'as a NestJS module' },
  { packages: ['@nestjs/passport', 'passport'], purpose: 'for its guards' },
  { packages: ['@nestjs/typeorm', 'typeorm'], purpose: 'for its key registry' },
  {
    packages: ['class-validator', 'class-transformer'],
    purpose: 'to validate the bodies of its admin and token endpoints',
  },
];

/** A peer dependency (or an optional one, at the moment it is used) is not installed. */
export class MissingPeerDependencyError extends Error {
  override readonly name = 'MissingPeerDependencyError';

  constructor(
    message: string,
    readonly packages: readonly string[],
  ) {
    super(message);
  }
}

function listed(names: readonly string[]): string {
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function isInstalled(name: string, resolve: (name: string) => string): boolean {
  try {
    resolve(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * The error for the groups with a missing package, or undefined when all are installed.
 * `resolve` is `require.resolve` (a parameter for the tests).
 */
export function missingPeerDependencies(
  groups: readonly PeerDependencyGroup[],
  resolve: (name: string) => string,
): MissingPeerDependencyError | undefined {
  const lines: string[] = [];
  const missing: string[] = [];
  for (const group of groups) {
    const absent = group.packages.filter((name) => !isInstalled(name, resolve));
    if (absent.length === 0) continue;
    lines.push(
      `nestjs-keypair-auth needs ${listed(absent)} ${group.purpose}: npm install ${absent.join(' ')}`,
    );
    missing.push(...absent);
  }
  if (missing.length === 0) return undefined;
  if (lines.length > 1) lines.push(`Install them all with: npm install ${missing.join(' ')}`);
  lines.push(
    'A program that only signs requests needs none of them: import from nestjs-keypair-auth/client instead.',
  );
  return new MissingPeerDependencyError(lines.join('\n'), missing);
}

/** Throws MissingPeerDependencyError when a peer of the server entry point is not installed. */
export function assertServerPeerDependencies(resolve: (name: string) => string = require.resolve): void {
  const error = missingPeerDependencies(SERVER_PEER_DEPENDENCIES, resolve);
  if (error) throw error;
}

/**
 * Loads an optional peer (a database driver, ioredis) where it is used, with the install
 * command in the error when it is missing. Errors from inside an installed package pass through.
 */
export function requireOptionalPeer<T>(name: string, purpose: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : '';
    if (code === 'MODULE_NOT_FOUND' && message.includes(`'${name}'`)) {
      throw new MissingPeerDependencyError(
        `nestjs-keypair-auth needs ${name} ${purpose}, and it is not installed: npm install ${name}`,
        [name],
      );
    }
    throw error;
  }
}
