/**
 * How the differential test spells a request: etcd's gateway accepts snake_case and camelCase
 * field names, int64 as a JSON number or a string, enums by name or by number. Each field's
 * spelling is drawn from the seeded generator, unless `plain` (snake_case, strings, names),
 * which helps tell a spelling bug from a semantic one.
 *
 * Owns only spelling. Must never decide what a request means.
 */
import type { Rng } from './rng.js';

export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;
export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;

export type EnumTable = Readonly<Record<string, number>>;

/** A field value that is already spelled; `undefined` leaves the field out. */
export type Spelled = unknown;

/** proto field name → its JSON (lowerCamelCase) name, as protobuf's JSON mapping defines. */
export function camelCase(snake: string): string {
  return snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

export class Encoder {
  constructor(private readonly rng: Rng, private readonly plain: boolean) {}

  name(snake: string): string {
    return !this.plain && this.rng.chance(0.3) ? camelCase(snake) : snake;
  }

  /** An int64 field: a JSON string (what etcd emits) or, sometimes, a JSON number. */
  int(value: bigint | number): string | number {
    const v = BigInt(value);
    return !this.plain && this.rng.chance(0.4) ? Number(v) : v.toString();
  }

  /** An enum field by name, or, sometimes, by number. */
  enumOf(table: EnumTable, name: string): string | number {
    if (!(name in table)) throw new Error(`unknown enum name ${name}`);
    return !this.plain && this.rng.chance(0.4) ? table[name] : name;
  }

  /** Build an object from snake_case fields, spelling each name; undefined values are left out. */
  obj(fields: Record<string, Spelled>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [snake, value] of Object.entries(fields)) {
      if (value !== undefined) out[this.name(snake)] = value;
    }
    return out;
  }
}
