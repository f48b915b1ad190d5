#!/usr/bin/env node
// End-to-end check of the hub as a federation subgraph, behind an Apollo gateway.
//
// A fresh PostgreSQL database, two hub instances on it, the example Region subgraph and the
// gateway over out/supergraph.graphql (made by compose.mjs); the hub is seeded through its own
// GraphQL API; then three partners query through the gateway and directly, and every answer is
// checked against what ACCESS.md allows. Everything started is stopped and the database dropped
// at the end, also on failure.
//
// Environment:
//   RACCORDO_BIN   hub binary (default: target/debug/raccordo of this repository)
//   PG_SERVER_URL  PostgreSQL server, trust auth (default: postgres://postgres@127.0.0.1:5432)
//   SUPERGRAPH     composed supergraph (default: out/supergraph.graphql)
//   REPEAT         repetitions of each query through the gateway (default: 4)
//   KEEP_LOGS=1    print the hubs', the subgraph's and the gateway's logs at the end
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { parse, print, visit } from 'graphql';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const BIN = resolve(repo, process.env.RACCORDO_BIN ?? 'target/debug/raccordo');
const PG = (process.env.PG_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
const SUPERGRAPH = resolve(process.env.SUPERGRAPH ?? join(here, 'out/supergraph.graphql'));
const REPEAT = Number(process.env.REPEAT ?? 4);
const SECRET = randomBytes(24).toString('hex');
const DB = `raccordo_t_fed_${randomBytes(6).toString('hex')}`;
const DB_URL = `${PG}/${DB}`;
const work = mkdtempSync(join(tmpdir(), 'raccordo-fed-'));

// ---------------------------------------------------------------------------------------------
// Processes and clean-up

const children = [];
let dbCreated = false;
let cleaning = null;

function start(name, cmd, args, env = {}) {
  const child = spawn(cmd, args, {
    cwd: work,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = { name, child, out: '', err: '', exited: null };
  children.push(proc);
  child.stdout.on('data', (d) => (proc.out += d));
  child.stderr.on('data', (d) => (proc.err += d));
  child.on('exit', (code, signal) => (proc.exited = { code, signal }));
  proc.ready = new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${name} did not print its address within 60 s\n${tail(proc)}`)), 60_000);
    const check = () => {
      const m = proc.out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    };
    child.stdout.on('data', check);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      rej(new Error(`${name} exited (${signal ?? code}) before listening\n${tail(proc)}`));
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      rej(new Error(`${name} could not start: ${e.message}`));
    });
  });
  return proc;
}

function tail(proc, n = 30) {
  const lines = (proc.out + proc.err).trimEnd().split('\n');
  return lines.slice(-n).map((l) => `    | ${l}`).join('\n');
}

function psql(sql, db = 'postgres') {
  return execFileSync('psql', [`${PG}/${db}`, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** Stops every child and drops the database; every caller waits for the same one clean-up. */
function cleanup() {
  cleaning ??= doCleanup();
  return cleaning;
}

async function doCleanup() {
  for (const p of children) if (!p.exited) p.child.kill('SIGTERM');
  const deadline = Date.now() + 5_000;
  while (children.some((p) => !p.exited) && Date.now() < deadline) await sleep(50);
  for (const p of children) if (!p.exited) p.child.kill('SIGKILL');
  if (process.env.KEEP_LOGS === '1') {
    for (const p of children) console.log(`\n--- ${p.name} ---\n${p.out}${p.err}`);
  }
  if (dbCreated) {
    try {
      psql(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
    } catch (e) {
      console.error(`could not drop ${DB}: ${e.stderr ?? e.message}`);
    }
  }
  rmSync(work, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    console.error(`\n${sig}: cleaning up`);
    await cleanup();
    process.exit(130);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// GraphQL over HTTP

async function post(url, token, query, variables) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${url} answered ${res.status} with a body that is not JSON: ${text.slice(0, 300)}`);
  }
  return { status: res.status, body };
}

/** A mutation or query that must succeed (seeding). */
async function must(url, token, query, variables) {
  const { status, body } = await post(url, token, query, variables);
  if (status !== 200 || body.errors || !body.data) {
    throw new Error(`seeding failed (${status}): ${query.trim().split('\n')[0]}\n${JSON.stringify(body, null, 2)}`);
  }
  return body.data;
}

function token(role, agency, user) {
  const args = ['token', '--role', role, '--jwt-secret', SECRET, '--database-url', DB_URL];
  if (agency) args.push('--agency', agency);
  if (user) args.push('--user', user);
  return execFileSync(BIN, args, { cwd: work, encoding: 'utf8' }).trim();
}

// ---------------------------------------------------------------------------------------------
// Checks

let passed = 0;
let failed = 0;
const failures = [];

function differences(actual, expected, path = '$') {
  if (isDeepStrictEqual(actual, expected)) return [];
  const isObj = (v) => v !== null && typeof v === 'object';
  if (Array.isArray(actual) && Array.isArray(expected)) {
    const out = [];
    if (actual.length !== expected.length) out.push(`${path}: ${actual.length} items, expected ${expected.length}`);
    for (let i = 0; i < Math.min(actual.length, expected.length); i++) out.push(...differences(actual[i], expected[i], `${path}[${i}]`));
    return out;
  }
  if (isObj(actual) && isObj(expected) && !Array.isArray(actual) && !Array.isArray(expected)) {
    const out = [];
    for (const k of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      if (!(k in actual)) out.push(`${path}.${k}: missing, expected ${JSON.stringify(expected[k])}`);
      else if (!(k in expected)) out.push(`${path}.${k}: unexpected ${JSON.stringify(actual[k])}`);
      else out.push(...differences(actual[k], expected[k], `${path}.${k}`));
    }
    return out;
  }
  return [`${path}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`];
}

function check(name, actual, expected) {
  const diffs = differences(actual, expected);
  if (diffs.length === 0) {
    passed++;
    console.log(`  ok    ${name}`);
  } else {
    failed++;
    failures.push(name);
    console.log(`  FAIL  ${name}`);
    for (const d of diffs.slice(0, 25)) console.log(`          ${d}`);
    if (diffs.length > 25) console.log(`          ... ${diffs.length - 25} more`);
  }
  return diffs.length === 0;
}

const notes = [];
function note(text) {
  if (!notes.includes(text)) notes.push(text);
  console.log(`  note  ${text}`);
}

/** A condition; `detail` (a string, or a function giving one) says what was wrong. */
function ok(name, condition, detail = '') {
  const why = () => (typeof detail === 'function' ? detail() : detail) || false;
  return check(name, condition ? true : why(), true);
}

// ---------------------------------------------------------------------------------------------
// The protocol, as ACCESS.md sections 2 and 4 state it (written out here, not read from the hub)

const ALL_CLASSES = ['BASE', 'PROFILE', 'IDENTITY', 'LOCATION', 'LEGAL', 'JUDICIAL', 'HEALTH', 'GBV', 'PATHWAY', 'NOTES'];
const VISIBLE = {
  OWNER: ALL_CLASSES,
  PERMIT: ['BASE', 'IDENTITY', 'LEGAL'],
};
const FIELD_CLASS = {
  id: 'BASE', code: 'BASE', phase: 'BASE', openedOn: 'BASE', owner: 'BASE', access: 'BASE',
  gender: 'PROFILE', nationality: 'PROFILE',
  alias: 'IDENTITY', legalName: 'IDENTITY',
  shelter: 'LOCATION',
  permitCurrent: 'LEGAL',
  complaintFiled: 'JUDICIAL',
  healthNotes: 'HEALTH', psychSupport: 'HEALTH',
};

/** What a viewer with `relationship` must read of a case: hidden classes are null. */
function caseAs(relationship, full) {
  const visible = VISIBLE[relationship];
  const out = {};
  for (const [k, v] of Object.entries(full)) {
    if (k === 'access') out.access = { relationships: [relationship], visibleClasses: visible };
    else out[k] = visible.includes(FIELD_CLASS[k]) ? v : null;
  }
  return out;
}

// Fields only the Region subgraph resolves: stripped for the comparison with the hub alone.
const REGION_FIELDS = new Set(['services']);

function withoutRegionFields(query) {
  return print(
    visit(parse(query), {
      Field: (node) => (REGION_FIELDS.has(node.name.value) ? null : undefined),
    }),
  );
}

function stripRegion(value) {
  if (Array.isArray(value)) return value.map(stripRegion);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => !REGION_FIELDS.has(k)).map(([k, v]) => [k, stripRegion(v)]));
  }
  return value;
}

