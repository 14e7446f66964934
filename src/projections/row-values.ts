/** A timestamptz as the driver hands it back (a Date, or a string with other type parsers), in ISO 8601. */
export const isoOf = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();
