export class InvalidDigestError extends Error {
  static override name = 'InvalidDigestError'
  override name = 'InvalidDigestError'
}

export class MessageTooLargeError extends Error {
  static override name = 'MessageTooLargeError'
  override name = 'MessageTooLargeError'
}

export class MalformedMessageError extends Error {
  static override name = 'MalformedMessageError'
  override name = 'MalformedMessageError'
}

export class InvalidManifestError extends Error {
  static override name = 'InvalidManifestError'
  override name = 'InvalidManifestError'
}

export class BlobTooLargeError extends Error {
  static override name = 'BlobTooLargeError'
  override name = 'BlobTooLargeError'
}

export class InvalidUrlError extends Error {
  static override name = 'InvalidUrlError'
  override name = 'InvalidUrlError'
}

export class InvalidSwarmKeyError extends Error {
  static override name = 'InvalidSwarmKeyError'
  override name = 'InvalidSwarmKeyError'
}

/** A well-formed, validly signed manifest part by a signer this node does not trust: ignored, not a fault of the sender. */
export class UntrustedSignerError extends Error {
  static override name = 'UntrustedSignerError'
  override name = 'UntrustedSignerError'
}
