#!/usr/bin/env node
import { runCli } from './cli-program';

// `keypair-auth request … | head`: once the reader is gone, stop quietly instead of
// dying with an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });

runCli(process.argv.slice(2)).then((code) => {
  // A command may already have set an exit code (request: 22 on an HTTP error, like curl --fail).
  if (code !== 0) process.exitCode = code;
});
