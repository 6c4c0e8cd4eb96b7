// Shared schema pieces. Query values stay strings where moby is lenient (booleans such as `True`, `1`,
// `no`), and the server parses them; unknown parameters are allowed and ignored, as dockerd does.
import { Type, type TSchema } from '@sinclair/typebox';

/** A boolean as Docker clients send it in a query: 1/0, true/false, True/False, yes/no... */
export const QueryBool = Type.String({ description: 'false iff one of "", 0, no, false, none (any case)' });
export const Filters = Type.String({ description: 'JSON: {"key":{"value":true}} or {"key":["value"]}' });
export const ErrorResponse = Type.Object({ message: Type.String() }, { $id: 'ErrorResponse' });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
export const StringMap = Type.Record(Type.String(), Type.String());
