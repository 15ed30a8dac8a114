/**
 * The Retrieve Capabilities transaction (PS3.18 §8.9): `OPTIONS` on a DICOMweb resource answers
 * with a WADL document describing it, its methods and the resources below it (PS3.18 Annex H).
 * An origin server claiming conformance to the Studies Service's Retrieve, Store or Search
 * transactions shall support it (PS3.18 §10.2). Made from the routes' own documentation, so it
 * describes exactly what is mounted. Pure: the HTTP side is in `http/app.ts`.
 */
import type { RouteDoc } from '../http/route-doc.js';
import { escapeXml } from './dicom-xml.js';

export const WADL = 'application/vnd.sun.wadl+xml';
const WADL_NAMESPACE = 'http://wadl.dev.java.net/2009/02';

interface Resource {
  segment: string;
  methods: RouteDoc[];
  children: Map<string, Resource>;
}

/**
 * The WADL of the resource at `target` (a path under `mountPath`, say `/dicomweb/studies/1.2.3`)
 * and everything below it, with `base` as the service's base URL; null when no documented route
 * has such a resource.
 */
export function capabilitiesWadl(docs: readonly RouteDoc[], mountPath: string, base: string, target: string): string | null {
  const root: Resource = { segment: '', methods: [], children: new Map() };
  for (const doc of docs) {
    if (!doc.path.startsWith(`${mountPath}/`)) continue;
    let node = root;
    for (const segment of doc.path.slice(mountPath.length + 1).split('/')) {
      // Hono's `:name` (and `:name{regex}`) is WADL's `{name}`.
      const name = segment.startsWith(':') ? `{${segment.slice(1).replace(/\{.*$/, '')}}` : segment;
      let child = node.children.get(name);
      if (!child) node.children.set(name, (child = { segment: name, methods: [], children: new Map() }));
      node = child;
    }
    node.methods.push(doc);
  }

  const rest = target.replace(/\/+$/, '').slice(mountPath.length);
  if (rest !== '' && !rest.startsWith('/')) return null;
  let node = root;
  const walked: string[] = [];
  for (const segment of rest.split('/').filter(Boolean)) {
    const literal = node.children.get(segment);
    const parameter = [...node.children.values()].find((c) => c.segment.startsWith('{'));
    const next = literal ?? parameter;
    if (!next) return null;
    walked.push(literal ? segment : next.segment);
    node = next;
  }

  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n', `<application xmlns="${WADL_NAMESPACE}">`, `<resources base="${escapeXml(base, true)}">`];
  if (walked.length === 0) for (const child of node.children.values()) writeResource(child, child.segment, out);
  else writeResource(node, walked.join('/'), out);
  out.push('</resources>', '</application>\n');
  return out.join('');
}

function writeResource(node: Resource, path: string, out: string[]): void {
  out.push(`<resource path="${escapeXml(path, true)}">`);
  if (node.segment.startsWith('{')) out.push(`<param name="${escapeXml(node.segment.slice(1, -1), true)}" style="template" required="true"/>`);
  for (const doc of node.methods) {
    out.push(`<method name="${doc.method}">`, `<doc>${escapeXml(doc.summary, true)}</doc>`);
    if (doc.media?.request) {
      out.push('<request>');
      for (const type of doc.media.request) out.push(`<representation mediaType="${escapeXml(type, true)}"/>`);
      out.push('</request>');
    }
    for (const [status, meaning] of Object.entries(doc.responses)) {
      out.push(`<response status="${status}">`, `<doc>${escapeXml(meaning, true)}</doc>`);
      if (Number(status) >= 200 && Number(status) < 300 && Number(status) !== 204) {
        for (const type of doc.media?.response ?? []) out.push(`<representation mediaType="${escapeXml(type, true)}"/>`);
      }
      out.push('</response>');
    }
    out.push('</method>');
  }
  for (const child of node.children.values()) writeResource(child, child.segment, out);
  out.push('</resource>');
}
