import type { Command } from 'commander';
import { booleanArgument, commaList, usernameArgument } from './cli-arguments';
import { addDatabaseOptions, DatabaseOptions, withRegistry } from './cli-database';
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';

export function noSuchUser(username: string): CliError {
  return new CliError(
    `no user ${JSON.stringify(username)} in this database: add it with \`keypair-auth users add ${username}\`, ` +
      'or check --database / DATABASE_URL.',
  );
}

/** `users add | list | set-active`. */
export function addUserCommands(program: Command, io: CliIo): void {
  const users = program
    .command('users')
    .description('Manage users (the database of --database or DATABASE_URL).');
  addDatabaseOptions(
    users
      .command('add')
      .description('Add a user and print it as JSON.')
      .argument('<username>', 'lowercase a-z, 0-9 and . _ @ + - (e.g. alice)', usernameArgument)
      .option('--roles <roles>', 'comma-separated roles, e.g. reader,admin (default: none)', commaList),
  ).action((username: string, opts: DatabaseOptions & { roles?: string[] }) =>
    withRegistry(opts, io, async (_registry, directory) => {
      io.out(JSON.stringify(await directory.create(username, opts.roles ?? [])));
    }),
  );
  addDatabaseOptions(users.command('list').description('List users, one JSON object per line.')).action(
    (opts: DatabaseOptions) =>
      withRegistry(opts, io, async (_registry, directory) => {
        const all = await directory.list();
        if (all.length === 0)
          io.err('no users in this database yet: add one with `keypair-auth users add NAME`');
        for (const user of all) io.out(JSON.stringify(user));
      }),
  );
  addDatabaseOptions(
    users
      .command('set-active')
      .description('Activate (true) or deactivate (false) a user; an inactive user cannot sign in.')
      .argument('<username>', 'the user')
      .argument('<active>', 'true or false (yes or no)', booleanArgument),
  ).action((username: string, active: boolean, opts: DatabaseOptions) =>
    withRegistry(opts, io, async (_registry, directory) => {
      const user = await directory.findByUsername(username);
      if (!user) throw noSuchUser(username);
      await directory.setActive(user.id, active);
      io.out(JSON.stringify({ username, active }));
    }),
  );
}
