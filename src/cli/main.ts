#!/usr/bin/env node
import 'reflect-metadata';
import { runCli } from './cli-program';

runCli(process.argv.slice(2)).then((code) => {
  // A command may already have set an exit code (request: 22 on an HTTP error, like curl --fail).
  if (code !== 0) process.exitCode = code;
});
