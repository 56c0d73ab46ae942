// Reads the Parquet files of an export directory with DuckDB, an independent Parquet implementation, and checks them
// against the manifest: each shard's row count, distinct keys, and for the Parquet layout fixed-width float lists of
// unit length and the model's step and fingerprint in the key-value metadata. The .npy files are checked by
// export_check.py with numpy. Given a Parquet-layout export of the same checkpoint and shards as a second argument,
// a clip-retrieval export's rows are also checked for alignment: row i of img_emb_N.npy and text_emb_N.npy must be
// the float16 copy of the embeddings that the Parquet layout stores beside the key on row i of metadata_N.parquet.
//
// Setup, once, in a scratch folder outside the repository:
//   mkdir -p /tmp/duck && cd /tmp/duck && npm init -y && npm install @duckdb/node-api
// Run from that folder:
//   node REPO/tests/reference/export_check.mjs EXPORT_DIR/embeddings [PARQUET_EXPORT_DIR/embeddings]
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.cwd(), 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const [dir, reference] = process.argv.slice(2);

// .npy version 1, float16, C order: magic, version, header length, a dict with the shape, then the values.
function readNpyFloat16(file) {
  const bytes = readFileSync(file);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.toString('latin1', 10, 10 + headerLength);
  if (!header.includes("'descr': '<f2'")) throw new Error(`${file}: not float16: ${header}`);
  const [rows, width] = header.match(/'shape': \((\d+), (\d+)\)/).slice(1).map(Number);
  const half = h => {
    const sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
    if (exponent === 0) return sign * fraction * 2 ** -24;
    if (exponent === 31) return fraction ? NaN : sign * Infinity;
    return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  };
  const values = [];
  for (let i = 0; i < rows; i++) {
    const start = 10 + headerLength + 2 * i * width;
    values.push(Array.from({ length: width }, (_, j) => half(bytes.readUInt16LE(start + 2 * j))));
  }
  return values;
}
const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const db = await DuckDBInstance.create(':memory:');
const connection = await db.connect();
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
const quote = p => `'${p.replaceAll("'", "''")}'`;
const keys = new Set();

for (const shard of manifest.shards) {
  const file = shard.files.map(f => f.path).find(p => p.endsWith('.parquet'));
  const full = quote(path.join(dir, file));
  const rows = (await connection.runAndReadAll(`SELECT key FROM read_parquet(${full})`)).getRowObjects();
  check(rows.length === shard.rows, `${file}: ${rows.length} rows, the manifest says ${shard.rows}`);
  rows.forEach(r => keys.add(r.key));
  if (manifest.layout !== 'parquet') continue;
  for (const column of ['image_embedding', 'text_embedding']) {
    const present = (await connection.runAndReadAll(
      `SELECT count(*) AS n FROM (DESCRIBE SELECT * FROM read_parquet(${full})) WHERE column_name = '${column}'`))
      .getRowObjects()[0].n;
    if (Number(present) === 0) continue;
    const r = (await connection.runAndReadAll(`
      SELECT min(len(${column})) AS min_width, max(len(${column})) AS max_width,
             max(abs(sqrt(list_sum(list_transform(${column}, x -> x * x))) - 1)) AS norm_error
      FROM read_parquet(${full})`)).getRowObjects()[0];
    check(Number(r.min_width) === manifest.dimension && Number(r.max_width) === manifest.dimension,
      `${file}: ${column} widths ${r.min_width}..${r.max_width}`);
    check(r.norm_error < 1e-4, `${file}: ${column} norm error ${r.norm_error}`);
  }
  const kv = (await connection.runAndReadAll(`
    SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(${full})`)).getRowObjects();
  const meta = Object.fromEntries(kv.map(r => [r.key, r.value]));
  const step = meta['dataflowcontrastive.step'];
  check(step === String(manifest.model.step), `${file}: step ${step}`);
  check(meta['dataflowcontrastive.checkpoint_fingerprint'] === manifest.model.fingerprint, `${file}: fingerprint`);
}
if (reference && manifest.layout === 'clip-retrieval') {
  const glob = quote(path.join(reference, 'embeddings-*.parquet'));
  const byKey = new Map((await connection.runAndReadAll(
    `SELECT key, image_embedding, text_embedding FROM read_parquet(${glob})`)).getRowObjects()
    .map(r => [r.key, r]));
  let worst = 0;
  for (const shard of manifest.shards) {
    const metadata = quote(path.join(dir, 'metadata', `metadata_${shard.number}.parquet`));
    const keyed = (await connection.runAndReadAll(`SELECT key FROM read_parquet(${metadata})`)).getRowObjects();
    for (const [kind, column] of [['img', 'image_embedding'], ['text', 'text_embedding']]) {
      const rows = readNpyFloat16(path.join(dir, `${kind}_emb`, `${kind}_emb_${shard.number}.npy`));
      check(rows.length === keyed.length, `${kind}_emb_${shard.number}: ${rows.length} rows, metadata ${keyed.length}`);
      rows.forEach((row, i) => {
        const expected = byKey.get(keyed[i].key)[column].items;
        row.forEach((x, j) => { worst = Math.max(worst, Math.abs(x - expected[j])); });
      });
    }
  }
  check(worst < 1e-3, `an npy row differs from its key's embedding by ${worst}`);
  console.log(`row alignment against ${reference}: max |float16 - float32| = ${worst.toExponential(2)}`);
}
check(keys.size === manifest.rows, `${keys.size} distinct keys over ${manifest.rows} rows`);
console.log(`${manifest.shards.length} shards, ${manifest.rows} rows, ${keys.size} distinct keys, ` +
  `layout ${manifest.layout}`);
console.log(failures.length === 0 ? 'OK: DuckDB reads the export as expected' : failures.join('\n'));
process.exit(failures.length === 0 ? 0 : 1);
