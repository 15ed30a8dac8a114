/**
 * Checks the writer's input before anything is built, so a bad manifest entry or a geometry bug
 * ends as one clear error with a path instead of an invalid SEG. Limits are PS3.5 Table 6.2-1's.
 */
import { SegError } from './errors.js';
import type { CodedConcept, PatientStudyValues, SegmentationInput } from './types.js';

const UID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

/** A UID as PS3.5 §9.1 wants it: dot-separated numbers without leading zeros, at most 64 characters. */
export function isUID(s: string): boolean {
  return s.length > 0 && s.length <= 64 && UID.test(s);
}

export function checkUID(path: string, s: string): void {
  if (typeof s !== 'string' || !isUID(s)) throw new SegError('invalid-input', `${path} is not a valid UID`, { path });
}

const fail = (path: string, why: string): never => {
  throw new SegError('invalid-input', `${path} ${why}`, { path });
};

interface TextRule {
  max: number;
  /** Type 1: must not be empty. */
  required?: boolean;
  /** ST/LT: line breaks and tabs are allowed. */
  multiline?: boolean;
}

/** LO 64, SH 16, PN 64 (per component group), ST 1024, LT 10240 characters. */
export const LO: TextRule = { max: 64 };
export const SH: TextRule = { max: 16 };
export const PN: TextRule = { max: 64 };
export const ST: TextRule = { max: 1024, multiline: true };
export const LT: TextRule = { max: 10240, multiline: true };

export function checkText(path: string, s: unknown, rule: TextRule): void {
  if (typeof s !== 'string') fail(path, 'must be a string');
  const text = s as string;
  if (rule.required && text.trim() === '') fail(path, 'must not be empty');
  if (text.length > rule.max) fail(path, `is ${text.length} characters, more than the ${rule.max} its VR allows`);
  const forbidden = rule.multiline ? /[\x00-\x08\x0b\x0e-\x1f\x7f]/ : /[\x00-\x1f\x7f\\]/;
  if (forbidden.test(text)) fail(path, rule.multiline ? 'holds control characters' : 'holds a backslash or control characters');
}

function checkCode(path: string, code: CodedConcept | undefined): void {
  if (!code || typeof code !== 'object') fail(path, 'must be a coded concept { value, scheme, meaning }');
  const c = code as CodedConcept;
  checkText(`${path}.value`, c.value, { max: 64, required: true });
  checkText(`${path}.scheme`, c.scheme, { ...SH, required: true });
  checkText(`${path}.meaning`, c.meaning, { ...LO, required: true });
}

function checkInteger(path: string, n: unknown, min: number, max: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) fail(path, `must be an integer from ${min} to ${max}`);
}

