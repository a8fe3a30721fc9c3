// Bundles entry.js and nunjitsu into one IIFE for es2017 that goja runs.
// node:util and node:crypto are replaced by the small shims in shims/.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { readFile } from 'node:fs/promises';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || path.join(here, '..', 'bundle', 'nunjucks.js');

const shims = {
  name: 'node-shims',
  setup(b) {
    b.onResolve({ filter: /^node:(util|crypto)$/ }, (args) => ({
      path: path.join(here, 'shims', args.path.slice('node:'.length) + '.js'),
    }));
  },
};

// nunjitsu's + and ~ build their string before any limit sees it: wrap
// both so a doubling concatenation stops at guards.js's MAX_STRING. The
// build fails if nunjitsu's code no longer has these functions, so an
// upgrade cannot drop the guard unseen.
const guardConcat = {
  name: 'guard-concat',
  setup(b) {
    b.onLoad({ filter: /nunjitsu[\\/]dist[\\/]index\.c?js$/ }, async (args) => {
      let src = await readFile(args.path, 'utf8');
      for (const fn of ['runtimeAdd', 'runtimeConcat']) {
        const head = `function ${fn}(left, right, chargeWork) {`;
        if (!src.includes(head)) {
          throw new Error(`nunjitsu has no ${fn}: update the concatenation guard in build.mjs`);
        }
        src = src.replace(head, `function ${fn}(left, right, chargeWork) { return __backlotCheckLength(${fn}Unguarded(left, right, chargeWork)); }\nfunction ${fn}Unguarded(left, right, chargeWork) {`);
      }
      const guards = JSON.stringify(path.join(here, 'guards.js'));
      return { contents: `import { checkLength as __backlotCheckLength } from ${guards};\n` + src, loader: 'js' };
    });
  },
};

await build({
  entryPoints: [path.join(here, 'entry.js')],
  bundle: true,
  format: 'iife',
  target: 'es2017',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  conditions: ['import', 'default'],
  legalComments: 'inline',
  outfile: out,
  plugins: [shims, guardConcat],
  inject: [path.join(here, 'shims', 'buffer.js')],
  logLevel: 'warning',
});
