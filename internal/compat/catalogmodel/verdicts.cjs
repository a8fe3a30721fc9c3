// verdicts.cjs reads descriptors, one JSON line each ({"id": ..., "entity": ...},
// or {"id": ..., "yaml": "..."} for a descriptor file's text), from standard input and prints one JSON line per descriptor:
// {"id": ..., "ok": true} when Backstage's catalog would accept it, or
// {"id": ..., "ok": false, "error": "..."} with Backstage's own message; and
// the same verdict as "okPlugins" and "errorPlugins" for a catalog with the
// modules that register the kinds catalog-model publishes in its alpha entry
// point (AiResource of each type, and the API of type mcp-server).
//
// "Accept" is what the catalog backend does when it ingests an entity: a file's
// text is parsed as the backend's YAML reader does (the yaml package, YAML 1.2,
// one document's errors reject it, its root must be an object), then the
// default entity policies (SchemaValidEntityPolicy, DefaultNamespaceEntityPolicy,
// NoForeignRootFieldsEntityPolicy, FieldFormatEntityPolicy, in that order), then
// a kind validator that recognizes the entity (the built-in kinds processor's
// validators, and the scaffolder's for Template; with plugins, the alpha
// kinds' validators too), then the entity references
// the built-in kinds processor turns into relations, parsed with the same
// default kind and namespace.
const { createInterface } = require('node:readline');
const {
  EntityPolicies,
  SchemaValidEntityPolicy,
  DefaultNamespaceEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  FieldFormatEntityPolicy,
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  parseEntityRef,
} = require('@backstage/catalog-model');
const {
  mcpServerApiEntityValidator,
  aiResourceEntityV1alpha1Validator,
  skillAiResourceEntityV1alpha1Validator,
  ruleAiResourceEntityV1alpha1Validator,
  pluginAiResourceEntityV1alpha1Validator,
  marketplaceAiResourceEntityV1alpha1Validator,
} = require('@backstage/catalog-model/alpha');
const { templateEntityV1beta3Validator } = require('@backstage/plugin-scaffolder-common');
const { parseAllDocuments } = require('yaml');

// entityOfYaml reads the single document of a descriptor file's text.
function entityOfYaml(text) {
  const docs = parseAllDocuments(text);
  if (docs.length !== 1) throw new Error(`expected one document, got ${docs.length}`);
  const [doc] = docs;
  if (doc.errors?.length) throw new Error(`YAML error, ${doc.errors[0]}`);
  const json = doc.toJSON();
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(`Expected object at root, got ${typeof json}`);
  }
  return json;
}

const policy = EntityPolicies.allOf([
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
]);

// validatorsFor picks the validators a processor would run: the built-in
// kinds processor's (BuiltinKindsEntityProcessor in catalog-backend) and the
// scaffolder's; with plugins, an API's or an AiResource's spec.type selects
// its alpha schema, as the kind layers do.
function validatorsFor(entity, plugins) {
  const type = entity?.spec?.type;
  if (plugins && entity.kind === 'API' && type === 'mcp-server') {
    return [mcpServerApiEntityValidator];
  }
  if (plugins && entity.kind === 'AiResource') {
    const byType = {
      skill: skillAiResourceEntityV1alpha1Validator,
      rule: ruleAiResourceEntityV1alpha1Validator,
      plugin: pluginAiResourceEntityV1alpha1Validator,
      marketplace: marketplaceAiResourceEntityV1alpha1Validator,
    };
    return [byType[type] ?? aiResourceEntityV1alpha1Validator];
  }
  return [
    apiEntityV1alpha1Validator,
    componentEntityV1alpha1Validator,
    resourceEntityV1alpha1Validator,
    groupEntityV1alpha1Validator,
    locationEntityV1alpha1Validator,
    userEntityV1alpha1Validator,
    systemEntityV1alpha1Validator,
    domainEntityV1alpha1Validator,
    templateEntityV1beta3Validator,
  ];
}

// The spec fields whose references become relations, with the default kind
// of a reference that names none (undefined: the reference must name it).
const relationFields = {
  component: { owner: 'Group', system: 'System', subcomponentOf: 'Component', providesApis: 'API', consumesApis: 'API', dependsOn: undefined, dependencyOf: undefined },
  api: { owner: 'Group', system: 'System' },
  resource: { owner: 'Group', system: 'System', dependsOn: undefined, dependencyOf: undefined },
  system: { owner: 'Group', domain: 'Domain' },
  domain: { owner: 'Group', subdomainOf: 'Domain' },
  group: { parent: 'Group', children: 'Group', members: 'User' },
  user: { memberOf: 'Group' },
  airesource: { owner: 'Group', system: 'System' },
  template: { owner: 'Group' },
};

function checkRefs(entity) {
  const fields = relationFields[entity.kind.toLocaleLowerCase('en-US')] ?? {};
  const namespace = entity.metadata.namespace;
  for (const [field, defaultKind] of Object.entries(fields)) {
    const value = entity.spec?.[field];
    if (value === undefined) continue;
    for (const ref of [value].flat()) {
      parseEntityRef(ref, { defaultKind, defaultNamespace: namespace });
    }
  }
}

async function verdict(entity, plugins) {
  const enforced = await policy.enforce(entity);
  if (!enforced) throw new Error('rejected by the entity policies');
  let recognized = false;
  for (const v of validatorsFor(enforced, plugins)) {
    if (await v.check(enforced)) {
      recognized = true;
      break;
    }
  }
  if (!recognized) {
    throw new Error(`No processor recognized the entity ${enforced.kind}:${enforced.metadata.name} as valid, possibly caused by a foreign kind or apiVersion`);
  }
  checkRefs(enforced);
}

async function main() {
  const out = [];
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const { id, entity, yaml } = JSON.parse(line);
    const result = { id };
    for (const [plugins, ok, error] of [[false, 'ok', 'error'], [true, 'okPlugins', 'errorPlugins']]) {
      try {
        await verdict(yaml === undefined ? structuredClone(entity) : entityOfYaml(yaml), plugins);
        result[ok] = true;
      } catch (e) {
        result[ok] = false;
        result[error] = String(e?.message ?? e);
      }
    }
    out.push(JSON.stringify(result));
  }
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
