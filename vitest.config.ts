import { defineConfig } from 'vitest/config'

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
