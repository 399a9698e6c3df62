import { Controller, Get } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import {
  dataSourceOptionsFromUrl,
  KeypairAuthModule,
  KeypairAuthModuleOptions,
  Public,
  ResponseSigner,
  ServerKeyring,
  SignResponse,
} from '../../src';
import { testKey } from '../support/keys';

const typeorm = () =>
  TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true });

@Controller()
class SignedController {
  @Public()
  @SignResponse()
  @Get('signed')
  signed() {
    return { ok: true };
  }
}

const pem = (key: { privateKey: { export(o: object): string | Buffer } }) =>
  key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const rsa = (bits: number) => pem(generateKeyPairSync('rsa', { modulusLength: bits }));

/** Compiles an app with these options; resolves to the compiled module. */
const compile = (options: KeypairAuthModuleOptions) =>
  Test.createTestingModule({
    imports: [typeorm(), KeypairAuthModule.forRoot({ jwksEndpoint: true, ...options })],
    controllers: [SignedController],
  }).compile();

describe('server keys and responseSigning options are checked at startup', () => {
  it.each([512, 1024, 2047])(
    'refuses an RSA-%i server key, as a client key is refused (KEY_TOO_WEAK), and names the fix',
    async (bits) => {
      await expect(
        compile({ responseSigning: { keys: [{ keyId: 'weak', privateKey: rsa(bits) }] }, tokens: {} }),
      ).rejects.toThrow(
        new RegExp(
          `responseSigning\\.keys key "weak" is refused \\(KEY_TOO_WEAK\\): RSA keys must be at least 2048 bits; ` +
            `this one has ${bits}\\..*RSA of 2048 bits or more, or ECDSA P-256, P-384 or Ed25519`,
          's',
        ),
      );
    },
  );

  it('refuses a weak key even when it is an older key of the ring (published and still verifying)', async () => {
    const keys = [
      { keyId: 'new', privateKey: testKey('ed25519').privatePem },
      { keyId: 'old', privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey },
    ];
    expect(() => new ServerKeyring(keys)).toThrow(/key "old" is refused \(KEY_TOO_WEAK\)/);
  });

  it('starts with RSA-2048, P-256, P-384 and Ed25519 server keys and publishes them all', async () => {
    const moduleRef = await compile({
      responseSigning: {
        keys: [
          { keyId: 'ed', privateKey: testKey('ed25519').privatePem },
          { keyId: 'p256', privateKey: testKey('p256').privatePem },
          { keyId: 'p384', privateKey: testKey('p384').privatePem },
          { keyId: 'rsa', privateKey: testKey('rsa').privatePem },
        ],
      },
      tokens: {},
    });
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const res = await request(app.getHttpServer()).get('/.well-known/jwks.json').expect(200);
    expect(res.body.keys.map((k: { kid: string; alg: string }) => [k.kid, k.alg])).toEqual([
      ['ed', 'EdDSA'],
      ['p256', 'ES256'],
      ['p384', 'ES384'],
      ['rsa', 'RS256'],
    ]);
    await app.close();
  });

  it.each([
    ['clé-2026', 'clé-2026'],
    ['server 1', 'server 1'],
    ['empty', ''],
    ['of 256 characters', 'x'.repeat(256)],
  ])('refuses the server keyId %s, saying which characters are allowed', async (_name, keyId) => {
    await expect(
      compile({ responseSigning: { keys: [{ keyId, privateKey: testKey('ed25519').privatePem }] } }),
    ).rejects.toThrow(/keyId .*is not a valid keyId\. A keyId is 1 to 255 printable ASCII characters/);
  });

  it.each(['Res 1', 'Res', '1res', ''])(
    'refuses the response signature label %j, saying which characters are allowed',
    async (label) => {
      await expect(
        compile({
          responseSigning: { keys: [{ keyId: 's1', privateKey: testKey('ed25519').privatePem }], label },
        }),
      ).rejects.toThrow(
        /responseSigning\.label .* cannot label a signature\. A label starts with a lowercase letter/,
      );
      expect(
        () =>
          new ResponseSigner({ keys: [{ keyId: 's1', privateKey: testKey('ed25519').privatePem }], label }),
      ).toThrow(/cannot label a signature/);
    },
  );

  it('signs with a valid custom label ("sig-2026.a") and a punctuated ASCII keyId', async () => {
    const moduleRef = await compile({
      responseSigning: {
        keys: [{ keyId: 'server/2026:11~a', privateKey: testKey('ed25519').privatePem }],
        label: 'sig-2026.a',
      },
    });
    const app = moduleRef.createNestApplication({ rawBody: true, logger: false });
    await app.init();
    const res = await request(app.getHttpServer()).get('/signed').expect(200);
    expect(res.headers['signature-input']).toMatch(/^sig-2026\.a=\(.*keyid="server\/2026:11~a"/);
    await app.close();
  });

  it('refuses an unknown responseSigning option (a typo), listing the known ones', async () => {
    await expect(
      compile({
        responseSigning: { keys: [{ keyId: 's1', privateKey: testKey('ed25519').privatePem }], lable: 'x' },
      } as KeypairAuthModuleOptions),
    ).rejects.toThrow(/unknown option responseSigning\.lable\. Known options: keys, label\./);
  });

  it('refuses responseSigning.global, pointing at @SignResponse() and signAllResponses', async () => {
    await expect(
      compile({
        responseSigning: { keys: [{ keyId: 's1', privateKey: testKey('ed25519').privatePem }], global: true },
      } as KeypairAuthModuleOptions),
    ).rejects.toThrow(/responseSigning\.global is not an option.*@SignResponse\(\).*signAllResponses: true/s);
  });

  it('refuses a responseSigning that is not an object', async () => {
    await expect(compile({ responseSigning: null } as unknown as KeypairAuthModuleOptions)).rejects.toThrow(
      /responseSigning must be an object/,
    );
  });
});