/** Where two equal values first list an object's keys in different orders, or null. */
function keyOrderDifference(a, b, path = '$') {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < a.length; i++) {
      const d = keyOrderDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
  } else if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.join() !== kb.join()) return `${path} has keys ${ka.join(' ')}; asked: ${kb.join(' ')}`;
    for (const k of ka) {
      const d = keyOrderDifference(a[k], b[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  return null;
}

const errorCodes = (body) => (body.errors ?? []).map((e) => e.extensions?.code ?? 'NO_CODE');

// ---------------------------------------------------------------------------------------------

async function main() {
  if (!existsSync(BIN)) throw new Error(`no hub binary at ${BIN} (cargo build -p raccordo-api --bin raccordo, or set RACCORDO_BIN)`);
  if (!existsSync(SUPERGRAPH)) throw new Error(`no supergraph at ${SUPERGRAPH}: run compose.mjs first`);
  const supergraph = readFileSync(SUPERGRAPH, 'utf8');
  const hubSubgraphSdlPath = join(dirname(SUPERGRAPH), 'hub.subgraph.graphql');

  console.log(`e2e: database ${DB}`);
  psql(`CREATE DATABASE "${DB}"`);
  dbCreated = true;

  // Two hub instances on one database. The first applies the migrations before the second starts.
  const hubArgs = [
    'serve', '--bind', '127.0.0.1:0', '--database-url', DB_URL, '--jwt-secret', SECRET,
    '--rate-limit-user', '1000000', '--rate-limit-agency', '1000000',
  ];
  const hubA = start('hub A', BIN, hubArgs);
  const hubAUrl = `${await hubA.ready}/graphql`;
  const hubB = start('hub B', BIN, hubArgs);
  const hubBUrl = `${await hubB.ready}/graphql`;
  console.log(`e2e: hubs at ${hubAUrl} and ${hubBUrl}`);

  // --- seeding, through the hub's API (instance A) --------------------------------------------
  const admin = token('PLATFORM_ADMIN', null, 'fed-admin');
  const createAgency = `mutation($i: AgencyInput!) { createAgency(input: $i) { id name kind } }`;
  const agencyInput = {
    ente: { name: 'Associazione Il Ponte (federation test)', kind: 'ENTE_ANTITRATTA', province: 'BG', city: 'Bergamo', publicContact: '035 000000' },
    questura: { name: 'Questura di Bergamo (federation test)', kind: 'QUESTURA', province: 'BG', city: 'Bergamo' },
    servizi: { name: 'Servizi sociali di Dalmine (federation test)', kind: 'SERVIZI_TERRITORIALI', province: 'BG', city: 'Dalmine' },
  };
  const agencies = {};
  for (const [key, input] of Object.entries(agencyInput)) {
    agencies[key] = (await must(hubAUrl, admin, createAgency, { i: input })).createAgency;
  }
  const tokens = {
    ente: token('OPERATOR', agencies.ente.id, 'ente-op'),
    enteCoord: token('COORDINATOR', agencies.ente.id, 'ente-coord'),
    questura: token('OPERATOR', agencies.questura.id, 'questura-op'),
    servizi: token('OPERATOR', agencies.servizi.id, 'servizi-op'),
  };
  const shelter = (
    await must(hubAUrl, tokens.ente, `mutation { createShelter(name: "Casa Alfa", address: "Via Riservata 1", city: "Bergamo") { id name address } }`)
  ).createShelter;
  const createCase = `mutation($i: CaseInput!) { createCase(input: $i) { id code } }`;
  const caseInputs = [
    {
      code: 'FED-001', phase: 'PRIMA_ACCOGLIENZA', openedOn: '2023-05-10', gender: 'FEMALE', nationality: 'NG',
      alias: 'Joy', legalName: 'Joy Test', healthNotes: 'asma; visita il 12/06', permitCurrent: 'ART18',
      complaintFiled: true, shelterId: shelter.id,
    },
    {
      code: 'FED-002', phase: 'PRONTO_INTERVENTO', openedOn: '2023-07-01', gender: 'FEMALE', nationality: 'AL',
      alias: 'Ana', legalName: 'Ana Test', healthNotes: 'nessuna', permitCurrent: 'NONE', complaintFiled: false,
    },
  ];
  const cases = [];
  for (const i of caseInputs) cases.push((await must(hubAUrl, tokens.ente, createCase, { i })).createCase);
  const [shared, unshared] = cases;
  const consent = (
    await must(hubAUrl, tokens.enteCoord,
      `mutation($c: ID!, $r: ID!) { recordConsent(caseId: $c, purpose: PERMIT_PROCEDURE, recipient: $r, givenOn: "2023-06-01") { id } }`,
      { c: shared.id, r: agencies.questura.id })
  ).recordConsent;
  const share = (
    await must(hubAUrl, tokens.enteCoord,
      `mutation($c: ID!, $r: ID!, $k: ID!) { shareCase(caseId: $c, recipient: $r, purpose: PERMIT_PROCEDURE, consentId: $k) { id active } }`,
      { c: shared.id, r: agencies.questura.id, k: consent.id })
  ).shareCase;
  if (!share.active) throw new Error(`the share is not active: ${JSON.stringify(share)}`);
  console.log(`e2e: seeded 3 agencies, 2 cases of the ente, ${shared.code} shared with the questura for PERMIT_PROCEDURE`);

  // --- the Region subgraph and the gateway -------------------------------------------------------
  const unknownAgency = randomUUID();
  const catalogue = {
    [agencies.ente.id]: [
      { name: 'Sportello antitratta', kind: 'HELPLINE', phone: '800 290 290' },
      { name: 'Casa di fuga', kind: 'SHELTER_ACCESS', phone: null },
    ],
    [agencies.questura.id]: [{ name: 'Ufficio immigrazione: permessi art. 18', kind: 'LEGAL_ADVICE', phone: '035 276111' }],
    [agencies.servizi.id]: [{ name: 'Consultorio familiare', kind: 'HEALTH', phone: '035 000111' }],
    [unknownAgency]: [{ name: "Servizio di un ente che l'hub non conosce", kind: 'JOB_PLACEMENT', phone: null }],
  };
  const catalogueFile = join(work, 'catalogue.json');
  writeFileSync(catalogueFile, JSON.stringify(catalogue, null, 2));
  const region = start('region subgraph', process.execPath, [join(here, 'region/server.mjs')], { REGION_CATALOGUE: catalogueFile });
  const regionUrl = `${await region.ready}/`;
  const gateway = start('gateway', process.execPath, [join(here, 'gateway.mjs')], {
    SUPERGRAPH, HUB_URLS: `${hubAUrl},${hubBUrl}`, REGION_URL: regionUrl, GATEWAY_DEBUG_FETCHES: '1',
  });
  const gatewayUrl = `${await gateway.ready}/`;
  console.log(`e2e: region subgraph at ${regionUrl}, gateway at ${gatewayUrl}`);

  const servicesOf = (id) => (catalogue[id] ?? []).map(({ name, kind, phone }) => ({ name, kind, phone }));
  const agencyOut = (key) => ({ id: agencies[key].id, name: agencyInput[key].name, kind: agencyInput[key].kind, services: servicesOf(agencies[key].id) });

  // What the owner reads of each case (every class).
  const fullCase = (c, input) => ({
    id: c.id, code: input.code, phase: input.phase, alias: input.alias, legalName: input.legalName,
    healthNotes: input.healthNotes, nationality: input.nationality, gender: input.gender,
    permitCurrent: input.permitCurrent, complaintFiled: input.complaintFiled,
    shelter: input.shelterId ? { name: shelter.name, address: shelter.address } : null,
    owner: agencyOut('ente'),
    access: null,
  });
  const full = [fullCase(shared, caseInputs[0]), fullCase(unshared, caseInputs[1])];

  const CASE_FIELDS = `id code phase alias legalName healthNotes nationality gender permitCurrent complaintFiled
    shelter { name address } owner { id name kind services { name kind phone } } access { relationships visibleClasses }`;
  const Q = {
    cases: `query Cases { cases(first: 50) { totalCount edges { node { ${CASE_FIELDS} } } } }`,
    case: `query Case($id: ID!) { case(id: $id) { ${CASE_FIELDS} } }`,
    agency: `query Agency($id: ID!) { agency(id: $id) { id name kind services { name kind phone } } }`,
    me: `query Me { me { role agency { id name kind services { name kind phone } } } }`,
  };
  const sortEdges = (data) =>
    data?.cases ? { cases: { ...data.cases, edges: [...data.cases.edges].sort((a, b) => a.node.code.localeCompare(b.node.code)) } } : data;

  // The partners, and what ACCESS.md says each must read.
  const partners = [
    {
      key: 'ente', label: 'ente (OWNER)',
      cases: { cases: { totalCount: 2, edges: full.map((c) => ({ node: caseAs('OWNER', c) })) } },
      case: { case: caseAs('OWNER', full[0]) },
    },
    {
      key: 'questura', label: 'questura (PERMIT)',
      cases: { cases: { totalCount: 1, edges: [{ node: caseAs('PERMIT', full[0]) }] } },
      case: { case: caseAs('PERMIT', full[0]) },
    },
    {
      key: 'servizi', label: 'servizi territoriali (no relationship)',
      cases: { cases: { totalCount: 0, edges: [] } },
      case: { case: null },
    },
  ];

  const summary = [];
  let gatewayAnswers = 0;
  const usedHubs = new Set();

  /** Runs `query` REPEAT times through the gateway; checks every answer equals the first and
   *  that the hub fetches alternated between the two instances. Returns the first answer. */
  async function viaGateway(name, tok, query, variables) {
    const answers = [];
    const hubsUsed = [];
    for (let i = 0; i < REPEAT; i++) {
      const { status, body } = await post(gatewayUrl, tok, query, variables);
      gatewayAnswers++;
      const fetches = body.extensions?.subgraphFetches ?? [];
      const { extensions, ...rest } = body;
      answers.push({ status, body: rest });
      for (const f of fetches) if (f.subgraph === 'hub') hubsUsed.push(f.url === hubAUrl ? 'A' : f.url === hubBUrl ? 'B' : f.url);
    }
    for (let i = 1; i < answers.length; i++) {
      check(`${name}: repetition ${i + 1} of ${REPEAT} through the gateway equals the first`, answers[i], answers[0]);
    }
    if (REPEAT > 1 && hubsUsed.length > 0) {
      ok(`${name}: round-robin used both hub instances (${hubsUsed.join('')})`, hubsUsed.includes('A') && hubsUsed.includes('B'), `hub fetches went to ${hubsUsed.join(',')}`);
    }
    hubsUsed.forEach((h) => usedHubs.add(h));
    return answers[0];
  }

  /** The same query, without the Region's fields, straight to both hub instances: each must
   *  answer what the gateway answered, minus the Region's fields. */
  async function viaHubs(name, tok, query, variables, gatewayBody) {
    const hubQuery = withoutRegionFields(query);
    for (const [label, url] of [['A', hubAUrl], ['B', hubBUrl]]) {
      const { body } = await post(url, tok, hubQuery, variables);
      const same = check(`${name}: hub ${label} directly answers the gateway's data minus the Region's fields`,
        { data: body.data, errors: errorCodes(body) },
        { data: stripRegion(gatewayBody.data), errors: errorCodes(gatewayBody) });
      // The gateway answers keys in the order of the selection set (GraphQL spec, "Serialized Map
      // Ordering"); the same data in another order is worth knowing but is not a failure.
      const order = same && keyOrderDifference(body.data, stripRegion(gatewayBody.data));
      if (order) note(`${name}: hub ${label} answers the same data with keys out of the selection set's order: ${order}`);
    }
  }

  console.log('\n== composed supergraph');
  ok('supergraph: Agency is an entity of both subgraphs',
    /type Agency\s+@join__type\(graph: HUB, key: "id"\)\s+@join__type\(graph: REGION, key: "id"\)/.test(supergraph));
  ok('supergraph: Case and Referral are entities of the hub',
    /type Case\s+@join__type\(graph: HUB, key: "id"\)/.test(supergraph) && /type Referral\s+@join__type\(graph: HUB, key: "id"\)/.test(supergraph));

  for (const p of partners) {
    const tok = tokens[p.key];
    console.log(`\n== ${p.label}`);

    const cs = await viaGateway(`${p.label}: cases`, tok, Q.cases);
    check(`${p.label}: cases through the gateway (edges in code order)`,
      { status: cs.status, errors: cs.body.errors ?? null, data: sortEdges(cs.body.data) },
      { status: 200, errors: null, data: p.cases });
    await viaHubs(`${p.label}: cases`, tok, Q.cases, undefined, cs.body);

    const one = await viaGateway(`${p.label}: case(id) of the shared case`, tok, Q.case, { id: shared.id });
    check(`${p.label}: case(id) of the shared case through the gateway`, one.body, { data: p.case });
    await viaHubs(`${p.label}: case(id)`, tok, Q.case, { id: shared.id }, one.body);

    if (p.key !== 'ente') {
      // ACCESS.md §4: a case the viewer cannot see answers exactly what an id never used answers.
      const hidden = await viaGateway(`${p.label}: case(id) of the unshared case`, tok, Q.case, { id: unshared.id });
      const never = await viaGateway(`${p.label}: case(id) of an id never used`, tok, Q.case, { id: randomUUID() });
      check(`${p.label}: the unshared case answers exactly what an unused id answers`, hidden, never);
      check(`${p.label}: the unused id answers null`, never.body, { data: { case: null } });
    }

    const ag = await viaGateway(`${p.label}: agency(id) of the ente`, tok, Q.agency, { id: agencies.ente.id });
    check(`${p.label}: agency(id) of the ente, with the Region's services`, ag.body, { data: { agency: agencyOut('ente') } });
    await viaHubs(`${p.label}: agency(id)`, tok, Q.agency, { id: agencies.ente.id }, ag.body);

    const me = await viaGateway(`${p.label}: me`, tok, Q.me);
    check(`${p.label}: me { agency { services } }`, me.body, { data: { me: { role: 'OPERATOR', agency: agencyOut(p.key) } } });

    const seen = sortEdges(cs.body.data)?.cases?.edges?.map((e) => e.node) ?? [];
    summary.push(
      `${p.label}: ${seen.length} case(s)` +
        seen.map((n) => ` [${n.code}: alias=${JSON.stringify(n.alias)} healthNotes=${JSON.stringify(n.healthNotes)} ` +
          `nationality=${JSON.stringify(n.nationality)} shelter=${JSON.stringify(n.shelter?.name ?? null)} ` +
          `relationships=${n.access?.relationships} owner.services=${n.owner?.services?.length}]`).join(''),
    );
  }

  // The hub resolving entities for the gateway: the Region's list names providers by id only.
  console.log('\n== entities the hub resolves (Region root field, providers from the hub\'s _entities)');
  const dirQuery = `query Directory { regionalDirectory { name kind phone provider { id name kind } } }`;
  const expectedDirectory = Object.keys(catalogue).sort().flatMap((id) =>
    [...catalogue[id]].sort((a, b) => a.name.localeCompare(b.name)).map((s) => ({
      name: s.name, kind: s.kind, phone: s.phone,
      provider: id === unknownAgency ? null : (() => {
        const key = Object.keys(agencies).find((k) => agencies[k].id === id);
        return { id, name: agencyInput[key].name, kind: agencyInput[key].kind };
      })(),
    })));
  for (const p of partners) {
    const d = await viaGateway(`${p.label}: regionalDirectory`, tokens[p.key], dirQuery);
    check(`${p.label}: regionalDirectory with providers completed by the hub (unknown agency: null)`, d.body, { data: { regionalDirectory: expectedDirectory } });
  }

  // Anonymous: the Region's part answers; the hub completes no provider (`agency(id:)` and its
  // entity are for partners), and never a partner-only field.
  {
    const { body } = await post(gatewayUrl, null, `query Directory { regionalDirectory { name provider { id name referralContact notes } } }`);
    const providers = (body.data?.regionalDirectory ?? []).map((s) => s.provider);
    check('anonymous: regionalDirectory lists the Region\'s services', (body.data?.regionalDirectory ?? []).map((s) => s.name), expectedDirectory.map((s) => s.name));
    ok('anonymous: no provider\'s referralContact or notes reach an anonymous caller',
      providers.every((p) => p === null || (p.referralContact === null && p.notes === null)), JSON.stringify(providers));
    note(`anonymous regionalDirectory: providers ${providers.every((p) => p === null) ? 'all null' : 'completed'}, error codes [${errorCodes(body).join(',')}] (the hub's Agency entity, as agency(id:), is for partners; ACCESS.md section 8 would allow the public fields)`);
  }

  // The gateway's API has no _entities: a partner cannot ask the hub for entities through it.
  {
    const { body } = await post(gatewayUrl, tokens.questura, `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`, { r: [{ __typename: 'Case', id: unshared.id }] });
    const codes = [...new Set(errorCodes(body))];
    check('questura: _entities is not part of the gateway\'s API (a validation error, no data)', { data: body.data ?? null, codes }, { data: null, codes: ['GRAPHQL_VALIDATION_FAILED'] });
  }

  // _entities straight on the hub, as a gateway calls it: every entity type in one request.
  console.log('\n== _entities on the hub (the access policy applies)');
  const entitiesQuery = `query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Case { ${CASE_FIELDS.replace(/services \{[^}]*\}/, '')} }
    ... on Agency { id name kind }
    ... on Referral { id status } } }`;
  const reps = [
    ...[shared.id, unshared.id, randomUUID()].map((id) => ({ __typename: 'Case', id })),
    { __typename: 'Agency', id: agencies.ente.id },
    { __typename: 'Agency', id: unknownAgency },
    { __typename: 'Referral', id: randomUUID() },
  ];
  const noServices = (c) => (c ? stripRegion(c) : c);
  const enteEntity = { id: agencies.ente.id, name: agencyInput.ente.name, kind: agencyInput.ente.kind };
  const expectedEntities = {
    ente: [caseAs('OWNER', full[0]), caseAs('OWNER', full[1]), null].map(noServices),
    questura: [caseAs('PERMIT', full[0]), null, null].map(noServices),
    servizi: [null, null, null],
  };
  for (const p of partners) {
    for (const [label, url] of [['A', hubAUrl], ['B', hubBUrl]]) {
      const { body } = await post(url, tokens[p.key], entitiesQuery, { r: reps });
      // The hub reports what the request cost (extensions.cost, for the caller's pacing): not data.
      const { extensions, ...answer } = body;
      check(`${p.label}: hub ${label} _entities([Case shared, unshared, unused; Agency ente, unknown; Referral unused])`, answer,
        { data: { _entities: [...expectedEntities[p.key], enteEntity, null, null] } });
      check(`${p.label}: hub ${label} _entities reports its cost`, typeof extensions?.cost?.spent, 'number');
    }
  }
  {
    const { body } = await post(hubAUrl, null, entitiesQuery, { r: reps });
    ok(`anonymous: hub _entities for Case reads nothing (errors: ${errorCodes(body).join(',') || 'none'})`,
      !(body.data?._entities ?? []).some((e) => e !== null), JSON.stringify(body));
  }

  // _service { sdl }: the SDL the gateway's supergraph was composed from, for partners only
  // (the README: introspection answers partners only; an anonymous caller's __schema is null).
  console.log('\n== _service { sdl }');
  {
    const { body } = await post(hubAUrl, tokens.ente, `{ _service { sdl } }`);
    const sdl = body.data?._service?.sdl;
    if (existsSync(hubSubgraphSdlPath)) {
      const composed = print(parse(readFileSync(hubSubgraphSdlPath, 'utf8')));
      let served = null;
      try {
        served = sdl ? print(parse(sdl)) : null;
      } catch (e) {
        served = `does not parse: ${e.message}`;
      }
      ok('partner: _service { sdl } is the SDL `raccordo schema --federation` prints', served === composed,
        served === null ? `no SDL: ${JSON.stringify(body).slice(0, 300)}` : 'the two SDLs differ (compare out/hub.subgraph.graphql with the hub\'s _service.sdl)');
    }
    const anon = await post(hubAUrl, null, `{ _service { sdl } }`);
    ok(`anonymous: _service { sdl } is not answered (as introspection is not; got ${anon.body.data?._service?.sdl ? 'the SDL' : 'no SDL'})`,
      !anon.body.data?._service?.sdl, () => `an anonymous caller got ${anon.body.data._service.sdl.length} characters of SDL`);
  }

  // Anonymous callers through the gateway: the public directory joins; cases are refused.
  console.log('\n== anonymous, through the gateway');
  {
    const dir = await viaGateway('anonymous: directory', null, `query Dir { directory(province: "BG") { id name services { name } } }`);
    const expected = Object.keys(agencies).map((k) => ({ id: agencies[k].id, name: agencyInput[k].name, services: servicesOf(agencies[k].id).map(({ name }) => ({ name })) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const got = [...(dir.body.data?.directory ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    check('anonymous: directory(province: "BG") with the Region\'s services', got, expected);
    const refused = await viaGateway('anonymous: cases', null, `query C { cases { totalCount } }`);
    check('anonymous: cases through the gateway is UNAUTHENTICATED with no data', { codes: errorCodes(refused.body), data: refused.body.data ?? null }, { codes: ['UNAUTHENTICATED'], data: null });
    const direct = await post(hubAUrl, null, `query C { cases { totalCount } }`);
    check('anonymous: cases directly on the hub answers the same codes', errorCodes(direct.body), errorCodes(refused.body));
  }

  // ACCESS.md section 9: the reads through the gateway (and the entity look-ups) are in the
  // case's access log, written by both instances into one chain that still verifies.
  console.log('\n== access log');
  {
    const { body } = await post(hubAUrl, tokens.enteCoord,
      `query($c: ID!) { caseAccessLog(caseId: $c) { userId agency { id } role operation relationships classes } }`, { c: shared.id });
    const log = body.data?.caseAccessLog ?? [];
    const byQuestura = log.filter((e) => e.agency.id === agencies.questura.id);
    ok(`access log of ${shared.code}: the questura's reads are logged under PERMIT (${byQuestura.length} entries)`,
      byQuestura.length > 0 && byQuestura.every((e) => e.relationships.join() === 'PERMIT'), () => JSON.stringify(body).slice(0, 500));
    ok(`access log of ${shared.code}: the questura's entries name only classes PERMIT allows, IDENTITY among them`,
      byQuestura.some((e) => e.classes.includes('IDENTITY')) && byQuestura.every((e) => e.classes.every((c) => VISIBLE.PERMIT.includes(c))),
      () => JSON.stringify(byQuestura.map((e) => e.classes)));
    ok(`access log of ${shared.code}: nothing by the agency with no relationship`,
      !log.some((e) => e.agency.id === agencies.servizi.id), () => JSON.stringify(log.filter((e) => e.agency.id === agencies.servizi.id)));
  }
  try {
    const out = execFileSync(BIN, ['audit', 'verify', '--database-url', DB_URL], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    ok(`raccordo audit verify passes after both instances wrote the log (${out.trim().split('\n').pop()})`, true);
  } catch (e) {
    ok('raccordo audit verify passes after both instances wrote the log', false, `${e.stdout ?? ''}${e.stderr ?? e.message}`.trim());
  }

  ok(`round-robin: both hub instances served the gateway over ${gatewayAnswers} answers`, usedHubs.has('A') && usedHubs.has('B'), [...usedHubs].join(','));
  for (const p of [hubA, hubB, region, gateway]) ok(`${p.name} is still running`, !p.exited, `${p.name} exited: ${JSON.stringify(p.exited)}\n${tail(p)}`);

  console.log('\n== summary');
  for (const s of summary) console.log(`  ${s}`);
}

let code = 0;
try {
  await main();
} catch (e) {
  failed++;
  failures.push(`aborted: ${e.message.split('\n')[0]}`);
  console.error(`\ne2e: ABORTED: ${e.stack ?? e.message}`);
  for (const p of children) if (p.exited) console.error(`\n${p.name} exited ${JSON.stringify(p.exited)}:\n${tail(p)}`);
} finally {
  await cleanup();
}
if (notes.length) console.log(`\n${notes.length} note(s) (not failures): see the lines marked "note" above`);
if (failed) {
  console.log(`\nfailed checks:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  code = 1;
}
console.log(`\nfederation: ${passed} passed, ${failed} failed`);
process.exit(code);
