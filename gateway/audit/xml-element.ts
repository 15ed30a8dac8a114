/**
 * A minimal XML element tree and its writer, for documents Limen composes (audit messages): one
 * element per line, indented, attributes in the order given, text escaped by the DICOMweb XML
 * writer's rules. Absent attributes (undefined) are left out, so callers write optional fields inline.
 */
import { escapeXml } from '../dicomweb/dicom-xml.js';

export interface XmlElement {
  readonly name: string;
  readonly attributes: ReadonlyArray<readonly [string, string | undefined]>;
  readonly children: ReadonlyArray<XmlElement | string>;
}

/** An element; `children` are elements or text, falsy ones skipped (for conditional children). */
export function xml(name: string, attributes: Record<string, string | undefined> = {}, ...children: ReadonlyArray<XmlElement | string | undefined | false>): XmlElement {
  return { name, attributes: Object.entries(attributes), children: children.filter((c): c is XmlElement | string => c !== undefined && c !== false) };
}

/** A complete XML 1.0 document in UTF-8. */
export function xmlDocument(root: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${render(root, '')}\n`;
}

function render(e: XmlElement, indent: string): string {
  const attrs = e.attributes
    .filter((a): a is readonly [string, string] => a[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(v, true)}"`)
    .join('');
  if (e.children.length === 0) return `${indent}<${e.name}${attrs}/>`;
  // Text content is written inline: whitespace around it would become part of the value.
  if (e.children.every((c) => typeof c === 'string')) return `${indent}<${e.name}${attrs}>${(e.children as string[]).map((t) => escapeXml(t, false)).join('')}</${e.name}>`;
  const inner = e.children.map((c) => (typeof c === 'string' ? `${indent}  ${escapeXml(c, false)}` : render(c, `${indent}  `))).join('\n');
  return `${indent}<${e.name}${attrs}>\n${inner}\n${indent}</${e.name}>`;
}
