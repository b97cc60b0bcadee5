import { defineConfig } from 'vitest/config'

const shared = {
  // Worker threads (the hash pool) and native drivers are happiest in child processes.
  pool: 'forks' as const,
  testTimeout: 60_000,
  hookTimeout: 60_000,
}

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: ['test/store-restart.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      // Restarts the shared database servers: it runs alone, after everything else.
      { test: { ...shared, name: 'restart', include: ['test/store-restart.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
})
