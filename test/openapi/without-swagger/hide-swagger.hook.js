/* global require, process */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload hook (node -r) */
// Makes @nestjs/swagger unresolvable, as in an app that never installed it (KPA_SWAGGER=missing),
// or installed but broken: it cannot load a dependency of its own (KPA_SWAGGER=broken).
const Module = require('node:module');

const mode = process.env.KPA_SWAGGER ?? 'missing';
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '@nestjs/swagger' || request.startsWith('@nestjs/swagger/')) {
    const missing = mode === 'broken' ? 'swagger-ui-dist' : request;
    const error = new Error(`Cannot find module '${missing}'`);
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolveFilename.call(this, request, ...rest);
};
