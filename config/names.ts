import { z } from 'zod';

/** The route every configuration has; callers not bound elsewhere may land here. */
export const DEFAULT_ROUTE_NAME = 'default';

/** Names of routes and destinations: they appear in paths, logs and the API, so kept plain. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** A route or destination name. */
export const nameSchema = z.string().regex(NAME_PATTERN, {
  message: 'a name is 1–64 letters, digits, "-" or "_", starting with a letter or digit',
});
