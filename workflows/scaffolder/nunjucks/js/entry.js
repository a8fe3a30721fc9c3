// The entry of the bundle Backlot's scaffolder runs in goja: nunjitsu, the
// template engine Backstage's scaffolder renders with, configured as
// Backstage configures it (its filters parseRepoUrl, parseEntityRef, pick and
// projectSlug; ${{ }} variable tags; no autoescape; renderValue keeping a
// sole expression's type), behind a small JSON interface for the Go host:
//
//   backlotTemplates.prepare(optionsJSON, contextJSON)  -> "" or an error JSON
//   backlotTemplates.render(source, limitsJSON)         -> result JSON
//   backlotTemplates.renderValue(source, limitsJSON)    -> result JSON
//
// A result is {"v": value} ({} for undefined) or {"error": {...}} naming the
// kind of failure, the message, the line, the column and the limit passed.
import './guards.js';
import { createTemplateRenderer, TemplateLimitError, TemplateRenderError } from 'nunjitsu';

function inputError(message) {
  const e = new Error(message);
  e.name = 'InputError';
  return e;
}

// readQuery reads the query of a repository location into its parameters,
// as URLSearchParams does (+ is a space, %XX decoded).
function readQuery(query) {
  const params = {};
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const i = pair.indexOf('=');
    const dec = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    const k = dec(i < 0 ? pair : pair.slice(0, i));
    const v = dec(i < 0 ? '' : pair.slice(i + 1));
    if (!(k in params)) params[k] = v;
  }
  return params;
}

function trimSlashes(s) {
  return s.replace(/^\/+|\/+$/g, '');
}

