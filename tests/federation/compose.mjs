#!/usr/bin/env node
// Composes the hub's subgraph SDL with the example Region subgraph into a supergraph.
//
//   node compose.mjs [--out FILE]
//
// The hub's SDL comes from `$RACCORDO_BIN schema --federation` (default: target/debug/raccordo
// of this repository), or from the file named by HUB_SDL when that is set. The supergraph is
// written to out/supergraph.graphql (or --out); the two subgraph SDLs used go beside it.
// Any composition error is printed and the exit code is 1.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, print } from 'graphql';
import { composeServices } from '@apollo/composition';
import { SUBGRAPH_NAME, typeDefs as regionTypeDefs } from './region/schema.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

// URLs written into the supergraph. The gateway (gateway.mjs) routes by subgraph name to the
// URLs it is given at start-up, so these are only defaults.
const HUB_URL = process.env.HUB_URL ?? 'http://127.0.0.1:8080/graphql';
const REGION_URL = process.env.REGION_URL ?? 'http://127.0.0.1:4001/graphql';

function arg(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export function hubSdl() {
  if (process.env.HUB_SDL) {
    return { sdl: readFileSync(process.env.HUB_SDL, 'utf8'), source: `file ${process.env.HUB_SDL}` };
  }
  const bin = resolve(repo, process.env.RACCORDO_BIN ?? 'target/debug/raccordo');
  try {
    const sdl = execFileSync(bin, ['schema', '--federation'], {
      cwd: here, // `raccordo` creates nothing for `schema`, but never in the repository root
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DATABASE_URL: 'sqlite::memory:' },
    });
    return { sdl, source: `${bin} schema --federation` };
  } catch (e) {
    const why = e.stderr?.toString().trim() || e.message;
    throw new Error(`could not get the hub's subgraph SDL from \`${bin} schema --federation\`: ${why}`);
  }
}

export function compose() {
  const hub = hubSdl();
  let hubDoc;
  try {
    hubDoc = parse(hub.sdl);
  } catch (e) {
    throw new Error(`the hub's SDL (${hub.source}) does not parse: ${e.message}`);
  }
  const services = [
    { name: 'hub', url: HUB_URL, typeDefs: hubDoc },
    { name: SUBGRAPH_NAME, url: REGION_URL, typeDefs: regionTypeDefs },
  ];
  return { hub, services, result: composeServices(services) };
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const out = resolve(arg('--out') ?? join(here, 'out/supergraph.graphql'));
  let composed;
  try {
    composed = compose();
  } catch (e) {
    console.error(`compose: ${e.message}`);
    process.exit(1);
  }
  const { hub, services, result } = composed;
  console.log(`compose: hub SDL from ${hub.source}`);
  if (result.errors?.length) {
    console.error(`compose: FAILED with ${result.errors.length} error(s):`);
    for (const err of result.errors) {
      const code = err.extensions?.code ? `[${err.extensions.code}] ` : '';
      console.error(`  - ${code}${err.message}`);
    }
    process.exit(1);
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, result.supergraphSdl);
  for (const s of services) {
    writeFileSync(join(dirname(out), `${s.name}.subgraph.graphql`), print(s.typeDefs) + '\n');
  }
  const hints = result.hints ?? [];
  if (process.env.VERBOSE) for (const h of hints) console.log(`  hint: ${h.toString()}`);
  // What the partners' API gains: the entities and the fields the Region adds to them.
  const api = result.schema.toAPISchema();
  const agency = api.type('Agency');
  const entities = [...result.supergraphSdl.matchAll(/^type (\w+)[^{]*@join__type\([^)]*key:/gm)]
    .map((m) => m[1]);
  console.log(
    `compose: ok: ${services.map((s) => s.name).join(' + ')} -> ${out} ` +
      `(${result.supergraphSdl.length} bytes, ${hints.length} hint(s)${hints.length && !process.env.VERBOSE ? ', VERBOSE=1 lists them' : ''})`,
  );
  console.log(`compose: entities: ${[...new Set(entities)].sort().join(', ')}`);
  console.log(`compose: Agency fields: ${agency ? [...agency.fields()].map((f) => f.name).join(', ') : '(none)'}`);
}
