import * as fs from "fs";
import * as path from "path";

/** The TypeScript SDK's docs (its JSDoc), by type (`VmDisk`, `Connection`, ...) and field, plus `""` for the type's own. */
export type SdkDocs = Record<string, Record<string, string>>;

const FILE = path.join(__dirname, "sdkDocs.json");

/** The docs the build extracted from sdk/ (none when run from sources that were not built). */
export function sdkDocs(): SdkDocs {
  try {
    return JSON.parse(fs.readFileSync(FILE, "utf8")) as SdkDocs;
  } catch {
    return {};
  }
}

/**
 * The build step (`npm run build`, `prepare`): reads sdk/*.ts with the TypeScript compiler, so the plugin's schema
 * describes each field with the same words as the SDK, from one place. `XArgs` interfaces give inputs (keyed `X`),
 * classes their declared outputs and their own description.
 */
export function writeSdkDocs(sdkDir: string, out = FILE): void {
  const ts = require("typescript") as typeof import("typescript");
  const docs: SdkDocs = {};
  const text = (node: import("typescript").Node, file: import("typescript").SourceFile) => {
    const jsDoc = (node as { jsDoc?: { comment?: unknown }[] }).jsDoc;
    const comment = jsDoc?.map((d) => (typeof d.comment === "string" ? d.comment : ts.getTextOfJSDocComment(d.comment as never) ?? "")).join("\n").trim();
    return comment ? comment.replace(/\s*\n\s*/g, " ") : undefined;
  };
  for (const name of fs.readdirSync(sdkDir).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))) {
    const file = ts.createSourceFile(name, fs.readFileSync(path.join(sdkDir, name), "utf8"), ts.ScriptTarget.ES2022, true);
    file.forEachChild((node) => {
      if (!(ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) || !node.name) return;
      const key = node.name.text.replace(/Args$/, "");
      const own = (docs[key] ??= {});
      const about = text(node, file);
      if (about && (ts.isClassDeclaration(node) || !own[""])) own[""] = about;
      for (const member of node.members as import("typescript").NodeArray<import("typescript").Node>) {
        const field = (member as { name?: import("typescript").Node }).name;
        const doc = text(member, file);
        // An input's doc (the interface) is kept over the class's note on the same output.
        if (field && ts.isIdentifier(field) && doc && !(ts.isClassDeclaration(node) && own[field.text])) own[field.text] = doc;
      }
    });
  }
  fs.writeFileSync(out, JSON.stringify(docs, null, 1) + "\n");
}

if (require.main === module) writeSdkDocs(path.resolve(__dirname, "..", "..", "..", "sdk"));
