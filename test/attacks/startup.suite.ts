import type { DynamicModule } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { generateKeyPairSync } from 'node:crypto';
import { dataSourceOptionsFromUrl, KeypairAuthModule, KeypairAuthModuleOptions } from '../../src';
import type { SendResult } from '../support/certificates';
import { testKey } from '../support/keys';
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

/** Builds an app module with KeypairAuthModule as given (NODE_ENV as the test runs it); closes it if it started. */
async function start(keypairAuth: () => DynamicModule): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
      keypairAuth(),
    ],
  }).compile();
  await moduleRef.close();
}

/**
 * A refusal to start, but only for the reason the case is about: a refusal whose message
 * does not match `reason` (some other option is wrong) counts as a failure of the case.
 */
async function refusedFor(reason: RegExp, run: () => Promise<void>): Promise<SendResult> {
  const result = await startupRefusal(run);
  if (result.status !== 0 || reason.test(result.text)) return result;
  return { ...result, status: 500, body: { code: `REFUSED FOR ANOTHER REASON: ${result.text}` } };
}

const rsaPem = (bits: number) =>
  generateKeyPairSync('rsa', { modulusLength: bits })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();

const REFUSED = { status: 0, code: 'KeypairAuthConfigurationError' } as const;

const weakServerKey = (bits: number): AttackCase<StartupEnv> => ({
  name: `startup/rsa-${bits}-server-key`,
  attack:
    `an RSA-${bits} server key signs access tokens and responses: a key that can be factored lets anyone ` +
    'mint tokens and forge signed responses, and it is published in the JWKS as if it were sound',
  request: `forRoot({ responseSigning: { keys: [RSA-${bits}] }, tokens: {} })`,
  expect: REFUSED,
  run: () =>
    refusedFor(/KEY_TOO_WEAK.*RSA keys must be at least 2048 bits/s, () =>
      start(() =>
        KeypairAuthModule.forRoot({
          responseSigning: { keys: [{ keyId: 'weak', privateKey: rsaPem(bits) }] },
          tokens: {},
        }),
      ),
    ),
});

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
  {
    name: 'startup/web-bot-auth-without-origin',
    attack:
      'webBotAuth without origin (allowHostHeaderAuthority on): an agent signs only @authority, for every ' +
      'site it crawls, so a site it visited replays that signature here with its own Host, on any path',
    request:
      "forRoot({ allowHostHeaderAuthority: true, webBotAuth: { agents: [{ origin: 'https://crawler.example', … }] } })",
    expect: REFUSED,
    run: () =>
      refusedFor(/webBotAuth needs origin/, () =>
        start(() =>
          KeypairAuthModule.forRoot({
            allowHostHeaderAuthority: true,
            webBotAuth: { agents: [{ origin: 'https://crawler.example', username: 'crawler' }] },
          }),
        ),
      ),
  },
  weakServerKey(512),
  weakServerKey(1024),
  {
    name: 'startup/server-key-id-not-ascii',
    attack:
      'a server keyId that cannot be written in a Signature-Input keyid ("clé-2026"): the module starts, ' +
      'publishes it, then every @SignResponse() route answers 500',
    request: "forRoot({ responseSigning: { keys: [{ keyId: 'clé-2026', … }] } })",
    expect: REFUSED,
    run: () =>
      refusedFor(/keyId "clé-2026".*printable ASCII/s, () =>
        start(() =>
          KeypairAuthModule.forRoot({
            responseSigning: { keys: [{ keyId: 'clé-2026', privateKey: testKey('ed25519').privatePem }] },
          }),
        ),
      ),
  },
  {
    name: 'startup/response-signature-label-invalid',
    attack:
      'a response signature label that is not a structured-field key ("Res 1"): the module starts, then ' +
      'every @SignResponse() route answers 500',
    request: "forRoot({ responseSigning: { keys, label: 'Res 1' } })",
    expect: REFUSED,
    run: () =>
      refusedFor(/responseSigning\.label.*lowercase/s, () =>
        start(() =>
          KeypairAuthModule.forRoot({
            responseSigning: {
              keys: [{ keyId: 'server-1', privateKey: testKey('ed25519').privatePem }],
              label: 'Res 1',
            },
          }),
        ),
      ),
  },
  {
    name: 'startup/response-signing-unknown-option',
    attack: 'a mistyped responseSigning option (lable) is ignored, so the app runs without what it asked for',
    request: "forRoot({ responseSigning: { keys, lable: 'sig' } })",
    expect: REFUSED,
    run: () =>
      refusedFor(/unknown option responseSigning\.lable/, () =>
        start(() =>
          KeypairAuthModule.forRoot({
            responseSigning: {
              keys: [{ keyId: 'server-1', privateKey: testKey('ed25519').privatePem }],
              lable: 'sig',
            },
          } as unknown as KeypairAuthModuleOptions),
        ),
      ),
  },
  {
    name: 'startup/response-signing-global',
    attack:
      'responseSigning.global: true, read by nothing: the app believes every response is signed, and ' +
      'clients that check signatures get unsigned answers',
    request: 'forRoot({ responseSigning: { keys, global: true } })',
    expect: REFUSED,
    run: () =>
      refusedFor(/responseSigning\.global.*@SignResponse\(\)/s, () =>
        start(() =>
          KeypairAuthModule.forRoot({
            responseSigning: {
              keys: [{ keyId: 'server-1', privateKey: testKey('ed25519').privatePem }],
              global: true,
            },
          } as unknown as KeypairAuthModuleOptions),
        ),
      ),
  },
  {
    name: 'startup/server-key-unknown-field',
    attack:
      "a server key entry with alg: 'rsa-pss-sha512' (the option is algorithm): the field is ignored and " +
      'the server signs responses and tokens with RSASSA-PKCS1-v1_5 SHA-256 instead',
    request:
      "forRoot({ responseSigning: { keys: [{ keyId, privateKey: RSA-2048, alg: 'rsa-pss-sha512' }] } })",
    expect: REFUSED,
    run: () =>
      refusedFor(
        /responseSigning\.keys\[0\]\.alg.*Known options: keyId, privateKey, algorithm.*algorithm: "rsa-pss-sha512"/s,
        () =>
          start(() =>
            KeypairAuthModule.forRoot({
              responseSigning: {
                keys: [{ keyId: 'server-1', privateKey: rsaPem(2048), alg: 'rsa-pss-sha512' }],
              },
            } as unknown as KeypairAuthModuleOptions),
          ),
      ),
  },
  {
    name: 'startup/server-key-unknown-field-async',
    attack:
      'the same server key entry with a mistyped field (passphrase, expires) through forRootAsync: ' +
      'the app starts as if the field had been read',
    request:
      'forRootAsync({ useFactory: () => ({ responseSigning: { keys: [{ keyId, privateKey, expires }] } }) })',
    expect: REFUSED,
    run: () =>
      refusedFor(/responseSigning\.keys\[1\]\.expires.*Known options: keyId, privateKey, algorithm/s, () =>
        start(() =>
          KeypairAuthModule.forRootAsync({
            useFactory: () =>
              ({
                responseSigning: {
                  keys: [
                    { keyId: 'server-2', privateKey: testKey('ed25519').privatePem },
                    { keyId: 'server-1', privateKey: testKey('ed25519').privatePem, expires: '2026-12-31' },
                  ],
                },
              }) as unknown as KeypairAuthModuleOptions,
          }),
        ),
      ),
  },
  {
    name: 'startup/hmac-key-role-typo',
    attack:
      "an HMAC key entry with role: ['reader'] (the option is roles): the field is ignored, roles stay " +
      'unset, and a request signed with the key gets every role of the account, admin included',
    request: "forRoot({ httpSignature: { hmacKeys: { svc: { secret, username, role: ['reader'] } } } })",
    expect: REFUSED,
    run: () =>
      refusedFor(/httpSignature\.hmacKeys\["svc"\]\.role\b.*Known options: secret, username, roles/s, () =>
        start(() =>
          KeypairAuthModule.forRoot({
            httpSignature: {
              hmacKeys: { svc: { secret: Buffer.alloc(32, 7), username: 'alice', role: ['reader'] } },
            },
          } as unknown as KeypairAuthModuleOptions),
        ),
      ),
  },
  {
    name: 'startup/hmac-key-role-getter',
    attack:
      'red-team 4: the role-for-roles typo as a getter of a config class (not an own enumerable field): ' +
      'the field is ignored and the key gets every role of the account',
    request: 'forRoot({ httpSignature: { hmacKeys: { svc: new Entry() } } }), Entry having get role()',
    expect: REFUSED,
    run: () => {
      class Entry {
        secret = Buffer.alloc(32, 7);
        username = 'alice';
        get role(): string[] {
          return ['reader'];
        }
      }
      return refusedFor(
        /httpSignature\.hmacKeys\["svc"\]\.role\b.*Known options: secret, username, roles/s,
        () =>
          start(() =>
            KeypairAuthModule.forRoot({
              httpSignature: { hmacKeys: { svc: new Entry() } },
            } as unknown as KeypairAuthModuleOptions),
          ),
      );
    },
  },
  {
    name: 'startup/hmac-keys-as-map',
    attack:
      'red-team 4: hmacKeys given as a Map: read as an object it has no entries, so every key is dropped',
    request: "forRoot({ httpSignature: { hmacKeys: new Map([['svc', { secret, username }]]) } })",
    expect: REFUSED,
    run: () =>
      refusedFor(/httpSignature\.hmacKeys must be an object of entries by keyid/, () =>
        start(() =>
          KeypairAuthModule.forRoot({
            httpSignature: {
              hmacKeys: new Map([['svc', { secret: Buffer.alloc(32, 7), username: 'alice' }]]),
            },
          } as unknown as KeypairAuthModuleOptions),
        ),
      ),
  },
  {
    name: 'startup/hmac-key-role-typo-async',
    attack:
      'the same role-for-roles typo through forRootAsync: the key silently gets every role of the account',
    request: 'forRootAsync({ useFactory: () => ({ httpSignature: { hmacKeys: { svc: { …, role } } } }) })',
    expect: REFUSED,
    run: () =>
      refusedFor(/httpSignature\.hmacKeys\["svc"\]\.role\b.*Known options: secret, username, roles/s, () =>
        start(() =>
          KeypairAuthModule.forRootAsync({
            useFactory: async () =>
              ({
                httpSignature: {
                  hmacKeys: { svc: { secret: Buffer.alloc(32, 7), username: 'alice', role: ['reader'] } },
                },
              }) as unknown as KeypairAuthModuleOptions,
          }),
        ),
      ),
  },
  {
    name: 'startup/hmac-key-roles-not-a-list',
    attack:
      "an HMAC key entry with roles: 'reader' (a string, not a list): read as a list of letters or as " +
      'no restriction, never as the one role meant',
    request: "forRoot({ httpSignature: { hmacKeys: { svc: { secret, username, roles: 'reader' } } } })",
    expect: REFUSED,
    run: () =>
      refusedFor(/httpSignature\.hmacKeys\["svc"\]\.roles must be a list/s, () =>
        start(() =>
          KeypairAuthModule.forRoot({
            httpSignature: {
              hmacKeys: { svc: { secret: Buffer.alloc(32, 7), username: 'alice', roles: 'reader' } },
            },
          } as unknown as KeypairAuthModuleOptions),
        ),
      ),
  },
  {
    name: 'startup/async-options-beside-factory',
    attack:
      'forRootAsync with security options beside useFactory (httpSignature.requireNonce, jwt.audience, ' +
      'throttle): they are dropped, and the app runs with nonces optional, any audience and no throttle',
    request: 'forRootAsync({ useFactory: () => ({}), httpSignature: { requireNonce: true }, jwt, throttle })',
    expect: REFUSED,
    run: () =>
      refusedFor(/httpSignature, jwt, throttle.*beside useFactory.*object useFactory returns/s, () =>
        start(() =>
          KeypairAuthModule.forRootAsync({
            useFactory: () => ({}),
            ...{
              httpSignature: { requireNonce: true },
              jwt: { audience: 'https://api.example.com' },
              throttle: {},
            },
          }),
        ),
      ),
  },
  {
    name: 'startup/async-factory-returns-nothing',
    attack:
      'a forRootAsync factory that forgot `return`: the app starts with every default instead of the ' +
      'origin and nonce policy it was configured with',
    request: 'forRootAsync({ useFactory: () => { ({ origin, httpSignature: { requireNonce: true } }); } })',
    expect: REFUSED,
    run: () =>
      refusedFor(/factory returned undefined.*return/s, () =>
        start(() =>
          KeypairAuthModule.forRootAsync({
            useFactory: (() => {
              void { origin: 'https://api.example.com', httpSignature: { requireNonce: true } };
            }) as never,
          }),
        ),
      ),
  },
];

/** Configurations the module must refuse to start with. */
export const STARTUP_SUITE = attackSuite<StartupEnv>({
  name: 'startup',
  setup: async (adapter: AdapterName) => ({ t: await createTestApp({ adapter, database: 'sqlite' }) }),
  teardown: (env) => env.t.close(),
  cases: CASES,
});
