// Vite bundles the page and the Firebase SDK's modules into content-hashed files in
// ../build/web (served by the gateway under /app/), and copies the API docs' scripts there.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

// Served at /app/vendor/...; app/web/docs.py points Swagger UI and ReDoc at them.
const VENDOR_FILES = {
  'vendor/swagger-ui/swagger-ui-bundle.js': { from: 'swagger-ui-dist/swagger-ui-bundle.js' },
  'vendor/swagger-ui/swagger-ui.css': { from: 'swagger-ui-dist/swagger-ui.css' },
  'vendor/swagger-ui/LICENSE': { from: 'swagger-ui-dist/LICENSE' },
  'vendor/redoc/redoc.standalone.js': {
    from: 'redoc/bundles/redoc.standalone.js',
    // ReDoc's sidebar shows a logo from Redocly's CDN, with no option to turn it off.
    rewrite: [['https://cdn.redoc.ly/redoc/logo-mini.svg', '/app/vendor/redoc/logo-mini.svg']],
  },
  'vendor/redoc/LICENSE': { from: 'redoc/LICENSE' },
};
// Their source maps are not shipped: drop the comments that would make devtools ask for them.
const SOURCE_MAP_COMMENT = /\n?\/[/*]# sourceMappingURL=\S+(?: \*\/)?\s*$/;

function vendorFiles() {
  return {
    name: 'snapmatch-vendor-files',
    apply: 'build',
    generateBundle() {
      for (const [fileName, { from, rewrite = [] }] of Object.entries(VENDOR_FILES)) {
        const path = fileURLToPath(new URL(`node_modules/${from}`, import.meta.url));
        let text = readFileSync(path, 'utf8').replace(SOURCE_MAP_COMMENT, '\n');
        for (const [remote, local] of rewrite) {
          if (!text.includes(remote)) this.error(`${from} no longer contains ${remote}`);
          text = text.replaceAll(remote, local);
        }
        this.emitFile({ type: 'asset', fileName, source: text });
      }
    },
  };
}

export default defineConfig({
  base: '/app/',
  build: {
    outDir: '../build/web',
    emptyOutDir: true,
    // No data: URIs: the page's Content-Security-Policy allows images from 'self' and blob: only.
    assetsInlineLimit: 0,
    target: 'es2022',
  },
  plugins: [vendorFiles()],
});
