/** Command-line options of the bench scripts: `--name value`. */

/** The value after `--name`, else `dflt` (also when `--name` is the last word). */
export function arg(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

/** The value after `--name`, else `dflt`; with neither, an error that names `tool` and the option. */
export function requiredArg(tool: string, name: string, dflt?: string): string {
  const v = arg(name, dflt);
  if (v === undefined) throw new Error(`${tool}: --${name} is required`);
  return v;
}
