// Reference files and checks for the Ingest area, made with DuckDB (an independent Parquet implementation).
//
// Setup, once, in a scratch folder outside the repository:
//   mkdir -p /tmp/duck && cd /tmp/duck && npm init -y && npm install @duckdb/node-api
// Run from that folder (the module is resolved from the current folder):
//   node REPO/tests/reference/ingest_duckdb.mjs write OUT_DIR
//       writes the same 3,000 rows (formulas below, repeated in DuckDbShardTests.cs) with snappy, zstd and gzip,
//       data page v1 and v2, dictionary encoding on, 2,048-row row groups; and one shard in the Hugging Face
//       image layout.
//   node REPO/tests/reference/ingest_duckdb.mjs bugfiles SHARED_BUGS_DIR OUT_JSON
//       reads the Parquet files of shared/bugs/parquet that DuckDB can read and stores what a reader must find.
//   node REPO/tests/reference/ingest_duckdb.mjs check SHARD_DIR COCO_DIR
//       reads shards written by `dfc pack` from COCO and compares every row with COCO's captions files and
//       image files; prints one line per mismatch and a summary.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.cwd(), 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const db = await DuckDBInstance.create(':memory:');
const connection = await db.connect();
const rows = async (sql) => (await connection.runAndReadAll(sql)).getRowObjects();
const quote = (text) => `'${text.replaceAll("'", "''")}'`;

// The rows, as formulas of i = 0..2999. Keep in step with DuckDbShardTests.cs.
const FLAT_ROWS = `
  SELECT
    CASE WHEN i % 13 = 0 THEN NULL ELSE encode('img-' || i) END AS image,
    CASE WHEN i % 7 = 0 THEN NULL ELSE 'caption ' || (i % 50) || ' 猫 😴' END AS caption,
    CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 10)::INTEGER END AS label,
    'k' || i AS key
  FROM range(3000) t(i)`;

const HF_ROWS = `
  SELECT
    {'bytes': encode('img-' || i), 'path': 'img-' || i || '.jpg'} AS image,
    CASE WHEN i % 7 = 0 THEN NULL ELSE 'caption ' || (i % 50) || ' 猫 😴' END AS text
  FROM range(3000) t(i)`;

async function write(outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  for (const codec of ['snappy', 'zstd', 'gzip']) {
    for (const version of ['v1', 'v2']) {
      const file = path.join(outDir, `duckdb_${codec}_${version}.parquet`);
      await connection.run(`COPY (${FLAT_ROWS}) TO ${quote(file)} (FORMAT parquet, COMPRESSION ${codec},
        ROW_GROUP_SIZE 2048, PARQUET_VERSION ${version.toUpperCase()})`);
      await describe(file);
    }
  }
  const hf = path.join(outDir, 'duckdb_hf_zstd_v2.parquet');
  await connection.run(`COPY (${HF_ROWS}) TO ${quote(hf)} (FORMAT parquet, COMPRESSION zstd,
    ROW_GROUP_SIZE 2048, PARQUET_VERSION V2)`);
  await describe(hf);
}

async function describe(file) {
  const meta = await rows(`SELECT row_group_id, path_in_schema, compression, encodings, num_values
    FROM parquet_metadata(${quote(file)}) ORDER BY row_group_id, column_id`);
  const summary = meta.map((m) => `rg${m.row_group_id} ${m.path_in_schema} ${m.compression} ${m.encodings}`);
  console.log(path.basename(file), fs.statSync(file).size, 'bytes');
  for (const line of summary) console.log('  ' + line);
}

async function bugfiles(bugsDir, outJson) {
  const result = {};
  const dictionary = path.join(bugsDir, 'parquetdotnet__multi_page_dictionary_with_nulls.parquet');
  const probes = [0, 1, 2, 3, 4, 5, 99, 100, 101, 1023, 1024, 1025, 20000, 20001, 65535, 65536, 100000,
    150000, 200000, 250000, 310000, 310036];
  result.multi_page_dictionary_with_nulls = {
    ...(await rows(`SELECT count(*)::BIGINT AS rows, count(*) FILTER (WHERE SampleId IS NULL)::BIGINT AS nulls,
      count(DISTINCT SampleId)::BIGINT AS distinct_values FROM read_parquet(${quote(dictionary)})`))[0],
    values: Object.fromEntries((await rows(`SELECT file_row_number AS row, SampleId AS value
      FROM read_parquet(${quote(dictionary)}, file_row_number = true)
      WHERE file_row_number IN (${probes.join(',')}) ORDER BY file_row_number`))
      .map((r) => [String(r.row), r.value])),
  };

  const pyarrow = path.join(bugsDir, 'parquetdotnet__pyarrow_v23.parquet');
  result.pyarrow_v23 = {
    ...(await rows(`SELECT count(*)::BIGINT AS rows, sum(NbActiveAlarms)::BIGINT AS sum_active_alarms,
      sum(Chattering)::BIGINT AS sum_chattering FROM read_parquet(${quote(pyarrow)})`))[0],
    values: Object.fromEntries((await rows(`SELECT file_row_number AS row, NbActiveAlarms AS value
      FROM read_parquet(${quote(pyarrow)}, file_row_number = true)
      WHERE file_row_number IN (0, 1, 2, 1000, 20000, 39365) ORDER BY file_row_number`))
      .map((r) => [String(r.row), Number(r.value)])),
  };
  const text = JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? Number(v) : v), 2);
  fs.writeFileSync(outJson, text + '\n');
  console.log(text);
}

async function check(shardDir, cocoDir) {
  const expected = new Map();
  for (const split of ['train2017', 'val2017']) {
    const json = JSON.parse(fs.readFileSync(path.join(cocoDir, 'annotations', `captions_${split}.json`)));
    const first = new Map();
    for (const a of json.annotations) if (!first.has(a.image_id)) first.set(a.image_id, a.caption.trim());
    for (const image of json.images) {
      const bytes = fs.readFileSync(path.join(cocoDir, split, image.file_name));
      expected.set(image.file_name, {
        caption: first.get(image.id), width: image.width, height: image.height,
        md5: createHash('md5').update(bytes).digest('hex'),
      });
    }
  }
  const glob = quote(path.join(shardDir, '*.parquet'));
  const found = await rows(`SELECT key, caption, width, height, image.path AS path, md5(image.bytes) AS md5,
    filename FROM read_parquet(${glob}, filename = true) ORDER BY filename, file_row_number`);
  let mismatches = 0;
  for (const row of found) {
    const want = expected.get(row.path);
    const got = { caption: row.caption, width: row.width, height: row.height, md5: row.md5 };
    if (!want || JSON.stringify(got) !== JSON.stringify(want)) {
      mismatches++;
      console.log('MISMATCH', row.key, JSON.stringify(got), JSON.stringify(want));
    }
  }
  console.log(`${found.length} rows read by DuckDB from ${shardDir}; ${mismatches} mismatches`);
  process.exitCode = mismatches === 0 && found.length > 0 ? 0 : 1;
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'write') await write(args[0]);
else if (mode === 'bugfiles') await bugfiles(args[0], args[1]);
else if (mode === 'check') await check(args[0], args[1]);
else {
  console.error('usage: ingest_duckdb.mjs write OUT_DIR | bugfiles BUGS_DIR OUT_JSON | check SHARD_DIR COCO_DIR');
  process.exitCode = 2;
}
