import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'
import { BaseSequencer } from 'vitest/node'
import type { TestSpecification } from 'vitest/node'
import { CHROMIUM, CHROMIUM_ARGS } from './packages/cli/test/helpers/chromium.js'

// Multi-process tests that start at most a daemon or two (or none: npm,
// helm, podman) and wait on no swarm's timing: they run two at a time beside
// the unit tests. The rest start swarms whose deadlines are part of what they
// check, and run one file at a time after them.
const QUICK_E2E = [
  'install', 'fresh-clone', 'container-image', 'deploy-helm', 'deploy-systemd', 'runtime-config', 'doctor', 'config',
  'api-guard', 'lone-daemon', 'token-auth', 'mirror-fuzz', 'seed-origins', 'tls-registry', 'one-address',
  'bench-lazy', 'private-images', 'disk-full'
].map(name => `packages/cli/test/${name}.e2e.spec.ts`)

// the quick tests' group: the same number of workers in each of its projects
const QUICK_WORKERS = 2

// the longest of them (npm installs, an image build) start first, so the
// group does not wait on one of them alone at its end
const LONG_FIRST = ['install', 'fresh-clone', 'container-image'].map(name => `/packages/cli/test/${name}.e2e.spec.ts`)

class LongFirst extends BaseSequencer {
  override async sort (files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const long = (file: TestSpecification): boolean => LONG_FIRST.some(name => file.moduleId.endsWith(name))
    return [...sorted.filter(long), ...sorted.filter(file => !long(file))]
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: LongFirst },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.spec.ts'],
          exclude: ['packages/*/test/**/*.e2e.spec.ts'],
          testTimeout: 30_000,
          maxWorkers: QUICK_WORKERS
        }
      },
      {
        test: {
          // the packages that must run anywhere, their tests again in real
          // Chromium; *.node.spec.ts files check the package from Node's side
          name: 'browser',
          include: ['packages/protocol/test/**/*.spec.ts'],
          exclude: ['packages/*/test/**/*.node.spec.ts', 'packages/*/test/**/*.e2e.spec.ts'],
          testTimeout: 30_000,
          maxWorkers: QUICK_WORKERS,
          browser: {
            enabled: true,
            headless: true,
            // Debian's chromium, with the switches that keep it off the network (packages/cli/test/helpers/chromium.ts)
            provider: playwright({
              launchOptions: {
                executablePath: CHROMIUM,
                args: [...CHROMIUM_ARGS]
              }
            }),
            instances: [{ browser: 'chromium' }]
          }
        }
      },
      {
        test: {
          name: 'e2e-quick',
          include: QUICK_E2E,
          testTimeout: 300_000,
          hookTimeout: 120_000,
          maxWorkers: QUICK_WORKERS
        }
      },
      {
        test: {
          name: 'e2e',
          include: ['packages/*/test/**/*.e2e.spec.ts'],
          exclude: QUICK_E2E,
          testTimeout: 300_000,
          hookTimeout: 120_000,
          // multi-process tests each start many daemons: run them one file at a time
          fileParallelism: false
        }
      }
    ]
  }
})
