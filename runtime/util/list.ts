/** Docker fields that take a list or a single string (Cmd, Entrypoint...): always a list, empty for null. */
export const asList = (v: string[] | string | null | undefined): string[] => (v == null ? [] : Array.isArray(v) ? v : [v]);
