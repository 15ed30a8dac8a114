/**
 * Each configured route compiled once at start: its de-identification profile checked against
 * the anonymizer and its model looked up, so a typo in an option name or a model id stops the
 * gateway with the route's path instead of failing every study later.
 */
import { createProfile, isProfileName, unknownProfile, type Profile } from '../../anonymizer/index.js';
import type { LimenConfig, RouteConfig } from '../../config/index.js';
import { findModelDir } from '../../pipeline/process/model-dirs.js';

export interface CompiledRoute {
  name: string;
  config: RouteConfig;
  profile: Profile;
}

export interface RouteIssue {
  path: string;
  message: string;
}

/** Compiles every route's profile; returns all problems at once, like config validation. */
export function compileRoutes(config: LimenConfig): { ok: true; routes: Map<string, CompiledRoute> } | { ok: false, issues: RouteIssue[] } {
  const routes = new Map<string, CompiledRoute>();
  const issues: RouteIssue[] = [];
  for (const [name, route] of Object.entries(config.routes)) {
    const compiled = compileRoute(name, route, config.models.dir);
    if (compiled.profile) routes.set(name, { name, config: route, profile: compiled.profile });
    issues.push(...compiled.issues);
  }
  return issues.length ? { ok: false, issues } : { ok: true, routes };
}

/**
 * The problems `compileRoutes` would find in these routes, for a configuration refused for other
 * reasons: only routes valid on their own are given, and without `modelsDir` (itself invalid)
 * their models are not looked up.
 */
export function routeIssues(routes: Readonly<Record<string, RouteSpec>>, modelsDir: string | undefined): RouteIssue[] {
  return Object.entries(routes).flatMap(([name, route]) => compileRoute(name, route, modelsDir).issues);
}

/** What compiling a route reads of it. */
export type RouteSpec = Pick<RouteConfig, 'deidentification' | 'model'>;

function compileRoute(name: string, route: RouteSpec, modelsDir: string | undefined): { profile?: Profile; issues: RouteIssue[] } {
  const issues: RouteIssue[] = [];
  const d = route.deidentification;
  const r = createProfile({
    // The route's name is part of the profile's name, so two routes never link one patient's data.
    name: `${d.profile}@${name}`,
    options: d.options,
    safePrivate: d.safePrivateAllowlist,
    allowBurnedIn: d.allowBurnedIn,
  });
  if (!r.ok) for (const i of r.issues) issues.push({ path: `routes.${name}.deidentification.${i.path === 'safePrivate' ? 'safePrivateAllowlist' : i.path}`, message: i.message });
  if (route.model !== undefined && modelsDir !== undefined && findModelDir(route.model, modelsDir) === undefined) {
    issues.push({ path: `routes.${name}.model`, message: `no model "${route.model}" in ${modelsDir} or among the models shipped with Limen` });
  }
  if (!isProfileName(d.profile)) issues.push({ path: `routes.${name}.deidentification.profile`, message: unknownProfile(d.profile) });
  return r.ok && issues.length === 0 ? { profile: r.profile, issues } : { issues };
}
