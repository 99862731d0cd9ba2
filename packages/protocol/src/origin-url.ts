import { InvalidUrlError } from './errors.js'

/**
 * An origin URL a blob may be pulled from: http or https, and without a user
 * or password, because the URL travels to seeds and credentials stay with the
 * seed that holds them. Throws InvalidUrlError saying what is wrong.
 */
export function parseOriginUrl (input: string): URL {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw new InvalidUrlError(`URL ${JSON.stringify(String(input).slice(0, 200))} is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidUrlError(`URL scheme ${url.protocol} is not http or https`)
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidUrlError('URL must not carry credentials: configure them on the seed instead')
  }
  return url
}
