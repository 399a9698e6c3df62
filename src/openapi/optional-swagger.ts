import type * as SwaggerPackage from '@nestjs/swagger';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';

/** `@nestjs/swagger`, as this library uses it: an optional peer dependency. */
export type Swagger = typeof SwaggerPackage;

const PACKAGE = '@nestjs/swagger';

let loaded: Swagger | null | undefined;

/**
 * `@nestjs/swagger` when the app has it installed, else null. Tried once, on first use
 * (when the first decorated class loads). Only "not installed" counts as absent: a copy
 * that is installed but fails to load throws, so a broken install is never silent.
 */
export function optionalSwagger(): Swagger | null {
  if (loaded === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require(PACKAGE) as Swagger;
    } catch (error) {
      if (!isNotInstalled(error)) throw error;
      loaded = null;
    }
  }
  return loaded;
}

/** `@nestjs/swagger`, or an error that says how to install it, for what the caller needs it for. */
export function requireSwagger(forWhat: string): Swagger {
  const swagger = optionalSwagger();
  if (!swagger) {
    throw ConfigError.create(
      `${forWhat} needs the @nestjs/swagger package, which is not installed.`,
      'Install it with npm install @nestjs/swagger (an optional peer dependency: the library describes ' +
        'its routes in your OpenAPI document only when it is there).',
    );
  }
  return swagger;
}

function isNotInstalled(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  // Node names the module it could not find first: a missing dependency of swagger itself is another error.
  return (
    code === 'MODULE_NOT_FOUND' &&
    typeof message === 'string' &&
    message.startsWith(`Cannot find module '${PACKAGE}'`)
  );
}
