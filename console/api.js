// The console's only door to the server: same-origin fetches with the admin token as a bearer
// header. The token lives in this module's memory only (never in Web Storage or a cookie), so a
// reload forgets it and another site cannot make the browser send it (no CSRF).
let token = null;

export function setToken(t) {
  token = t;
}

export function hasToken() {
  return token !== null;
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(`HTTP ${status}: ${detail}`);
    this.status = status;
  }
}

// GET (or another method with a JSON body) of a same-origin path; the parsed JSON, or the text
// when raw is set. Throws ApiError with the problem's detail on a non-2xx answer.
// rawBody: a text body sent as it is (a policy as the operator typed it).
export async function api(path, { method = 'GET', body, rawBody, raw = false, auth = true } = {}) {
  const headers = {};
  if (auth && token !== null) {
    headers.Authorization = `Bearer ${token}`;
  }
  if (body !== undefined || rawBody !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  const r = await fetch(path, {
    method,
    headers,
    body: rawBody !== undefined ? rawBody : body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
    redirect: 'error',
  });
  const text = await r.text();
  if (!r.ok) {
    let detail = text.slice(0, 300);
    try {
      const p = JSON.parse(text);
      detail = p.detail || p.title || p.message || detail;
    } catch {
      /* not JSON: the text */
    }
    throw new ApiError(r.status, detail);
  }
  return raw ? text : JSON.parse(text);
}
