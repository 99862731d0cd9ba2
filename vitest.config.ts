import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'
import { CHROMIUM, CHROMIUM_ARGS } from './packages/cli/test/helpers/chromium.js'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.spec.ts'],
          exclude: ['packages/*/test/**/*.e2e.spec.ts'],
          testTimeout: 30_000
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
          name: 'e2e',
          include: ['packages/*/test/**/*.e2e.spec.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          // multi-process tests each start many daemons: run them one file at a time
          fileParallelism: false
        }
      }
    ]
  }
})
