// dryrun.cjs runs Backstage's own scaffolder on the cases of Backlot's
// differential test: it reads one JSON object from standard input,
// {"cases": [{"id", "dir", "template", "values", "user"}]}, and prints one
// JSON line per case:
//
//   {"id", "parameterErrors": [...], "files": [{"path", "base64Content", "executable"}],
//    "output": {...}, "error": "..."}
//
// parameterErrors are what Backstage's task and dry-run endpoints answer when
// they check the values against each parameter page (the jsonschema package,
// one page at a time). files and output are the answer of Backstage's dry
// run (createDryRunner, the code behind POST /v2/dry-run): the template's
// folder dir is handed over as directoryContents, as the frontend's template
// editor sends it, and run by NunjucksWorkflowRunner with Backstage's
// fetch:template, fetch:plain and debug:log actions.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const jsonschema = require('jsonschema');
const { ConfigReader } = require('@backstage/config');
const { ScmIntegrations } = require('@backstage/integration');
const {
  createFetchTemplateAction,
  createFetchPlainAction,
  createDebugLogAction,
} = require('@backstage/plugin-scaffolder-backend');
const scaffolderNode = require('@backstage/plugin-scaffolder-node');

const { serializeDirectoryContents } = scaffolderNode;

// Backstage's dry run writes the uploaded template files without their
// executable bit (its deserializer writes contents only), which a real task,
// fetching the template's folder, keeps. The differential test compares
// modes as a task produces them: the uploaded files get their bit back.
const deserialize = scaffolderNode.deserializeDirectoryContents;
scaffolderNode.deserializeDirectoryContents = async (targetPath, files) => {
  await deserialize(targetPath, files);
  for (const f of files) {
    if (f.executable) fs.chmodSync(path.join(targetPath, f.path), 0o755);
  }
};

// The dry runner and the action registry are not exported by the package:
// they are read from its dist folder by path.
const backend = path.dirname(require.resolve('@backstage/plugin-scaffolder-backend'));
const { createDryRunner } = require(path.join(backend, 'scaffolder/dryrun/createDryRunner.cjs.js'));
const { DefaultTemplateActionRegistry } = require(path.join(backend, 'scaffolder/actions/TemplateActionRegistry.cjs.js'));

const logger = {
  info() {}, warn() {}, error() {}, debug() {},
  child() { return logger; },
};
const noop = () => {};
const instrument = { add: noop, record: noop };
const metrics = {
  createCounter: () => instrument,
  createHistogram: () => instrument,
  createGauge: () => instrument,
  createUpDownCounter: () => instrument,
  createObservableGauge: () => instrument,
};

const config = new ConfigReader({});
const integrations = ScmIntegrations.fromConfig(config);
const reader = {
  readUrl: () => { throw new Error('no url reader in the differential test'); },
  readTree: () => { throw new Error('no url reader in the differential test'); },
  search: () => { throw new Error('no url reader in the differential test'); },
};

function registry() {
  const r = new DefaultTemplateActionRegistry({ list: async () => ({ actions: [] }) }, logger);
  r.register(createFetchTemplateAction({ reader, integrations }));
  r.register(createFetchPlainAction({ reader, integrations }));
  r.register(createDebugLogAction());
  return r;
}

async function runCase(c) {
  const out = { id: c.id, parameterErrors: [], files: [], output: null, error: null };
  for (const page of [c.template.spec.parameters ?? []].flat()) {
    const r = jsonschema.validate(c.values, page);
    for (const e of r.errors) out.parameterErrors.push(`${e.property}: ${e.message}`);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'backlot-compat-'));
  const contents = fs.mkdtempSync(path.join(os.tmpdir(), 'backlot-compat-template-'));
  try {
    const directoryContents = await serializeDirectoryContents(c.dir);
    const dryRun = createDryRunner({
      actionRegistry: registry(),
      integrations,
      workingDirectory: work,
      logger,
      metrics,
      config,
    });
    const result = await dryRun({
      spec: {
        apiVersion: c.template.apiVersion,
        steps: c.template.spec.steps,
        output: c.template.spec.output ?? {},
        parameters: c.values,
        user: c.user,
      },
      templateInfo: {
        entityRef: `template:default/${c.template.metadata.name}`,
        baseUrl: pathToFileURL(path.join(contents, 'template.yaml')).toString(),
        entity: { metadata: c.template.metadata },
      },
      secrets: {},
      directoryContents,
      credentials: { $$type: '@backstage/BackstageCredentials', principal: { type: 'user', userEntityRef: c.user.ref } },
    });
    out.files = result.directoryContents
      .map((f) => ({ path: f.path, base64Content: f.content.toString('base64'), executable: !!f.executable }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    out.output = result.output ?? {};
  } catch (e) {
    out.error = String((e && e.message) || e);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(contents, { recursive: true, force: true });
  }
  return out;
}

async function main() {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  for (const c of input.cases) {
    process.stdout.write(JSON.stringify(await runCase(c)) + '\n');
  }
}

main().catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + '\n');
  process.exit(1);
});
