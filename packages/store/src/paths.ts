import { join } from 'node:path'

/** Where the store keeps things under its data directory. */
export interface StoreDirs {
  partial: string
  complete: string
}

export function storeDirs (dataDir: string): StoreDirs {
  return {
    partial: join(dataDir, 'partial'),
    complete: join(dataDir, 'blobs', 'sha256')
  }
}

/** The files of one blob, partial and complete. */
export interface BlobPaths {
  partialDir: string
  partialData: string
  partialBitfield: string
  partialLayout: string
  partialManifest: string
  completeData: string
  completeManifest: string
}

export function blobPaths (dirs: StoreDirs, hex: string): BlobPaths {
  const partialDir = join(dirs.partial, hex)
  return {
    partialDir,
    partialData: join(partialDir, 'data'),
    partialBitfield: join(partialDir, 'bitfield'),
    partialLayout: join(partialDir, 'layout.json'),
    partialManifest: join(partialDir, 'manifest'),
    completeData: join(dirs.complete, hex),
    completeManifest: join(dirs.complete, `${hex}.manifest`)
  }
}