// parseRepoUrl reads host?owner=O&repo=R (with organization, workspace and
// project for other hosts) as Backstage's filter does. Backlot knows no
// integration types per host: every host needs repo, and owner unless it
// names a project, a workspace or an organization.
function parseRepoUrl(repoUrl) {
  if (typeof repoUrl !== 'string') {
    throw inputError(`Invalid repo URL passed to publisher, got ${repoUrl}`);
  }
  const q = repoUrl.indexOf('?');
  const hostPart = q < 0 ? repoUrl : repoUrl.slice(0, q);
  const host = hostPart.split('/')[0].toLowerCase();
  if (host === '' || /[\s#]/.test(host)) {
    throw inputError(`Invalid repo URL passed to publisher, got ${repoUrl}`);
  }
  const params = readQuery(q < 0 ? '' : repoUrl.slice(q + 1));
  const get = (k) => (k in params ? trimSlashes(params[k]) : undefined);
  const out = {
    host,
    owner: get('owner'),
    repo: get('repo'),
    organization: get('organization'),
    workspace: get('workspace'),
    project: get('project'),
  };
  const missing = (k) => {
    throw inputError(`Invalid repo URL passed to publisher: https://${repoUrl}, missing ${k}`);
  };
  if (!params.repo) missing('repo');
  if (!params.owner && !params.project && !params.workspace && !params.organization) missing('owner');
  return out;
}

function projectSlug(repoUrl) {
  const { owner, repo } = parseRepoUrl(repoUrl);
  return `${owner}/${repo}`;
}

// parseEntityRef is @backstage/catalog-model's parseEntityRef.
function parseEntityRef(ref, context) {
  if (!ref) {
    throw new Error('Entity reference must not be empty');
  }
  const defaultKind = context && context.defaultKind;
  const defaultNamespace = (context && context.defaultNamespace) || 'default';
  let kind;
  let namespace;
  let name;
  if (typeof ref === 'string') {
    let colonI = ref.indexOf(':');
    const slashI = ref.indexOf('/');
    if (slashI !== -1 && slashI < colonI) colonI = -1;
    const k = colonI === -1 ? undefined : ref.slice(0, colonI);
    const ns = slashI === -1 ? undefined : ref.slice(colonI + 1, slashI);
    const n = ref.slice(Math.max(colonI + 1, slashI + 1));
    if (k === '' || ns === '' || n === '') {
      throw new TypeError(`Entity reference "${ref}" was not on the form [<kind>:][<namespace>/]<name>`);
    }
    kind = k === undefined ? defaultKind : k;
    namespace = ns === undefined ? defaultNamespace : ns;
    name = n;
  } else {
    kind = ref.kind === undefined || ref.kind === null ? defaultKind : ref.kind;
    namespace = ref.namespace === undefined || ref.namespace === null ? defaultNamespace : ref.namespace;
    name = ref.name;
  }
  const textual = () => JSON.stringify(ref);
  if (!kind) {
    throw new Error(`Entity reference ${textual()} had missing or empty kind (e.g. did not start with "component:" or similar)`);
  } else if (!namespace) {
    throw new Error(`Entity reference ${textual()} had missing or empty namespace`);
  } else if (!name) {
    throw new Error(`Entity reference ${textual()} had missing or empty name`);
  }
  return { kind, namespace, name };
}

// lodash's property path syntax: a.b[0]["c"].
const propName = /[^.[\]]+|\[(?:(-?\d+(?:\.\d+)?)|(["'])((?:(?!\2)[^\\]|\\.)*?)\2)\]|(?=(?:\.|\[\])(?:\.|\[\]|$))/g;

function toPath(path) {
  if (Array.isArray(path)) return path.map(String);
  const s = String(path);
  const out = [];
  if (s.charCodeAt(0) === 46) out.push('');
  s.replace(propName, (match, number, quote, sub) => {
    out.push(quote ? sub.replace(/\\(\\)?/g, '$1') : number || match);
    return match;
  });
  return out;
}

// pick is lodash's get: the value at path of object, or defaultValue.
function pick(object, path, defaultValue) {
  if (object === null || object === undefined) return defaultValue;
  let keys;
  if (typeof path === 'string' && Object.prototype.hasOwnProperty.call(Object(object), path)) {
    keys = [path];
  } else if (typeof path === 'number') {
    keys = [String(path)];
  } else {
    keys = typeof path === 'string' && !/[.[\]]/.test(path) ? [path] : toPath(path);
  }
  let v = object;
  for (let i = 0; i < keys.length && v !== null && v !== undefined; i++) {
    v = v[keys[i]];
  }
  return v === undefined ? defaultValue : v;
}

const filters = {
  parseRepoUrl: (url) => parseRepoUrl(url),
  parseEntityRef: (ref, context) => parseEntityRef(ref, context),
  pick: (object, path, defaultValue) => pick(object, path, defaultValue),
  projectSlug: (url) => projectSlug(url),
};

const renderers = new Map();
let current = null;
let prepared = null;

function fail(e) {
  const error = { kind: 'error', message: String((e && e.message) || e) };
  if (e instanceof TemplateLimitError) {
    error.kind = 'limit';
    error.limit = e.limit;
    error.configured = e.configured;
    error.observed = e.observed;
  } else if (e instanceof TemplateRenderError) {
    error.kind = e.code;
  } else if (e instanceof TypeError || e instanceof RangeError) {
    error.kind = 'input';
  }
  if (e && typeof e.line === 'number') error.line = e.line;
  if (e && typeof e.column === 'number') error.column = e.column;
  return JSON.stringify({ error });
}

function limitsOf(limitsJSON) {
  return limitsJSON ? { limits: JSON.parse(limitsJSON) } : undefined;
}

globalThis.backlotTemplates = {
  // prepare chooses the renderer (options: cookiecutterCompat, trimBlocks,
  // lstripBlocks) and copies the context the next renders read.
  prepare(optionsJSON, contextJSON) {
    try {
      let r = renderers.get(optionsJSON);
      if (!r) {
        const o = JSON.parse(optionsJSON);
        r = createTemplateRenderer({
          allowRegexExecution: true,
          filters,
          cookiecutterCompat: !!o.cookiecutterCompat,
          trimBlocks: !!o.trimBlocks,
          lstripBlocks: !!o.lstripBlocks,
        });
        renderers.set(optionsJSON, r);
      }
      current = r;
      prepared = r.prepareContext(JSON.parse(contextJSON));
      return '';
    } catch (e) {
      current = null;
      prepared = null;
      return fail(e);
    }
  },
  // render renders source as text.
  render(source, limitsJSON) {
    try {
      return JSON.stringify({ v: current.render(source, prepared, limitsOf(limitsJSON)) });
    } catch (e) {
      return fail(e);
    }
  },
  // renderValue renders source keeping a sole expression's value.
  renderValue(source, limitsJSON) {
    try {
      const v = current.renderValue(source, prepared, limitsOf(limitsJSON));
      return v === undefined ? '{}' : JSON.stringify({ v });
    } catch (e) {
      return fail(e);
    }
  },
};
