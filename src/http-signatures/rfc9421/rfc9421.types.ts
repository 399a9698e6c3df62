/** Parameters of a component identifier (RFC 9421 §2.1, §2.2.8, §2.4); `tr` is refused. */
export interface ComponentParameters {
  /** @query-param: the re-encoded parameter name. */
  readonly name?: string;
  /** Dictionary member of a structured field. */
  readonly key?: string;
  /** Strict structured-field serialization. */
  readonly sf?: boolean;
  /** Each field line wrapped as a byte sequence. */
  readonly bs?: boolean;
  /** Taken from the related request (responses only). */
  readonly req?: boolean;
}

/** A covered component as a signer names it. Parameters keep their insertion order. */
export interface ComponentIdentifier {
  /** Lowercase field name, or a derived component name starting with "@". */
  readonly name: string;
  readonly params?: ComponentParameters;
}

/** A covered component as parsed, with its serialized identifier ("content-digest", "@authority";req). */
export interface CoveredComponent extends ComponentIdentifier {
  readonly params: ComponentParameters;
  /** The identifier as it appears at the start of its signature base line. */
  readonly identifier: string;
}

/** The signature parameters RFC 9421 registers (§2.3). Others are kept in the raw value only. */
export interface SignatureParameters {
  readonly created?: number;
  readonly expires?: number;
  readonly nonce?: string;
  readonly alg?: string;
  readonly keyid?: string;
  readonly tag?: string;
}

/** One signature of a message: a Signature-Input member and its Signature member. */
export interface Rfc9421Signature {
  readonly label: string;
  readonly components: readonly CoveredComponent[];
  readonly params: SignatureParameters;
  /** The inner list with its parameters exactly as received: the @signature-params value. */
  readonly signatureParamsValue: string;
  readonly signature: Buffer;
}

/** Limits applied while parsing; the defaults suit any real client. */
export interface Rfc9421Limits {
  /** Per field (all lines of Signature-Input, or of Signature), in characters. Default 8192. */
  readonly maxHeaderLength?: number;
  /** Default 8. */
  readonly maxSignatures?: number;
  /** Per signature. Default 32. */
  readonly maxComponents?: number;
}

export const DEFAULT_RFC9421_LIMITS: Required<Rfc9421Limits> = {
  maxHeaderLength: 8192,
  maxSignatures: 8,
  maxComponents: 32,
};
