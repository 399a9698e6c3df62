/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.(t|j)s$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  // jose 6 and dpop (test only) ship ESM only: let ts-jest turn it into CommonJS for Jest's module system.
  // So does content-disposition 3, which mercurius loads through @fastify/static (GraphQL tests).
  transformIgnorePatterns: [
    '/node_modules/(?!(jose|dpop|content-disposition|@fastify/static/node_modules/content-disposition)/)',
  ],
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  testTimeout: 30000,
};
