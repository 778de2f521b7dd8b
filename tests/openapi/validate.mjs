// Validates http/openapi.json with @seriousme/openapi-schema-validator (the OpenAPI 3.1 JSON
// schema, and every $ref resolved), and checks that the validator refuses broken copies of it, so
// that a pass means something. Usage: node validate.mjs [path/to/openapi.json]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const skip = (why) => {
  // ctest's SKIP_REGULAR_EXPRESSION; under CI a missing tool is a failure.
  console.log(`${process.env.CI === "true" ? "FAILED" : "SKIPPED"}: ${why}`);
  process.exit(process.env.CI === "true" ? 1 : 0);
};
let Validator;
try {
  ({ Validator } = await import("@seriousme/openapi-schema-validator"));
} catch {
  skip("@seriousme/openapi-schema-validator not installed (npm ci --prefix tests/openapi)");
}

const file = process.argv[2] ?? fileURLToPath(new URL("../../http/openapi.json", import.meta.url));
const doc = JSON.parse(readFileSync(file, "utf8"));

// Valid: the document matches the OpenAPI schema of its version and its $refs resolve.
async function check(spec) {
  const v = new Validator();
  const res = await v.validate(structuredClone(spec));
  if (!res.valid) return { valid: false, errors: res.errors };
  try {
    v.resolveRefs();
  } catch (e) {
    return { valid: false, errors: String(e.message ?? e) };
  }
  return { valid: true, version: v.version };
}

let failed = false;
const got = await check(doc);
if (!got.valid || got.version !== "3.1") {
  console.log(`FAILED: ${file} is not a valid OpenAPI 3.1 document:`);
  console.log(JSON.stringify(got.errors ?? got.version, null, 2));
  failed = true;
} else {
  console.log(`ok: ${file} is a valid OpenAPI ${doc.openapi} document (${Object.keys(doc.paths).length} paths)`);
}

// Each broken copy must be refused.
const broken = {
  "without info": (d) => delete d.info,
  "with a $ref to a missing schema": (d) =>
    (d.paths["/api/v1/jobs/{id}"].get.responses["200"].content["application/json"].schema.$ref =
      "#/components/schemas/NoSuchSchema"),
  "with paths of the wrong type": (d) => (d.paths = ["/api/v1/jobs"]),
  "with a response without a description": (d) => delete d.paths["/api/v1/stats"].get.responses["200"].description,
  "with a path parameter that is not required": (d) =>
    (d.paths["/api/v1/jobs/{id}"].get.parameters[0].required = false),
};
for (const [what, breakIt] of Object.entries(broken)) {
  const copy = structuredClone(doc);
  breakIt(copy);
  const res = await check(copy);
  if (res.valid) {
    console.log(`FAILED: the validator accepted the document ${what}`);
    failed = true;
  } else {
    console.log(`ok: refused the document ${what}`);
  }
}
process.exit(failed ? 1 : 0);
