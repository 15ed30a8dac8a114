/**
 * Inline styles in the viewer's dark palette. Inline, because the viewer's stylesheet keeps only
 * the utility classes the viewer itself uses.
 */
import type { CSSProperties } from 'react';

export const palette = {
  text: '#e6e8f0',
  muted: '#9aa3c7',
  accent: '#5acce6',
  panel: '#0b1030',
  border: '#3a4373',
  warn: '#ffcc66',
  danger: '#ff8a8a',
  ok: '#7fe0a0',
};

export const s = {
  panel: { color: palette.text, fontSize: 13, padding: 8, display: 'flex', flexDirection: 'column', gap: 10, height: '100%', boxSizing: 'border-box' },
  notice: {
    border: `1px solid ${palette.warn}`,
    color: palette.warn,
    background: 'rgba(255, 204, 102, 0.08)',
    borderRadius: 4,
    padding: '6px 8px',
    fontWeight: 600,
    lineHeight: 1.3,
  },
  heading: { fontSize: 12, textTransform: 'uppercase', letterSpacing: 0.5, color: palette.muted, margin: '4px 0' },
  list: { listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', gap: 2 },
  row: { display: 'flex', alignItems: 'center', gap: 8, padding: '3px 4px', borderRadius: 3 },
  queueItem: { all: 'unset', cursor: 'pointer', display: 'flex', justifyContent: 'space-between', width: '100%', padding: '4px 6px', borderRadius: 3, boxSizing: 'border-box' },
  swatch: { width: 12, height: 12, borderRadius: 2, flex: '0 0 auto', border: '1px solid rgba(255,255,255,0.3)' },
  grow: { flex: '1 1 auto', minWidth: 0, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' },
  muted: { color: palette.muted },
  textarea: { width: '100%', boxSizing: 'border-box', minHeight: 56, background: palette.panel, color: palette.text, border: `1px solid ${palette.border}`, borderRadius: 3, padding: 6, font: 'inherit' },
  buttons: { display: 'flex', gap: 8 },
  button: { flex: 1, padding: '6px 8px', borderRadius: 3, border: 0, fontWeight: 600, cursor: 'pointer' },
  error: { color: palette.danger },
  link: { color: palette.accent },
} satisfies Record<string, CSSProperties>;
