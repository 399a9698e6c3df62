import { createConnection } from 'node:net';
import type { SendResult } from '../support/certificates';
import type { AdapterName, TestApp } from '../support/test-app';

/**
 * The expected refusal: an HTTP status and the `code` of the body (null when Node itself
 * refuses, before the app). Status 0 is a refusal to start: the case tried a configuration
 * that the module must not run with, and `code` names the error (see `startupRefusal`).
 */
export interface Refusal {
  readonly status: number;
  readonly code: string | null;
}

/**
 * One attack: what the attacker tries, what is sent, and how it must be refused.
 * `run` sends the request (after any legitimate priming, e.g. the first use of a
 * token that is then replayed) and returns the answer to the attack itself.
 */
export interface AttackCase<Env> {
  /** Unique, `strategy/what`. */
  readonly name: string;
  readonly attack: string;
  readonly request: string;
  readonly expect: Refusal;
  /**
   * Where the attack applies, when only one router can be led to serve it (the other
   * already refuses it before the guard, e.g. with a 404); every adapter when absent.
   */
  readonly adapters?: readonly AdapterName[];
  readonly run: (env: Env) => Promise<SendResult>;
}

export interface Outcome {
  readonly name: string;
  readonly where: string;
  readonly expected: Refusal;
  readonly status: number;
  readonly code: string | null;
  readonly ok: boolean;
}

/** Whether an answer is the expected refusal: the exact status and code, never 2xx or 5xx but 503. */
export function judge(expected: Refusal, res: SendResult): { ok: boolean; code: string | null } {
  const code = typeof res.body.code === 'string' ? res.body.code : null;
  // 503 is the one 5xx that is a refusal: the outage answer of a store that cannot vouch for a request.
  const refused =
    expected.status === 0 ? res.status === 0 : res.status >= 400 && (res.status < 500 || res.status === 503);
  const ok = res.status === expected.status && code === expected.code && refused;
  return { ok, code };
}

/**
 * Runs `start` (which builds an app with a configuration an attacker would profit from)
 * and turns its outcome into an answer `judge` can read: status 0 with the error's `code`
 * (or its class name) when the module refused to start, else status 200 with code
 * `STARTED`, which no case expects. Whatever `start` built is closed by `start` itself.
 */
export async function startupRefusal(start: () => Promise<void>): Promise<SendResult> {
  try {
    await start();
  } catch (error) {
    const e = error as { code?: unknown; name?: string };
    const code = typeof e.code === 'string' ? e.code : (e.name ?? 'Error');
    return { status: 0, headers: {}, text: String((error as Error).message), body: { code } };
  }
  return { status: 200, headers: {}, text: '', body: { code: 'STARTED' } };
}

/** Collects outcomes of every run and prints the summary lines. */
export class AttackRecorder {
  readonly outcomes: Outcome[] = [];
  readonly skipped: { name: string; why: string }[] = [];

  record(outcome: Outcome): void {
    this.outcomes.push(outcome);
  }

  /**
   * One line per place the corpus ran (each adapter, the two-instance setup), then the
   * total over distinct cases: a case counts as refused as expected only if it was
   * refused as expected everywhere it ran.
   */
  summary(): string[] {
    const lines: string[] = [];
    const wheres = [...new Set(this.outcomes.map((o) => o.where))];
    for (const where of wheres) {
      const here = this.outcomes.filter((o) => o.where === where);
      const good = here.filter((o) => o.ok).length;
      lines.push(
        `attacks[${where}]: ${here.length} cases, ${good} refused as expected, ${here.length - good} unexpected`,
      );
    }
    const byName = new Map<string, boolean>();
    for (const o of this.outcomes) byName.set(o.name, (byName.get(o.name) ?? true) && o.ok);
    const good = [...byName.values()].filter(Boolean).length;
    for (const o of this.outcomes.filter((x) => !x.ok)) {
      lines.push(
        `  unexpected: ${o.name} on ${o.where}: got ${o.status} ${o.code ?? '-'}, expected ${o.expected.status} ${o.expected.code ?? '-'}`,
      );
    }
    const skipped = this.skipped.length
      ? ` (${this.skipped.length} skipped: ${[...new Set(this.skipped.map((s) => s.why))].join('; ')})`
      : '';
    lines.push(
      `attacks: ${byName.size} cases, ${good} refused as expected, ${byName.size - good} unexpected${skipped}`,
    );
    return lines;
  }
}

/**
 * Bytes straight onto a TCP connection, for what Node's HTTP client refuses to send
 * (a NUL in a header). Resolves with the status, the raw head (as `headers.raw`) and the body.
 */
export function rawRequest(port: number, text: string): Promise<SendResult> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      const [head, ...rest] = data.split('\r\n\r\n');
      const bodyText = rest.join('\r\n\r\n');
      let body: SendResult['body'] = {};
      try {
        body = JSON.parse(bodyText) as SendResult['body'];
      } catch {
        body = {};
      }
      resolve({ status, headers: { raw: head }, text: bodyText, body });
    });
    socket.write(text, 'latin1');
    setTimeout(() => socket.end(), 200);
  });
}

/** Fails the case unless the refusal was logged with this reason (so the named check, not another, fired). */
export function loggedReason(env: { t: TestApp }, reason: string) {
  return (res: SendResult): SendResult => {
    const last = env.t.logs.failures().at(-1);
    if (!last?.reason.includes(reason))
      throw new Error(`expected the reason "${reason}", logged: ${last?.reason ?? 'nothing'}`);
    return res;
  };
}
