/**
 * The ajv instance that checks gateway bodies against the schemas in schemas.ts, and the
 * translation of its first error into the text Go's decoder gives for the same input
 * (`json: cannot unmarshal string into Go value of type bool`, `unknown value "X" for enum ...`).
 * No type coercion: etcd refuses a number where bytes belong, so must we.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { goJsonKind } from './json-body.js';
import { GATEWAY_SCHEMAS } from './schemas.js';

export function createGatewayAjv(): Ajv {
  const ajv = new Ajv({ allErrors: false, verbose: true, coerceTypes: false, useDefaults: false, strict: false });
  ajv.addKeyword({ keyword: 'x-go-type' });
  ajv.addKeyword({ keyword: 'x-enum-names' });
  for (const s of GATEWAY_SCHEMAS) ajv.addSchema(s);
  return ajv;
}

export function compileGatewayValidator(ajv: Ajv, schema: object): ValidateFunction {
  const id = (schema as { $id?: string }).$id;
  if (id) {
    const known = ajv.getSchema(id);
    if (known) return known;
  }
  return ajv.compile(schema);
}

/** The message etcd's gateway would give for the first validation error. */
export function goValidationMessage(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'bad request';
  const goType = (e.parentSchema as Record<string, unknown> | undefined)?.['x-go-type'] as string | undefined;
  if (e.keyword === 'type') {
    const kind = goJsonKind(e.data);
    if (kind === 'number' && goType === 'int64') {
      return `json: cannot unmarshal number ${String(e.data)} into Go value of type int64`;
    }
    return `json: cannot unmarshal ${kind} into Go value of type ${goType ?? 'map[string]json.RawMessage'}`;
  }
  if (e.keyword === 'pattern') {
    if (goType === 'int64') {
      const s = String(e.data);
      const bad = [...s].find((c) => !/[0-9-]/.test(c)) ?? s[0] ?? '"';
      return `invalid character '${bad}' looking for beginning of value`;
    }
    return `unknown value ${JSON.stringify(e.data)} for enum ${goType ?? 'enum'}`;
  }
  return `${e.instancePath || 'body'} ${e.message ?? 'is invalid'}`;
}
