// Validate OpenAPI files with a real validator (@apidevtools/swagger-parser, pinned in
// tests/openapi/package-lock.json and installed into the build tree by check.sh): the document
// must follow the OpenAPI 3.0 schema and every $ref must resolve.
// Usage: node check.mjs NODE_MODULES_PARENT FILE...
import { createRequire } from "node:module";
import path from "node:path";

const [base, ...files] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(base), "node_modules", "x.js"));
const SwaggerParser = require("@apidevtools/swagger-parser");

let passed = 0;
let failed = 0;
for (const f of files) {
  try {
    const api = await SwaggerParser.validate(f);
    const ops = Object.values(api.paths).reduce((n, p) => n + Object.keys(p).length, 0);
    console.log(`ok   ${f}: ${api.info.title}, ${Object.keys(api.paths).length} paths, ${ops} operations`);
    passed++;
  } catch (e) {
    console.log(`FAIL ${f}: ${e.message}`);
    if (e.details) {
      for (const d of e.details.slice(0, 40)) {
        console.log(`     ${d.instancePath || d.path || ""} ${d.message}`);
      }
    }
    failed++;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
