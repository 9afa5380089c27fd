/** The secrets the test harnesses configure, and where they were seen; leak-guard.ts fails a file on a sighting. */
const secrets = new Set<string>();
export const sightings: string[] = [];

/** Registers a secret; a PEM key also registers each line of its body, so a partial leak is caught too. */
export function guardSecret(secret: string | undefined): void {
  if (!secret) return;
  secrets.add(secret);
  for (const line of secret.split("\n")) if (line.length >= 40 && !line.startsWith("-----")) secrets.add(line);
}

/** Records a sighting for every registered secret that `text` contains. */
export function scanForSecrets(text: string, where: string): void {
  for (const secret of secrets) if (text.includes(secret)) sightings.push(`${where}: ${secret.slice(0, 6)}… in ${JSON.stringify(text.slice(0, 200))}`);
}
