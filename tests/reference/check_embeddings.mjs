// Reads the embedding shards of a run with DuckDB, an independent Parquet implementation, and checks what a
// downstream job relies on: one row per sample, distinct keys, fixed-width float lists, unit norms.
//
// Setup, once, in a scratch folder outside the repository:
//   mkdir -p /tmp/duck && cd /tmp/duck && npm init -y && npm install @duckdb/node-api
// Run from that folder:
//   node REPO/tests/reference/check_embeddings.mjs EMBEDDINGS_DIR EXPECTED_ROWS EXPECTED_WIDTH
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.cwd(), 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const [dir, expectedRows, expectedWidth] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const connection = await db.connect();
const glob = path.join(dir, 'embeddings-*.parquet').replaceAll("'", "''");
const result = await connection.runAndReadAll(`
  SELECT count(*) AS rows,
         count(DISTINCT key) AS keys,
         min(len(image_embedding)) AS min_image_width, max(len(image_embedding)) AS max_image_width,
         min(len(text_embedding)) AS min_text_width, max(len(text_embedding)) AS max_text_width,
         max(abs(sqrt(list_sum(list_transform(image_embedding, x -> x * x))) - 1)) AS image_norm_error,
         max(abs(sqrt(list_sum(list_transform(text_embedding, x -> x * x))) - 1)) AS text_norm_error,
         count(DISTINCT step) AS steps
  FROM read_parquet('${glob}')`);
const r = result.getRowObjects()[0];
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
check(Number(r.rows) === Number(expectedRows), `rows ${r.rows} != ${expectedRows}`);
check(Number(r.keys) === Number(r.rows), `keys ${r.keys} are not distinct over ${r.rows} rows`);
for (const w of [r.min_image_width, r.max_image_width, r.min_text_width, r.max_text_width]) {
  check(Number(w) === Number(expectedWidth), `a list is ${w} wide, not ${expectedWidth}`);
}
check(r.image_norm_error < 1e-4 && r.text_norm_error < 1e-4,
  `norm errors ${r.image_norm_error} / ${r.text_norm_error}`);
check(Number(r.steps) === 1, `${r.steps} distinct steps`);
console.log(JSON.stringify(r, (_, v) => typeof v === 'bigint' ? Number(v) : v));
console.log(failures.length === 0 ? 'OK: DuckDB reads the embedding shards as expected' : failures.join('\n'));
process.exit(failures.length === 0 ? 0 : 1);
