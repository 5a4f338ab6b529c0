// Validate OpenAPI files with a real validator (@apidevtools/swagger-parser, pinned in
// tests/openapi/package-lock.json and installed into the build tree by check.sh): each document
// must follow the OpenAPI 3.0 schema and every $ref must resolve. Then compare each file's
// operations with the route table its server runs on (`veritee routes`, given as JSON): every
// route the server answers is in the file, and every operation in the file is a route.
// Usage: node check.mjs NODE_MODULES_PARENT ROUTES_JSON FILE...   (docs/api/<service>.yaml)
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const [base, routesFile, ...files] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(base), "node_modules", "x.js"));
const SwaggerParser = require("@apidevtools/swagger-parser");
const routes = JSON.parse(readFileSync(routesFile, "utf8"));
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

let passed = 0;
let failed = 0;
function check(ok, what, lines = []) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  for (const l of lines.slice(0, 40)) console.log(`     ${l}`);
  ok ? passed++ : failed++;
}

for (const f of files) {
  const service = path.basename(f, ".yaml");
  let api;
  try {
    api = await SwaggerParser.validate(f);
  } catch (e) {
    check(false, `${f}: ${e.message.split("\n")[0]}`,
      (e.details || []).map((d) => `${d.instancePath || d.path || ""} ${d.message}`));
    continue;
  }
  const ops = new Set();
  for (const [p, item] of Object.entries(api.paths)) {
    for (const m of METHODS) if (item[m]) ops.add(`${m.toUpperCase()} ${p}`);
  }
  check(true, `${f}: valid OpenAPI ${api.openapi}, ${ops.size} operations`);
  const served = new Set(routes.filter((r) => r.service === service).map((r) => `${r.method} ${r.path}`));
  const undocumented = [...served].filter((r) => !ops.has(r));
  const unserved = [...ops].filter((o) => !served.has(o));
  check(served.size > 0 && undocumented.length === 0,
    `${f}: every route of the ${service} (${served.size}) is documented`, undocumented);
  check(unserved.length === 0, `${f}: every documented operation is a route of the ${service}`,
    unserved);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
