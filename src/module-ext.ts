// Houston runs as TypeScript through tsx (tests, the CLI, development) and as the JavaScript
// that `npm run build` emits into dist/ (`npm start`, the image). Folders loaded by name
// (commands/, reports/) hold files with the extension of whichever is running.
import path from "node:path";
import { fileURLToPath } from "node:url";

/** ".ts" when running from the sources, ".js" when running the build. */
export const MODULE_EXT = path.extname(fileURLToPath(import.meta.url));
