/** The CLI shows URLs with the same rule as the client SDK: one place decides what is secret. */
export { redactUrl } from '../client/redact-url';
