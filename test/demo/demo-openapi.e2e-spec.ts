import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYPAIR_AUTH_SECURITY_SCHEMES } from '../../src';
import { DemoProcess, startDemo } from '../support/processes';

/** The demo's own routes in its OpenAPI document (/docs/json): the library's ways in, a summary, the guard's errors. */
interface Operation {
  summary?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, unknown>;
}

describe('demo OpenAPI: its own routes are described as the guard lets them in', () => {
  let dir: string;
  let demo: DemoProcess;
  let doc: {
    paths: Record<string, Record<string, Operation>>;
    components: { securitySchemes?: Record<string, unknown> };
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpa-demo-openapi-'));
    demo = await startDemo({ DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}` });
    doc = (await (await fetch(`${demo.url}/docs/json`)).json()) as typeof doc;
  });
  afterAll(async () => {
    await demo.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const guarded = [
    ['/whoami', 'get'],
    ['/echo', 'post'],
    ['/accounts', 'get'],
    ['/transfers', 'get'],
    ['/transfers', 'post'],
  ] as const;

  it.each(guarded)(
    '%s %s takes any of the library’s ways in, has a summary and the guard’s 401',
    (path, method) => {
      const op = doc.paths[path][method];
      expect(op.summary).toMatch(/\w{3,}/);
      expect(op.security).toEqual(
        expect.arrayContaining(
          Object.values(KEYPAIR_AUTH_SECURITY_SCHEMES).map((scheme) => ({ [scheme]: [] })),
        ),
      );
      expect(op.security).toEqual(doc.paths['/admin/users'].get.security);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401']));
    },
  );

  it('GET /health is public: no security requirement, a summary, 200 and 503', () => {
    const op = doc.paths['/health'].get;
    expect(op.summary).toMatch(/\w{3,}/);
    expect(op.security ?? []).toEqual([]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '503']));
  });

  it('names only the library’s security schemes (no bare "bearer" scheme)', () => {
    expect(Object.keys(doc.components.securitySchemes ?? {}).sort()).toEqual(
      Object.values(KEYPAIR_AUTH_SECURITY_SCHEMES).sort(),
    );
  });
});
