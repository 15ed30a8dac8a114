/**
 * The two small pages the gateway itself serves under the viewer's path: the sign-in page (an
 * API token exchanged for a session cookie, until OIDC sign-in exists) and the page that says
 * the viewer is not installed. Self-contained HTML: no external resource, so the isolation
 * headers do not get in the way.
 */

import { createHash } from 'node:crypto';

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

const STYLE = `body{font-family:system-ui,sans-serif;background:#090c29;color:#e6e8f0;display:flex;min-height:100vh;margin:0;align-items:center;justify-content:center}
main{max-width:28rem;padding:2rem;background:#141a3d;border-radius:.5rem}
h1{font-size:1.25rem;margin-top:0}label{display:block;margin:.75rem 0 .25rem}
input{width:100%;box-sizing:border-box;padding:.5rem;border-radius:.25rem;border:1px solid #3a4373;background:#0b1030;color:inherit}
button{margin-top:1rem;padding:.5rem 1rem;border:0;border-radius:.25rem;background:#5acce6;color:#090c29;font-weight:600;cursor:pointer}
[role=alert]{color:#ff8a8a;min-height:1.25rem;margin-top:.75rem}code{background:#0b1030;padding:0 .25rem}`;

/** Where to go after signing in: a path under the viewer, never another site. */
export function safeNext(next: string | undefined, basePath: string): string {
  if (!next || !next.startsWith(basePath) || next.startsWith('//') || /[\\\r\n]/.test(next)) return basePath + '/';
  const rest = next.slice(basePath.length);
  return rest === '' || rest.startsWith('/') || rest.startsWith('?') ? next : basePath + '/';
}

/** A page and the Content-Security-Policy that lets exactly its own inline script and style run. */
export interface Page {
  html: string;
  contentSecurityPolicy: string;
}

/**
 * The sign-in page: posts the token to `/session` as a bearer header, then goes to `next`. The
 * page that handles a token runs nothing but its own script: a policy naming its script's and
 * style's hashes, no other source, and no form that could post elsewhere.
 */
export function signInPage(options: { apiRoot: string; next: string }): Page {
  const config = JSON.stringify({ sessionUrl: `${options.apiRoot}/session`, next: options.next }).replace(/</g, '\\u003c');
  const script = `(function (config) {
  var form = document.getElementById('sign-in');
  var error = document.getElementById('error');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    error.textContent = '';
    var input = document.getElementById('token');
    var token = input.value.trim();
    fetch(config.sessionUrl, { method: 'POST', credentials: 'same-origin', headers: { authorization: 'Bearer ' + token } })
      .then(function (res) {
        input.value = '';
        if (res.status === 201) { window.location.replace(config.next); return; }
        return res.json().then(function (body) {
          error.textContent = (body && body.error && body.error.message) || ('sign-in failed (' + res.status + ')');
        }, function () { error.textContent = 'sign-in failed (' + res.status + ')'; });
      }, function () { error.textContent = 'the gateway cannot be reached'; });
  });
})(${config});
`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,">
<title>Sign in · Limen viewer</title><style>${STYLE}</style></head>
<body><main>
<h1>Sign in to review</h1>
<p>Paste your reviewer API token (<code>limen token create --role reviewer</code>). It is exchanged once for a session; the page does not keep it.</p>
<form id="sign-in"><label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Sign in</button>
<div id="error" role="alert"></div></form>
</main>
<script>${script}</script>
</body></html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src '${sha256(script)}'`,
    `style-src '${sha256(STYLE)}'`,
    "img-src data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}

/** 503 page when `viewer-dist/` is missing. */
export function viewerMissingPage(viewerDir: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Viewer not installed · Limen</title><style>${STYLE}</style></head>
<body><main><h1>The viewer is not installed</h1>
<p>This gateway has no OHIF viewer in <code>${escapeHtml(viewerDir)}</code>.</p>
<p>Run <code>npm run fetch-viewer</code> where Limen is installed (it needs the npm registry once), then reload.</p>
</main></body></html>
`;
}
