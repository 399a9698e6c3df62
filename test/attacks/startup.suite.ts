import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptionsFromUrl, KeypairAuthModule, KeypairAuthModuleOptions } from '../../src';
import { AdapterName, createTestApp, TestApp } from '../support/test-app';
import { AttackCase, startupRefusal } from './attack-harness';
import { attackSuite } from './attack-suite';

interface StartupEnv {
  readonly t: TestApp;
}

/** Builds the module with these options under NODE_ENV=production; closes it if it started. */
async function startInProduction(options: KeypairAuthModuleOptions): Promise<void> {
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
        KeypairAuthModule.forRoot({ allowInMemoryStoresInProduction: true, ...options }),
      ],
    }).compile();
    await moduleRef.close();
  } finally {
    process.env.NODE_ENV = previous;
  }
}

const CASES: AttackCase<StartupEnv>[] = [
  {
    name: 'startup/production-without-origin',
    attack:
      'NODE_ENV=production with no origin: @authority, @target-uri and htu come from the Host header the ' +
      'client sent, so a request signed for another service that trusts the same key is accepted here',
    request: 'KeypairAuthModule.forRoot({}) under NODE_ENV=production',
    expect: { status: 0, code: 'KeypairAuthConfigurationError' },
    run: () => startupRefusal(() => startInProduction({})),
  },
];

/** Configurations the module must refuse to start with. */
export const STARTUP_SUITE = attackSuite<StartupEnv>({
  name: 'startup',
  setup: async (adapter: AdapterName) => ({ t: await createTestApp({ adapter, database: 'sqlite' }) }),
  teardown: (env) => env.t.close(),
  cases: CASES,
});
