// node:util, as far as nunjitsu uses it (types.*), for a runtime without Node.
// Nothing that reaches the template engine from Backlot is a Proxy: context
// values arrive as JSON text and are parsed inside the runtime.
export const types = {
  isProxy: () => false,
  isMap: (v) => v instanceof Map,
  isSet: (v) => v instanceof Set,
  isNativeError: (v) => v instanceof Error,
};
export default { types };
