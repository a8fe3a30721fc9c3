// Drives a running Backlot server with the published @backstage/catalog-client,
// the package Backstage's own frontend and backend plugins use, against the
// Northwind Parcel example catalog. Expected answers are computed from the
// example YAML files, not hard-coded, so the catalog can grow without breaking
// this test. See README.md for how it is run.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CatalogClient, CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import { parseAllDocuments, stringify } from 'yaml';

// --- Environment --------------------------------------------------------------

function requireEnv(name, hint) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: ${hint}. See internal/compat/catalogclient/README.md.`);
  }
  return value;
}

const BACKLOT_URL = requireEnv('BACKLOT_URL', 'the base URL of a running Backlot, e.g. http://127.0.0.1:7007').replace(/\/+$/, '');
const EXAMPLES = path.resolve(requireEnv('BACKLOT_EXAMPLES', 'the absolute path of examples/catalog'));
const SCRATCH = path.resolve(requireEnv('BACKLOT_SCRATCH', 'a directory the server accepts file locations from'));

const catalog = new CatalogClient({
  discoveryApi: { getBaseUrl: async () => `${BACKLOT_URL}/api/catalog` },
  fetchApi: { fetch: globalThis.fetch },
});

// Fail the whole file, loudly, when there is no server to test.
try {
  await catalog.getEntities({ filter: { kind: 'Location' }, limit: 1 });
} catch (err) {
  throw new Error(
    `Backlot is not answering at ${BACKLOT_URL}/api/catalog (${err.cause?.message ?? err.message}). ` +
      'Start it with `backlot dev --catalog <examples>/catalog/all.yaml` first; see README.md.',
    { cause: err },
  );
}

// --- The example catalog, read from its files ---------------------------------

/** Lower-case kind:namespace/name of an entity. */
function refOf(entity) {
  const ns = entity.metadata.namespace ?? 'default';
  return `${entity.kind}:${ns}/${entity.metadata.name}`.toLowerCase();
}

/** Expands a Backstage entity reference to lower-case kind:namespace/name. */
function resolveRef(ref, defaultKind) {
  let kind = defaultKind;
  let rest = ref;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    kind = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
  }
  let namespace = 'default';
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    namespace = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
  }
  if (!kind) throw new Error(`reference ${ref} names no kind`);
  return `${kind}:${namespace}/${rest}`.toLowerCase();
}

/**
 * Reads the example catalog the way the server does: all.yaml, then every
 * file a Location entity targets, relative to the file that names it.
 */
async function loadExampleCatalog() {
  const entities = [];
  const seen = new Set();
  async function load(file) {
    if (seen.has(file)) return;
    seen.add(file);
    const text = await fs.readFile(file, 'utf8');
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
      const entity = doc.toJS();
      if (!entity) continue;
      entities.push({ entity, file });
      if (entity.kind === 'Location') {
        for (const target of entity.spec.targets ?? [entity.spec.target]) {
          await load(path.resolve(path.dirname(file), target));
        }
      }
    }
  }
  await load(path.join(EXAMPLES, 'all.yaml'));
  return entities;
}

const example = await loadExampleCatalog();
const exampleEntities = example.map(e => e.entity);
const listedRefs = (await fs.readFile(path.join(EXAMPLES, 'entities.txt'), 'utf8'))
  .split('\n')
  .map(line => line.trim())
  .filter(Boolean);

const ofKind = kind => exampleEntities.filter(e => e.kind === kind);
const sorted = values => [...values].sort();
const componentRefs = listedRefs.filter(r => r.startsWith('component:'));
const componentNames = sorted(ofKind('Component').map(e => e.metadata.name));
const kindsButLocation = [...new Set(exampleEntities.map(e => e.kind))].filter(k => k !== 'Location');

/** Counts values the way entity-facets does: each distinct value once per entity. */
function countFacet(entities, get) {
  const counts = {};
  for (const entity of entities) {
    for (const value of new Set([get(entity)].flat().filter(v => typeof v === 'string'))) {
      counts[value] = (counts[value] ?? 0) + 1;
    }
  }
  return counts;
}

/** Turns an entity-facets answer for one facet into {value: count}. */
function facetMap(response, facet) {
  const values = response?.facets?.[facet];
  assert.ok(Array.isArray(values), `facet ${facet} missing from ${JSON.stringify(response)}`);
  return Object.fromEntries(values.map(({ value, count }) => [value, count]));
}

function hasRelation(entity, type, targetRef) {
  return (entity.relations ?? []).some(r => r.type === type && r.targetRef === targetRef);
}

function assertRelation(entity, type, targetRef) {
  assert.ok(
    hasRelation(entity, type, targetRef),
    `${refOf(entity)} has no ${type} relation to ${targetRef}; relations: ${JSON.stringify(entity.relations)}`,
  );
}

async function assertResponseError(promise, status, what) {
  await assert.rejects(promise, err => {
    assert.equal(err.name, 'ResponseError', `${what}: expected a ResponseError, got ${err}`);
    assert.equal(err.statusCode, status, `${what}: ${err.message}`);
    return true;
  });
}

/** True when file is dir or inside it. */
function isInside(dir, file) {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

// --- Tests ---------------------------------------------------------------------

test('the example files define exactly the refs in entities.txt', () => {
  assert.deepEqual(sorted(exampleEntities.map(refOf)), listedRefs);
  assert.deepEqual(listedRefs, sorted(new Set(listedRefs)), 'entities.txt is sorted, without duplicates');
});

describe(`@backstage/catalog-client against ${BACKLOT_URL}`, { timeout: 120_000 }, () => {
  describe('getEntities', () => {
    test('filter {kind: Component} returns exactly the example components', async () => {
      const { items } = await catalog.getEntities({ filter: { kind: 'Component' } });
      assert.deepEqual(sorted(items.map(refOf)), componentRefs);
      for (const item of items) {
        assert.equal(item.apiVersion, 'backstage.io/v1alpha1');
        assert.equal(typeof item.metadata.uid, 'string', `${refOf(item)} has no metadata.uid`);
        assert.ok(Array.isArray(item.relations), `${refOf(item)} has no relations array`);
      }
    });

    test('fields keeps only the selected fields', async () => {
      const { items } = await catalog.getEntities({
        filter: { kind: 'Component' },
        fields: ['kind', 'metadata.name', 'spec.owner'],
      });
      assert.equal(items.length, componentNames.length);
      const owners = Object.fromEntries(ofKind('Component').map(e => [e.metadata.name, e.spec.owner]));
      for (const item of items) {
        assert.deepEqual(Object.keys(item).sort(), ['kind', 'metadata', 'spec']);
        assert.deepEqual(Object.keys(item.metadata), ['name']);
        assert.deepEqual(Object.keys(item.spec), ['owner']);
        assert.equal(item.kind, 'Component');
        assert.equal(item.spec.owner, owners[item.metadata.name]);
      }
    });

    test('filters in an array, and values in an array, are ORed', async () => {
      const expected = sorted([...ofKind('Domain'), ...ofKind('System')].map(refOf));
      const fields = ['kind', 'metadata.namespace', 'metadata.name'];

      const sets = await catalog.getEntities({ filter: [{ kind: 'Domain' }, { kind: 'System' }], fields });
      assert.deepEqual(sorted(sets.items.map(refOf)), expected);

      const values = await catalog.getEntities({ filter: { kind: ['Domain', 'System'] }, fields });
      assert.deepEqual(sorted(values.items.map(refOf)), expected);
    });

    test('conditions in one filter are ANDed and match case-insensitively', async () => {
      const libraries = ofKind('Component').filter(e => e.spec.type === 'library');
      assert.ok(libraries.length > 0);
      const { items } = await catalog.getEntities({
        filter: { kind: 'component', 'spec.type': 'LIBRARY' },
        fields: ['kind', 'metadata.name'],
      });
      assert.deepEqual(sorted(items.map(refOf)), sorted(libraries.map(refOf)));

      const deprecated = ofKind('Component').filter(e => e.spec.lifecycle === 'deprecated');
      assert.ok(deprecated.length > 0);
      const dep = await catalog.getEntities({
        filter: { kind: 'Component', 'spec.lifecycle': 'deprecated' },
        fields: ['kind', 'metadata.name'],
      });
      assert.deepEqual(sorted(dep.items.map(refOf)), sorted(deprecated.map(refOf)));
    });

    test('CATALOG_FILTER_EXISTS matches entities that have the field', async () => {
      const providers = ofKind('Component').filter(e => (e.spec.providesApis ?? []).length > 0);
      assert.ok(providers.length > 0 && providers.length < componentNames.length);
      const { items } = await catalog.getEntities({
        filter: { kind: 'Component', 'spec.providesApis': CATALOG_FILTER_EXISTS },
        fields: ['kind', 'metadata.name'],
      });
      assert.deepEqual(sorted(items.map(refOf)), sorted(providers.map(refOf)));
    });

    test('a relations.ownedBy filter returns what the group owns', async () => {
      const group = 'group:default/routing-team';
      const owned = exampleEntities.filter(e => e.spec?.owner && resolveRef(e.spec.owner, 'group') === group);
      assert.ok(owned.length >= 3, 'routing-team owns several entities in the example catalog');
      const { items } = await catalog.getEntities({
        filter: { 'relations.ownedBy': group },
        fields: ['kind', 'metadata.namespace', 'metadata.name'],
      });
      assert.deepEqual(sorted(items.map(refOf)), sorted(owned.map(refOf)));
    });

    test('order, offset and limit', async () => {
      const asc = await catalog.getEntities({
        filter: { kind: 'Component' },
        fields: ['metadata.name'],
        order: { field: 'metadata.name', order: 'asc' },
      });
      assert.deepEqual(asc.items.map(e => e.metadata.name), componentNames);

      const desc = await catalog.getEntities({
        filter: { kind: 'Component' },
        fields: ['metadata.name'],
        order: [{ field: 'metadata.name', order: 'desc' }],
      });
      assert.deepEqual(desc.items.map(e => e.metadata.name), [...componentNames].reverse());

      const page = await catalog.getEntities({
        filter: { kind: 'Component' },
        fields: ['metadata.name'],
        order: { field: 'metadata.name', order: 'asc' },
        offset: 2,
        limit: 5,
      });
      assert.deepEqual(page.items.map(e => e.metadata.name), componentNames.slice(2, 7));
    });
  });

  test('getEntitiesByRefs answers in request order, undefined for a missing ref', async () => {
    const entityRefs = [
      'component:default/route-planner',
      'component:default/no-such-component',
      'group:default/web-team',
      'api:default/tracking-graphql',
    ];
    const { items } = await catalog.getEntitiesByRefs({ entityRefs });
    assert.equal(items.length, entityRefs.length);
    assert.equal(items[1], undefined);
    assert.deepEqual([items[0], items[2], items[3]].map(refOf), [entityRefs[0], entityRefs[2], entityRefs[3]]);

    const slim = await catalog.getEntitiesByRefs({ entityRefs, fields: ['kind', 'metadata.name'] });
    assert.deepEqual(
      slim.items.map(e => e && Object.keys(e).sort()),
      [['kind', 'metadata'], undefined, ['kind', 'metadata'], ['kind', 'metadata']],
    );
  });

  describe('queryEntities', () => {
    test('cursor pagination visits every component once, in order, and goes back', async () => {
      // Like Backstage, a cursor carries the query but not the page size: the
      // client sends limit again with every cursor, as streamEntities does.
      const pages = [];
      let response = await catalog.queryEntities({
        filter: { kind: 'Component' },
        limit: 3,
        orderFields: { field: 'metadata.name', order: 'asc' },
      });
      pages.push(response);
      while (response.pageInfo.nextCursor) {
        assert.ok(pages.length <= componentNames.length, 'nextCursor never ran out');
        response = await catalog.queryEntities({ cursor: response.pageInfo.nextCursor, limit: 3 });
        pages.push(response);
      }

      const names = pages.flatMap(p => p.items.map(e => e.metadata.name));
      assert.deepEqual(names, componentNames, 'pages joined are all components, sorted, without duplicates');
      assert.equal(pages.length, Math.ceil(componentNames.length / 3));
      for (const [i, p] of pages.entries()) {
        assert.equal(p.totalItems, componentNames.length, `totalItems on page ${i}`);
        assert.equal(p.items.length, i < pages.length - 1 ? 3 : componentNames.length - 3 * i, `size of page ${i}`);
      }
      assert.equal(pages[0].pageInfo.prevCursor, undefined, 'the first page has no prevCursor');

      const back = await catalog.queryEntities({ cursor: pages[1].pageInfo.prevCursor, limit: 3 });
      assert.deepEqual(back.items.map(e => e.metadata.name), componentNames.slice(0, 3));
      const last = pages.at(-1);
      const beforeLast = await catalog.queryEntities({ cursor: last.pageInfo.prevCursor, limit: 3 });
      assert.deepEqual(
        beforeLast.items.map(e => e.metadata.name),
        pages.at(-2).items.map(e => e.metadata.name),
      );
    });

    test('fullTextFilter matches part of a field, case-insensitively', async () => {
      const term = 'SERVICE';
      const expected = componentNames.filter(n => n.includes(term.toLowerCase()));
      assert.ok(expected.length >= 2 && expected.length < componentNames.length);
      const response = await catalog.queryEntities({
        filter: { kind: 'Component' },
        fullTextFilter: { term, fields: ['metadata.name'] },
        orderFields: { field: 'metadata.name', order: 'asc' },
        limit: 100,
      });
      assert.deepEqual(response.items.map(e => e.metadata.name), expected);
      assert.equal(response.totalItems, expected.length);

      // Without fields, Backstage matches the term against the order field.
      const byOrderField = await catalog.queryEntities({
        filter: { kind: 'Component' },
        fullTextFilter: { term: 'optimi' },
        orderFields: { field: 'metadata.name', order: 'asc' },
        limit: 100,
      });
      assert.deepEqual(
        byOrderField.items.map(e => e.metadata.name),
        componentNames.filter(n => n.includes('optimi')),
      );
    });

    test('fields applies to every page', async () => {
      const first = await catalog.queryEntities({
        filter: { kind: 'Group' },
        fields: ['metadata.name'],
        limit: 2,
        orderFields: { field: 'metadata.name', order: 'asc' },
      });
      const next = await catalog.queryEntities({
        cursor: first.pageInfo.nextCursor,
        fields: ['metadata.name'],
        limit: 2,
      });
      for (const item of [...first.items, ...next.items]) {
        assert.deepEqual(Object.keys(item), ['metadata']);
      }
      assert.deepEqual(
        [...first.items, ...next.items].map(e => e.metadata.name),
        sorted(ofKind('Group').map(e => e.metadata.name)).slice(0, 4),
      );
    });
  });

  describe('getEntityByRef and relations', () => {
    test('a component has the relations its spec declares', async () => {
      const entity = await catalog.getEntityByRef('component:default/route-planner');
      assert.ok(entity, 'component:default/route-planner not found');
      assert.equal(entity.metadata.name, 'route-planner');
      assert.equal(entity.metadata.namespace, 'default');
      assertRelation(entity, 'ownedBy', 'group:default/routing-team');
      assertRelation(entity, 'partOf', 'system:default/route-planning');
      assertRelation(entity, 'providesApi', 'api:default/route-planner-api');
      assertRelation(entity, 'consumesApi', 'api:default/fleet-telemetry-api');
      assertRelation(entity, 'dependsOn', 'resource:default/routes-db');
      assertRelation(entity, 'dependsOn', 'component:default/route-optimizer');
    });

    test('the other side of each relation has the reverse relation', async () => {
      const group = await catalog.getEntityByRef('group:default/routing-team');
      assertRelation(group, 'ownerOf', 'component:default/route-planner');
      assertRelation(group, 'hasMember', 'user:default/ada-okafor');
      assertRelation(group, 'childOf', 'group:default/logistics-engineering');

      const parent = await catalog.getEntityByRef('group:logistics-engineering');
      assertRelation(parent, 'parentOf', 'group:default/routing-team');

      const user = await catalog.getEntityByRef('user:default/bruno-lindqvist');
      assertRelation(user, 'memberOf', 'group:default/routing-team');
      assertRelation(user, 'memberOf', 'group:default/platform-team');

      const system = await catalog.getEntityByRef('system:default/route-planning');
      assertRelation(system, 'hasPart', 'component:default/route-planner');
      assertRelation(system, 'partOf', 'domain:default/parcel-logistics');

      const api = await catalog.getEntityByRef('api:default/route-planner-api');
      assertRelation(api, 'apiProvidedBy', 'component:default/route-planner');
      assertRelation(api, 'apiConsumedBy', 'component:default/dispatch-service');

      const db = await catalog.getEntityByRef('resource:default/routes-db');
      assertRelation(db, 'dependencyOf', 'component:default/route-planner');
    });

    test('API definitions given as $text hold the text of their files', async () => {
      const withText = example.filter(({ entity }) => entity.kind === 'API' && entity.spec.definition?.$text);
      assert.ok(withText.length >= 4);
      for (const { entity, file } of withText) {
        const served = await catalog.getEntityByRef(refOf(entity));
        const text = await fs.readFile(path.resolve(path.dirname(file), entity.spec.definition.$text), 'utf8');
        assert.equal(served.spec.definition, text, `${refOf(entity)} spec.definition`);
      }
    });

    test('a missing ref is undefined', async () => {
      assert.equal(await catalog.getEntityByRef('component:default/no-such-component'), undefined);
      assert.equal(await catalog.getEntityByRef('group:nowhere/routing-team'), undefined);
    });
  });

  test('getEntityFacets counts kinds, types and tags', async () => {
    const facets = ['kind', 'spec.type', 'metadata.tags'];
    const withoutLocations = exampleEntities.filter(e => e.kind !== 'Location');
    const expectedKinds = countFacet(withoutLocations, e => e.kind);
    const expectedTypes = countFacet(withoutLocations, e => e.spec?.type);
    const expectedTags = countFacet(exampleEntities, e => e.metadata.tags ?? []);

    // Unfiltered: the server may add Location entities of its own for the
    // locations it registered, so Location counts at least the example's.
    const all = await catalog.getEntityFacets({ facets });
    const kinds = facetMap(all, 'kind');
    const locations = kinds.Location ?? 0;
    delete kinds.Location;
    assert.deepEqual(kinds, expectedKinds);
    assert.ok(locations >= ofKind('Location').length, `kind facet counts ${locations} Locations`);
    assert.deepEqual(facetMap(all, 'metadata.tags'), expectedTags);

    // Filtered to the example's own kinds, every facet is exact.
    const filtered = await catalog.getEntityFacets({ facets, filter: { kind: kindsButLocation } });
    assert.deepEqual(facetMap(filtered, 'kind'), expectedKinds);
    assert.deepEqual(facetMap(filtered, 'spec.type'), expectedTypes);
    assert.deepEqual(facetMap(filtered, 'metadata.tags'), expectedTags);

    const teams = await catalog.getEntityFacets({ facets: ['spec.type'], filter: { kind: 'Group' } });
    assert.deepEqual(facetMap(teams, 'spec.type'), countFacet(ofKind('Group'), e => e.spec.type));
  });

  describe('validateEntity', () => {
    const locationRef = 'url:https://northwind-parcel.example/catalog-info.yaml';
    const entity = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'parcel-weigher', description: 'Weighs parcels on the belt.' },
      spec: { type: 'service', lifecycle: 'experimental', owner: 'fleet-team' },
    };

    test('a valid entity is valid', async () => {
      assert.deepEqual(await catalog.validateEntity(entity, locationRef), { valid: true });
    });

    test('an invalid name is reported on metadata.name', async () => {
      const invalid = { ...entity, metadata: { ...entity.metadata, name: 'Invalid Name!' } };
      const result = await catalog.validateEntity(invalid, locationRef);
      assert.equal(result.valid, false);
      assert.ok(Array.isArray(result.errors) && result.errors.length > 0, JSON.stringify(result));
      assert.ok(
        result.errors.some(e => typeof e.message === 'string' && e.message.includes('metadata.name')),
        `no error mentions metadata.name: ${JSON.stringify(result.errors)}`,
      );
      assert.equal(await catalog.getEntityByRef('component:default/parcel-weigher'), undefined, 'validation registers nothing');
    });
  });

  describe('locations', () => {
    const suffix = `${process.pid}-${Date.now().toString(36)}`;
    const name = `scratch-widget-${suffix}`;
    const ref = `component:default/${name}`;
    const descriptor = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name, description: 'Written by the catalog-client compatibility test.', tags: ['compat-test'] },
      spec: { type: 'service', lifecycle: 'experimental', owner: 'web-team', system: 'customer-web' },
    };
    let scratchDir;
    let outsideDir;
    let registeredId;

    before(async () => {
      await fs.mkdir(SCRATCH, { recursive: true });
      scratchDir = await fs.mkdtemp(path.join(SCRATCH, 'compat-'));
      outsideDir = await fs.mkdtemp(path.join(os.tmpdir(), 'backlot-outside-'));
    });

    after(async () => {
      if (registeredId) {
        await catalog.removeLocationById(registeredId).catch(() => {});
      }
      await fs.rm(scratchDir, { recursive: true, force: true });
      await fs.rm(outsideDir, { recursive: true, force: true });
    });

    test('add (dry run, then for real), read back, look up and remove a file location', async () => {
      const file = path.join(scratchDir, 'catalog-info.yaml');
      await fs.writeFile(file, stringify(descriptor));

      const dry = await catalog.addLocation({ type: 'file', target: file, dryRun: true });
      assert.ok(
        dry.entities.some(e => e.kind === 'Component' && e.metadata.name === name),
        `dry run did not return ${ref}: ${JSON.stringify(dry.entities.map(refOf))}`,
      );
      assert.equal(dry.exists, false, 'the location is not registered yet');
      assert.equal(await catalog.getEntityByRef(ref), undefined, 'a dry run registers nothing');

      const added = await catalog.addLocation({ type: 'file', target: file });
      registeredId = added.location.id;
      assert.equal(typeof added.location.id, 'string');
      assert.ok(added.location.id.length > 0);
      assert.equal(added.location.type, 'file');
      assert.equal(added.location.target, file);
      assert.ok(
        added.entities.some(e => e.kind === 'Component' && e.metadata.name === name),
        `addLocation did not return ${ref}: ${JSON.stringify(added.entities.map(refOf))}`,
      );

      // Read your writes: visible as soon as addLocation returns.
      const entity = await catalog.getEntityByRef(ref);
      assert.ok(entity, `${ref} is not readable right after addLocation returned`);
      assert.equal(entity.metadata.description, descriptor.metadata.description);
      assertRelation(entity, 'ownedBy', 'group:default/web-team');
      assertRelation(entity, 'partOf', 'system:default/customer-web');
      assert.equal(entity.metadata.annotations?.['backstage.io/managed-by-location'], `file:${file}`);
      const owner = await catalog.getEntityByRef('group:default/web-team');
      assertRelation(owner, 'ownerOf', ref);

      const location = await catalog.getLocationById(added.location.id);
      assert.deepEqual(
        { id: location?.id, type: location?.type, target: location?.target },
        { id: added.location.id, type: 'file', target: file },
      );
      const { items: locations } = await catalog.getLocations();
      assert.ok(locations.some(l => l.id === added.location.id && l.target === file), 'getLocations lists it');

      await catalog.removeLocationById(added.location.id);
      registeredId = undefined;
      assert.equal(await catalog.getEntityByRef(ref), undefined, `${ref} is still there after removeLocationById`);
      assert.equal(await catalog.getLocationById(added.location.id), undefined);
      const ownerAfter = await catalog.getEntityByRef('group:default/web-team');
      assert.ok(!hasRelation(ownerAfter, 'ownerOf', ref), 'web-team still owns the removed component');
    });

    test('a file location outside the allowed roots is refused with 403', async () => {
      const outside = path.join(outsideDir, 'catalog-info.yaml');
      await fs.writeFile(outside, stringify({ ...descriptor, metadata: { ...descriptor.metadata, name: `${name}-outside` } }));
      assert.ok(!isInside(SCRATCH, outside) && !isInside(EXAMPLES, outside), `${outside} must lie outside the roots`);

      // Plainly outside; dot-dot out of the scratch folder; a symlink in the
      // scratch folder that points outside.
      const link = path.join(scratchDir, 'escape');
      await fs.symlink(outsideDir, link);
      const targets = [
        outside,
        `${scratchDir}/${path.relative(scratchDir, outside)}`,
        path.join(link, 'catalog-info.yaml'),
      ];
      for (const target of targets) {
        await assertResponseError(catalog.addLocation({ type: 'file', target }), 403, `addLocation ${target}`);
        await assertResponseError(
          catalog.addLocation({ type: 'file', target, dryRun: true }),
          403,
          `addLocation dry run ${target}`,
        );
      }
      const { items: locations } = await catalog.getLocations();
      assert.ok(!locations.some(l => targets.includes(l.target)), 'a refused location was registered anyway');
      assert.equal(await catalog.getEntityByRef(`component:default/${name}-outside`), undefined);
    });
  });
});
