// Package catalogmodel checks Backlot's descriptor validation against
// Backstage's own: its test generates descriptors around the edges of every
// rule (names, namespaces, tags, labels, annotations, links, entity refs, each
// kind's fields, apiVersion and kind), runs the published
// @backstage/catalog-model validators on them with node (verdicts.cjs, the npm
// packages pinned in package.json and package-lock.json), runs Backlot's
// parsing and validating constructor on the same bytes, and asserts both reach
// the same verdict, but for a short list of documented exceptions. It compares
// two catalogs: Backstage's built-in kinds (its catalog backend's
// BuiltinKindsEntityProcessor and the scaffolder's Template) against Backlot's
// default kinds, and a catalog with the modules that register the alpha kinds
// (AiResource, the mcp-server API) against Backlot with those as extra kinds.
//
// The package holds no code of its own: only the test and the node script.
package catalogmodel
