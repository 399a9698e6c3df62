/**
 * Query parameters whose value is a credential, shown as *** in every message the CLI and the
 * client SDK print: any name containing one of these words, case-insensitive, whatever the
 * separators (`access_token`, `access-token`, `private_token`, `X-Amz-Signature`, `x-api-key`,
 * `client_assertion`, `jwt`, `sig`, `password`, `credential`, `session`…), and `code`.
 */
export const SECRET_PARAMETER =
  /pass|pwd|secret|token|key|auth|cert|sig|jwt|assertion|credential|session|^code$/i;

/**
 * `url` as the CLI and the SDK repeat it in a message: a user name and password become ***, and so do
 * the values of secret-looking query parameters (`?access_token=…`, `?api_key=…`, `?sig=…`).
 * Text that is not a URL is returned as it is.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  let changed = false;
  if (parsed.username || parsed.password) {
    parsed.username = '***';
    parsed.password = '';
    changed = true;
  }
  if (parsed.search) {
    // `&` and `;` both separate parameters for some servers; a name is matched trimmed and
    // without a trailing `[]` (`code[]`, `code%20`).
    parsed.search = parsed.search.slice(1).replace(/[^&;]+/g, (pair) => {
      const eq = pair.indexOf('=');
      const name = parameterName(pair.slice(0, Math.max(eq, 0)))
        .trim()
        .replace(/\[\]$/, '');
      if (eq < 0 || !SECRET_PARAMETER.test(name)) return pair;
      changed = true;
      return `${pair.slice(0, eq)}=***`;
    });
  }
  // A fragment never reaches the server, but OAuth's implicit flow puts tokens there: hide it whole.
  if (parsed.hash) {
    parsed.hash = '***';
    changed = true;
  }
  // Unchanged, it is shown as the user wrote it (URL would add a trailing /).
  return changed ? parsed.href : url;
}

function parameterName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}
