/**
 * Runs a local command-line entry point the same way for every command: a bad flag prints its message
 * and the usage and exits 2; an unexpected error exits 1; a returned number is the exit code (a command
 * that returns nothing, like the long-running `npm start`, keeps the process alive).
 */
export function runCommand<O>(name: string, usage: string, parse: () => O, run: (options: O) => Promise<number | void>): void {
  let options: O;
  try {
    options = parse();
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  run(options).then(
    (code) => {
      if (typeof code === "number") process.exit(code);
    },
    (error: unknown) => {
      console.error(`${name} failed:`, error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
