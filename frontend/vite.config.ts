import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

// The backend serves the bundle: index.html for the page routes, assets under /assets/.
const outDir = fileURLToPath(new URL('../service/static/app', import.meta.url))

export default defineConfig({
  base: '/',
  plugins: [vue()],
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: 'assets',
    // No CDN, no internet at run time: everything is bundled.
    chunkSizeWarningLimit: 900,
  },
  server: {
    port: 5173,
    proxy: {
      '/api': 'http://127.0.0.1:8765',
      '/ws': { target: 'ws://127.0.0.1:8765', ws: true },
    },
  },
  test: {
    environment: 'node',
    include: ['tests/**/*.test.ts'],
  },
})
