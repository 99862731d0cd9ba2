function editDistance (a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    row = next
  }
  return row[b.length]!
}

/** `; did you mean X?` for a near miss among `candidates` (case, `-` and `_` aside), else nothing. */
export function didYouMean (name: string, candidates: Iterable<string>): string {
  const plain = (s: string): string => s.toLowerCase().replace(/[-_]/g, '')
  const [distance, best] = [...candidates].map(c => [plain(c) === plain(name) ? 0 : editDistance(name, c), c] as const).sort((a, b) => a[0] - b[0])[0] ?? []
  return distance != null && distance < 3 ? `; did you mean ${best}?` : ''
}
