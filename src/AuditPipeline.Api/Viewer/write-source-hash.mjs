// Writes dist/source.sha256: the SHA-256 over every source file of the page (sorted paths, each as
// "<path>\n<bytes>\n"). The .NET test ViewerBuildTests recomputes it, so a commit that changes a source
// without rebuilding dist/ fails the build's tests, with no Node needed there.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const sources = ["index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts", "src"];

function walk(path) {
  return statSync(path).isDirectory() ? readdirSync(path).flatMap((name) => walk(join(path, name).replaceAll("\\", "/"))) : [path];
}

const files = sources.flatMap(walk).sort();
const hash = createHash("sha256");
for (const file of files) {
  hash.update(file + "\n");
  hash.update(readFileSync(file).toString("utf8").replaceAll("\r\n", "\n"));
  hash.update("\n");
}
writeFileSync("dist/source.sha256", hash.digest("hex") + "\n");