const finite3 = (v: unknown): boolean => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
const dot = (a: readonly number[], b: readonly number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

function checkGeometry(input: SegmentationInput): void {
  const map = input.labelMap;
  const [nx, ny, nz] = map.dims;
  for (const [i, n] of map.dims.entries()) checkInteger(`labelMap.dims[${i}]`, n, 1, i < 2 ? 0xffff : 0x7fffffff);
  if (!(map.labels instanceof Uint8Array) || map.labels.length !== nx * ny * nz) {
    fail('labelMap.labels', `must be a Uint8Array of ${nx}×${ny}×${nz} voxels`);
  }
  if (!map.spacing.every((s) => Number.isFinite(s) && s > 0)) fail('labelMap.spacing', 'must be three positive numbers');
  for (const key of ['origin', 'rowDirection', 'columnDirection', 'sliceDirection'] as const) {
    if (!finite3(map[key])) fail(`labelMap.${key}`, 'must be three finite numbers');
  }
  const sources = input.source.sources;
  if (!Array.isArray(sources) || sources.length !== nz) fail('source.sources', `must list one source per slice (${nz})`);
  const seen = new Set<string>();
  sources.forEach((s, z) => {
    const path = `source.sources[${z}]`;
    checkUID(`${path}.sopClassUID`, s.sopClassUID);
    checkUID(`${path}.sopInstanceUID`, s.sopInstanceUID);
    if (s.frameNumber !== undefined) checkInteger(`${path}.frameNumber`, s.frameNumber, 1, 0x7fffffff);
    const key = `${s.sopInstanceUID}#${s.frameNumber ?? 0}`;
    if (seen.has(key)) fail(path, 'references the same image (and frame) as another slice');
    seen.add(key);
    if (!finite3(s.position)) fail(`${path}.position`, 'must be three finite numbers');
    // The frame goes where the source image is; a source far off the label map's grid means the
    // sources and the map were not made from the same sort, and the mask would land on the wrong slice.
    const d = [0, 1, 2].map((k) => s.position[k] - (map.origin[k] + z * map.spacing[2] * map.sliceDirection[k]));
    const off = [Math.abs(dot(d, map.rowDirection)) / map.spacing[0], Math.abs(dot(d, map.columnDirection)) / map.spacing[1], Math.abs(dot(d, map.sliceDirection)) / map.spacing[2]];
    if (off.some((o) => o > 0.5)) fail(`${path}.position`, `is not slice ${z} of the label map's grid`);
  });
}

const DA = /^(\d{8})?$/;
const TM = /^(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?$/;

function checkPatientStudy(values: PatientStudyValues): void {
  const p = (k: string): string => `patientStudy.${k}`;
  if (values.patientName !== undefined) checkText(p('patientName'), values.patientName, PN);
  if (values.patientID !== undefined) checkText(p('patientID'), values.patientID, LO);
  if (values.patientBirthDate !== undefined && !DA.test(values.patientBirthDate)) fail(p('patientBirthDate'), 'must be YYYYMMDD or empty');
  if (values.patientSex !== undefined && !/^(M|F|O)?$/.test(values.patientSex)) fail(p('patientSex'), 'must be M, F, O or empty');
  if (values.studyDate !== undefined && !DA.test(values.studyDate)) fail(p('studyDate'), 'must be YYYYMMDD or empty');
  if (values.studyTime !== undefined && !TM.test(values.studyTime)) fail(p('studyTime'), 'must be HHMMSS.FFFFFF or empty');
  if (values.referringPhysicianName !== undefined) checkText(p('referringPhysicianName'), values.referringPhysicianName, PN);
  if (values.studyID !== undefined) checkText(p('studyID'), values.studyID, SH);
  if (values.accessionNumber !== undefined) checkText(p('accessionNumber'), values.accessionNumber, SH);
}

/** Throws a SegError('invalid-input') naming the first thing wrong with `input`. */
export function validateInput(input: SegmentationInput): void {
  checkGeometry(input);
  checkUID('source.studyInstanceUID', input.source.studyInstanceUID);
  checkUID('source.seriesInstanceUID', input.source.seriesInstanceUID);
  checkUID('source.frameOfReferenceUID', input.source.frameOfReferenceUID);
  if (input.seriesInstanceUID !== undefined) checkUID('seriesInstanceUID', input.seriesInstanceUID);
  if (input.sopInstanceUID !== undefined) checkUID('sopInstanceUID', input.sopInstanceUID);
  if (typeof input.newUID !== 'function') fail('newUID', 'must be a function returning a new UID');
  if (!Array.isArray(input.patientStudy)) checkPatientStudy(input.patientStudy);

  if (!Array.isArray(input.segments) || input.segments.length === 0) fail('segments', 'must describe at least one segment');
  const ids = new Set<number>();
  input.segments.forEach((s, i) => {
    const path = `segments[${i}]`;
    checkInteger(`${path}.labelId`, s.labelId, 1, 255);
    if (ids.has(s.labelId)) fail(`${path}.labelId`, `repeats label ${s.labelId}`);
    ids.add(s.labelId);
    checkText(`${path}.label`, s.label, { ...LO, required: true });
    if (s.description !== undefined) checkText(`${path}.description`, s.description, ST);
    checkCode(`${path}.category`, s.category);
    checkCode(`${path}.type`, s.type);
    if (s.typeModifier !== undefined) checkCode(`${path}.typeModifier`, s.typeModifier);
    if (s.contains !== undefined) {
      if (!Array.isArray(s.contains)) fail(`${path}.contains`, 'must be a list of label values');
      s.contains.forEach((c, k) => {
        checkInteger(`${path}.contains[${k}]`, c, 1, 255);
        if (c === s.labelId) fail(`${path}.contains[${k}]`, 'a segment cannot contain its own label');
        if (!input.segments.some((other) => other.labelId === c)) fail(`${path}.contains[${k}]`, `no segment describes label ${c}`);
      });
    }
    if (s.anatomicRegion !== undefined) checkCode(`${path}.anatomicRegion`, s.anatomicRegion);
    if (s.rgb !== undefined) {
      if (!Array.isArray(s.rgb) || s.rgb.length !== 3) fail(`${path}.rgb`, 'must be three numbers from 0 to 255');
      s.rgb.forEach((c, k) => checkInteger(`${path}.rgb[${k}]`, c, 0, 255));
    }
    if (s.cieLab !== undefined) {
      if (!Array.isArray(s.cieLab) || s.cieLab.length !== 3) fail(`${path}.cieLab`, 'must be three numbers from 0 to 65535');
      s.cieLab.forEach((c, k) => checkInteger(`${path}.cieLab[${k}]`, c, 0, 65535));
    }
  });

  const a = input.algorithm;
  checkText('algorithm.name', a?.name, { ...LO, required: true });
  checkText('algorithm.version', a?.version, { ...LO, required: true });
  checkCode('algorithm.family', a?.family);
  if (a.source !== undefined) checkText('algorithm.source', a.source, LO);
  if (a.parameters !== undefined) checkText('algorithm.parameters', a.parameters, LT);

  const e = input.equipment;
  checkText('equipment.manufacturer', e?.manufacturer, { ...LO, required: true });
  checkText('equipment.modelName', e?.modelName, { ...LO, required: true });
  checkText('equipment.deviceSerialNumber', e?.deviceSerialNumber, { ...LO, required: true });
  const versions = typeof e.softwareVersions === 'string' ? [e.softwareVersions] : e.softwareVersions;
  if (!Array.isArray(versions) || versions.length === 0) fail('equipment.softwareVersions', 'must name at least one version');
  versions.forEach((v, i) => checkText(`equipment.softwareVersions[${i}]`, v, { ...LO, required: true }));

  checkText('contentCreatorName', input.contentCreatorName, PN);
  if (input.contentLabel !== undefined && !/^[A-Z0-9_ ]{1,16}$/.test(input.contentLabel)) {
    fail('contentLabel', 'must be 1 to 16 of A–Z, 0–9, space and underscore (CS)');
  }
  if (input.contentDescription !== undefined) checkText('contentDescription', input.contentDescription, LO);
  if (input.seriesDescription !== undefined) checkText('seriesDescription', input.seriesDescription, LO);
  checkInteger('seriesNumber', input.seriesNumber, -(2 ** 31), 2 ** 31 - 1);
  if (input.instanceNumber !== undefined) checkInteger('instanceNumber', input.instanceNumber, -(2 ** 31), 2 ** 31 - 1);
  if (input.sliceThickness !== undefined && !(Number.isFinite(input.sliceThickness) && input.sliceThickness > 0)) {
    fail('sliceThickness', 'must be a positive number of millimetres');
  }
  if (input.contentDateTime !== undefined && Number.isNaN(input.contentDateTime.getTime())) fail('contentDateTime', 'is not a valid date');
  if (input.implementation !== undefined) {
    checkUID('implementation.classUID', input.implementation.classUID);
    checkText('implementation.versionName', input.implementation.versionName, { ...SH, required: true });
  }
}

/** A UID the caller's generator produced, checked like any other. */
export function newUIDFrom(generate: () => string, what: string): string {
  const uid = generate();
  checkUID(`newUID() for the ${what}`, uid);
  return uid;
}
