// node:crypto, as far as nunjitsu uses it (randomInt, for the random filter).
// Math.random is seeded by the Go host before each render, so a template
// renders the same on a workflow's replay.
export function randomInt(max) {
  return Math.floor(Math.random() * max);
}
export default { randomInt };
