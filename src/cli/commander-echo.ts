/**
 * The options whose value may be a secret: a header (`-H 'Authorization: …'`), a body, a URL
 * (credentials or `?access_token=`), a passphrase. Commander repeats an invalid value in
 * its message (`option '-H, --header <header>' argument 'VALUE' is invalid`); for these the
 * value is replaced by `…`.
 */
const SECRET_VALUED =
  /(^|[\s,'])(-H|--header|-d|--data|--url|--verify-with|--password|--passphrase)\b|<url>|'url'/;

/**
 * Commander's error `message` with the argv values it echoes that may be secrets taken out:
 * - an unknown option written with its value, `--passphrase=SECRET` (ssh's word, a natural
 *   guess) → `--passphrase=…`, and a short one with its value attached, `-pSECRET` → `-p…`;
 * - the value of an invalid argument of an option or argument that may carry a secret.
 * Commander has no hook for these messages other than the text it writes, hence the patterns;
 * test/cli/cli-wrong-inputs.e2e-spec.ts checks them against the commander in use.
 */
export function redactCommanderEcho(message: string): string {
  return message
    .replace(/(unknown option '--[^'=]*)=[^']*'/g, "$1=…'")
    .replace(/(unknown option '-[^-'])[^']+'/g, "$1…'")
    .replace(
      /(option '[^']*' argument |command-argument value )'[^']*'( is invalid(?: for argument '[^']*')?)/g,
      (whole: string, before: string, after: string) =>
        SECRET_VALUED.test(`${before}${after}`) ? `${before}'…'${after}` : whole,
    );
}
