/**
 * The methods a path answers, read from the app's own routes, so that a request with another
 * method gets 405 and an Allow header (RFC 9110 §15.5.6) instead of a 404 that says the resource
 * does not exist.
 */
interface RegisteredRoute {
  method: string;
  path: string;
}

/** A hono path pattern as a regular expression: `:name` is one segment, `:name{re}` what `re` matches, `*` anything; exact, as hono's strict router is. */
function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      const custom = /^:\w+\{(.+)\}$/.exec(segment);
      if (custom) return `(?:${custom[1]})`;
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}$`);
}

/** Every method a registered route answers `path` with (HEAD with GET, as hono serves it); empty when none. */
export function allowedMethods(routes: readonly RegisteredRoute[], path: string): string[] {
  const methods = new Set<string>();
  // Middleware is registered for every method ('ALL'); it answers nothing by itself.
  for (const route of routes) if (route.method !== 'ALL' && patternOf(route.path).test(path)) methods.add(route.method);
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}
