// The local demo with its live dashboard: an embedded registry serving an
// image generated on the spot, one seed and N daemons as separate processes,
// every node pulling the image through its registry mirror at once. The
// code is the CLI's `damselfly demo`; this is what `npm start` runs.
//
//   npm start                                   5 nodes, a 256 MiB image
//   npm start -- --nodes 8 --size 512
//   npm run demo -- --nodes 3 --exit-after-pull  for scripts: exit 0 when every pull verified
import { main } from '@damselfly/cli'

process.exitCode = await main(['demo', ...process.argv.slice(2)])
