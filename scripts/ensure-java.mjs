// DynamoDB Local runs on Java; its loopback launcher is a Java source file, so a JDK (jdk.compiler) is needed.
// Installs Debian's headless JDK when it is missing and we can (root + apt-get); otherwise says how.
import { spawnSync } from "node:child_process";

function hasJdk() {
  const modules = spawnSync("java", ["--list-modules"], { encoding: "utf8" });
  return modules.status === 0 && modules.stdout.includes("jdk.compiler");
}

if (!hasJdk()) {
  const canInstall = process.getuid?.() === 0 && spawnSync("apt-get", ["--version"]).status === 0;
  if (!canInstall) {
    console.error("A Java 17+ JDK is required for DynamoDB Local. Install one, e.g.: sudo apt-get install -y openjdk-17-jdk-headless");
    process.exit(1);
  }
  console.log("Installing openjdk-17-jdk-headless for DynamoDB Local ...");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "openjdk-17-jdk-headless"]]) {
    if (spawnSync("apt-get", args, { stdio: "inherit", env }).status !== 0) process.exit(1);
  }
  if (!hasJdk()) {
    console.error("openjdk-17-jdk-headless was installed but `java --list-modules` still lacks jdk.compiler");
    process.exit(1);
  }
}
