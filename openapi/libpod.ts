// The libpod API's error body (its system schemas are in libpod-system.ts).
import { Type } from '@sinclair/typebox';

/** `{"cause","message","response"}`: what every libpod error answers. */
export const LibpodError = Type.Object({ cause: Type.String(), message: Type.String(), response: Type.Integer() });
