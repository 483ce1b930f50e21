// Bundles index.jsx with GraphiQL, React and their CSS (fonts inlined) into ../graphiql.js
// and ../graphiql.css: self-contained files the Rust binary embeds. Run with `npm run build`.
import * as esbuild from 'esbuild';

await esbuild.build({
  entryPoints: { graphiql: 'index.jsx' },
  outdir: '..',
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  // Fonts and images go into the CSS as data: URLs, so nothing is fetched but the two files.
  loader: { '.woff2': 'dataurl', '.woff': 'dataurl', '.ttf': 'dataurl', '.svg': 'dataurl', '.png': 'dataurl' },
  sourcemap: false,
  legalComments: 'eof',
  logLevel: 'info',
});
