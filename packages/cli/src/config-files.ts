/**
 * The files some settings name, read and checked before the daemon starts.
 * Each throws one line about the file; the caller says which setting named it.
 */
import { readFile } from 'node:fs/promises'
import { parseSwarmKey } from '@damselfly/protocol'
import { credentialsFromDockerConfig } from '@damselfly/registry'
import type { BasicCredentials } from '@damselfly/registry'

async function readText (file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err: any) {
    throw new Error(`cannot read ${file}: ${err.message}`)
  }
}

export async function readCa (file: string): Promise<string> {
  const ca = await readText(file)
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${file} holds no PEM certificate`)
  return ca
}

export async function readDockerCredentials (file: string): Promise<Map<string, BasicCredentials>> {
  const text = await readText(file)
  let config: unknown
  try {
    config = JSON.parse(text)
  } catch (err: any) {
    throw new Error(`${file} is not JSON: ${err.message}`)
  }
  const problems: string[] = []
  const credentials = credentialsFromDockerConfig(config, problems)
  if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`)
  return credentials
}

export async function readSwarmKey (file: string): Promise<Uint8Array> {
  try {
    return parseSwarmKey(await readFile(file))
  } catch (err: any) {
    throw new Error(`${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
  }
}

export async function readApiToken (file: string): Promise<string> {
  const token = (await readText(file)).trim()
  if (!/^[\x21-\x7e]{16,}$/.test(token)) throw new Error(`${file} must hold one token of at least 16 printable characters, no spaces`)
  return token
}
