// Builds one fixed-name bundle (dist/app/main.js + dist/app/main.css) that Django serves under /static/.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/static/',
  publicDir: false,
  build: {
    outDir: 'dist',
    assetsDir: 'app',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    cssCodeSplit: false,
    rollupOptions: {
      input: 'src/main.js',
      output: {
        entryFileNames: 'app/main.js',
        chunkFileNames: 'app/[name].js',
        assetFileNames: (info) => {
          const name = (info.names && info.names[0]) || info.name || '';
          if (name.endsWith('.css')) return 'app/main.css';
          return 'app/[name][extname]';
        },
      },
    },
  },
});
